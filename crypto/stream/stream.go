// Package stream implements coffer's chunked, seekable AEAD format for object data at rest.
//
// A stream is the plaintext cut into packages of PackageSize bytes; the last package (the
// final package) holds the remaining 0..PackageSize bytes, so an empty stream is one empty
// final package. Every package is sealed independently with an AEAD (AES-256-GCM, or
// ChaCha20-Poly1305 on CPUs without AES instructions) under a 12-byte nonce made of the
// stream's random 8-byte NonceBase and the package index, with the top bit of the index set
// on the final package; the additional data repeats the index and the final flag. The
// stored form of a package is its ciphertext followed by the 16-byte tag, and the stored
// stream is the concatenation of the stored packages, with no header: the suite and
// NonceBase live in the object's version record. docs/on-disk-format.md ("Encrypted stream format") specifies the format with a
// worked example.
//
// Guarantees, given a secret stream key used with a unique NonceBase:
//   - A Reader MUST NOT release a byte of a package before that package's tag has been
//     verified by the AEAD.
//   - Modified, reordered, dropped, duplicated, appended or truncated packages, packages
//     transplanted from another stream (different key or NonceBase), and a wrong key MUST
//     make the read fail with an error that wraps ErrAuth.
//   - The plaintext size recorded beside the stream is authenticated too: a wrong size
//     moves the final package or changes its length, and the read fails with ErrAuth.
//
// Because a read streams package by package, a damaged stream can fail after earlier,
// verified packages have been delivered; callers that already sent part of a response
// MUST abort it rather than end it cleanly.
//
// The package holds no mutable package-level state. Tag comparison happens only inside
// the AEAD (constant time); a lint test enforces that and the absence of math/rand.
package stream

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// PackageSize is the plaintext size of one package (64 KiB). Every package but the final
// one holds exactly PackageSize bytes.
const PackageSize = 64 << 10

// TagSize is the stored overhead per package: the AEAD tag (16 bytes).
const TagSize = 16

// KeySize is the size of a stream key (32 bytes) for every suite.
const KeySize = 32

// NonceBaseSize is the size of Params.NonceBase (8 bytes).
const NonceBaseSize = 8

// MaxPackages is the largest number of packages in one stream (2^31): the package index
// must fit in the 31 low bits of the nonce counter, whose top bit is the final flag.
const MaxPackages = 1 << 31

// MaxSize is the largest plaintext size of one stream: MaxPackages*PackageSize = 2^47
// bytes (128 TiB). Writers refuse to go beyond it with ErrTooLarge.
const MaxSize = MaxPackages * PackageSize

// ErrAuth reports that stored data failed verification: a tag did not verify, a package was
// missing or cut short, or data followed the final package. Errors returned for these
// reasons wrap ErrAuth (test with errors.Is); they never contain key material.
var ErrAuth = errors.New("stream: authentication failed")

// ErrRange reports an invalid range or size passed to NewReader: off or length negative,
// off+length beyond size, or size beyond MaxSize.
var ErrRange = errors.New("stream: invalid range")

// ErrTooLarge reports a stream that would exceed MaxPackages packages (MaxSize bytes).
var ErrTooLarge = errors.New("stream: stream too large")

// ErrClosed reports a Write on a stream writer after Close.
var ErrClosed = errors.New("stream: write after close")

// ErrParams reports unusable Params: an unknown or unavailable suite, or a key that is not
// KeySize bytes long.
var ErrParams = errors.New("stream: invalid params")

// Suite identifies the AEAD that seals a stream. Its numeric value is stored in version
// records and MUST NOT be renumbered.
type Suite byte

const (
	// SuiteAES256GCM is AES-256 in Galois/Counter Mode (12-byte nonce, 16-byte tag).
	SuiteAES256GCM Suite = 1
	// SuiteChaCha20Poly1305 is ChaCha20-Poly1305 as in RFC 8439 (12-byte nonce, 16-byte
	// tag), chosen on CPUs without AES instructions.
	SuiteChaCha20Poly1305 Suite = 2
)

// String returns the suite's name, such as "AES-256-GCM".
func (s Suite) String() string {
	switch s {
	case SuiteAES256GCM:
		return "AES-256-GCM"
	case SuiteChaCha20Poly1305:
		return "ChaCha20-Poly1305"
	}
	return fmt.Sprintf("Suite(%d)", byte(s))
}

// Params fully determine a stream's encryption. The object layer stores Suite and NonceBase
// in the version record; Key is derived from the version's data key (see DeriveKey) and
// MUST NOT be stored in plaintext anywhere.
//
// Params does not copy Key: the slice belongs to the caller. NewWriter and NewReader keep
// no reference to it (only the expanded cipher state inside the standard library), so the
// caller may Wipe the Params as soon as they return. Formatting Params with package fmt
// never prints the key.
type Params struct {
	// Suite is the AEAD; it must be SuiteAES256GCM or SuiteChaCha20Poly1305.
	Suite Suite
	// Key is the 32-byte stream key.
	Key []byte
	// NonceBase is random per stream: per object version and per multipart part. Reusing
	// a NonceBase with the same Key breaks confidentiality and integrity.
	NonceBase [NonceBaseSize]byte
}

