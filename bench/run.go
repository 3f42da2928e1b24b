package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// worker is one load-generating goroutine with its own connection state,
// random source and statistics.
type worker struct {
	id    int
	conn  *conn
	rng   *rand.Rand
	stats [numOps]opStats
	// measuring is set for the operation in progress when it started
	// inside the measured phase; record ignores everything else.
	measuring bool
	seq       int64
	// Live counters for the progress line (all phases).
	liveOps, liveBytes, liveErrs atomic.Int64
	_                            [64]byte // keep workers' counters off shared cache lines

	list  listState
	etags []string
}

// record accounts one finished operation.
func (w *worker) record(k opKind, lat time.Duration, n int64, err error) {
	if err != nil {
		w.liveErrs.Add(1)
	} else {
		w.liveOps.Add(1)
		w.liveBytes.Add(n)
	}
	if !w.measuring {
		return
	}
	s := &w.stats[k]
	if err != nil {
		s.addError(err)
		return
	}
	s.hist.record(lat)
	s.bytes += n
}

// runState is what every worker shares during a run.
type runState struct {
	cfg     *Config
	client  *client
	payload *payload
	sizes   []int64
	prefix  string
	pool    *pool

	warmEnd  time.Time
	deadline time.Time // zero when bounded by --ops only
	claimed  atomic.Int64
	limit    int64 // measured operations, 0 = unbounded
}

// Run executes the benchmark described by cfg and returns its report.
// Progress lines go to progress when cfg.Progress is set (progress may be
// nil). Cancelling ctx ends the run early; the report then covers what was
// measured until then. Run returns an error only when the run could not
// start (bad config, bucket creation or object preparation failed);
// failed operations during the run are counted in the report instead.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cl, err := newClient(&cfg, cfg.Concurrency+1)
	if err != nil {
		return nil, err
	}
	defer cl.hc.CloseIdleConnections()

	sizes := cfg.Size.Sizes()
	bufSizes := sizes
	if cfg.Workload == WorkloadMultipart {
		bufSizes = partSizes(sizes, cfg.PartSize)
	}
	st := &runState{
		cfg:     &cfg,
		client:  cl,
		payload: newPayload(uint64(time.Now().UnixNano()), bufSizes),
		sizes:   sizes,
		prefix:  "coffer-bench/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/",
		limit:   cfg.Ops,
	}

	if err := cl.newConn().ensureBucket(); err != nil {
		return nil, fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
	}

	warmup := cfg.Warmup
	switch cfg.Workload {
	case WorkloadGet, WorkloadMixed, WorkloadList:
		if st.pool, err = prepare(ctx, st, cfg.Objects, progress); err != nil {
			return nil, err
		}
	case WorkloadDelete:
		n := int64(cfg.Objects)
		if cfg.Ops > 0 {
			n = cfg.Ops
		}
		if n > 10_000_000 {
			return nil, errors.New("delete workload: at most 10,000,000 objects can be prepared")
		}
		if st.pool, err = prepare(ctx, st, int(n), progress); err != nil {
			return nil, err
		}
		st.limit = n
		warmup = 0 // every prepared object is deleted exactly once, all measured
	}

	workers := make([]*worker, cfg.Concurrency)
	for i := range workers {
		workers[i] = &worker{id: i, conn: cl.newConn(), rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))}
	}
	start := time.Now()
	st.warmEnd = start.Add(warmup)
	if cfg.Duration > 0 {
		st.deadline = st.warmEnd.Add(cfg.Duration)
	}

	stopProgress := make(chan struct{})
	var progressDone sync.WaitGroup
	if cfg.Progress && progress != nil {
		progressDone.Go(func() { progressLoop(progress, st, workers, start, stopProgress) })
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { st.loop(ctx, w) })
	}
	wg.Wait()
	end := time.Now()
	close(stopProgress)
	progressDone.Wait()

	elapsed := end.Sub(st.warmEnd)
	if elapsed < 0 {
		elapsed = 0
	}
	var total [numOps]opStats
	for _, w := range workers {
		for k := range total {
			total[k].merge(&w.stats[k])
		}
	}
	return buildReport(&cfg, total[:], elapsed, warmup), nil
}

// loop runs operations until the deadline, the operation budget or ctx
// ends the run.
func (st *runState) loop(ctx context.Context, w *worker) {
	step := st.stepFunc()
	for ctx.Err() == nil {
		now := time.Now()
		if !st.deadline.IsZero() && !now.Before(st.deadline) {
			return
		}
		w.measuring = !now.Before(st.warmEnd)
		var ticket int64 = -1
		if w.measuring && st.limit > 0 {
			ticket = st.claimed.Add(1) - 1
			if ticket >= st.limit {
				return
			}
		}
		step(w, ticket)
	}
}

// stepFunc returns the function performing one operation of the workload.
// ticket is the operation's index in the measured phase, or -1.
func (st *runState) stepFunc() func(w *worker, ticket int64) {
	switch st.cfg.Workload {
	case WorkloadGet:
		return st.stepGet
	case WorkloadMixed:
		return st.stepMixed
	case WorkloadList:
		return st.stepList
	case WorkloadDelete:
		return st.stepDelete
	case WorkloadMultipart:
		return st.stepMultipart
	default:
		return st.stepPut
	}
}

// prepare uploads n objects under the run prefix, cfg.Concurrency at a
// time, and returns them as a pool.
func prepare(ctx context.Context, st *runState, n int, progress io.Writer) (*pool, error) {
	p := newPool(n)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for i := range p.slots {
		p.slots[i] = slot{key: st.prefix + "obj/" + strconv.Itoa(i), size: st.sizes[rng.IntN(len(st.sizes))]}
	}
	if progress != nil && st.cfg.Progress {
		fmt.Fprintf(progress, "preparing %d objects of %s...\n", n, st.cfg.Size)
	}
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(st.cfg.Concurrency, n) {
		wg.Go(func() {
			c := st.client.newConn()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				s := &p.slots[i]
				if _, err := c.putObject(st.payload, s.key, s.size); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						next.Store(int64(n)) // stop the others
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("preparing objects: %w", firstErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("preparing objects: %w", err)
	}
	return p, nil
}

// progressLoop prints one line a second until stop is closed.
func progressLoop(out io.Writer, st *runState, workers []*worker, start time.Time, stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastOps, lastBytes int64
	last := start
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			var ops, bytes, errs int64
			for _, w := range workers {
				ops += w.liveOps.Load()
				bytes += w.liveBytes.Load()
				errs += w.liveErrs.Load()
			}
			secs := now.Sub(last).Seconds()
			phase := "run"
			if now.Before(st.warmEnd) {
				phase = "warmup"
			}
			fmt.Fprintf(out, "%6.1fs %-6s %10d ops %10.1f ops/s %9.2f MiB/s %6d errors\n",
				now.Sub(start).Seconds(), phase, ops, float64(ops-lastOps)/secs,
				float64(bytes-lastBytes)/secs/(1<<20), errs)
			lastOps, lastBytes, last = ops, bytes, now
		}
	}
}
