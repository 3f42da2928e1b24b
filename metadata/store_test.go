package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// testStore is the conformance suite every Store implementation must pass.
// open returns a fresh, empty store; the suite closes it.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	t.Run("GetSetDelete", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		if _, err := s.Get([]byte("a")); err != ErrNotFound {
			t.Fatalf("Get missing: err = %v, want ErrNotFound unwrapped", err)
		}
		mustApply(t, s, set("a", "1"), set("b", ""))
		mustGet(t, s, "a", "1")
		v := mustGet(t, s, "b", "")
		if v == nil {
			t.Errorf("Get of empty value returned nil, want non-nil empty slice")
		}
		mustApply(t, s, set("a", "2"))
		mustGet(t, s, "a", "2")
		mustApply(t, s, del("a"), del("never-there"))
		if _, err := s.Get([]byte("a")); err != ErrNotFound {
			t.Fatalf("Get deleted: err = %v, want ErrNotFound", err)
		}
		if err := s.Apply(NewBatch()); err != nil {
			t.Fatalf("empty Apply: %v", err)
		}
	})

	t.Run("BatchOrderAndAtomicity", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		mustApply(t, s, set("k", "1"), del("k"), set("k", "3"), set("j", "x"), del("j"))
		mustGet(t, s, "k", "3")
		if _, err := s.Get([]byte("j")); err != ErrNotFound {
			t.Fatalf("Get j: %v, want ErrNotFound", err)
		}
		// A reader's snapshot never sees half a batch.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v := fmt.Sprint(i)
				if err := s.Apply(batchOf(set("pair/a", v), set("pair/b", v))); err != nil {
					t.Error(err)
					return
				}
			}
		})
		for range 200 {
			it, err := s.NewIter([]byte("pair/"), []byte("pair0"))
			if err != nil {
				t.Fatal(err)
			}
			var vals []string
			for ok := it.First(); ok; ok = it.Next() {
				vals = append(vals, string(it.Value()))
			}
			if err := it.Close(); err != nil {
				t.Fatal(err)
			}
			if len(vals) == 2 && vals[0] != vals[1] || len(vals) == 1 {
				t.Fatalf("torn batch observed: %q", vals)
			}
		}
		close(stop)
		wg.Wait()
	})

	t.Run("Iterator", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		mustApply(t, s, set("a", "va"), set("b", "vb"), set("c", "vc"), set("d", "vd"), set("\xfe", "top"))
		if err := s.Apply(batchOf(set("\xffinternal", "x"))); err != nil && !errors.Is(err, ErrReservedKey) {
			t.Fatalf("Apply reserved: %v", err)
		}
		check := func(lower, upper string, nilLower, nilUpper bool, want string) {
			t.Helper()
			var lo, up []byte
			if !nilLower {
				lo = []byte(lower)
			}
			if !nilUpper {
				up = []byte(upper)
			}
			if got := scan(t, s, lo, up); got != want {
				t.Errorf("scan [%q,%q) = %q, want %q", lo, up, got, want)
			}
		}
		check("", "", true, true, "a b c d \xfe")
		check("b", "d", false, false, "b c")
		check("bb", "", false, true, "c d \xfe")
		check("", "c", true, false, "a b")
		check("x", "y", false, false, "")

		it, err := s.NewIter([]byte("b"), []byte("d"))
		if err != nil {
			t.Fatal(err)
		}
		if it.Valid() {
			t.Errorf("new iterator is valid before positioning")
		}
		if !it.SeekGE([]byte("a")) || string(it.Key()) != "b" {
			t.Errorf("SeekGE below lower bound did not land on lower bound")
		}
		if !it.SeekGE([]byte("bz")) || string(it.Key()) != "c" || string(it.Value()) != "vc" {
			t.Errorf("SeekGE(bz) wrong position")
		}
		if it.Next() || it.Valid() {
			t.Errorf("Next past upper bound is valid")
		}
		if it.Next() {
			t.Errorf("Next on exhausted iterator returned true")
		}
		if it.SeekGE([]byte("d")) {
			t.Errorf("SeekGE(upper) returned true")
		}
		if !it.First() || string(it.Key()) != "b" {
			t.Errorf("First after exhaustion did not reposition")
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		if err := it.Close(); err != nil {
			t.Errorf("second iterator Close: %v", err)
		}
	})

	t.Run("ValuesCopied", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		k, v := []byte("key"), []byte("value")
		b := NewBatch()
		b.Set(k, v)
		k[0], v[0] = 'X', 'X'
		if b.Len() != 1 {
			t.Fatalf("Len = %d", b.Len())
		}
		mustApply(t, s, b)
		got := mustGet(t, s, "key", "value")
		got[0] = 'Y'
		mustGet(t, s, "key", "value")
		mustApply(t, s, b) // a batch may be applied again
		mustGet(t, s, "key", "value")
	})

	t.Run("ConcurrentApply", func(t *testing.T) {
		s := open(t)
		defer s.Close()
		const workers, each = 16, 40
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					b := NewBatch()
					b.Set(fmt.Appendf(nil, "w%02d/%03d", w, i), bytes.Repeat([]byte{byte(i)}, 512))
					if err := s.Apply(b); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		n := 0
		it, err := s.NewIter(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		for ok := it.First(); ok; ok = it.Next() {
			n++
		}
		if err := it.Close(); err != nil {
			t.Fatal(err)
		}
		if n != workers*each {
			t.Fatalf("found %d keys, want %d", n, workers*each)
		}
	})

	t.Run("Closed", func(t *testing.T) {
		s := open(t)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get([]byte("a")); !errors.Is(err, ErrClosed) {
			t.Errorf("Get after Close: %v", err)
		}
		if err := s.Apply(batchOf(set("a", "b"))); !errors.Is(err, ErrClosed) {
			t.Errorf("Apply after Close: %v", err)
		}
		if _, err := s.NewIter(nil, nil); !errors.Is(err, ErrClosed) {
			t.Errorf("NewIter after Close: %v", err)
		}
		if err := s.Close(); !errors.Is(err, ErrClosed) {
			t.Errorf("second Close: %v", err)
		}
	})
}

