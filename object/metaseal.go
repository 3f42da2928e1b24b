package object

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/crypto/stream"
)

// Sealed descriptions. What a client says about an object — its
// Content-Type and the other representation headers, its x-amz-meta-*
// user metadata and its tags — is user data (a Content-Disposition holds a
// file name, user metadata often holds a patient or account number), so
// metadata records keep it only sealed:
//
//   - The description (descMeta) is JSON, sealed with AES-256-GCM under the
//     version's metadata key, with a random 96-bit nonce and additional
//     data binding bucket, key and the version's write id (encRecord.Bind):
//     a sealed description moved onto another record does not open.
//   - The metadata key of an SSE-S3 or SSE-KMS version is derived from its
//     data key (HKDF label "coffer metadata"), so destroying the data key
//     destroys the description too. An SSE-C data key cannot be opened
//     without the client's key, yet S3 serves an SSE-C object's tags
//     without it and lifecycle filters read them, so an SSE-C version gets
//     a random metadata key sealed by the tenant's default key
//     (encRecord.MetaSealed), re-sealed by key rotation like data keys.
//   - Bucket names, object keys, sizes, ETags, checksums, owners, ACLs and
//     lock state stay in clear: listing is an ordered scan of keys, and the
//     rest is not client-supplied content. docs/on-disk-format.md says so.
//
// Guarantees: a description MUST NOT be written to a record in clear
// (descMeta's fields are excluded from the record's JSON); a record whose
// sealed description does not open yields ErrCorruption, never a partial
// or guessed description.

