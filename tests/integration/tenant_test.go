package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// admin runs `coffer admin --json ARGS…` as the given credentials and
// decodes the JSON answer into out (when non-nil).
func adminCLI(t *testing.T, srv *server, access, secret string, out any, args ...string) error {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"admin", "--json"}, args...)...)
	cmd.Env = append(os.Environ(), "COFFER_ENDPOINT="+srv.Endpoint, "COFFER_ACCESS_KEY="+access, "COFFER_SECRET_KEY="+secret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return errors.New(strings.TrimSpace(stderr.String()))
	}
	if out != nil {
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			t.Fatalf("admin %v: bad JSON %q: %v", args, stdout.String(), err)
		}
	}
	return nil
}

type cliKey struct {
	AccessKey string `json:"access_key"`
	Secret    string `json:"secret_key"`
}

func createTenant(t *testing.T, srv *server, id string) cliKey {
	t.Helper()
	var out struct {
		AdminKey cliKey `json:"admin_key"`
	}
	if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, &out, "tenant", "create", id); err != nil {
		t.Fatalf("tenant create %s: %v", id, err)
	}
	if out.AdminKey.AccessKey == "" || out.AdminKey.Secret == "" {
		t.Fatalf("tenant create %s: no admin key", id)
	}
	return out.AdminKey
}

// TestTenantIsolation: tenant B attacks tenant A's data through every
// path; each attempt is denied exactly as if the resource did not exist.
func TestTenantIsolation(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	a, b := createTenant(t, srv, "tenant-a"), createTenant(t, srv, "tenant-b")
	ca, cb := srv.s3ClientWith(t, a.AccessKey, a.Secret), srv.s3ClientWith(t, b.AccessKey, b.Secret)
	bucket := "a-private"
	if _, err := ca.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("secret.txt"), Body: strings.NewReader("A's data")}); err != nil {
		t.Fatal(err)
	}
	up, err := ca.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cb.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("b-own")}); err != nil {
		t.Fatal(err)
	}
	bid, _ := cb.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("b-own"), Key: aws.String("x")})

	// attack runs one attempt against A's bucket and against a bucket that
	// does not exist, and requires the same AccessDenied for both.
	attack := func(name string, f func(bucket string) error) {
		t.Helper()
		for _, target := range []string{bucket, "no-such-bucket-zz"} {
			err := f(target)
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Errorf("%s on %s: want AccessDenied, got %v", name, target, err)
				continue
			}
			if code := ae.ErrorCode(); code != "AccessDenied" && !(code == "Forbidden" && strings.HasPrefix(name, "Head")) {
				t.Errorf("%s on %s: code %s, want AccessDenied", name, target, code)
			}
		}
	}
	attack("ListObjectsV2", func(bk string) error {
		_, err := cb.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bk})
		return err
	})
	attack("ListObjectsV2 prefix/marker", func(bk string) error {
		_, err := cb.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bk, Prefix: aws.String("sec"), StartAfter: aws.String("a")})
		return err
	})
	attack("GetObject", func(bk string) error {
		_, err := cb.GetObject(ctx, &s3.GetObjectInput{Bucket: &bk, Key: aws.String("secret.txt")})
		return err
	})
	attack("HeadObject", func(bk string) error {
		_, err := cb.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bk, Key: aws.String("secret.txt")})
		return err
	})
	attack("GetObject by version id", func(bk string) error {
		_, err := cb.GetObject(ctx, &s3.GetObjectInput{Bucket: &bk, Key: aws.String("secret.txt"), VersionId: aws.String("null")})
		return err
	})
	attack("PutObject", func(bk string) error {
		_, err := cb.PutObject(ctx, &s3.PutObjectInput{Bucket: &bk, Key: aws.String("evil"), Body: strings.NewReader("x")})
		return err
	})
	attack("DeleteObject", func(bk string) error {
		_, err := cb.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bk, Key: aws.String("secret.txt")})
		return err
	})
	attack("DeleteBucket", func(bk string) error {
		_, err := cb.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bk})
		return err
	})
	attack("CopyObject source", func(bk string) error {
		_, err := cb.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("b-own"), Key: aws.String("stolen"), CopySource: aws.String(bk + "/secret.txt")})
		if err == nil {
			return nil
		}
		return err
	})
	attack("UploadPartCopy source", func(bk string) error {
		_, err := cb.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("b-own"), Key: aws.String("x"), UploadId: bid.UploadId,
			PartNumber: aws.Int32(1), CopySource: aws.String(bk + "/secret.txt")})
		return err
	})
	attack("ListMultipartUploads", func(bk string) error {
		_, err := cb.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bk})
		return err
	})
	attack("UploadPart with A's upload id", func(bk string) error {
		_, err := cb.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bk, Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
		return err
	})
	attack("AbortMultipartUpload", func(bk string) error {
		_, err := cb.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bk, Key: aws.String("mp"), UploadId: up.UploadId})
		return err
	})
	attack("GetBucketLocation", func(bk string) error {
		_, err := cb.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: &bk})
		return err
	})
	// A presigned URL made by B for A's object is refused too.
	pre, err := s3.NewPresignClient(cb).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("secret.txt")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(pre.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || bytes.Contains(body, []byte("A's data")) {
		t.Fatalf("presigned cross-tenant GET: %d %s", resp.StatusCode, body)
	}
	// B lists only its own buckets; A's copy attempt left nothing behind.
	lb, err := cb.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || *lb.Buckets[0].Name != "b-own" {
		t.Fatalf("B's bucket list: %v %+v", err, lb)
	}
	if _, err := cb.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b-own"), Key: aws.String("stolen")}); err == nil {
		t.Fatal("cross-tenant copy created an object")
	}
	// The admin API: B's admin cannot see or change A.
	if err := adminCLI(t, srv, b.AccessKey, b.Secret, nil, "user", "create", "mallory", "--tenant", "tenant-a"); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("B's admin created a user in A: %v", err)
	}
	errMissing := adminCLI(t, srv, b.AccessKey, b.Secret, nil, "user", "list", "--tenant", "tenant-zz")
	errForeign := adminCLI(t, srv, b.AccessKey, b.Secret, nil, "user", "list", "--tenant", "tenant-a")
	if errMissing == nil || errForeign == nil || strings.ReplaceAll(errMissing.Error(), "tenant-zz", "X") != strings.ReplaceAll(errForeign.Error(), "tenant-a", "X") {
		t.Fatalf("admin API existence oracle: %v / %v", errMissing, errForeign)
	}
	if err := adminCLI(t, srv, b.AccessKey, b.Secret, nil, "tenant", "delete", "tenant-a"); err == nil {
		t.Fatal("a tenant admin deleted another tenant")
	}
	// A still reads its data.
	g, err := ca.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("secret.txt")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(g.Body)
	g.Body.Close()
	if string(got) != "A's data" {
		t.Fatalf("A's object: %q", got)
	}
}

