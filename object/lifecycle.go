package object

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/lifecycle"
	"github.com/cofferstore/coffer/metadata"
)

// LifecycleConfigName is the name under which a bucket's lifecycle
// configuration document (AWS XML, validated by lifecycle.Parse) is kept
// with SetBucketConfig.
const LifecycleConfigName = "lifecycle"

// Lifecycle scheduler defaults.
const (
	DefaultLifecycleInterval = 10 * time.Minute
	DefaultLifecycleRate     = 100
)

// LifecycleOptions configure the lifecycle scheduler. Zero values take the
// defaults.
type LifecycleOptions struct {
	// Interval between background runs (default 10 minutes); negative
	// disables background runs (runs then happen only on request).
	Interval time.Duration
	// Rate bounds the scheduler's write actions per second (default 100).
	Rate float64
	// Day is the length of a lifecycle day (default 24h). Shorter days are
	// for tests only: they scale every Days value and the rounding of due
	// times to day boundaries.
	Day time.Duration
	// OverdueSLA is how long an item may stay due before it counts as
	// overdue (default one Day).
	OverdueSLA time.Duration
}

func (o LifecycleOptions) withDefaults() LifecycleOptions {
	if o.Interval == 0 {
		o.Interval = DefaultLifecycleInterval
	}
	if o.Rate <= 0 {
		o.Rate = DefaultLifecycleRate
	}
	if o.Day <= 0 {
		o.Day = lifecycle.DefaultDay
	}
	if o.OverdueSLA <= 0 {
		o.OverdueSLA = o.Day
	}
	return o
}

// The action kinds a rule's scheduler state is kept for, each scanning one
// index.
const (
	kindCurrent    = "current"    // Expiration Days/Date, index A
	kindNoncurrent = "noncurrent" // NoncurrentVersionExpiration, index O
	kindMarker     = "marker"     // ExpiredObjectDeleteMarker, index A
	kindUpload     = "upload"     // AbortIncompleteMultipartUpload, index M
)

// Skip reasons (the metric's reason label: a bounded set).
const (
	skipRetention = "retention"
	skipLegalHold = "legal-hold"
)

// lcState is the scheduler's in-memory state: one run at a time, the
// metrics since start and the last run's outcome.
type lcState struct {
	opts LifecycleOptions
	run  sync.Mutex // held for the whole of a run
	kick chan struct{}

	mu      sync.Mutex // guards the fields below
	running bool
	lastRun time.Time
	lastErr string
	expired int64
	bytes   int64
	aborted int64
	skipped map[string]int64
	overdue int64
}

// lcCursor is the persisted state of one (bucket, rule, kind). It is
// updated in the same metadata batch as every action it counts, so a crash
// never loses or repeats a count.
type lcCursor struct {
	Hash    string `json:"hash"`          // of the rule: a changed rule rescans
	Pos     []byte `json:"pos,omitempty"` // last index key passed
	Expired int64  `json:"expired"`
	Bytes   int64  `json:"bytes"`
	Aborted int64  `json:"aborted"`
	Skipped int64  `json:"skipped"`
	LastRun int64  `json:"last_run,omitempty"`
}

// lcPending is a skipped item awaiting retry; its key embeds the index key.
type lcPending struct {
	Reason string `json:"reason"`
}

// lcBucketPrefix is the prefix of a bucket's cursors ('c') or pending
// items ('p').
func lcBucketPrefix(sub byte, bucket string) []byte {
	b := []byte{tagLifecycle, sub}
	b = append(b, bucket...)
	return append(b, 0)
}

func lcKey(sub byte, bucket, rule, kind string) []byte {
	b := lcBucketPrefix(sub, bucket)
	b = append(b, rule...)
	b = append(b, 0)
	b = append(b, kind...)
	return b
}

func cursorKey(bucket, rule, kind string) []byte { return lcKey('c', bucket, rule, kind) }

