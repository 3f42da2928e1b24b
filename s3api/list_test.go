package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"strings"
	"testing"
)

func putKeys(t *testing.T, ts *testServer, keys ...string) {
	for _, k := range keys {
		expectStatus(t, ts.do("PUT", "/bkt/"+k, "x"), 200)
	}
}

func TestListObjectsV1(t *testing.T) {
	ts := newBucketServer(t)
	putKeys(t, ts, "a", "b/1", "b/2", "c")
	r := ts.do("GET", "/bkt", "")
	expectStatus(t, r, 200)
	var res listBucketResult
	if err := xml.Unmarshal([]byte(r.body), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Contents) != 4 || res.Contents[0].Owner == nil || res.MaxKeys != 1000 || res.Marker == nil {
		t.Fatalf("v1: %s", r.body)
	}
	if !strings.Contains(r.body, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix></Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>a</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&#34;`) {
		t.Fatalf("v1 shape: %s", r.body)
	}
	r = ts.do("GET", "/bkt?delimiter=/&max-keys=2", "")
	if !strings.Contains(r.body, "<NextMarker>b/</NextMarker>") || !strings.Contains(r.body, "<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>") || !strings.Contains(r.body, "<IsTruncated>true</IsTruncated>") {
		t.Fatalf("v1 delimiter: %s", r.body)
	}
	r = ts.do("GET", "/bkt?max-keys=2", "")
	if strings.Contains(r.body, "NextMarker") {
		t.Fatalf("NextMarker without delimiter: %s", r.body)
	}
	r = ts.do("GET", "/bkt?marker=b/2", "")
	if strings.Contains(r.body, "<Key>a</Key>") || !strings.Contains(r.body, "<Key>c</Key>") {
		t.Fatalf("marker: %s", r.body)
	}
	expectError(t, ts.do("GET", "/bkt?max-keys=-1", ""), 400, "InvalidArgument")
	expectError(t, ts.do("GET", "/bkt?max-keys=abc", ""), 400, "InvalidArgument")
	expectError(t, ts.do("GET", "/bkt?encoding-type=base64", ""), 400, "InvalidArgument")
	expectError(t, ts.do("GET", "/nobkt", ""), 404, "NoSuchBucket")
	if r := ts.do("GET", "/bkt?max-keys=5000", ""); !strings.Contains(r.body, "<MaxKeys>1000</MaxKeys>") {
		t.Fatalf("max-keys cap: %s", r.body)
	}
	if r := ts.do("GET", "/bkt?max-keys=0", ""); strings.Contains(r.body, "<Contents>") || !strings.Contains(r.body, "<IsTruncated>false</IsTruncated>") {
		t.Fatalf("max-keys=0: %s", r.body)
	}
}

func TestListObjectsV2(t *testing.T) {
	ts := newBucketServer(t)
	putKeys(t, ts, "a", "b", "c", "d")
	r := ts.do("GET", "/bkt?list-type=2&max-keys=2", "")
	var res listBucketResult
	if err := xml.Unmarshal([]byte(r.body), &res); err != nil {
		t.Fatal(err)
	}
	if *res.KeyCount != 2 || !res.IsTruncated || res.NextContinuationToken == "" || res.Contents[0].Owner != nil || res.Marker != nil {
		t.Fatalf("v2 page 1: %s", r.body)
	}
	if tok, _ := base64.RawURLEncoding.DecodeString(res.NextContinuationToken); string(tok) != "b" {
		t.Fatalf("token %q", tok)
	}
	r2 := ts.do("GET", "/bkt?list-type=2&fetch-owner=true&continuation-token="+res.NextContinuationToken, "")
	if !strings.Contains(r2.body, "<Key>c</Key>") || strings.Contains(r2.body, "<Key>b</Key>") || !strings.Contains(r2.body, "<Owner><ID>") ||
		!strings.Contains(r2.body, "<ContinuationToken>"+res.NextContinuationToken+"</ContinuationToken>") {
		t.Fatalf("v2 page 2: %s", r2.body)
	}
	r3 := ts.do("GET", "/bkt?list-type=2&start-after=c", "")
	if !strings.Contains(r3.body, "<StartAfter>c</StartAfter>") || !strings.Contains(r3.body, "<KeyCount>1</KeyCount>") {
		t.Fatalf("start-after: %s", r3.body)
	}
	expectError(t, ts.do("GET", "/bkt?list-type=2&continuation-token=!!!", ""), 400, "InvalidArgument")
}

func TestListEncodingTypeURL(t *testing.T) {
	ts := newBucketServer(t)
	putKeys(t, ts, "dir/a%20b+c", "dir/x%26y/z")
	r := ts.do("GET", "/bkt?list-type=2&encoding-type=url&prefix=dir/&delimiter=/&start-after=dir/", "")
	for _, want := range []string{"<Key>dir/a+b%2Bc</Key>", "<Prefix>dir/x%26y/</Prefix>", "<EncodingType>url</EncodingType>", "<Delimiter>/</Delimiter>", "<Prefix>dir/</Prefix>", "<StartAfter>dir/</StartAfter>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("encoded listing lacks %s: %s", want, r.body)
		}
	}
}

func TestListObjectVersions(t *testing.T) {
	ts := newBucketServer(t)
	putKeys(t, ts, "a")
	r := ts.do("GET", "/bkt?versions", "")
	expectStatus(t, r, 200)
	for _, want := range []string{
		`<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
		"<Version><Key>a</Key><VersionId>null</VersionId><IsLatest>true</IsLatest>",
		"<DeleteMarker><Key>zz-deleted</Key><VersionId>dm1</VersionId><IsLatest>true</IsLatest>",
		"<KeyMarker></KeyMarker>",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("versions lack %s: %s", want, r.body)
		}
	}
	if strings.Index(r.body, "<Version>") > strings.Index(r.body, "<DeleteMarker>") {
		t.Errorf("order not kept: %s", r.body)
	}
	expectError(t, ts.do("GET", "/bkt?versions&version-id-marker=x", ""), 400, "InvalidArgument")
}
