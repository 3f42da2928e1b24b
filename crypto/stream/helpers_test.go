package stream

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/chacha20poly1305"
)

// testKey and testNonceBase are the fixed inputs of the known-answer vectors (docs/on-disk-format.md ("Encrypted stream format")).
var (
	testKey       = seq(0x00, KeySize)
	testNonceBase = [NonceBaseSize]byte{0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7}
)

// seq returns n bytes start, start+1, …
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// testPlaintext is the known-answer plaintext of n bytes: byte i is i mod 251.
func testPlaintext(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func testParams(s Suite) Params {
	return Params{Suite: s, Key: bytes.Clone(testKey), NonceBase: testNonceBase}
}

var suites = []Suite{SuiteAES256GCM, SuiteChaCha20Poly1305}

// detRand is a deterministic generator for test inputs (AES-CTR keystream), so the
// package's tests need no math/rand (see TestLint).
type detRand struct{ s cipher.Stream }

func newDetRand(seed uint64) *detRand {
	b, _ := aes.NewCipher(make([]byte, 16))
	iv := make([]byte, 16)
	binary.BigEndian.PutUint64(iv, seed)
	return &detRand{cipher.NewCTR(b, iv)}
}

func (r *detRand) Read(p []byte) (int, error) {
	clear(p)
	r.s.XORKeyStream(p, p)
	return len(p), nil
}

func (r *detRand) Uint64() uint64 {
	var b [8]byte
	r.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// Int63n returns a value in [0, n) (n > 0); the slight modulo bias does not matter here.
func (r *detRand) Int63n(n int64) int64 { return int64(r.Uint64()>>1) % n }

func (r *detRand) bytes(n int) []byte {
	b := make([]byte, n)
	r.Read(b)
	return b
}

// seal encrypts plaintext with p through a Writer in one Write.
func seal(t testing.TB, p Params, plaintext []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plaintext); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// readMode is one way of feeding and draining a Reader: every test that checks what a
// Reader releases runs it in each mode, since Read, WriteRuns and a PackageSource place
// packages differently.
type readMode struct {
	name string
	src  bool // feed the Reader through a nextSource
	read func(r io.Reader) ([]byte, error)
}

// reader returns a Reader over stored in mode m.
func (m readMode) reader(stored []byte, p Params, off, length, size int64) (io.Reader, error) {
	var in io.Reader = bytes.NewReader(stored)
	if m.src {
		in = &nextSource{r: in}
	}
	return NewReader(in, p, off, length, size)
}

// nextSource is a PackageSource that, like the erasure reader, hands out slices valid
// only until its next call: every call scribbles over the slice returned before.
type nextSource struct {
	r    io.Reader
	last []byte
}

func (s *nextSource) scribble() {
	for i := range s.last {
		s.last[i] = 0xa5
	}
	s.last = nil
}

func (s *nextSource) Read(p []byte) (int, error) {
	s.scribble()
	return s.r.Read(p)
}

func (s *nextSource) Next(n int) ([]byte, error) {
	s.scribble()
	b := make([]byte, n)
	got, err := io.ReadFull(s.r, b)
	s.last = b[:got]
	return s.last, err
}

// writeRuns drains r with WriteRuns and a run buffer of n packages, after first taking
// prefix bytes with Read (so WriteRuns also starts with leftover plaintext).
func writeRuns(n, prefix int) func(io.Reader) ([]byte, error) {
	return func(r io.Reader) ([]byte, error) {
		var out bytes.Buffer
		if _, err := io.CopyN(&out, onlyReader{r}, int64(prefix)); err != nil {
			if err == io.EOF {
				err = nil
			}
			return out.Bytes(), err
		}
		_, err := r.(*Reader).WriteRuns(&out, make([]byte, n*PackageSize+TagSize))
		return out.Bytes(), err
	}
}

var readModes = func() []readMode {
	drains := []readMode{
		{name: "Read", read: io.ReadAll},
		{name: "one byte reads", read: func(r io.Reader) ([]byte, error) { return io.ReadAll(iotest.OneByteReader(r)) }},
		{name: "WriteTo", read: func(r io.Reader) ([]byte, error) {
			var out bytes.Buffer
			_, err := r.(io.WriterTo).WriteTo(&out)
			return out.Bytes(), err
		}},
		{name: "WriteRuns of 1 package", read: writeRuns(1, 0)},
		{name: "WriteRuns of 3 packages after a 10-byte Read", read: writeRuns(3, 10)},
	}
	modes := drains
	for _, d := range drains {
		d.name += " from a PackageSource"
		d.src = true
		modes = append(modes, d)
	}
	return modes
}()

// open reads [off, off+length) of a stream of size bytes from the whole stored stream,
// with Read.
func open(p Params, stored []byte, off, length, size int64) ([]byte, error) {
	return openWith(readModes[0], p, stored, off, length, size)
}

// openWith is open in mode m.
func openWith(m readMode, p Params, stored []byte, off, length, size int64) ([]byte, error) {
	so, sl := StoredRange(off, length, size)
	if so+sl > int64(len(stored)) {
		sl = max(0, int64(len(stored))-so)
	}
	r, err := m.reader(stored[so:so+sl], p, off, length, size)
	if err != nil {
		return nil, err
	}
	return m.read(r)
}

// referenceSeal is an independent, direct transcription of docs/on-disk-format.md ("Encrypted stream format"), used to check the
// Writer: no buffering logic, one AEAD call per package.
func referenceSeal(t testing.TB, p Params, plaintext []byte) []byte {
	t.Helper()
	var aead cipher.AEAD
	var err error
	switch p.Suite {
	case SuiteAES256GCM:
		var b cipher.Block
		if b, err = aes.NewCipher(p.Key); err == nil {
			aead, err = cipher.NewGCM(b)
		}
	case SuiteChaCha20Poly1305:
		aead, err = chacha20poly1305.New(p.Key)
	}
	if err != nil {
		t.Fatal(err)
	}
	n := max(1, (len(plaintext)+PackageSize-1)/PackageSize)
	var out []byte
	for i := 0; i < n; i++ {
		chunk := plaintext[i*PackageSize : min(len(plaintext), (i+1)*PackageSize)]
		final := i == n-1
		nonce := make([]byte, 12)
		copy(nonce, p.NonceBase[:])
		ctr := uint32(i)
		aad := binary.BigEndian.AppendUint64(nil, uint64(i))
		if final {
			ctr |= 0x80000000
			aad = append(aad, 1)
		} else {
			aad = append(aad, 0)
		}
		binary.BigEndian.PutUint32(nonce[8:], ctr)
		out = aead.Seal(out, nonce, chunk, aad)
	}
	return out
}
