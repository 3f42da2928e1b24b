package metadata

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
)

// filesHolding returns the files under dir whose bytes contain secret.
func filesHolding(t *testing.T, dir string, secret []byte) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, secret) {
			out = append(out, filepath.Base(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPebblePurgeErasesDeletedValues writes secrets into the WAL and into
// bottom-level tables, deletes or overwrites them, and checks that after
// Purge no file of the store holds them — while the scanner does find them
// before (so a scan that cannot see through pebble's files fails the test).
func TestPebblePurgeErasesDeletedValues(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenPebble(dir, PebbleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	secret := func() []byte {
		b := make([]byte, 48)
		rand.Read(b)
		return b
	}
	inTable, inWAL, overwritten, kept := secret(), secret(), secret(), secret()
	// inTable reaches a bottom-level table before it is deleted.
	if err := p.Apply(batchOf(set("Va/old", string(inTable)), set("Vb/keep", string(kept)))); err != nil {
		t.Fatal(err)
	}
	if err := p.Purge([]KeyRange{{Start: []byte("V"), End: []byte("W")}}); err != nil {
		t.Fatal(err)
	}
	if f := filesHolding(t, dir, inTable); len(f) == 0 {
		t.Fatal("scanner does not find a live value in the store's tables")
	}
	// Many writes, so the other secrets land in one of several WALs.
	for i := range 200 {
		if err := p.Apply(batchOf(set("X/"+string(rune('a'+i%26))+string(rune(i)), "filler"))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Apply(batchOf(set("Vc/gone", string(inWAL)), set("Vd/over", string(overwritten)))); err != nil {
		t.Fatal(err)
	}
	if f := filesHolding(t, dir, inWAL); len(f) == 0 {
		t.Fatal("scanner does not find a value in the WAL")
	}
	b := NewBatch()
	b.Delete([]byte("Va/old"))
	b.Delete([]byte("Vc/gone"))
	b.Set([]byte("Vd/over"), []byte("new value"))
	if err := p.Apply(b); err != nil {
		t.Fatal(err)
	}
	ranges := []KeyRange{
		{Start: []byte("Va/old"), End: []byte("Va/old\x00")},
		{Start: []byte("Vc/gone"), End: []byte("Vc/gone\x00")},
		{Start: []byte("Vd/over"), End: []byte("Vd/over\x00")},
	}
	if err := p.Purge(ranges); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string][]byte{"deleted from table": inTable, "deleted from WAL": inWAL, "overwritten": overwritten} {
		if f := filesHolding(t, dir, s); len(f) > 0 {
			t.Errorf("%s value still on disk in %v", name, f)
		}
	}
	if f := filesHolding(t, dir, kept); len(f) == 0 {
		t.Error("purge lost a live value")
	}
	if v, err := p.Get([]byte("Vb/keep")); err != nil || !bytes.Equal(v, kept) {
		t.Errorf("live value after purge: %v", err)
	}
}
