package kms_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cofferstore/coffer/crypto/kms"
)

func TestLoadMasterKeyEnvAndFile(t *testing.T) {
	key := newMaster(t)
	b64 := base64.StdEncoding.EncodeToString(key)
	dir := t.TempDir()
	var warnings []string
	warn := func(s string) { warnings = append(warnings, s) }

	got, err := kms.LoadMasterKey(" "+b64+"\n", "/nonexistent", dir, warn)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("from env: %v", err)
	}
	file := filepath.Join(dir, "mk")
	if err := os.WriteFile(file, []byte(b64+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = kms.LoadMasterKey("", file, dir, warn)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("from file: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings for configured keys: %q", warnings)
	}
	if _, err := os.Stat(filepath.Join(dir, kms.MasterKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a configured key must not generate master.key")
	}

	// Malformed values are errors that do not quote the value, and never
	// fall through to another source.
	short := base64.StdEncoding.EncodeToString(key[:31])
	long := base64.StdEncoding.EncodeToString(append(bytes.Clone(key), 1))
	for _, bad := range []string{short, long, b64[:40], "!" + b64[1:], "not base64 at all"} {
		_, err := kms.LoadMasterKey(bad, "", dir, warn)
		if !errors.Is(err, kms.ErrInvalidInput) {
			t.Errorf("env %q: %v, want ErrInvalidInput", bad, err)
		} else if strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), bad[:8]) {
			t.Errorf("error quotes the key: %v", err)
		}
		if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := kms.LoadMasterKey("", file, dir, warn); !errors.Is(err, kms.ErrInvalidInput) {
			t.Errorf("file %q: %v, want ErrInvalidInput", bad, err)
		}
	}
	if _, err := kms.LoadMasterKey("", filepath.Join(dir, "missing"), dir, warn); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadMasterKeyGenerated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var warnings []string
	warn := func(s string) { warnings = append(warnings, s) }
	k1, err := kms.LoadMasterKey("", "", dir, warn)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != 32 || bytes.Equal(k1, make([]byte, 32)) {
		t.Fatalf("generated key %d bytes or zero", len(k1))
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "production must keep the master key elsewhere") {
		t.Fatalf("warnings = %q", warnings)
	}
	path := filepath.Join(dir, kms.MasterKeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("master.key mode %v, want 0600", fi.Mode().Perm())
	}
	text, _ := os.ReadFile(path)
	if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text))); err != nil || !bytes.Equal(dec, k1) {
		t.Fatalf("master.key does not hold the key as base64: %v", err)
	}
	for _, w := range warnings {
		if strings.Contains(w, strings.TrimSpace(string(text))) {
			t.Fatal("warning contains the key")
		}
	}
	k2, err := kms.LoadMasterKey("", "", dir, warn)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second start: different key or %v", err)
	}
	if len(warnings) != 2 {
		t.Errorf("later starts must warn too: %q", warnings)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only master.key", len(entries))
	}
	// A truncated key file is an error, never replaced.
	if err := os.WriteFile(path, text[:10], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kms.LoadMasterKey("", "", dir, nil); !errors.Is(err, kms.ErrInvalidInput) {
		t.Fatalf("truncated master.key: %v", err)
	}
	if _, err := kms.LoadMasterKey("", "", "", nil); !errors.Is(err, kms.ErrInvalidInput) {
		t.Fatalf("no source at all: %v", err)
	}
}

func TestLoadMasterKeyConcurrentFirstStart(t *testing.T) {
	dir := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := kms.LoadMasterKey("", "", dir, nil)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent first starts generated different keys")
		}
	}
}

func TestZero(t *testing.T) {
	b := []byte{1, 2, 3}
	kms.Zero(b)
	kms.Zero(nil)
	if !bytes.Equal(b, []byte{0, 0, 0}) {
		t.Fatal("Zero left bytes")
	}
}
