// Package integration drives the real coffer binary over loopback with real
// S3 clients (aws-sdk-go-v2, minio-go and hand-signed net/http requests) and
// checks AWS S3 semantics: status codes, error codes, headers and bodies.
//
// The suite runs as part of `go test ./...`. It is skipped only when -short
// is given; a failing build of the binary fails the whole run (never a silent
// skip).
package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	rootUser     = "cofferadmin"
	rootPassword = "coffer-integration-secret-0123456789"
	region       = "us-east-1"

	readyTimeout    = 20 * time.Second
	shutdownTimeout = 10 * time.Second
)

// binPath is the coffer binary built once by TestMain.
var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || flag.Lookup("test.list").Value.String() != "" {
		// Every test calls startServer, which skips under -short; -list
		// runs no test.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "coffer-it-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: mkdtemp:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "coffer")
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		os.Exit(1)
	}
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", binPath, "./cmd/coffer")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: go build ./cmd/coffer failed: %v\n%s\n", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "integration: built %s in %s\n", binPath, time.Since(start).Round(time.Millisecond))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// lockedBuffer collects the server's output; it is written by the exec
// copier goroutines and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is one running coffer process.
type server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Addr      string // 127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Drives    []string
	// HTTPClient, when set (TLS servers), is the client that trusts the
	// server's certificate; s3Client uses it.
	HTTPClient *http.Client

	cmd     *exec.Cmd
	output  *lockedBuffer
	stdout  *lockedBuffer // stdout alone (output holds stdout and stderr)
	exited  chan struct{}
	waitErr error
	stopped atomic.Bool

	// sdkResponses counts SDK responses seen; missingRequestID those
	// without x-amz-request-id.
	sdkResponses     atomic.Int64
	missingRequestID atomic.Int64
	missingExample   atomic.Value // string
	usedSDK          atomic.Bool
}

// startServer starts coffer on four fresh drive directories and stops it
// (SIGTERM, at most 10 s) when the test ends. It skips the test under -short.
func startServer(t *testing.T) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	return startServerOn(t, newDrives(t, 4))
}

// newDrives creates n empty drive directories drive1..driveN in a fresh
// temporary directory (their parent is the default config directory).
func newDrives(t *testing.T, n int) []string {
	t.Helper()
	drives := make([]string, n)
	base := t.TempDir()
	for i := range drives {
		drives[i] = filepath.Join(base, fmt.Sprintf("drive%d", i+1))
		if err := os.MkdirAll(drives[i], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return drives
}

// startServerOn starts coffer on the given drives (used to restart a server
// on the same data).
func startServerOn(t *testing.T, drives []string) *server {
	t.Helper()
	return startServerWith(t, drives, serverOptions{})
}

// serverOptions adjusts how startServerWith launches coffer. The zero value
// is what startServer and startServerOn use.
type serverOptions struct {
	// Args are extra flags, given before the drives (--address is always
	// set by the harness).
	Args []string
	// Env are extra environment entries (NAME=value).
	Env []string
	// GeneratedRoot leaves COFFER_ROOT_USER and COFFER_ROOT_PASSWORD unset so
	// that the server uses (or generates) <config-dir>/root-credentials. The
	// server's AccessKey and SecretKey are then empty: the test fills them in.
	GeneratedRoot bool
	// TLS, when set, makes the harness talk HTTPS to the server with this
	// client configuration (the test passes --tls-cert/--tls-key in Args).
	TLS *tls.Config
}

// startServerWith starts coffer on the given drives with opts and stops it
// when the test ends. It skips the test under -short.
func startServerWith(t *testing.T, drives []string, opts serverOptions) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	if binPath == "" {
		t.Fatal("coffer binary not built (TestMain did not run?)")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := launch(t, drives, opts)
		if err == nil {
			t.Cleanup(func() { s.stop(t) })
			return s
		}
		lastErr = err
		// A lost race for the free port is retried; anything else fails now.
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("start coffer: %v", lastErr)
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func launch(t *testing.T, drives []string, opts serverOptions) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &server{
		Endpoint:  "http://" + addr,
		Addr:      addr,
		AccessKey: rootUser,
		SecretKey: rootPassword,
		Drives:    drives,
		output:    &lockedBuffer{},
		stdout:    &lockedBuffer{},
		exited:    make(chan struct{}),
	}
	client := &http.Client{Timeout: time.Second}
	if opts.TLS != nil {
		s.Endpoint = "https://" + addr
		s.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: opts.TLS}}
		client.Transport = &http.Transport{TLSClientConfig: opts.TLS}
	}
	args := append([]string{"server", "--address", addr}, opts.Args...)
	args = append(args, drives...)
	s.cmd = exec.Command(binPath, args...)
	env := os.Environ()
	if opts.GeneratedRoot {
		s.AccessKey, s.SecretKey = "", ""
		env = env[:0:0]
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "COFFER_ROOT_") {
				env = append(env, kv)
			}
		}
	} else {
		env = append(env, "COFFER_ROOT_USER="+rootUser, "COFFER_ROOT_PASSWORD="+rootPassword)
	}
	s.cmd.Env = append(env, opts.Env...)
	s.cmd.Dir = filepath.Dir(drives[0])
	s.cmd.Stdout = io.MultiWriter(s.output, s.stdout)
	s.cmd.Stderr = s.output
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("coffer exited before ready (%v); output:\n%s", s.waitErr, s.output.String())
		default:
		}
		resp, err := client.Get(s.Endpoint + "/health/ready")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.cmd.Process.Kill()
			<-s.exited
			return nil, fmt.Errorf("coffer not ready within %s (last: %v); output:\n%s", readyTimeout, err, s.output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires a clean exit within shutdownTimeout. It is
// idempotent. On test failure the server output is logged.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if !s.stopped.CompareAndSwap(false, true) {
		return
	}
	if s.usedSDK.Load() && s.sdkResponses.Load() == 0 {
		t.Errorf("harness: the x-amz-request-id check saw no SDK responses")
	}
	if n := s.missingRequestID.Load(); n > 0 {
		t.Errorf("%d SDK responses lacked x-amz-request-id (e.g. %v)", n, s.missingExample.Load())
	}
	err := s.terminate()
	if err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if t.Failed() {
		t.Logf("coffer output:\n%s", tail(s.output.String(), 8000))
	}
}

