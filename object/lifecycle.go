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

func lcKey(sub byte, bucket, rule, kind string) []byte {
	b := []byte{tagLifecycle, sub}
	b = append(b, bucket...)
	b = append(b, 0)
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
		if x.ExpiredObjectDeleteMarker != nil && *x.ExpiredObjectDeleteMarker {
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
		return lifecycle.Threshold(now, 0, day), true
	case kindUpload:
		return lifecycle.Threshold(now, *r.AbortIncompleteMultipartUpload.DaysAfterInitiation, day), true
	}
	return time.Time{}, false
}

// bucketLifecycle returns a bucket's parsed configuration (nil if none).
func bucketLifecycle(brec *bucketRecord) (*lifecycle.Configuration, error) {
	raw, ok := brec.Configs[LifecycleConfigName]
	if !ok {
		return nil, nil
	}
	return lifecycle.Parse(raw)
}

// lcRun is one run (or preview) of one bucket.
type lcRun struct {
	e      *Engine
	ctx    context.Context
	dry    bool
	now    time.Time
	bucket string
	brec   *bucketRecord
	cfg    *lifecycle.Configuration
	rep    *admin.LifecycleReport
	// Dry runs simulate their own effects: versions removed and keys given
	// a new delete marker.
	removed    map[string]bool
	superseded map[string]bool
	next       time.Time // rate limiter
}

// closed reports whether Close has begun.
func (e *Engine) closed() bool {
	select {
	case <-e.stop:
		return true
	default:
		return false
	}
}

// errStopped ends a run early when the engine closes.
var errStopped = errors.New("object: lifecycle run stopped")

func (r *lcRun) stopped() error {
	select {
	case <-r.e.stop:
		return errStopped
	default:
	}
	return r.ctx.Err()
}

// pace waits for the next write slot of the rate limit.
func (r *lcRun) pace() error {
	if r.dry {
		return nil
	}
	gap := time.Duration(float64(time.Second) / r.e.lc.opts.Rate)
	now := time.Now()
	if r.next.After(now) {
		t := time.NewTimer(r.next.Sub(now))
		select {
		case <-r.e.stop:
			t.Stop()
			return errStopped
		case <-r.ctx.Done():
			t.Stop()
			return r.ctx.Err()
		case <-t.C:
		}
		now = time.Now()
	}
	r.next = now.Add(gap)
	return nil
}

func (e *Engine) loadCursor(bucket, rule, kind string) (lcCursor, error) {
	var c lcCursor
	raw, err := e.meta.Get(cursorKey(bucket, rule, kind))
	if errors.Is(err, metadata.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return c, mapErr(err)
	}
	return c, jsonUnmarshal(raw, &c)
}

// runBucket runs (or, dry, previews) every enabled rule of one bucket.
func (e *Engine) runBucket(ctx context.Context, bucket string, dry bool, rep *admin.LifecycleReport) error {
	brec, err := e.bucket(bucket)
	if err != nil {
		return err
	}
	cfg, err := bucketLifecycle(brec)
	if err != nil || cfg == nil {
		return err
	}
	r := &lcRun{e: e, ctx: ctx, dry: dry, now: rep.Now, bucket: bucket, brec: brec, cfg: cfg, rep: rep,
		removed: map[string]bool{}, superseded: map[string]bool{}}
	for i := range cfg.Rules {
		rule := &cfg.Rules[i]
		if !rule.Enabled() {
			continue
		}
		for _, kind := range ruleKinds(rule) {
			if err := r.runRule(rule, kind); err != nil {
				return err
			}
		}
	}
	return nil
}