// descMeta is the client-supplied description of a version: the fields of
// a version record that are stored only sealed (versionRecord.SealedDesc,
// uploadRecord.SealedDesc).
type descMeta struct {
	ContentType  string            `json:"ct,omitempty"`
	ContentEnc   string            `json:"ce,omitempty"`
	ContentDisp  string            `json:"cd,omitempty"`
	ContentLang  string            `json:"cl,omitempty"`
	CacheControl string            `json:"cc,omitempty"`
	Expires      string            `json:"ex,omitempty"`
	UserMeta     map[string]string `json:"um,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
}

func (d *descMeta) empty() bool {
	return d.ContentType == "" && d.ContentEnc == "" && d.ContentDisp == "" && d.ContentLang == "" &&
		d.CacheControl == "" && d.Expires == "" && len(d.UserMeta) == 0 && len(d.Tags) == 0
}

// descFromOptions returns the description a write's options carry.
func descFromOptions(o PutOptions) descMeta {
	return descMeta{ContentType: o.ContentType, ContentEnc: o.ContentEncoding, ContentDisp: o.ContentDisposition,
		ContentLang: o.ContentLanguage, CacheControl: o.CacheControl, Expires: o.Expires,
		UserMeta: o.UserMeta, Tags: o.Tags}
}

// setOptions copies the description into o.
func (d descMeta) setOptions(o *PutOptions) {
	o.ContentType, o.ContentEncoding, o.ContentDisposition = d.ContentType, d.ContentEnc, d.ContentDisp
	o.ContentLanguage, o.CacheControl, o.Expires = d.ContentLang, d.CacheControl, d.Expires
	o.UserMeta, o.Tags = d.UserMeta, d.Tags
}

// Labels of the metadata key.
const (
	metaKeyLabel = "coffer metadata"
	metaAADLabel = "coffer metadata v1"
	metaSealAAD  = "coffer metadata key"
)

// metaKey returns the metadata key of a record's encryption (see above).
// With create, an SSE-C record without one gets a new key sealed by the
// default key of tenant (the bucket's tenant). The caller must kms.Zero
// the result.
func (e *Engine) metaKey(ctx context.Context, enc *encRecord, tenant, bucket, key string, create bool) ([]byte, error) {
	if enc == nil {
		return nil, fmt.Errorf("%w: description without an encryption record", ErrCorruption)
	}
	if enc.Sealed != nil {
		dek, err := e.openDataKey(ctx, enc, nil, enc.Sealed.Tenant, bucket, key)
		if err != nil {
			return nil, err
		}
		defer kms.Zero(dek)
		return stream.DeriveKey(dek, metaKeyLabel), nil
	}
	if enc.MetaSealed != nil {
		mk, err := e.kms.Unseal(ctx, *enc.MetaSealed, enc.metaSealedAAD(bucket, key))
		if errors.Is(err, kms.ErrUnseal) {
			return nil, fmt.Errorf("%w: sealed metadata key does not open", ErrCorruption)
		}
		return mk, err
	}
	if !create {
		return nil, fmt.Errorf("%w: no metadata key", ErrCorruption)
	}
	if err := e.ensureDefaultKey(ctx, tenant); err != nil {
		return nil, err
	}
	mk, err := kms.NewDEK()
	if err != nil {
		return nil, err
	}
	sealed, err := e.kms.Seal(ctx, tenant, DefaultKeyName, mk, enc.metaAAD(tenant, bucket, key))
	if err != nil {
		kms.Zero(mk)
		return nil, err
	}
	enc.MetaSealed = &sealed
	return mk, nil
}

// metaAAD is the additional data that binds a sealed SSE-C metadata key
// to its place (as aad binds the data key, under another label).
func (r *encRecord) metaAAD(tenant, bucket, key string) []byte {
	return kms.DEKAAD(tenant, bucket, key, append([]byte(metaSealAAD), r.Bind...))
}

// sealedAAD is the additional data of the record's sealed data key (nil
// when it has none).
func sealedAAD(r *encRecord, bucket, key string) []byte {
	if r.Sealed == nil {
		return nil
	}
	return r.aad(r.Sealed.Tenant, bucket, key)
}

// metaSealedAAD is metaAAD for the record's sealed metadata key (nil when
// it has none).
func (r *encRecord) metaSealedAAD(bucket, key string) []byte {
	if r.MetaSealed == nil {
		return nil
	}
	return r.metaAAD(r.MetaSealed.Tenant, bucket, key)
}

// descAEAD returns the AEAD of a metadata key.
func descAEAD(mk []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(mk)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func descAAD(bucket, key string, bind []byte) []byte {
	aad := make([]byte, 0, len(metaAADLabel)+len(bucket)+len(key)+len(bind)+3)
	aad = append(aad, metaAADLabel...)
	aad = append(aad, 0)
	aad = append(aad, bucket...)
	aad = append(aad, 0)
	aad = append(aad, key...)
	aad = append(aad, 0)
	return append(aad, bind...)
}

// sealDesc seals d for a record with encryption enc in a bucket of tenant
// (nil when d is empty). It may add enc.MetaSealed.
func (e *Engine) sealDesc(ctx context.Context, enc *encRecord, tenant, bucket, key string, d descMeta) ([]byte, error) {
	if d.empty() {
		return nil, nil
	}
	mk, err := e.metaKey(ctx, enc, tenant, bucket, key, true)
	if err != nil {
		return nil, err
	}
	defer kms.Zero(mk)
	aead, err := descAEAD(mk)
	if err != nil {
		return nil, err
	}
	pt, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(pt)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	out = aead.Seal(out, out, pt, descAAD(bucket, key, enc.Bind))
	clear(pt)
	return out, nil
}

// openDesc opens a sealed description (the zero description when sealed is
// empty).
func (e *Engine) openDesc(ctx context.Context, enc *encRecord, bucket, key string, sealed []byte) (descMeta, error) {
	var d descMeta
	if len(sealed) == 0 {
		return d, nil
	}
	mk, err := e.metaKey(ctx, enc, "", bucket, key, false)
	if err != nil {
		return d, err
	}
	defer kms.Zero(mk)
	aead, err := descAEAD(mk)
	if err != nil {
		return d, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return d, fmt.Errorf("%w: sealed description too short", ErrCorruption)
	}
	n := aead.NonceSize()
	pt, err := aead.Open(nil, sealed[:n], sealed[n:], descAAD(bucket, key, enc.Bind))
	if err != nil {
		return d, fmt.Errorf("%w: sealed description does not open", ErrCorruption)
	}
	defer clear(pt)
	if err := json.Unmarshal(pt, &d); err != nil {
		return d, fmt.Errorf("%w: sealed description: %v", ErrCorruption, err)
	}
	return d, nil
}

// sealVersion seals v's description into v.SealedDesc (tenant owns the
// bucket). The plaintext fields stay set in memory (they are never
// encoded).
func (e *Engine) sealVersion(ctx context.Context, v *versionRecord, tenant, bucket, key string) error {
	if v.DeleteMarker {
		return nil
	}
	sealed, err := e.sealDesc(ctx, v.Enc, tenant, bucket, key, v.descMeta)
	if err != nil {
		return err
	}
	v.SealedDesc = sealed
	return nil
}

// openVersion fills v's description from v.SealedDesc.
func (e *Engine) openVersion(ctx context.Context, v *versionRecord, bucket, key string) error {
	if len(v.SealedDesc) == 0 {
		return nil
	}
	d, err := e.openDesc(ctx, v.Enc, bucket, key, v.SealedDesc)
	if err != nil {
		return err
	}
	v.descMeta = d
	return nil
}
