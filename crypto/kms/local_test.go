package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/crypto/kms/kmsmeta"
	"github.com/cofferstore/coffer/crypto/kms/kmstest"
	"github.com/cofferstore/coffer/metadata"
)

func newMaster(t testing.TB) []byte {
	t.Helper()
	m := make([]byte, 32)
	if _, err := rand.Read(m); err != nil {
		t.Fatal(err)
	}
	return m
}

func openPebble(t testing.TB, dir string) *metadata.Pebble {
	t.Helper()
	p, err := metadata.OpenPebble(dir, metadata.PebbleOptions{CacheSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLocalConformancePebble runs the provider suite over a real pebble
// store, as the server uses it.
func TestLocalConformancePebble(t *testing.T) {
	kmstest.TestProvider(t, func(t *testing.T) kms.Provider {
		md := openPebble(t, t.TempDir())
		t.Cleanup(func() { md.Close() })
		l, err := kms.NewLocal(newMaster(t), kmsmeta.New(md), []byte("K"))
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// TestLocalConformanceMem runs the suite over the in-memory store, with
// neighbours under other prefixes that the provider must ignore.
func TestLocalConformanceMem(t *testing.T) {
	kmstest.TestProvider(t, func(t *testing.T) kms.Provider {
		st := kms.NewMemStore()
		st.Set([]byte("J"), []byte("before"))
		st.Set([]byte("K"), []byte("exactly the prefix? no: one byte longer below"))
		st.Set([]byte("L\x00x"), []byte("after"))
		l, err := kms.NewLocal(newMaster(t), st, []byte("K\x00kms/"))
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// TestNoPlaintextKeysInStore creates, rotates and uses keys over pebble,
// then searches every stored key and value, and every file pebble wrote,
// for the plaintext KEKs and the master key.
func TestNoPlaintextKeysInStore(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	md := openPebble(t, dir)
	master := newMaster(t)
	l, err := kms.NewLocal(master, kmsmeta.New(md), []byte("K"))
	if err != nil {
		t.Fatal(err)
	}
	var sealed []kms.Sealed
	for i := range 5 {
		name := fmt.Sprint("key-", i)
		if _, err := l.CreateKey(ctx, "tenant", name); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Rotate(ctx, "tenant", name); err != nil {
			t.Fatal(err)
		}
		s, err := l.Seal(ctx, "tenant", name, []byte("dek"), nil)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	keks := kms.CachedKEKs(l)
	if len(keks) != 10 {
		t.Fatalf("cached %d KEKs, want 10", len(keks))
	}
	secrets := append([][]byte{master}, keks...)
	n := 0
	err = kmsmeta.New(md).Scan([]byte{0}, []byte{0xFF}, func(k, v []byte) error {
		n++
		for _, s := range secrets {
			if bytes.Contains(k, s) || bytes.Contains(v, s) {
				return errors.New("plaintext key material found in the store")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1+5+10 {
		t.Fatalf("store holds %d records, want 16 (check, 5 keys, 10 versions)", n)
	}
	// Reopen: KEKs must come back from the store, sealed values still open.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := md.Close(); err != nil {
		t.Fatal(err)
	}
	scanFiles(t, dir, secrets)
	md = openPebble(t, dir)
	defer md.Close()
	l, err = kms.NewLocal(master, kmsmeta.New(md), []byte("K"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 2 { // first from the store, then from the cache
		for _, s := range sealed {
			if got, err := l.Unseal(ctx, s, nil); err != nil || string(got) != "dek" {
				t.Fatalf("Unseal(%v) after reopen = %q, %v", s, got, err)
			}
		}
	}
	// The wrong master key is refused up front.
	if _, err := kms.NewLocal(newMaster(t), kmsmeta.New(md), []byte("K")); !errors.Is(err, kms.ErrMasterKeyMismatch) {
		t.Fatalf("NewLocal with another master key = %v, want ErrMasterKeyMismatch", err)
	}
}

// scanFiles fails if any file under dir contains one of secrets.
func scanFiles(t *testing.T, dir string, secrets [][]byte) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(b, s) {
				return fmt.Errorf("plaintext key material found in %s", filepath.Base(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no files scanned")
	}
}

// TestDestroyRemovesRecords checks that crypto-shredding deletes every
// record of the key from the store.
func TestDestroyRemovesRecords(t *testing.T) {
	ctx := t.Context()
	st := kms.NewMemStore()
	l, err := kms.NewLocal(newMaster(t), st, []byte("K"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, name := range []string{"a", "b"} {
		if _, err := l.CreateKey(ctx, "t", name); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := l.Rotate(ctx, "t", name); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(st.All()); n != 1+2+8 {
		t.Fatalf("store holds %d records, want 11", n)
	}
	if err := l.DestroyVersion(ctx, "t", "a", 2); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.All()["Kt\x00a\x00\x00\x00\x00\x02"]; ok {
		t.Fatal("destroyed version record still stored")
	}
	cached := kms.CacheLen(l)
	if err := l.DestroyKey(ctx, "t", "a"); err != nil {
		t.Fatal(err)
	}
	if kms.CacheLen(l) != cached-3 {
		t.Errorf("cache holds %d KEKs after destroying 3, had %d", kms.CacheLen(l), cached)
	}
	for k := range st.All() {
		if strings.HasPrefix(k, "Kt\x00a") {
			t.Errorf("record %q survives DestroyKey", k)
		}
	}
	if n := len(st.All()); n != 1+1+4 {
		t.Fatalf("store holds %d records, want 6", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if kms.CacheLen(l) != 0 {
		t.Error("Close left cached KEKs")
	}
	if err := l.Close(); !errors.Is(err, kms.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestCorruptRecords checks that altered records are detected, never used.
func TestCorruptRecords(t *testing.T) {
	ctx := t.Context()
	st := kms.NewMemStore()
	master := newMaster(t)
	l, err := kms.NewLocal(master, st, []byte("K"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := l.CreateKey(ctx, "t", n); err != nil {
			t.Fatal(err)
		}
	}
	s, err := l.Seal(ctx, "t", "a", []byte("dek"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	all := st.All()
	recA, verA := all["Kt\x00a"], all["Kt\x00a\x00\x00\x00\x00\x01"]
	open := func() *kms.Local {
		l, err := kms.NewLocal(master, st, []byte("K"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}

	// A key record moved to another name fails its MAC.
	st.Set([]byte("Kt\x00b"), recA)
	if _, err := open().Key(ctx, "t", "b"); !errors.Is(err, kms.ErrCorrupt) {
		t.Errorf("Key with transplanted record = %v, want ErrCorrupt", err)
	}
	// A KEK version moved to another key fails its AAD.
	st.Set([]byte("Kt\x00b\x00\x00\x00\x00\x01"), verA)
	sb := s
	sb.Name = "b"
	if _, err := open().Unseal(ctx, sb, nil); !errors.Is(err, kms.ErrCorrupt) {
		t.Errorf("Unseal with transplanted KEK = %v, want ErrCorrupt", err)
	}
	// A flipped bit in a KEK version.
	bad := bytes.Clone(verA)
	bad[20] ^= 1
	st.Set([]byte("Kt\x00a\x00\x00\x00\x00\x01"), bad)
	if _, err := open().Unseal(ctx, s, nil); !errors.Is(err, kms.ErrCorrupt) {
		t.Errorf("Unseal with corrupt KEK = %v, want ErrCorrupt", err)
	}
	// A flipped bit in the key record.
	bad = bytes.Clone(recA)
	bad[3] ^= 1
	st.Set([]byte("Kt\x00a"), bad)
	if _, err := open().Seal(ctx, "t", "a", []byte("x"), nil); !errors.Is(err, kms.ErrCorrupt) {
		t.Errorf("Seal with corrupt key record = %v, want ErrCorrupt", err)
	}
}

func TestCacheBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1100 keys")
	}
	ctx := t.Context()
	l, err := kms.NewLocal(newMaster(t), kms.NewMemStore(), []byte("K"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var sealed []kms.Sealed
	for i := range 1100 {
		name := fmt.Sprint("k", i)
		if _, err := l.CreateKey(ctx, "t", name); err != nil {
			t.Fatal(err)
		}
		s, err := l.Seal(ctx, "t", name, []byte(name), nil)
		if err != nil {
			t.Fatal(err)
		}
		sealed = append(sealed, s)
	}
	if n := kms.CacheLen(l); n > 1024 {
		t.Fatalf("cache holds %d KEKs, bound is 1024", n)
	}
	for _, s := range sealed { // evicted KEKs reload from the store
		if got, err := l.Unseal(ctx, s, nil); err != nil || string(got) != s.Name {
			t.Fatalf("Unseal(%v) = %q, %v", s, got, err)
		}
	}
}

func TestNewLocalArgs(t *testing.T) {
	st := kms.NewMemStore()
	for _, tc := range []struct {
		master, prefix []byte
		st             kms.Store
	}{
		{make([]byte, 31), []byte("K"), st},
		{make([]byte, 33), []byte("K"), st},
		{make([]byte, 32), nil, st},
		{make([]byte, 32), []byte{0xFF}, st},
		{make([]byte, 32), []byte("K"), nil},
	} {
		if _, err := kms.NewLocal(tc.master, tc.st, tc.prefix); !errors.Is(err, kms.ErrInvalidInput) {
			t.Errorf("NewLocal(%d-byte master, prefix %q) = %v, want ErrInvalidInput", len(tc.master), tc.prefix, err)
		}
	}
}

func TestStringsHideSecrets(t *testing.T) {
	master := bytes.Repeat([]byte{0xAB}, 32)
	l, err := kms.NewLocal(master, kms.NewMemStore(), []byte("K"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.CreateKey(context.Background(), "t", "k"); err != nil {
		t.Fatal(err)
	}
	kek := kms.CachedKEKs(l)[0]
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		out := fmt.Sprintf(f, l)
		for _, s := range [][]byte{master, kek} {
			if strings.Contains(out, fmt.Sprintf("%x", s)) || strings.Contains(out, fmt.Sprint(s)) || strings.Contains(out, string(s)) {
				t.Errorf("Sprintf(%q, local) reveals key material: %s", f, out)
			}
		}
	}
	s := kms.Sealed{Tenant: "t", Name: "k", Version: 3, Ciphertext: bytes.Repeat([]byte{1}, 60)}
	if got, want := s.String(), "sealed(t/k v3, 60 bytes, 01010101…)"; got != want {
		t.Errorf("Sealed.String = %q, want %q", got, want)
	}
	info := kms.KeyInfo{Tenant: "t", Name: "testkey-1", Current: 3, Versions: []int{1, 3}}
	if got, want := info.String(), "t/testkey-1 v3 (versions 1,3)"; got != want {
		t.Errorf("KeyInfo.String = %q, want %q", got, want)
	}
}

func TestSealedBinary(t *testing.T) {
	s := kms.Sealed{Tenant: strings.Repeat("t", 128), Name: "testkey-1", Version: 1<<32 - 1, Ciphertext: []byte{1, 2, 3}}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got kms.Sealed
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.Tenant != s.Tenant || got.Name != s.Name || got.Version != s.Version || !bytes.Equal(got.Ciphertext, s.Ciphertext) {
		t.Fatalf("round trip = %v, want %v", got, s)
	}
	for i := range len(b) - 3 { // every truncation that cuts into the header
		if err := new(kms.Sealed).UnmarshalBinary(b[:i]); err == nil {
			t.Errorf("UnmarshalBinary of %d-byte prefix succeeded", i)
		}
	}
	for _, bad := range []kms.Sealed{{Tenant: "", Name: "k", Version: 1}, {Tenant: "t", Name: "k", Version: 0}, {Tenant: "t", Name: "a/b", Version: 1}} {
		if _, err := bad.MarshalBinary(); err == nil {
			t.Errorf("MarshalBinary(%v) succeeded", bad)
		}
	}
}
