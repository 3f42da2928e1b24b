package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// dialPresigned opens a raw connection to the host of a presigned URL,
// closed when the test ends.
func dialPresigned(t *testing.T, rawURL string) (net.Conn, *url.URL) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, u
}

// rawPresignedGET sends a presigned GET of key on a raw connection and
// reads the response head, leaving the body unread on the connection.
func rawPresignedGET(t *testing.T, c *s3.Client, bucket, key string) (net.Conn, *http.Response) {
	t.Helper()
	req, err := s3.NewPresignClient(c).PresignGetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	conn, u := dialPresigned(t, req.URL)
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.RequestURI(), u.Host)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // bounds the test, not the server
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %v", key, err, resp)
	}
	return conn, resp
}

// TestStalledTransfersEnd starts the real binary with --stall-timeout 1s:
// a client that stops reading a download, or stops sending an upload, loses
// its connection, while a slow but steady download that takes longer than
// the timeout completes (the timeout bounds each write, not the transfer).
func TestStalledTransfersEnd(t *testing.T) {
	srv := startServerWith(t, newDrives(t, 4), serverOptions{Args: []string{"--stall-timeout", "1s"}})
	c := srv.s3Client(t)
	bucket := newBucket(t, c, "stall")
	big := randomBytes(t, 48<<20) // well beyond loopback socket buffers
	putBytes(t, c, bucket, "big", big)
	steady := randomBytes(t, 12<<20)
	putBytes(t, c, bucket, "steady", steady)
	presign := s3.NewPresignClient(c)
	rawGET := func(key string) (net.Conn, *http.Response) { return rawPresignedGET(t, c, bucket, key) }

	t.Run("stalled download", func(t *testing.T) {
		_, resp := rawGET("big")
		time.Sleep(3 * time.Second) // read nothing: the server's writes stall
		n, err := io.Copy(io.Discard, resp.Body)
		if err == nil || n >= int64(len(big)) {
			t.Fatalf("a stalled download went on: %d of %d bytes, %v", n, len(big), err)
		}
	})

	t.Run("slow but steady download", func(t *testing.T) {
		_, resp := rawGET("steady")
		start := time.Now()
		var got []byte
		buf := make([]byte, 1<<20)
		for {
			n, err := io.ReadFull(resp.Body, buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
			time.Sleep(250 * time.Millisecond) // 4 MiB/s: the whole transfer takes ≈ 3 s
		}
		requireSameBytes(t, "steady download", got, steady)
		if time.Since(start) < 2*time.Second {
			t.Fatalf("the download took only %v: it did not outlast the timeout", time.Since(start))
		}
	})

	// fasthttp reads the first 8 KiB of a body before the handler runs
	// (its ReadTimeout), the handler the rest (the per-read deadline).
	for _, sent := range []int{1000, 100 << 10} {
		t.Run(fmt.Sprintf("upload stalled after %d bytes", sent), func(t *testing.T) { stalledUpload(t, c, presign, bucket, sent) })
	}
}

func stalledUpload(t *testing.T, c *s3.Client, presign *s3.PresignClient, bucket string, sent int) {
	req, err := presign.PresignPutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("stalled-put")}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	conn, u := dialPresigned(t, req.URL)
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s", u.RequestURI(), u.Host, 1<<20, strings.Repeat("x", sent))
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	// The server gives up on the body: an error response, or the
	// connection closes; either way well before the test's deadline.
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server still waits for a stalled upload after 20 s")
	}
	if err == nil && resp.StatusCode < 400 {
		t.Fatalf("a stalled upload succeeded: %d", resp.StatusCode)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("the stalled upload ended only after %v", time.Since(start))
	}
	if _, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("stalled-put")}); err == nil {
		t.Fatal("a stalled upload created an object")
	}
}
