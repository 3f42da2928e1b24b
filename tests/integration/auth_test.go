package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestAuth(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "auth")
	data := randomBytes(t, 50*kib)
	putBytes(t, c, bucket, "obj", data)
	presign := s3.NewPresignClient(c)

	t.Run("PresignedGET", func(t *testing.T) {
		req, err := presign.PresignGetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")}, s3.WithPresignExpires(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("presigned GET: %d %s", resp.StatusCode, body)
		}
		requireSameBytes(t, "presigned GET", body, data)
		if resp.Header.Get("x-amz-request-id") == "" {
			t.Errorf("presigned GET: no x-amz-request-id")
		}
		// Tampering with the signed URL breaks the signature.
		tampered := strings.Replace(req.URL, "/obj?", "/obj2?", 1)
		resp, err = http.Get(tampered)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		requireRawError(t, resp, body, http.StatusForbidden, "SignatureDoesNotMatch")
	})

	t.Run("PresignedPUT", func(t *testing.T) {
		payload := randomBytes(t, 70*kib)
		req, err := presign.PresignPutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("presigned-put")}, s3.WithPresignExpires(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		hr, err := http.NewRequest(req.Method, req.URL, bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range req.SignedHeader {
			if strings.EqualFold(k, "host") {
				continue
			}
			for _, v := range vs {
				hr.Header.Add(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("presigned PUT: %d %s", resp.StatusCode, body)
		}
		if resp.Header.Get("ETag") != quotedMD5(payload) {
			t.Errorf("presigned PUT ETag %q, want %s", resp.Header.Get("ETag"), quotedMD5(payload))
		}
		got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("presigned-put")})
		requireSameBytes(t, "object uploaded by presigned PUT", got, payload)
	})

	t.Run("PresignedExpired", func(t *testing.T) {
		req, err := presign.PresignGetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")}, s3.WithPresignExpires(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond)
		resp, err := http.Get(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		requireRawError(t, resp, body, http.StatusForbidden, "AccessDenied")
	})

	t.Run("PresignedTooLong", func(t *testing.T) {
		req, err := presign.PresignGetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")}, s3.WithPresignExpires(8*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		requireRawError(t, resp, body, http.StatusBadRequest, "AuthorizationQueryParametersError")
	})

	t.Run("WrongSecret", func(t *testing.T) {
		bad := s.s3ClientWith(t, s.AccessKey, "not-the-secret")
		_, err := bad.ListBuckets(ctx(t), &s3.ListBucketsInput{})
		requireAPIError(t, err, http.StatusForbidden, "SignatureDoesNotMatch")
		_, err = bad.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
		requireAPIError(t, err, http.StatusForbidden, "SignatureDoesNotMatch")
		_, err = bad.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("evil"), Body: strings.NewReader("x")})
		requireAPIError(t, err, http.StatusForbidden, "SignatureDoesNotMatch")
		_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("evil")})
		requireAPIError(t, err, http.StatusNotFound)
	})

	t.Run("UnknownAccessKey", func(t *testing.T) {
		bad := s.s3ClientWith(t, "AKIDNOSUCHUSER000000", s.SecretKey)
		_, err := bad.ListBuckets(ctx(t), &s3.ListBucketsInput{})
		requireAPIError(t, err, http.StatusForbidden, "InvalidAccessKeyId")
	})

	t.Run("Anonymous", func(t *testing.T) {
		for _, r := range []rawRequest{
			{Method: "GET", Path: "/"},
			{Method: "GET", Path: "/" + bucket},
			{Method: "GET", Path: "/" + bucket + "/obj"},
			{Method: "PUT", Path: "/" + bucket + "/anon", Body: []byte("x")},
			{Method: "DELETE", Path: "/" + bucket + "/obj"},
		} {
			r.Anonymous = true
			resp, body := s.do(t, r)
			requireRawError(t, resp, body, http.StatusForbidden, "AccessDenied")
		}
		// Nothing changed.
		got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
		requireSameBytes(t, "object after anonymous DELETE", got, data)
	})

	t.Run("ClockSkew", func(t *testing.T) {
		for _, off := range []time.Duration{-20 * time.Minute, 20 * time.Minute} {
			resp, body := s.do(t, rawRequest{Method: "GET", Path: "/" + bucket + "/obj", SignTime: time.Now().Add(off)})
			requireRawError(t, resp, body, http.StatusForbidden, "RequestTimeTooSkewed")
		}
		// 10 minutes off is inside the 15-minute window.
		resp, body := s.do(t, rawRequest{Method: "GET", Path: "/" + bucket + "/obj", SignTime: time.Now().Add(-10 * time.Minute)})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("10 minutes skew: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("PayloadHash", func(t *testing.T) {
		other := sha256.Sum256([]byte("other"))
		resp, body := s.do(t, rawRequest{Method: "PUT", Path: "/" + bucket + "/hash-bad", Body: []byte("payload"), PayloadHash: hex.EncodeToString(other[:])})
		requireRawError(t, resp, body, http.StatusBadRequest, "XAmzContentSHA256Mismatch")
		resp, body = s.do(t, rawRequest{Method: "PUT", Path: "/" + bucket + "/hash-unsigned", Body: []byte("payload"), PayloadHash: "UNSIGNED-PAYLOAD"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("UNSIGNED-PAYLOAD PUT: %d %s", resp.StatusCode, body)
		}
		resp, body = s.do(t, rawRequest{Method: "PUT", Path: "/" + bucket + "/hash-signed", Body: []byte("payload")})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("signed-payload PUT: %d %s", resp.StatusCode, body)
		}
		_, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("hash-bad")})
		requireAPIError(t, err, http.StatusNotFound)
	})

	t.Run("NotImplemented", func(t *testing.T) {
		_, err := c.GetBucketWebsite(ctx(t), &s3.GetBucketWebsiteInput{Bucket: aws.String(bucket)})
		requireAPIError(t, err, http.StatusNotImplemented, "NotImplemented")
		_, err = c.GetBucketReplication(ctx(t), &s3.GetBucketReplicationInput{Bucket: aws.String(bucket)})
		requireAPIError(t, err, http.StatusNotImplemented, "NotImplemented")
		_, err = c.PutBucketWebsite(ctx(t), &s3.PutBucketWebsiteInput{Bucket: aws.String(bucket), WebsiteConfiguration: &types.WebsiteConfiguration{
			IndexDocument: &types.IndexDocument{Suffix: aws.String("index.html")},
		}})
		requireAPIError(t, err, http.StatusNotImplemented, "NotImplemented")
		for _, q := range []string{"website=", "replication=", "analytics=", "inventory=", "intelligent-tiering="} {
			resp, body := s.do(t, rawRequest{Method: "GET", Path: "/" + bucket, RawQuery: q})
			requireRawError(t, resp, body, http.StatusNotImplemented, "NotImplemented")
		}
		resp, body := s.do(t, rawRequest{Method: "POST", Path: "/" + bucket + "/obj", RawQuery: "restore="})
		requireRawError(t, resp, body, http.StatusNotImplemented, "NotImplemented")
	})

	t.Run("ErrorShapeAndRequestID", func(t *testing.T) {
		resp, body := s.do(t, rawRequest{Method: "GET", Path: "/" + bucket + "/no-such-key"})
		e := requireRawError(t, resp, body, http.StatusNotFound, "NoSuchKey")
		if e.Message == "" || e.RequestID == "" || e.RequestID != resp.Header.Get("x-amz-request-id") {
			t.Errorf("error body %+v, x-amz-request-id %q: want Message and a RequestId equal to the header", e, resp.Header.Get("x-amz-request-id"))
		}
		if !strings.Contains(e.Resource, "no-such-key") {
			t.Errorf("error Resource %q does not name the key", e.Resource)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "xml") {
			t.Errorf("error Content-Type %q, want application/xml", ct)
		}
		if resp.Header.Get("x-amz-id-2") == "" {
			t.Errorf("no x-amz-id-2 header")
		}
		var probe struct {
			XMLName xml.Name
		}
		if xml.Unmarshal(body, &probe); probe.XMLName.Local != "Error" {
			t.Errorf("error root element %q, want Error", probe.XMLName.Local)
		}
		ids := map[string]bool{}
		for _, r := range []rawRequest{
			{Method: "GET", Path: "/"},
			{Method: "HEAD", Path: "/" + bucket},
			{Method: "HEAD", Path: "/" + bucket + "/obj"},
			{Method: "HEAD", Path: "/" + bucket + "/missing"},
			{Method: "GET", Path: "/" + bucket, RawQuery: "list-type=2"},
			{Method: "GET", Path: "/" + bucket + "/obj"},
			{Method: "GET", Path: "/" + bucketName("gone")},
			{Method: "GET", Path: "/" + bucket + "/obj", Anonymous: true},
		} {
			resp, _ := s.do(t, r)
			id := resp.Header.Get("x-amz-request-id")
			if id == "" {
				t.Errorf("%s %s?%s -> %d: no x-amz-request-id", r.Method, r.Path, r.RawQuery, resp.StatusCode)
			}
			if ids[id] {
				t.Errorf("request id %q reused", id)
			}
			ids[id] = true
		}
	})

	t.Run("Health", func(t *testing.T) {
		for _, p := range []string{"/health/live", "/health/ready"} {
			resp, body := s.do(t, rawRequest{Method: "GET", Path: p, Anonymous: true})
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
			}
		}
	})
}
