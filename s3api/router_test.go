package s3api

import (
	"io"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestRoute(t *testing.T) {
	cases := []struct {
		method, bucket, key, query, copySource, want string
	}{
		{"GET", "", "", "", "", "ListBuckets"},
		{"GET", "b", "", "", "", "ListObjects"},
		{"GET", "b", "", "list-type=2", "", "ListObjectsV2"},
		{"GET", "b", "", "versions", "", "ListObjectVersions"},
		{"GET", "b", "", "uploads", "", "ListMultipartUploads"},
		{"GET", "b", "", "location", "", "GetBucketLocation"},
		{"GET", "b", "", "versioning", "", "GetBucketVersioning"},
		{"GET", "b", "", "tagging", "", "GetBucketTagging"},
		{"PUT", "b", "", "", "", "CreateBucket"},
		{"PUT", "b", "", "versioning", "", "PutBucketVersioning"},
		{"PUT", "b", "", "tagging", "", "PutBucketTagging"},
		{"DELETE", "b", "", "", "", "DeleteBucket"},
		{"DELETE", "b", "", "tagging", "", "DeleteBucketTagging"},
		{"HEAD", "b", "", "", "", "HeadBucket"},
		{"POST", "b", "", "delete", "", "DeleteObjects"},
		{"GET", "b", "", "policy", "", "GetBucketPolicy"}, {"GET", "b", "", "replication", "", "NotImplemented"},
		{"PUT", "b", "", "lifecycle", "", "PutBucketLifecycleConfiguration"},
		{"GET", "b", "", "lifecycle", "", "GetBucketLifecycleConfiguration"},
		{"DELETE", "b", "", "lifecycle", "", "DeleteBucketLifecycle"},
		{"PUT", "b", "", "object-lock", "", "PutObjectLockConfiguration"},
		{"GET", "b", "", "object-lock", "", "GetObjectLockConfiguration"},
		{"DELETE", "b", "", "object-lock", "", "MethodNotAllowed"},
		{"GET", "b", "", "acl", "", "GetBucketAcl"},
		{"PUT", "b", "", "acl", "", "PutBucketAcl"},
		{"GET", "b", "", "ownershipControls", "", "GetBucketOwnershipControls"},
		{"PUT", "b", "", "ownershipControls", "", "PutBucketOwnershipControls"},
		{"DELETE", "b", "", "ownershipControls", "", "DeleteBucketOwnershipControls"},
		{"GET", "b", "", "cors", "", "NotImplemented"},
		{"GET", "b", "", "encryption", "", "GetBucketEncryption"},
		{"PUT", "b", "", "encryption", "", "PutBucketEncryption"},
		{"DELETE", "b", "", "encryption", "", "DeleteBucketEncryption"},
		{"GET", "b", "k", "", "", "GetObject"},
		{"GET", "b", "k", "tagging", "", "GetObjectTagging"},
		{"GET", "b", "k", "attributes", "", "GetObjectAttributes"},
		{"GET", "b", "k", "uploadId=1", "", "ListParts"},
		{"HEAD", "b", "k", "", "", "HeadObject"},
		{"PUT", "b", "k", "", "", "PutObject"},
		{"PUT", "b", "k", "", "src/k", "CopyObject"},
		{"PUT", "b", "k", "partNumber=1&uploadId=1", "", "UploadPart"},
		{"PUT", "b", "k", "partNumber=1&uploadId=1", "src/k", "UploadPartCopy"},
		{"PUT", "b", "k", "tagging", "", "PutObjectTagging"},
		{"DELETE", "b", "k", "", "", "DeleteObject"},
		{"DELETE", "b", "k", "tagging", "", "DeleteObjectTagging"},
		{"DELETE", "b", "k", "uploadId=1", "", "AbortMultipartUpload"},
		{"POST", "b", "k", "uploads", "", "CreateMultipartUpload"},
		{"POST", "b", "k", "uploadId=1", "", "CompleteMultipartUpload"},
		{"GET", "b", "k", "acl", "", "GetObjectAcl"},
		{"PUT", "b", "k", "acl", "", "PutObjectAcl"},
		{"PUT", "b", "k", "retention", "", "PutObjectRetention"},
		{"GET", "b", "k", "retention", "", "GetObjectRetention"},
		{"DELETE", "b", "k", "retention", "", "MethodNotAllowed"},
		{"PUT", "b", "k", "legal-hold", "", "PutObjectLegalHold"},
		{"GET", "b", "k", "legal-hold", "", "GetObjectLegalHold"},
		{"DELETE", "b", "k", "legal-hold", "", "MethodNotAllowed"},
		{"GET", "b", "k", "torrent", "", "NotImplemented"},
		{"POST", "b", "k", "restore", "", "NotImplemented"},
		{"POST", "b", "k", "select&select-type=2", "", "NotImplemented"},
	}
	for _, c := range cases {
		ts := &request{bucket: c.bucket, key: c.key, query: parseQuery(c.query)}
		got, _ := routeWith(ts, c.method, c.copySource)
		if got != c.want {
			t.Errorf("%s /%s/%s?%s: %s, want %s", c.method, c.bucket, c.key, c.query, got, c.want)
		}
	}
}

// routeWith routes a request built from parts; copySource becomes the
// x-amz-copy-source header.
func routeWith(r *request, method, copySource string) (string, handler) {
	r.ctx = &fasthttp.RequestCtx{}
	if copySource != "" {
		r.ctx.Request.Header.Set("x-amz-copy-source", copySource)
	}
	return route(r, method)
}

func TestNotImplementedEndToEnd(t *testing.T) {
	ts := newTestServer(t)
	expectStatus(t, ts.do("PUT", "/bkt", ""), 200)
	for _, uri := range []string{"/bkt?logging", "/bkt?cors", "/bkt/k?torrent"} {
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			expectError(t, ts.do(m, uri, ""), 501, "NotImplemented")
		}
	}
	// Object Lock is implemented: its subresources never fall through to
	// a delete, and a lock header is parsed (here: half of a pair).
	expectError(t, ts.do("DELETE", "/bkt?object-lock", ""), 405, "MethodNotAllowed")
	expectError(t, ts.do("DELETE", "/bkt/k?retention", ""), 405, "MethodNotAllowed")
	expectError(t, ts.do("DELETE", "/bkt/k?legal-hold", ""), 405, "MethodNotAllowed")
	expectError(t, ts.do("GET", "/bkt?object-lock", ""), 404, "ObjectLockConfigurationNotFoundError")
	expectError(t, ts.do("PUT", "/bkt/k", "x", "x-amz-object-lock-mode", "COMPLIANCE"), 400, "InvalidArgument")
	expectError(t, ts.do("PUT", "/bkt/k", "x", "x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-context", "e30="), 501, "NotImplemented")
	expectError(t, ts.do("PUT", "/bkt/k", "x", "If-None-Match", `"abc"`), 501, "NotImplemented")
	expectError(t, ts.do("GET", "/bkt?list-type=3", ""), 400, "InvalidArgument")
}