// runRule retries the rule's pending items, then scans its index from the
// cursor up to the due threshold.
func (r *lcRun) runRule(rule *lifecycle.Rule, kind string) error {
	e := r.e
	cur, err := e.loadCursor(r.bucket, rule.ID, kind)
	if err != nil {
		return err
	}
	if h := ruleHash(rule); cur.Hash != h {
		cur.Hash, cur.Pos = h, nil
	}
	// Pending (skipped) items first.
	var pend [][]byte
	pp := pendingPrefix(r.bucket, rule.ID, kind)
	if err := e.scan(pp, prefixEnd(pp), func(k, _ []byte) error {
		pend = append(pend, bytes.Clone(k[len(pp):]))
		return nil
	}); err != nil {
		return err
	}
	for _, ik := range pend {
		if err := r.stopped(); err != nil {
			return err
		}
		if err := r.item(rule, kind, ik, &cur, true); err != nil {
			return err
		}
	}
	th, ok := threshold(rule, kind, r.now, e.lc.opts.Day)
	if ok {
		tag := kindTag(kind)
		lower := append([]byte{tag}, r.bucket...)
		lower = append(lower, 0)
		if cur.Pos != nil && bytes.Compare(cur.Pos, lower) > 0 {
			lower = append(bytes.Clone(cur.Pos), 0)
		}
		upper := timeIndexBound(tag, r.bucket, th.UnixNano())
		passed := 0
		for {
			keys, err := e.page(lower, upper, 256)
			if err != nil {
				return err
			}
			for _, ik := range keys {
				if err := r.stopped(); err != nil {
					return err
				}
				if err := r.item(rule, kind, ik, &cur, false); err != nil {
					return err
				}
				if passed++; passed%256 == 0 && !r.dry {
					if err := e.saveCursor(r.bucket, rule.ID, kind, &cur, nil); err != nil {
						return err
					}
				}
			}
			if len(keys) < 256 {
				break
			}
			lower = append(bytes.Clone(keys[len(keys)-1]), 0)
		}
	}
	if r.dry {
		return nil
	}
	cur.LastRun = r.now.UnixNano()
	return e.saveCursor(r.bucket, rule.ID, kind, &cur, nil)
}

// page returns up to n keys in [lower, upper).
func (e *Engine) page(lower, upper []byte, n int) ([][]byte, error) {
	it, err := e.meta.NewIter(lower, upper)
	if err != nil {
		return nil, mapErr(err)
	}
	var out [][]byte
	for ok := it.First(); ok && len(out) < n; ok = it.Next() {
		out = append(out, bytes.Clone(it.Key()))
	}
	return out, mapErr(it.Close())
}

func (e *Engine) saveCursor(bucket, rule, kind string, c *lcCursor, b *metadata.Batch) error {
	own := b == nil
	if own {
		b = metadata.NewBatch()
	}
	b.Set(cursorKey(bucket, rule, kind), mustJSON(c))
	if !own {
		return nil
	}
	return mapErr(e.meta.Apply(b))
}

// tagsOf returns the tags of version v when rule filters on tags (nil
// otherwise: they are not needed). It is the one place the scheduler reads
// a version's description.
func (r *lcRun) tagsOf(rule *lifecycle.Rule, v *versionRecord) (map[string]string, error) {
	f := rule.Filter
	if f == nil || (f.Tag == nil && (f.And == nil || len(f.And.Tags) == 0)) {
		return nil, nil
	}
	return v.Tags, nil
}

// keyVersions returns the versions of a key, newest first, without those
// a dry run has removed.
func (r *lcRun) keyVersions(key string) ([]*versionRecord, error) {
	prefix := append(objPrefix(tagVersion, r.bucket, key), 0)
	var out []*versionRecord
	err := r.e.scan(prefix, prefixEnd(prefix), func(k, v []byte) error {
		if r.removed[string(k)] {
			return nil
		}
		rec, err := decodeVersion(v)
		if err != nil {
			return err
		}
		out = append(out, rec)
		return nil
	})
	return out, err
}