func TestPebbleConformance(t *testing.T) {
	testStore(t, func(t *testing.T) Store { return openPebble(t, t.TempDir()) })
}

func TestReplicatedConformance(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		r, _ := openReplicated(t, 4, 3)
		return r
	})
}

// Helpers shared by the tests of this package.

type op func(b *Batch)

func set(k, v string) op { return func(b *Batch) { b.Set([]byte(k), []byte(v)) } }
func del(k string) op    { return func(b *Batch) { b.Delete([]byte(k)) } }

func batchOf(ops ...op) *Batch {
	b := NewBatch()
	for _, o := range ops {
		o(b)
	}
	return b
}

// mustApply applies a batch given either as ops or as one *Batch.
func mustApply(t testing.TB, s Store, ops ...any) {
	t.Helper()
	b := NewBatch()
	for _, o := range ops {
		switch o := o.(type) {
		case op:
			o(b)
		case *Batch:
			b = o
		}
	}
	if err := s.Apply(b); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func mustGet(t testing.TB, s Store, k, want string) []byte {
	t.Helper()
	v, err := s.Get([]byte(k))
	if err != nil {
		t.Fatalf("Get(%q): %v", k, err)
	}
	if string(v) != want {
		t.Fatalf("Get(%q) = %q, want %q", k, v, want)
	}
	return v
}

// scan returns the keys in [lower, upper) joined by spaces.
func scan(t testing.TB, s Store, lower, upper []byte) string {
	t.Helper()
	it, err := s.NewIter(lower, upper)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for ok := it.First(); ok; ok = it.Next() {
		keys = append(keys, string(it.Key()))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return joinKeys(keys)
}

func joinKeys(keys []string) string {
	var buf bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(' ')
		}
		buf.WriteString(k)
	}
	return buf.String()
}

func openPebble(t testing.TB, dir string) *Pebble {
	t.Helper()
	p, err := OpenPebble(dir, PebbleOptions{CacheSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
