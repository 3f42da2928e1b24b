// Package kms implements coffer's key hierarchy and key-management providers.
//
// The hierarchy has three levels:
//
//   - the master key (32 bytes), loaded by LoadMasterKey from the
//     environment, a file or, for development only, the data directory;
//   - key-encryption keys (KEKs), one per tenant and key name, versioned;
//     each version is a random 32-byte key that a Provider keeps to itself;
//   - data keys (DEKs), a random 32-byte key per object version (NewDEK),
//     stored only as a Sealed value produced by Provider.Seal with AAD from
//     DEKAAD binding tenant, bucket, object key and version id.
//
// Guarantees (the rest of coffer relies on them):
//
//   - A Provider MUST NOT return, log or put into an error the plaintext of
//     a KEK or of the master key. Only Unseal returns plaintext: the small
//     secret (a DEK) that the caller sealed.
//   - Unseal MUST fail, never return other bytes, when the ciphertext, the
//     caller's AAD or the (tenant, name, version) binding differs from what
//     Seal used.
//   - After DestroyVersion returns, values sealed under that version MUST NOT
//     unseal through this provider; after DestroyKey returns, no value sealed
//     under any version of the key may; after DestroyTenant returns, no
//     value sealed under any key of the tenant may. Old versions stay
//     usable after Rotate until they are destroyed.
//   - Local stores KEKs only sealed by the master key; no plaintext key
//     reaches the Store. The package never uses math/rand.
//
// Provider is the interface the object layer uses. Local is the provider
// built into coffer; HashiCorp Vault Transit and KMIP providers fit the same
// interface and must pass the conformance suite in package kmstest.
package kms

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Providers return them wrapped; test with errors.Is.
var (
	// ErrKeyExists is returned by CreateKey when the key already exists.
	ErrKeyExists = errors.New("kms: key already exists")
	// ErrNoSuchKey is returned when the named key does not exist (or was
	// destroyed).
	ErrNoSuchKey = errors.New("kms: no such key")
	// ErrNoSuchVersion is returned when the key exists but the requested
	// version does not (never created, or destroyed).
	ErrNoSuchVersion = errors.New("kms: no such key version")
	// ErrCurrentVersion is returned by DestroyVersion for the current
	// version of a key: rotate first, or destroy the whole key.
	ErrCurrentVersion = errors.New("kms: cannot destroy the current key version")
	// ErrUnseal is returned by Unseal when authentication fails: wrong AAD,
	// tampered or truncated ciphertext, or a Sealed whose binding (tenant,
	// name, version) was altered. It is an integrity failure, never a
	// transient one.
	ErrUnseal = errors.New("kms: unseal failed: message authentication failed")
	// ErrInvalidName is returned for a tenant or key name outside
	// [A-Za-z0-9._-]{1,128}.
	ErrInvalidName = errors.New("kms: invalid tenant or key name")
	// ErrInvalidInput is returned for other invalid arguments, such as a
	// plaintext larger than MaxSealSize or a non-positive version.
	ErrInvalidInput = errors.New("kms: invalid input")
	// ErrClosed is returned by every method of a closed provider.
	ErrClosed = errors.New("kms: provider closed")
	// ErrMasterKeyMismatch is returned by NewLocal when the store holds KEKs
	// sealed by a different master key.
	ErrMasterKeyMismatch = errors.New("kms: master key does not match the one the key store was created with")
)

// MaxNameLen is the maximum length of tenant and key names.
const MaxNameLen = 128

// MaxSealSize is the largest plaintext Seal accepts. Providers seal small
// secrets (data keys), not data.
const MaxSealSize = 4096

