package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Replica states. Only current replicas receive writes and serve reads.
const (
	stateCurrent int32 = iota // has every committed group
	stateStale                // missed a write; must be healed
	stateOffline              // failed to open, read, or heal
)

// maxGroupBytes bounds the size of one commit group (the batches of several
// Apply calls merged into one replica write).
const maxGroupBytes = 4 << 20

// Replicated is a Store that keeps a full copy of the keyspace on each of
// several replica Stores (one per drive) and keeps serving while replicas
// fail.
//
// Protocol (see docs/on-disk-format.md):
//
//   - Every replica stores, under a reserved key, the sequence number
//     (epoch, counter) of the last commit group it applied, written in the
//     same atomic replica batch as the group itself. A replica's sequence
//     number therefore says exactly which writes it holds.
//   - Apply enqueues the batch; one caller at a time (the leader) merges the
//     queued batches into a commit group, assigns it the next sequence
//     number, and applies it to all current replicas in parallel. Each
//     replica fsyncs once per group, so concurrent callers share fsyncs
//     (group commit). A group succeeds when at least writeQuorum replicas
//     acknowledged it; replicas that failed are marked stale and are neither
//     written nor read until healed.
//   - Reads are served by the lowest-indexed current replica, failing over
//     to the next one on an I/O error (the failing replica is marked
//     offline).
//   - NewReplicated reads every replica's sequence number; the highest wins
//     and replicas behind it are re-synced from it before NewReplicated
//     returns.
//   - Each process lifetime writes under a fresh epoch, which it first
//     persists ("promises") on a write quorum of replicas before its first
//     write. With writeQuorum a strict majority, a later epoch always sees
//     every earlier one, so a replica holding writes that failed quorum can
//     never outrank replicas holding acknowledged writes of a later epoch.
//
// Loss of any n-writeQuorum replicas leaves the store fully writable; reads
// continue as long as one current replica remains. Apply returns
// ErrWriteQuorum otherwise; the effect of a failed Apply is undefined (it may
// or may not become visible), as with S3.
type Replicated struct {
	replicas []Store
	quorum   int
	state    []atomic.Int32
	gate     gate

	mu      sync.Mutex // guards queue and leading
	queue   []*commitReq
	leading bool

	// commitMu is held while a commit group or a heal runs; it guards the
	// fields below and orders groups so each replica sees them in sequence.
	commitMu sync.Mutex
	seq      seqNum // sequence number of the last group on current replicas
	epoch    uint64 // epoch of this process's writes
	promised bool   // epoch persisted on a write quorum
}

var _ Store = (*Replicated)(nil)

// commitReq is one Apply call waiting for its commit group.
type commitReq struct {
	b    *Batch
	done chan commitMsg // receives the result, or a request to lead
}

// commitMsg tells a waiting Apply call its result, or that it must lead the
// next commit group.
type commitMsg struct {
	err  error
	lead bool
}

// NewReplicated returns a Store replicated over replicas with the given
// write quorum, which must be a strict majority of len(replicas) (so that
// any two write quorums intersect). The Replicated takes ownership of the
// replicas and closes them in Close; on error it leaves them open.
//
// It reads every replica's sequence number: a replica that cannot be read is
// offline; replicas behind the most recent one are re-synced from it before
// NewReplicated returns (a replica whose re-sync fails is offline). It fails
// with ErrReadQuorum only if no replica is usable. With fewer than
// writeQuorum current replicas the store serves reads and Apply fails with
// ErrWriteQuorum until enough replicas are healed.
func NewReplicated(replicas []Store, writeQuorum int) (*Replicated, error) {
	n := len(replicas)
	if n == 0 {
		return nil, errors.New("metadata: no replicas")
	}
	if writeQuorum <= n/2 || writeQuorum > n {
		return nil, fmt.Errorf("metadata: write quorum %d must be a majority of %d replicas", writeQuorum, n)
	}
	r := &Replicated{
		replicas: append([]Store(nil), replicas...),
		quorum:   writeQuorum,
		state:    make([]atomic.Int32, n),
	}
	seqs := make([]seqNum, n)
	src := -1
	var maxEpoch uint64
	var errs []error
	for i, s := range r.replicas {
		seq, promised, err := readMeta(s)
		if err != nil {
			r.state[i].Store(stateOffline)
			errs = append(errs, fmt.Errorf("replica %d: %w", i, err))
			continue
		}
		seqs[i] = seq
		maxEpoch = max(maxEpoch, promised, seq.epoch)
		if src < 0 || seqs[src].less(seq) {
			src = i
		}
	}
	if src < 0 {
		return nil, fmt.Errorf("%w: %w", ErrReadQuorum, errors.Join(errs...))
	}
	for i := range r.replicas {
		if r.state[i].Load() != stateCurrent || seqs[i] == seqs[src] {
			continue
		}
		if _, err := resync(r.replicas[i], r.replicas[src]); err != nil {
			r.state[i].Store(stateOffline)
		}
	}
	r.seq = seqs[src]
	r.epoch = maxEpoch + 1
	return r, nil
}