func TestAuthentication(t *testing.T) {
	ts := newTestServer(t)
	expectError(t, ts.send(false, "GET", "/", ""), 403, "AccessDenied")
	expectError(t, ts.send(false, "PUT", "/b", ""), 403, "AccessDenied")
	expectError(t, ts.do("GET", "/", "", "Authorization", "bad"), 403, "SignatureDoesNotMatch")

	// The sigv4 view carries the raw path and query as sent and every header
	// in order.
	ts.do("GET", "/b/a%20b/c+d%2Fe?list-type=2&prefix=x%2By", "", "X-Amz-Date", "20260101T000000Z", "x-amz-meta-A", "1")
	ts.mu.Lock()
	sr := ts.lastAuth
	ts.mu.Unlock()
	if sr.RawPath != "/b/a%20b/c+d%2Fe" || sr.RawQuery != "list-type=2&prefix=x%2By" || sr.Method != "GET" || sr.Host != "s3.test" {
		t.Fatalf("sigv4 request %+v", sr)
	}
	var names []string
	for _, h := range sr.Headers {
		names = append(names, strings.ToLower(h[0]))
	}
	joined := strings.Join(names, ",")
	if !strings.Contains(joined, "host") || !strings.Contains(joined, "authorization") || !strings.Contains(joined, "x-amz-date") {
		t.Fatalf("headers %v", names)
	}
}