// terminate sends SIGTERM and waits for the process; it returns an error
// when the process does not exit within shutdownTimeout or exits non-zero.
func (s *server) terminate() error {
	select {
	case <-s.exited:
		return fmt.Errorf("coffer had already exited: %v", s.waitErr)
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM: %v", err)
	}
	select {
	case <-s.exited:
		if s.waitErr != nil {
			return fmt.Errorf("coffer exited uncleanly after SIGTERM: %v", s.waitErr)
		}
		return nil
	case <-time.After(shutdownTimeout):
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("coffer did not exit within %s of SIGTERM (killed)", shutdownTimeout)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

// creds returns the root credentials as an aws.Credentials value.
func (s *server) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.AccessKey, SecretAccessKey: s.SecretKey, Source: "test"}
}

// s3Client returns an aws-sdk-go-v2 client for the server with root
// credentials, path-style addressing and no retries. Every response it sees
// is checked for x-amz-request-id.
func (s *server) s3Client(t *testing.T, optFns ...func(*s3.Options)) *s3.Client {
	return s.s3ClientWith(t, s.AccessKey, s.SecretKey, optFns...)
}

func (s *server) s3ClientWith(t *testing.T, access, secret string, optFns ...func(*s3.Options)) *s3.Client {
	t.Helper()
	check := middleware.DeserializeMiddlewareFunc("coffer-request-id-check",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
				s.sdkResponses.Add(1)
				if resp.Header.Get("x-amz-request-id") == "" {
					s.missingRequestID.Add(1)
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						s.missingExample.Store(fmt.Sprintf("%s %s -> %d", req.Method, req.URL.String(), resp.StatusCode))
					}
				}
			}
			return out, md, err
		})
	s.usedSDK.Store(true)
	opts := s3.Options{
		Region:           region,
		BaseEndpoint:     aws.String(s.Endpoint),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(access, secret, ""),
		RetryMaxAttempts: 1,
		APIOptions: []func(*middleware.Stack) error{
			func(st *middleware.Stack) error { return st.Deserialize.Add(check, middleware.After) },
		},
	}
	if s.HTTPClient != nil {
		opts.HTTPClient = s.HTTPClient
	}
	for _, fn := range optFns {
		fn(&opts)
	}
	return s3.New(opts)
}

// minioClient returns a minio-go client for the server with root credentials.
func (s *server) minioClient(t *testing.T) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Addr, &minio.Options{
		Creds:        miniocreds.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure:       false,
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ---- shared helpers ----

var bucketSeq atomic.Int64

// bucketName returns a fresh valid bucket name.
func bucketName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", prefix, bucketSeq.Add(1), hex.EncodeToString(b))
}

// newBucket creates a fresh bucket and returns its name.
func newBucket(t *testing.T, c *s3.Client, prefix string) string {
	t.Helper()
	name := bucketName(prefix)
	if _, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	return name
}

// ctx returns a context bounded by the test deadline (or 2 minutes).
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// quotedMD5 is the ETag AWS returns for a single-part object.
func quotedMD5(b []byte) string { return `"` + md5Hex(b) + `"` }

