package object

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"path/filepath"
	"sort"
	"testing"
)

var ctx = context.Background()

// testMasterKey is a fixed master key for tests (never use a fixed key
// outside tests).
var testMasterKey = bytes.Repeat([]byte{0x42}, 32)

func drivePaths(t testing.TB, n int) []string {
	dir := t.TempDir()
	out := make([]string, n)
	for i := range out {
		out[i] = filepath.Join(dir, fmt.Sprintf("drive%d", i+1))
	}
	return out
}

func openEngine(t testing.TB, drives []string) *Engine {
	t.Helper()
	e, err := Open(Config{Drives: drives, MasterKey: testMasterKey})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return e
}

func newEngine(t testing.TB) *Engine {
	e := openEngine(t, drivePaths(t, 4))
	t.Cleanup(func() { e.Close() })
	return e
}

func randBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func mustPut(t *testing.T, l Layer, bucket, key string, data []byte) ObjectInfo {
	t.Helper()
	oi, err := l.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), PutOptions{})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return oi
}

func mustGet(t *testing.T, l Layer, bucket, key string, opts GetOptions) []byte {
	t.Helper()
	_, rc, err := l.GetObject(ctx, bucket, key, opts)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return b
}

// TestLayerConformance is the object-layer conformance suite: the Layer
// contract, run against the Engine.
func TestLayerConformance(t *testing.T) {
	testLayer(t, func(t *testing.T) Layer { return newEngine(t) })
}

