// Package kmstest is the conformance suite for kms.Provider implementations.
// Every provider (local, and later Vault Transit or KMIP) runs TestProvider
// from its own tests.
package kmstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cofferstore/coffer/crypto/kms"
)

// TestProvider runs the conformance suite. newProvider must return a new,
// empty provider for each call (each subtest gets its own). TestProvider
// closes every provider it gets; newProvider registers with t.Cleanup only
// the release of what lies beneath the provider (stores, servers).
func TestProvider(t *testing.T, newProvider func(t *testing.T) kms.Provider) {
	open := func(t *testing.T) kms.Provider {
		t.Helper()
		p := newProvider(t)
		t.Cleanup(func() { _ = p.Close() })
		return p
	}
	tests := []struct {
		name string
		fn   func(*testing.T, kms.Provider)
	}{
		{"CreateGetList", testCreateGetList},
		{"DuplicateCreate", testDuplicateCreate},
		{"SealUnseal", testSealUnseal},
		{"WrongAAD", testWrongAAD},
		{"Tampered", testTampered},
		{"Rotate", testRotate},
		{"DestroyVersion", testDestroyVersion},
		{"DestroyKey", testDestroyKey},
		{"DestroyTenant", testDestroyTenant},
		{"InvalidNames", testInvalidNames},
		{"SealSizeLimit", testSealSizeLimit},
		{"CanceledContext", testCanceledContext},
		{"Concurrent", testConcurrent},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func randBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustCreate(t testing.TB, p kms.Provider, tenant, name string) kms.KeyInfo {
	t.Helper()
	info, err := p.CreateKey(context.Background(), tenant, name)
	if err != nil {
		t.Fatalf("CreateKey(%q, %q): %v", tenant, name, err)
	}
	return info
}

func mustSeal(t testing.TB, p kms.Provider, tenant, name string, pt, aad []byte) kms.Sealed {
	t.Helper()
	s, err := p.Seal(context.Background(), tenant, name, pt, aad)
	if err != nil {
		t.Fatalf("Seal(%q, %q): %v", tenant, name, err)
	}
	return s
}

func mustUnseal(t testing.TB, p kms.Provider, s kms.Sealed, aad, want []byte) {
	t.Helper()
	got, err := p.Unseal(context.Background(), s, aad)
	if err != nil {
		t.Fatalf("Unseal(%v): %v", s, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Unseal(%v) returned other bytes than were sealed", s)
	}
}

// unsealFails checks that Unseal fails with target (nil: any error) and
// returns no plaintext.
func unsealFails(t testing.TB, p kms.Provider, s kms.Sealed, aad []byte, target error) {
	t.Helper()
	got, err := p.Unseal(context.Background(), s, aad)
	if err == nil {
		t.Fatalf("Unseal(%v) succeeded, want error %v", s, target)
	}
	if got != nil {
		t.Fatalf("Unseal(%v) returned data with error %v", s, err)
	}
	if target != nil && !errors.Is(err, target) {
		t.Fatalf("Unseal(%v) = %v, want %v", s, err, target)
	}
}

func checkInfo(t testing.TB, info kms.KeyInfo, tenant, name string, current int, versions ...int) {
	t.Helper()
	if info.Tenant != tenant || info.Name != name || info.Current != current || !slices.Equal(info.Versions, versions) {
		t.Fatalf("key info = %v, want %s/%s v%d versions %v", info, tenant, name, current, versions)
	}
	if info.Created.IsZero() {
		t.Fatalf("key info %v has zero Created", info)
	}
}

func testCreateGetList(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	if l, err := p.ListKeys(ctx, ""); err != nil || len(l) != 0 {
		t.Fatalf("ListKeys on empty provider = %v, %v", l, err)
	}
	created := mustCreate(t, p, "t1", "testkey-1")
	checkInfo(t, created, "t1", "testkey-1", 1, 1)
	mustCreate(t, p, "t1", "A.b_c-9")
	mustCreate(t, p, "t2", "testkey-1")
	mustCreate(t, p, "t10", "k")

	got, err := p.Key(ctx, "t1", "testkey-1")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, got, "t1", "testkey-1", 1, 1)
	if !got.Created.Equal(created.Created) {
		t.Errorf("Key Created = %v, CreateKey returned %v", got.Created, created.Created)
	}
	if _, err := p.Key(ctx, "t1", "nokey"); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("Key(missing) = %v, want ErrNoSuchKey", err)
	}
	if _, err := p.Key(ctx, "t3", "testkey-1"); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("Key(other tenant) = %v, want ErrNoSuchKey", err)
	}

	names := func(l []kms.KeyInfo) []string {
		var out []string
		for _, k := range l {
			out = append(out, k.Tenant+"/"+k.Name)
		}
		return out
	}
	l, err := p.ListKeys(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"t1/A.b_c-9", "t1/testkey-1"}; !slices.Equal(names(l), want) {
		t.Errorf("ListKeys(t1) = %v, want %v", names(l), want)
	}
	for _, k := range l {
		checkInfo(t, k, k.Tenant, k.Name, 1, 1)
	}
	l, err = p.ListKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"t1/A.b_c-9", "t1/testkey-1", "t10/k", "t2/testkey-1"}; !slices.Equal(names(l), want) {
		t.Errorf("ListKeys(all) = %v, want %v", names(l), want)
	}
	if l, err := p.ListKeys(ctx, "t3"); err != nil || len(l) != 0 {
		t.Errorf("ListKeys(t3) = %v, %v; want empty", l, err)
	}
}