func TestVirtualHostedStyle(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Domain = "s3.example.com" })
	expectStatus(t, ts.do("PUT", "/", "", "Host", "vhost.s3.example.com:9000"), 200)
	expectStatus(t, ts.do("PUT", "/dir/key", "hello", "Host", "vhost.s3.example.com"), 200)
	r := ts.do("GET", "/vhost/dir/key", "")
	if r.status != 200 || r.body != "hello" {
		t.Fatalf("path-style read of vhost write: %d %q", r.status, r.body)
	}
	r = ts.do("GET", "/dir/key", "", "Host", "VHOST.s3.example.com")
	if r.body != "hello" {
		t.Fatalf("vhost read: %d %q", r.status, r.body)
	}
	// Keys keep '//' and percent-encoded characters as sent.
	expectStatus(t, ts.do("PUT", "/vhost/a//b/%3Fq%25", "x"), 200)
	if _, ok := ts.layer.buckets["vhost"].objects["a//b/?q%"]; !ok {
		t.Fatalf("key not decoded verbatim: %v", ts.layer.buckets["vhost"].objects)
	}
}

// staticMetrics is a MetricsSource that writes a fixed family.
type staticMetrics string

func (m staticMetrics) WriteMetrics(w io.Writer) { io.WriteString(w, string(m)) }

func TestHealthAndMetrics(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.Metrics = []MetricsSource{staticMetrics("# TYPE coffer_test_source gauge\ncoffer_test_source 7\n")}
	})
	expectStatus(t, ts.send(false, "GET", "/health/live", ""), 200)
	expectStatus(t, ts.send(false, "GET", "/health/ready", ""), 200)
	ts.do("GET", "/nobucket", "")
	m := ts.send(false, "GET", "/metrics", "")
	expectStatus(t, m, 200)
	for _, want := range []string{
		`coffer_http_requests_total{api="ListObjects",code="404"} 1`,
		`# TYPE coffer_http_request_duration_seconds histogram`,
		`coffer_http_request_duration_seconds_bucket{api="HealthReady",le="+Inf"} 1`,
		`coffer_http_inflight_requests 1`,
		"coffer_test_source 7\n",
	} {
		if !strings.Contains(m.body, want) {
			t.Errorf("metrics lack %q:\n%s", want, m.body)
		}
	}
	ts.layer.mu.Lock()
	ts.layer.failAll = errFake
	ts.layer.mu.Unlock()
	expectStatus(t, ts.send(false, "GET", "/health/ready", ""), 503)
	expectStatus(t, ts.send(false, "GET", "/health/live", ""), 200)
	// Signed requests for a bucket named "metrics" reach S3.
	expectError(t, ts.do("GET", "/metrics", ""), 500, "InternalError")
}

func TestExpectedBucketOwner(t *testing.T) {
	ts := newTestServer(t)
	expectStatus(t, ts.do("PUT", "/bkt", ""), 200)
	expectError(t, ts.do("GET", "/bkt?location", "", "x-amz-expected-bucket-owner", "123456789012"), 403, "AccessDenied")
	expectStatus(t, ts.do("GET", "/bkt", "", "x-amz-expected-bucket-owner", canonicalID("ROOT")), 200)
}
