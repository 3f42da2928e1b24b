package object

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/crypto/stream"
)

// Encryption at rest. Every version is encrypted; there is no switch.
//
//   - A version's data key (DEK) is 32 random bytes. It is stored only
//     sealed: by a tenant key (SSE-S3: the tenant's default key; SSE-KMS: the
//     named key) through the KMS provider, or by the client's key (SSE-C:
//     HKDF of the customer key, never stored; a salted MAC recognises it).
//   - The seal's additional data binds tenant, bucket, key and a random
//     128-bit write id recorded with the version (version ids are assigned at
//     commit, after the data is encrypted, so that versions order by commit
//     time). A sealed DEK transplanted onto another object does not open;
//     moved onto another version of the same key together with its write id,
//     it opens but the version's data was encrypted under another DEK, so the
//     stream fails authentication. Either way no wrong bytes are returned.
//   - Object data is a chunked AEAD stream (package crypto/stream) keyed by
//     HKDF(DEK, "coffer object"); each multipart part is its own stream keyed
//     by HKDF(DEK, "coffer part N") with its own random nonce base.
//
// Guarantees: plaintext keys MUST NOT reach metadata, drives, logs or
// errors; they are zeroed after use where Go allows.

// DefaultTenant is the tenant of the root account until tenants exist.
const DefaultTenant = "root"

// DefaultKeyName is the tenant key that seals SSE-S3 data keys (and SSE-KMS
// data keys when no key id is given). It is created on first use.
const DefaultKeyName = "coffer-default"

// encRecord is a version's (or upload's) encryption metadata. It holds no
// secret: the DEK appears only sealed.
type encRecord struct {
	Mode  string `json:"mode"`
	KeyID string `json:"kid,omitempty"` // SSE-KMS key name as the client gave it
	// Sealed is the DEK sealed by a tenant key (SSE-S3, SSE-KMS).
	Sealed *kms.Sealed `json:"sealed,omitempty"`
	// Customer* hold the DEK sealed by an SSE-C key, and the salted MAC that
	// recognises the key.
	CustomerSealed []byte `json:"csealed,omitempty"`
	CustomerSalt   []byte `json:"csalt,omitempty"`
	CustomerMAC    []byte `json:"cmac,omitempty"`
	// MetaSealed is the metadata key of an SSE-C record sealed by the
	// tenant's default key (metaseal.go); other modes derive it from the
	// data key.
	MetaSealed *kms.Sealed `json:"msealed,omitempty"`
	// Bind is the random write id that the seal's additional data binds
	// (with tenant, bucket and key).
	Bind []byte `json:"bind"`
	// Suite and Nonce are the object stream's parameters (single-part and
	// inline data); parts carry their own.
	Suite byte   `json:"suite,omitempty"`
	Nonce []byte `json:"nonce,omitempty"`
}

// info returns the client-visible description.
func (r *encRecord) info() Encryption {
	if r == nil {
		return Encryption{}
	}
	return Encryption{Mode: r.Mode, KMSKeyID: r.KeyID}
}

// aad is the additional data that binds a sealed DEK to its place.
func (r *encRecord) aad(tenant, bucket, key string) []byte {
	return kms.DEKAAD(tenant, bucket, key, r.Bind)
}

// resolveSSE applies the bucket default to a write's SSE request and
// validates it.
func resolveSSE(req SSE, b *bucketRecord) (SSE, error) {
	if req.Mode == "" {
		req.Mode = SSES3
		if d := b.Encryption; d != nil && d.Mode == SSEKMS {
			req.Mode, req.KMSKeyID = SSEKMS, d.KMSKeyID
		}
	}
	switch req.Mode {
	case SSES3:
		if req.KMSKeyID != "" || req.CustomerKey != nil {
			return req, fmt.Errorf("%w: SSE-S3 takes no key", ErrInvalidEncryption)
		}
	case SSEKMS:
		if req.CustomerKey != nil {
			return req, fmt.Errorf("%w: SSE-KMS with a customer key", ErrInvalidEncryption)
		}
		if req.KMSKeyID == "" {
			if d := b.Encryption; d != nil && d.Mode == SSEKMS {
				req.KMSKeyID = d.KMSKeyID
			}
		}
	case SSEC:
		if len(req.CustomerKey) != 32 {
			return req, fmt.Errorf("%w: the customer key must be 32 bytes", ErrInvalidEncryption)
		}
	default:
		return req, fmt.Errorf("%w: mode %q", ErrInvalidEncryption, req.Mode)
	}
	return req, nil
}