func testDuplicateCreate(t *testing.T, p kms.Provider) {
	mustCreate(t, p, "t1", "k1")
	s := mustSeal(t, p, "t1", "k1", []byte("secret"), nil)
	if _, err := p.CreateKey(t.Context(), "t1", "k1"); !errors.Is(err, kms.ErrKeyExists) {
		t.Fatalf("duplicate CreateKey = %v, want ErrKeyExists", err)
	}
	// The failed create must not have replaced the key.
	mustUnseal(t, p, s, nil, []byte("secret"))
	mustCreate(t, p, "t2", "k1") // same name, other tenant
}

func testSealUnseal(t *testing.T, p kms.Provider) {
	mustCreate(t, p, "t1", "testkey-1")
	dek := randBytes(t, 32)
	aad := kms.DEKAAD("t1", "bucket", "obj", []byte("v1"))
	s := mustSeal(t, p, "t1", "testkey-1", dek, aad)
	if s.Tenant != "t1" || s.Name != "testkey-1" || s.Version != 1 {
		t.Fatalf("Sealed = %v, want t1/testkey-1 v1", s)
	}
	if bytes.Contains(s.Ciphertext, dek) {
		t.Fatal("ciphertext contains the plaintext")
	}
	if strings.Contains(s.String(), fmt.Sprintf("%x", s.Ciphertext)) || len(s.String()) > 100 {
		t.Errorf("Sealed.String too long: %s", s)
	}
	mustUnseal(t, p, s, aad, dek)

	// Sealing twice gives different ciphertexts.
	s2 := mustSeal(t, p, "t1", "testkey-1", dek, aad)
	if bytes.Equal(s.Ciphertext, s2.Ciphertext) {
		t.Error("two seals of the same plaintext are identical")
	}

	// Serialisations round-trip.
	j, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var sj kms.Sealed
	if err := json.Unmarshal(j, &sj); err != nil {
		t.Fatal(err)
	}
	mustUnseal(t, p, sj, aad, dek)
	bin, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var sb kms.Sealed
	if err := sb.UnmarshalBinary(bin); err != nil {
		t.Fatal(err)
	}
	mustUnseal(t, p, sb, aad, dek)

	// nil and empty AAD and plaintext.
	e := mustSeal(t, p, "t1", "testkey-1", nil, nil)
	if got, err := p.Unseal(t.Context(), e, []byte{}); err != nil || len(got) != 0 {
		t.Fatalf("Unseal(empty) = %x, %v", got, err)
	}

	// Unknown keys.
	if _, err := p.Seal(t.Context(), "t1", "nokey", dek, aad); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("Seal(missing key) = %v, want ErrNoSuchKey", err)
	}
	bad := s
	bad.Tenant = "t9"
	unsealFails(t, p, bad, aad, kms.ErrNoSuchKey)
	bad = s
	bad.Version = 7
	unsealFails(t, p, bad, aad, kms.ErrNoSuchVersion)
	bad.Version = 0
	unsealFails(t, p, bad, aad, nil)
	bad.Version = -1
	unsealFails(t, p, bad, aad, nil)
}

