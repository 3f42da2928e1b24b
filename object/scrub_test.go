package object

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openScrubEngine opens an engine on 4 fresh drives (2+2) with the
// background scrubber off, so that the test drives Scrub itself.
func openScrubEngine(t *testing.T, rate int64) *Engine {
	t.Helper()
	e, err := Open(Config{Drives: drivePaths(t, 4), MasterKey: testMasterKey, InlineLimit: -1,
		Scrub: ScrubOptions{Interval: -1, Rate: rate}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if err := e.MakeBucket(ctx, "scrub", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// parityShardFile returns the committed shard file of the only object on
// the last drive, which holds a parity piece of every block: a GET of a
// healthy object never reads it.
func parityShardFile(t *testing.T, e *Engine) string {
	t.Helper()
	last := filepath.Dir(e.set.Drives()[len(e.set.Drives())-1].MetaPath())
	var found []string
	for _, f := range shardFiles(t, e) {
		if strings.HasPrefix(f, last+string(filepath.Separator)) && strings.Contains(f, string(filepath.Separator)+"objects"+string(filepath.Separator)) {
			found = append(found, f)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one committed shard file on the last drive, found %v", found)
	}
	return found[0]
}

// TestScrubRepairsUnreadParity rots a parity shard that reads never touch:
// GETs still succeed and do not notice, the scrubber finds the damage,
// rewrites the shard to its original bytes and counts it; a second pass
// finds nothing.
func TestScrubRepairsUnreadParity(t *testing.T) {
	e := openScrubEngine(t, 0)
	data := randBytes(7, 3<<20+123)
	mustPut(t, e, "scrub", "k", data)
	path := parityShardFile(t, e)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rotten := bytes.Clone(orig)
	rotten[len(rotten)/2] ^= 0x40
	if err := os.WriteFile(path, rotten, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, e, "scrub", "k", GetOptions{}); !bytes.Equal(got, data) {
		t.Fatal("GET returned wrong bytes")
	}
	if n := e.scrub.healed.Load(); n != 0 {
		t.Fatalf("a GET of data pieces healed %d shards: the test needs a piece reads skip", n)
	}

	res, err := e.Scrub(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sets != 1 || res.Damaged != 1 || res.Healed != 1 || res.Failed != 0 {
		t.Fatalf("scrub: %+v, want 1 set, 1 damaged, 1 healed", res)
	}
	if res.Bytes < int64(len(data)) {
		t.Errorf("scrub verified %d bytes of a %d-byte object", res.Bytes, len(data))
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, orig) {
		t.Fatalf("parity shard not restored to its original bytes (err %v)", err)
	}
	var m strings.Builder
	e.ScrubMetrics().WriteMetrics(&m)
	for _, want := range []string{"coffer_scrub_passes_total 1\n", "coffer_scrub_sets_total 1\n", "coffer_scrub_damaged_total 1\n", "coffer_heal_shards_total 1\n", "coffer_heal_failed_total 0\n"} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, m.String())
		}
	}

	res, err = e.Scrub(context.Background())
	if err != nil || res.Sets != 1 || res.Damaged != 0 || res.Healed != 0 {
		t.Fatalf("second pass: %+v, %v; want 1 clean set", res, err)
	}
	rec, err := e.loadScrubRecord()
	if err != nil || rec.Cursor != "" || rec.LastCompleted.IsZero() {
		t.Fatalf("state after complete passes: %+v, %v", rec, err)
	}
}

// TestScrubResumes cuts a slow pass short and checks that the next call
// resumes after the last verified set instead of starting over, and that
// only the end of the whole pass counts as a complete pass.
func TestScrubResumes(t *testing.T) {
	e := openScrubEngine(t, 1<<20) // 1 MiB/s: each 1 MiB object takes about 2 s of pacing
	for _, k := range []string{"a", "b", "c"} {
		mustPut(t, e, "scrub", k, randBytes(int64(k[0]), 1<<20))
	}
	c, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	res, err := e.Scrub(c)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cut-short pass: error %v, want the context's", err)
	}
	if res.Sets != 1 {
		t.Fatalf("cut-short pass verified %d sets, want 1 (pacing at 1 MiB/s)", res.Sets)
	}
	rec, err := e.loadScrubRecord()
	if err != nil || rec.Cursor == "" || !rec.LastCompleted.IsZero() {
		t.Fatalf("state after a cut-short pass: %+v, %v", rec, err)
	}
	if n := e.scrub.passes.Load(); n != 0 {
		t.Fatalf("%d complete passes counted after a cut-short one", n)
	}
	e.scrub.opts.Rate = 1 << 40
	res, err = e.Scrub(context.Background())
	if err != nil || res.Sets != 2 {
		t.Fatalf("resumed pass: %+v, %v; want the 2 remaining sets", res, err)
	}
	if n := e.scrub.passes.Load(); n != 1 {
		t.Fatalf("%d complete passes, want 1", n)
	}
}

// TestScrubWaitsForGC checks the data lock: a heal that holds a shard set
// keeps the garbage collector from deleting it underneath, and a heal of
// a set deleted meanwhile does nothing.
func TestScrubWaitsForGC(t *testing.T) {
	e := openScrubEngine(t, 0)
	oi := mustPut(t, e, "scrub", "k", randBytes(3, 1<<20))
	_ = oi
	var id string
	if err := e.scan([]byte{tagRef}, []byte{tagRef + 1}, func(k, _ []byte) error { id = string(k[1:]); return nil }); err != nil || id == "" {
		t.Fatalf("no shard set reference: %v", err)
	}
	unlock := e.lockData(id)
	if _, err := e.DeleteObject(ctx, "scrub", "k", DeleteOptions{}); err != nil {
		unlock()
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the GC worker would have run by now
	if _, err := os.Stat(parityShardFile(t, e)); err != nil {
		unlock()
		t.Fatalf("shards deleted while their data lock was held: %v", err)
	}
	unlock()
	deadline := time.Now().Add(10 * time.Second)
	for len(shardFilesUnder(t, e, "objects")) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("shards not collected after the lock was released")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, stored, err := e.healOne(id); stored != -1 || err != nil {
		t.Fatalf("heal of a deleted set: %d bytes, %v", stored, err)
	}
}

// shardFilesUnder lists shard files whose path has the directory dir.
func shardFilesUnder(t *testing.T, e *Engine, dir string) []string {
	var out []string
	for _, f := range shardFiles(t, e) {
		if strings.Contains(f, string(filepath.Separator)+dir+string(filepath.Separator)) {
			out = append(out, f)
		}
	}
	return out
}

// TestScrubCountsUnrecoverable damages m+1 shards of one object: the
// scrubber cannot rebuild it, counts it as unreadable and failed, leaves
// the files alone, and the object's GET fails instead of returning wrong
// bytes.
func TestScrubCountsUnrecoverable(t *testing.T) {
	e := openScrubEngine(t, 0)
	mustPut(t, e, "scrub", "k", randBytes(9, 2<<20))
	files := shardFilesUnder(t, e, "objects")
	if len(files) != 4 {
		t.Fatalf("want 4 shard files, found %v", files)
	}
	for _, f := range files[:3] { // m = 2, so three bad shards are one too many
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b[100] ^= 0xff
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := e.Scrub(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sets != 1 || res.Damaged != 1 || res.Failed != 1 || res.Healed != 0 {
		t.Fatalf("scrub: %+v, want 1 damaged and failed set, nothing healed", res)
	}
	if n := e.scrub.unreachable.Load(); n != 1 {
		t.Fatalf("unreadable counter %d, want 1", n)
	}
	if _, rc, err := e.GetObject(ctx, "scrub", "k", GetOptions{}); err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
		if err == nil {
			t.Fatal("GET of an object with m+1 bad shards succeeded")
		}
	}
}

// BenchmarkScrub measures full scrub passes over 32 objects of 4 MiB with
// no rate limit; the figure is stored bytes verified (all drives) per
// second.
func BenchmarkScrub(b *testing.B) {
	e, err := Open(Config{Drives: drivePaths(b, 4), MasterKey: testMasterKey, Scrub: ScrubOptions{Interval: -1, Rate: 1 << 40}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if err := e.MakeBucket(ctx, "scrub", MakeBucketOptions{}); err != nil {
		b.Fatal(err)
	}
	data := randBytes(1, 4<<20)
	for i := range 32 {
		if _, err := e.PutObject(ctx, "scrub", strconv.Itoa(i), bytes.NewReader(data), int64(len(data)), PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var verified int64
	for range b.N {
		res, err := e.Scrub(context.Background())
		if err != nil || res.Sets != 32 || res.Damaged != 0 {
			b.Fatalf("%+v %v", res, err)
		}
		verified += res.Bytes
	}
	b.SetBytes(verified / int64(b.N))
}

// TestDataLocksArePerSet: the data lock of one shard set never delays
// another set (a long heal must not stall unrelated commits), serializes
// holders of the same set, and leaves nothing behind once released.
func TestDataLocksArePerSet(t *testing.T) {
	e := openScrubEngine(t, 0)
	unlockA := e.lockData("set-a")
	other := make(chan struct{})
	go func() { e.lockData("set-b")(); close(other) }()
	select {
	case <-other:
	case <-time.After(5 * time.Second):
		t.Fatal("the lock of another set waited for set-a's holder")
	}
	same := make(chan struct{})
	go func() { e.lockData("set-a")(); close(same) }()
	select {
	case <-same:
		t.Fatal("a second holder of set-a did not wait")
	case <-time.After(100 * time.Millisecond):
	}
	unlockA()
	<-same
	e.dataLocks.mu.Lock()
	defer e.dataLocks.mu.Unlock()
	if n := len(e.dataLocks.m); n != 0 {
		t.Fatalf("%d locks left after every holder released", n)
	}
}
