package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/cofferstore/coffer/object"
)

func md5b64(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func newBucketServer(t *testing.T) *testServer {
	ts := newTestServer(t)
	expectStatus(t, ts.do("PUT", "/bkt", ""), 200)
	return ts
}

func TestPutGetHeadObject(t *testing.T) {
	ts := newBucketServer(t)
	body := "hello, coffer"
	r := ts.do("PUT", "/bkt/dir/obj.txt", body,
		"Content-Type", "text/plain", "Content-MD5", md5b64(body), "x-amz-meta-Color", "blue",
		"Cache-Control", "no-cache", "Content-Disposition", "inline", "x-amz-tagging", "a=1&b=2",
		"x-amz-checksum-crc32", checksumOf(object.ChecksumCRC32, []byte(body)))
	expectStatus(t, r, 200)
	etag := `"` + ts.layer.buckets["bkt"].objects["dir/obj.txt"].info.ETag + `"`
	if r.header["etag"] != etag || r.header["x-amz-checksum-crc32"] == "" {
		t.Fatalf("PUT headers %v", r.header)
	}
	if _, ok := r.header["x-amz-version-id"]; ok {
		t.Fatal("version id on an unversioned bucket")
	}

	g := ts.do("GET", "/bkt/dir/obj.txt", "", "x-amz-checksum-mode", "ENABLED")
	expectStatus(t, g, 200)
	want := map[string]string{
		"etag": etag, "content-type": "text/plain", "x-amz-meta-color": "blue", "cache-control": "no-cache",
		"content-disposition": "inline", "accept-ranges": "bytes", "last-modified": "Fri, 02 Jan 2026 03:04:05 GMT",
		"x-amz-tagging-count": "2", "content-length": "13",
	}
	for k, v := range want {
		if g.header[k] != v {
			t.Errorf("GET %s = %q, want %q", k, g.header[k], v)
		}
	}
	if g.body != body || g.header["x-amz-checksum-crc32"] == "" {
		t.Fatalf("GET body %q headers %v", g.body, g.header)
	}
	if _, ok := g.header["x-amz-storage-class"]; ok {
		t.Error("x-amz-storage-class sent for STANDARD")
	}
	if g := ts.do("GET", "/bkt/dir/obj.txt", ""); g.header["x-amz-checksum-crc32"] != "" {
		t.Error("checksum returned without x-amz-checksum-mode")
	}

	h := ts.do("HEAD", "/bkt/dir/obj.txt", "")
	if h.status != 200 || h.body != "" || h.header["content-length"] != "13" || h.header["etag"] != etag {
		t.Fatalf("HEAD %d %q %v", h.status, h.body, h.header)
	}

	o := ts.do("GET", "/bkt/dir/obj.txt?response-content-type=application/json&response-cache-control=max-age%3D5", "")
	if o.header["content-type"] != "application/json" || o.header["cache-control"] != "max-age=5" {
		t.Fatalf("overrides %v", o.header)
	}

	expectError(t, ts.do("PUT", "/bkt/x", "data", "Content-MD5", md5b64("other")), 400, "BadDigest")
	expectError(t, ts.do("PUT", "/bkt/x", "data", "Content-MD5", "!!"), 400, "InvalidDigest")
	expectError(t, ts.do("PUT", "/bkt/x", "data", "x-amz-checksum-crc32", checksumOf(object.ChecksumCRC32, []byte("nope"))), 400, "BadDigest")
	expectError(t, ts.do("PUT", "/bkt/x", "data", "x-amz-checksum-sha256", "AAAA"), 400, "InvalidRequest")
	expectError(t, ts.do("PUT", "/bkt/x", "data", "x-amz-storage-class", "GLACIER"), 400, "InvalidStorageClass")
	expectError(t, ts.do("PUT", "/bkt/x", "data", "x-amz-meta-big", strings.Repeat("v", 2100)), 400, "MetadataTooLarge")
	expectError(t, ts.do("PUT", "/bkt/x", "data", "x-amz-tagging", "k=v&k=w"), 400, "InvalidTag")
	expectError(t, ts.do("PUT", "/bkt/"+strings.Repeat("k", 1025), "data"), 400, "KeyTooLongError")
	expectError(t, ts.do("GET", "/bkt/missing", ""), 404, "NoSuchKey")
	expectStatus(t, ts.do("PUT", "/bkt/x", "data", "x-amz-storage-class", "STANDARD"), 200)
}

func TestConditionalWrites(t *testing.T) {
	ts := newBucketServer(t)
	expectStatus(t, ts.do("PUT", "/bkt/k", "one", "If-None-Match", "*"), 200)
	expectError(t, ts.do("PUT", "/bkt/k", "two", "If-None-Match", "*"), 412, "PreconditionFailed")
	etag := ts.layer.buckets["bkt"].objects["k"].info.ETag
	expectError(t, ts.do("PUT", "/bkt/k", "two", "If-Match", `"deadbeef"`), 412, "PreconditionFailed")
	expectStatus(t, ts.do("PUT", "/bkt/k", "two", "If-Match", `"`+etag+`"`), 200)
}

func TestVersionedPut(t *testing.T) {
	ts := newBucketServer(t)
	expectStatus(t, ts.do("PUT", "/bkt?versioning", `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`), 200)
	r := ts.do("PUT", "/bkt/k", "v")
	if r.header["x-amz-version-id"] == "" {
		t.Fatalf("no version id: %v", r.header)
	}
	g := ts.do("GET", "/bkt/k?versionId="+r.header["x-amz-version-id"], "")
	if g.status != 200 || g.header["x-amz-version-id"] != r.header["x-amz-version-id"] {
		t.Fatalf("GET version: %d %v", g.status, g.header)
	}
	expectError(t, ts.do("GET", "/bkt/k?versionId=nope", ""), 404, "NoSuchVersion")
}

func TestRangeReads(t *testing.T) {
	ts := newBucketServer(t)
	expectStatus(t, ts.do("PUT", "/bkt/k", "0123456789"), 200)
	cases := []struct {
		rng, body, contentRange string
		status                  int
	}{
		{"bytes=0-3", "0123", "bytes 0-3/10", 206},
		{"bytes=7-", "789", "bytes 7-9/10", 206},
		{"bytes=-2", "89", "bytes 8-9/10", 206},
		{"bytes=5-100", "56789", "bytes 5-9/10", 206},
		{"bytes=-100", "0123456789", "bytes 0-9/10", 206},
		{"bytes=0-1,3-4", "0123456789", "", 200}, // multi-range: whole object, as S3
		{"bytes=abc", "0123456789", "", 200},     // unparseable: ignored, as S3
		{"bytes=5-2", "0123456789", "", 200},
	}
	for _, c := range cases {
		r := ts.do("GET", "/bkt/k", "", "Range", c.rng)
		if r.status != c.status || r.body != c.body || r.header["content-range"] != c.contentRange {
			t.Errorf("Range %s: %d %q %q", c.rng, r.status, r.body, r.header["content-range"])
		}
	}
	for _, rng := range []string{"bytes=10-", "bytes=20-30", "bytes=-0"} {
		r := ts.do("GET", "/bkt/k", "", "Range", rng)
		expectError(t, r, 416, "InvalidRange")
		if r.header["content-range"] != "bytes */10" {
			t.Errorf("Range %s: Content-Range %q", rng, r.header["content-range"])
		}
	}
	// A range response carries no whole-object checksum (clients would
	// check it against the partial body).
	expectStatus(t, ts.do("PUT", "/bkt/sum", "0123456789", "x-amz-checksum-crc32", checksumOf(object.ChecksumCRC32, []byte("0123456789"))), 200)
	if r := ts.do("GET", "/bkt/sum", "", "Range", "bytes=0-3", "x-amz-checksum-mode", "ENABLED"); r.status != 206 || r.header["x-amz-checksum-crc32"] != "" {
		t.Fatalf("ranged GET with checksum mode: %d %v", r.status, r.header)
	}
	if r := ts.do("GET", "/bkt/sum", "", "x-amz-checksum-mode", "ENABLED"); r.header["x-amz-checksum-crc32"] == "" {
		t.Fatalf("whole GET with checksum mode lacks the checksum: %v", r.header)
	}
	h := ts.do("HEAD", "/bkt/k", "", "Range", "bytes=2-4")
	if h.status != 206 || h.header["content-length"] != "3" || h.header["content-range"] != "bytes 2-4/10" {
		t.Fatalf("HEAD range %d %v", h.status, h.header)
	}
	expectError(t, ts.do("GET", "/bkt/k?partNumber=1", "", "Range", "bytes=0-1"), 400, "InvalidRequest")
	expectError(t, ts.do("GET", "/bkt/k?partNumber=0", ""), 400, "InvalidArgument")
	if r := ts.do("GET", "/bkt/k?partNumber=1", ""); r.status != 200 || r.body != "0123456789" {
		t.Fatalf("partNumber=1 of single-part: %d %q", r.status, r.body)
	}
}

func TestConditionalReads(t *testing.T) {
	ts := newBucketServer(t)
	expectStatus(t, ts.do("PUT", "/bkt/k", "data"), 200)
	etag := `"` + ts.layer.buckets["bkt"].objects["k"].info.ETag + `"`
	before := "Thu, 01 Jan 2026 00:00:00 GMT"
	after := "Sat, 03 Jan 2026 00:00:00 GMT"
	cases := []struct {
		hdrs   []string
		status int
	}{
		{[]string{"If-Match", etag}, 200},
		{[]string{"If-Match", `"x"`}, 412},
		{[]string{"If-Match", "*"}, 200},
		{[]string{"If-None-Match", etag}, 304},
		{[]string{"If-None-Match", `"x"`}, 200},
		{[]string{"If-Modified-Since", after}, 304},
		{[]string{"If-Modified-Since", before}, 200},
		{[]string{"If-Unmodified-Since", before}, 412},
		{[]string{"If-Unmodified-Since", after}, 200},
		// If-Match true beats If-Unmodified-Since false.
		{[]string{"If-Match", etag, "If-Unmodified-Since", before}, 200},
		// If-None-Match false beats If-Modified-Since true (not modified).
		{[]string{"If-None-Match", `"x"`, "If-Modified-Since", after}, 200},
		{[]string{"If-Match", `"x"`, "If-None-Match", etag}, 412},
	}
	for _, c := range cases {
		for _, m := range []string{"GET", "HEAD"} {
			r := ts.do(m, "/bkt/k", "", c.hdrs...)
			if r.status != c.status {
				t.Errorf("%s %v: %d, want %d", m, c.hdrs, r.status, c.status)
			}
			if r.status == 304 && (r.header["etag"] != etag || r.header["last-modified"] == "" || r.body != "") {
				t.Errorf("304 headers %v body %q", r.header, r.body)
			}
		}
	}
}

func TestCheckConditionsTruncatesToSeconds(t *testing.T) {
	info := object.ObjectInfo{ETag: "e", ModTime: time.Date(2026, 1, 2, 3, 4, 5, 900e6, time.UTC)}
	h := map[string]string{"If-Modified-Since": "Fri, 02 Jan 2026 03:04:05 GMT"}
	if err := checkConditions(func(k string) string { return h[k] }, info); err == nil {
		t.Fatal("sub-second modification counted as modified")
	}
}

func TestDeleteObject(t *testing.T) {
	ts := newBucketServer(t)
	expectStatus(t, ts.do("PUT", "/bkt/k", "data"), 200)
	expectStatus(t, ts.do("DELETE", "/bkt/k", ""), 204)
	expectStatus(t, ts.do("DELETE", "/bkt/k", ""), 204) // absent key: 204 as S3
	expectError(t, ts.do("DELETE", "/bkt/locked", ""), 403, "AccessDenied")
	expectError(t, ts.do("DELETE", "/nobkt/k", ""), 404, "NoSuchBucket")
}

func TestDeleteObjects(t *testing.T) {
	ts := newBucketServer(t)
	for _, k := range []string{"a", "b"} {
		expectStatus(t, ts.do("PUT", "/bkt/"+k, "x"), 200)
	}
	body := `<Delete><Object><Key>a</Key></Object><Object><Key>missing</Key></Object><Object><Key>locked</Key></Object></Delete>`
	expectError(t, ts.do("POST", "/bkt?delete", body), 400, "MissingContentMD5")
	expectError(t, ts.do("POST", "/bkt?delete", body, "Content-MD5", md5b64("x")), 400, "BadDigest")
	r := ts.do("POST", "/bkt?delete", body, "Content-MD5", md5b64(body))
	expectStatus(t, r, 200)
	for _, want := range []string{
		`<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
		`<Deleted><Key>a</Key></Deleted>`, `<Deleted><Key>missing</Key></Deleted>`,
		`<Error><Key>locked</Key><Code>AccessDenied</Code>`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("verbose result lacks %s: %s", want, r.body)
		}
	}
	quiet := `<Delete><Quiet>true</Quiet><Object><Key>b</Key></Object></Delete>`
	r = ts.do("POST", "/bkt?delete", quiet, "x-amz-checksum-crc32", checksumOf(object.ChecksumCRC32, []byte(quiet)))
	if r.status != 200 || strings.Contains(r.body, "<Deleted>") {
		t.Fatalf("quiet: %d %s", r.status, r.body)
	}
	if _, ok := ts.layer.buckets["bkt"].objects["b"]; ok {
		t.Fatal("b not deleted")
	}
	many := "<Delete>" + strings.Repeat("<Object><Key>k</Key></Object>", 1001) + "</Delete>"
	expectError(t, ts.do("POST", "/bkt?delete", many, "Content-MD5", md5b64(many)), 400, "MalformedXML")
	bad := "<Delete><Object>"
	expectError(t, ts.do("POST", "/bkt?delete", bad, "Content-MD5", md5b64(bad)), 400, "MalformedXML")
}

func TestCopyObject(t *testing.T) {
	ts := newBucketServer(t)
	expectStatus(t, ts.do("PUT", "/bkt/src%20key", "data", "x-amz-meta-a", "1", "Content-Type", "text/plain"), 200)
	etag := ts.layer.buckets["bkt"].objects["src key"].info.ETag
	r := ts.do("PUT", "/bkt/dst", "", "x-amz-copy-source", "/bkt/src%20key")
	expectStatus(t, r, 200)
	if !strings.Contains(r.body, `<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&#34;`+etag+`&#34;</ETag></CopyObjectResult>`) {
		t.Fatalf("copy result: %s", r.body)
	}
	if d := ts.layer.buckets["bkt"].objects["dst"].info; d.UserMeta["a"] != "1" || d.ContentType != "text/plain" {
		t.Fatalf("COPY directive lost metadata: %+v", d)
	}
	expectStatus(t, ts.do("PUT", "/bkt/dst2", "", "x-amz-copy-source", "bkt/src%20key", "x-amz-metadata-directive", "REPLACE", "x-amz-meta-b", "2"), 200)
	if d := ts.layer.buckets["bkt"].objects["dst2"].info; d.UserMeta["b"] != "2" || d.UserMeta["a"] != "" {
		t.Fatalf("REPLACE directive: %+v", d.UserMeta)
	}
	expectError(t, ts.do("PUT", "/bkt/src%20key", "", "x-amz-copy-source", "bkt/src%20key"), 400, "InvalidRequest")
	expectStatus(t, ts.do("PUT", "/bkt/src%20key", "", "x-amz-copy-source", "bkt/src%20key", "x-amz-metadata-directive", "REPLACE"), 200)
	expectError(t, ts.do("PUT", "/bkt/d", "", "x-amz-copy-source", "bkt/src%20key", "x-amz-metadata-directive", "MERGE"), 400, "InvalidArgument")
	expectError(t, ts.do("PUT", "/bkt/d", "", "x-amz-copy-source", "nokey"), 400, "InvalidArgument")
	expectError(t, ts.do("PUT", "/bkt/d", "", "x-amz-copy-source", "bkt/src%20key", "x-amz-copy-source-if-match", `"nope"`), 412, "PreconditionFailed")
	expectError(t, ts.do("PUT", "/bkt/d", "", "x-amz-copy-source", "bkt/src%20key", "x-amz-copy-source-if-none-match", `"`+etag+`"`), 412, "PreconditionFailed")
	expectError(t, ts.do("PUT", "/bkt/d", "", "x-amz-copy-source", "bkt/nothere"), 404, "NoSuchKey")
	r = ts.do("PUT", "/bkt/d", "", "x-amz-copy-source", "bkt/src%20key?versionId=null")
	expectError(t, r, 404, "NoSuchVersion")
}

func TestObjectTagging(t *testing.T) {
	ts := newBucketServer(t)
	expectStatus(t, ts.do("PUT", "/bkt/k", "x"), 200)
	expectStatus(t, ts.do("PUT", "/bkt/k?tagging", `<Tagging><TagSet><Tag><Key>k1</Key><Value>v1</Value></Tag></TagSet></Tagging>`), 200)
	g := ts.do("GET", "/bkt/k?tagging", "")
	if !strings.Contains(g.body, `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>k1</Key><Value>v1</Value></Tag></TagSet></Tagging>`) {
		t.Fatalf("tagging: %s", g.body)
	}
	var tags strings.Builder
	for i := 0; i < 11; i++ {
		tags.WriteString("<Tag><Key>k" + string(rune('a'+i)) + "</Key><Value>v</Value></Tag>")
	}
	expectError(t, ts.do("PUT", "/bkt/k?tagging", "<Tagging><TagSet>"+tags.String()+"</TagSet></Tagging>"), 400, "InvalidTag")
	expectError(t, ts.do("PUT", "/bkt/k?tagging", "<Tagging><TagSet><Tag><Key>"+strings.Repeat("k", 129)+"</Key><Value>v</Value></Tag></TagSet></Tagging>"), 400, "InvalidTag")
	expectError(t, ts.do("PUT", "/bkt/k?tagging", "<Tagging><TagSet><Tag><Key>k</Key><Value>"+strings.Repeat("v", 257)+"</Value></Tag></TagSet></Tagging>"), 400, "InvalidTag")
	expectError(t, ts.do("PUT", "/bkt/k?tagging", "<Tagging><TagSet>"), 400, "MalformedXML")
	expectError(t, ts.do("PUT", "/bkt/k?tagging", strings.Repeat("x", 70<<10)), 400, "EntityTooLarge")
	expectStatus(t, ts.do("DELETE", "/bkt/k?tagging", ""), 204)
	if g := ts.do("GET", "/bkt/k?tagging", ""); !strings.Contains(g.body, "<TagSet></TagSet>") {
		t.Fatalf("after delete: %s", g.body)
	}
}

func TestGetObjectAttributes(t *testing.T) {
	ts := newBucketServer(t)
	expectStatus(t, ts.do("PUT", "/bkt/k", "data", "x-amz-checksum-sha256", checksumOf(object.ChecksumSHA256, []byte("data"))), 200)
	expectError(t, ts.do("GET", "/bkt/k?attributes", ""), 400, "InvalidArgument")
	expectError(t, ts.do("GET", "/bkt/k?attributes", "", "x-amz-object-attributes", "Bogus"), 400, "InvalidArgument")
	r := ts.do("GET", "/bkt/k?attributes", "", "x-amz-object-attributes", "ETag,Checksum,ObjectSize,StorageClass,ObjectParts")
	expectStatus(t, r, 200)
	etag := ts.layer.buckets["bkt"].objects["k"].info.ETag
	for _, want := range []string{"<ETag>" + etag + "</ETag>", "<ChecksumSHA256>", "<ChecksumType>FULL_OBJECT</ChecksumType>", "<ObjectSize>4</ObjectSize>", "<StorageClass>STANDARD</StorageClass>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("attributes lack %s: %s", want, r.body)
		}
	}
	if strings.Contains(r.body, "ObjectParts") || r.header["last-modified"] == "" {
		t.Errorf("attributes: %s %v", r.body, r.header)
	}
}
