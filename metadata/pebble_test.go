package metadata

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/vfs"
)

// TestPebbleCrashKeepsAcknowledged simulates a power loss: everything not
// fsync'd is discarded, and every batch whose Apply returned nil must
// survive, atomically.
func TestPebbleCrashKeepsAcknowledged(t *testing.T) {
	fs := vfs.NewStrictMem()
	p, err := OpenPebble("db", PebbleOptions{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				b := NewBatch()
				b.Set(fmt.Appendf(nil, "w%d/%03d/a", w, i), []byte("x"))
				b.Set(fmt.Appendf(nil, "w%d/%03d/b", w, i), []byte("y"))
				if err := p.Apply(b); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Unsynced writes may be lost, but never half of one batch.
	if err := p.applyNoSync(batchOf(set("u/a", "1"), set("u/b", "1"))); err != nil {
		t.Fatal(err)
	}

	fs.SetIgnoreSyncs(true) // nothing written from here on reaches "disk"
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	fs.ResetToSyncedState()
	fs.SetIgnoreSyncs(false)

	p, err = OpenPebble("db", PebbleOptions{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for w := range 8 {
		for i := range 50 {
			mustGet(t, p, fmt.Sprintf("w%d/%03d/a", w, i), "x")
			mustGet(t, p, fmt.Sprintf("w%d/%03d/b", w, i), "y")
		}
	}
	_, errA := p.Get([]byte("u/a"))
	_, errB := p.Get([]byte("u/b"))
	if (errA == nil) != (errB == nil) {
		t.Fatalf("unsynced batch torn by crash: %v / %v", errA, errB)
	}
}

// TestPebbleReopen checks that data survives an orderly close and reopen.
func TestPebbleReopen(t *testing.T) {
	dir := t.TempDir()
	p := openPebble(t, dir)
	mustApply(t, p, set("a", "1"), set("b", "2"))
	mustApply(t, p, del("a"))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = openPebble(t, dir)
	defer p.Close()
	mustGet(t, p, "b", "2")
	if _, err := p.Get([]byte("a")); err != ErrNotFound {
		t.Fatalf("deleted key: %v", err)
	}
}

// TestPebbleReservedKeys checks that Pebble stores reserved keys for layered
// stores but hides them from iterators with a nil upper bound.
func TestPebbleReservedKeys(t *testing.T) {
	p := openPebble(t, t.TempDir())
	defer p.Close()
	mustApply(t, p, set("a", "1"), set("\xffx", "internal"))
	mustGet(t, p, "\xffx", "internal")
	if got := scan(t, p, nil, nil); got != "a" {
		t.Errorf("nil-bounded scan = %q, want only user keys", got)
	}
	if got := scan(t, p, reservedStart, reservedEnd); got != "\xffx" {
		t.Errorf("explicit reserved scan = %q", got)
	}
}

// TestPebbleCloseWaitsForIterators checks that Close waits for open
// iterators instead of tearing the database down under them.
func TestPebbleCloseWaitsForIterators(t *testing.T) {
	p := openPebble(t, t.TempDir())
	mustApply(t, p, set("a", "1"))
	it, err := p.NewIter(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- p.Close() }()
	if !it.First() || string(it.Value()) != "1" {
		t.Fatal("iterator broken while Close waits")
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get([]byte("a")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
}