// kmsKeyName maps an SSE request to the tenant key that seals its DEK.
func kmsKeyName(req SSE) string {
	if req.Mode == SSEKMS && req.KMSKeyID != "" {
		return req.KMSKeyID
	}
	return DefaultKeyName
}

// ensureDefaultKey creates the tenant's default key on first use.
func (e *Engine) ensureDefaultKey(ctx context.Context, tenant string) error {
	if _, err := e.kms.Key(ctx, tenant, DefaultKeyName); err == nil {
		return nil
	} else if !errors.Is(err, kms.ErrNoSuchKey) {
		return err
	}
	if _, err := e.kms.CreateKey(ctx, tenant, DefaultKeyName); err != nil && !errors.Is(err, kms.ErrKeyExists) {
		return err
	}
	return nil
}

// checkKMSKey reports ErrNoSuchKMSKey unless the tenant has the key.
func (e *Engine) checkKMSKey(ctx context.Context, tenant string, keyID string) error {
	if !kms.ValidName(keyID) {
		return fmt.Errorf("%w: %q", ErrNoSuchKMSKey, keyID)
	}
	if _, err := e.kms.Key(ctx, tenant, keyID); err != nil {
		if errors.Is(err, kms.ErrNoSuchKey) {
			return fmt.Errorf("%w: %q", ErrNoSuchKMSKey, keyID)
		}
		return err
	}
	return nil
}

// newDataKey creates a DEK for a write and its sealed record. The caller
// must kms.Zero the returned DEK.
func (e *Engine) newDataKey(ctx context.Context, req SSE, tenant, bucket, key string) ([]byte, *encRecord, error) {
	rec := &encRecord{Mode: req.Mode, Bind: make([]byte, 16)}
	if _, err := rand.Read(rec.Bind); err != nil {
		return nil, nil, err
	}
	if req.Mode == SSEKMS {
		rec.KeyID = kmsKeyName(req)
	}
	dek, err := kms.NewDEK()
	if err != nil {
		return nil, nil, err
	}
	aad := rec.aad(tenant, bucket, key)
	switch req.Mode {
	case SSEC:
		rec.CustomerSalt = make([]byte, kms.CustomerKeySaltSize)
		if _, err := rand.Read(rec.CustomerSalt); err != nil {
			return nil, nil, err
		}
		rec.CustomerMAC = kms.CustomerKeyMAC(req.CustomerKey, rec.CustomerSalt)
		if rec.CustomerSealed, err = kms.SealWithCustomerKey(req.CustomerKey, dek, aad); err != nil {
			kms.Zero(dek)
			return nil, nil, err
		}
	default:
		name := kmsKeyName(req)
		if name == DefaultKeyName {
			if err := e.ensureDefaultKey(ctx, tenant); err != nil {
				kms.Zero(dek)
				return nil, nil, err
			}
		}
		sealed, err := e.kms.Seal(ctx, tenant, name, dek, aad)
		if err != nil {
			kms.Zero(dek)
			if errors.Is(err, kms.ErrNoSuchKey) || errors.Is(err, kms.ErrInvalidName) {
				return nil, nil, fmt.Errorf("%w: %q", ErrNoSuchKMSKey, name)
			}
			return nil, nil, err
		}
		rec.Sealed = &sealed
	}
	return dek, rec, nil
}

// checkCustomerKey verifies an SSE-C key against a record without opening
// anything.
func checkCustomerKey(rec *encRecord, ck []byte) error {
	if rec == nil || rec.Mode != SSEC {
		if ck != nil {
			return ErrSSECustomerKeyNotExpected
		}
		return nil
	}
	if ck == nil {
		return ErrSSECustomerKeyMissing
	}
	if !kms.VerifyCustomerKey(ck, rec.CustomerSalt, rec.CustomerMAC) {
		return ErrSSECustomerKeyMismatch
	}
	return nil
}

