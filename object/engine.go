package object

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/crypto/kms/kmsmeta"
	"github.com/cofferstore/coffer/erasure"
	"github.com/cofferstore/coffer/lock"
	"github.com/cofferstore/coffer/metadata"
)

// DefaultInlineLimit is the largest object stored inline in its metadata
// record when Config.InlineLimit is 0.
const DefaultInlineLimit = 128 << 10

// Engine is the Layer over one erasure set of local drives with a
// replicated pebble metadata store.
type Engine struct {
	set    *erasure.Set
	meta   metadata.Store
	kms    kms.Provider
	clock  *lock.Clock
	log    *slog.Logger
	now    func() time.Time
	inline int64
	// compress decides which new writes are compressed.
	compress compressPolicy

	keyLocks [256]sync.Mutex
	// dataLocks serialize healing, garbage collection and the commit of
	// one shard set.
	dataLocks dataLocks

	healCh chan string
	gcCh   chan string

	// shred is the secure-delete state (shred.go).
	shred shredState
	// lc is the lifecycle scheduler's state (lifecycle.go).
	lc *lcState
	// scrub is the scrubber's state and the heal counters (scrub.go).
	scrub scrubState

	rewrap        rewrapState
	rewrapRunning bool // guarded by rewrap.mu
	rewrapAgain   bool // guarded by rewrap.mu
	stop          chan struct{}
	wg            sync.WaitGroup
	once          sync.Once
}

var _ Layer = (*Engine)(nil)

// Open opens (formatting on first use) the drives in cfg and returns the
// object layer over them. On start it finishes or discards writes that a
// crash interrupted, deletes queued garbage, and starts healing any drive
// that was replaced.
func Open(cfg Config) (*Engine, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if len(cfg.MasterKey) != 32 {
		return nil, fmt.Errorf("object: a 32-byte master key is required (got %d bytes)", len(cfg.MasterKey))
	}
	e := &Engine{
		log:    log,
		now:    time.Now,
		inline: cfg.InlineLimit,
		healCh: make(chan string, 1024),
		gcCh:   make(chan string, 1024),
		stop:   make(chan struct{}),
		rewrap: rewrapState{jobs: map[string]*admin.RewrapStatus{}},
		lc:     &lcState{opts: cfg.Lifecycle.withDefaults(), kick: make(chan struct{}, 1), skipped: map[string]int64{}},
	}
	e.compress = newCompressPolicy(cfg.Compress)
	e.scrub.opts = cfg.Scrub.withDefaults()
	e.shred.overwrite = cfg.SecureOverwrite
	e.shred.interval = cfg.ShredInterval
	if e.shred.interval <= 0 {
		e.shred.interval = DefaultShredInterval
	}
	if e.inline == 0 {
		e.inline = DefaultInlineLimit
	}
	drives := make([]erasure.Drive, len(cfg.Drives))
	for i, p := range cfg.Drives {
		if err := os.MkdirAll(p, 0o750); err != nil {
			return nil, fmt.Errorf("object: drive %s: %w", p, err)
		}
		var opts []erasure.DriveOption
		if cfg.BufferedIO {
			opts = append(opts, erasure.BufferedWrites())
		}
		drives[i] = erasure.NewLocalDrive(erasure.DirFS(p), p, opts...)
	}
	set, err := erasure.OpenSet(drives, erasure.Options{Parity: cfg.Parity, OnCorrupt: e.queueHeal})
	if err != nil {
		return nil, err
	}
	e.set = set
	stores := make([]metadata.Store, len(drives))
	for i, d := range drives {
		s, err := metadata.OpenPebble(d.MetaPath(), metadata.PebbleOptions{})
		if err != nil {
			log.Error("metadata replica offline", "drive", d.String(), "err", err)
			stores[i] = offlineStore{err}
			continue
		}
		stores[i] = s
	}
	// Metadata needs a strict majority (see metadata.NewReplicated) and
	// never less than the data's write quorum.
	meta, err := metadata.NewReplicated(stores, max(set.WriteQuorum(), len(stores)/2+1))
	if err != nil {
		for _, s := range stores {
			s.Close()
		}
		return nil, err
	}
	e.meta = meta
	// Every time the engine uses — version times, retention decisions —
	// comes from the compliance clock: persisted, never backwards, never
	// faster than real time beyond a bounded catch-up (see lock.Clock).
	if e.clock, err = lock.NewClock(clockStore{meta}, lock.ClockSources{}, lock.ClockOptions{}); err != nil {
		meta.Close()
		return nil, fmt.Errorf("object: compliance clock: %w", err)
	}
	e.now = e.clock.Now
	if e.kms, err = kms.NewLocal(cfg.MasterKey, kmsmeta.New(meta), []byte{tagKMS}); err != nil {
		meta.Close()
		return nil, fmt.Errorf("object: key store: %w", err)
	}
	if err := e.recover(); err != nil {
		e.kms.Close()
		meta.Close()
		return nil, err
	}
	if err := e.migrateLifecycleIndexes(); err != nil {
		e.kms.Close()
		meta.Close()
		return nil, fmt.Errorf("object: building lifecycle indexes: %w", err)
	}
	e.wg.Add(3)
	go e.healWorker()
	go e.gcWorker()
	go e.shredWorker()
	e.startLifecycle()
	if e.scrub.opts.Interval > 0 {
		e.wg.Add(1)
		go e.scrubWorker()
	}
	// Finish any rotation a restart interrupted (a no-op when every data
	// key is under its key's current version).
	e.startRewrap()
	if r := set.Replaced(); len(r) > 0 {
		log.Warn("replaced drives detected, healing in background", "drives", r)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			if n, err := e.HealAll(context.Background()); err != nil {
				log.Error("heal of replaced drives failed", "healed", n, "err", err)
			} else {
				log.Info("heal of replaced drives finished", "objects", n)
			}
		}()
	}
	return e, nil
}

