package metadata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var errInjected = errors.New("injected fault")

// faultyStore wraps a Store and fails its operations on demand, as a
// failing drive would.
type faultyStore struct {
	Store
	failWrites atomic.Bool
	failReads  atomic.Bool
	iterFailAt atomic.Int32 // >0: iterators fail at that positioning call
}

func (f *faultyStore) Apply(b *Batch) error {
	if f.failWrites.Load() {
		return errInjected
	}
	return f.Store.Apply(b)
}

func (f *faultyStore) Get(k []byte) ([]byte, error) {
	if f.failReads.Load() {
		return nil, errInjected
	}
	return f.Store.Get(k)
}

func (f *faultyStore) NewIter(lower, upper []byte) (Iterator, error) {
	if f.failReads.Load() {
		return nil, errInjected
	}
	it, err := f.Store.NewIter(lower, upper)
	if err != nil {
		return nil, err
	}
	return &faultyIter{Iterator: it, failAt: int(f.iterFailAt.Load())}, nil
}

// faultyIter fails at its failAt-th positioning call, if failAt > 0.
type faultyIter struct {
	Iterator
	failAt, calls int
	err           error
}

func (i *faultyIter) step(f func() bool) bool {
	i.calls++
	if i.failAt > 0 && i.calls >= i.failAt {
		i.err = errInjected
		return false
	}
	return f()
}

func (i *faultyIter) First() bool { return i.step(i.Iterator.First) }
func (i *faultyIter) Next() bool  { return i.step(i.Iterator.Next) }
func (i *faultyIter) SeekGE(k []byte) bool {
	return i.step(func() bool { return i.Iterator.SeekGE(k) })
}
func (i *faultyIter) Valid() bool  { return i.err == nil && i.Iterator.Valid() }
func (i *faultyIter) Error() error { return i.err }
func (i *faultyIter) Close() error { return errors.Join(i.err, i.Iterator.Close()) }

// replicaSet is a set of pebble replica directories for one test.
type replicaSet struct {
	dirs []string
}

func newReplicaSet(t *testing.T, n int) *replicaSet {
	base := t.TempDir()
	rs := &replicaSet{}
	for i := range n {
		rs.dirs = append(rs.dirs, filepath.Join(base, fmt.Sprintf("drive%d", i)))
	}
	return rs
}

// open opens every replica (wrapped in a faultyStore) and a Replicated over
// them; fault can arm faults before NewReplicated runs.
func (rs *replicaSet) open(t *testing.T, quorum int, fault func(i int, f *faultyStore)) (*Replicated, []*faultyStore, error) {
	t.Helper()
	var fs []*faultyStore
	var stores []Store
	for i, d := range rs.dirs {
		f := &faultyStore{Store: openPebble(t, d)}
		if fault != nil {
			fault(i, f)
		}
		fs = append(fs, f)
		stores = append(stores, f)
	}
	r, err := NewReplicated(stores, quorum)
	if err != nil {
		for _, s := range stores {
			s.Close()
		}
		return nil, nil, err
	}
	t.Cleanup(func() { r.Close() })
	return r, fs, nil
}

