package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// countFiles returns the number of regular files under dir (0 when dir does
// not exist).
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return n
}

// wipeDir removes dir and everything in it and recreates it empty.
func wipeDir(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestOpsQuorumLoss (R45) breaks the shard directories of two of four
// drives (k=2, m=2, write quorum 3): a new erasure-coded PUT must fail with
// 503 ServiceUnavailable and Retry-After, leave no visible object, and an
// object written before must still read byte-exact from the two good drives.
func TestOpsQuorumLoss(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "quorum")
	before := randomBytes(t, mib)
	putBytes(t, c, bucket, "before", before)

	// Drives 1 and 2 hold the data shards in a systematic layout: losing
	// them forces a reconstruction from parity.
	for _, d := range s.Drives[:2] {
		for _, sub := range []string{"objects", "tmp"} {
			p := filepath.Join(d, sub)
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("not a directory\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	data := randomBytes(t, mib)
	_, err := c.PutObject(ctx(t), &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String("after"),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err == nil {
		t.Errorf("PUT of 1 MiB with 2 of 4 drives unwritable succeeded, want 503")
	} else {
		if got := httpStatus(err); got != http.StatusServiceUnavailable {
			t.Errorf("PUT with 2 of 4 drives unwritable: HTTP %d (%v), want 503", got, err)
		}
		if code := errCode(err); code != "ServiceUnavailable" {
			t.Errorf("PUT with 2 of 4 drives unwritable: code %q, want ServiceUnavailable", code)
		}
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.Response == nil {
			t.Errorf("PUT error carries no HTTP response: %v", err)
		} else if ra := re.Response.Header.Get("Retry-After"); ra == "" {
			t.Errorf("503 response has no Retry-After header")
		}
	}

	// The same over a raw connection, deterministically: the client sends
	// the whole body; the server may answer 503 before reading it all, but
	// it must then end the connection cleanly (drain the body or shut down
	// its side and linger), never with a reset, which can destroy the 503 before
	// the client reads it (what makes the SDK PUT above see "connection reset by peer").
	s.requireCleanEarlyError(t, "/"+bucket+"/after-raw", data)

	_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("after")})
	if err == nil {
		t.Errorf("HEAD of the failed upload succeeded: a write below quorum is visible")
	} else if got := httpStatus(err); got != http.StatusNotFound {
		t.Errorf("HEAD of the failed upload: HTTP %d (%v), want 404", got, err)
	}
	lo, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Errorf("ListObjectsV2 with 2 of 4 drives broken: %v", err)
	} else {
		for _, o := range lo.Contents {
			if aws.ToString(o.Key) == "after" {
				t.Errorf("the failed upload is listed")
			}
		}
	}

	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("before")})
	requireSameBytes(t, "GET of the earlier object from k=2 drives", got, before)
	// And a range inside it.
	rg, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("before"), Range: aws.String("bytes=1000-300000")})
	requireSameBytes(t, "ranged GET of the earlier object from k=2 drives", rg, before[1000:300001])
}

