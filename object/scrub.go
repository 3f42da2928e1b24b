package object

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/cofferstore/coffer/erasure"
	"github.com/cofferstore/coffer/metadata"
)

// The scrubber. Reads verify the pieces they use, but a GET of a healthy
// object reads only the k data pieces, so a parity piece can rot unseen
// until the day it is needed. The scrubber walks every shard set, verifies
// every piece on every drive (erasure.Set.Heal's first pass) and rewrites
// what is missing or corrupt, at a bounded rate, once per interval.
//
// Its state is one record under tagScrub: the start of the current pass,
// the last shard set id done (a restart resumes after it) and the end of
// the last complete pass. A pass starts one interval after the start of
// the previous one (at once if none completed yet), so a restart does not
// start one early; a failed pass is retried after a backoff that starts at
// a minute and doubles up to the interval.

// tagScrub is the scrubber's table: one state record.
const tagScrub = 'S'

var scrubStateKey = []byte{tagScrub, 's'}

// DefaultScrubInterval is the time between the starts of two scrub passes
// when ScrubOptions.Interval is 0.
const DefaultScrubInterval = 7 * 24 * time.Hour

// DefaultScrubRate is the scrubber's read rate, in bytes of stored shard
// data per second, when ScrubOptions.Rate is 0.
const DefaultScrubRate = 32 << 20

// ScrubOptions configures the background scrubber.
type ScrubOptions struct {
	// Interval is the time between the starts of two passes (0: the
	// default; negative: no background passes, only Engine.Scrub).
	Interval time.Duration
	// Rate bounds the stored bytes verified per second (0: the default).
	Rate int64
}

// scrubRecord is the persisted scrubber state.
type scrubRecord struct {
	PassStarted   time.Time `json:"pass_started,omitzero"`
	Cursor        string    `json:"cursor,omitempty"`
	LastCompleted time.Time `json:"last_completed,omitzero"`
}

// scrubState holds the scrubber's options and counters.
type scrubState struct {
	opts ScrubOptions

	passes   atomic.Int64 // complete passes
	sets     atomic.Int64 // shard sets verified
	bytes    atomic.Int64 // stored bytes verified (shard data of all drives)
	damaged  atomic.Int64 // shard sets found with a missing or corrupt shard
	lastDone atomic.Int64 // unix time of the last complete pass, 0 if none

	healed      atomic.Int64 // shard files rewritten by any heal
	healFailed  atomic.Int64 // heals that could not rebuild everything
	unreachable atomic.Int64 // shard sets below read quorum found by a heal
}

// ScrubResult reports one scrub pass (or the part of it run by one call).
type ScrubResult struct {
	PassStarted time.Time // start of the pass (earlier than the call when it resumed one)

	Sets    int64 // shard sets verified
	Bytes   int64 // stored bytes verified, every drive counted
	Damaged int64 // shard sets with a missing or corrupt shard
	Healed  int64 // shard files rewritten
	Failed  int64 // shard sets that could not be fully rebuilt
}

func (o ScrubOptions) withDefaults() ScrubOptions {
	if o.Interval == 0 {
		o.Interval = DefaultScrubInterval
	}
	if o.Rate <= 0 {
		o.Rate = DefaultScrubRate
	}
	return o
}

func (e *Engine) loadScrubRecord() (scrubRecord, error) {
	var r scrubRecord
	raw, err := e.meta.Get(scrubStateKey)
	if errors.Is(err, metadata.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return r, mapErr(err)
	}
	return r, jsonUnmarshal(raw, &r)
}

func (e *Engine) saveScrubRecord(r scrubRecord) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	b := metadata.NewBatch()
	b.Set(scrubStateKey, raw)
	return mapErr(e.meta.Apply(b))
}