func testWrongAAD(t *testing.T, p kms.Provider) {
	mustCreate(t, p, "t1", "k")
	dek := randBytes(t, 32)
	aad := kms.DEKAAD("t1", "bucket", "obj", []byte("v1"))
	s := mustSeal(t, p, "t1", "k", dek, aad)
	for _, wrong := range [][]byte{
		nil,
		kms.DEKAAD("t1", "bucket", "obj", []byte("v2")),
		kms.DEKAAD("t1", "bucket", "obj2", []byte("v1")),
		kms.DEKAAD("t1", "bucket2", "obj", []byte("v1")),
		kms.DEKAAD("t2", "bucket", "obj", []byte("v1")),
		aad[:len(aad)-1],
		append(bytes.Clone(aad), 0),
	} {
		unsealFails(t, p, s, wrong, kms.ErrUnseal)
	}
	// Sealed without AAD, opened with some.
	s0 := mustSeal(t, p, "t1", "k", dek, nil)
	unsealFails(t, p, s0, []byte("x"), kms.ErrUnseal)
	mustUnseal(t, p, s, aad, dek)
}

func testTampered(t *testing.T, p kms.Provider) {
	mustCreate(t, p, "t1", "k")
	mustCreate(t, p, "t1", "other")
	mustCreate(t, p, "t2", "k")
	dek := randBytes(t, 32)
	aad := []byte("binding")
	s := mustSeal(t, p, "t1", "k", dek, aad)
	for i := range s.Ciphertext {
		for _, mask := range []byte{0x01, 0x80} {
			bad := s
			bad.Ciphertext = bytes.Clone(s.Ciphertext)
			bad.Ciphertext[i] ^= mask
			unsealFails(t, p, bad, aad, kms.ErrUnseal)
		}
	}
	for _, n := range []int{0, 1, 12, 27, 28, len(s.Ciphertext) - 1} {
		bad := s
		bad.Ciphertext = s.Ciphertext[:n]
		unsealFails(t, p, bad, aad, kms.ErrUnseal)
	}
	bad := s
	bad.Ciphertext = append(bytes.Clone(s.Ciphertext), 0)
	unsealFails(t, p, bad, aad, kms.ErrUnseal)
	// Re-labelled: another key, another tenant, another version.
	bad = s
	bad.Name = "other"
	unsealFails(t, p, bad, aad, nil)
	bad = s
	bad.Tenant = "t2"
	unsealFails(t, p, bad, aad, nil)
	if _, err := p.Rotate(t.Context(), "t1", "k"); err != nil {
		t.Fatal(err)
	}
	bad = s
	bad.Version = 2
	unsealFails(t, p, bad, aad, nil)
	mustUnseal(t, p, s, aad, dek)
}

func testRotate(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	mustCreate(t, p, "t1", "k")
	d1 := randBytes(t, 32)
	s1 := mustSeal(t, p, "t1", "k", d1, []byte("a1"))
	info, err := p.Rotate(ctx, "t1", "k")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, info, "t1", "k", 2, 1, 2)
	d2 := randBytes(t, 32)
	s2 := mustSeal(t, p, "t1", "k", d2, []byte("a2"))
	if s2.Version != 2 {
		t.Fatalf("seal after rotate used version %d, want 2", s2.Version)
	}
	mustUnseal(t, p, s1, []byte("a1"), d1)
	mustUnseal(t, p, s2, []byte("a2"), d2)
	info, err = p.Rotate(ctx, "t1", "k")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, info, "t1", "k", 3, 1, 2, 3)
	got, err := p.Key(ctx, "t1", "k")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, got, "t1", "k", 3, 1, 2, 3)
	mustUnseal(t, p, s1, []byte("a1"), d1)
	// Rewrap moves s1 to the current version; the old version can then go.
	r, err := kms.Rewrap(ctx, p, s1, []byte("a1"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != 3 || r.Tenant != "t1" || r.Name != "k" {
		t.Fatalf("Rewrap = %v, want t1/k v3", r)
	}
	if err := p.DestroyVersion(ctx, "t1", "k", 1); err != nil {
		t.Fatal(err)
	}
	mustUnseal(t, p, r, []byte("a1"), d1)
	unsealFails(t, p, s1, []byte("a1"), kms.ErrNoSuchVersion)
	if _, err := kms.Rewrap(ctx, p, r, []byte("wrong")); !errors.Is(err, kms.ErrUnseal) {
		t.Errorf("Rewrap with wrong aad = %v, want ErrUnseal", err)
	}
	if _, err := p.Rotate(ctx, "t1", "nokey"); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("Rotate(missing) = %v, want ErrNoSuchKey", err)
	}
}

