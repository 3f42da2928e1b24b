package stream

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzReader seeds")

// fuzzSeeds are valid streams (key and NonceBase of the known-answer tests) plus damaged ones.
func fuzzSeeds(t testing.TB) map[string][]byte {
	p := testParams(SuiteAES256GCM)
	two := seal(t, p, testPlaintext(PackageSize+3))
	bad := bytes.Clone(two)
	bad[5] ^= 1
	return map[string][]byte{
		"empty":         seal(t, p, nil),
		"one":           seal(t, p, testPlaintext(1)),
		"small":         seal(t, p, testPlaintext(100)),
		"two-packages":  two,
		"flipped":       bad,
		"truncated":     two[:PackageSize+TagSize],
		"nothing":       {},
		"garbage-short": []byte("not a stream at all"),
	}
}

// sizeFor returns the plaintext size whose stored size is n, or a nearby size when none has.
func sizeFor(n int64) int64 {
	k := max(1, (n+PackageSize+TagSize-1)/(PackageSize+TagSize))
	return max(0, n-k*TagSize)
}

// FuzzReader feeds arbitrary stored bytes to a Reader under the known-answer key: it must
// never panic, and either fail with ErrAuth or return plaintext that seals back to exactly
// the stored bytes (the format has one encoding per plaintext). A ranged read of the same
// bytes must agree.
func FuzzReader(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b, uint32(0), uint32(1<<31))
	}
	p := testParams(SuiteAES256GCM)
	f.Fuzz(func(t *testing.T, stored []byte, off, length uint32) {
		size := sizeFor(int64(len(stored)))
		r, err := NewReader(bytes.NewReader(stored), p, 0, size, size)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := io.ReadAll(r)
		authentic := err == nil
		if err != nil {
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("err %v, want ErrAuth", err)
			}
		} else if !bytes.Equal(seal(t, p, pt), stored) {
			t.Fatal("accepted stream does not seal back to its stored bytes")
		}
		o := int64(off) % (size + 1)
		l := int64(length) % (size - o + 1)
		so, sl := StoredRange(o, l, size)
		if so+sl > int64(len(stored)) {
			return
		}
		for _, m := range readModes {
			r, err = m.reader(stored[so:so+sl], p, o, l, size)
			if err != nil {
				t.Fatal(err)
			}
			got, rerr := m.read(r)
			switch {
			case rerr != nil && !errors.Is(rerr, ErrAuth):
				t.Fatalf("ranged, %s: err %v, want ErrAuth", m.name, rerr)
			case authentic && rerr != nil:
				t.Fatalf("ranged read (%s) failed on an authentic stream: %v", m.name, rerr)
			case authentic && !bytes.Equal(got, pt[o:o+l]):
				t.Fatalf("ranged read (%s) disagrees with full read", m.name)
			}
		}
	})
}

// TestFuzzSeeds checks that the checked-in seed corpus exists and matches fuzzSeeds;
// go test -run TestFuzzSeeds -update-seeds rewrites it.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	for name, b := range fuzzSeeds(t) {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint32(0)\nuint32(%d)\n", b, uint32(1<<31))
		path := filepath.Join(dir, name)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("seed %s missing or stale (err %v); run go test -run TestFuzzSeeds -update-seeds", path, err)
		}
	}
}
