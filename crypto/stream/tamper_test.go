package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// pkg returns the stored bytes of package i of a stream of size bytes.
func pkg(stored []byte, i int) []byte {
	const sp = PackageSize + TagSize
	return stored[i*sp : min(len(stored), (i+1)*sp)]
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestTamper damages a stream in every way the format must catch and checks that the read
// fails with ErrAuth and that every byte it returned before failing is genuine plaintext of
// a package before the damage.
func TestTamper(t *testing.T) {
	const size = 3*PackageSize + 1000 // packages 0..2 full, 3 final (1000 bytes)
	rnd := newDetRand(3)
	for _, s := range suites {
		p := testParams(s)
		pt := rnd.bytes(size)
		stored := seal(t, p, pt)
		otherBase := p
		otherBase.NonceBase[7] ^= 1
		otherKey := p
		otherKey.Key = seq(0x40, KeySize)
		fromBase := seal(t, otherBase, pt)
		fromKey := seal(t, otherKey, pt)
		flip := func(at int) []byte { b := bytes.Clone(stored); b[at] ^= 0x01; return b }
		const sp = PackageSize + TagSize

		cases := []struct {
			name   string
			stored []byte
			p      Params
			size   int64
			safe   int64 // plaintext bytes that may be returned before the failure
		}{
			{"flip first byte", flip(0), p, size, 0},
			{"flip ciphertext pkg 1", flip(sp + 100), p, size, PackageSize},
			{"flip tag pkg 2", flip(3*sp - 1), p, size, 2 * PackageSize},
			{"flip final pkg", flip(len(stored) - 20), p, size, 3 * PackageSize},
			{"swap 0 and 1", cat(pkg(stored, 1), pkg(stored, 0), pkg(stored, 2), pkg(stored, 3)), p, size, 0},
			{"swap 1 and 2", cat(pkg(stored, 0), pkg(stored, 2), pkg(stored, 1), pkg(stored, 3)), p, size, PackageSize},
			{"duplicate 0", cat(pkg(stored, 0), pkg(stored, 0), pkg(stored, 2), pkg(stored, 3)), p, size, PackageSize},
			{"drop last", stored[:3*sp], p, size, 3 * PackageSize},
			{"drop last, size shrunk to match", stored[:3*sp], p, 3 * PackageSize, 2 * PackageSize},
			{"drop middle", cat(pkg(stored, 0), pkg(stored, 2), pkg(stored, 3)), p, size, PackageSize},
			{"cut mid-package", stored[:2*sp+500], p, size, 2 * PackageSize},
			{"cut in final tag", stored[:len(stored)-1], p, size, 3 * PackageSize},
			{"append a package", cat(stored, pkg(stored, 0)), p, size, size},
			{"append one byte", cat(stored, []byte{0}), p, size, size},
			{"transplant other NonceBase", cat(pkg(stored, 0), pkg(fromBase, 1), pkg(stored, 2), pkg(stored, 3)), p, size, PackageSize},
			{"transplant other key", cat(pkg(stored, 0), pkg(stored, 1), pkg(fromKey, 2), pkg(stored, 3)), p, size, 2 * PackageSize},
			{"transplant final", cat(pkg(stored, 0), pkg(stored, 1), pkg(stored, 2), pkg(fromBase, 3)), p, size, 3 * PackageSize},
			{"wrong key", stored, otherKey, size, 0},
			{"wrong NonceBase", stored, otherBase, size, 0},
			{"size one less", stored[:len(stored)-1], p, size - 1, 3 * PackageSize},
			{"size one more", cat(stored, []byte{0}), p, size + 1, 3 * PackageSize},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/%s", s, c.name), func(t *testing.T) {
				for _, m := range readModes {
					r, err := m.reader(c.stored, c.p, 0, c.size, c.size)
					if err != nil {
						t.Fatal(err)
					}
					got, err := m.read(r)
					if !errors.Is(err, ErrAuth) {
						t.Fatalf("%s: err = %v, want ErrAuth", m.name, err)
					}
					if int64(len(got)) > c.safe || !bytes.Equal(got, pt[:len(got)]) {
						t.Fatalf("%s: released %d bytes (at most %d genuine allowed), genuine %v", m.name, len(got), c.safe, bytes.Equal(got, pt[:len(got)]))
					}
				}
			})
		}
		// A stream cut by an attacker that also knows the size must not pass either: the
		// last remaining package was not sealed as final.
		for n := 1; n <= 3; n++ {
			if _, err := open(p, stored[:n*sp], 0, int64(n*PackageSize), int64(n*PackageSize)); !errors.Is(err, ErrAuth) {
				t.Errorf("%v: first %d packages as a whole stream: %v, want ErrAuth", s, n, err)
			}
		}
		// Ranged reads that include a damaged package fail; ranges that avoid it succeed.
		bad := flip(sp + 7)
		if _, err := open(p, bad, PackageSize+5, 10, size); !errors.Is(err, ErrAuth) {
			t.Errorf("%v: range over damaged package: %v", s, err)
		}
		if got, err := open(p, bad, 2*PackageSize, 100, size); err != nil || !bytes.Equal(got, pt[2*PackageSize:2*PackageSize+100]) {
			t.Errorf("%v: range beside damaged package: %v", s, err)
		}
		if _, err := open(p, bad, PackageSize+5, 0, size); !errors.Is(err, ErrAuth) {
			t.Errorf("%v: zero-length range in damaged package: %v", s, err)
		}
	}
}

func TestTamperEmpty(t *testing.T) {
	p := testParams(SuiteAES256GCM)
	empty := seal(t, p, nil)
	other := p
	other.NonceBase[0] ^= 0x80
	for _, c := range []struct {
		name   string
		stored []byte
		size   int64
	}{
		{"missing", nil, 0},
		{"other stream's empty package", seal(t, other, nil), 0},
		{"flipped tag", func() []byte { b := bytes.Clone(empty); b[3] ^= 4; return b }(), 0},
		{"claimed non-empty", cat(empty, []byte{0}), 1},
		{"one-byte stream claimed empty", seal(t, p, []byte{0})[:TagSize], 0},
	} {
		r, err := NewReader(bytes.NewReader(c.stored), p, 0, c.size, c.size)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(r); !errors.Is(err, ErrAuth) || len(got) != 0 {
			t.Errorf("%s: %d bytes, err %v, want ErrAuth", c.name, len(got), err)
		}
	}
}
