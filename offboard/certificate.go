package offboard

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CertificateFormat names the certificate layout and its canonical
// encoding; a verifier MUST refuse any other value.
const CertificateFormat = "coffer-destruction-certificate/v1"

// signingDomain prefixes the canonical encoding before signing, so that a
// signature over a certificate can never be mistaken for one over any
// other message the key might sign.
const signingDomain = "coffer destruction certificate v1\n"

// ErrBadCertificate is returned (wrapped) by Verify for a certificate that
// is malformed, names another signing key, or whose signature does not
// match its contents.
var ErrBadCertificate = errors.New("offboard: certificate does not verify")

// DestroyedKey is one tenant key (KEK) destroyed by an offboarding, with
// every version that existed at destruction.
type DestroyedKey struct {
	Name     string `json:"name"`
	Versions []int  `json:"versions"`
	Current  int    `json:"current_version"`
}

// Certificate is the signed certificate of destruction of one tenant
// (requirement R55). Every field is covered by Signature. Times named
// "compliance" come from the compliance clock that retention is judged by;
// the others are the server's wall clock.
type Certificate struct {
	Format       string `json:"format"`
	ID           string `json:"certificate_id"`
	DeploymentID string `json:"deployment_id"`
	Tenant       string `json:"tenant"`
	CanonicalID  string `json:"tenant_canonical_id"`
	Actor        string `json:"actor"`
	// Started and Finished are the compliance-clock times of the start
	// (the tenant was frozen) and of the end of the destruction.
	Started  time.Time `json:"started_compliance"`
	Finished time.Time `json:"finished_compliance"`
	// StartedWall and FinishedWall are the same moments on the wall clock.
	StartedWall  time.Time `json:"started_wall"`
	FinishedWall time.Time `json:"finished_wall"`
	// Keys are the tenant's KEKs destroyed in the KMS.
	Keys []DestroyedKey `json:"keys_destroyed"`
	// Buckets are the buckets deleted.
	Buckets []string `json:"buckets"`
	Inventory
	Users      int    `json:"users_deleted"`
	AccessKeys int    `json:"access_keys_deleted"`
	Method     string `json:"method"`
	// SigningKeyID names the server's signing key (KeyID of its public
	// key).
	SigningKeyID string `json:"signing_key_id"`
	// Signature is the base64 Ed25519 signature over CanonicalBytes.
	Signature string `json:"signature"`
}

// CanonicalBytes is what the signature covers: a domain string followed by
// the JSON encoding of c with Signature empty. encoding/json writes struct
// fields in declaration order with no insignificant white space, and the
// certificate holds no maps, so the encoding is deterministic.
func (c Certificate) CanonicalBytes() ([]byte, error) {
	c.Signature = ""
	j, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return append([]byte(signingDomain), j...), nil
}

// KeyID returns the identifier of an Ed25519 public key:
// "ed25519:" followed by the first 16 bytes of its SHA-256 in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:16])
}

// Sign fills in SigningKeyID and Signature with priv.
func (c *Certificate) Sign(priv ed25519.PrivateKey) error {
	c.SigningKeyID = KeyID(priv.Public().(ed25519.PublicKey))
	msg, err := c.CanonicalBytes()
	if err != nil {
		return err
	}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg))
	return nil
}

// ParseCertificate decodes a certificate strictly: an unknown field, a
// trailing value or a wrong format is an error wrapping ErrBadCertificate,
// so that nothing can be added to a certificate without failing it.
func ParseCertificate(data []byte) (Certificate, error) {
	var c Certificate
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Certificate{}, fmt.Errorf("%w: %v", ErrBadCertificate, err)
	}
	if dec.More() {
		return Certificate{}, fmt.Errorf("%w: trailing data", ErrBadCertificate)
	}
	if c.Format != CertificateFormat {
		return Certificate{}, fmt.Errorf("%w: format %q", ErrBadCertificate, c.Format)
	}
	return c, nil
}

// Verify checks c against the public key pub: the key id MUST match and
// the signature MUST verify over CanonicalBytes; any changed field fails.
// It returns nil or an error wrapping ErrBadCertificate.
func Verify(c Certificate, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: public key has %d bytes", ErrBadCertificate, len(pub))
	}
	if c.Format != CertificateFormat {
		return fmt.Errorf("%w: format %q", ErrBadCertificate, c.Format)
	}
	if c.SigningKeyID != KeyID(pub) {
		return fmt.Errorf("%w: signed by %s, not by the given key %s", ErrBadCertificate, c.SigningKeyID, KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: malformed signature", ErrBadCertificate)
	}
	msg, err := c.CanonicalBytes()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadCertificate, err)
	}
	if !ed25519.Verify(pub, msg, sig) {
		return fmt.Errorf("%w: signature mismatch (the certificate was altered or signed by another key)", ErrBadCertificate)
	}
	return nil
}

// PublicKey is the server's signing public key as the admin API serves it
// and `coffer admin signing-key` prints it.
type PublicKey struct {
	KeyID     string `json:"key_id"`
	Algorithm string `json:"algorithm"` // "Ed25519"
	// PublicKey is the raw 32-byte key in base64.
	PublicKey string `json:"public_key"`
}

// NewPublicKey describes pub.
func NewPublicKey(pub ed25519.PublicKey) PublicKey {
	return PublicKey{KeyID: KeyID(pub), Algorithm: "Ed25519", PublicKey: base64.StdEncoding.EncodeToString(pub)}
}

// ParsePublicKey reads a public key file: either the JSON PublicKey
// document or the bare base64 key. When the document names a key id, it
// MUST match the key.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	s := strings.TrimSpace(string(data))
	var doc PublicKey
	if strings.HasPrefix(s, "{") {
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return nil, fmt.Errorf("offboard: public key: %v", err)
		}
		s = doc.PublicKey
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("offboard: public key: want 32 bytes in base64")
	}
	pub := ed25519.PublicKey(raw)
	if doc.KeyID != "" && doc.KeyID != KeyID(pub) {
		return nil, errors.New("offboard: public key: key id does not match the key")
	}
	return pub, nil
}
