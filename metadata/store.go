// Package metadata provides coffer's ordered key-value store: the Store
// interface that the object layer builds its schema on, an embedded
// implementation backed by pebble (Pebble), and a replicated store
// (Replicated) that keeps one full replica per drive and keeps serving after
// the loss of drives.
//
// The package owns storage and replication only; it knows nothing of
// buckets, objects or versions. See docs/on-disk-format.md for the
// replication protocol.
package metadata

import (
	"errors"
	"sync"
)

// ErrNotFound is returned, unwrapped, by Store.Get when the key has no value.
var ErrNotFound = errors.New("metadata: not found")

// ErrWriteQuorum is returned (possibly wrapped; test with errors.Is) by
// Replicated.Apply when fewer than the write quorum of replicas acknowledged
// a batch. The effect of such a batch is undefined: it may or may not become
// visible later, as with a failed S3 request.
var ErrWriteQuorum = errors.New("metadata: insufficient write quorum")

// ErrReadQuorum is returned (possibly wrapped) when no current replica is
// available to serve a read, and by NewReplicated when no replica is usable.
var ErrReadQuorum = errors.New("metadata: no current replica available")

// ErrClosed is returned, possibly wrapped, by every Store method called after
// Close has started.
var ErrClosed = errors.New("metadata: store closed")

// ErrReservedKey is returned by Replicated.Apply for a batch that sets or
// deletes a reserved key (first byte 0xFF). Reserved keys belong to Store
// implementations, never to callers.
var ErrReservedKey = errors.New("metadata: reserved key")

// ReservedPrefix is the first byte of keys reserved for Store
// implementations. Callers use only keys whose first byte is lower.
const ReservedPrefix = 0xFF

// reservedStart is the smallest reserved key, the implicit upper bound of an
// iterator whose upper bound is nil.
var reservedStart = []byte{ReservedPrefix}

// reservedEnd bounds the reserved keys this package writes itself (all of
// them start with "\xff" followed by a printable byte).
var reservedEnd = []byte{ReservedPrefix, ReservedPrefix}

// Store is an ordered key-value store. Keys and values are arbitrary byte
// strings ordered bytewise.
//
// Keys whose first byte is 0xFF (ReservedPrefix) are reserved for internal
// use by implementations (a layered implementation such as Replicated keeps
// its state there in the Store below it). Iterators whose upper bound is nil
// never return them; callers use keys < 0xFF.
//
// All methods are safe for concurrent use. After Close, methods return
// ErrClosed.
type Store interface {
	// Get returns a copy of the value stored under key, owned by the
	// caller, or ErrNotFound (unwrapped) if there is none.
	Get(key []byte) ([]byte, error)

	// Apply applies all operations of b atomically, in the order they were
	// added: a reader sees all of them or none. On a nil return the batch is
	// durable (fsync'd) and visible to subsequent reads. The batch is not
	// modified and may be reused; it must not be modified while Apply runs.
	// An empty batch is a no-op.
	Apply(b *Batch) error

	// NewIter returns an iterator over the keys in [lower, upper) in
	// ascending order. A nil lower means the first key; a nil upper means
	// "up to, excluding, the reserved keys" (0xFF...). The bounds are copied.
	// The iterator is unpositioned until First or SeekGE is called. It must
	// be closed, and the Store's Close waits until all its iterators are.
	NewIter(lower, upper []byte) (Iterator, error)

	// Close releases the store. It waits for in-flight operations and for
	// open iterators to be closed. Calling Close again returns ErrClosed.
	Close() error
}

// Iterator is an ordered cursor over a key range of a Store. An Iterator is
// not safe for concurrent use. A positioning call (First, SeekGE, Next)
// returns whether the iterator is now at a key; false means either that the
// range is exhausted or that an error occurred: Close reports the error, so
// callers MUST check the error Close returns before trusting that a scan
// was complete.
type Iterator interface {
	// First moves to the first key of the range.
	First() bool
	// SeekGE moves to the first key >= key within the range (a key below
	// the lower bound seeks to the lower bound).
	SeekGE(key []byte) bool
	// Next moves to the following key. Calling Next on an iterator that is
	// not valid returns false.
	Next() bool
	// Valid reports whether the iterator is at a key.
	Valid() bool
	// Key returns the current key; valid until the next positioning call.
	Key() []byte
	// Value returns the current value; valid until the next positioning
	// call.
	Value() []byte
	// Close releases the iterator and returns the first error it
	// encountered, if any. Calling Close again returns nil.
	Close() error
}

// Batch is an ordered list of Set and Delete operations applied atomically by
// Store.Apply. Operations are copied in, so the caller may reuse its slices
// right after Set or Delete returns. The zero value is an empty batch, ready
// to use. A Batch is not safe for concurrent use.
type Batch struct {
	ops      []batchOp
	size     int  // approximate encoded size in bytes
	reserved bool // some op touches a reserved key
}

// batchOp is one operation of a Batch. Its slices are owned by the batch and
// never modified after creation, so batches may share them.
type batchOp struct {
	key, value []byte
	del        bool
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{} }

// Set adds an operation that stores value under key. key and value are
// copied.
func (b *Batch) Set(key, value []byte) {
	buf := make([]byte, len(key)+len(value))
	copy(buf, key)
	copy(buf[len(key):], value)
	b.add(batchOp{key: buf[:len(key):len(key)], value: buf[len(key):]})
}

// Delete adds an operation that removes key (a no-op if it is absent). key
// is copied.
func (b *Batch) Delete(key []byte) {
	b.add(batchOp{key: append([]byte(nil), key...), del: true})
}

// Len returns the number of operations in the batch.
func (b *Batch) Len() int { return len(b.ops) }

// Reset empties the batch so that it can be reused.
func (b *Batch) Reset() { *b = Batch{ops: b.ops[:0]} }

func (b *Batch) add(op batchOp) {
	if len(op.key) > 0 && op.key[0] == ReservedPrefix {
		b.reserved = true
	}
	b.ops = append(b.ops, op)
	b.size += len(op.key) + len(op.value) + 8
}

// appendBatch appends the operations of o to b, sharing their storage.
func (b *Batch) appendBatch(o *Batch) {
	b.ops = append(b.ops, o.ops...)
	b.size += o.size
	b.reserved = b.reserved || o.reserved
}

// gate tracks in-flight operations and open iterators of a store so that
// Close can refuse new work and wait for the old.
type gate struct {
	mu     sync.Mutex
	cond   sync.Cond
	n      int
	closed bool
}

// enter registers an operation; it fails with ErrClosed once close started.
func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	g.n++
	return nil
}

// exit ends an operation registered by enter.
func (g *gate) exit() {
	g.mu.Lock()
	g.n--
	if g.n == 0 && g.closed {
		g.cond.Broadcast()
	}
	g.mu.Unlock()
}

// close refuses new operations and waits for the registered ones to exit.
// It returns ErrClosed if the gate was already closed.
func (g *gate) close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	g.closed = true
	if g.cond.L == nil {
		g.cond.L = &g.mu
	}
	for g.n > 0 {
		g.cond.Wait()
	}
	return nil
}
