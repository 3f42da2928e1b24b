package object

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/metadata"
)

func exportAll(t *testing.T, e *Engine, f admin.DeletionFilter) []admin.DeletionRecord {
	t.Helper()
	var out []admin.DeletionRecord
	if err := e.ExportDeletions(ctx, f, func(r admin.DeletionRecord) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeletionRecordFields checks what a record says: who, what, the
// plaintext digest from each source (or "unknown" with the ETag), and the
// method; delete markers produce no record.
func TestDeletionRecordFields(t *testing.T) {
	e := newEngine(t)
	e.MakeBucket(ctx, "bkt", MakeBucketOptions{Tenant: "acme"})
	e.SetBucketVersioning(ctx, "bkt", VersioningEnabled)
	data := []byte("hello deletion records")
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	put := func(key string, o PutOptions) ObjectInfo {
		oi, err := e.PutObject(ctx, "bkt", key, bytes.NewReader(data), int64(len(data)), o)
		if err != nil {
			t.Fatal(err)
		}
		return oi
	}
	signed := put("signed", PutOptions{ExpectSHA256: sum[:]})
	checked := put("checked", PutOptions{ChecksumAlgorithm: ChecksumSHA256})
	plain := put("plain", PutOptions{})
	dm, err := e.DeleteObject(ctx, "bkt", "plain", DeleteOptions{}) // a delete marker
	if err != nil || !dm.DeleteMarker {
		t.Fatal(err)
	}
	before := e.now()
	for key, vid := range map[string]string{"signed": signed.VersionID, "checked": checked.VersionID, "plain": plain.VersionID} {
		if _, err := e.DeleteObject(ctx, "bkt", key, DeleteOptions{VersionID: vid, Actor: "arn:coffer:iam::acme:user/alice"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.DeleteObject(ctx, "bkt", "plain", DeleteOptions{VersionID: dm.VersionID, Actor: "x"}); err != nil {
		t.Fatal(err)
	}
	recs := exportAll(t, e, admin.DeletionFilter{})
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3 (no record for a delete marker): %+v", len(recs), recs)
	}
	want := map[string][2]string{"signed": {hexSum, "payload"}, "checked": {hexSum, "checksum"}, "plain": {"unknown", ""}}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Tenant != "acme" || r.Bucket != "bkt" || r.Size != int64(len(data)) ||
			r.Actor != "arn:coffer:iam::acme:user/alice" || r.Path != "DeleteObject.version" ||
			r.Method != MethodCryptoShred || r.Time.Before(before.Add(-time.Second)) || r.ETag == "" {
			t.Errorf("record %d: %+v", i, r)
		}
		if w := want[r.Key]; r.SHA256 != w[0] || r.SHA256Source != w[1] {
			t.Errorf("%s: sha256 %q (%q), want %q (%q)", r.Key, r.SHA256, r.SHA256Source, w[0], w[1])
		}
	}
	// Filters.
	if got := exportAll(t, e, admin.DeletionFilter{Tenant: "other"}); len(got) != 0 {
		t.Errorf("tenant filter: %d records", len(got))
	}
	if got := exportAll(t, e, admin.DeletionFilter{Since: recs[2].Time}); len(got) != 1 {
		t.Errorf("since filter: %d records", len(got))
	}
	if got := exportAll(t, e, admin.DeletionFilter{Until: recs[0].Time, Bucket: "bkt"}); len(got) != 0 {
		t.Errorf("until filter: %d records", len(got))
	}
}

// TestObjectLockEvidenceInRecord checks that an Object Lock version's
// evidence SHA-256 reaches its deletion record.
func TestObjectLockEvidenceInRecord(t *testing.T) {
	e := newEngine(t)
	if err := e.MakeBucket(ctx, "vault", MakeBucketOptions{ObjectLock: true}); err != nil {
		t.Fatal(err)
	}
	data := randBytes(3, 200<<10)
	sum := sha256.Sum256(data)
	oi := mustPut(t, e, "vault", "k", data)
	if _, err := e.DeleteObject(ctx, "vault", "k", DeleteOptions{VersionID: oi.VersionID}); err != nil {
		t.Fatal(err)
	}
	recs := exportAll(t, e, admin.DeletionFilter{})
	if len(recs) != 1 || recs[0].SHA256 != hex.EncodeToString(sum[:]) || recs[0].SHA256Source != "evidence" || recs[0].Actor != "unknown" {
		t.Fatalf("%+v", recs)
	}
}

// TestDeletionChainTamperDetected alters, removes and truncates chained
// records behind the engine's back; VerifyDeletions MUST notice each.
func TestDeletionChainTamperDetected(t *testing.T) {
	e := newEngine(t)
	e.MakeBucket(ctx, "bkt", MakeBucketOptions{})
	for i := range 5 {
		key := string(rune('a' + i))
		mustPut(t, e, "bkt", key, []byte("x"))
		if _, err := e.DeleteObject(ctx, "bkt", key, DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.ShredNow(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := e.VerifyDeletions(ctx)
	if err != nil || !st.OK || st.Records != 5 || st.HeadSeq != 5 {
		t.Fatalf("clean chain: %+v %v", st, err)
	}
	raw := func(seq uint64) []byte {
		v, err := e.meta.Get(chainKey(seq))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	apply := func(fn func(b *metadata.Batch)) {
		b := metadata.NewBatch()
		fn(b)
		if err := e.meta.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	orig3, orig5 := raw(3), raw(5)
	cases := []struct {
		name   string
		tamper func(b *metadata.Batch)
	}{
		{"altered field", func(b *metadata.Batch) {
			b.Set(chainKey(3), bytes.Replace(orig3, []byte(`"key":"c"`), []byte(`"key":"z"`), 1))
		}},
		{"rehashed record", func(b *metadata.Batch) {
			var r admin.DeletionRecord
			jsonUnmarshal(orig3, &r)
			r.Size = 999
			r.Hash = recordHash(r) // consistent in itself, breaks the next link
			b.Set(chainKey(3), mustJSON(r))
		}},
		{"reformatted bytes", func(b *metadata.Batch) { b.Set(chainKey(3), append(bytes.Clone(orig3), ' ')) }},
		{"deleted record", func(b *metadata.Batch) { b.Delete(chainKey(3)) }},
		{"truncated tail", func(b *metadata.Batch) { b.Delete(chainKey(5)) }},
	}
	for _, c := range cases {
		apply(c.tamper)
		st, err := e.VerifyDeletions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.OK || st.Problem == "" {
			t.Errorf("%s: not detected: %+v", c.name, st)
		}
		apply(func(b *metadata.Batch) { b.Set(chainKey(3), orig3); b.Set(chainKey(5), orig5) })
	}
	if st, _ := e.VerifyDeletions(ctx); !st.OK {
		t.Fatalf("restored chain: %+v", st)
	}
}

// TestDeletionRecordsSurviveRestart checks that staged records and the
// pending purge survive a restart: nothing lost, nothing doubled.
func TestDeletionRecordsSurviveRestart(t *testing.T) {
	drives := drivePaths(t, 4)
	e, err := Open(Config{Drives: drives, MasterKey: testMasterKey, ShredInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.MakeBucket(ctx, "bkt", MakeBucketOptions{})
	mustPut(t, e, "bkt", "k1", []byte("one"))
	mustPut(t, e, "bkt", "k2", []byte("two"))
	e.DeleteObject(ctx, "bkt", "k1", DeleteOptions{})
	// The worker ran once at start and sleeps an hour: k1's record is staged.
	if n, _ := countKeys(e, []byte{tagDeletion, delStaged}); n != 1 {
		t.Fatalf("%d staged records, want 1", n)
	}
	e.Close()
	e, err = Open(Config{Drives: drives, MasterKey: testMasterKey, ShredInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// The start-up run chained and purged it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mark, _ := e.readPurgeMark()
		if mark == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pending purge not finished after restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.DeleteObject(ctx, "bkt", "k2", DeleteOptions{})
	recs := exportAll(t, e, admin.DeletionFilter{})
	if len(recs) != 2 || recs[0].Key != "k1" || recs[1].Key != "k2" {
		t.Fatalf("%+v", recs)
	}
}

// TestSecureOverwriteMode checks both opt-ins: the server flag and a
// bucket's setting make the collector overwrite shard files (counted) and
// the record name the method; other buckets keep a plain unlink.
func TestSecureOverwriteMode(t *testing.T) {
	for _, server := range []bool{false, true} {
		drives := drivePaths(t, 4)
		e, err := Open(Config{Drives: drives, MasterKey: testMasterKey, SecureOverwrite: server})
		if err != nil {
			t.Fatal(err)
		}
		e.MakeBucket(ctx, "opt", MakeBucketOptions{})
		e.MakeBucket(ctx, "std", MakeBucketOptions{})
		if _, err := e.SetBucketSecureDelete(ctx, "opt", true); err != nil {
			t.Fatal(err)
		}
		if s, _ := e.BucketSecureDelete(ctx, "opt"); !s.Overwrite || s.Server != server {
			t.Fatalf("setting: %+v", s)
		}
		data := randBytes(9, 300<<10)
		for _, b := range []string{"opt", "std"} {
			mustPut(t, e, b, "k", data)
		}
		shards := func(bucket string) []string {
			v, _ := e.resolve(bucket, "k", "")
			var out []string
			for _, d := range drives {
				out = append(out, filepath.Join(d, "objects", v.DataID[:2], v.DataID))
			}
			return out
		}
		optFiles, stdFiles := shards("opt"), shards("std")
		e.DeleteObject(ctx, "opt", "k", DeleteOptions{})
		deadline := time.Now().Add(10 * time.Second)
		for e.shred.overwritten.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		var size int64
		for _, f := range stdFiles {
			st, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			size += st.Size()
		}
		if got := e.shred.overwritten.Load(); got != size { // same layout as std's shards
			t.Errorf("server=%v: overwritten %d bytes, want %d", server, got, size)
		}
		for _, f := range optFiles {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("shard %s still present", f)
			}
		}
		e.DeleteObject(ctx, "std", "k", DeleteOptions{})
		recs := exportAll(t, e, admin.DeletionFilter{})
		want := map[string]string{"opt": MethodCryptoShredOverwrite, "std": MethodCryptoShred}
		if server {
			want["std"] = MethodCryptoShredOverwrite
		}
		for _, r := range recs {
			if r.Method != want[r.Bucket] {
				t.Errorf("server=%v %s: method %q, want %q", server, r.Bucket, r.Method, want[r.Bucket])
			}
		}
		e.Close()
	}
}

// TestMergeRanges coalesces overlapping purge ranges and falls back to one
// covering span past purgeSpanLimit.
func TestMergeRanges(t *testing.T) {
	r := func(a, b string) metadata.KeyRange { return metadata.KeyRange{Start: []byte(a), End: []byte(b)} }
	got := mergeRanges([]metadata.KeyRange{r("d", "f"), r("a", "c"), r("b", "e"), r("x", "y")})
	if len(got) != 2 || string(got[0].Start) != "a" || string(got[0].End) != "f" || string(got[1].Start) != "x" {
		t.Fatalf("merge: %q", got)
	}
	var many []metadata.KeyRange
	for i := range purgeSpanLimit + 1 {
		k := string(rune('A' + i))
		many = append(many, r(k, k+"\x00"))
	}
	got = mergeRanges(many)
	if len(got) != 1 || string(got[0].Start) != "A" || string(got[0].End) != string(rune('A'+purgeSpanLimit))+"\x00" {
		t.Fatalf("span: %q", got)
	}
}

// BenchmarkSecureDelete measures removals plus the purge that ends their
// shred window (per removal): -benchtime=2000x gives a realistic burst.
func BenchmarkSecureDelete(b *testing.B) {
	e := openEngine(b, drivePaths(b, 4))
	defer e.Close()
	e.MakeBucket(ctx, "bench", MakeBucketOptions{})
	data := randBytes(1, 4096)
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = "k" + hex.EncodeToString([]byte{byte(i >> 16), byte(i >> 8), byte(i)})
		if _, err := e.PutObject(ctx, "bench", keys[i], bytes.NewReader(data), int64(len(data)), PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for _, k := range keys {
		if _, err := e.DeleteObject(ctx, "bench", k, DeleteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	if err := e.ShredNow(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "purge-ms")
}
