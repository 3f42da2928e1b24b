package integration

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// vhostDomain is the --domain of TestOpsVirtualHosted. It never resolves:
// the test's HTTP client dials the server's loopback address whatever the
// host.
const vhostDomain = "localtest.coffer"

// hostRecorder is an http.RoundTripper that records the Host and path of
// every request before passing it on.
type hostRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string // "HOST PATH"
}

func (h *hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen = append(h.seen, r.URL.Host+" "+r.URL.EscapedPath())
	h.mu.Unlock()
	return h.next.RoundTrip(r)
}

func (h *hostRecorder) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

// TestOpsVirtualHosted drives the server with virtual-hosted-style requests
// (Host: bucket.DOMAIN:PORT) from aws-sdk-go-v2: create a bucket, put, get
// and list, and checks that the SDK really addressed the bucket by host.
func TestOpsVirtualHosted(t *testing.T) {
	s := startServerWith(t, newDrives(t, 4), serverOptions{Args: []string{"--domain", vhostDomain}})
	_, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var dialer net.Dialer
	rec := &hostRecorder{next: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, s.Addr)
		},
	}}
	c := s.s3Client(t, func(o *s3.Options) {
		o.UsePathStyle = false
		o.BaseEndpoint = aws.String("http://" + vhostDomain + ":" + port)
		o.HTTPClient = &http.Client{Transport: rec, Timeout: time.Minute}
	})

	bucket := newBucket(t, c, "vhost")
	data := randomBytes(t, 200*kib) // above the inline limit: erasure-coded
	putBytes(t, c, bucket, "dir/obj.bin", data)
	putBytes(t, c, bucket, "dir/small.txt", []byte("small"))
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/obj.bin")})
	requireSameBytes(t, "vhost GET dir/obj.bin", got, data)

	lo, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("dir/")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys []string
	for _, o := range lo.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if strings.Join(keys, ",") != "dir/obj.bin,dir/small.txt" {
		t.Errorf("ListObjectsV2 keys = %v, want [dir/obj.bin dir/small.txt]", keys)
	}
	lb, err := c.ListBuckets(ctx(t), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	found := false
	for _, b := range lb.Buckets {
		found = found || aws.ToString(b.Name) == bucket
	}
	if !found {
		t.Errorf("ListBuckets does not show %s", bucket)
	}

	// Every bucket request went to bucket.DOMAIN:PORT with the key alone in
	// the path; ListBuckets went to DOMAIN:PORT.
	wantHost := bucket + "." + vhostDomain + ":" + port
	var vhosted int
	for _, hp := range rec.all() {
		host, path, _ := strings.Cut(hp, " ")
		switch host {
		case wantHost:
			vhosted++
			if strings.Contains(path, bucket) {
				t.Errorf("virtual-hosted request %q repeats the bucket in the path", hp)
			}
		case vhostDomain + ":" + port:
			if path != "/" && path != "" {
				t.Errorf("request to the bare domain with path %q (path-style fallback?)", path)
			}
		default:
			t.Errorf("request to unexpected host %q", hp)
		}
	}
	if vhosted < 5 {
		t.Errorf("only %d requests used Host %s: %v", vhosted, wantHost, rec.all())
	}

	// Path-style addressing keeps working alongside.
	pc := s.s3Client(t)
	got, _ = getBytes(t, pc, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/small.txt")})
	if string(got) != "small" {
		t.Errorf("path-style GET dir/small.txt = %q", got)
	}
}

// TestOpsGeneratedRootCredentials starts without COFFER_ROOT_USER/PASSWORD:
// the first start generates credentials, stores them in
// <config-dir>/root-credentials (0600) and prints the secret once, on
// stdout only; the second start on the same config directory prints no
// secret and the same credentials still work.
func TestOpsGeneratedRootCredentials(t *testing.T) {
	drives := newDrives(t, 4)
	configDir := filepath.Join(t.TempDir(), "conf")
	opts := serverOptions{GeneratedRoot: true, Args: []string{"--config-dir", configDir}}
	s := startServerWith(t, drives, opts)

	path := filepath.Join(configDir, "root-credentials")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("credentials file after first start: %v", err)
	}
	if fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
		t.Errorf("%s has mode %v, want -rw-------", path, fi.Mode())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cred struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	if err := json.Unmarshal(raw, &cred); err != nil || cred.AccessKey == "" || cred.SecretKey == "" {
		t.Fatalf("credentials file is not {accessKey, secretKey} JSON (%v): %d bytes", err, len(raw))
	}
	if cred.AccessKey == rootUser || cred.SecretKey == rootPassword {
		t.Fatalf("server used the harness's credentials instead of generating them")
	}
	if n := strings.Count(s.stdout.String(), cred.SecretKey); n != 1 {
		t.Errorf("first start printed the secret %d times on stdout, want once", n)
	}
	if strings.Count(s.output.String(), cred.SecretKey) != strings.Count(s.stdout.String(), cred.SecretKey) {
		t.Errorf("the secret appears in the server's log (stderr)")
	}
	if !strings.Contains(s.stdout.String(), cred.AccessKey) {
		t.Errorf("first start did not print the access key on stdout")
	}

	s.AccessKey, s.SecretKey = cred.AccessKey, cred.SecretKey
	c := s.s3Client(t)
	bucket := newBucket(t, c, "gencreds")
	putBytes(t, c, bucket, "k", []byte("generated credentials work"))
	// Authentication is really on: a wrong secret is refused.
	bad := s.s3ClientWith(t, cred.AccessKey, cred.SecretKey+"x")
	_, err = bad.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	requireAPIError(t, err, http.StatusForbidden)
	s.stop(t)

	s2 := startServerWith(t, drives, opts)
	if strings.Contains(s2.output.String(), cred.SecretKey) {
		t.Errorf("second start printed the secret again; stdout:\n%s", s2.stdout.String())
	}
	if !strings.Contains(s2.stdout.String(), cred.AccessKey) {
		t.Errorf("second start did not name the access key on stdout:\n%s", s2.stdout.String())
	}
	raw2, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw2) != string(raw) {
		t.Errorf("second start rewrote the credentials file")
	}
	s2.AccessKey, s2.SecretKey = cred.AccessKey, cred.SecretKey
	got, _ := getBytes(t, s2.s3Client(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if string(got) != "generated credentials work" {
		t.Errorf("GET after restart = %q", got)
	}
}

// TestOpsMetricsAndHealth checks the unauthenticated operational endpoints:
// /health/live and /health/ready answer 200 and /metrics serves Prometheus
// text with coffer_http_requests_total counting the requests made, by api.
func TestOpsMetricsAndHealth(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "metrics")
	for i := range 3 {
		putBytes(t, c, bucket, "k"+string(rune('a'+i)), []byte("x"))
	}
	_, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("missing")})
	requireAPIError(t, err, http.StatusNotFound, "NoSuchKey")

	get := func(path string) (*http.Response, string) {
		t.Helper()
		hc := &http.Client{Timeout: 10 * time.Second}
		resp, err := hc.Get(s.Endpoint + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: read: %v", path, err)
		}
		return resp, string(b)
	}
	for _, p := range []string{"/health/live", "/health/ready"} {
		if resp, body := get(p); resp.StatusCode != http.StatusOK {
			t.Errorf("unauthenticated GET %s = %d %s, want 200", p, resp.StatusCode, body)
		}
	}
	resp, body := get("/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/metrics Content-Type = %q, want text/plain (Prometheus text format)", ct)
	}
	if !strings.Contains(body, "# TYPE coffer_http_requests_total counter") {
		t.Errorf("/metrics lacks the TYPE line of coffer_http_requests_total:\n%s", tail(body, 2000))
	}
	// Values of the counter by api and code.
	re := regexp.MustCompile(`(?m)^coffer_http_requests_total\{([^}]*)\} (\d+)$`)
	counts := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		counts[m[1]] = m[2]
	}
	if len(counts) == 0 {
		t.Fatalf("/metrics has no coffer_http_requests_total samples:\n%s", tail(body, 2000))
	}
	for labels := range counts {
		if !strings.Contains(labels, `api="`) {
			t.Errorf("coffer_http_requests_total{%s} has no api label", labels)
		}
	}
	if v := counts[`api="PutObject",code="200"`]; v != "3" {
		t.Errorf(`coffer_http_requests_total{api="PutObject",code="200"} = %q, want 3; samples: %v`, v, counts)
	}
	if v := counts[`api="GetObject",code="404"`]; v != "1" {
		t.Errorf(`coffer_http_requests_total{api="GetObject",code="404"} = %q, want 1; samples: %v`, v, counts)
	}
	for _, name := range []string{"coffer_http_request_duration_seconds_bucket", "coffer_http_inflight_requests"} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestSchedulerSlots checks --procs on the real binary: by default the
