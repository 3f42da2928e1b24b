package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestNoKeyMaterialInLogs (R11) runs a server with a known master key and
// debug-level logging, drives SSE-S3, SSE-C and failing requests through it,
// then searches everything the server printed for the master key, the
// customer key and the root secret, in base64 and hex.
func TestNoKeyMaterialInLogs(t *testing.T) {
	master := bytes.Repeat([]byte{0x5a, 0x17}, 16)
	masterB64 := base64.StdEncoding.EncodeToString(master)
	srv := startServerWith(t, newDrives(t, 4), serverOptions{
		Args: []string{"--insecure"},
		Env:  []string{"COFFER_MASTER_KEY=" + masterB64, "COFFER_LOG_LEVEL=debug"},
	})
	c := srv.s3Client(t)
	ctx := context.Background()
	bucket := "hygiene"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	k := newSSECKey(t)
	body := bytes.Repeat([]byte("x"), 300<<10)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("c"), Body: bytes.NewReader(body),
		SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k.key, SSECustomerKeyMD5: &k.md5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("s"), Body: bytes.NewReader(body),
		ServerSideEncryption: types.ServerSideEncryptionAes256}); err != nil {
		t.Fatal(err)
	}
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("c"),
		SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &k.key, SSECustomerKeyMD5: &k.md5})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, g.Body)
	g.Body.Close()
	// Failures log more: a wrong key, a missing key, a bad signature.
	wrong := newSSECKey(t)
	c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("c"),
		SSECustomerAlgorithm: sseCAlgorithm, SSECustomerKey: &wrong.key, SSECustomerKeyMD5: &wrong.md5})
	c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("c")})
	srv.s3ClientWith(t, srv.AccessKey, "not-the-secret").ListBuckets(ctx, &s3.ListBucketsInput{})
	srv.stop(t)

	out := srv.output.String()
	rawCK, _ := base64.StdEncoding.DecodeString(k.key)
	secrets := map[string]string{
		"master key (base64)":   masterB64,
		"master key (hex)":      hex.EncodeToString(master),
		"customer key (base64)": k.key,
		"customer key (hex)":    hex.EncodeToString(rawCK),
		"root secret":           srv.SecretKey,
	}
	for what, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("%s appears in the server output", what)
		}
	}
	if len(out) < 100 {
		t.Fatalf("server printed only %d bytes: the check would be vacuous", len(out))
	}
}
