package integration

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestBucketPolicies: a bucket policy grants another tenant GetObject;
// an explicit deny beats the tenant admin; a public policy is refused while
// Block Public Access is on and, once it is off, opens anonymous reads.
func TestBucketPolicies(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	a, b := createTenant(t, srv, "owner-t"), createTenant(t, srv, "reader-t")
	ca, cb := srv.s3ClientWith(t, a.AccessKey, a.Secret), srv.s3ClientWith(t, b.AccessKey, b.Secret)
	bucket := "shared-docs"
	if _, err := ca.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"pub/report.txt", "private/x.txt"} {
		if _, err := ca.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader("content of " + k)}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(c *s3.Client, key string) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			io.Copy(io.Discard, out.Body)
			out.Body.Close()
		}
		return err
	}
	requireAPIError(t, get(cb, "pub/report.txt"), 403, "AccessDenied")

	// Cross-tenant grant: reader-t may GetObject under pub/.
	grant := `{"Version":"2012-10-17","Statement":[{"Sid":"ReaderT","Effect":"Allow","Principal":{"AWS":"arn:coffer:iam::reader-t:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-docs/pub/*"}]}`
	if _, err := ca.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(grant)}); err != nil {
		t.Fatal(err)
	}
	if err := get(cb, "pub/report.txt"); err != nil {
		t.Fatalf("cross-tenant grant: %v", err)
	}
	requireAPIError(t, get(cb, "private/x.txt"), 403, "AccessDenied")
	_, err := cb.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("pub/evil"), Body: strings.NewReader("x")})
	requireAPIError(t, err, 403, "AccessDenied")
	gp, err := ca.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil || !strings.Contains(*gp.Policy, "ReaderT") {
		t.Fatalf("GetBucketPolicy: %v", err)
	}

	// An explicit deny in the bucket policy beats the owner's admin.
	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::shared-docs/*"}]}`
	if _, err := ca.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	_, err = ca.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("private/x.txt")})
	requireAPIError(t, err, 403, "AccessDenied")

	// Malformed policies are refused.
	_, err = ca.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(`{"Statement":[{"Effect":"Perhaps"}]}`)})
	requireAPIError(t, err, 400, "MalformedPolicy")

	// A public policy is refused while Block Public Access is on (default).
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-docs/pub/*"}]}`
	_, err = ca.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(public)})
	requireAPIError(t, err, 403, "AccessDenied")
	pab, err := ca.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if err != nil || !*pab.PublicAccessBlockConfiguration.BlockPublicPolicy {
		t.Fatalf("default public access block: %v", err)
	}
	url := srv.Endpoint + "/" + bucket + "/pub/report.txt"
	anon := func() int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := anon(); code != 403 {
		t.Fatalf("anonymous GET before opening: %d", code)
	}
	off := false
	if _, err := ca.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
		BlockPublicAcls: &off, IgnorePublicAcls: &off, BlockPublicPolicy: &off, RestrictPublicBuckets: &off}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(public)}); err != nil {
		t.Fatal(err)
	}
	st, err := ca.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(bucket)})
	if err != nil || !*st.PolicyStatus.IsPublic {
		t.Fatalf("policy status: %v", err)
	}
	if code := anon(); code != 200 {
		t.Fatalf("anonymous GET of a public object: %d", code)
	}
	resp, _ := http.Get(srv.Endpoint + "/" + bucket + "/private/x.txt")
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("anonymous GET outside the public prefix: %d", resp.StatusCode)
	}
	resp, _ = http.Get(srv.Endpoint + "/" + bucket)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("anonymous listing: %d", resp.StatusCode)
	}
	if _, err := ca.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if code := anon(); code != 403 {
		t.Fatalf("anonymous GET after the policy was removed: %d", code)
	}
}