// recover finishes the commit of shard sets whose metadata reached the
// store before a crash, removes temporary shards of writes that never
// committed, and deletes garbage left by interrupted deletes.
func (e *Engine) recover() error {
	ids, err := e.set.ListTemp()
	if err != nil {
		return err
	}
	for _, id := range ids {
		_, err := e.meta.Get(refKey(id))
		switch {
		case err == nil:
			if err := e.set.Commit(id); err != nil {
				e.log.Error("finishing interrupted commit", "data", id, "err", err)
			}
		case errors.Is(err, metadata.ErrNotFound):
			e.set.RemoveTemp(id)
		default:
			return mapErr(err)
		}
	}
	var garbage []string
	if err := e.scan([]byte{tagGarbage}, []byte{tagGarbage + 1}, func(k, _ []byte) error {
		garbage = append(garbage, string(k[1:]))
		return nil
	}); err != nil {
		return err
	}
	for _, id := range garbage {
		e.collect(id)
	}
	return nil
}

// queueHeal asks the heal worker to repair a shard set; it never blocks (a
// full queue drops the request: the next read or scrub finds it again).
func (e *Engine) queueHeal(id string) {
	select {
	case e.healCh <- id:
	default:
	}
}

func (e *Engine) healWorker() {
	defer e.wg.Done()
	for {
		select {
		case <-e.stop:
			return
		case id := <-e.healCh:
			if _, _, err := e.healOne(id); err != nil {
				e.log.Warn("heal failed", "data", id, "err", err)
			}
		}
	}
}

// healOne verifies one shard set on every drive and rebuilds missing or
// corrupt shards. It returns Heal's result and the stored bytes it
// verified on all drives, or -1 when the set has no reference (deleted
// meanwhile: nothing to do) or its reference could not be read. It holds
// the set's data lock, so a garbage collection of the same set waits for
// it (Heal must not race a Delete).
func (e *Engine) healOne(id string) (erasure.HealResult, int64, error) {
	unlock := e.lockData(id)
	defer unlock()
	raw, err := e.meta.Get(refKey(id))
	if err != nil {
		if errors.Is(err, metadata.ErrNotFound) {
			return erasure.HealResult{}, -1, nil // deleted meanwhile
		}
		return erasure.HealResult{}, -1, err
	}
	var ref refRecord
	if err := jsonUnmarshal(raw, &ref); err != nil {
		return erasure.HealResult{}, -1, err
	}
	res, err := e.set.Heal(id, ref.StoredSize)
	e.countHeal(res, err)
	if len(res.Healed) > 0 {
		e.log.Info("healed shards", "data", id, "drives", res.Healed)
	}
	k, n := int64(e.set.DataShards()), int64(e.set.DataShards()+e.set.ParityShards())
	return res, (ref.StoredSize + k - 1) / k * n, err
}

