package s3api

import (
	"strings"
	"testing"
	"time"
)

func TestBucketLifecycleAPI(t *testing.T) {
	ts := newTestServer(t)
	expectStatus(t, ts.do("PUT", "/bkt", ""), 200)
	expectError(t, ts.do("GET", "/bkt?lifecycle", ""), 404, "NoSuchLifecycleConfiguration")
	expectError(t, ts.do("GET", "/nobkt?lifecycle", ""), 404, "NoSuchBucket")

	doc := `<LifecycleConfiguration><Rule><ID>tmp</ID><Status>Enabled</Status><Filter><Prefix>tmp/</Prefix></Filter><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`
	// Content-MD5 (or a checksum) is required, and checked.
	expectError(t, ts.do("PUT", "/bkt?lifecycle", doc), 400, "MissingContentMD5")
	expectError(t, ts.do("PUT", "/bkt?lifecycle", doc, "Content-MD5", md5b64("other")), 400, "BadDigest")
	// Validation errors as AWS sends them.
	bad := strings.Replace(doc, "<Days>1</Days>", "<Days>0</Days>", 1)
	expectMessage(t, ts.do("PUT", "/bkt?lifecycle", bad, "Content-MD5", md5b64(bad)), 400, "InvalidArgument", "'Days' for Expiration action must be a positive integer")
	expectError(t, ts.do("PUT", "/bkt?lifecycle", "<x", "Content-MD5", md5b64("<x")), 400, "MalformedXML")
	tr := strings.Replace(doc, "<Expiration><Days>1</Days></Expiration>", "<Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>", 1)
	expectError(t, ts.do("PUT", "/bkt?lifecycle", tr, "Content-MD5", md5b64(tr)), 501, "NotImplemented")

	expectStatus(t, ts.do("PUT", "/bkt?lifecycle", doc, "Content-MD5", md5b64(doc)), 200)
	got := ts.do("GET", "/bkt?lifecycle", "")
	expectStatus(t, got, 200)
	if !strings.Contains(got.body, "<ID>tmp</ID>") || !strings.Contains(got.body, "<Days>1</Days>") {
		t.Fatalf("GET lifecycle body %s", got.body)
	}

	// x-amz-expiration on PUT, GET and HEAD of an object a rule expires.
	put := ts.do("PUT", "/bkt/tmp/a", "data")
	expectStatus(t, put, 200)
	h := put.header["x-amz-expiration"]
	if !strings.HasPrefix(h, `expiry-date="`) || !strings.HasSuffix(h, `GMT", rule-id="tmp"`) {
		t.Fatalf("PUT x-amz-expiration %q", h)
	}
	date := strings.TrimSuffix(strings.TrimPrefix(h, `expiry-date="`), `", rule-id="tmp"`)
	if d, err := time.Parse(time.RFC1123, date); err != nil || !d.Equal(d.Truncate(24*time.Hour)) {
		t.Fatalf("expiry date %q not midnight (%v)", date, err)
	}
	for _, m := range []string{"GET", "HEAD"} {
		if r := ts.do(m, "/bkt/tmp/a", ""); r.header["x-amz-expiration"] != h {
			t.Fatalf("%s x-amz-expiration %q, want %q", m, r.header["x-amz-expiration"], h)
		}
	}
	if r := ts.do("PUT", "/bkt/keep/a", "data"); r.header["x-amz-expiration"] != "" {
		t.Fatalf("object outside the rule got %q", r.header["x-amz-expiration"])
	}

	expectStatus(t, ts.do("DELETE", "/bkt?lifecycle", ""), 204)
	expectError(t, ts.do("GET", "/bkt?lifecycle", ""), 404, "NoSuchLifecycleConfiguration")
	if r := ts.do("HEAD", "/bkt/tmp/a", ""); r.header["x-amz-expiration"] != "" {
		t.Fatalf("header after delete: %q", r.header["x-amz-expiration"])
	}
}

func TestLifecycleIAMActions(t *testing.T) {
	for api, want := range map[string]string{
		"PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
		"DeleteBucketLifecycle":           "s3:PutLifecycleConfiguration",
		"GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
	} {
		if got := iamAction(api); got != want {
			t.Errorf("%s: %s, want %s", api, got, want)
		}
	}
}
