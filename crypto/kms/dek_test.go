package kms_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cofferstore/coffer/crypto/kms"
)

func TestNewDEK(t *testing.T) {
	a, err := kms.NewDEK()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := kms.NewDEK()
	if len(a) != 32 || bytes.Equal(a, b) {
		t.Fatal("DEKs must be 32 random bytes")
	}
}

func TestDEKAADInjective(t *testing.T) {
	type tuple struct {
		tenant, bucket, key string
		version             []byte
	}
	tuples := []tuple{
		{"t", "b", "k", []byte("v")},
		{"t", "b", "k", nil},
		{"t", "b", "kv", nil},
		{"t", "bk", "", []byte("v")},
		{"tb", "", "k", []byte("v")},
		{"t", "b", "k", []byte("v\x00")},
		{"t", "b\x00\x00\x00\x01k", "", []byte("v")},
		{"", "", "", nil},
	}
	seen := map[string]int{}
	for i, tp := range tuples {
		a := string(kms.DEKAAD(tp.tenant, tp.bucket, tp.key, tp.version))
		if j, ok := seen[a]; ok {
			t.Errorf("tuples %d and %d give the same AAD", i, j)
		}
		seen[a] = i
	}
	if got := kms.DEKAAD("t", "b", "k", []byte{1}); !bytes.Equal(got, []byte("coffer-dek-v1\x00\x00\x00\x01t\x00\x00\x00\x01b\x00\x00\x00\x01k\x00\x00\x00\x01\x01")) {
		t.Errorf("DEKAAD encoding changed: %q", got)
	}
}

func TestCustomerKeyMAC(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	salt := bytes.Repeat([]byte{1}, kms.CustomerKeySaltSize)
	mac := kms.CustomerKeyMAC(key, salt)
	if len(mac) != 32 || bytes.Contains(mac, key) {
		t.Fatal("bad MAC")
	}
	if !kms.VerifyCustomerKey(key, salt, mac) {
		t.Fatal("right key rejected")
	}
	other := bytes.Clone(key)
	other[31] ^= 1
	otherSalt := bytes.Clone(salt)
	otherSalt[0] ^= 1
	if kms.VerifyCustomerKey(other, salt, mac) || kms.VerifyCustomerKey(key, otherSalt, mac) || kms.VerifyCustomerKey(key, salt, mac[:31]) || kms.VerifyCustomerKey(key, salt, nil) {
		t.Fatal("wrong key, salt or MAC accepted")
	}
	if bytes.Equal(kms.CustomerKeyMAC(key, otherSalt), mac) {
		t.Fatal("MAC does not depend on the salt")
	}
}

func TestSealWithCustomerKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	dek, _ := kms.NewDEK()
	aad := kms.DEKAAD("t", "b", "k", []byte("v1"))
	s, err := kms.SealWithCustomerKey(key, dek, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s, dek) || bytes.Contains(s, key) {
		t.Fatal("sealed output contains the DEK or the key")
	}
	got, err := kms.OpenWithCustomerKey(key, s, aad)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("round trip: %v", err)
	}
	s2, _ := kms.SealWithCustomerKey(key, dek, aad)
	if bytes.Equal(s, s2) {
		t.Fatal("two seals are identical")
	}
	other := bytes.Clone(key)
	other[0] ^= 1
	if _, err := kms.OpenWithCustomerKey(other, s, aad); !errors.Is(err, kms.ErrCustomerKey) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := kms.OpenWithCustomerKey(key, s, kms.DEKAAD("t", "b", "k", []byte("v2"))); !errors.Is(err, kms.ErrCustomerKey) {
		t.Errorf("wrong aad: %v", err)
	}
	for i := range s {
		bad := bytes.Clone(s)
		bad[i] ^= 0x40
		if _, err := kms.OpenWithCustomerKey(key, bad, aad); !errors.Is(err, kms.ErrCustomerKey) {
			t.Fatalf("flipped byte %d: %v", i, err)
		}
	}
	for _, n := range []int{0, 1, 44, 60, len(s) - 1} {
		if _, err := kms.OpenWithCustomerKey(key, s[:n], aad); !errors.Is(err, kms.ErrCustomerKey) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if _, err := kms.SealWithCustomerKey(nil, dek, aad); !errors.Is(err, kms.ErrInvalidInput) {
		t.Errorf("empty key: %v", err)
	}
}