// Provider is a key-management provider: it owns named, versioned KEKs per
// tenant and seals and unseals small secrets with them. It never returns KEK
// material. All methods are safe for concurrent use.
//
// Names (tenant and key) MUST match [A-Za-z0-9._-]{1,128}, else the method
// returns ErrInvalidName; they are case-sensitive and round-trip exactly.
// Versions are numbered from 1 and never reused while the key exists.
type Provider interface {
	// CreateKey creates key name of tenant with version 1 current. It
	// returns ErrKeyExists if the key exists.
	CreateKey(ctx context.Context, tenant, name string) (KeyInfo, error)
	// Key returns the key's information, or ErrNoSuchKey.
	Key(ctx context.Context, tenant, name string) (KeyInfo, error)
	// ListKeys returns the keys of tenant ("" means all tenants), sorted by
	// tenant then name.
	ListKeys(ctx context.Context, tenant string) ([]KeyInfo, error)
	// Rotate adds a new version and makes it current. Older versions stay
	// usable for Unseal. ErrNoSuchKey if the key does not exist.
	Rotate(ctx context.Context, tenant, name string) (KeyInfo, error)
	// Seal encrypts plaintext (at most MaxSealSize bytes) under the current
	// version of the key, authenticating aad and the (tenant, name,
	// version) binding. aad may be nil. The same aad must be given to
	// Unseal.
	Seal(ctx context.Context, tenant, name string, plaintext, aad []byte) (Sealed, error)
	// Unseal decrypts s with the version it names, which may be any live
	// version. It returns ErrUnseal (wrapped) on wrong aad or tampering,
	// ErrNoSuchKey or ErrNoSuchVersion (wrapped) if the key or version is
	// gone. The caller owns the result and should Zero it after use.
	Unseal(ctx context.Context, s Sealed, aad []byte) ([]byte, error)
	// DestroyKey destroys every version of the key (crypto-shredding):
	// afterwards nothing sealed under it can be unsealed, and the name may
	// be created again as a new, unrelated key. ErrNoSuchKey if absent.
	DestroyKey(ctx context.Context, tenant, name string) error
	// DestroyVersion destroys one non-current version. It returns
	// ErrCurrentVersion for the current version and ErrNoSuchVersion for a
	// version that does not exist.
	DestroyVersion(ctx context.Context, tenant, name string, version int) error
	// DestroyTenant destroys every key of tenant, every version of each
	// (tenant offboarding): it returns the keys as they were just before
	// destruction, sorted by name; a tenant without keys yields an empty
	// list and no error. Afterwards nothing sealed under any of them MUST
	// unseal, and keys of other tenants MUST be untouched. It is
	// idempotent, so an interrupted offboarding can simply call it again.
	DestroyTenant(ctx context.Context, tenant string) ([]KeyInfo, error)
	// Close releases the provider and forgets (zeroes, where Go allows)
	// every cached key. Later calls return ErrClosed.
	Close() error
}

// KeyInfo describes a key. It holds no secret.
type KeyInfo struct {
	Tenant   string    `json:"tenant"`
	Name     string    `json:"name"`
	Current  int       `json:"current"`  // the version Seal uses
	Versions []int     `json:"versions"` // live versions, ascending; includes Current
	Created  time.Time `json:"created"`  // when CreateKey ran
}

// String returns a one-line description, e.g. "t1/key-1 v3 (versions 1,3)".
func (k KeyInfo) String() string {
	vs := make([]string, len(k.Versions))
	for i, v := range k.Versions {
		vs[i] = strconv.Itoa(v)
	}
	return fmt.Sprintf("%s/%s v%d (versions %s)", k.Tenant, k.Name, k.Current, strings.Join(vs, ","))
}

// Sealed is a secret sealed by a provider key version. It is safe to store
// and serialise (JSON, or MarshalBinary); it reveals nothing of the secret.
//
// For Local, Ciphertext is nonce(12) || AES-256-GCM(plaintext) with the
// additional data described at Local.Seal. Other providers define their own
// Ciphertext format; a Sealed is only meaningful to the provider that made it.
type Sealed struct {
	Tenant     string `json:"tenant"`
	Name       string `json:"name"`
	Version    int    `json:"version"`
	Ciphertext []byte `json:"ciphertext"`
}