// TestOpsDriveReplacement wipes one drive of a stopped server completely,
// restarts, reads everything, waits for the background heal to rebuild the
// drive's shard files, then wipes the shard directories of the two other
// drives not yet involved: every object must still read byte-exact, which
// holds only if the replaced drive was really healed.
func TestOpsDriveReplacement(t *testing.T) {
	s := startServer(t)
	drives := s.Drives
	c := s.s3Client(t)
	bucket := newBucket(t, c, "replace")
	objects := map[string][]byte{}
	var large []string
	for i := range 10 {
		key := fmt.Sprintf("obj-%02d", i)
		if i%2 == 0 {
			objects[key] = randomBytes(t, kib+i) // inline
		} else {
			objects[key] = randomBytes(t, 3*mib+i) // erasure-coded
			large = append(large, key)
		}
		putBytes(t, c, bucket, key, objects[key])
	}
	readAll := func(c *s3.Client, keys []string, when string) {
		t.Helper()
		for _, k := range keys {
			got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
			requireSameBytes(t, when+": "+k, got, objects[k])
		}
	}
	allKeys := make([]string, 0, len(objects))
	for k := range objects {
		allKeys = append(allKeys, k)
	}
	replaced := drives[1]
	if n := countFiles(t, filepath.Join(replaced, "objects")); n < len(large) {
		t.Fatalf("before the wipe %s/objects holds %d files, want at least %d (one shard per large object)", replaced, n, len(large))
	}
	s.stop(t)

	wipeDir(t, replaced)
	s2 := startServerOn(t, drives)
	restarted := time.Now()
	c2 := s2.s3Client(t)
	readAll(c2, allKeys, "after replacing drive 2")

	deadline := time.Now().Add(20 * time.Second)
	for {
		n := countFiles(t, filepath.Join(replaced, "objects"))
		if n >= len(large) {
			t.Logf("replaced drive holds %d shard files %s after the restart", n, time.Since(restarted).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after restart the replaced drive %s/objects holds %d shard files, want %d (no heal of a replaced drive?)", replaced, n, len(large))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Let any heal still renaming finish before stopping: the tmp
	// directories drain.
	waitTmpEmpty(t, drives, 5*time.Second)
	s2.stop(t)

	for _, d := range drives[2:] {
		if err := os.RemoveAll(filepath.Join(d, "objects")); err != nil {
			t.Fatal(err)
		}
	}
	s3srv := startServerOn(t, drives)
	readAll(s3srv.s3Client(t), append(large, allKeys...), "with drives 3 and 4 shard-less (drives 1 and healed 2 left)")

	// The background heal alone (no S3 request touches the objects) rebuilds
	// a replaced drive: drive 1's shard files come back byte-identical.
	waitTmpEmpty(t, drives, 5*time.Second)
	s3srv.stop(t)
	want := snapshotFiles(t, filepath.Join(drives[0], "objects"))
	if len(want) < len(large) {
		t.Fatalf("drive 1 holds %d shard files, want at least %d", len(want), len(large))
	}
	wipeDir(t, drives[0])
	s4 := startServerOn(t, drives)
	restarted = time.Now()
	deadline = time.Now().Add(20 * time.Second)
	for {
		got := snapshotFiles(t, filepath.Join(drives[0], "objects"))
		same := len(got) == len(want)
		for name, b := range want {
			same = same && bytes.Equal(got[name], b)
		}
		if same {
			t.Logf("background heal rebuilt drive 1 (%d shard files, byte-identical) %s after the restart", len(got), time.Since(restarted).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after restart without reads, drive 1 holds %d of %d shard files (identical ones: %d): no background heal of a replaced drive",
				len(got), len(want), countSame(got, want))
		}
		time.Sleep(200 * time.Millisecond)
	}
	s4.stop(t)
}

// snapshotFiles returns the content of every regular file under dir by
// path relative to dir.
func snapshotFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // renamed away meanwhile
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}

// countSame returns how many files of want are in got with the same content.
func countSame(got, want map[string][]byte) int {
	n := 0
	for name, b := range want {
		if bytes.Equal(got[name], b) {
			n++
		}
	}
	return n
}

// waitTmpEmpty polls until no drive's tmp/ directory holds a file, failing
// the test after limit.
func waitTmpEmpty(t *testing.T, drives []string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		left := map[string]int{}
		for _, d := range drives {
			if n := countFiles(t, filepath.Join(d, "tmp")); n > 0 {
				left[d] = n
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("files remain in tmp/ after %s: %v", limit, left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOpsCrashDuringUpload SIGKILLs the server during a slow 64 MiB
// presigned PUT. After a restart the object is absent and the recovery at
// start leaves no temporary shard files on any drive.
func TestOpsCrashDuringUpload(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "crash")
	putBytes(t, c, bucket, "before", []byte("committed before the crash"))

	data := randomBytes(t, 64*mib)
	presigned, err := s3.NewPresignClient(c).PresignPutObject(ctx(t), &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String("torn"),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		t.Fatal(err)
	}
	body := &slowReader{data: data, piece: mib, pause: 100 * time.Millisecond, began: make(chan struct{})} // ~6.4 s
	req, err := http.NewRequest(presigned.Method, presigned.URL, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range presigned.SignedHeader {
		if k == "Host" {
			continue
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.ContentLength = int64(len(data))
	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		hc := &http.Client{Timeout: 60 * time.Second}
		resp, err := hc.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{status: resp.StatusCode}
	}()
	select {
	case <-body.began:
	case <-time.After(10 * time.Second):
		t.Fatal("upload did not start within 10 s")
	}
	// Kill once shard files are being written (or after 3 s regardless).
	sawTmp := false
	killAt := time.Now().Add(3 * time.Second)
	time.Sleep(500 * time.Millisecond)
	for time.Now().Before(killAt) && !sawTmp {
		for _, d := range s.Drives {
			sawTmp = sawTmp || countFiles(t, filepath.Join(d, "tmp")) > 0
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !sawTmp {
		t.Logf("no file appeared in any tmp/ within 3 s of the upload starting (the test still checks the object is absent)")
	}
	s.stopped.Store(true) // this test ends the process itself
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("coffer did not exit within 10 s of SIGKILL")
	}
	select {
	case res := <-done:
		if res.err == nil {
			t.Fatalf("the upload got HTTP %d although the server was killed mid-body", res.status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("upload request still pending 10 s after the server was killed")
	}
	t.Logf("killed mid-upload; tmp files seen before the kill: %v", sawTmp)

	s2 := startServerOn(t, s.Drives)
	c2 := s2.s3Client(t)
	_, err = c2.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("torn")})
	if err == nil {
		t.Errorf("the object killed mid-upload exists after restart")
	} else if got := httpStatus(err); got != http.StatusNotFound {
		t.Errorf("HEAD of the object killed mid-upload: HTTP %d (%v), want 404", got, err)
	}
	got, _ := getBytes(t, c2, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("before")})
	if string(got) != "committed before the crash" {
		t.Errorf("object committed before the crash reads %q", got)
	}
	waitTmpEmpty(t, s.Drives, 5*time.Second)
}

// requireCleanEarlyError sends an unsigned-payload PUT of body to path over
// a raw connection, writing the body from a goroutine, and requires a 503
// with Retry-After followed by either a kept-alive connection or a clean
// EOF, not a connection reset.
func (s *server) requireCleanEarlyError(t *testing.T, path string, body []byte) {
	t.Helper()
	req, err := http.NewRequest("PUT", s.Endpoint+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds(), req, "UNSIGNED-PAYLOAD", "s3", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var head strings.Builder
	fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.URL.RequestURI(), req.Host, len(body))
	for k, vs := range req.Header {
		fmt.Fprintf(&head, "%s: %s\r\n", k, vs[0])
	}
	head.WriteString("\r\n")
	wrote := make(chan error, 1)
	go func() {
		_, err := conn.Write(append([]byte(head.String()), body...))
		wrote <- err
	}()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		t.Errorf("raw PUT with 2 of 4 drives unwritable: no response: %v", err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("raw PUT with 2 of 4 drives unwritable: %d Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	_, rerr := br.ReadByte()
	var ne net.Error
	switch {
	case errors.As(rerr, &ne) && ne.Timeout():
		// kept alive: the server read the whole body
	case errors.Is(rerr, io.EOF):
		// clean close
	default:
		t.Errorf("after its early 503 (Connection: %q) the server ended the connection with %v, not a clean EOF: "+
			"it closed with request body unread, so the peer's kernel sends RST and a client still writing the body can lose the 503 "+
			"(drain the unread body, or set Connection: close and shut down the write side before closing)",
			resp.Header.Get("Connection"), rerr)
	}
	conn.Close()
	<-wrote
}