func pendingPrefix(bucket, rule, kind string) []byte {
	return append(lcKey('p', bucket, rule, kind), 0)
}

func ruleHash(r *lifecycle.Rule) string {
	b, _ := xml.Marshal(r)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// ruleKinds returns the kinds of action rule r takes.
func ruleKinds(r *lifecycle.Rule) []string {
	var out []string
	if x := r.Expiration; x != nil {
		if x.Days != nil || x.Date != nil {
			out = append(out, kindCurrent)
		}
		// Expiration Days also cleans up expired delete markers once they
		// are old enough (lifecycle.Rule.EvaluateVersion).
		if x.Days != nil || (x.ExpiredObjectDeleteMarker != nil && *x.ExpiredObjectDeleteMarker) {
			out = append(out, kindMarker)
		}
	}
	if r.NoncurrentVersionExpiration != nil {
		out = append(out, kindNoncurrent)
	}
	if r.AbortIncompleteMultipartUpload != nil {
		out = append(out, kindUpload)
	}
	return out
}

func kindTag(kind string) byte {
	switch kind {
	case kindNoncurrent:
		return tagNoncurrent
	case kindUpload:
		return tagUploadAge
	}
	return tagAge
}

// threshold returns the latest index time at which an item of this rule
// and kind is due at now (false: nothing is due yet).
func threshold(r *lifecycle.Rule, kind string, now time.Time, day time.Duration) (time.Time, bool) {
	switch kind {
	case kindCurrent:
		if r.Expiration.Days != nil {
			return lifecycle.Threshold(now, *r.Expiration.Days, day), true
		}
		d, ok := r.ExpirationDate()
		if !ok || now.Before(d) {
			return time.Time{}, false
		}
		return now, true
	case kindNoncurrent:
		return lifecycle.Threshold(now, *r.NoncurrentVersionExpiration.NoncurrentDays, day), true
	case kindMarker:
		if x := r.Expiration; x.Days != nil {
			return lifecycle.Threshold(now, *x.Days, day), true
		}
		return lifecycle.Threshold(now, 0, day), true
	case kindUpload:
		return lifecycle.Threshold(now, *r.AbortIncompleteMultipartUpload.DaysAfterInitiation, day), true
	}
	return time.Time{}, false
}

// lifecycleRetag adds to b (the batch that rewrites v's tags) a pending
// entry for every enabled tag-filtered rule that acts on v, so that the
// next run evaluates v under its new tags even when the rule's cursor has
// already passed v's index entry (a version tagged after it was scanned).
// A pending entry that is not due is dropped or kept by the run's usual
// rules.
func (e *Engine) lifecycleRetag(b *metadata.Batch, brec *bucketRecord, key string, v *versionRecord) error {
	cfg, err := bucketLifecycle(brec)
	if err != nil || cfg == nil {
		return nil // an unreadable configuration acts on nothing
	}
	var vers []*versionRecord // the key's versions, newest first (loaded once)
	for i := range cfg.Rules {
		rule := &cfg.Rules[i]
		f := rule.Filter
		if !rule.Enabled() || f == nil || (f.Tag == nil && (f.And == nil || len(f.And.Tags) == 0)) {
			continue
		}
		for _, kind := range ruleKinds(rule) {
			if kind != kindCurrent && kind != kindNoncurrent {
				continue
			}
			if vers == nil {
				prefix := append(objPrefix(tagVersion, brec.Name, key), 0)
				if err := e.scan(prefix, prefixEnd(prefix), func(_, raw []byte) error {
					r, err := decodeVersion(raw)
					vers = append(vers, r)
					return err
				}); err != nil {
					return err
				}
			}
			idx := slices.IndexFunc(vers, func(o *versionRecord) bool { return bytes.Equal(o.VSort, v.VSort) })
			var ik []byte
			switch {
			case idx < 0:
				continue
			case idx == 0 && kind == kindCurrent:
				ik = ageKey(brec.Name, key, v)
			case idx > 0 && kind == kindNoncurrent:
				ik = noncurrentKey(brec.Name, key, vsortTime(vers[idx-1].VSort), v.VSort)
			default:
				continue
			}
			b.Set(append(pendingPrefix(brec.Name, rule.ID, kind), ik...), mustJSON(lcPending{Reason: "retagged"}))
		}
	}
	return nil
}

// bucketLifecycle returns a bucket's parsed configuration (nil if none).
func bucketLifecycle(brec *bucketRecord) (*lifecycle.Configuration, error) {
	raw, ok := brec.Configs[LifecycleConfigName]
	if !ok {
		return nil, nil
	}
	return lifecycle.Parse(raw)
}

func (s *lcState) count(f func(*lcState)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// LifecyclePreview implements admin.Lifecycle: what a run of bucket would
// do now. It changes nothing; a run started right after, at the same
// compliance time, does exactly what it lists.
func (e *Engine) LifecyclePreview(ctx context.Context, bucket string) (admin.LifecycleReport, error) {
	e.lc.run.Lock()
	defer e.lc.run.Unlock()
	rep := admin.LifecycleReport{DryRun: true, Now: e.now(), Items: []admin.LifecycleItem{}}
	if e.closed() {
		return rep, errStopped
	}
	err := e.runBucket(ctx, bucket, true, &rep)
	return rep, adminErr(err)
}

// LifecycleRun implements admin.Lifecycle.
func (e *Engine) LifecycleRun(ctx context.Context, bucket string, wait bool) (admin.LifecycleReport, error) {
	if bucket != "" {
		if _, err := e.bucket(bucket); err != nil {
			return admin.LifecycleReport{}, adminErr(err)
		}
	}
	if !wait {
		select {
		case e.lc.kick <- struct{}{}:
		default: // a run is already queued
		}
		return admin.LifecycleReport{Started: true, Items: []admin.LifecycleItem{}}, nil
	}
	rep, err := e.runLifecycle(ctx, bucket)
	return rep, adminErr(err)
}

// runLifecycle runs one bucket ("" = every bucket with a configuration).
func (e *Engine) runLifecycle(ctx context.Context, bucket string) (admin.LifecycleReport, error) {
	e.lc.run.Lock()
	defer e.lc.run.Unlock()
	if e.closed() {
		return admin.LifecycleReport{Interrupted: true}, nil
	}
	e.lc.count(func(s *lcState) { s.running = true })
	rep := admin.LifecycleReport{Now: e.now(), Items: []admin.LifecycleItem{}}
	buckets := []string{bucket}
	if bucket == "" {
		bs, err := e.ListBuckets(ctx)
		if err != nil {
			return rep, err
		}
		buckets = buckets[:0]
		for _, b := range bs {
			if _, ok := b.Configs[LifecycleConfigName]; ok {
				buckets = append(buckets, b.Name)
			}
		}
	}
	var err error
	for _, b := range buckets {
		if err = e.runBucket(ctx, b, false, &rep); err != nil {
			break
		}
	}
	if errors.Is(err, errStopped) {
		rep.Interrupted, err = true, nil
	}
	ov, oerr := e.lifecycleOverdue(ctx)
	e.lc.count(func(s *lcState) {
		s.running = false
		s.lastRun = rep.Now
		s.lastErr = ""
		if err != nil {
			s.lastErr = err.Error()
		}
		if oerr == nil {
			s.overdue = ov
		}
	})
	return rep, err
}

// adminErr maps object sentinels to the admin API's classes.
func adminErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoSuchBucket):
		return fmt.Errorf("%w: %v", admin.ErrNotFound, err)
	}
	var le *lifecycle.Error
	if errors.As(err, &le) {
		return fmt.Errorf("%w: stored lifecycle configuration: %v", admin.ErrInvalid, err)
	}
	return err
}

