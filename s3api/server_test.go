package s3api

import (
	"encoding/xml"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/cofferstore/coffer/s3api/sigv4"
)

// testServer runs a Server over an in-memory listener with authentication
// replaced: a request with an Authorization header is the root principal,
// one without is anonymous.
type testServer struct {
	t      *testing.T
	layer  *fakeLayer
	srv    *Server
	client *fasthttp.Client

	mu       sync.Mutex
	lastAuth *sigv4.Request
}

func newTestServer(t *testing.T, mutate ...func(*Config)) *testServer {
	t.Helper()
	ts := &testServer{t: t, layer: newFakeLayer()}
	cfg := Config{
		Region:        "us-east-1",
		RootAccessKey: "ROOT",
		Authenticate: func(r *sigv4.Request, _ sigv4.CredentialLookup, _ string, _ time.Time) (*sigv4.Result, error) {
			ts.mu.Lock()
			ts.lastAuth = r
			ts.mu.Unlock()
			for _, h := range r.Headers {
				if strings.EqualFold(h[0], "Authorization") {
					if h[1] == "bad" {
						return nil, &sigv4.Error{Code: "SignatureDoesNotMatch", Status: 403, Message: "The request signature we calculated does not match the signature you provided."}
					}
					return &sigv4.Result{AccessKey: "ROOT", Mode: sigv4.PayloadUnsigned, DecodedLength: -1}, nil
				}
			}
			return &sigv4.Result{Anonymous: true}, nil
		},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	ts.srv = New(ts.layer, cfg)
	ln := fasthttputil.NewInmemoryListener()
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = ts.srv.Shutdown(t.Context())
		<-done
	})
	ts.client = &fasthttp.Client{DisablePathNormalizing: true, Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	return ts
}

// response is what a test request returned.
type response struct {
	status int
	header map[string]string // lower-case names
	body   string
}

// do sends a signed request; hdrs are name, value pairs.
func (ts *testServer) do(method, uri, body string, hdrs ...string) response {
	return ts.send(true, method, uri, body, hdrs...)
}

func (ts *testServer) send(signed bool, method, uri, body string, hdrs ...string) response {
	ts.t.Helper()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://s3.test" + uri)
	req.URI().DisablePathNormalizing = true
	req.Header.SetMethod(method)
	if signed {
		req.Header.Set("Authorization", "test")
	}
	for i := 0; i+1 < len(hdrs); i += 2 {
		if strings.EqualFold(hdrs[i], "Host") {
			req.Header.SetHost(hdrs[i+1])
			req.UseHostHeader = true
			continue
		}
		req.Header.Set(hdrs[i], hdrs[i+1])
	}
	if body != "" || method == "PUT" || method == "POST" {
		req.SetBodyString(body)
	}
	if method == "HEAD" {
		resp.SkipBody = true
	}
	if err := ts.client.DoTimeout(req, resp, 10*time.Second); err != nil {
		ts.t.Fatalf("%s %s: %v", method, uri, err)
	}
	out := response{status: resp.StatusCode(), header: map[string]string{}, body: string(resp.Body())}
	for k, v := range resp.Header.All() {
		out.header[strings.ToLower(string(k))] = string(v)
	}
	return out
}

// errorCode decodes an S3 error body.
func errorCode(t *testing.T, r response) errorResponse {
	t.Helper()
	var e errorResponse
	if err := xml.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e
}

func expectError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if e := errorCode(t, r); e.Code != code {
		t.Fatalf("code = %q, want %q (body %s)", e.Code, code, r.body)
	}
}

func expectStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
}