func testDestroyVersion(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	mustCreate(t, p, "t1", "k")
	mustCreate(t, p, "t1", "k2")
	d := randBytes(t, 32)
	s1 := mustSeal(t, p, "t1", "k", d, nil)
	other := mustSeal(t, p, "t1", "k2", d, nil)
	if _, err := p.Rotate(ctx, "t1", "k"); err != nil {
		t.Fatal(err)
	}
	s2 := mustSeal(t, p, "t1", "k", d, nil)
	if err := p.DestroyVersion(ctx, "t1", "k", 2); !errors.Is(err, kms.ErrCurrentVersion) {
		t.Fatalf("DestroyVersion(current) = %v, want ErrCurrentVersion", err)
	}
	if err := p.DestroyVersion(ctx, "t1", "k", 1); err != nil {
		t.Fatal(err)
	}
	unsealFails(t, p, s1, nil, kms.ErrNoSuchVersion)
	mustUnseal(t, p, s2, nil, d)
	mustUnseal(t, p, other, nil, d)
	mustSeal(t, p, "t1", "k", d, nil)
	info, err := p.Key(ctx, "t1", "k")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, info, "t1", "k", 2, 2)
	for _, v := range []int{1, 0, -1, 99} {
		if err := p.DestroyVersion(ctx, "t1", "k", v); !errors.Is(err, kms.ErrNoSuchVersion) {
			t.Errorf("DestroyVersion(%d) = %v, want ErrNoSuchVersion", v, err)
		}
	}
	if err := p.DestroyVersion(ctx, "t1", "nokey", 1); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("DestroyVersion(missing key) = %v, want ErrNoSuchKey", err)
	}
	// Versions are never reused.
	info, err = p.Rotate(ctx, "t1", "k")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, info, "t1", "k", 3, 2, 3)
	unsealFails(t, p, s1, nil, nil)
}

func testDestroyKey(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	mustCreate(t, p, "t1", "k")
	mustCreate(t, p, "t1", "keep")
	d := randBytes(t, 32)
	s1 := mustSeal(t, p, "t1", "k", d, nil)
	if _, err := p.Rotate(ctx, "t1", "k"); err != nil {
		t.Fatal(err)
	}
	s2 := mustSeal(t, p, "t1", "k", d, nil)
	kept := mustSeal(t, p, "t1", "keep", d, nil)
	if err := p.DestroyKey(ctx, "t1", "k"); err != nil {
		t.Fatal(err)
	}
	unsealFails(t, p, s1, nil, kms.ErrNoSuchKey)
	unsealFails(t, p, s2, nil, kms.ErrNoSuchKey)
	mustUnseal(t, p, kept, nil, d)
	if _, err := p.Key(ctx, "t1", "k"); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("Key after destroy = %v, want ErrNoSuchKey", err)
	}
	if _, err := p.Seal(ctx, "t1", "k", d, nil); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("Seal after destroy = %v, want ErrNoSuchKey", err)
	}
	if _, err := p.Rotate(ctx, "t1", "k"); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("Rotate after destroy = %v, want ErrNoSuchKey", err)
	}
	if err := p.DestroyKey(ctx, "t1", "k"); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("second DestroyKey = %v, want ErrNoSuchKey", err)
	}
	l, err := p.ListKeys(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 || l[0].Name != "keep" {
		t.Errorf("ListKeys after destroy = %v", l)
	}
	// A new key of the same name is unrelated: old values stay shredded.
	info := mustCreate(t, p, "t1", "k")
	checkInfo(t, info, "t1", "k", 1, 1)
	unsealFails(t, p, s1, nil, nil)
	if _, err := p.Rotate(ctx, "t1", "k"); err != nil {
		t.Fatal(err)
	}
	unsealFails(t, p, s2, nil, nil)
}