// openDataKey unseals a version's DEK. The caller must kms.Zero it.
func (e *Engine) openDataKey(ctx context.Context, rec *encRecord, ck []byte, tenant, bucket, key string) ([]byte, error) {
	if rec == nil {
		return nil, fmt.Errorf("%w: version has no encryption record", ErrCorruption)
	}
	if err := checkCustomerKey(rec, ck); err != nil {
		return nil, err
	}
	if rec.Mode != SSEC && rec.Sealed != nil {
		// A data key is sealed by a key of the tenant that owned the bucket
		// when it was written (records from before per-tenant keys name
		// DefaultTenant); the seal itself authenticates that binding.
		tenant = rec.Sealed.Tenant
	}
	aad := rec.aad(tenant, bucket, key)
	if rec.Mode == SSEC {
		dek, err := kms.OpenWithCustomerKey(ck, rec.CustomerSealed, aad)
		if err != nil {
			return nil, fmt.Errorf("%w: sealed data key does not open", ErrCorruption)
		}
		return dek, nil
	}
	if rec.Sealed == nil {
		return nil, fmt.Errorf("%w: no sealed data key", ErrCorruption)
	}
	dek, err := e.kms.Unseal(ctx, *rec.Sealed, aad)
	if err != nil {
		if errors.Is(err, kms.ErrUnseal) {
			return nil, fmt.Errorf("%w: sealed data key does not open", ErrCorruption)
		}
		return nil, err
	}
	return dek, nil
}

// streamTransform is the Transform of one encrypted stream.
type streamTransform struct{ p stream.Params }

func (t streamTransform) NewEncoder(w io.Writer) (io.WriteCloser, error) {
	return stream.NewWriter(w, t.p)
}
func (streamTransform) StoredSize(size int64) int64 { return stream.StoredSize(size) }
func (streamTransform) StoredRange(off, length, size int64) (int64, int64) {
	return stream.StoredRange(off, length, size)
}
func (t streamTransform) NewDecoder(r io.Reader, off, length, size int64) (io.Reader, error) {
	d, err := stream.NewReader(r, t.p, off, length, size)
	if err != nil {
		return nil, err
	}
	return authErrReader{d}, nil
}

// authErrReader turns an authentication failure of the stream into
// ErrCorruption: wrong bytes are never returned.
type authErrReader struct{ r io.Reader }

func (a authErrReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	return n, a.mapErr(err)
}

// WriteTo implements io.WriterTo: the stream writes runs of verified
// plaintext straight from a pooled run buffer, so a GET does not copy the
// plaintext again on its way to the connection.
func (a authErrReader) WriteTo(w io.Writer) (int64, error) {
	sr, ok := a.r.(*stream.Reader)
	if !ok {
		n, err := io.Copy(w, a.r)
		return n, a.mapErr(err)
	}
	bp := runBuffers.Get().(*[]byte)
	defer runBuffers.Put(bp)
	n, err := sr.WriteRuns(w, *bp)
	return n, a.mapErr(err)
}

func (a authErrReader) mapErr(err error) error {
	if err != nil && errors.Is(err, stream.ErrAuth) {
		err = fmt.Errorf("%w: %v", ErrCorruption, err)
	}
	return err
}

// runBuffers pools the decrypting streams' run buffers (about 256 KiB each,
// one per GET in flight); they hold plaintext only in memory.
var runBuffers = sync.Pool{New: func() any {
	b := make([]byte, stream.RunBufferSize)
	return &b
}}

// newStream returns a fresh encrypting transform keyed from dek and label,
// and the suite and nonce base to record.
func newStream(dek []byte, label string) (Transform, byte, []byte, error) {
	p, err := stream.NewParams(stream.DeriveKey(dek, label))
	if err != nil {
		return nil, 0, nil, err
	}
	nb := p.NonceBase
	return streamTransform{p}, byte(p.Suite), nb[:], nil
}

// openStream returns the decrypting transform of a recorded stream.
func openStream(dek []byte, label string, suite byte, nonce []byte) (Transform, error) {
	p := stream.Params{Suite: stream.Suite(suite), Key: stream.DeriveKey(dek, label)}
	if copy(p.NonceBase[:], nonce) != stream.NonceBaseSize {
		return nil, fmt.Errorf("%w: bad stream nonce", ErrCorruption)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruption, err)
	}
	return streamTransform{p}, nil
}

const objectLabel = "coffer object"

func partLabel(n int) string { return fmt.Sprintf("coffer part %d", n) }