// overdueLimit bounds the entries counted per rule for the overdue gauge.
const overdueLimit = 100_000

// ruleOverdue counts the entries of a rule's index that were due more than
// the SLA ago and that its cursor has not passed.
func (e *Engine) ruleOverdue(bucket string, rule *lifecycle.Rule, kind string, cur lcCursor, now time.Time) (int64, error) {
	if cur.Hash != ruleHash(rule) {
		cur.Pos = nil
	}
	th, ok := threshold(rule, kind, now.Add(-e.lc.opts.OverdueSLA), e.lc.opts.Day)
	if !ok {
		return 0, nil
	}
	tag := kindTag(kind)
	lower := append([]byte{tag}, bucket...)
	lower = append(lower, 0)
	if cur.Pos != nil && bytes.Compare(cur.Pos, lower) > 0 {
		lower = append(bytes.Clone(cur.Pos), 0)
	}
	var n int64
	err := e.scan(lower, timeIndexBound(tag, bucket, th.UnixNano()), func(k, _ []byte) error {
		if kind == kindMarker {
			// The age index holds every version: only delete markers
			// count for the marker action.
			ent, err := parseIndexKey(k, bucket)
			if err != nil {
				return nil
			}
			v, err := e.versionBySort(bucket, ent.key, ent.suffix)
			if err != nil || !v.DeleteMarker {
				return nil
			}
		}
		if n++; n >= overdueLimit {
			return errStopped
		}
		return nil
	})
	if errors.Is(err, errStopped) {
		err = nil
	}
	return n, err
}