// String describes s without its full ciphertext, e.g.
// "sealed(t1/key-1 v2, 60 bytes, 3f9a2c1d…)".
func (s Sealed) String() string {
	n := min(len(s.Ciphertext), 4)
	return fmt.Sprintf("sealed(%s/%s v%d, %d bytes, %x…)", s.Tenant, s.Name, s.Version, len(s.Ciphertext), s.Ciphertext[:n])
}

// sealedFormat is the first byte of Sealed.MarshalBinary's encoding.
const sealedFormat = 1

// MarshalBinary encodes s compactly: format(1) || len(tenant)(1) || tenant ||
// len(name)(1) || name || version(4, big endian) || ciphertext. It fails for
// invalid names or a version outside [1, 2^32).
func (s Sealed) MarshalBinary() ([]byte, error) {
	if !ValidName(s.Tenant) || !ValidName(s.Name) {
		return nil, fmt.Errorf("kms: marshal sealed: %w", ErrInvalidName)
	}
	if s.Version < 1 || s.Version > maxVersion {
		return nil, fmt.Errorf("kms: marshal sealed: version %d: %w", s.Version, ErrInvalidInput)
	}
	b := make([]byte, 0, 8+len(s.Tenant)+len(s.Name)+len(s.Ciphertext))
	b = append(b, sealedFormat, byte(len(s.Tenant)))
	b = append(b, s.Tenant...)
	b = append(b, byte(len(s.Name)))
	b = append(b, s.Name...)
	b = appendUint32(b, uint32(s.Version))
	return append(b, s.Ciphertext...), nil
}

// UnmarshalBinary decodes the encoding of MarshalBinary. It returns an error
// wrapping ErrInvalidInput or ErrInvalidName for malformed input.
func (s *Sealed) UnmarshalBinary(b []byte) error {
	bad := fmt.Errorf("kms: unmarshal sealed: malformed: %w", ErrInvalidInput)
	if len(b) < 2 || b[0] != sealedFormat {
		return bad
	}
	b = b[1:]
	field := func() (string, bool) {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return "", false
		}
		v := string(b[1 : 1+int(b[0])])
		b = b[1+int(b[0]):]
		return v, true
	}
	tenant, ok1 := field()
	name, ok2 := field()
	if !ok1 || !ok2 || len(b) < 4 {
		return bad
	}
	if !ValidName(tenant) || !ValidName(name) {
		return fmt.Errorf("kms: unmarshal sealed: %w", ErrInvalidName)
	}
	v := int(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	if v < 1 {
		return bad
	}
	*s = Sealed{Tenant: tenant, Name: name, Version: v, Ciphertext: append([]byte(nil), b[4:]...)}
	return nil
}

// maxVersion is the largest key version (versions are stored as uint32).
const maxVersion = 1<<32 - 1

// ValidName reports whether s is a valid tenant or key name:
// [A-Za-z0-9._-]{1,128}.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkNames returns ErrInvalidName (wrapped, naming the bad value only when
// it is short and printable) unless every name is valid.
func checkNames(names ...string) error {
	for _, n := range names {
		if !ValidName(n) {
			return fmt.Errorf("%w: %q", ErrInvalidName, truncate(n, 64))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Zero overwrites b with zeros. Use it on plaintext keys once they are no
// longer needed; Go may still hold copies (for example in an AES key
// schedule) that cannot be reached.
func Zero(b []byte) { clear(b) }

func appendUint32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// Rewrap re-seals s under the current version of its key with the same aad:
// the step of the rotation job that moves a DEK off an old KEK version
// without touching object data. The plaintext is zeroed before Rewrap
// returns. Errors are those of Unseal and Seal.
func Rewrap(ctx context.Context, p Provider, s Sealed, aad []byte) (Sealed, error) {
	pt, err := p.Unseal(ctx, s, aad)
	if err != nil {
		return Sealed{}, err
	}
	defer Zero(pt)
	return p.Seal(ctx, s.Tenant, s.Name, pt, aad)
}