// item handles one index entry (or pending item) ik of a rule and kind:
// it decides whether the action is due, asks the retention check, and acts
// (or, dry, reports). The cursor passes ik unless it came from pending.
func (r *lcRun) item(rule *lifecycle.Rule, kind string, ik []byte, cur *lcCursor, fromPending bool) error {
	e := r.e
	ent, err := parseIndexKey(ik, r.bucket)
	if err != nil {
		e.log.Warn("lifecycle: malformed index key", "bucket", r.bucket, "err", err)
		return nil
	}
	if !fromPending {
		cur.Pos = ik
	}
	if !r.dry {
		unlock := e.lockKey(r.bucket, ent.key)
		defer unlock()
		brec, err := e.bucket(r.bucket)
		if err != nil {
			return err
		}
		r.brec = brec
	}
	if kind == kindUpload {
		return r.upload(rule, ik, ent, cur, fromPending)
	}
	vers, err := r.keyVersions(ent.key)
	if err != nil {
		return err
	}
	idx := -1
	for i, v := range vers {
		if bytes.Equal(v.VSort, ent.suffix) {
			idx = i
			break
		}
	}
	if idx < 0 {
		// Gone: a stale noncurrent hint or a pending item removed since.
		return r.forget(rule, kind, ik, cur, fromPending, kind == kindNoncurrent)
	}
	v := vers[idx]
	tags, err := r.tagsOf(rule, v)
	if err != nil {
		return err
	}
	sup := r.superseded[ent.key]
	lv := lifecycle.Version{
		Key: ent.key, Size: v.Size, Tags: tags, ModTime: time.Unix(0, v.ModTime).UTC(),
		IsLatest: idx == 0 && !sup, DeleteMarker: v.DeleteMarker,
		OtherVersions: len(vers) - 1,
	}
	if !lv.IsLatest {
		lv.NewerNoncurrent = idx - 1
		if sup {
			lv.NewerNoncurrent = idx
		}
		since := vsortTime(vers[max(idx-1, 0)].VSort)
		if kind == kindNoncurrent {
			since = ent.at
		}
		if idx == 0 {
			since = r.now.UnixNano()
		}
		lv.NoncurrentSince = time.Unix(0, since).UTC()
	}
	d := rule.EvaluateVersion(lv, e.lc.opts.Day)
	want := map[string]lifecycle.Action{kindCurrent: lifecycle.ExpireCurrent, kindNoncurrent: lifecycle.ExpireNoncurrent,
		kindMarker: lifecycle.ExpireDeleteMarker}[kind]
	if d.Action != want || d.Due.After(r.now) {
		if r.waiting(rule, kind, lv) {
			return r.deferItem(rule, kind, ik, fromPending)
		}
		return r.forget(rule, kind, ik, cur, fromPending, false)
	}
	it := admin.LifecycleItem{Bucket: r.bucket, Key: ent.key, VersionID: v.versionID(), Action: want.String(), Rule: rule.ID, Size: v.Size}
	path := "Lifecycle." + want.String()
	addsMarker := want == lifecycle.ExpireCurrent && r.brec.Versioning == VersioningEnabled
	// The version a removal would remove: v itself, or for Expiration in a
	// Suspended bucket the null version the new null marker replaces.
	var victim *versionRecord
	switch {
	case addsMarker:
	case want == lifecycle.ExpireCurrent && r.brec.Versioning == VersioningSuspended:
		for _, o := range vers {
			if o.Null {
				victim = o
			}
		}
	default:
		victim = v
	}
	if victim != nil {
		if err := e.checkRemove(victim, path, false); err != nil {
			reason := skipRetention
			if victim.Lock.LegalHold {
				reason = skipLegalHold
			}
			return r.skip(rule, kind, ik, cur, fromPending, it, reason)
		}
	}
	r.rep.Items = append(r.rep.Items, it)
	r.rep.Done++
	if r.dry {
		switch {
		case want == lifecycle.ExpireCurrent && r.brec.Versioning != "":
			r.superseded[ent.key] = true
			if victim != nil {
				r.removed[string(versionKey(r.bucket, ent.key, victim.VSort))] = true
			}
		default:
			r.removed[string(versionKey(r.bucket, ent.key, v.VSort))] = true
		}
		return r.followMarker(want, ent.key)
	}
	if err := r.pace(); err != nil {
		r.rep.Items, r.rep.Done = r.rep.Items[:len(r.rep.Items)-1], r.rep.Done-1
		return err
	}
	b := metadata.NewBatch()
	var garbage []string
	why := removal{Actor: "lifecycle", Rule: rule.ID, Path: path}
	if want == lifecycle.ExpireCurrent && r.brec.Versioning != "" {
		m := &versionRecord{VSort: newVSort(r.e.now()), DeleteMarker: true, Owner: r.brec.Owner}
		m.ModTime = vsortTime(m.VSort)
		if r.brec.Versioning == VersioningSuspended {
			// As DeleteObject: a null delete marker, replacing the null
			// version if there is one.
			if victim != nil {
				garbage = e.removeVersion(b, r.bucket, ent.key, victim, why)
			}
			m.Null = true
			b.Set(nullKey(r.bucket, ent.key), m.VSort)
		}
		if err := e.demoteLatest(b, r.bucket, ent.key, m.VSort, victim); err != nil {
			return err
		}
		e.putVersion(b, r.bucket, ent.key, m)
		b.Set(latestKey(r.bucket, ent.key), m.encode(false))
	} else {
		garbage = e.removeVersion(b, r.bucket, ent.key, v, why)
		if err := e.fixLatest(b, r.bucket, ent.key, v.VSort); err != nil {
			return err
		}
		if kind == kindNoncurrent {
			b.Delete(ik)
		}
	}
	cur.Expired++
	if victim != nil {
		cur.Bytes += victim.Size
	}
	if fromPending {
		b.Delete(append(pendingPrefix(r.bucket, rule.ID, kind), ik...))
	}
	e.saveCursor(r.bucket, rule.ID, kind, cur, b)
	if err := e.meta.Apply(b); err != nil {
		return mapErr(err)
	}
	e.queueGC(garbage)
	r.audit(it)
	e.lc.count(func(s *lcState) {
		s.expired++
		if victim != nil {
			s.bytes += victim.Size
		}
	})
	return r.followMarker(want, ent.key)
}