// server runs 4 Go scheduler slots per CPU (or the operator's GOMAXPROCS),
// and --procs sets the count; the metric reports what is in effect.
func TestSchedulerSlots(t *testing.T) {
	srv := startServerWith(t, newDrives(t, 4), serverOptions{Args: []string{"--procs", "3"}})
	if v := metricValue(t, srv, "coffer_runtime_gomaxprocs"); v != 3 {
		t.Errorf("--procs 3: coffer_runtime_gomaxprocs %v", v)
	}
	srv = startServer(t)
	v := metricValue(t, srv, "coffer_runtime_gomaxprocs")
	if env := os.Getenv("GOMAXPROCS"); env != "" {
		// The harness passes it on; the server keeps it.
		if strconv.FormatFloat(v, 'f', -1, 64) != env {
			t.Errorf("GOMAXPROCS=%s in the environment: coffer_runtime_gomaxprocs %v", env, v)
		}
	} else if int(v)%4 != 0 || v < 4 || int(v) > 4*runtime.NumCPU() {
		// 4 per CPU the process may use (a container limit can make that
		// fewer than NumCPU, never more).
		t.Errorf("default: coffer_runtime_gomaxprocs %v, want 4 per CPU (%d CPUs)", v, runtime.NumCPU())
	}
	if v := metricValue(t, srv, "coffer_runtime_goroutines"); v < 1 {
		t.Errorf("coffer_runtime_goroutines %v", v)
	}
}
