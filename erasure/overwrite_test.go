package erasure

import (
	"bytes"
	"math/rand"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestDeleteOverwrite checks, through FaultFS, that every shard file is
// rewritten with other bytes and fsynced before it is unlinked.
func TestDeleteOverwrite(t *testing.T) {
	env := newEnv(t, 4)
	s := env.open(t, Options{Parity: 2})
	rng := rand.New(rand.NewSource(1))
	const id = "0123456789abcdef0123456789abcdef"
	put(t, s, id, randBytes(rng, 300<<10), rng)
	orig := make([][]byte, 4)
	var size int64
	for i := range 4 {
		b, err := os.ReadFile(env.shardPath(i, id))
		if err != nil {
			t.Fatal(err)
		}
		orig[i] = b
		size += int64(len(b))
	}
	var mu sync.Mutex
	synced := map[int]bool{}
	atRemove := map[int][]byte{}
	for i, f := range env.faults {
		f.SetInject(func(op, name string) error {
			if !strings.HasSuffix(name, id) {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			switch op {
			case OpSync:
				synced[i] = true
			case OpRemove:
				if b, err := os.ReadFile(env.shardPath(i, id)); err == nil {
					if !synced[i] {
						t.Errorf("drive %d: shard removed before its overwrite was fsynced", i)
					}
					atRemove[i] = b
				}
			}
			return nil
		})
	}
	n, err := s.DeleteOverwrite(id)
	if err != nil {
		t.Fatal(err)
	}
	if n != size {
		t.Errorf("overwritten %d bytes, want %d", n, size)
	}
	for i := range 4 {
		b, ok := atRemove[i]
		if !ok {
			t.Fatalf("drive %d: shard file not removed", i)
		}
		if len(b) != len(orig[i]) {
			t.Errorf("drive %d: overwritten length %d, want %d", i, len(b), len(orig[i]))
		}
		// Random bytes: no 64-byte window of the original survives.
		for off := 0; off+64 <= len(orig[i]); off += 4096 {
			if bytes.Contains(b, orig[i][off:off+64]) {
				t.Fatalf("drive %d: original bytes at %d survive the overwrite", i, off)
			}
		}
		if _, err := os.Stat(env.shardPath(i, id)); !os.IsNotExist(err) {
			t.Errorf("drive %d: shard still present: %v", i, err)
		}
	}
}

// TestDeleteOverwriteFailureKeepsFile checks that a failed overwrite never
// unlinks the file it could not overwrite.
func TestDeleteOverwriteFailureKeepsFile(t *testing.T) {
	env := newEnv(t, 4)
	s := env.open(t, Options{Parity: 2})
	rng := rand.New(rand.NewSource(2))
	const id = "fedcba9876543210fedcba9876543210"
	put(t, s, id, randBytes(rng, 100<<10), rng)
	env.faults[0].SetSyncError(os.ErrPermission)
	if _, err := s.DeleteOverwrite(id); err != nil {
		t.Fatal(err) // 3 of 4 drives are a write quorum
	}
	if _, err := os.Stat(env.shardPath(0, id)); err != nil {
		t.Errorf("drive 0: file unlinked although its overwrite was not fsynced: %v", err)
	}
}