// followMarker: when a noncurrent expiration leaves only a delete marker,
// the marker is removed at once if an ExpiredObjectDeleteMarker rule
// selects it (the marker may be older than that rule's cursor, so its scan
// would not meet it again). The caller holds the key lock.
func (r *lcRun) followMarker(done lifecycle.Action, key string) error {
	if done != lifecycle.ExpireNoncurrent || r.superseded[key] {
		return nil
	}
	vers, err := r.keyVersions(key)
	if err != nil || len(vers) != 1 || !vers[0].DeleteMarker {
		return err
	}
	m := vers[0]
	for i := range r.cfg.Rules {
		rule := &r.cfg.Rules[i]
		x := rule.Expiration
		if !rule.Enabled() || x == nil || x.ExpiredObjectDeleteMarker == nil || !*x.ExpiredObjectDeleteMarker || !rule.Matches(key, 0, nil) {
			continue
		}
		return r.removeMarker(rule, key, m)
	}
	return nil
}

// removeMarker removes (dry: reports) a lone delete marker under rule.
func (r *lcRun) removeMarker(rule *lifecycle.Rule, key string, m *versionRecord) error {
	e := r.e
	path := "Lifecycle." + lifecycle.ExpireDeleteMarker.String()
	it := admin.LifecycleItem{Bucket: r.bucket, Key: key, VersionID: m.versionID(), Action: lifecycle.ExpireDeleteMarker.String(), Rule: rule.ID}
	if err := e.checkRemove(m, path, false); err != nil {
		return nil // a delete marker carries no lock: not reached
	}
	if r.dry {
		r.removed[string(versionKey(r.bucket, key, m.VSort))] = true
		r.rep.Items = append(r.rep.Items, it)
		r.rep.Done++
		return nil
	}
	cur, err := e.loadCursor(r.bucket, rule.ID, kindMarker)
	if err != nil {
		return err
	}
	if err := r.pace(); err != nil {
		return err
	}
	b := metadata.NewBatch()
	garbage := e.removeVersion(b, r.bucket, key, m, removal{Actor: "lifecycle", Rule: rule.ID, Path: path})
	if err := e.fixLatest(b, r.bucket, key, m.VSort); err != nil {
		return err
	}
	cur.Expired++
	e.saveCursor(r.bucket, rule.ID, kindMarker, &cur, b)
	if err := e.meta.Apply(b); err != nil {
		return mapErr(err)
	}
	e.queueGC(garbage)
	r.audit(it)
	r.rep.Items = append(r.rep.Items, it)
	r.rep.Done++
	e.lc.count(func(s *lcState) { s.expired++ })
	return nil
}

// upload handles one multipart upload entry.
func (r *lcRun) upload(rule *lifecycle.Rule, ik []byte, ent indexEntry, cur *lcCursor, fromPending bool) error {
	e := r.e
	id := string(ent.suffix)
	up, err := e.upload(r.bucket, ent.key, id)
	if errors.Is(err, ErrNoSuchUpload) || (err == nil && r.removed["u"+id]) {
		return r.forget(rule, kindUpload, ik, cur, fromPending, false)
	}
	if err != nil {
		return err
	}
	a := rule.AbortIncompleteMultipartUpload
	due := lifecycle.Due(time.Unix(0, up.Initiated), *a.DaysAfterInitiation, e.lc.opts.Day)
	if !rule.MatchesPrefix(ent.key) || due.After(r.now) {
		return r.forget(rule, kindUpload, ik, cur, fromPending, false)
	}
	r.rep.Items = append(r.rep.Items, admin.LifecycleItem{Bucket: r.bucket, Key: ent.key, UploadID: id, Action: lifecycle.AbortUpload.String(), Rule: rule.ID})
	r.rep.Done++
	if r.dry {
		r.removed["u"+id] = true
		return nil
	}
	if err := r.pace(); err != nil {
		r.rep.Items, r.rep.Done = r.rep.Items[:len(r.rep.Items)-1], r.rep.Done-1
		return err
	}
	cur.Aborted++
	err = e.abortUpload(r.bucket, ent.key, id, func(b *metadata.Batch) {
		e.saveCursor(r.bucket, rule.ID, kindUpload, cur, b)
	})
	if err != nil {
		cur.Aborted--
		return err
	}
	r.audit(r.rep.Items[len(r.rep.Items)-1])
	e.lc.count(func(s *lcState) { s.aborted++ })
	return nil
}

