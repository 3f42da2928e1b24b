package metadata

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
)

// filesHolding returns the files under dir whose bytes contain the middle of
// secret (all but its first and last 8 bytes). Pebble's tables are Snappy
// compressed: a secret that happens to begin or end like the bytes beside it
// (a leading 0x00 after a key's zero-filled trailer, 1 run in ≈ 256) gets
// its edge folded into a back-reference, while the random middle stays one
// literal run. Secrets must be longer than 16 bytes.
func filesHolding(t *testing.T, dir string, secret []byte) []string {
	t.Helper()
	if len(secret) <= 24 {
		t.Fatalf("secret of %d bytes: too short to scan for its middle", len(secret))
	}
	secret = secret[8 : len(secret)-8]
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

// TestReplicatedPurge purges every replica's files, and refuses to report
// success while a replica is offline (its files cannot be purged).
func TestReplicatedPurge(t *testing.T) {
	base := t.TempDir()
	var stores []Store
	var dirs []string
	for i := range 3 {
		dir := filepath.Join(base, string(rune('a'+i)))
		p, err := OpenPebble(dir, PebbleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stores, dirs = append(stores, p), append(dirs, dir)
	}
	r, err := NewReplicated(stores, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	secret := make([]byte, 48)
	rand.Read(secret)
	mustApply(t, r, set("Vk", string(secret)))
	b := NewBatch()
	b.Delete([]byte("Vk"))
	mustApply(t, r, b)
	for _, d := range dirs {
		if len(filesHolding(t, d, secret)) == 0 {
			t.Fatalf("control: %s does not hold the value before the purge", d)
		}
	}
	rng := []KeyRange{{Start: []byte("Vk"), End: []byte("Vk\x00")}}
	if err := r.Purge(rng); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if f := filesHolding(t, d, secret); len(f) > 0 {
			t.Errorf("%s still holds the deleted value in %v", d, f)
		}
	}
	r.SetOffline(2)
	if err := r.Purge(rng); err == nil {
		t.Fatal("Purge reported success with an offline replica")
	}
}
