package object

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/lock"
	"github.com/cofferstore/coffer/metadata"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// putTwoParts uploads data in two parts (the first MinPartSize bytes).
func putTwoParts(t *testing.T, e *Engine, bucket, key string, data []byte) ObjectInfo {
	t.Helper()
	id, err := e.NewMultipartUpload(ctx, bucket, key, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var list []CompletePart
	for i, p := range [][]byte{data[:MinPartSize], data[MinPartSize:]} {
		pi, err := e.PutObjectPart(ctx, bucket, key, id, i+1, bytes.NewReader(p), int64(len(p)), PartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, CompletePart{Number: i + 1, ETag: pi.ETag})
	}
	oi, err := e.CompleteMultipartUpload(ctx, bucket, key, id, list, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return oi
}

// rawVersion returns a version's full record (inline data included).
func rawVersion(t *testing.T, e *Engine, bucket, key string) *versionRecord {
	t.Helper()
	cur, err := e.latest(bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.versionBySort(bucket, key, cur.VSort)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func writeVersion(t *testing.T, e *Engine, bucket, key string, v *versionRecord) {
	t.Helper()
	b := metadata.NewBatch()
	b.Set(versionKey(bucket, key, v.VSort), v.encode(true))
	if err := e.meta.Apply(b); err != nil {
		t.Fatal(err)
	}
}

func TestEvidenceLockBucketsOnly(t *testing.T) {
	e := newEngine(t)
	if err := e.MakeBucket(ctx, "locked", MakeBucketOptions{ObjectLock: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.MakeBucket(ctx, "plain", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	small, large := []byte("record of a trade"), randBytes(1, 300<<10)
	sum := md5.Sum(small)
	for _, b := range []string{"locked", "plain"} {
		if _, err := e.PutObject(ctx, b, "small", bytes.NewReader(small), int64(len(small)), PutOptions{ExpectMD5: sum[:]}); err != nil {
			t.Fatal(err)
		}
		mustPut(t, e, b, "large", large)
	}
	v := rawVersion(t, e, "locked", "small")
	if v.Evidence == nil || v.Evidence.SHA256 != sha256Hex(small) || v.Evidence.ContentMD5 != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("inline evidence = %+v", v.Evidence)
	}
	v = rawVersion(t, e, "locked", "large")
	if v.DataID == "" || v.Evidence == nil || v.Evidence.SHA256 != sha256Hex(large) || v.Evidence.ContentMD5 != "" {
		t.Fatalf("shard-set evidence = %+v (data %q)", v.Evidence, v.DataID)
	}
	for _, k := range []string{"small", "large"} {
		if v := rawVersion(t, e, "plain", k); v.Evidence != nil {
			t.Fatalf("plain bucket %s has evidence %+v", k, v.Evidence)
		}
	}
	// Multipart: per-part evidence, none over the whole object.
	data := randBytes(2, MinPartSize+1000)
	putTwoParts(t, e, "locked", "mp", data)
	v = rawVersion(t, e, "locked", "mp")
	if v.Evidence != nil || len(v.Parts) != 2 {
		t.Fatalf("multipart version evidence %+v, %d parts", v.Evidence, len(v.Parts))
	}
	if v.Parts[0].Evidence == nil || v.Parts[0].Evidence.SHA256 != sha256Hex(data[:MinPartSize]) ||
		v.Parts[1].Evidence == nil || v.Parts[1].Evidence.SHA256 != sha256Hex(data[MinPartSize:]) {
		t.Fatalf("part evidence %+v %+v", v.Parts[0].Evidence, v.Parts[1].Evidence)
	}
	// The data still reads back unchanged.
	if got := mustGet(t, e, "locked", "large", GetOptions{}); !bytes.Equal(got, large) {
		t.Fatal("large object changed")
	}
}

func TestVerify(t *testing.T) {
	e := newEngine(t)
	if err := e.MakeBucket(ctx, "locked", MakeBucketOptions{ObjectLock: true}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, "locked", "a", []byte("inline record"))
	mustPut(t, e, "locked", "b", randBytes(3, 200<<10))
	putTwoParts(t, e, "locked", "c", randBytes(4, MinPartSize+10))
	mustPut(t, e, "locked", "d", []byte("second inline"))
	if _, err := e.DeleteObject(ctx, "locked", "d", DeleteOptions{}); err != nil { // a delete marker: not verified
		t.Fatal(err)
	}

	rep, err := e.Verify(ctx, "locked", "", "", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 4 || rep.Failed != 0 || rep.Truncated {
		t.Fatalf("clean verify: %+v", rep)
	}
	for _, r := range rep.Results {
		if !r.OK || !r.Evidence || r.VersionID == "" {
			t.Fatalf("clean verify result %+v", r)
		}
	}

	// Bounded: two records per call, continued with the marker.
	seen := 0
	marker := ""
	for calls := 0; ; calls++ {
		if calls > 5 {
			t.Fatal("marker does not advance")
		}
		r, err := e.Verify(ctx, "locked", "", "", 2, marker)
		if err != nil {
			t.Fatal(err)
		}
		seen += r.Checked
		if !r.Truncated {
			break
		}
		marker = r.NextMarker
	}
	if seen != 4 {
		t.Fatalf("paged verify saw %d versions", seen)
	}
	if _, err := e.Verify(ctx, "locked", "", "", 2, "zz"); !errors.Is(err, admin.ErrInvalid) {
		t.Fatalf("bad marker: %v", err)
	}
	if _, err := e.Verify(ctx, "nobucket", "", "", 0, ""); !errors.Is(err, admin.ErrNotFound) {
		t.Fatalf("missing bucket: %v", err)
	}

	// Corrupt the inline data of a.
	va := rawVersion(t, e, "locked", "a")
	va.data = bytes.Clone(va.data)
	va.data[len(va.data)-1] ^= 0xff
	writeVersion(t, e, "locked", "a", va)
	// Tamper with b's evidence.
	vb := rawVersion(t, e, "locked", "b")
	vb.Evidence.SHA256 = strings.Repeat("0", 64)
	writeVersion(t, e, "locked", "b", vb)
	// Tamper with the evidence of c's second part.
	vc := rawVersion(t, e, "locked", "c")
	vc.Parts[1].Evidence.SHA256 = strings.Repeat("1", 64)
	writeVersion(t, e, "locked", "c", vc)

	r, err := e.Verify(ctx, "locked", "a", va.versionID(), 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Checked != 1 || r.Failed != 1 || !strings.Contains(r.Results[0].Problem, "reading the data failed") {
		t.Fatalf("corrupt inline: %+v", r)
	}
	r, err = e.Verify(ctx, "locked", "b", "", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 1 || !strings.Contains(r.Results[0].Problem, "SHA-256") {
		t.Fatalf("tampered evidence: %+v", r)
	}
	r, err = e.Verify(ctx, "locked", "c", "", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 1 || !strings.Contains(r.Results[0].Problem, "part 2: SHA-256") {
		t.Fatalf("tampered part evidence: %+v", r)
	}

	// A record that does not decode at all is a problem, not an error.
	bad := metadata.NewBatch()
	bad.Set(versionKey("locked", "e", newVSort(time.Now())), []byte{0xff, 0xff, 0xff})
	if err := e.meta.Apply(bad); err != nil {
		t.Fatal(err)
	}
	rep, err = e.Verify(ctx, "locked", "", "", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 5 || rep.Failed != 4 {
		t.Fatalf("after tampering: %+v", rep)
	}
	for _, res := range rep.Results {
		if res.Key == "e" && !strings.Contains(res.Problem, "unreadable version record") {
			t.Fatalf("malformed record: %+v", res)
		}
		if res.Key == "d" && !res.OK {
			t.Fatalf("untouched version failed: %+v", res)
		}
	}
}

func TestRetentionReport(t *testing.T) {
	e := newEngine(t)
	now := time.Now().UTC().Truncate(time.Second)
	e.now = func() time.Time { return now }
	if err := e.MakeBucket(ctx, "locked", MakeBucketOptions{ObjectLock: true}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, n int, lk *LockOptions) ObjectInfo {
		t.Helper()
		oi, err := e.PutObject(ctx, "locked", key, bytes.NewReader(make([]byte, n)), int64(n), PutOptions{Lock: lk})
		if err != nil {
			t.Fatal(err)
		}
		return oi
	}
	early, late := now.Add(time.Hour), now.Add(48*time.Hour)
	put("comp", 10, &LockOptions{Mode: lock.ModeCompliance, RetainUntil: late})
	put("gov", 20, &LockOptions{Mode: lock.ModeGovernance, RetainUntil: early})
	expired := put("old", 40, nil)
	setLock(t, e, "locked", "old", expired.VersionID, lock.State{Mode: lock.ModeCompliance, RetainUntil: now.Add(-time.Hour)})
	put("held", 80, nil)
	if _, err := e.PutObjectLegalHold(ctx, "locked", "held", "", true); err != nil {
		t.Fatal(err)
	}
	put("both", 160, &LockOptions{Mode: lock.ModeCompliance, RetainUntil: early.Add(time.Minute)})
	if _, err := e.PutObjectLegalHold(ctx, "locked", "both", "", true); err != nil {
		t.Fatal(err)
	}
	rep, err := e.RetentionReport(ctx, "locked")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Versions != 5 || rep.Bytes != 310 || rep.Retained != 3 || rep.RetainedBytes != 190 ||
		rep.Compliance != 2 || rep.Governance != 1 || rep.LegalHold != 2 || rep.LegalHoldBytes != 240 {
		t.Fatalf("report %+v", rep)
	}
	if rep.EarliestRetainUntil == nil || !rep.EarliestRetainUntil.Equal(early) || !rep.LatestRetainUntil.Equal(late) {
		t.Fatalf("retain-until range %v..%v", rep.EarliestRetainUntil, rep.LatestRetainUntil)
	}
	// Time passes: the compliance clock decides what is still retained.
	now = now.Add(2 * time.Hour)
	rep, err = e.RetentionReport(ctx, "locked")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Retained != 1 || rep.Compliance != 1 || !rep.EarliestRetainUntil.Equal(late) {
		t.Fatalf("report later %+v", rep)
	}
	if _, err := e.RetentionReport(ctx, "nobucket"); !errors.Is(err, admin.ErrNotFound) {
		t.Fatalf("missing bucket: %v", err)
	}
}
