package integration

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// TestDataRequestAdmission starts the real binary with one data-request
// slot: while a download holds it (its client reads nothing), another GET
// waits --request-wait and fails with 503 SlowDown, requests that stream no
// object data still pass, and once the download's connection closes the
// slot is free again.
func TestDataRequestAdmission(t *testing.T) {
	srv := startServerWith(t, newDrives(t, 4), serverOptions{Args: []string{
		"--max-data-requests", "1", "--request-wait", "300ms", "--stall-timeout", "30s"}})
	c := srv.s3ClientWith(t, srv.AccessKey, srv.SecretKey, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	bucket := newBucket(t, c, "admit")
	big := randomBytes(t, 48<<20)
	putBytes(t, c, bucket, "big", big)
	putBytes(t, c, bucket, "small", []byte("small"))

	conn, _ := rawPresignedGET(t, c, bucket, "big") // holds the slot until its body is closed
	start := time.Now()
	_, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("small")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SlowDown" {
		t.Fatalf("GET while the only slot is held: %v, want SlowDown", err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("refused after %v, before --request-wait", waited)
	}
	if _, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("small")}); err != nil {
		t.Errorf("HEAD is not a data request but failed: %v", err)
	}
	if v := metricValue(t, srv, "coffer_http_data_requests_rejected_total"); v < 1 {
		t.Errorf("rejected metric %v", v)
	}
	conn.Close() // the server's next write fails, fasthttp closes the body: the slot is free
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("small")})
		if err == nil {
			out.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot was not given back after the download's connection closed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v := metricValue(t, srv, "coffer_http_data_requests"); v != 0 {
		t.Errorf("%v slots held with no request running", v)
	}
}
