package s3api

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestServerSettings(t *testing.T) {
	s := New(newFakeLayer(), Config{})
	if !s.srv.StreamRequestBody || s.srv.MaxRequestBodySize < 5<<30 || s.srv.ReadBufferSize < 64<<10 ||
		!s.srv.NoDefaultContentType || s.srv.NoDefaultDate || s.srv.DisableKeepalive || s.cfg.Region != "us-east-1" {
		t.Fatalf("server settings %+v", s.srv)
	}
}

// TestGracefulShutdown checks that Shutdown waits for an in-flight request
// and that the request completes normally.
func TestGracefulShutdown(t *testing.T) {
	ts := newTestServer(t)
	ts.layer.block = make(chan struct{})
	got := make(chan response, 1)
	go func() { got <- ts.do("GET", "/", "") }()
	for ts.srv.metrics.inflight.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- ts.srv.Shutdown(context.Background()) }()
	select {
	case <-stopped:
		t.Fatal("Shutdown returned with a request in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(ts.layer.block)
	if r := <-got; r.status != 200 {
		t.Fatalf("in-flight request: %d %s", r.status, r.body)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return after the request finished")
	}
}

func TestLargeStreamingPut(t *testing.T) {
	ts := newBucketServer(t)
	body := strings.Repeat("0123456789abcdef", 512<<10) // 8 MiB
	expectStatus(t, ts.do("PUT", "/bkt/big", body, "Content-MD5", md5b64(body)), 200)
	if !bytes.Equal(ts.layer.buckets["bkt"].objects["big"].data, []byte(body)) {
		t.Fatal("body corrupted")
	}
	g := ts.do("GET", "/bkt/big", "", "Range", "bytes=8388600-")
	if g.status != 206 || g.body != body[8388600:] {
		t.Fatalf("tail read %d %d bytes", g.status, len(g.body))
	}
}

func TestHandlerPanicIsContained(t *testing.T) {
	ts := newBucketServer(t)
	ts.layer.mu.Lock()
	ts.layer.buckets["bkt"].objects["boom"] = nil // HeadObject dereferences it
	ts.layer.mu.Unlock()
	expectError(t, ts.do("GET", "/bkt/boom?tagging", ""), 500, "InternalError")
	expectStatus(t, ts.do("HEAD", "/bkt", ""), 200) // still serving
}