// scrubWorker runs a pass whenever one is due and sleeps until the next
// one is due.
func (e *Engine) scrubWorker() {
	defer e.wg.Done()
	interval := e.scrub.opts.Interval
	retry := time.Minute // after a failed pass or state read; doubles up to the interval
	for {
		var wait time.Duration
		rec, err := e.loadScrubRecord()
		switch {
		case err != nil:
			e.log.Warn("scrub: reading state", "err", err)
			wait, retry = retry, min(2*retry, interval)
		case rec.Cursor != "" || rec.LastCompleted.IsZero() || time.Since(rec.PassStarted) >= interval:
			ctx, cancel := e.stopContext()
			res, err := e.Scrub(ctx)
			cancel()
			switch {
			case errors.Is(err, context.Canceled), errors.Is(err, errEngineClosed):
				return
			case err != nil:
				e.log.Warn("scrub: pass failed, resuming later", "err", err, "verified", res.Sets, "retry_in", retry)
				wait, retry = retry, min(2*retry, interval)
			default:
				e.log.Info("scrub: pass complete", "sets", res.Sets, "bytes", res.Bytes, "damaged", res.Damaged, "healed", res.Healed, "failed", res.Failed)
				retry = time.Minute
				wait = interval - time.Since(res.PassStarted)
			}
		default:
			wait = interval - time.Since(rec.PassStarted)
		}
		t := time.NewTimer(max(wait, time.Second))
		select {
		case <-e.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// stopContext returns a context cancelled when the engine closes or the
// returned cancel is called.
func (e *Engine) stopContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-e.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	return ctx, cancel
}

// Scrub runs (or resumes) one scrub pass to its end: every shard set is
// verified on every drive and repaired where a shard is missing or corrupt,
// at the configured rate. Progress is saved as it goes, so a pass cut
// short by ctx, the engine's Close or a restart resumes where it stopped;
// it then returns why it stopped. It returns what this call verified.
func (e *Engine) Scrub(ctx context.Context) (ScrubResult, error) {
	rec, err := e.loadScrubRecord()
	if err != nil {
		return ScrubResult{}, err
	}
	if rec.Cursor == "" {
		rec.PassStarted = time.Now().UTC() // bookkeeping, not a retention decision: wall time
	}
	res := ScrubResult{PassStarted: rec.PassStarted}
	start, lastSave := time.Now(), time.Now()
	var paced int64 // stored bytes read since start, paced against the rate
	err = e.eachRef(ctx, rec.Cursor, func(id string) error {
		d, stored := e.scrubOne(id)
		res.add(d)
		rec.Cursor = id
		// The bytes read so far may not run ahead of the rate.
		paced += stored
		if ahead := time.Duration(float64(paced)/float64(e.scrub.opts.Rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
			t := time.NewTimer(ahead)
			select {
			case <-ctx.Done():
			case <-e.stop:
			case <-t.C:
			}
			t.Stop()
		}
		if time.Since(lastSave) > 10*time.Second {
			lastSave = time.Now()
			return e.saveScrubRecord(rec)
		}
		return nil
	})
	if err != nil {
		return res, errors.Join(err, e.saveScrubRecord(rec))
	}
	rec.Cursor = ""
	rec.LastCompleted = time.Now().UTC()
	e.scrub.passes.Add(1)
	e.scrub.lastDone.Store(rec.LastCompleted.Unix())
	return res, e.saveScrubRecord(rec)
}

// scrubOne verifies and repairs one shard set, adds the outcome to the
// scrub counters and returns it with the stored bytes read (0 when the
// set is gone or its reference unreadable).
func (e *Engine) scrubOne(id string) (ScrubResult, int64) {
	hr, stored, err := e.healOne(id)
	if stored < 0 {
		if err != nil {
			// Not verified; the next pass tries again.
			e.log.Warn("scrub: reading shard set reference", "data", id, "err", err)
		}
		return ScrubResult{}, 0
	}
	d := ScrubResult{Sets: 1, Healed: int64(len(hr.Healed))}
	if err == nil {
		d.Bytes = stored // verified only when every block was
	} else {
		d.Failed = 1
	}
	if len(hr.Bad) > 0 || errors.Is(err, erasure.ErrReadQuorum) {
		d.Damaged = 1
	}
	e.scrub.sets.Add(d.Sets)
	e.scrub.bytes.Add(d.Bytes)
	e.scrub.damaged.Add(d.Damaged)
	return d, stored
}

func (r *ScrubResult) add(d ScrubResult) {
	r.Sets += d.Sets
	r.Bytes += d.Bytes
	r.Damaged += d.Damaged
	r.Healed += d.Healed
	r.Failed += d.Failed
}

// ScrubMetrics is the s3api.MetricsSource of the scrubber and of healing.
type ScrubMetrics struct{ e *Engine }

// ScrubMetrics returns the engine's scrub and heal metrics source.
func (e *Engine) ScrubMetrics() ScrubMetrics { return ScrubMetrics{e} }

// WriteMetrics writes the scrub and heal families. It never blocks.
func (m ScrubMetrics) WriteMetrics(w io.Writer) {
	s := &m.e.scrub
	for _, f := range []struct {
		name, typ, help string
		v               int64
	}{
		{"coffer_scrub_passes_total", "counter", "Complete scrub passes over every shard set.", s.passes.Load()},
		{"coffer_scrub_sets_total", "counter", "Shard sets verified on every drive by the scrubber.", s.sets.Load()},
		{"coffer_scrub_bytes_total", "counter", "Stored shard bytes verified by the scrubber, every drive counted.", s.bytes.Load()},
		{"coffer_scrub_damaged_total", "counter", "Shard sets the scrubber found with a missing or corrupt shard.", s.damaged.Load()},
		{"coffer_scrub_last_pass_timestamp_seconds", "gauge", "End of the last complete scrub pass of this process (Unix time; 0: none yet).", s.lastDone.Load()},
		{"coffer_heal_shards_total", "counter", "Shard files rewritten by healing (after reads, writes, drive replacement or scrub).", s.healed.Load()},
		{"coffer_heal_failed_total", "counter", "Heals that could not rewrite every missing or corrupt shard (retried later).", s.healFailed.Load()},
		{"coffer_heal_unreadable_total", "counter", "Heals that found fewer good shards than needed to rebuild an object.", s.unreachable.Load()},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", f.name, f.help, f.name, f.typ, f.name, f.v)
	}
}

// countHeal adds one heal's outcome to the heal counters.
func (e *Engine) countHeal(res erasure.HealResult, err error) {
	e.scrub.healed.Add(int64(len(res.Healed)))
	if err != nil {
		e.scrub.healFailed.Add(1)
		if errors.Is(err, erasure.ErrReadQuorum) {
			e.scrub.unreachable.Add(1)
		}
	}
}