// Apply implements Store.Apply. It returns ErrReservedKey if b touches a
// reserved key and ErrWriteQuorum (wrapped) if fewer than writeQuorum
// replicas acknowledged the batch. Concurrent calls are merged into commit
// groups that share replica fsyncs.
func (r *Replicated) Apply(b *Batch) error {
	if b.reserved {
		return ErrReservedKey
	}
	if err := r.gate.enter(); err != nil {
		return err
	}
	defer r.gate.exit()
	if len(b.ops) == 0 {
		return nil
	}
	req := &commitReq{b: b, done: make(chan commitMsg, 1)}
	r.mu.Lock()
	r.queue = append(r.queue, req)
	lead := !r.leading
	r.leading = true
	r.mu.Unlock()
	if lead {
		r.lead()
	}
	m := <-req.done
	if m.lead {
		r.lead()
		m = <-req.done
	}
	return m.err
}

// lead commits one group taken from the head of the queue (which includes
// the leader's own request), delivers the results, and hands leadership to
// the next waiting request, if any.
func (r *Replicated) lead() {
	r.commitMu.Lock()
	r.mu.Lock()
	k, size := 0, 0
	for k < len(r.queue) && (k == 0 || size+r.queue[k].b.size <= maxGroupBytes) {
		size += r.queue[k].b.size
		k++
	}
	group := r.queue[:k:k]
	r.queue = r.queue[k:]
	r.mu.Unlock()

	err := r.commitGroup(group)
	r.commitMu.Unlock()
	for _, req := range group {
		req.done <- commitMsg{err: err}
	}

	r.mu.Lock()
	if len(r.queue) > 0 {
		r.queue[0].done <- commitMsg{lead: true}
	} else {
		r.leading = false
	}
	r.mu.Unlock()
}

// commitGroup writes the batches of group, in order, as one atomic batch
// with the next sequence number to every current replica. r.commitMu must
// be held.
func (r *Replicated) commitGroup(group []*commitReq) error {
	if !r.promised {
		if err := r.promise(); err != nil {
			return err
		}
	}
	targets := r.current()
	if len(targets) < r.quorum {
		return fmt.Errorf("%w: %d of %d replicas current, %d required",
			ErrWriteQuorum, len(targets), len(r.replicas), r.quorum)
	}
	next := seqNum{epoch: r.epoch, counter: r.seq.counter + 1}
	combined := &Batch{ops: make([]batchOp, 0, len(group[0].b.ops)+1)}
	for _, req := range group {
		combined.appendBatch(req.b)
	}
	combined.Set(seqKey, next.encode())
	ok, err := r.applyAll(targets, combined)
	if ok > 0 {
		r.seq = next
	}
	if ok < r.quorum {
		return fmt.Errorf("%w: %d of %d replicas acknowledged: %w",
			ErrWriteQuorum, ok, len(r.replicas), err)
	}
	return nil
}

// promise persists this process's epoch on a write quorum of replicas, which
// must happen before any write of the epoch. r.commitMu must be held.
func (r *Replicated) promise() error {
	targets := r.current()
	if len(targets) < r.quorum {
		return fmt.Errorf("%w: %d of %d replicas current, %d required",
			ErrWriteQuorum, len(targets), len(r.replicas), r.quorum)
	}
	b := &Batch{}
	b.Set(epochKey, encodeUint64(r.epoch))
	if ok, err := r.applyAll(targets, b); ok < r.quorum {
		return fmt.Errorf("%w: persisting epoch: %d of %d replicas acknowledged: %w",
			ErrWriteQuorum, ok, len(r.replicas), err)
	}
	r.promised = true
	return nil
}

// applyAll applies b to the replicas in targets in parallel, marks those
// that failed stale, and returns the number of successes and the failures.
func (r *Replicated) applyAll(targets []int, b *Batch) (int, error) {
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for k := 1; k < len(targets); k++ {
		wg.Go(func() { errs[k] = r.replicas[targets[k]].Apply(b) })
	}
	errs[0] = r.replicas[targets[0]].Apply(b)
	wg.Wait()
	ok := 0
	var failed []error
	for k, err := range errs {
		if err == nil {
			ok++
			continue
		}
		r.state[targets[k]].CompareAndSwap(stateCurrent, stateStale)
		failed = append(failed, fmt.Errorf("replica %d: %w", targets[k], err))
	}
	return ok, errors.Join(failed...)
}