// forget passes an item that needs no action; a pending one is dropped,
// and so is a stale index hint (drop).
func (r *lcRun) forget(rule *lifecycle.Rule, kind string, ik []byte, cur *lcCursor, fromPending, drop bool) error {
	if r.dry || (!fromPending && !drop) {
		return nil
	}
	b := metadata.NewBatch()
	if fromPending {
		b.Delete(append(pendingPrefix(r.bucket, rule.ID, kind), ik...))
	}
	if drop {
		b.Delete(ik)
	}
	return mapErr(r.e.meta.Apply(b))
}

// waiting reports whether an index entry the rule passes now may become
// due later without a new index entry: a noncurrent version kept only by
// NewerNoncurrentVersions (newer versions will push it out), or a delete
// marker that still has other versions (they may go). Such entries wait in
// the pending list instead of being passed for good.
func (r *lcRun) waiting(rule *lifecycle.Rule, kind string, v lifecycle.Version) bool {
	switch kind {
	case kindNoncurrent:
		n := rule.NoncurrentVersionExpiration.NewerNoncurrentVersions
		size, tags := v.Size, v.Tags
		if v.DeleteMarker {
			size, tags = 0, nil
		}
		return !v.IsLatest && n != nil && v.NewerNoncurrent < *n && rule.Matches(v.Key, size, tags)
	case kindMarker:
		return v.IsLatest && v.DeleteMarker && v.OtherVersions > 0 && rule.Matches(v.Key, 0, nil)
	}
	return false
}

// deferItem records an entry that is not due yet but may become due (see
// waiting) for the next runs; it is neither reported nor counted.
func (r *lcRun) deferItem(rule *lifecycle.Rule, kind string, ik []byte, fromPending bool) error {
	if r.dry || fromPending {
		return nil
	}
	b := metadata.NewBatch()
	b.Set(append(pendingPrefix(r.bucket, rule.ID, kind), ik...), mustJSON(lcPending{Reason: "waiting"}))
	return mapErr(r.e.meta.Apply(b))
}

// skip reports a locked item, and on a real run records it for retry
// (once: a pending item is not counted again).
func (r *lcRun) skip(rule *lifecycle.Rule, kind string, ik []byte, cur *lcCursor, fromPending bool, it admin.LifecycleItem, reason string) error {
	it.Skipped = reason
	r.rep.Items = append(r.rep.Items, it)
	r.rep.Skipped++
	if r.dry || fromPending {
		return nil
	}
	b := metadata.NewBatch()
	b.Set(append(pendingPrefix(r.bucket, rule.ID, kind), ik...), mustJSON(lcPending{Reason: reason}))
	cur.Skipped++
	r.e.saveCursor(r.bucket, rule.ID, kind, cur, b)
	if err := r.e.meta.Apply(b); err != nil {
		cur.Skipped--
		return mapErr(err)
	}
	r.audit(it)
	r.e.lc.count(func(s *lcState) { s.skipped[reason]++ })
	return nil
}

// audit logs one action or first skip of a real run as the system actor
// "lifecycle" with the rule id (the removal itself also carries them to
// removeVersion for the deletion record).
func (r *lcRun) audit(it admin.LifecycleItem) {
	msg := "lifecycle action"
	if it.Skipped != "" {
		msg = "lifecycle skipped"
	}
	r.e.log.Info(msg, "actor", "lifecycle", "rule", it.Rule, "action", it.Action, "bucket", it.Bucket, "key", it.Key,
		"version", it.VersionID, "upload", it.UploadID, "size", it.Size, "reason", it.Skipped)
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
	err := e.scan(lower, timeIndexBound(tag, bucket, th.UnixNano()), func(_, _ []byte) error {
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
