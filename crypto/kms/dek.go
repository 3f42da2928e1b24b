package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// DEKSize is the size of a data key.
const DEKSize = 32

// NewDEK returns a new random 32-byte data key from crypto/rand. The caller
// should Zero it once it is sealed and no longer used.
func NewDEK() ([]byte, error) {
	k := make([]byte, DEKSize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("kms: generate data key: %w", err)
	}
	return k, nil
}

// DEKAAD returns the additional data that binds a sealed DEK to one object
// version: "coffer-dek-v1" followed by tenant, bucket, key and version, each
// preceded by its length as 4 bytes big endian. The encoding is injective:
// different tuples always give different AAD, so a sealed DEK cannot be
// transplanted onto another object or version.
func DEKAAD(tenant, bucket, key string, version []byte) []byte {
	b := make([]byte, 0, 13+16+len(tenant)+len(bucket)+len(key)+len(version))
	b = append(b, "coffer-dek-v1"...)
	for _, f := range [][]byte{[]byte(tenant), []byte(bucket), []byte(key), version} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// ErrCustomerKey is returned (wrapped) by OpenWithCustomerKey when the key is
// wrong or the sealed value was altered.
var ErrCustomerKey = errors.New("kms: customer key does not open the sealed data key")

// CustomerKeySaltSize is the recommended salt size for CustomerKeyMAC.
const CustomerKeySaltSize = 16

// CustomerKeyMAC returns the value stored to recognise an SSE-C customer key
// without storing the key: HMAC-SHA256(k, "coffer-ssec-key-check-v1") with
// k = HKDF-SHA256(customerKey, salt, "coffer-ssec-mac-v1"). salt should be
// random (CustomerKeySaltSize bytes) per object version and stored with the
// MAC. customerKey is never retained.
func CustomerKeyMAC(customerKey, salt []byte) []byte {
	k, err := hkdf.Key(sha256.New, customerKey, salt, "coffer-ssec-mac-v1", 32)
	if err != nil {
		// hkdf.Key fails only for an output length above 255*32 bytes.
		panic("kms: hkdf: " + err.Error())
	}
	defer Zero(k)
	m := hmac.New(sha256.New, k)
	m.Write([]byte("coffer-ssec-key-check-v1"))
	return m.Sum(nil)
}

// VerifyCustomerKey reports, in constant time, whether customerKey matches a
// MAC made by CustomerKeyMAC with salt.
func VerifyCustomerKey(customerKey, salt, mac []byte) bool {
	return hmac.Equal(CustomerKeyMAC(customerKey, salt), mac)
}

// customerSealFormat is the first byte of SealWithCustomerKey's output.
const customerSealFormat = 1

// SealWithCustomerKey seals dek (or any small secret) under an SSE-C
// customer key: out = 0x01 || salt(32) || nonce(12) || AES-256-GCM(k, nonce,
// dek, aad) with k = HKDF-SHA256(customerKey, salt, "coffer-ssec-seal-v1")
// and salt random per call, so no key is ever used for more than one seal.
func SealWithCustomerKey(customerKey, dek, aad []byte) ([]byte, error) {
	if len(customerKey) == 0 {
		return nil, fmt.Errorf("kms: empty customer key: %w", ErrInvalidInput)
	}
	out := make([]byte, 1+32+gcmNonceLen, 1+32+gcmNonceLen+len(dek)+gcmTagLen)
	out[0] = customerSealFormat
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("kms: seal with customer key: %w", err)
	}
	aead, err := customerAEAD(customerKey, out[1:33])
	if err != nil {
		return nil, err
	}
	return aead.Seal(out, out[33:], dek, aad), nil
}

// OpenWithCustomerKey opens the output of SealWithCustomerKey. It returns
// ErrCustomerKey (wrapped) for a wrong key, wrong aad or altered input.
func OpenWithCustomerKey(customerKey, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < 1+32+gcmNonceLen+gcmTagLen || sealed[0] != customerSealFormat {
		return nil, fmt.Errorf("kms: open with customer key: malformed: %w", ErrCustomerKey)
	}
	aead, err := customerAEAD(customerKey, sealed[1:33])
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, sealed[33:45], sealed[45:], aad)
	if err != nil {
		return nil, fmt.Errorf("kms: open with customer key: %w", ErrCustomerKey)
	}
	return pt, nil
}

func customerAEAD(customerKey, salt []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, customerKey, salt, "coffer-ssec-seal-v1", 32)
	if err != nil {
		return nil, fmt.Errorf("kms: hkdf: %w", err)
	}
	defer Zero(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("kms: aes: %w", err)
	}
	return cipher.NewGCM(block)
}
