package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// runCLI runs `coffer admin ARGS…` with the given credentials ("" for
// none) and returns stdout, stderr and the exit status.
func runCLI(t *testing.T, srv *server, access, secret string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"admin"}, args...)...)
	cmd.Env = append(os.Environ(), "COFFER_ENDPOINT="+srv.Endpoint, "COFFER_ACCESS_KEY="+access, "COFFER_SECRET_KEY="+secret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	}
	t.Fatalf("coffer admin %v: %v", args, err)
	return "", "", -1
}

// TestTenantShred drives offboarding through the real binary: a tenant with
// a COMPLIANCE-locked version is refused with the list of blockers and
// keeps working; a clean tenant is shredded, its keys stop authenticating,
// its KEKs are gone, and the certificate verifies online and offline while
// a tampered copy does not.
func TestTenantShred(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()

	// A tenant with a record under retention.
	lk := createTenant(t, srv, "lockco")
	cl := srv.s3ClientWith(t, lk.AccessKey, lk.Secret)
	if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lockco-records"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	putBytes(t, cl, "lockco-records", "free.txt", []byte("not retained"))
	locked := putBytes(t, cl, "lockco-records", "ledger.csv", []byte("retained record"), func(in *s3.PutObjectInput) {
		in.ObjectLockMode = types.ObjectLockModeCompliance
		in.ObjectLockRetainUntilDate = aws.Time(time.Now().Add(time.Hour))
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 // lock headers need a checksum
	})
	stdout, stderr, code := runCLI(t, srv, srv.AccessKey, srv.SecretKey, "--json", "tenant", "delete", "lockco", "--shred")
	if code != 1 {
		t.Fatalf("shred of a tenant with locked data: exit %d, stdout %s stderr %s", code, stdout, stderr)
	}
	var refused struct {
		Error    string `json:"error"`
		Tenant   string `json:"tenant"`
		Total    int    `json:"total"`
		Blockers []struct {
			Bucket      string     `json:"bucket"`
			Key         string     `json:"key"`
			VersionID   string     `json:"version_id"`
			Mode        string     `json:"mode"`
			RetainUntil *time.Time `json:"retain_until"`
			LegalHold   bool       `json:"legal_hold"`
		} `json:"blockers"`
	}
	if err := json.Unmarshal([]byte(stdout), &refused); err != nil {
		t.Fatalf("refusal is not JSON: %v: %s", err, stdout)
	}
	if refused.Tenant != "lockco" || refused.Total != 1 || len(refused.Blockers) != 1 {
		t.Fatalf("refusal = %+v", refused)
	}
	if b := refused.Blockers[0]; b.Bucket != "lockco-records" || b.Key != "ledger.csv" || b.VersionID != aws.ToString(locked.VersionId) ||
		b.Mode != "COMPLIANCE" || b.RetainUntil == nil {
		t.Errorf("blocker = %+v", b)
	}
	// Nothing was destroyed and the tenant still works.
	got, _ := getBytes(t, cl, &s3.GetObjectInput{Bucket: aws.String("lockco-records"), Key: aws.String("free.txt")})
	requireSameBytes(t, "unlocked object after refused shred", got, []byte("not retained"))
	// The human form lists the blocker too.
	stdout, _, code = runCLI(t, srv, srv.AccessKey, srv.SecretKey, "tenant", "delete", "lockco", "--shred")
	if code != 1 || !strings.Contains(stdout, "ledger.csv") || !strings.Contains(stdout, "COMPLIANCE") {
		t.Errorf("human refusal: exit %d, %s", code, stdout)
	}
	// Without --shred a tenant that owns buckets is refused.
	if _, stderr, code := runCLI(t, srv, srv.AccessKey, srv.SecretKey, "tenant", "delete", "lockco"); code != 1 || !strings.Contains(stderr, "TenantNotEmpty") {
		t.Errorf("plain delete of a tenant with buckets: exit %d, %s", code, stderr)
	}

	// A clean tenant: admin, a second user with a key, buckets, objects,
	// an upload in progress.
	cc := createTenant(t, srv, "cleanco")
	if err := adminCLI(t, srv, cc.AccessKey, cc.Secret, nil, "user", "create", "app", "--admin"); err != nil {
		t.Fatal(err)
	}
	var app cliKey
	if err := adminCLI(t, srv, cc.AccessKey, cc.Secret, &app, "key", "create", "app"); err != nil {
		t.Fatal(err)
	}
	c := srv.s3ClientWith(t, app.AccessKey, app.Secret)
	for _, b := range []string{"cleanco-a", "cleanco-b"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	big := randomBytes(t, 300<<10)
	putBytes(t, c, "cleanco-a", "big.bin", big)
	putBytes(t, c, "cleanco-a", "small.txt", []byte("small"))
	putBytes(t, c, "cleanco-b", "x", []byte("x"))
	if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cleanco-b"), Key: aws.String("mp")}); err != nil {
		t.Fatal(err)
	}
	// tenantKeys lists the tenant's KEKs (the list endpoint answers every
	// tenant's keys, so filter).
	tenantKeys := func(tenant string) []string {
		t.Helper()
		var all []struct{ Tenant, Name string }
		if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, &all, "kms", "key", "list"); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range all {
			if k.Tenant == tenant {
				out = append(out, k.Name)
			}
		}
		return out
	}
	keys := tenantKeys("cleanco")
	if len(keys) == 0 {
		t.Fatal("cleanco has no KEK before the shred")
	}
	// A tenant administrator may not shred, not even itself.
	if _, _, code := runCLI(t, srv, cc.AccessKey, cc.Secret, "tenant", "delete", "cleanco", "--shred"); code != 1 {
		t.Errorf("tenant admin shred: exit %d, want refusal", code)
	}

	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.json")
	stdout, stderr, code = runCLI(t, srv, srv.AccessKey, srv.SecretKey, "--json", "tenant", "delete", "cleanco", "--shred", "--out", certFile)
	if code != 0 {
		t.Fatalf("shred: exit %d: %s %s", code, stdout, stderr)
	}
	var cert struct {
		Tenant   string   `json:"tenant"`
		Objects  int64    `json:"objects"`
		Versions int64    `json:"versions"`
		Bytes    int64    `json:"bytes"`
		Uploads  int64    `json:"uploads"`
		Buckets  []string `json:"buckets"`
		Keys     []struct {
			Name string `json:"name"`
		} `json:"keys_destroyed"`
		Users      int    `json:"users_deleted"`
		AccessKeys int    `json:"access_keys_deleted"`
		SigningKey string `json:"signing_key_id"`
		Signature  string `json:"signature"`
	}
	if err := json.Unmarshal([]byte(stdout), &cert); err != nil {
		t.Fatalf("certificate is not JSON: %v: %s", err, stdout)
	}
	if cert.Tenant != "cleanco" || cert.Objects != 3 || cert.Versions != 3 || cert.Bytes != int64(len(big))+6 || cert.Uploads != 1 ||
		len(cert.Buckets) != 2 || len(cert.Keys) != len(keys) || cert.Users != 2 || cert.AccessKeys != 2 || cert.Signature == "" {
		t.Errorf("certificate = %+v", cert)
	}
	// The tenant's keys no longer authenticate; its KEKs are gone.
	for _, k := range []cliKey{cc, app} {
		_, err := srv.s3ClientWith(t, k.AccessKey, k.Secret).ListBuckets(ctx, &s3.ListBucketsInput{})
		requireAPIError(t, err, 403, "InvalidAccessKeyId")
	}
	if keys := tenantKeys("cleanco"); len(keys) != 0 {
		t.Errorf("KEKs after the shred: %v", keys)
	}
	if keys := tenantKeys("lockco"); len(keys) == 0 {
		t.Error("the other tenant lost its KEK")
	}
	root := srv.s3Client(t)
	_, err := root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("cleanco-a")})
	requireAPIError(t, err, 404)
	// The other tenant is untouched.
	got, _ = getBytes(t, cl, &s3.GetObjectInput{Bucket: aws.String("lockco-records"), Key: aws.String("ledger.csv")})
	requireSameBytes(t, "other tenant's record", got, []byte("retained record"))

	// Online verification, against the server's current key.
	if stdout, stderr, code := runCLI(t, srv, srv.AccessKey, srv.SecretKey, "verify-certificate", certFile); code != 0 {
		t.Fatalf("verify-certificate: exit %d: %s %s", code, stdout, stderr)
	}
	// Offline verification, without credentials.
	pubFile := filepath.Join(dir, "signing-key.json")
	if _, stderr, code := runCLI(t, srv, srv.AccessKey, srv.SecretKey, "signing-key", "--out", pubFile); code != 0 {
		t.Fatalf("signing-key: %s", stderr)
	}
	if stdout, stderr, code := runCLI(t, srv, "", "", "verify-certificate", certFile, "--public-key", pubFile); code != 0 {
		t.Fatalf("offline verify-certificate: exit %d: %s %s", code, stdout, stderr)
	}
	// A tampered certificate fails.
	raw, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tamper := range [][2]string{{`"tenant": "cleanco"`, `"tenant": "cleanc0"`}, {`"uploads": 1`, `"uploads": 0`}} {
		if !bytes.Contains(raw, []byte(tamper[0])) {
			t.Fatalf("certificate file lacks %s", tamper[0])
		}
		bad := filepath.Join(dir, "bad.json")
		os.WriteFile(bad, bytes.Replace(raw, []byte(tamper[0]), []byte(tamper[1]), 1), 0o600)
		if _, stderr, code := runCLI(t, srv, "", "", "verify-certificate", bad, "--public-key", pubFile); code != 1 || !strings.Contains(stderr, "does not verify") {
			t.Errorf("tampered %s: exit %d, %s", tamper[1], code, stderr)
		}
	}
	// A re-run returns the same certificate.
	stdout, _, code = runCLI(t, srv, srv.AccessKey, srv.SecretKey, "--json", "tenant", "delete", "cleanco", "--shred")
	if code != 0 || !strings.Contains(stdout, cert.Signature) {
		t.Errorf("re-run: exit %d, %s", code, stdout)
	}
}