func testLayer(t *testing.T, open func(t *testing.T) Layer) {
	t.Run("Buckets", func(t *testing.T) {
		l := open(t)
		if err := l.MakeBucket(ctx, "Bad_Name", MakeBucketOptions{}); !errors.Is(err, ErrInvalidBucketName) {
			t.Fatalf("bad name: %v", err)
		}
		for _, b := range []string{"zeta", "alpha", "mid"} {
			if err := l.MakeBucket(ctx, b, MakeBucketOptions{Region: "us-east-1"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.MakeBucket(ctx, "alpha", MakeBucketOptions{}); !errors.Is(err, ErrBucketExists) {
			t.Fatalf("dup: %v", err)
		}
		bs, err := l.ListBuckets(ctx)
		if err != nil || len(bs) != 3 || bs[0].Name != "alpha" || bs[2].Name != "zeta" {
			t.Fatalf("list: %v %+v", err, bs)
		}
		mustPut(t, l, "alpha", "k", []byte("x"))
		if err := l.DeleteBucket(ctx, "alpha"); !errors.Is(err, ErrBucketNotEmpty) {
			t.Fatalf("non-empty delete: %v", err)
		}
		if _, err := l.DeleteObject(ctx, "alpha", "k", DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := l.DeleteBucket(ctx, "alpha"); err != nil {
			t.Fatal(err)
		}
		if _, err := l.GetBucketInfo(ctx, "alpha"); !errors.Is(err, ErrNoSuchBucket) {
			t.Fatalf("deleted bucket: %v", err)
		}
		if _, err := l.PutObject(ctx, "nope", "k", bytes.NewReader(nil), 0, PutOptions{}); !errors.Is(err, ErrNoSuchBucket) {
			t.Fatalf("put to missing bucket: %v", err)
		}
	})

	t.Run("PutGetSizes", func(t *testing.T) {
		l := open(t)
		l.MakeBucket(ctx, "bkt", MakeBucketOptions{})
		for i, n := range []int{0, 1, 4096, DefaultInlineLimit, DefaultInlineLimit + 1, 1 << 20, 3<<20 + 17} {
			data := randBytes(int64(i), n)
			key := fmt.Sprintf("obj-%d", n)
			oi := mustPut(t, l, "bkt", key, data)
			sum := md5.Sum(data)
			if oi.ETag != hex.EncodeToString(sum[:]) || oi.Size != int64(n) {
				t.Fatalf("%s: info %+v", key, oi)
			}
			if got := mustGet(t, l, "bkt", key, GetOptions{}); !bytes.Equal(got, data) {
				t.Fatalf("%s: content differs", key)
			}
			if n > 10 {
				r := &Range{Start: int64(n / 3), End: int64(n/3 + n/4)}
				if got := mustGet(t, l, "bkt", key, GetOptions{Range: r}); !bytes.Equal(got, data[n/3:n/3+n/4+1]) {
					t.Fatalf("%s: range differs", key)
				}
				sfx := &Range{Start: -1, SuffixLength: 7}
				if got := mustGet(t, l, "bkt", key, GetOptions{Range: sfx}); !bytes.Equal(got, data[n-7:]) {
					t.Fatalf("%s: suffix range differs", key)
				}
			}
			if _, _, err := l.GetObject(ctx, "bkt", key, GetOptions{Range: &Range{Start: int64(n), End: -1}}); !errors.Is(err, ErrInvalidRange) {
				t.Fatalf("%s: unsatisfiable range: %v", key, err)
			}
		}
		if _, _, err := l.GetObject(ctx, "bkt", "missing", GetOptions{}); !errors.Is(err, ErrNoSuchKey) {
			t.Fatalf("missing: %v", err)
		}
	})

	t.Run("Digests", func(t *testing.T) {
		l := open(t)
		l.MakeBucket(ctx, "bkt", MakeBucketOptions{})
		data := []byte("hello world")
		bad := md5.Sum([]byte("other"))
		if _, err := l.PutObject(ctx, "bkt", "k", bytes.NewReader(data), int64(len(data)), PutOptions{ExpectMD5: bad[:]}); !errors.Is(err, ErrBadDigest) {
			t.Fatalf("bad md5: %v", err)
		}
		if _, err := l.HeadObject(ctx, "bkt", "k", GetOptions{}); !errors.Is(err, ErrNoSuchKey) {
			t.Fatalf("failed put visible: %v", err)
		}
		// CRC32 of "hello world" is 0x0d4a1185.
		oi, err := l.PutObject(ctx, "bkt", "k", bytes.NewReader(data), int64(len(data)), PutOptions{ChecksumAlgorithm: ChecksumCRC32, ExpectChecksum: "DUoRhQ=="})
		if err != nil || oi.Checksums[ChecksumCRC32] != "DUoRhQ==" {
			t.Fatalf("crc32: %v %+v", err, oi.Checksums)
		}
		if _, err := l.PutObject(ctx, "bkt", "k2", bytes.NewReader(data), int64(len(data)), PutOptions{ChecksumAlgorithm: ChecksumCRC32, ExpectChecksum: "AAAAAA=="}); !errors.Is(err, ErrChecksumMismatch) {
			t.Fatalf("crc32 mismatch: %v", err)
		}
		// CRC64NVME check value of "123456789" is 0xae8b14860a799888.
		oi, err = l.PutObject(ctx, "bkt", "nv", bytes.NewReader([]byte("123456789")), 9, PutOptions{ChecksumAlgorithm: ChecksumCRC64NVME})
		if err != nil || oi.Checksums[ChecksumCRC64NVME] != "rosUhgp5mIg=" {
			t.Fatalf("crc64nvme: %v %+v", err, oi.Checksums)
		}
		big := randBytes(9, 300<<10)
		if _, err := l.PutObject(ctx, "bkt", "short", bytes.NewReader(big[:1000]), int64(len(big)), PutOptions{}); !errors.Is(err, ErrIncompleteBody) {
			t.Fatalf("short body: %v", err)
		}
	})

	t.Run("Versioning", func(t *testing.T) {
		l := open(t)
		l.MakeBucket(ctx, "ver", MakeBucketOptions{})
		mustPut(t, l, "ver", "k", []byte("null-1"))
		if err := l.SetBucketVersioning(ctx, "ver", VersioningEnabled); err != nil {
			t.Fatal(err)
		}
		a := mustPut(t, l, "ver", "k", []byte("A"))
		b := mustPut(t, l, "ver", "k", []byte("B"))
		if a.VersionID == "" || a.VersionID == b.VersionID || a.VersionID == NullVersionID {
			t.Fatalf("version ids %q %q", a.VersionID, b.VersionID)
		}
		if got := mustGet(t, l, "ver", "k", GetOptions{}); string(got) != "B" {
			t.Fatalf("current = %q", got)
		}
		if got := mustGet(t, l, "ver", "k", GetOptions{VersionID: a.VersionID}); string(got) != "A" {
			t.Fatalf("by id = %q", got)
		}
		if got := mustGet(t, l, "ver", "k", GetOptions{VersionID: NullVersionID}); string(got) != "null-1" {
			t.Fatalf("null = %q", got)
		}
		dm, err := l.DeleteObject(ctx, "ver", "k", DeleteOptions{})
		if err != nil || !dm.DeleteMarker || dm.VersionID == "" {
			t.Fatalf("delete marker: %v %+v", err, dm)
		}
		if info, _, err := l.GetObject(ctx, "ver", "k", GetOptions{}); !errors.Is(err, ErrNoSuchKey) || !info.DeleteMarker {
			t.Fatalf("get after marker: %v %+v", err, info)
		}
		if _, _, err := l.GetObject(ctx, "ver", "k", GetOptions{VersionID: dm.VersionID}); !errors.Is(err, ErrMethodNotAllowed) {
			t.Fatalf("get marker by id: %v", err)
		}
		lr, _ := l.ListObjects(ctx, "ver", ListOptions{})
		if len(lr.Objects) != 0 {
			t.Fatalf("listing shows deleted key: %+v", lr.Objects)
		}
		vr, err := l.ListObjectVersions(ctx, "ver", ListVersionsOptions{})
		if err != nil || len(vr.Versions) != 4 || !vr.Versions[0].DeleteMarker || !vr.Versions[0].IsLatest || vr.Versions[1].IsLatest {
			t.Fatalf("versions: %v %+v", err, vr.Versions)
		}
		if vr.Versions[1].VersionID != b.VersionID || vr.Versions[3].VersionID != NullVersionID {
			t.Fatalf("version order: %+v", vr.Versions)
		}
		// Removing the marker restores B as current.
		if _, err := l.DeleteObject(ctx, "ver", "k", DeleteOptions{VersionID: dm.VersionID}); err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, l, "ver", "k", GetOptions{}); string(got) != "B" {
			t.Fatalf("after marker removal = %q", got)
		}
		// Paging through versions one at a time sees each exactly once.
		var seen []string
		km, vm := "", ""
		for {
			page, err := l.ListObjectVersions(ctx, "ver", ListVersionsOptions{KeyMarker: km, VersionIDMarker: vm, MaxKeys: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range page.Versions {
				seen = append(seen, v.VersionID)
			}
			if !page.IsTruncated {
				break
			}
			km, vm = page.NextKeyMarker, page.NextVersionIDMarker
		}
		if len(seen) != 3 || seen[0] != b.VersionID || seen[1] != a.VersionID || seen[2] != NullVersionID {
			t.Fatalf("paged versions %v", seen)
		}
		// Suspended: a put replaces the null version.
		l.SetBucketVersioning(ctx, "ver", VersioningSuspended)
		mustPut(t, l, "ver", "k", []byte("null-2"))
		if got := mustGet(t, l, "ver", "k", GetOptions{VersionID: NullVersionID}); string(got) != "null-2" {
			t.Fatalf("suspended null = %q", got)
		}
		vr, _ = l.ListObjectVersions(ctx, "ver", ListVersionsOptions{})
		if len(vr.Versions) != 3 {
			t.Fatalf("suspended versions: %+v", vr.Versions)
		}
	})

	t.Run("Listing", func(t *testing.T) {
		l := open(t)
		l.MakeBucket(ctx, "lst", MakeBucketOptions{})
		keys := []string{"a", "a/b", "a/c/d", "a/c/e", "b/x", "b/y", "c", "d/", "d/z"}
		for _, k := range keys {
			mustPut(t, l, "lst", k, []byte(k))
		}
		res, err := l.ListObjects(ctx, "lst", ListOptions{Delimiter: "/"})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(res); fmt.Sprint(got) != "[a c]" || fmt.Sprint(res.CommonPrefixes) != "[a/ b/ d/]" {
			t.Fatalf("delimiter listing %v %v", got, res.CommonPrefixes)
		}
		res, _ = l.ListObjects(ctx, "lst", ListOptions{Prefix: "a/", Delimiter: "/"})
		if fmt.Sprint(names(res)) != "[a/b]" || fmt.Sprint(res.CommonPrefixes) != "[a/c/]" {
			t.Fatalf("prefix listing %v %v", names(res), res.CommonPrefixes)
		}
		// Page by 1 with and without delimiter: every entry exactly once.
		for _, delim := range []string{"", "/"} {
			var got []string
			marker := ""
			for i := 0; ; i++ {
				page, err := l.ListObjects(ctx, "lst", ListOptions{Delimiter: delim, Marker: marker, MaxKeys: 2})
				if err != nil || i > 20 {
					t.Fatal(err, i)
				}
				got = append(got, names(page)...)
				got = append(got, page.CommonPrefixes...)
				if !page.IsTruncated {
					break
				}
				marker = page.NextMarker
			}
			sort.Strings(got)
			want := keys
			if delim != "" {
				want = []string{"a", "a/", "b/", "c", "d/"}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("paged (delim %q) = %v, want %v", delim, got, want)
			}
		}
	})

	t.Run("Multipart", func(t *testing.T) {
		l := open(t)
		l.MakeBucket(ctx, "mpu", MakeBucketOptions{})
		id, err := l.NewMultipartUpload(ctx, "mpu", "big", PutOptions{ContentType: "application/x-test", ChecksumAlgorithm: ChecksumCRC32C})
		if err != nil {
			t.Fatal(err)
		}
		parts := [][]byte{randBytes(1, MinPartSize), randBytes(2, MinPartSize+3), randBytes(3, 1000)}
		var list []CompletePart
		for i, p := range parts {
			pi, err := l.PutObjectPart(ctx, "mpu", "big", id, i+1, bytes.NewReader(p), int64(len(p)), PartOptions{})
			if err != nil {
				t.Fatal(err)
			}
			list = append(list, CompletePart{Number: i + 1, ETag: `"` + pi.ETag + `"`})
		}
		// Replace part 3; the old ETag is now invalid.
		p3 := randBytes(4, 2000)
		pi, err := l.PutObjectPart(ctx, "mpu", "big", id, 3, bytes.NewReader(p3), int64(len(p3)), PartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.CompleteMultipartUpload(ctx, "mpu", "big", id, list, CompleteOptions{}); !errors.Is(err, ErrInvalidPart) {
			t.Fatalf("stale etag: %v", err)
		}
		parts[2], list[2].ETag = p3, pi.ETag
		lp, err := l.ListParts(ctx, "mpu", "big", id, 0, 2)
		if err != nil || len(lp.Parts) != 2 || !lp.IsTruncated || lp.NextPartNumberMarker != 2 {
			t.Fatalf("list parts: %v %+v", err, lp)
		}
		ups, _ := l.ListMultipartUploads(ctx, "mpu", ListUploadsOptions{})
		if len(ups.Uploads) != 1 || ups.Uploads[0].UploadID != id {
			t.Fatalf("uploads: %+v", ups)
		}
		if _, err := l.CompleteMultipartUpload(ctx, "mpu", "big", id, []CompletePart{list[1], list[0]}, CompleteOptions{}); !errors.Is(err, ErrInvalidPartOrder) {
			t.Fatalf("order: %v", err)
		}
		if _, err := l.CompleteMultipartUpload(ctx, "mpu", "big", id, []CompletePart{list[2], {Number: 4, ETag: list[2].ETag}}, CompleteOptions{}); !errors.Is(err, ErrInvalidPart) {
			t.Fatalf("missing part: %v", err)
		}
		oi, err := l.CompleteMultipartUpload(ctx, "mpu", "big", id, list, CompleteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if oi.PartsCount != 3 || oi.ETag[len(oi.ETag)-2:] != "-3" {
			t.Fatalf("complete info %+v", oi)
		}
		whole := bytes.Join(parts, nil)
		if got := mustGet(t, l, "mpu", "big", GetOptions{}); !bytes.Equal(got, whole) {
			t.Fatal("multipart content differs")
		}
		r := &Range{Start: MinPartSize - 10, End: 2*MinPartSize + 5}
		if got := mustGet(t, l, "mpu", "big", GetOptions{Range: r}); !bytes.Equal(got, whole[r.Start:r.End+1]) {
			t.Fatal("cross-part range differs")
		}
		if got := mustGet(t, l, "mpu", "big", GetOptions{PartNumber: 2}); !bytes.Equal(got, parts[1]) {
			t.Fatal("part 2 differs")
		}
		info, _ := l.HeadObject(ctx, "mpu", "big", GetOptions{})
		if info.ContentType != "application/x-test" || info.Checksums[ChecksumCRC32C] == "" {
			t.Fatalf("head %+v", info)
		}
		if _, err := l.PutObjectPart(ctx, "mpu", "big", id, 1, bytes.NewReader(nil), 0, PartOptions{}); !errors.Is(err, ErrNoSuchUpload) {
			t.Fatalf("completed upload still open: %v", err)
		}
		id2, _ := l.NewMultipartUpload(ctx, "mpu", "small", PutOptions{})
		a, _ := l.PutObjectPart(ctx, "mpu", "small", id2, 1, bytes.NewReader([]byte("tiny")), 4, PartOptions{})
		b, _ := l.PutObjectPart(ctx, "mpu", "small", id2, 2, bytes.NewReader([]byte("tiny")), 4, PartOptions{})
		if _, err := l.CompleteMultipartUpload(ctx, "mpu", "small", id2, []CompletePart{{1, a.ETag, nil}, {2, b.ETag, nil}}, CompleteOptions{}); !errors.Is(err, ErrEntityTooSmall) {
			t.Fatalf("too small: %v", err)
		}
		if err := l.AbortMultipartUpload(ctx, "mpu", "small", id2, AbortOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := l.AbortMultipartUpload(ctx, "mpu", "small", id2, AbortOptions{}); !errors.Is(err, ErrNoSuchUpload) {
			t.Fatalf("double abort: %v", err)
		}
	})

	t.Run("CopyAndTags", func(t *testing.T) {
		l := open(t)
		l.MakeBucket(ctx, "cpy", MakeBucketOptions{})
		data := randBytes(5, 200<<10)
		l.PutObject(ctx, "cpy", "src", bytes.NewReader(data), int64(len(data)), PutOptions{ContentType: "text/x", UserMeta: map[string]string{"a": "1"}, Tags: map[string]string{"t": "v"}})
		oi, err := l.CopyObject(ctx, CopySource{Bucket: "cpy", Key: "src"}, "cpy", "dst", PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := mustGet(t, l, "cpy", "dst", GetOptions{}); !bytes.Equal(got, data) {
			t.Fatal("copy differs")
		}
		h, _ := l.HeadObject(ctx, "cpy", "dst", GetOptions{})
		if h.ContentType != "text/x" || h.UserMeta["a"] != "1" || h.Tags["t"] != "v" || h.ETag != oi.ETag {
			t.Fatalf("copied meta %+v", h)
		}
		if _, err := l.CopyObject(ctx, CopySource{Bucket: "cpy", Key: "src", IfMatch: `"nope"`}, "cpy", "d2", PutOptions{}); !errors.Is(err, ErrPreconditionFailed) {
			t.Fatalf("copy if-match: %v", err)
		}
		l.CopyObject(ctx, CopySource{Bucket: "cpy", Key: "src"}, "cpy", "d3", PutOptions{MetadataReplace: true, ContentType: "new/type"})
		h, _ = l.HeadObject(ctx, "cpy", "d3", GetOptions{})
		if h.ContentType != "new/type" || len(h.UserMeta) != 0 {
			t.Fatalf("replace meta %+v", h)
		}
		if _, err := l.PutObjectTags(ctx, "cpy", "src", "", map[string]string{"x": "y"}); err != nil {
			t.Fatal(err)
		}
		h, _ = l.HeadObject(ctx, "cpy", "src", GetOptions{})
		if h.Tags["x"] != "y" || len(h.Tags) != 1 {
			t.Fatalf("tags %+v", h.Tags)
		}
	})

	t.Run("ACL", func(t *testing.T) {
		l := open(t)
		l.MakeBucket(ctx, "acl", MakeBucketOptions{})
		doc := []byte("<AccessControlPolicy>one</AccessControlPolicy>")
		if _, err := l.PutObject(ctx, "acl", "k", bytes.NewReader([]byte("x")), 1, PutOptions{ACL: doc, Tags: map[string]string{"t": "v"}}); err != nil {
			t.Fatal(err)
		}
		if h, _ := l.HeadObject(ctx, "acl", "k", GetOptions{MetadataOnly: true}); !bytes.Equal(h.ACL, doc) {
			t.Fatalf("stored ACL %q", h.ACL)
		}
		// A copy never inherits the source's ACL.
		if _, err := l.CopyObject(ctx, CopySource{Bucket: "acl", Key: "k"}, "acl", "c", PutOptions{}); err != nil {
			t.Fatal(err)
		}
		if h, _ := l.HeadObject(ctx, "acl", "c", GetOptions{MetadataOnly: true}); h.ACL != nil {
			t.Fatalf("copied ACL %q", h.ACL)
		}
		two := []byte("<AccessControlPolicy>two</AccessControlPolicy>")
		if _, err := l.PutObjectACL(ctx, "acl", "k", "", two); err != nil {
			t.Fatal(err)
		}
		h, _ := l.HeadObject(ctx, "acl", "k", GetOptions{MetadataOnly: true})
		if !bytes.Equal(h.ACL, two) || h.Tags["t"] != "v" {
			t.Fatalf("after PutObjectACL: acl %q tags %v", h.ACL, h.Tags)
		}
		if _, err := l.PutObjectACL(ctx, "acl", "missing", "", two); !errors.Is(err, ErrNoSuchKey) {
			t.Fatalf("PutObjectACL on a missing key: %v", err)
		}
		// Multipart uploads carry the ACL to the completed version.
		id, err := l.NewMultipartUpload(ctx, "acl", "mp", PutOptions{ACL: doc})
		if err != nil {
			t.Fatal(err)
		}
		p, err := l.PutObjectPart(ctx, "acl", "mp", id, 1, bytes.NewReader([]byte("part")), 4, PartOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.CompleteMultipartUpload(ctx, "acl", "mp", id, []CompletePart{{Number: 1, ETag: p.ETag}}, CompleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if h, _ := l.HeadObject(ctx, "acl", "mp", GetOptions{MetadataOnly: true}); !bytes.Equal(h.ACL, doc) {
			t.Fatalf("multipart ACL %q", h.ACL)
		}
	})

	t.Run("ConditionalWrites", func(t *testing.T) {
		l := open(t)
		l.MakeBucket(ctx, "cnd", MakeBucketOptions{})
		oi, err := l.PutObject(ctx, "cnd", "k", bytes.NewReader([]byte("1")), 1, PutOptions{IfNoneMatchStar: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.PutObject(ctx, "cnd", "k", bytes.NewReader([]byte("2")), 1, PutOptions{IfNoneMatchStar: true}); !errors.Is(err, ErrPreconditionFailed) {
			t.Fatalf("if-none-match: %v", err)
		}
		if _, err := l.PutObject(ctx, "cnd", "k", bytes.NewReader([]byte("2")), 1, PutOptions{IfMatch: `"wrong"`}); !errors.Is(err, ErrPreconditionFailed) {
			t.Fatalf("if-match wrong: %v", err)
		}
		if _, err := l.PutObject(ctx, "cnd", "k", bytes.NewReader([]byte("2")), 1, PutOptions{IfMatch: `"` + oi.ETag + `"`}); err != nil {
			t.Fatalf("if-match right: %v", err)
		}
	})
}

func names(r ListResult) []string {
	var out []string
	for _, o := range r.Objects {
		out = append(out, o.Key)
	}
	return out
}