// TestUsersAndKeysCLI drives the user and key lifecycle through the CLI:
// deny by default, a policy grants, revoke and disable take effect at once,
// keys expire.
func TestUsersAndKeysCLI(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	a := createTenant(t, srv, "acme")
	ca := srv.s3ClientWith(t, a.AccessKey, a.Secret)
	if _, err := ca.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-data")}); err != nil {
		t.Fatal(err)
	}
	ca.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme-data"), Key: aws.String("k"), Body: strings.NewReader("v")})
	if err := adminCLI(t, srv, a.AccessKey, a.Secret, nil, "user", "create", "alice"); err != nil {
		t.Fatal(err)
	}
	var k cliKey
	if err := adminCLI(t, srv, a.AccessKey, a.Secret, &k, "key", "create", "alice"); err != nil {
		t.Fatal(err)
	}
	alice := srv.s3ClientWith(t, k.AccessKey, k.Secret)
	_, err := alice.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acme-data"), Key: aws.String("k")})
	requireAPIError(t, err, 403, "AccessDenied")

	// A read-only policy on the bucket.
	pol := filepath.Join(t.TempDir(), "read.json")
	os.WriteFile(pol, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::acme-data","arn:aws:s3:::acme-data/*"]}]}`), 0o600)
	if err := adminCLI(t, srv, a.AccessKey, a.Secret, nil, "policy", "set", "alice", pol); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acme-data"), Key: aws.String("k")}); err != nil {
		t.Fatalf("policy did not take effect at once: %v", err)
	}
	_, err = alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme-data"), Key: aws.String("w"), Body: strings.NewReader("x")})
	requireAPIError(t, err, 403, "AccessDenied")

	// Disable, re-enable, revoke.
	if err := adminCLI(t, srv, a.AccessKey, a.Secret, nil, "user", "disable", "alice"); err != nil {
		t.Fatal(err)
	}
	_, err = alice.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acme-data"), Key: aws.String("k")})
	requireAPIError(t, err, 403, "InvalidAccessKeyId")
	adminCLI(t, srv, a.AccessKey, a.Secret, nil, "user", "disable", "alice", "--enable")
	if err := adminCLI(t, srv, a.AccessKey, a.Secret, nil, "key", "revoke", k.AccessKey); err != nil {
		t.Fatal(err)
	}
	_, err = alice.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acme-data"), Key: aws.String("k")})
	requireAPIError(t, err, 403, "InvalidAccessKeyId")

	// A key with a short expiry stops working by itself.
	var short cliKey
	if err := adminCLI(t, srv, a.AccessKey, a.Secret, &short, "key", "create", "alice", "--expires", "2s"); err != nil {
		t.Fatal(err)
	}
	s2 := srv.s3ClientWith(t, short.AccessKey, short.Secret)
	if _, err := s2.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acme-data"), Key: aws.String("k")}); err != nil {
		t.Fatalf("fresh key: %v", err)
	}
	time.Sleep(2500 * time.Millisecond)
	_, err = s2.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acme-data"), Key: aws.String("k")})
	requireAPIError(t, err, 403, "InvalidAccessKeyId")

	// A tenant that owns buckets cannot be deleted.
	if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, nil, "tenant", "delete", "acme"); err == nil || !strings.Contains(err.Error(), "TenantNotEmpty") {
		t.Fatalf("deleting a tenant with buckets: %v", err)
	}
}

// TestAdminClock: `coffer admin clock` reports the compliance clock, close
// to real time on a fresh server, and only to root or tenant admins.
func TestAdminClock(t *testing.T) {
	srv := startServer(t)
	var out struct {
		Compliance time.Time `json:"compliance_time"`
		Wall       time.Time `json:"wall_time"`
	}
	if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, &out, "clock"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(out.Compliance); d < -time.Minute || d > time.Minute || out.Compliance.After(out.Wall.Add(time.Second)) {
		t.Fatalf("compliance clock %v, wall %v", out.Compliance, out.Wall)
	}
}