// current returns the indexes of the current replicas in ascending order.
func (r *Replicated) current() []int {
	out := make([]int, 0, len(r.replicas))
	for i := range r.state {
		if r.state[i].Load() == stateCurrent {
			out = append(out, i)
		}
	}
	return out
}

// readFailed takes replica i out of service after a read error.
func (r *Replicated) readFailed(i int) {
	r.state[i].CompareAndSwap(stateCurrent, stateOffline)
}

// Get implements Store.Get from the lowest-indexed current replica, failing
// over to the next on an I/O error. Reserved keys are never found.
func (r *Replicated) Get(key []byte) ([]byte, error) {
	if len(key) > 0 && key[0] == ReservedPrefix {
		return nil, ErrNotFound
	}
	if err := r.gate.enter(); err != nil {
		return nil, err
	}
	defer r.gate.exit()
	var errs []error
	for i := range r.replicas {
		if r.state[i].Load() != stateCurrent {
			continue
		}
		v, err := r.replicas[i].Get(key)
		if err == nil {
			return v, nil
		}
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		r.readFailed(i)
		errs = append(errs, fmt.Errorf("replica %d: %w", i, err))
	}
	return nil, fmt.Errorf("%w: %w", ErrReadQuorum, errors.Join(errs...))
}

// NewIter implements Store.NewIter over the lowest-indexed current replica.
// If that replica fails during the scan, the iterator continues from the
// same position on the next current replica (a scan that fails over may thus
// mix two points in time). Reserved keys are never returned, whatever the
// bounds.
func (r *Replicated) NewIter(lower, upper []byte) (Iterator, error) {
	if err := r.gate.enter(); err != nil {
		return nil, err
	}
	it := &replIter{r: r, upper: reservedStart}
	if lower != nil {
		it.lower = append([]byte{}, lower...)
	}
	if upper != nil && bytes.Compare(upper, reservedStart) < 0 {
		it.upper = append([]byte{}, upper...)
	}
	if err := it.open(); err != nil {
		r.gate.exit()
		return nil, err
	}
	return it, nil
}

// Stale returns, in ascending order, the indexes of the replicas that are
// currently not serving: offline, or behind and waiting to be healed.
func (r *Replicated) Stale() []int {
	var out []int
	for i := range r.state {
		if r.state[i].Load() != stateCurrent {
			out = append(out, i)
		}
	}
	return out
}

// SetOffline takes replica i out of service (for example because its drive
// vanished): it is neither written nor read until Heal(i) succeeds. Out of
// range indexes are ignored.
func (r *Replicated) SetOffline(i int) {
	if i >= 0 && i < len(r.state) {
		r.state[i].Store(stateOffline)
	}
}

// Heal re-syncs replica i from a current replica and returns it to service.
// Healing a current replica is a no-op. Heal is safe while writes run, but
// writes wait while it copies, which takes time proportional to the
// keyspace (see docs/on-disk-format.md). If the re-sync fails, replica i stays out of
// service and Heal may be retried.
func (r *Replicated) Heal(i int) error {
	if i < 0 || i >= len(r.replicas) {
		return fmt.Errorf("metadata: heal: no replica %d", i)
	}
	if err := r.gate.enter(); err != nil {
		return err
	}
	defer r.gate.exit()
	r.commitMu.Lock()
	defer r.commitMu.Unlock()
	before := r.state[i].Load()
	if before == stateCurrent {
		return nil
	}
	src := -1
	for _, j := range r.current() {
		if j != i {
			src = j
			break
		}
	}
	if src < 0 {
		return fmt.Errorf("metadata: heal replica %d: %w", i, ErrReadQuorum)
	}
	seq, err := resync(r.replicas[i], r.replicas[src])
	if err != nil {
		return fmt.Errorf("metadata: heal replica %d from %d: %w", i, src, err)
	}
	if seq != r.seq {
		return fmt.Errorf("metadata: heal replica %d: source %d at %v, expected %v", i, src, seq, r.seq)
	}
	if !r.state[i].CompareAndSwap(before, stateCurrent) {
		return fmt.Errorf("metadata: heal replica %d: taken offline while healing", i)
	}
	return nil
}

// Close implements Store.Close: it waits for in-flight calls and open
// iterators, then closes every replica.
func (r *Replicated) Close() error {
	if err := r.gate.close(); err != nil {
		return err
	}
	var errs []error
	for i, s := range r.replicas {
		if err := s.Close(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, fmt.Errorf("replica %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
