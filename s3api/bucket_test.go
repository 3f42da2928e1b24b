package s3api

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestBucketOperations(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do("PUT", "/alpha", "")
	expectStatus(t, r, 200)
	if r.header["location"] != "/alpha" {
		t.Fatalf("Location = %q", r.header["location"])
	}
	expectError(t, ts.do("PUT", "/alpha", ""), 409, "BucketAlreadyOwnedByYou")
	expectError(t, ts.do("PUT", "/beta", `<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`), 400, "IllegalLocationConstraintException")
	expectStatus(t, ts.do("PUT", "/beta", `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>`), 200)
	expectError(t, ts.do("PUT", "/gamma", `<CreateBucketConfiguration><Location`), 400, "MalformedXML")
	expectError(t, ts.do("PUT", "/BAD", ""), 400, "InvalidBucketName")

	lb := ts.do("GET", "/", "")
	expectStatus(t, lb, 200)
	var list listAllMyBucketsResult
	if err := xml.Unmarshal([]byte(lb.body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Buckets.Bucket) != 2 || list.Buckets.Bucket[0].Name != "alpha" || list.Owner.ID != canonicalID("ROOT") {
		t.Fatalf("ListBuckets: %s", lb.body)
	}
	if !strings.Contains(lb.body, `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`) ||
		!strings.Contains(lb.body, "<CreationDate>2026-01-02T03:04:05.000Z</CreationDate>") {
		t.Fatalf("ListBuckets shape: %s", lb.body)
	}
	page := ts.do("GET", "/?max-buckets=1", "")
	if !strings.Contains(page.body, "<ContinuationToken>") || strings.Contains(page.body, "<Name>beta</Name>") {
		t.Fatalf("max-buckets: %s", page.body)
	}

	h := ts.do("HEAD", "/alpha", "")
	if h.status != 200 || h.header["x-amz-bucket-region"] != "us-east-1" {
		t.Fatalf("HeadBucket %d %v", h.status, h.header)
	}
	if h := ts.do("HEAD", "/nope", ""); h.status != 404 || h.body != "" {
		t.Fatalf("HeadBucket missing: %d %q", h.status, h.body)
	}
	loc := ts.do("GET", "/alpha?location", "")
	if !strings.Contains(loc.body, `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>`) {
		t.Fatalf("location: %s", loc.body)
	}

	v := ts.do("GET", "/alpha?versioning", "")
	if !strings.Contains(v.body, `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></VersioningConfiguration>`) {
		t.Fatalf("versioning never set: %s", v.body)
	}
	expectStatus(t, ts.do("PUT", "/alpha?versioning", `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`), 200)
	v = ts.do("GET", "/alpha?versioning", "")
	if !strings.Contains(v.body, "<Status>Enabled</Status>") {
		t.Fatalf("versioning: %s", v.body)
	}
	expectError(t, ts.do("PUT", "/alpha?versioning", `<VersioningConfiguration><Status>On</Status></VersioningConfiguration>`), 400, "IllegalVersioningConfigurationException")
	expectError(t, ts.do("PUT", "/alpha?versioning", `<VersioningConfiguration><MfaDelete>Enabled</MfaDelete><Status>Enabled</Status></VersioningConfiguration>`), 501, "NotImplemented")

	expectError(t, ts.do("GET", "/alpha?tagging", ""), 404, "NoSuchTagSet")
	expectStatus(t, ts.do("PUT", "/alpha?tagging", `<Tagging><TagSet><Tag><Key>b</Key><Value>2</Value></Tag><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>`), 204)
	tg := ts.do("GET", "/alpha?tagging", "")
	if !strings.Contains(tg.body, "<TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></TagSet>") {
		t.Fatalf("tagging: %s", tg.body)
	}
	expectError(t, ts.do("PUT", "/alpha?tagging", `<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag></TagSet></Tagging>`), 400, "InvalidTag")
	expectStatus(t, ts.do("DELETE", "/alpha?tagging", ""), 204)
	expectError(t, ts.do("GET", "/alpha?tagging", ""), 404, "NoSuchTagSet")

	expectStatus(t, ts.do("PUT", "/alpha/k", "x"), 200)
	expectError(t, ts.do("DELETE", "/alpha", ""), 409, "BucketNotEmpty")
	expectStatus(t, ts.do("DELETE", "/alpha/k", ""), 204)
	expectStatus(t, ts.do("DELETE", "/alpha", ""), 204)
	expectError(t, ts.do("DELETE", "/alpha", ""), 404, "NoSuchBucket")
}

func TestObjectLockBucketHeader(t *testing.T) {
	ts := newTestServer(t)
	expectStatus(t, ts.do("PUT", "/locked", "", "x-amz-bucket-object-lock-enabled", "true"), 200)
	if !ts.layer.buckets["locked"].info.ObjectLock {
		t.Fatal("ObjectLock not passed")
	}
	expectError(t, ts.do("PUT", "/locked?versioning", `<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>`), 409, "InvalidBucketState")
}

func TestNonDefaultRegion(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Region = "eu-central-1" })
	expectStatus(t, ts.do("PUT", "/bkt1", ""), 200)
	expectStatus(t, ts.do("PUT", "/bkt2", `<CreateBucketConfiguration><LocationConstraint>eu-central-1</LocationConstraint></CreateBucketConfiguration>`), 200)
	expectError(t, ts.do("PUT", "/bkt3", `<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>`), 400, "IllegalLocationConstraintException")
	if loc := ts.do("GET", "/bkt2?location", ""); !strings.Contains(loc.body, ">eu-central-1</LocationConstraint>") {
		t.Fatalf("location: %s", loc.body)
	}
}