// httpStatus extracts the HTTP status code from an SDK error (0 if none).
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errCode extracts the S3 error code from an SDK error ("" if none).
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// requireAPIError fails unless err is an S3 error with the given HTTP status
// and one of the given codes (no codes: any code is accepted, as for HEAD
// responses, which carry no body).
func requireAPIError(t *testing.T, err error, status int, codes ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected error %d %v, got success", status, codes)
	}
	if got := httpStatus(err); got != status {
		t.Fatalf("expected HTTP %d %v, got %d (%v)", status, codes, got, err)
	}
	if len(codes) == 0 {
		return
	}
	got := errCode(err)
	for _, c := range codes {
		if got == c {
			return
		}
	}
	t.Fatalf("expected error code %v, got %q (%v)", codes, got, err)
}

// rawStatus returns the HTTP status of a successful SDK call.
func rawStatus(md middleware.Metadata) int {
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && r != nil {
		return r.StatusCode
	}
	return 0
}

// putBytes uploads data with PutObject and returns the output.
func putBytes(t *testing.T, c *s3.Client, bucket, key string, data []byte, mod ...func(*s3.PutObjectInput)) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	}
	for _, m := range mod {
		m(in)
	}
	out, err := c.PutObject(ctx(t), in)
	if err != nil {
		t.Fatalf("PutObject %s/%s (%d bytes): %v", bucket, key, len(data), err)
	}
	return out
}

// getBytes downloads an object and returns its body and output.
func getBytes(t *testing.T, c *s3.Client, in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(ctx(t), in)
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", aws.ToString(in.Bucket), aws.ToString(in.Key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read body %s/%s: %v", aws.ToString(in.Bucket), aws.ToString(in.Key), err)
	}
	return b, out
}

// requireSameBytes compares without dumping megabytes into the log.
func requireSameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Fatalf("%s: content differs: got %d bytes (md5 %s), want %d bytes (md5 %s), first difference at offset %d",
		what, len(got), md5Hex(got), len(want), md5Hex(want), i)
}

// emptySHA256 is the hex SHA-256 of an empty payload.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// rawRequest is a hand-built request for cases the SDK cannot express.
type rawRequest struct {
	Method      string
	Path        string // escaped path, e.g. "/bucket/key"
	RawQuery    string
	Header      http.Header
	Body        []byte
	PayloadHash string    // default: hex sha256 of Body
	SignTime    time.Time // default: now
	Secret      string    // default: server secret
	Anonymous   bool      // do not sign
}

// do sends r (signed with SigV4 unless Anonymous) and returns the response
// and its body.
func (s *server) do(t *testing.T, r rawRequest) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(r.Method, s.Endpoint+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = r.RawQuery
	req.ContentLength = int64(len(r.Body))
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if !r.Anonymous {
		hash := r.PayloadHash
		if hash == "" {
			sum := sha256.Sum256(r.Body)
			hash = hex.EncodeToString(sum[:])
		}
		req.Header.Set("X-Amz-Content-Sha256", hash)
		when := r.SignTime
		if when.IsZero() {
			when = time.Now()
		}
		cr := s.creds()
		if r.Secret != "" {
			cr.SecretAccessKey = r.Secret
		}
		if err := v4.NewSigner().SignHTTP(context.Background(), cr, req, hash, "s3", region, when); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.Method, r.Path, err)
	}
	return resp, body
}

// s3Error is the XML error body AWS returns.
type s3Error struct {
	Code      string
	Message   string
	Resource  string
	RequestID string `xml:"RequestId"`
}

// requireRawError checks status, the XML error code (one of codes) and the
// x-amz-request-id header of a raw response.
func requireRawError(t *testing.T, resp *http.Response, body []byte, status int, codes ...string) s3Error {
	t.Helper()
	var e s3Error
	if resp.StatusCode != status {
		t.Fatalf("%s %s: expected HTTP %d %v, got %d: %s", resp.Request.Method, resp.Request.URL, status, codes, resp.StatusCode, body)
	}
	if resp.Header.Get("x-amz-request-id") == "" {
		t.Errorf("%s %s: no x-amz-request-id header", resp.Request.Method, resp.Request.URL)
	}
	if len(codes) == 0 {
		return e
	}
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("%s %s: error body is not S3 XML (%v): %q", resp.Request.Method, resp.Request.URL, err, body)
	}
	for _, c := range codes {
		if e.Code == c {
			return e
		}
	}
	t.Fatalf("%s %s: expected error code %v, got %q: %s", resp.Request.Method, resp.Request.URL, codes, e.Code, body)
	return e
}