// testDestroyTenant: every key and version of one tenant is destroyed, the
// keys are reported as they were, neighbouring tenants (including ones whose
// names extend the destroyed one) keep theirs, and a second call is a
// harmless no-op.
func testDestroyTenant(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	mustCreate(t, p, "t1", "a")
	mustCreate(t, p, "t1", "b")
	mustCreate(t, p, "t10", "a")
	mustCreate(t, p, "t1-x", "a")
	mustCreate(t, p, "t", "a")
	d := randBytes(t, 32)
	sa1 := mustSeal(t, p, "t1", "a", d, []byte("x"))
	if _, err := p.Rotate(ctx, "t1", "a"); err != nil {
		t.Fatal(err)
	}
	sa2 := mustSeal(t, p, "t1", "a", d, []byte("x"))
	sb := mustSeal(t, p, "t1", "b", d, nil)
	var kept []kms.Sealed
	for _, tn := range []string{"t10", "t1-x", "t"} {
		kept = append(kept, mustSeal(t, p, tn, "a", d, nil))
	}
	got, err := p.DestroyTenant(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("DestroyTenant reported %v, want keys a and b", got)
	}
	checkInfo(t, got[0], "t1", "a", 2, 1, 2)
	checkInfo(t, got[1], "t1", "b", 1, 1)
	unsealFails(t, p, sa1, []byte("x"), nil)
	unsealFails(t, p, sa2, []byte("x"), nil)
	unsealFails(t, p, sb, nil, nil)
	for _, s := range kept {
		mustUnseal(t, p, s, nil, d)
	}
	if l, err := p.ListKeys(ctx, "t1"); err != nil || len(l) != 0 {
		t.Errorf("ListKeys(t1) after DestroyTenant = %v, %v; want none", l, err)
	}
	if _, err := p.Key(ctx, "t1", "a"); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("Key after DestroyTenant = %v, want ErrNoSuchKey", err)
	}
	if _, err := p.Seal(ctx, "t1", "b", d, nil); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("Seal after DestroyTenant = %v, want ErrNoSuchKey", err)
	}
	if l, err := p.ListKeys(ctx, ""); err != nil || len(l) != 3 {
		t.Errorf("ListKeys after DestroyTenant = %v, %v; want the 3 other tenants' keys", l, err)
	}
	again, err := p.DestroyTenant(ctx, "t1")
	if err != nil || len(again) != 0 {
		t.Errorf("second DestroyTenant = %v, %v; want nothing, nil", again, err)
	}
	if _, err := p.DestroyTenant(ctx, "a/b"); !errors.Is(err, kms.ErrInvalidName) {
		t.Errorf("DestroyTenant(bad name) = %v, want ErrInvalidName", err)
	}
	// A re-created key of the same name is unrelated.
	mustCreate(t, p, "t1", "a")
	unsealFails(t, p, sa1, []byte("x"), nil)
}

// BadNames are invalid tenant and key names.
var BadNames = []string{"", " ", "a b", "a/b", "a\\b", "a\x00b", "a\nb", "ä", "a:b", "a*", strings.Repeat("a", kms.MaxNameLen+1)}

func testInvalidNames(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	long := strings.Repeat("x", kms.MaxNameLen)
	mustCreate(t, p, long, long)
	mustCreate(t, p, "t", "..")
	s := mustSeal(t, p, long, long, []byte("x"), nil)
	for _, bad := range BadNames {
		for _, tn := range [][2]string{{bad, "k"}, {"t", bad}} {
			tenant, name := tn[0], tn[1]
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, kms.ErrInvalidName) {
					t.Errorf("%s(%q, %q) = %v, want ErrInvalidName", op, tenant, name, err)
				}
			}
			_, err := p.CreateKey(ctx, tenant, name)
			check("CreateKey", err)
			_, err = p.Key(ctx, tenant, name)
			check("Key", err)
			_, err = p.Rotate(ctx, tenant, name)
			check("Rotate", err)
			_, err = p.Seal(ctx, tenant, name, []byte("x"), nil)
			check("Seal", err)
			_, err = p.Unseal(ctx, kms.Sealed{Tenant: tenant, Name: name, Version: 1, Ciphertext: s.Ciphertext}, nil)
			check("Unseal", err)
			check("DestroyVersion", p.DestroyVersion(ctx, tenant, name, 1))
			check("DestroyKey", p.DestroyKey(ctx, tenant, name))
		}
		if bad != "" {
			if _, err := p.ListKeys(ctx, bad); !errors.Is(err, kms.ErrInvalidName) {
				t.Errorf("ListKeys(%q) = %v, want ErrInvalidName", bad, err)
			}
		}
	}
	l, err := p.ListKeys(ctx, "")
	if err != nil || len(l) != 2 {
		t.Fatalf("ListKeys = %v, %v; invalid names must create nothing", l, err)
	}
	mustUnseal(t, p, s, nil, []byte("x"))
}

func testSealSizeLimit(t *testing.T, p kms.Provider) {
	mustCreate(t, p, "t", "k")
	big := randBytes(t, kms.MaxSealSize)
	s := mustSeal(t, p, "t", "k", big, nil)
	mustUnseal(t, p, s, nil, big)
	if _, err := p.Seal(t.Context(), "t", "k", randBytes(t, kms.MaxSealSize+1), nil); err == nil {
		t.Fatal("Seal above MaxSealSize succeeded")
	}
}

