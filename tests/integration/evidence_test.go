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

type verifyOut struct {
	Bucket  string `json:"bucket"`
	Checked int    `json:"checked"`
	Failed  int    `json:"failed"`
	Results []struct {
		Key       string `json:"key"`
		VersionID string `json:"version_id"`
		Size      int64  `json:"size"`
		OK        bool   `json:"ok"`
		Evidence  bool   `json:"evidence"`
		Problem   string `json:"problem"`
	} `json:"results"`
	Truncated  bool   `json:"truncated"`
	NextMarker string `json:"next_marker"`
}

type retentionOut struct {
	Versions       int64      `json:"versions"`
	Bytes          int64      `json:"bytes"`
	Retained       int64      `json:"retained"`
	RetainedBytes  int64      `json:"retained_bytes"`
	Compliance     int64      `json:"compliance_mode"`
	Governance     int64      `json:"governance_mode"`
	Earliest       *time.Time `json:"earliest_retain_until"`
	Latest         *time.Time `json:"latest_retain_until"`
	LegalHold      int64      `json:"legal_hold"`
	LegalHoldBytes int64      `json:"legal_hold_bytes"`
}

// TestEvidenceVerifyAndRetentionReport drives `coffer admin verify` and
// `coffer admin retention report` through the real binary.
func TestEvidenceVerifyAndRetentionReport(t *testing.T) {
	srv := startServer(t)
	c := srv.s3Client(t)
	bucket := newLockBucket(t, c, "evid")
	now := time.Now().UTC()
	early, late := now.Add(time.Hour).Truncate(time.Second), now.Add(72*time.Hour).Truncate(time.Second)
	v1 := putLocked(t, c, bucket, "trade-1", types.ObjectLockRetentionModeCompliance, late)
	putLocked(t, c, bucket, "trade-2", types.ObjectLockRetentionModeGovernance, early)
	// A larger object (shard set, not inline), with a legal hold.
	big := randomBytes(t, 512<<10)
	putBytes(t, c, bucket, "big", big, func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 })
	if _, err := c.PutObjectLegalHold(ctx(t), &s3.PutObjectLegalHoldInput{
		Bucket: aws.String(bucket), Key: aws.String("big"),
		LegalHold:         &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOn},
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	}); err != nil {
		t.Fatal(err)
	}
	// A multipart object: evidence per part.
	up, err := c.CreateMultipartUpload(ctx(t), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, p := range [][]byte{randomBytes(t, 5<<20), []byte("tail")} {
		out, err := c.UploadPart(ctx(t), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	if _, err := c.CompleteMultipartUpload(ctx(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}

	var rep verifyOut
	if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, &rep, "verify", bucket); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.Checked != 4 || rep.Failed != 0 || rep.Truncated {
		t.Fatalf("verify: %+v", rep)
	}
	for _, r := range rep.Results {
		if !r.OK || !r.Evidence {
			t.Fatalf("verify result %+v", r)
		}
	}
	// One version, by id.
	rep = verifyOut{}
	if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, &rep, "verify", bucket, "trade-1", "--version", v1); err != nil {
		t.Fatalf("verify one version: %v", err)
	}
	if rep.Checked != 1 || rep.Results[0].VersionID != v1 || !rep.Results[0].OK {
		t.Fatalf("verify one version: %+v", rep)
	}
	// Bounded: --limit with the continuation marker.
	seen := 0
	marker := ""
	for calls := 0; ; calls++ {
		if calls > 5 {
			t.Fatal("verify marker does not advance")
		}
		args := []string{"verify", bucket, "--limit", "3"}
		if marker != "" {
			args = append(args, "--marker", marker)
		}
		var page verifyOut
		if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, &page, args...); err != nil {
			t.Fatalf("verify page: %v", err)
		}
		seen += page.Checked
		if !page.Truncated {
			break
		}
		marker = page.NextMarker
	}
	if seen != 4 {
		t.Fatalf("paged verify saw %d versions", seen)
	}

	var ret retentionOut
	if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, &ret, "retention", "report", bucket); err != nil {
		t.Fatalf("retention report: %v", err)
	}
	if ret.Versions != 4 || ret.Retained != 2 || ret.Compliance != 1 || ret.Governance != 1 ||
		ret.LegalHold != 1 || ret.LegalHoldBytes != int64(len(big)) {
		t.Fatalf("retention report: %+v", ret)
	}
	if ret.Earliest == nil || ret.Latest == nil || !ret.Earliest.Equal(early) || !ret.Latest.Equal(late) {
		t.Fatalf("retain-until range %v..%v", ret.Earliest, ret.Latest)
	}

	// A tenant administrator sees its own buckets only: another tenant's
	// bucket reads as a missing one.
	ta := createTenant(t, srv, "evid-a")
	ca := srv.s3ClientWith(t, ta.AccessKey, ta.Secret)
	own := newLockBucket(t, ca, "evid-own")
	putLocked(t, ca, own, "x", types.ObjectLockRetentionModeCompliance, late)
	rep = verifyOut{}
	if err := adminCLI(t, srv, ta.AccessKey, ta.Secret, &rep, "verify", own); err != nil || rep.Checked != 1 || rep.Failed != 0 {
		t.Fatalf("tenant admin verify own bucket: %v %+v", err, rep)
	}
	for _, args := range [][]string{{"verify", bucket}, {"retention", "report", bucket}, {"verify", "no-such-bucket-evid"}} {
		err := adminCLI(t, srv, ta.AccessKey, ta.Secret, nil, args...)
		if err == nil || !strings.Contains(err.Error(), "NotFound") {
			t.Fatalf("tenant admin %v: %v, want NotFound", args, err)
		}
	}
}