// lifecycleRules calls fn for every enabled rule and kind of every bucket
// with a lifecycle configuration.
func (e *Engine) lifecycleRules(ctx context.Context, fn func(b BucketInfo, r *lifecycle.Rule, kind string) error) error {
	bs, err := e.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		raw, ok := b.Configs[LifecycleConfigName]
		if !ok {
			continue
		}
		cfg, err := lifecycle.Parse(raw)
		if err != nil {
			e.log.Warn("lifecycle: stored configuration invalid", "bucket", b.Name, "err", err)
			continue
		}
		for i := range cfg.Rules {
			r := &cfg.Rules[i]
			if !r.Enabled() {
				continue
			}
			for _, k := range ruleKinds(r) {
				if err := fn(b, r, k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// lifecycleOverdue is the overdue gauge: items due for longer than the SLA
// that no run has acted on.
func (e *Engine) lifecycleOverdue(ctx context.Context) (int64, error) {
	now := e.now()
	var total int64
	err := e.lifecycleRules(ctx, func(b BucketInfo, r *lifecycle.Rule, kind string) error {
		cur, err := e.loadCursor(b.Name, r.ID, kind)
		if err != nil {
			return err
		}
		n, err := e.ruleOverdue(b.Name, r, kind, cur, now)
		total += n
		return err
	})
	return total, err
}

// LifecycleStatus implements admin.Lifecycle.
func (e *Engine) LifecycleStatus(ctx context.Context) (admin.LifecycleStatus, error) {
	now := e.now()
	st := admin.LifecycleStatus{Rules: []admin.LifecycleRuleStatus{}}
	e.lc.count(func(s *lcState) { st.Running, st.LastRun, st.LastErr = s.running, s.lastRun, s.lastErr })
	err := e.lifecycleRules(ctx, func(b BucketInfo, r *lifecycle.Rule, kind string) error {
		cur, err := e.loadCursor(b.Name, r.ID, kind)
		if err != nil {
			return err
		}
		rs := admin.LifecycleRuleStatus{Bucket: b.Name, Rule: r.ID, Kind: kind,
			Expired: cur.Expired, Bytes: cur.Bytes, Aborted: cur.Aborted, Skipped: cur.Skipped}
		if cur.LastRun != 0 {
			rs.LastRun = time.Unix(0, cur.LastRun).UTC()
		}
		if cur.Hash == ruleHash(r) && len(cur.Pos) > 0 {
			if ent, err := parseIndexKey(cur.Pos, b.Name); err == nil {
				rs.Cursor = time.Unix(0, ent.at).UTC()
			}
		}
		pp := pendingPrefix(b.Name, r.ID, kind)
		if err := e.scan(pp, prefixEnd(pp), func(_, _ []byte) error { rs.Pending++; return nil }); err != nil {
			return err
		}
		if rs.Overdue, err = e.ruleOverdue(b.Name, r, kind, cur, now); err != nil {
			return err
		}
		st.Rules = append(st.Rules, rs)
		return nil
	})
	sort.SliceStable(st.Rules, func(i, j int) bool { return st.Rules[i].Bucket < st.Rules[j].Bucket })
	return st, err
}

// startLifecycle starts the background scheduler: a run of every bucket at
// each interval, or when LifecycleRun asks without waiting.
func (e *Engine) startLifecycle() {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		var tick <-chan time.Time
		if e.lc.opts.Interval > 0 {
			t := time.NewTicker(e.lc.opts.Interval)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-e.stop:
				return
			case <-tick:
			case <-e.lc.kick:
			}
			// Refresh the overdue gauge first: it rises even when runs
			// cannot keep up.
			if ov, err := e.lifecycleOverdue(context.Background()); err == nil {
				e.lc.count(func(s *lcState) { s.overdue = ov })
			}
			if _, err := e.runLifecycle(context.Background(), ""); err != nil {
				e.log.Error("lifecycle run failed", "err", err)
			}
		}
	}()
}

// LifecycleMetrics is the lifecycle scheduler's Prometheus metrics source
// (an s3api.MetricsSource). Counters count since the process started; the
// persisted per-rule counts are in LifecycleStatus.
type LifecycleMetrics struct{ s *lcState }

// LifecycleMetrics returns the scheduler's metrics source.
func (e *Engine) LifecycleMetrics() LifecycleMetrics { return LifecycleMetrics{e.lc} }

// WriteMetrics writes the lifecycle metric families.
func (m LifecycleMetrics) WriteMetrics(w io.Writer) {
	s := m.s
	s.mu.Lock()
	expired, bytes, aborted, overdue := s.expired, s.bytes, s.aborted, s.overdue
	skipped := map[string]int64{skipRetention: s.skipped[skipRetention], skipLegalHold: s.skipped[skipLegalHold]}
	s.mu.Unlock()
	fmt.Fprintf(w, "# HELP coffer_lifecycle_expired_objects_total Object versions and delete markers expired by lifecycle rules.\n# TYPE coffer_lifecycle_expired_objects_total counter\ncoffer_lifecycle_expired_objects_total %d\n", expired)
	fmt.Fprintf(w, "# HELP coffer_lifecycle_expired_bytes_total Bytes of object versions removed by lifecycle rules.\n# TYPE coffer_lifecycle_expired_bytes_total counter\ncoffer_lifecycle_expired_bytes_total %d\n", bytes)
	fmt.Fprintf(w, "# HELP coffer_lifecycle_skipped_total Items lifecycle rules skipped, by reason (each item counted once).\n# TYPE coffer_lifecycle_skipped_total counter\n")
	for _, r := range []string{skipLegalHold, skipRetention} {
		fmt.Fprintf(w, "coffer_lifecycle_skipped_total{reason=%q} %d\n", r, skipped[r])
	}
	fmt.Fprintf(w, "# HELP coffer_lifecycle_overdue_items Items due for longer than the lifecycle SLA and not yet acted on.\n# TYPE coffer_lifecycle_overdue_items gauge\ncoffer_lifecycle_overdue_items %d\n", overdue)
	fmt.Fprintf(w, "# HELP coffer_lifecycle_aborted_uploads_total Incomplete multipart uploads aborted by lifecycle rules.\n# TYPE coffer_lifecycle_aborted_uploads_total counter\ncoffer_lifecycle_aborted_uploads_total %d\n", aborted)
}
