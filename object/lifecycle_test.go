package object

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/lock"
	"github.com/cofferstore/coffer/metadata"
)

// lcClock is a settable fake compliance clock.
type lcClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lcClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *lcClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// lcEngine opens an engine on drives with background runs off, a 1-second
// lifecycle day and the given rate, on a fake clock.
func lcEngine(t *testing.T, drives []string, rate float64, clk *lcClock) *Engine {
	t.Helper()
	e, err := Open(Config{Drives: drives, MasterKey: testMasterKey,
		Lifecycle: LifecycleOptions{Interval: -1, Rate: rate, Day: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	e.now = clk.now
	return e
}

func setLifecycle(t *testing.T, e *Engine, bucket, rules string) {
	t.Helper()
	doc := `<LifecycleConfiguration>` + rules + `</LifecycleConfiguration>`
	if err := e.SetBucketConfig(ctx, bucket, LifecycleConfigName, []byte(doc)); err != nil {
		t.Fatal(err)
	}
}

func versionsOf(t *testing.T, e *Engine, bucket, key string) []*versionRecord {
	t.Helper()
	prefix := append(objPrefix(tagVersion, bucket, key), 0)
	var out []*versionRecord
	if err := e.scan(prefix, prefixEnd(prefix), func(_, v []byte) error {
		r, err := decodeVersion(v)
		out = append(out, r)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// previewThenRun checks that a preview lists exactly what the following
// run does, and returns the run's report.
func previewThenRun(t *testing.T, e *Engine, bucket string) admin.LifecycleReport {
	t.Helper()
	pre, err := e.LifecyclePreview(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.LifecycleRun(ctx, bucket, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pre.Items, run.Items) {
		t.Fatalf("preview != run:\npreview %+v\nrun     %+v", pre.Items, run.Items)
	}
	return run
}

func itemSummary(rep admin.LifecycleReport) string {
	var s []string
	for _, it := range rep.Items {
		x := it.Key + ":" + it.Action + ":" + it.Rule
		if it.Skipped != "" {
			x += ":skipped=" + it.Skipped
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

func ruleStatus(t *testing.T, e *Engine, bucket, rule, kind string) admin.LifecycleRuleStatus {
	t.Helper()
	st, err := e.LifecycleStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Rules {
		if r.Bucket == bucket && r.Rule == rule && r.Kind == kind {
			return r
		}
	}
	t.Fatalf("no status for %s/%s/%s in %+v", bucket, rule, kind, st.Rules)
	return admin.LifecycleRuleStatus{}
}

func TestLifecycleUnversioned(t *testing.T) {
	clk := &lcClock{t: time.Unix(1_700_000_000, 5e8).UTC()}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-u", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, "lc-u", "old/a", []byte("aaaa"))
	mustPut(t, e, "lc-u", "old/b", []byte("bb"))
	mustPut(t, e, "lc-u", "keep/c", []byte("lc-c"))
	upID, err := e.NewMultipartUpload(ctx, "lc-u", "old/up", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setLifecycle(t, e, "lc-u", `<Rule><ID>exp</ID><Status>Enabled</Status><Filter><Prefix>old/</Prefix></Filter><Expiration><Days>2</Days></Expiration></Rule>
<Rule><ID>mpu</ID><Status>Enabled</Status><Filter><Prefix></Prefix></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`)

	// Not due yet: due is t0 + 2 days rounded up to the next day boundary.
	clk.set(t0.Add(2 * time.Second))
	if rep := previewThenRun(t, e, "lc-u"); len(rep.Items) != 1 || rep.Items[0].UploadID != upID {
		t.Fatalf("at t0+2s: %s", itemSummary(rep))
	}
	if err := e.AbortMultipartUpload(ctx, "lc-u", "old/up", upID, AbortOptions{}); !errors.Is(err, ErrNoSuchUpload) {
		t.Fatalf("upload still there: %v", err)
	}
	clk.set(t0.Add(3 * time.Second))
	rep := previewThenRun(t, e, "lc-u")
	if got, want := itemSummary(rep), "old/a:Expiration:exp old/b:Expiration:exp"; got != want {
		t.Fatalf("items %q, want %q", got, want)
	}
	for _, k := range []string{"old/a", "old/b"} {
		if _, err := e.HeadObject(ctx, "lc-u", k, GetOptions{}); !errors.Is(err, ErrNoSuchKey) {
			t.Fatalf("%s after expiry: %v", k, err)
		}
	}
	if got := mustGet(t, e, "lc-u", "keep/c", GetOptions{}); string(got) != "lc-c" {
		t.Fatalf("keep/c = %q", got)
	}
	// Nothing twice.
	clk.set(t0.Add(10 * time.Second))
	if rep := previewThenRun(t, e, "lc-u"); len(rep.Items) != 0 {
		t.Fatalf("second run: %s", itemSummary(rep))
	}
	st := ruleStatus(t, e, "lc-u", "exp", kindCurrent)
	if st.Expired != 2 || st.Bytes != 6 || st.Overdue != 0 {
		t.Fatalf("status %+v", st)
	}
	if st := ruleStatus(t, e, "lc-u", "mpu", kindUpload); st.Aborted != 1 {
		t.Fatalf("upload status %+v", st)
	}
	// Each destruction left a deletion record naming the lifecycle as
	// actor and its rule.
	var recs []string
	if err := e.ExportDeletions(ctx, admin.DeletionFilter{Bucket: "lc-u"}, func(r admin.DeletionRecord) error {
		recs = append(recs, r.Key+":"+r.Actor+":"+r.Rule+":"+r.Path)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(recs)
	if want := []string{"old/a:lifecycle:exp:Lifecycle.Expiration", "old/b:lifecycle:exp:Lifecycle.Expiration", "old/up:lifecycle:mpu:Lifecycle.AbortIncompleteMultipartUpload"}; !slices.Equal(recs, want) {
		t.Fatalf("deletion records %q, want %q", recs, want)
	}
	var m bytes.Buffer
	e.LifecycleMetrics().WriteMetrics(&m)
	for _, want := range []string{"coffer_lifecycle_expired_objects_total 2\n", "coffer_lifecycle_expired_bytes_total 6\n", "coffer_lifecycle_aborted_uploads_total 1\n", "coffer_lifecycle_overdue_items 0\n"} {
		if !strings.Contains(m.String(), want) {
			t.Fatalf("metrics lack %q:\n%s", want, m.String())
		}
	}
}

func TestLifecycleVersioned(t *testing.T) {
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-v", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetBucketVersioning(ctx, "lc-v", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, "lc-v", "k", []byte("one"))
	clk.set(t0.Add(100 * time.Millisecond))
	mustPut(t, e, "lc-v", "k", []byte("two"))
	setLifecycle(t, e, "lc-v", `<Rule><ID>all</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>
<Rule><ID>dm</ID><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`)

	clk.set(t0.Add(2500 * time.Millisecond))
	rep := previewThenRun(t, e, "lc-v")
	// The current version gets a delete marker; the old one goes.
	if got, want := itemSummary(rep), "k:Expiration:all k:NoncurrentVersionExpiration:all"; got != want {
		t.Fatalf("first run %q, want %q", got, want)
	}
	vs := versionsOf(t, e, "lc-v", "k")
	if len(vs) != 2 || !vs[0].DeleteMarker || vs[1].DeleteMarker {
		t.Fatalf("after first run: %d versions", len(vs))
	}
	clk.set(t0.Add(5 * time.Second))
	rep = previewThenRun(t, e, "lc-v")
	// The marker goes under the first rule that selects it: "all" (its
	// Days also clean up old enough expired markers, as in AWS).
	if got, want := itemSummary(rep), "k:NoncurrentVersionExpiration:all k:ExpiredObjectDeleteMarker:all"; got != want {
		t.Fatalf("second run %q, want %q", got, want)
	}
	if vs := versionsOf(t, e, "lc-v", "k"); len(vs) != 0 {
		t.Fatalf("after second run: %d versions", len(vs))
	}
	if _, err := e.latest("lc-v", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("latest after all expired: %v", err)
	}
	// The marker waited in the pending list while it had an older version;
	// removing it cleared that entry too.
	if n, _ := countKeys(e, lcBucketPrefix('p', "lc-v")); n != 0 {
		t.Fatalf("%d pending entries left for a key with no versions", n)
	}

	// DeleteBucket drops the scheduler's state of the bucket: a bucket made
	// later under the same name starts with fresh cursors and counts.
	if n, _ := countKeys(e, lcBucketPrefix('c', "lc-v")); n == 0 {
		t.Fatal("no cursor before DeleteBucket: the check below would prove nothing")
	}
	if err := e.DeleteBucket(ctx, "lc-v"); err != nil {
		t.Fatal(err)
	}
	for _, p := range bucketStatePrefixes("lc-v") {
		if n, err := countKeys(e, p); err != nil || n != 0 {
			t.Errorf("%d keys left under %q after DeleteBucket (%v)", n, p, err)
		}
	}
	if err := e.MakeBucket(ctx, "lc-v", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	setLifecycle(t, e, "lc-v", `<Rule><ID>all</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`)
	if st := ruleStatus(t, e, "lc-v", "all", kindNoncurrent); st.Expired != 0 {
		t.Fatalf("the new bucket inherited the old one's counts: %+v", st)
	}
}

func TestLifecycleNewerNoncurrentVersions(t *testing.T) {
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-v", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetBucketVersioning(ctx, "lc-v", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		clk.set(t0.Add(time.Duration(i) * 10 * time.Millisecond))
		mustPut(t, e, "lc-v", "k", []byte{byte('a' + i)})
	}
	setLifecycle(t, e, "lc-v", `<Rule><ID>keep2</ID><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>`)
	clk.set(t0.Add(3 * time.Second))
	rep := previewThenRun(t, e, "lc-v")
	if rep.Done != 2 {
		t.Fatalf("removed %d, want the 2 oldest: %s", rep.Done, itemSummary(rep))
	}
	vs := versionsOf(t, e, "lc-v", "k")
	if len(vs) != 3 || string(vs[0].data) == "" {
		t.Fatalf("%d versions left, want current + 2 noncurrent", len(vs))
	}
}

// TestLifecycleLockInterplay: an expire-everything rule over locked and
// held versions deletes none of them, reports them, counts each once, and
// removes them after the lock ends.
func TestLifecycleLockInterplay(t *testing.T) {
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-l", MakeBucketOptions{ObjectLock: true}); err != nil {
		t.Fatal(err)
	}
	until := t0.Add(20 * time.Second)
	put := func(key string, lk *LockOptions) {
		if _, err := e.PutObject(ctx, "lc-l", key, bytes.NewReader([]byte(key)), int64(len(key)), PutOptions{Lock: lk}); err != nil {
			t.Fatal(err)
		}
	}
	put("locked", &LockOptions{Mode: lock.ModeCompliance, RetainUntil: until})
	put("held", &LockOptions{LegalHold: true, LegalHoldSet: true})
	put("free", nil)
	setLifecycle(t, e, "lc-l", `<Rule><ID>everything</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`)

	clk.set(t0.Add(2 * time.Second))
	rep := previewThenRun(t, e, "lc-l")
	// Expiration only adds delete markers (nothing is removed).
	if rep.Done != 3 || rep.Skipped != 0 {
		t.Fatalf("first run: %s", itemSummary(rep))
	}
	clk.set(t0.Add(5 * time.Second))
	rep = previewThenRun(t, e, "lc-l")
	// The unlocked key loses its old version and then its lone marker (the
	// rule's Days clean up expired markers); the locked ones keep both.
	if got, want := itemSummary(rep), "free:NoncurrentVersionExpiration:everything free:ExpiredObjectDeleteMarker:everything held:NoncurrentVersionExpiration:everything:skipped=legal-hold locked:NoncurrentVersionExpiration:everything:skipped=retention"; got != want {
		t.Fatalf("second run %q, want %q", got, want)
	}
	for _, k := range []string{"locked", "held"} {
		if vs := versionsOf(t, e, "lc-l", k); len(vs) != 2 {
			t.Fatalf("%s: %d versions, want data + marker", k, len(vs))
		}
	}
	// Skips are counted once, however often they are retried.
	clk.set(t0.Add(8 * time.Second))
	if rep := previewThenRun(t, e, "lc-l"); rep.Skipped != 2 || rep.Done != 0 {
		t.Fatalf("retry run: %s", itemSummary(rep))
	}
	st := ruleStatus(t, e, "lc-l", "everything", kindNoncurrent)
	if st.Skipped != 2 || st.Pending != 2 || st.Expired != 1 {
		t.Fatalf("status %+v", st)
	}
	checkTablesKnown(t, e) // versions, indexes, cursors and pending items
	var m bytes.Buffer
	e.LifecycleMetrics().WriteMetrics(&m)
	if !strings.Contains(m.String(), `coffer_lifecycle_skipped_total{reason="retention"} 1`) || !strings.Contains(m.String(), `coffer_lifecycle_skipped_total{reason="legal-hold"} 1`) {
		t.Fatalf("metrics:\n%s", m.String())
	}
	// The lock ends and the hold is released: the pending items go.
	vs := versionsOf(t, e, "lc-l", "held")
	if _, err := e.PutObjectLegalHold(ctx, "lc-l", "held", vs[1].versionID(), false); err != nil {
		t.Fatal(err)
	}
	clk.set(until.Add(time.Second))
	rep = previewThenRun(t, e, "lc-l")
	if rep.Done != 4 || rep.Skipped != 0 { // each old version, then its lone marker
		t.Fatalf("after release: %s", itemSummary(rep))
	}
	if st := ruleStatus(t, e, "lc-l", "everything", kindNoncurrent); st.Pending != 0 || st.Expired != 3 {
		t.Fatalf("status after release %+v", st)
	}
}

// TestLifecycleCrashResume stops the engine in the middle of a
// rate-limited run, reopens it and runs again: everything due is done and
// nothing is counted twice.
func TestLifecycleCrashResume(t *testing.T) {
	drives := drivePaths(t, 4)
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drives, 40, clk)
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-c", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		mustPut(t, e, "lc-c", "obj/"+string(rune('A'+i)), []byte("x"))
	}
	setLifecycle(t, e, "lc-c", `<Rule><ID>r</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`)
	clk.set(t0.Add(3 * time.Second))
	done := make(chan admin.LifecycleReport, 1)
	go func() {
		rep, err := e.LifecycleRun(ctx, "lc-c", true)
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	time.Sleep(300 * time.Millisecond) // ~12 actions at 40/s
	e.Close()
	first := <-done
	if !first.Interrupted || first.Done == 0 || first.Done >= n {
		t.Fatalf("first run: done %d interrupted %v", first.Done, first.Interrupted)
	}

	e = lcEngine(t, drives, 1000, clk)
	defer e.Close()
	if st := ruleStatus(t, e, "lc-c", "r", kindCurrent); st.Expired != int64(first.Done) {
		t.Fatalf("persisted count %d, first run did %d", st.Expired, first.Done)
	}
	second := previewThenRun(t, e, "lc-c")
	if first.Done+second.Done != n {
		t.Fatalf("first %d + second %d != %d", first.Done, second.Done, n)
	}
	seen := map[string]bool{}
	for _, it := range append(first.Items, second.Items...) {
		if seen[it.Key] {
			t.Fatalf("%s expired twice", it.Key)
		}
		seen[it.Key] = true
	}
	if st := ruleStatus(t, e, "lc-c", "r", kindCurrent); st.Expired != n {
		t.Fatalf("persisted count %d, want %d", st.Expired, n)
	}
	res, err := e.ListObjects(ctx, "lc-c", ListOptions{MaxKeys: 1000})
	if err != nil || len(res.Objects) != 0 {
		t.Fatalf("objects left: %d (%v)", len(res.Objects), err)
	}
}

// TestLifecycleIndexMigration: data written before the indexes existed is
// indexed once at start.
func TestLifecycleIndexMigration(t *testing.T) {
	drives := drivePaths(t, 4)
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drives, 1000, clk)
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-m", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetBucketVersioning(ctx, "lc-m", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, "lc-m", "k", []byte("1"))
	clk.set(t0.Add(time.Millisecond))
	mustPut(t, e, "lc-m", "k", []byte("2"))
	// Simulate a store from before the indexes: drop them and the marker.
	b := newBatchDeleting(t, e, []byte{tagAge}, []byte{tagNoncurrent}, indexMigrationKey())
	if err := e.meta.Apply(b); err != nil {
		t.Fatal(err)
	}
	e.Close()
	e = lcEngine(t, drives, 1000, clk)
	defer e.Close()
	count := func(tag byte) int {
		n := 0
		e.scan([]byte{tag}, []byte{tag + 1}, func(_, _ []byte) error { n++; return nil })
		return n
	}
	if a, o := count(tagAge), count(tagNoncurrent); a != 2 || o != 1 {
		t.Fatalf("after migration: %d age, %d noncurrent entries; want 2, 1", a, o)
	}
}

func TestLifecycleConfigErrors(t *testing.T) {
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	if _, err := e.LifecyclePreview(ctx, "nope"); !errors.Is(err, admin.ErrNotFound) {
		t.Fatalf("preview of missing bucket: %v", err)
	}
	if _, err := e.LifecycleRun(ctx, "nope", true); !errors.Is(err, admin.ErrNotFound) {
		t.Fatalf("run of missing bucket: %v", err)
	}
}

// newBatchDeleting returns a batch deleting every key under the given
// prefixes.
func newBatchDeleting(t *testing.T, e *Engine, prefixes ...[]byte) *metadata.Batch {
	t.Helper()
	b := metadata.NewBatch()
	for _, p := range prefixes {
		if err := e.scan(p, prefixEnd(p), func(k, _ []byte) error {
			b.Delete(bytes.Clone(k))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// TestLifecycleOverdue: items due longer than the SLA that no run took
// raise the overdue count; a run brings it back to 0.
func TestLifecycleOverdue(t *testing.T) {
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-o", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		mustPut(t, e, "lc-o", k, []byte(k))
	}
	setLifecycle(t, e, "lc-o", `<Rule><ID>r</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`)
	// Due (t0+1 day, rounded up) but not yet past the one-day SLA.
	clk.set(t0.Add(1900 * time.Millisecond))
	if n, err := e.lifecycleOverdue(ctx); err != nil || n != 0 {
		t.Fatalf("overdue within SLA = %d (%v)", n, err)
	}
	// No run for more than the SLA: all three are overdue.
	clk.set(t0.Add(4 * time.Second))
	if n, err := e.lifecycleOverdue(ctx); err != nil || n != 3 {
		t.Fatalf("overdue after SLA = %d (%v), want 3", n, err)
	}
	if st := ruleStatus(t, e, "lc-o", "r", kindCurrent); st.Overdue != 3 {
		t.Fatalf("status overdue %d", st.Overdue)
	}
	if _, err := e.LifecycleRun(ctx, "lc-o", true); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.lifecycleOverdue(ctx); n != 0 {
		t.Fatalf("overdue after run = %d", n)
	}
	var m bytes.Buffer
	e.LifecycleMetrics().WriteMetrics(&m)
	if !strings.Contains(m.String(), "coffer_lifecycle_overdue_items 0\n") {
		t.Fatalf("metrics:\n%s", m.String())
	}
}

// TestLifecycleWaitingItems: a version kept by NewerNoncurrentVersions and
// a delete marker that still has versions are expired later, once newer
// versions push the one out and the other's versions are gone by a client.
func TestLifecycleWaitingItems(t *testing.T) {
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-w", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetBucketVersioning(ctx, "lc-w", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, "lc-w", "k", []byte("1"))
	clk.set(t0.Add(10 * time.Millisecond))
	mustPut(t, e, "lc-w", "k", []byte("2"))
	clk.set(t0.Add(20 * time.Millisecond))
	old := mustPut(t, e, "lc-w", "m", []byte("x"))
	clk.set(t0.Add(30 * time.Millisecond))
	if _, err := e.DeleteObject(ctx, "lc-w", "m", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	setLifecycle(t, e, "lc-w", `<Rule><ID>keep1</ID><Status>Enabled</Status><Filter><Prefix>k</Prefix></Filter><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>
<Rule><ID>dm</ID><Status>Enabled</Status><Filter><Prefix>m</Prefix></Filter><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`)
	clk.set(t0.Add(3 * time.Second))
	if rep := previewThenRun(t, e, "lc-w"); rep.Done != 0 {
		t.Fatalf("first run: %s", itemSummary(rep))
	}
	// A third version pushes "1" beyond the one kept; the client removes
	// the marker's only other version.
	mustPut(t, e, "lc-w", "k", []byte("3"))
	if _, err := e.DeleteObject(ctx, "lc-w", "m", DeleteOptions{VersionID: old.VersionID}); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(6 * time.Second))
	rep := previewThenRun(t, e, "lc-w")
	if got, want := itemSummary(rep), "k:NoncurrentVersionExpiration:keep1 m:ExpiredObjectDeleteMarker:dm"; got != want {
		t.Fatalf("second run %q, want %q", got, want)
	}
	if n := len(versionsOf(t, e, "lc-w", "k")); n != 2 {
		t.Fatalf("k has %d versions, want 2", n)
	}
	if n := len(versionsOf(t, e, "lc-w", "m")); n != 0 {
		t.Fatalf("m has %d versions, want 0", n)
	}
}

// TestLifecycleDateAndSuspended: a Date rule expires everything it selects
// once the date passed; in a Suspended bucket expiry writes a null delete
// marker that replaces the null version.
func TestLifecycleDateAndSuspended(t *testing.T) {
	clk := &lcClock{t: time.Date(2023, 11, 14, 22, 0, 0, 0, time.UTC)}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	if err := e.MakeBucket(ctx, "lc-d", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetBucketVersioning(ctx, "lc-d", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	kept := mustPut(t, e, "lc-d", "k", []byte("versioned"))
	if err := e.SetBucketVersioning(ctx, "lc-d", VersioningSuspended); err != nil {
		t.Fatal(err)
	}
	clk.set(clk.now().Add(time.Millisecond))
	mustPut(t, e, "lc-d", "k", []byte("null"))
	setLifecycle(t, e, "lc-d", `<Rule><ID>date</ID><Status>Enabled</Status><Expiration><Date>2023-11-15T00:00:00Z</Date></Expiration></Rule>`)
	clk.set(time.Date(2023, 11, 14, 23, 59, 59, 0, time.UTC))
	if rep := previewThenRun(t, e, "lc-d"); rep.Done != 0 {
		t.Fatalf("before the date: %s", itemSummary(rep))
	}
	clk.set(time.Date(2023, 11, 15, 0, 0, 1, 0, time.UTC))
	if rep := previewThenRun(t, e, "lc-d"); itemSummary(rep) != "k:Expiration:date" {
		t.Fatalf("after the date: %s", itemSummary(rep))
	}
	vs := versionsOf(t, e, "lc-d", "k")
	if len(vs) != 2 || !vs[0].DeleteMarker || !vs[0].Null || vs[1].versionID() != kept.VersionID {
		t.Fatalf("versions after expiry: %d", len(vs))
	}
	if st := ruleStatus(t, e, "lc-d", "date", kindCurrent); st.Expired != 1 || st.Bytes != 4 {
		t.Fatalf("status %+v", st)
	}
}

// TestLifecycleTagFilter: a tag-filtered rule expires only the versions
// carrying the tag.
func TestLifecycleTagFilter(t *testing.T) {
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-t", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	for key, tags := range map[string]map[string]string{"tagged": {"class": "tmp"}, "other": {"class": "keep"}, "none": nil} {
		if _, err := e.PutObject(ctx, "lc-t", key, bytes.NewReader([]byte(key)), int64(len(key)), PutOptions{Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	setLifecycle(t, e, "lc-t", `<Rule><ID>tmp</ID><Status>Enabled</Status><Filter><Tag><Key>class</Key><Value>tmp</Value></Tag></Filter><Expiration><Days>1</Days></Expiration></Rule>`)
	clk.set(t0.Add(3 * time.Second))
	if got := itemSummary(previewThenRun(t, e, "lc-t")); got != "tagged:Expiration:tmp" {
		t.Fatalf("items %q", got)
	}
	// Tagged after the rule's cursor passed it: the next run still sees
	// it (the tag rewrite leaves a pending entry).
	if _, err := e.PutObjectTags(ctx, "lc-t", "none", "", map[string]string{"class": "tmp"}); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(4 * time.Second))
	if got := itemSummary(previewThenRun(t, e, "lc-t")); got != "none:Expiration:tmp" {
		t.Fatalf("after retagging: items %q", got)
	}
	if _, err := e.HeadObject(ctx, "lc-t", "none", GetOptions{}); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("retagged object after expiry: %v", err)
	}
	if got := itemSummary(previewThenRun(t, e, "lc-t")); got != "" {
		t.Fatalf("third run: items %q", got)
	}
}

// TestLifecycleDaysCleansMarkers: an Expiration Days rule also removes
// expired object delete markers once they are that old, as AWS does,
// whether the marker became lone before or after it was old enough.
func TestLifecycleDaysCleansMarkers(t *testing.T) {
	clk := &lcClock{t: time.Unix(1_700_000_000, 0).UTC()}
	e := lcEngine(t, drivePaths(t, 4), 1000, clk)
	defer e.Close()
	t0 := clk.now()
	if err := e.MakeBucket(ctx, "lc-m", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetBucketVersioning(ctx, "lc-m", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, "lc-m", "k", []byte("data"))
	clk.set(t0.Add(100 * time.Millisecond)) // versions need distinct times
	if _, err := e.DeleteObject(ctx, "lc-m", "k", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	setLifecycle(t, e, "lc-m", `<Rule><ID>all</ID><Status>Enabled</Status><Expiration><Days>3</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>`)
	// The old version goes; the marker, lone now, is younger than 3 days.
	clk.set(t0.Add(2500 * time.Millisecond))
	if got, want := itemSummary(previewThenRun(t, e, "lc-m")), "k:NoncurrentVersionExpiration:all"; got != want {
		t.Fatalf("first run %q, want %q", got, want)
	}
	if vs := versionsOf(t, e, "lc-m", "k"); len(vs) != 1 || !vs[0].DeleteMarker {
		t.Fatalf("after first run: %d versions", len(vs))
	}
	// Old enough: the marker goes too.
	clk.set(t0.Add(4500 * time.Millisecond))
	if got, want := itemSummary(previewThenRun(t, e, "lc-m")), "k:ExpiredObjectDeleteMarker:all"; got != want {
		t.Fatalf("second run %q, want %q", got, want)
	}
	if vs := versionsOf(t, e, "lc-m", "k"); len(vs) != 0 {
		t.Fatalf("after second run: %d versions", len(vs))
	}
	// A marker that is already old when its last version goes is removed
	// in the same run.
	mustPut(t, e, "lc-m", "j", []byte("data"))
	clk.set(t0.Add(4600 * time.Millisecond))
	if _, err := e.DeleteObject(ctx, "lc-m", "j", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(9 * time.Second))
	if got, want := itemSummary(previewThenRun(t, e, "lc-m")), "j:NoncurrentVersionExpiration:all j:ExpiredObjectDeleteMarker:all"; got != want {
		t.Fatalf("third run %q, want %q", got, want)
	}
}
