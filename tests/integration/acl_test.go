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

const allUsersURI = "http://acs.amazonaws.com/groups/global/AllUsers"

// TestACLs: a new bucket refuses ACLs (BucketOwnerEnforced); once the
// bucket uses ObjectWriter and Block Public Access is off, public-read
// opens anonymous reads, private keeps them closed, a grant to another
// tenant's canonical id works, an explicit Deny in the bucket policy beats
// the ACL, and BlockPublicAcls refuses a public PutObjectAcl.
func TestACLs(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	a, b := createTenant(t, srv, "acl-owner"), createTenant(t, srv, "acl-reader")
	ca, cb := srv.s3ClientWith(t, a.AccessKey, a.Secret), srv.s3ClientWith(t, b.AccessKey, b.Secret)
	bucket := "acl-bucket"
	if _, err := ca.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, cannedACL types.ObjectCannedACL) error {
		_, err := ca.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("content of " + key), ACL: cannedACL})
		return err
	}
	anon := func(key string) int {
		t.Helper()
		resp, err := http.Get(srv.Endpoint + "/" + bucket + "/" + key)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	// Default: ACLs disabled.
	requireAPIError(t, put("pub.txt", types.ObjectCannedACLPublicRead), 400, "AccessControlListNotSupported")
	if err := put("pub.txt", types.ObjectCannedACLBucketOwnerFullControl); err != nil {
		t.Fatalf("bucket-owner-full-control under BucketOwnerEnforced: %v", err)
	}
	oc, err := ca.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
	if err != nil || oc.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipBucketOwnerEnforced {
		t.Fatalf("default ownership controls: %+v %v", oc, err)
	}
	ba, err := ca.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ba.Grants) != 1 || ba.Grants[0].Permission != types.PermissionFullControl ||
		ba.Grants[0].Grantee.ID == nil || *ba.Grants[0].Grantee.ID != *ba.Owner.ID {
		t.Fatalf("default bucket ACL: %+v", ba.Grants)
	}

	// ObjectWriter and Block Public Access off: ACLs take effect.
	if _, err := ca.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(bucket),
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}}}); err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := ca.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
		BlockPublicAcls: &off, IgnorePublicAcls: &off, BlockPublicPolicy: &off, RestrictPublicBuckets: &off}}); err != nil {
		t.Fatal(err)
	}
	if err := put("pub.txt", types.ObjectCannedACLPublicRead); err != nil {
		t.Fatal(err)
	}
	if err := put("private.txt", types.ObjectCannedACLPrivate); err != nil {
		t.Fatal(err)
	}
	if code := anon("pub.txt"); code != 200 {
		t.Fatalf("anonymous GET of a public-read object: %d", code)
	}
	if code := anon("private.txt"); code != 403 {
		t.Fatalf("anonymous GET of a private object: %d", code)
	}
	oa, err := ca.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(bucket), Key: aws.String("pub.txt")})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range oa.Grants {
		if g.Grantee != nil && g.Grantee.URI != nil && *g.Grantee.URI == allUsersURI && g.Permission == types.PermissionRead {
			found = true
		}
	}
	if !found {
		t.Fatalf("GetObjectAcl lacks AllUsers READ: %+v", oa.Grants)
	}

	// A grant to another tenant's canonical id (read from its own listing).
	lb, err := cb.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || lb.Owner == nil || lb.Owner.ID == nil {
		t.Fatalf("reader's canonical id: %v", err)
	}
	getB := func(key string) error {
		out, err := cb.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			io.Copy(io.Discard, out.Body)
			out.Body.Close()
		}
		return err
	}
	requireAPIError(t, getB("private.txt"), 403, "AccessDenied")
	if _, err := ca.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(bucket), Key: aws.String("private.txt"),
		GrantRead: aws.String(`id="` + *lb.Owner.ID + `"`)}); err != nil {
		t.Fatal(err)
	}
	if err := getB("private.txt"); err != nil {
		t.Fatalf("cross-tenant ACL grant: %v", err)
	}
	if code := anon("private.txt"); code != 403 {
		t.Fatalf("anonymous GET of an object granted to one tenant: %d", code)
	}

	// An explicit Deny in the bucket policy beats the ACL's Allow.
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acl-bucket/pub.txt"}]}`
	if _, err := ca.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	if code := anon("pub.txt"); code != 403 {
		t.Fatalf("anonymous GET despite an explicit deny: %d", code)
	}
	if _, err := ca.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}

	// IgnorePublicAcls hides the grant from decisions; BlockPublicAcls
	// refuses a new public ACL.
	on := true
	if _, err := ca.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket), PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
		BlockPublicAcls: &on, IgnorePublicAcls: &on, BlockPublicPolicy: &off, RestrictPublicBuckets: &off}}); err != nil {
		t.Fatal(err)
	}
	if code := anon("pub.txt"); code != 403 {
		t.Fatalf("anonymous GET under IgnorePublicAcls: %d", code)
	}
	_, err = ca.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(bucket), Key: aws.String("private.txt"), ACL: types.ObjectCannedACLPublicRead})
	requireAPIError(t, err, 403, "AccessDenied")

	// Back to BucketOwnerEnforced: ACLs grant nothing, reads show the owner.
	if _, err := ca.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	requireAPIError(t, getB("private.txt"), 403, "AccessDenied")
	oa, err = ca.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(bucket), Key: aws.String("pub.txt")})
	if err != nil || len(oa.Grants) != 1 || oa.Grants[0].Permission != types.PermissionFullControl {
		t.Fatalf("GetObjectAcl under BucketOwnerEnforced: %+v %v", oa, err)
	}
}