func openReplicated(t *testing.T, n, quorum int) (*Replicated, []*faultyStore) {
	t.Helper()
	r, fs, err := newReplicaSet(t, n).open(t, quorum, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, fs
}

// dump returns every key and value of s, reserved ones included.
func dump(t *testing.T, s Store) []string {
	t.Helper()
	it, err := s.NewIter(nil, reservedEnd)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for ok := it.First(); ok; ok = it.Next() {
		out = append(out, fmt.Sprintf("%q=%q", it.Key(), it.Value()))
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertIdentical checks that all replicas hold exactly the same keys and
// values, sequence numbers included.
func assertIdentical(t *testing.T, fs []*faultyStore) {
	t.Helper()
	want := dump(t, fs[0].Store)
	for i := 1; i < len(fs); i++ {
		if got := dump(t, fs[i].Store); !slices.Equal(got, want) {
			t.Fatalf("replica %d differs from replica 0:\n%d keys vs %d keys", i, len(got), len(want))
		}
	}
}

func TestNewReplicatedQuorumValidation(t *testing.T) {
	for _, q := range []int{0, 2, 5} {
		if _, _, err := newReplicaSet(t, 4).open(t, q, nil); err == nil {
			t.Errorf("quorum %d of 4 accepted", q)
		}
	}
}

func TestReplicatedSurvivesLosses(t *testing.T) {
	r, fs := openReplicated(t, 5, 3) // survives 2 lost replicas for writes
	mustApply(t, r, set("k0", "v0"))

	fs[1].failWrites.Store(true)
	fs[3].failWrites.Store(true)
	mustApply(t, r, set("k1", "v1"))
	if got := r.Stale(); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("Stale = %v, want [1 3]", got)
	}
	fs[0].failReads.Store(true)
	mustGet(t, r, "k1", "v1") // served by replica 2
	if got := r.Stale(); !slices.Equal(got, []int{0, 1, 3}) {
		t.Fatalf("Stale = %v, want [0 1 3]", got)
	}
	if err := r.Apply(batchOf(set("k2", "v2"))); !errors.Is(err, ErrWriteQuorum) {
		t.Fatalf("Apply with 2 of 5 current: %v, want ErrWriteQuorum", err)
	}
	if got := scan(t, r, nil, nil); got != "k0 k1" {
		t.Fatalf("scan = %q", got)
	}
	r.SetOffline(2)
	mustGet(t, r, "k0", "v0") // one current replica is enough to read

	for _, f := range fs {
		f.failWrites.Store(false)
		f.failReads.Store(false)
	}
	for _, i := range []int{0, 1, 2, 3} {
		if err := r.Heal(i); err != nil {
			t.Fatalf("Heal(%d): %v", i, err)
		}
	}
	if got := r.Stale(); len(got) != 0 {
		t.Fatalf("Stale after heal = %v", got)
	}
	mustApply(t, r, set("k3", "v3"))
	assertIdentical(t, fs)
}

func TestReplicatedWriteQuorumLostInGroup(t *testing.T) {
	r, fs := openReplicated(t, 4, 3)
	fs[0].failWrites.Store(true)
	fs[2].failWrites.Store(true)
	err := r.Apply(batchOf(set("a", "1")))
	if !errors.Is(err, ErrWriteQuorum) || !errors.Is(err, errInjected) {
		t.Fatalf("Apply: %v, want ErrWriteQuorum wrapping the replica errors", err)
	}
	if got := r.Stale(); !slices.Equal(got, []int{0, 2}) {
		t.Fatalf("Stale = %v", got)
	}
}

func TestReplicatedReservedKeys(t *testing.T) {
	r, _ := openReplicated(t, 3, 2)
	mustApply(t, r, set("a", "1"))
	if err := r.Apply(batchOf(set("\xffx", "1"))); !errors.Is(err, ErrReservedKey) {
		t.Fatalf("Apply reserved: %v", err)
	}
	if _, err := r.Get(seqKey); err != ErrNotFound {
		t.Fatalf("Get(seqKey): %v", err)
	}
	if got := scan(t, r, nil, reservedEnd); got != "a" {
		t.Fatalf("scan with upper past reserved = %q", got)
	}
}

func TestReplicatedReopenHealsStale(t *testing.T) {
	rs := newReplicaSet(t, 4)
	r, fs, err := rs.open(t, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		mustApply(t, r, set(fmt.Sprintf("k%03d", i), "old"))
	}
	fs[3].failWrites.Store(true) // replica 3 misses the rest
	for i := range 100 {
		if i%3 == 0 {
			mustApply(t, r, del(fmt.Sprintf("k%03d", i)))
		} else {
			mustApply(t, r, set(fmt.Sprintf("k%03d", i), "new"), set(fmt.Sprintf("n%03d", i), "x"))
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// Replica 3's sequence number shows that it is behind.
	seqs := make([]seqNum, 4)
	for i, d := range rs.dirs {
		p := openPebble(t, d)
		if seqs[i], _, err = readMeta(p); err != nil {
			t.Fatal(err)
		}
		p.Close()
	}
	if !seqs[3].less(seqs[0]) || seqs[0] != seqs[1] || seqs[1] != seqs[2] {
		t.Fatalf("sequence numbers %v", seqs)
	}

	r, fs, err = rs.open(t, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Stale(); len(got) != 0 {
		t.Fatalf("Stale after reopen = %v", got)
	}
	assertIdentical(t, fs)
	mustGet(t, fs[3], "k001", "new")
	if _, err := fs[3].Get([]byte("k000")); err != ErrNotFound {
		t.Fatalf("deleted key on healed replica: %v", err)
	}
}

func TestReplicatedWipedReplicaResynced(t *testing.T) {
	rs := newReplicaSet(t, 4)
	r, _, err := rs.open(t, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 { // several heal batches of ~1 MiB
		mustApply(t, r, set(fmt.Sprintf("k%05d", i), string(make([]byte, 1000))))
	}
	r.Close()
	if err := os.RemoveAll(rs.dirs[2]); err != nil {
		t.Fatal(err)
	}
	r, fs, err := rs.open(t, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Stale(); len(got) != 0 {
		t.Fatalf("Stale = %v", got)
	}
	assertIdentical(t, fs)
	mustApply(t, r, set("after", "1"))
	assertIdentical(t, fs)
}

func TestReplicatedHealWhileWriting(t *testing.T) {
	r, fs := openReplicated(t, 4, 3)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var written atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprintf("w%d/%05d", w, i%500)
				if err := r.Apply(batchOf(set(k, fmt.Sprint(i)), del(fmt.Sprintf("w%d/%05d", w, (i+250)%500)))); err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		})
	}
	waitWrites := func(n int64) {
		for target := written.Load() + n; written.Load() < target && !t.Failed(); {
			time.Sleep(time.Millisecond)
		}
	}
	waitWrites(200)
	fs[1].failWrites.Store(true)
	waitWrites(200)
	fs[1].failWrites.Store(false)
	if got := r.Stale(); !slices.Equal(got, []int{1}) {
		t.Fatalf("Stale = %v", got)
	}
	if err := r.Heal(1); err != nil {
		t.Fatal(err)
	}
	waitWrites(200)
	stop.Store(true)
	wg.Wait()
	if got := r.Stale(); len(got) != 0 {
		t.Fatalf("Stale = %v", got)
	}
	assertIdentical(t, fs)
}

// TestReplicatedEpochFencing checks that writes that failed quorum, left on
// a minority replica, never override writes acknowledged later by another
// quorum, even when both carry the same group counter.
func TestReplicatedEpochFencing(t *testing.T) {
	rs := newReplicaSet(t, 3)
	r, fs, err := rs.open(t, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, r, set("x", "base"))
	fs[1].failWrites.Store(true)
	fs[2].failWrites.Store(true)
	if err := r.Apply(batchOf(set("x", "failed"))); !errors.Is(err, ErrWriteQuorum) {
		t.Fatalf("Apply: %v", err)
	}
	r.Close() // replica 0 now holds the failed write

	// Replica 0 is unreachable; the others form a write quorum.
	r, _, err = rs.open(t, 2, func(i int, f *faultyStore) { f.failReads.Store(i == 0) })
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, r, set("x", "acked"))
	r.Close()

	r, fs, err = rs.open(t, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, r, "x", "acked")
	assertIdentical(t, fs)
}

func TestReplicatedNoUsableReplica(t *testing.T) {
	_, _, err := newReplicaSet(t, 3).open(t, 2, func(_ int, f *faultyStore) { f.failReads.Store(true) })
	if !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("NewReplicated: %v, want ErrReadQuorum", err)
	}
}

func TestReplicatedIteratorFailover(t *testing.T) {
	r, fs := openReplicated(t, 3, 2)
	var want []string
	for i := range 100 {
		k := fmt.Sprintf("k%03d", i)
		want = append(want, k)
		mustApply(t, r, set(k, "v"))
	}
	fs[0].iterFailAt.Store(30)
	fs[1].iterFailAt.Store(60)
	if got := scan(t, r, nil, nil); got != joinKeys(want) {
		t.Fatalf("scan after failover = %q", got)
	}
	if got := r.Stale(); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("Stale = %v", got)
	}
	fs[2].iterFailAt.Store(5)
	it, err := r.NewIter(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
	}
	if err := it.Close(); !errors.Is(err, ErrReadQuorum) || !errors.Is(err, errInjected) {
		t.Fatalf("Close after losing every replica: %v", err)
	}
}