func testCanceledContext(t *testing.T, p kms.Provider) {
	mustCreate(t, p, "t", "k")
	s := mustSeal(t, p, "t", "k", []byte("x"), nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.CreateKey(ctx, "t", "k2"); err == nil {
		t.Error("CreateKey with canceled context succeeded")
	}
	if _, err := p.Seal(ctx, "t", "k", []byte("x"), nil); err == nil {
		t.Error("Seal with canceled context succeeded")
	}
	if _, err := p.Unseal(ctx, s, nil); err == nil {
		t.Error("Unseal with canceled context succeeded")
	}
	if _, err := p.Key(t.Context(), "t", "k2"); !errors.Is(err, kms.ErrNoSuchKey) {
		t.Errorf("canceled CreateKey created the key: %v", err)
	}
	if _, err := p.DestroyTenant(ctx, "t"); err == nil {
		t.Error("DestroyTenant with canceled context succeeded")
	}
	mustUnseal(t, p, s, nil, []byte("x"))
}

func testConcurrent(t *testing.T, p kms.Provider) {
	ctx := t.Context()
	mustCreate(t, p, "t", "k")
	const workers, iters = 8, 50
	var wg sync.WaitGroup
	errc := make(chan error, workers+3)
	for w := range workers {
		wg.Go(func() {
			var sealed []kms.Sealed
			var plain [][]byte
			for i := range iters {
				pt := []byte(fmt.Sprintf("w%d-i%d", w, i))
				aad := []byte(fmt.Sprint(w, i))
				s, err := p.Seal(ctx, "t", "k", pt, aad)
				if err != nil {
					errc <- err
					return
				}
				sealed, plain = append(sealed, s), append(plain, pt)
				for j, s := range sealed {
					got, err := p.Unseal(ctx, s, []byte(fmt.Sprint(w, j)))
					if err != nil || !bytes.Equal(got, plain[j]) {
						errc <- fmt.Errorf("worker %d: unseal %v: %v", w, s, err)
						return
					}
				}
			}
		})
	}
	wg.Go(func() { // rotator
		for range 20 {
			if _, err := p.Rotate(ctx, "t", "k"); err != nil {
				errc <- err
				return
			}
		}
	})
	wg.Go(func() { // create, seal, destroy other keys
		for i := range 10 {
			name := fmt.Sprint("tmp", i)
			if _, err := p.CreateKey(ctx, "t", name); err != nil {
				errc <- err
				return
			}
			if _, err := p.Seal(ctx, "t", name, []byte("x"), nil); err != nil {
				errc <- err
				return
			}
			if _, err := p.Rotate(ctx, "t", name); err != nil {
				errc <- err
				return
			}
			if err := p.DestroyVersion(ctx, "t", name, 1); err != nil {
				errc <- err
				return
			}
			if err := p.DestroyKey(ctx, "t", name); err != nil {
				errc <- err
				return
			}
		}
	})
	wg.Go(func() { // lister
		for range 20 {
			if _, err := p.ListKeys(ctx, ""); err != nil {
				errc <- err
				return
			}
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	info, err := p.Key(ctx, "t", "k")
	if err != nil {
		t.Fatal(err)
	}
	if info.Current != 21 || len(info.Versions) != 21 {
		t.Errorf("after 20 concurrent rotations: %v", info)
	}
}

func testClose(t *testing.T, p kms.Provider) {
	mustCreate(t, p, "t", "k")
	s := mustSeal(t, p, "t", "k", []byte("x"), nil)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Unseal(t.Context(), s, nil); !errors.Is(err, kms.ErrClosed) {
		t.Errorf("Unseal after Close = %v, want ErrClosed", err)
	}
	if _, err := p.Seal(t.Context(), "t", "k", []byte("x"), nil); !errors.Is(err, kms.ErrClosed) {
		t.Errorf("Seal after Close = %v, want ErrClosed", err)
	}
	if _, err := p.CreateKey(t.Context(), "t", "k2"); !errors.Is(err, kms.ErrClosed) {
		t.Errorf("CreateKey after Close = %v, want ErrClosed", err)
	}
	if _, err := p.DestroyTenant(t.Context(), "t"); !errors.Is(err, kms.ErrClosed) {
		t.Errorf("DestroyTenant after Close = %v, want ErrClosed", err)
	}
}
