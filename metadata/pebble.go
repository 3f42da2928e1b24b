package metadata

import (
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
	"github.com/cockroachdb/pebble/vfs"
)

// Defaults of PebbleOptions and the fixed tuning of a Pebble store. Several
// replicas live in one process (one per drive), so memory per replica is kept
// modest.
const (
	// DefaultPebbleCacheSize is the block cache size used when
	// PebbleOptions.CacheSize is zero.
	DefaultPebbleCacheSize = 32 << 20

	pebbleMemTableSize          = 16 << 20
	pebbleL0CompactionThreshold = 4
	pebbleL0StopWrites          = 36
	pebbleMaxOpenFiles          = 512
)

// PebbleOptions configures OpenPebble. The zero value is valid.
type PebbleOptions struct {
	// CacheSize is the size in bytes of the block cache of this store.
	// Zero means DefaultPebbleCacheSize (32 MiB).
	CacheSize int64

	// FS is the filesystem pebble uses. Nil means the operating system's
	// filesystem (vfs.Default). Tests pass vfs.NewStrictMem() or an
	// errorfs wrapper to simulate crashes and I/O faults.
	FS vfs.FS
}

// Pebble is a Store backed by an embedded pebble database in one directory.
// Every Apply is written to the write-ahead log and fsync'd before it
// returns; concurrent Apply calls share WAL syncs (group commit) through
// pebble's commit pipeline. Iterators read a consistent point-in-time view.
// Pebble does not use reserved keys itself: it stores whatever it is given,
// including reserved keys written by a layered Store such as Replicated.
type Pebble struct {
	db   *pebble.DB
	gate gate
	fs   vfs.FS // the filesystem and directory of the database (Purge)
	dir  string
}

var _ Store = (*Pebble)(nil)

// OpenPebble opens, creating it if needed, the pebble database in dir. The
// returned store owns dir (pebble locks it) until Close.
func OpenPebble(dir string, opts PebbleOptions) (*Pebble, error) {
	cacheSize := opts.CacheSize
	if cacheSize <= 0 {
		cacheSize = DefaultPebbleCacheSize
	}
	cache := pebble.NewCache(cacheSize)
	defer cache.Unref() // the DB holds its own reference
	po := &pebble.Options{
		Cache:                       cache,
		FS:                          opts.FS,
		FormatMajorVersion:          pebble.FormatNewest,
		MemTableSize:                pebbleMemTableSize,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       pebbleL0CompactionThreshold,
		L0StopWritesThreshold:       pebbleL0StopWrites,
		MaxOpenFiles:                pebbleMaxOpenFiles,
		MaxConcurrentCompactions:    func() int { return 1 },
		Logger:                      quietLogger{},
		// Never recycle write-ahead logs: deleted values must not survive
		// in a reused log's tail (see Purge).
		Cleaner: newShredCleaner(pebble.DeleteCleaner{}.Clean),
	}
	if po.FS == nil {
		po.FS = vfs.Default
	}
	po.Levels = make([]pebble.LevelOptions, 7)
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("metadata: open pebble %s: %w", dir, err)
	}
	// pebble syncs dir itself but not its entry in the parent directory,
	// which a crash right after creating the store could lose.
	if err := syncDir(po.FS, po.FS.PathDir(dir)); err != nil {
		return nil, errors.Join(fmt.Errorf("metadata: open pebble %s: %w", dir, err), db.Close())
	}
	return &Pebble{db: db, fs: po.FS, dir: dir}, nil
}

// syncDir fsyncs a directory.
func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// Get implements Store.Get.
func (p *Pebble) Get(key []byte) ([]byte, error) {
	if err := p.gate.enter(); err != nil {
		return nil, err
	}
	defer p.gate.exit()
	v, closer, err := p.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("metadata: pebble get: %w", err)
	}
	out := make([]byte, len(v))
	copy(out, v)
	return out, closer.Close()
}

// Apply implements Store.Apply: the batch is committed atomically and the
// WAL is fsync'd before Apply returns.
func (p *Pebble) Apply(b *Batch) error {
	return p.apply(b, pebble.Sync)
}

// applyNoSync commits b atomically without waiting for a WAL fsync. The
// batch becomes durable with the next synced Apply (the WAL is ordered), or
// may be lost in a crash before that. Used for bulk loading and healing.
func (p *Pebble) applyNoSync(b *Batch) error {
	return p.apply(b, pebble.NoSync)
}

func (p *Pebble) apply(b *Batch, wo *pebble.WriteOptions) error {
	if err := p.gate.enter(); err != nil {
		return err
	}
	defer p.gate.exit()
	if len(b.ops) == 0 {
		return nil
	}
	pb := p.db.NewBatchWithSize(b.size + 64)
	defer pb.Close()
	for i := range b.ops {
		op := &b.ops[i]
		var err error
		if op.del {
			err = pb.Delete(op.key, nil)
		} else {
			err = pb.Set(op.key, op.value, nil)
		}
		if err != nil {
			return fmt.Errorf("metadata: pebble batch: %w", err)
		}
	}
	if err := p.db.Apply(pb, wo); err != nil {
		return fmt.Errorf("metadata: pebble apply: %w", err)
	}
	return nil
}

// NewIter implements Store.NewIter. The iterator reads a consistent
// snapshot taken when NewIter is called.
func (p *Pebble) NewIter(lower, upper []byte) (Iterator, error) {
	if err := p.gate.enter(); err != nil {
		return nil, err
	}
	o := &pebble.IterOptions{}
	if lower != nil {
		o.LowerBound = append([]byte{}, lower...)
	}
	if upper != nil {
		o.UpperBound = append([]byte{}, upper...)
	} else {
		o.UpperBound = reservedStart
	}
	it, err := p.db.NewIter(o)
	if err != nil {
		p.gate.exit()
		return nil, fmt.Errorf("metadata: pebble iterator: %w", err)
	}
	return &pebbleIter{it: it, gate: &p.gate}, nil
}

// Close implements Store.Close. It waits for in-flight calls and open
// iterators, then closes the database.
func (p *Pebble) Close() error {
	if err := p.gate.close(); err != nil {
		return err
	}
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("metadata: pebble close: %w", err)
	}
	return nil
}

// pebbleIter adapts a pebble iterator to Iterator.
type pebbleIter struct {
	it   *pebble.Iterator
	gate *gate
}

func (i *pebbleIter) First() bool { return i.it != nil && i.it.First() }

func (i *pebbleIter) SeekGE(key []byte) bool { return i.it != nil && i.it.SeekGE(key) }

func (i *pebbleIter) Next() bool { return i.it != nil && i.it.Valid() && i.it.Next() }

func (i *pebbleIter) Valid() bool { return i.it != nil && i.it.Valid() }

func (i *pebbleIter) Key() []byte { return i.it.Key() }

func (i *pebbleIter) Value() []byte { return i.it.Value() }

// Error returns the error that stopped the iterator, if any. Replicated uses
// it to fail over to another replica in the middle of a scan.
func (i *pebbleIter) Error() error {
	if i.it == nil {
		return nil
	}
	return i.it.Error()
}

func (i *pebbleIter) Close() error {
	if i.it == nil {
		return nil
	}
	err := i.it.Close()
	i.it = nil
	i.gate.exit()
	if err != nil {
		return fmt.Errorf("metadata: pebble iterator: %w", err)
	}
	return nil
}

// quietLogger drops pebble's informational messages (flushes, compactions)
// and turns fatal ones into panics instead of exiting the process.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{}) {}

func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf("metadata: pebble fatal: "+format, args...))
}