// lockData takes the lock that serializes healing, garbage collection and
// the commit of one shard set and returns its unlock. The lock is per id
// (not striped), so a long heal never delays the commit of another set.
func (e *Engine) lockData(id string) func() {
	e.dataLocks.mu.Lock()
	if e.dataLocks.m == nil {
		e.dataLocks.m = map[string]*dataLock{}
	}
	l := e.dataLocks.m[id]
	if l == nil {
		l = &dataLock{}
		e.dataLocks.m[id] = l
	}
	l.refs++
	e.dataLocks.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		e.dataLocks.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(e.dataLocks.m, id)
		}
		e.dataLocks.mu.Unlock()
	}
}

// dataLocks holds the per-shard-set locks in use.
type dataLocks struct {
	mu sync.Mutex
	m  map[string]*dataLock
}

// dataLock is one shard set's lock and the number of holders and waiters.
type dataLock struct {
	sync.Mutex
	refs int
}

// HealAll heals every shard set in the store (after a drive was replaced),
// and returns how many sets it visited. It is not part of Layer: operators
// and the background healer call it.
func (e *Engine) HealAll(ctx context.Context) (int, error) {
	n := 0
	var firstErr error
	err := e.eachRef(ctx, "", func(id string) error {
		n++
		if _, _, err := e.healOne(id); err != nil && firstErr == nil {
			firstErr = err
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, firstErr
}

// errEngineClosed ends background walks when the engine closes.
var errEngineClosed = errors.New("object: closed")

// refPageSize is how many shard set ids eachRef reads per metadata scan.
const refPageSize = 64

// eachRef calls fn with every shard set id after the id after ("": from the
// first), in order, until fn fails, ctx ends or the engine closes. It reads
// the ids a page at a time and closes each page's metadata iterator before
// calling fn, so a walk that heals every set never holds old metadata files
// open (the secure-delete purge waits for them to go).
func (e *Engine) eachRef(ctx context.Context, after string, fn func(id string) error) error {
	for {
		lower := []byte{tagRef}
		if after != "" {
			lower = append(refKey(after), 0)
		}
		var ids []string
		err := e.scan(lower, []byte{tagRef + 1}, func(k, _ []byte) error {
			ids = append(ids, string(k[1:]))
			if len(ids) == refPageSize {
				return errPageFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errPageFull) {
			return err
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			select {
			case <-e.stop:
				return errEngineClosed
			default:
			}
			if err := fn(id); err != nil {
				return err
			}
			after = id
		}
		if len(ids) < refPageSize {
			return nil
		}
	}
}

// errPageFull stops a scan whose page is full.
var errPageFull = errors.New("object: page full")

func (e *Engine) gcWorker() {
	defer e.wg.Done()
	for {
		select {
		case <-e.stop:
			return
		case id := <-e.gcCh:
			e.collect(id)
		}
	}
}

// collect deletes a garbage shard set and then its garbage record. The
// record is only removed once the shards are gone, so a crash in between
// repeats the delete at the next start. A garbage record that asks for it
// has the shard files overwritten before they are unlinked.
func (e *Engine) collect(id string) {
	unlock := e.lockData(id)
	defer unlock()
	raw, err := e.meta.Get(garbageKey(id))
	if errors.Is(err, metadata.ErrNotFound) {
		return // collected already
	}
	if err != nil {
		e.log.Warn("reading garbage record", "data", id, "err", err)
		return
	}
	var g garbageRecord
	if len(raw) > 0 {
		if err := jsonUnmarshal(raw, &g); err != nil {
			e.log.Warn("garbage record unreadable, overwriting to be safe", "data", id, "err", err)
			g.Overwrite = true
		}
	}
	if g.Overwrite {
		n, err := e.set.DeleteOverwrite(id)
		e.shred.overwritten.Add(n)
		if err != nil {
			e.log.Warn("overwriting shards", "data", id, "err", err)
			return
		}
	} else if err := e.set.Delete(id); err != nil {
		e.log.Warn("deleting shards", "data", id, "err", err)
		return
	}
	b := metadata.NewBatch()
	b.Delete(garbageKey(id))
	if err := e.meta.Apply(b); err != nil {
		e.log.Warn("clearing garbage record", "data", id, "err", err)
	}
}

// queueGC hands garbage shard sets (already recorded under G keys) to the
// collector; when its queue is full they wait for the next start.
func (e *Engine) queueGC(ids []string) {
	for _, id := range ids {
		select {
		case e.gcCh <- id:
		default:
		}
	}
}

// Close stops background work and closes the metadata store.
func (e *Engine) Close() error {
	var err error
	e.once.Do(func() {
		close(e.stop)
		e.wg.Wait()
		// A lifecycle run started through the admin API sees stop between
		// two items; wait for it, and let none start after.
		e.lc.run.Lock()
		defer e.lc.run.Unlock()
		if perr := e.clock.Persist(); perr != nil {
			e.log.Error("persisting the compliance clock", "err", perr)
		}
		e.kms.Close()
		err = e.meta.Close()
	})
	return err
}

// lockKey serialises metadata read-modify-write of one key. Data streaming
// happens outside it; only the commit step holds it.
func (e *Engine) lockKey(bucket, key string) func() {
	h := fnv.New32a()
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	m := &e.keyLocks[h.Sum32()%uint32(len(e.keyLocks))]
	m.Lock()
	return m.Unlock
}

// scan calls fn for every key in [lower, upper) in order.
func (e *Engine) scan(lower, upper []byte, fn func(k, v []byte) error) error {
	it, err := e.meta.NewIter(lower, upper)
	if err != nil {
		return mapErr(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	// An iterator reports I/O errors at Close: only then is the scan known
	// to be complete.
	return mapErr(it.Close())
}

// mapErr converts lower-layer errors into object sentinels.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, metadata.ErrWriteQuorum), errors.Is(err, erasure.ErrWriteQuorum):
		return fmt.Errorf("%w: %v", ErrInsufficientWriteQuorum, err)
	case errors.Is(err, erasure.ErrCorruption):
		return fmt.Errorf("%w: %v", ErrCorruption, err)
	case errors.Is(err, metadata.ErrReadQuorum), errors.Is(err, erasure.ErrReadQuorum):
		return fmt.Errorf("%w: %v", ErrInsufficientReadQuorum, err)
	}
	return err
}

// offlineStore stands in for a metadata replica that could not be opened.
type offlineStore struct{ err error }

func (o offlineStore) Get([]byte) ([]byte, error)                     { return nil, o.err }
func (o offlineStore) Apply(*metadata.Batch) error                    { return o.err }
func (o offlineStore) NewIter(_, _ []byte) (metadata.Iterator, error) { return nil, o.err }
func (o offlineStore) Close() error                                   { return nil }

// Metadata returns the engine's replicated metadata store, for services
// composed beside the object layer (the identity store) that need the same
// durability. They MUST keep to their own table prefix.
func (e *Engine) Metadata() metadata.Store { return e.meta }

// KMS returns the engine's key provider, for services that seal their own
// secrets (the identity store).
func (e *Engine) KMS() kms.Provider { return e.kms }

// TenantBuckets counts the buckets a tenant owns.
func (e *Engine) TenantBuckets(ctx context.Context, tenant string) (int, error) {
	bs, err := e.ListBuckets(ctx)
	n := 0
	for _, b := range bs {
		if b.Tenant == tenant {
			n++
		}
	}
	return n, err
}

// ClockStatus reports the compliance clock (for `coffer admin clock`).
func (e *Engine) ClockStatus() lock.ClockStatus { return e.clock.Status() }

// clockKey is where the compliance clock persists its state.
var clockKey = []byte{tagClock, 'c', 'l', 'o', 'c', 'k'}

// clockStore adapts the metadata store to lock.ClockStore; every save is a
// synced batch on the metadata write quorum.
type clockStore struct{ st metadata.Store }

func (c clockStore) Load() ([]byte, bool, error) {
	v, err := c.st.Get(clockKey)
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (c clockStore) Save(v []byte) error {
	b := metadata.NewBatch()
	b.Set(clockKey, v)
	return c.st.Apply(b)
}
