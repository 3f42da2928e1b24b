package integration

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// slowReader hands out data at about piece bytes per pause.
type slowReader struct {
	data  []byte
	off   int
	piece int
	pause time.Duration
	began chan struct{}
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	n := min(len(p), r.piece, len(r.data)-r.off)
	if r.off == 0 {
		close(r.began)
	} else {
		// Callers read in pieces of their own size: pause in proportion.
		time.Sleep(r.pause * time.Duration(n) / time.Duration(r.piece))
	}
	copy(p, r.data[r.off:r.off+n])
	r.off += n
	return n, nil
}

// TestGracefulShutdown sends SIGTERM during a slow (~2.5 s) upload. The
// server must drain it (answer 200) and exit cleanly within 10 s; after a
// restart on the same drives the object is either complete and byte-exact or
// absent, and present whenever the client saw 200.
func TestGracefulShutdown(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "shutdown")
	putBytes(t, c, bucket, "before", []byte("written before shutdown"))

	data := randomBytes(t, 16*mib)
	body := &slowReader{data: data, piece: 256 * kib, pause: 40 * time.Millisecond, began: make(chan struct{})} // ~2.5 s
	req, err := http.NewRequest("PUT", s.Endpoint+"/"+bucket+"/inflight", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(data))
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds(), req, "UNSIGNED-PAYLOAD", "s3", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: b}
	}()
	<-body.began
	time.Sleep(500 * time.Millisecond)
	s.stopped.Store(true) // this test stops the server itself
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case <-s.exited:
		if s.waitErr != nil {
			t.Errorf("coffer exited uncleanly after SIGTERM: %v\n%s", s.waitErr, tail(s.output.String(), 4000))
		}
		t.Logf("coffer exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	case <-time.After(shutdownTimeout):
		s.cmd.Process.Kill()
		<-s.exited
		select {
		case res := <-done:
			t.Errorf("the in-flight upload had finished: status %d err %v %s", res.status, res.err, res.body)
		default:
			t.Errorf("the in-flight upload was still pending")
		}
		t.Fatalf("coffer did not exit within %s of SIGTERM; output:\n%s", shutdownTimeout, tail(s.output.String(), 4000))
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("upload request still pending after the server exited")
	}
	t.Logf("in-flight upload: status %d err %v", res.status, res.err)
	if res.err == nil && res.status != http.StatusOK {
		t.Logf("in-flight upload answered %d: %s", res.status, res.body)
	}
	if res.err != nil || res.status != http.StatusOK {
		// Issue 3: graceful shutdown drains in-flight requests.
		t.Errorf("the in-flight upload was not drained: status %d err %v %s", res.status, res.err, res.body)
	}

	s2 := startServerOn(t, s.Drives)
	c2 := s2.s3Client(t)
	got, _ := getBytes(t, c2, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("before")})
	if string(got) != "written before shutdown" {
		t.Errorf("object written before shutdown reads %q", got)
	}
	out, err := c2.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("inflight")})
	present := err == nil
	switch {
	case err == nil:
		b, rerr := io.ReadAll(out.Body)
		out.Body.Close()
		if rerr != nil {
			t.Fatalf("read in-flight object after restart: %v", rerr)
		}
		if !bytes.Equal(b, data) {
			t.Fatalf("in-flight object after restart is torn: %d bytes (md5 %s), want %d bytes (md5 %s)", len(b), md5Hex(b), len(data), md5Hex(data))
		}
	case httpStatus(err) == http.StatusNotFound:
		if res.err == nil && res.status == http.StatusOK {
			t.Fatalf("upload was acknowledged with 200 but the object is absent after restart")
		}
	default:
		t.Fatalf("GET in-flight object after restart: %v", err)
	}
	// Listing agrees with GET.
	lo, err := c2.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range lo.Contents {
		if aws.ToString(o.Key) == "inflight" && (!present || aws.ToInt64(o.Size) != int64(len(data))) {
			t.Errorf("listing shows inflight with size %d (GET found it: %v)", aws.ToInt64(o.Size), present)
		}
	}
}
