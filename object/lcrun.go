package object

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/lifecycle"
	"github.com/cofferstore/coffer/metadata"
)

// One lifecycle run: the scan of each rule's index from its cursor, and
// the actions on the entries that are due (see lifecycle.go for the
// scheduler around it and docs/architecture.md for the design).

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

// tagsOf returns the tags of version v of key when rule filters on tags
// (opening its sealed description; nil
// otherwise: they are not needed). It is the one place the scheduler reads
// a version's description.
func (r *lcRun) tagsOf(rule *lifecycle.Rule, key string, v *versionRecord) (map[string]string, error) {
	f := rule.Filter
	if f == nil || (f.Tag == nil && (f.And == nil || len(f.And.Tags) == 0)) {
		return nil, nil
	}
	if err := r.e.openVersion(r.ctx, v, r.bucket, key); err != nil {
		return nil, err
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
	tags, err := r.tagsOf(rule, ent.key, v)
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
// the marker is removed at once if a rule selects it and it is due (an
// ExpiredObjectDeleteMarker rule, or an Expiration Days rule once the
// marker is that old): the marker may be older than that rule's cursor, so
// its scan would not meet it again. The caller holds the key lock.
func (r *lcRun) followMarker(done lifecycle.Action, key string) error {
	if done != lifecycle.ExpireNoncurrent || r.superseded[key] {
		return nil
	}
	vers, err := r.keyVersions(key)
	if err != nil || len(vers) != 1 || !vers[0].DeleteMarker {
		return err
	}
	m := vers[0]
	lv := lifecycle.Version{Key: key, DeleteMarker: true, IsLatest: true, ModTime: time.Unix(0, m.ModTime).UTC()}
	for i := range r.cfg.Rules {
		rule := &r.cfg.Rules[i]
		if d := rule.EvaluateVersion(lv, r.e.lc.opts.Day); d.Action != lifecycle.ExpireDeleteMarker || d.Due.After(r.now) {
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
	// The marker may wait in the pending lists of marker rules (it had
	// other versions when their scans met it): it is gone now.
	ik := ageKey(r.bucket, key, m)
	for i := range r.cfg.Rules {
		b.Delete(append(pendingPrefix(r.bucket, r.cfg.Rules[i].ID, kindMarker), ik...))
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
	err = e.abortUpload(r.bucket, ent.key, id, removal{Actor: "lifecycle", Rule: rule.ID, Path: "Lifecycle." + lifecycle.AbortUpload.String()}, func(b *metadata.Batch) {
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
