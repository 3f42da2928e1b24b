package integration

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

type retentionPolicyOut struct {
	Bucket      string `json:"bucket"`
	MinDays     int    `json:"min_days"`
	MaxDays     int    `json:"max_days"`
	DefaultMode string `json:"default_mode"`
	DefaultDays int    `json:"default_days"`
	Locked      bool   `json:"locked"`
	History     []struct {
		Time    time.Time `json:"time"`
		Actor   string    `json:"actor"`
		Summary string    `json:"summary"`
	} `json:"history"`
}

// TestRetentionAdmin drives `coffer admin retention show|set|lock` and
// `coffer admin legal-hold` through the real binary, and checks that the
// policy bounds S3 writes.
func TestRetentionAdmin(t *testing.T) {
	srv := startServer(t)
	ta := createTenant(t, srv, "ret-a")
	c := srv.s3ClientWith(t, ta.AccessKey, ta.Secret)
	bucket := newLockBucket(t, c, "retadm")
	cli := func(out any, args ...string) error { return adminCLI(t, srv, ta.AccessKey, ta.Secret, out, args...) }

	var p retentionPolicyOut
	if err := cli(&p, "retention", "show", bucket); err != nil || p.Locked || p.MinDays != 0 || len(p.History) != 0 {
		t.Fatalf("show empty policy: %v %+v", err, p)
	}
	if err := cli(&p, "retention", "set", bucket, "--min-days", "2", "--max-days", "30",
		"--default-mode", "GOVERNANCE", "--default-days", "5"); err != nil {
		t.Fatalf("set: %v", err)
	}
	if p.MinDays != 2 || p.MaxDays != 30 || p.DefaultMode != "GOVERNANCE" || p.DefaultDays != 5 || len(p.History) != 1 ||
		p.History[0].Actor != "arn:coffer:iam::ret-a:user/admin" {
		t.Fatalf("after set: %+v", p)
	}

	// Writes: the policy default applies; explicit dates are bounded.
	out := putBytes(t, c, bucket, "dflt", []byte("x"))
	head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("dflt"), VersionId: out.VersionId})
	if err != nil {
		t.Fatal(err)
	}
	if head.ObjectLockMode != types.ObjectLockModeGovernance || head.ObjectLockRetainUntilDate == nil ||
		head.ObjectLockRetainUntilDate.Before(time.Now().Add(4*24*time.Hour)) {
		t.Fatalf("policy default not applied: %v %v", head.ObjectLockMode, head.ObjectLockRetainUntilDate)
	}
	_, err = c.PutObject(ctx(t), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("short"), Body: bytes.NewReader([]byte("x")),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(time.Hour)),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	requireAPIError(t, err, 400, "InvalidRetentionPeriod")
	putLocked(t, c, bucket, "ok", types.ObjectLockRetentionModeCompliance, time.Now().Add(10*24*time.Hour))

	// Lock, then only tightening.
	if err := cli(&p, "retention", "lock", bucket); err != nil || !p.Locked || len(p.History) != 2 {
		t.Fatalf("lock: %v %+v", err, p)
	}
	for _, args := range [][]string{
		{"--min-days", "1"}, {"--max-days", "0"}, {"--max-days", "60"},
		{"--default-mode", "GOVERNANCE", "--default-days", "3"},
	} {
		err := cli(nil, append([]string{"retention", "set", bucket}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "Conflict") {
			t.Fatalf("loosening %v: %v, want Conflict", args, err)
		}
	}
	if err := cli(&p, "retention", "set", bucket, "--min-days", "3", "--default-mode", "COMPLIANCE", "--default-days", "7"); err != nil {
		t.Fatalf("tighten: %v", err)
	}
	if p.MinDays != 3 || p.DefaultMode != "COMPLIANCE" || !p.Locked || len(p.History) != 3 {
		t.Fatalf("after tighten: %+v", p)
	}

	// Legal hold set and clear.
	var lh struct {
		VersionID string `json:"version_id"`
		LegalHold bool   `json:"legal_hold"`
	}
	if err := cli(&lh, "legal-hold", "set", bucket, "ok"); err != nil || !lh.LegalHold || lh.VersionID == "" {
		t.Fatalf("legal-hold set: %v %+v", err, lh)
	}
	got, err := c.GetObjectLegalHold(ctx(t), &s3.GetObjectLegalHoldInput{Bucket: aws.String(bucket), Key: aws.String("ok")})
	if err != nil || got.LegalHold.Status != types.ObjectLockLegalHoldStatusOn {
		t.Fatalf("GetObjectLegalHold: %v", err)
	}
	if err := cli(&lh, "legal-hold", "clear", bucket, "ok", "--version", lh.VersionID); err != nil || lh.LegalHold {
		t.Fatalf("legal-hold clear: %v %+v", err, lh)
	}

	// Scope: another tenant's admin sees the bucket as missing; a bucket
	// without Object Lock cannot have a policy.
	tb := createTenant(t, srv, "ret-b")
	for _, args := range [][]string{{"retention", "show", bucket}, {"retention", "lock", bucket}, {"legal-hold", "set", bucket, "ok"}} {
		err := adminCLI(t, srv, tb.AccessKey, tb.Secret, nil, args...)
		if err == nil || !strings.Contains(err.Error(), "NotFound") {
			t.Fatalf("other tenant %v: %v, want NotFound", args, err)
		}
	}
	plain := newBucket(t, c, "retplain")
	if err := cli(nil, "retention", "set", plain, "--min-days", "1"); err == nil || !strings.Contains(err.Error(), "Conflict") {
		t.Fatalf("policy on a plain bucket: %v", err)
	}
	// Root may administer any tenant's bucket.
	if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, &p, "retention", "show", bucket); err != nil || !p.Locked {
		t.Fatalf("root show: %v %+v", err, p)
	}
}