// Validate reports whether p can be used, with an error wrapping ErrParams if not.
func (p Params) Validate() error {
	if len(p.Key) != KeySize {
		return fmt.Errorf("%w: key is %d bytes, want %d", ErrParams, len(p.Key), KeySize)
	}
	if !p.Suite.Available() {
		return fmt.Errorf("%w: suite %v unavailable", ErrParams, p.Suite)
	}
	return nil
}

// Wipe overwrites p.Key with zeros (the caller's slice, since Params does not copy it) and
// drops the reference. Go gives no stronger guarantee: the runtime may have copied the
// bytes (stack growth, the GC), and the expanded key schedules inside crypto/aes and
// chacha20poly1305 cannot be cleared; they become garbage when the Writer or Reader does.
func (p *Params) Wipe() {
	clear(p.Key)
	p.Key = nil
}

// Format implements fmt.Formatter so that no verb (%v, %+v, %#v, %x, %d, …) prints the
// key: Params print as {Suite NonceBase key:redacted}.
func (p Params) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "stream.Params{Suite:%v NonceBase:%s Key:[redacted %d bytes]}",
		p.Suite, hex.EncodeToString(p.NonceBase[:]), len(p.Key))
}

// DeriveKey derives a KeySize stream key from a data key (DEK) and a context label with
// HKDF-SHA256 (RFC 5869): salt empty, info = label, output 32 bytes. Labels used by coffer
// are "coffer object" for an object version's data and "coffer part N" (N decimal, no
// padding) for multipart part N, so every part has its own key; a compressed stream uses
// "<label> s2" for its encryption key and "<label> s2 index" for its index MAC.
//
// dek MUST be a uniformly random secret of at least 16 (normally 32) bytes; DeriveKey
// panics on a shorter one, which is a programming error. The result is a fresh slice the
// caller owns and should clear when done; HKDF's intermediate state inside the standard
// library cannot be cleared.
func DeriveKey(dek []byte, label string) []byte {
	if len(dek) < 16 {
		panic("stream: DeriveKey: data key shorter than 16 bytes")
	}
	k, err := hkdf.Key(sha256.New, dek, nil, label, KeySize)
	if err != nil {
		panic("stream: DeriveKey: " + err.Error()) // only for impossible output lengths
	}
	return k
}

// NewParams returns Params for a new stream under key (KeySize bytes, not copied), with the
// suite from DefaultSuite and a NonceBase from crypto/rand.
func NewParams(key []byte) (Params, error) {
	return NewParamsSuite(key, DefaultSuite())
}

// NewParamsSuite is NewParams with an explicit suite.
func NewParamsSuite(key []byte, s Suite) (Params, error) {
	p := Params{Suite: s, Key: key}
	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	rand.Read(p.NonceBase[:]) // never fails since Go 1.24 (crashes the program instead)
	return p, nil
}

// packages returns the number of packages of a stream of size plaintext bytes (size must be
// valid): max(1, ceil(size/PackageSize)).
func packages(size int64) int64 {
	if size == 0 {
		return 1
	}
	return (size + PackageSize - 1) / PackageSize
}

// StoredSize returns the stored size of a stream of size plaintext bytes:
// size + max(1, ceil(size/PackageSize))*TagSize. It returns -1 for a negative size or one
// beyond MaxSize.
func StoredSize(size int64) int64 {
	if size < 0 || size > MaxSize {
		return -1
	}
	return size + packages(size)*TagSize
}

// StoredRange returns the stored byte range [storedOff, storedOff+storedLen) of the whole
// packages that cover the plaintext range [off, off+length) of a stream of size bytes; feed
// exactly those bytes to NewReader with the same off, length and size.
//
// A zero-length range still covers one package (the one holding off, or the final package
// when off == size), so that reading it verifies something: in particular, reading an empty
// object authenticates its emptiness. StoredRange returns 0, 0 for an invalid range (see
// ErrRange); a valid range never has storedLen 0.
func StoredRange(off, length, size int64) (storedOff, storedLen int64) {
	first, last, ok := packageRange(off, length, size)
	if !ok {
		return 0, 0
	}
	storedOff = first * (PackageSize + TagSize)
	end := (last + 1) * (PackageSize + TagSize)
	if last == packages(size)-1 {
		end = StoredSize(size)
	}
	return storedOff, end - storedOff
}

// packageRange returns the indexes of the first and last package covering [off, off+length)
// and whether the range is valid.
func packageRange(off, length, size int64) (first, last int64, ok bool) {
	if size < 0 || size > MaxSize || off < 0 || length < 0 || off > size || length > size-off {
		return 0, 0, false
	}
	n := packages(size)
	first = min(off/PackageSize, n-1)
	last = first
	if length > 0 {
		last = (off + length - 1) / PackageSize
	}
	return first, last, true
}

// nonceAAD fills the nonce (12 bytes) and additional data (9 bytes) of package i.
func nonceAAD(nonce *[12]byte, aad *[9]byte, base *[NonceBaseSize]byte, i uint64, final bool) {
	copy(nonce[:NonceBaseSize], base[:])
	ctr := uint32(i)
	var flag byte
	if final {
		ctr |= 1 << 31
		flag = 1
	}
	binary.BigEndian.PutUint32(nonce[NonceBaseSize:], ctr)
	binary.BigEndian.PutUint64(aad[:8], i)
	aad[8] = flag
}
