package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// newLockBucket creates a bucket with Object Lock enabled.
func newLockBucket(t *testing.T, c *s3.Client, prefix string) string {
	t.Helper()
	name := bucketName(prefix)
	if _, err := c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatalf("CreateBucket %s with lock: %v", name, err)
	}
	return name
}

// putLocked writes key with explicit retention and returns its version id.
func putLocked(t *testing.T, c *s3.Client, bucket, key string, mode types.ObjectLockRetentionMode, until time.Time) string {
	t.Helper()
	out := putBytes(t, c, bucket, key, []byte("record "+key), func(in *s3.PutObjectInput) {
		in.ObjectLockMode = types.ObjectLockMode(mode)
		in.ObjectLockRetainUntilDate = aws.Time(until)
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 // lock headers need a checksum
	})
	if aws.ToString(out.VersionId) == "" {
		t.Fatalf("PutObject %s: no version id", key)
	}
	return aws.ToString(out.VersionId)
}

// TestObjectLockConfiguration: Put/GetObjectLockConfiguration, the default
// retention applied to new versions, and enabling lock on an existing bucket.
func TestObjectLockConfiguration(t *testing.T) {
	srv := startServer(t)
	c := srv.s3Client(t)

	plain := newBucket(t, c, "olplain")
	_, err := c.GetObjectLockConfiguration(ctx(t), &s3.GetObjectLockConfigurationInput{Bucket: aws.String(plain)})
	requireAPIError(t, err, 404, "ObjectLockConfigurationNotFoundError")
	cfg := &types.ObjectLockConfiguration{
		ObjectLockEnabled: types.ObjectLockEnabledEnabled,
		Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{
			Mode: types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1),
		}},
	}
	// Enabling lock on an unversioned bucket is refused.
	_, err = c.PutObjectLockConfiguration(ctx(t), &s3.PutObjectLockConfigurationInput{Bucket: aws.String(plain), ObjectLockConfiguration: cfg})
	requireAPIError(t, err, 409, "InvalidBucketState")
	if _, err := c.PutBucketVersioning(ctx(t), &s3.PutBucketVersioningInput{Bucket: aws.String(plain),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx(t), &s3.PutObjectLockConfigurationInput{Bucket: aws.String(plain), ObjectLockConfiguration: cfg}); err != nil {
		t.Fatalf("enable lock on a versioned bucket: %v", err)
	}

	b := newLockBucket(t, c, "olcfg")
	got, err := c.GetObjectLockConfiguration(ctx(t), &s3.GetObjectLockConfigurationInput{Bucket: aws.String(b)})
	if err != nil || got.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled || got.ObjectLockConfiguration.Rule != nil {
		t.Fatalf("lock bucket without default: %+v %v", got, err)
	}
	// Days and Years together are refused.
	bad := &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled, Rule: &types.ObjectLockRule{
		DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeCompliance, Days: aws.Int32(1), Years: aws.Int32(1)}}}
	_, err = c.PutObjectLockConfiguration(ctx(t), &s3.PutObjectLockConfigurationInput{Bucket: aws.String(b), ObjectLockConfiguration: bad})
	requireAPIError(t, err, 400, "MalformedXML", "InvalidRetentionPeriod")
	if _, err := c.PutObjectLockConfiguration(ctx(t), &s3.PutObjectLockConfigurationInput{Bucket: aws.String(b), ObjectLockConfiguration: cfg}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetObjectLockConfiguration(ctx(t), &s3.GetObjectLockConfigurationInput{Bucket: aws.String(b)})
	if err != nil || got.ObjectLockConfiguration.Rule == nil || got.ObjectLockConfiguration.Rule.DefaultRetention.Mode != types.ObjectLockRetentionModeGovernance ||
		aws.ToInt32(got.ObjectLockConfiguration.Rule.DefaultRetention.Days) != 1 {
		t.Fatalf("GetObjectLockConfiguration: %+v %v", got, err)
	}

	// The default retention applies to a write without lock headers.
	before := time.Now()
	out := putBytes(t, c, b, "k", []byte("v"))
	head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: out.VersionId})
	if err != nil {
		t.Fatal(err)
	}
	until := aws.ToTime(head.ObjectLockRetainUntilDate)
	if head.ObjectLockMode != types.ObjectLockModeGovernance || until.Before(before.Add(23*time.Hour)) || until.After(time.Now().Add(25*time.Hour)) {
		t.Fatalf("default retention: mode %q until %v", head.ObjectLockMode, until)
	}
	ret, err := c.GetObjectRetention(ctx(t), &s3.GetObjectRetentionInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: out.VersionId})
	if err != nil || ret.Retention.Mode != types.ObjectLockRetentionModeGovernance {
		t.Fatalf("GetObjectRetention: %+v %v", ret, err)
	}
	_, err = c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: out.VersionId})
	requireAPIError(t, err, 403, "AccessDenied")

	// Versioning can never be suspended on a lock bucket.
	_, err = c.PutBucketVersioning(ctx(t), &s3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	requireAPIError(t, err, 409, "InvalidBucketState")
	// DeleteBucket is refused while a version exists.
	_, err = c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: aws.String(b)})
	requireAPIError(t, err, 409, "BucketNotEmpty")
}

// TestObjectLockCompliance: no principal, root included, deletes a
// COMPLIANCE version or shortens its retention; extending is allowed; a
// plain DELETE only adds a delete marker.
func TestObjectLockCompliance(t *testing.T) {
	srv := startServer(t)
	c := srv.s3Client(t)
	b := newLockBucket(t, c, "olcomp")
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	vid := putLocked(t, c, b, "rec", types.ObjectLockRetentionModeCompliance, until)

	head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("rec")})
	if err != nil || head.ObjectLockMode != types.ObjectLockModeCompliance || !aws.ToTime(head.ObjectLockRetainUntilDate).Equal(until) {
		t.Fatalf("HEAD lock headers: %q %v %v", head.ObjectLockMode, head.ObjectLockRetainUntilDate, err)
	}
	_, err = c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("rec"), VersionId: aws.String(vid)})
	requireAPIError(t, err, 403, "AccessDenied")
	_, err = c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("rec"), VersionId: aws.String(vid), BypassGovernanceRetention: aws.Bool(true)})
	requireAPIError(t, err, 403, "AccessDenied")

	shorter := &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(until.Add(-30 * time.Minute))}
	_, err = c.PutObjectRetention(ctx(t), &s3.PutObjectRetentionInput{Bucket: aws.String(b), Key: aws.String("rec"), VersionId: aws.String(vid), Retention: shorter, BypassGovernanceRetention: aws.Bool(true)})
	requireAPIError(t, err, 403, "AccessDenied")
	toGov := &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(until.Add(time.Hour))}
	_, err = c.PutObjectRetention(ctx(t), &s3.PutObjectRetentionInput{Bucket: aws.String(b), Key: aws.String("rec"), VersionId: aws.String(vid), Retention: toGov})
	requireAPIError(t, err, 403, "AccessDenied")

	longer := until.Add(time.Hour)
	if _, err := c.PutObjectRetention(ctx(t), &s3.PutObjectRetentionInput{Bucket: aws.String(b), Key: aws.String("rec"), VersionId: aws.String(vid),
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: aws.Time(longer)}}); err != nil {
		t.Fatalf("extend compliance: %v", err)
	}
	ret, err := c.GetObjectRetention(ctx(t), &s3.GetObjectRetentionInput{Bucket: aws.String(b), Key: aws.String("rec"), VersionId: aws.String(vid)})
	if err != nil || !aws.ToTime(ret.Retention.RetainUntilDate).Equal(longer) {
		t.Fatalf("retention after extend: %+v %v", ret, err)
	}

	// DELETE without a version id writes a delete marker; the record stays.
	del, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("rec")})
	if err != nil || !aws.ToBool(del.DeleteMarker) {
		t.Fatalf("plain delete: %+v %v", del, err)
	}
	body, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("rec"), VersionId: aws.String(vid)})
	if string(body) != "record rec" {
		t.Fatalf("locked version after delete marker: %q", body)
	}

	// DeleteObjects reports a per-key AccessDenied for the locked version
	// and deletes what it may.
	free := putBytes(t, c, b, "free", []byte("x"))
	if aws.ToString(free.VersionId) == "" {
		t.Fatal("no version id")
	}
	res, err := c.DeleteObjects(ctx(t), &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("rec"), VersionId: aws.String(vid)},
		{Key: aws.String("free"), VersionId: free.VersionId},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || aws.ToString(res.Errors[0].Key) != "rec" || aws.ToString(res.Errors[0].Code) != "AccessDenied" {
		t.Fatalf("DeleteObjects errors: %+v", res.Errors)
	}
	if len(res.Deleted) != 1 || aws.ToString(res.Deleted[0].Key) != "free" {
		t.Fatalf("DeleteObjects deleted: %+v", res.Deleted)
	}
}

// TestObjectLockGovernance: GOVERNANCE versions yield only to the bypass
// header combined with s3:BypassGovernanceRetention.
func TestObjectLockGovernance(t *testing.T) {
	srv := startServer(t)
	c := srv.s3Client(t)
	b := newLockBucket(t, c, "olgov")
	until := time.Now().Add(time.Hour)

	vid := putLocked(t, c, b, "g", types.ObjectLockRetentionModeGovernance, until)
	_, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("g"), VersionId: aws.String(vid)})
	requireAPIError(t, err, 403, "AccessDenied")
	shorter := &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(until.Add(-30 * time.Minute))}
	_, err = c.PutObjectRetention(ctx(t), &s3.PutObjectRetentionInput{Bucket: aws.String(b), Key: aws.String("g"), VersionId: aws.String(vid), Retention: shorter})
	requireAPIError(t, err, 403, "AccessDenied")
	if _, err := c.PutObjectRetention(ctx(t), &s3.PutObjectRetentionInput{Bucket: aws.String(b), Key: aws.String("g"), VersionId: aws.String(vid), Retention: shorter, BypassGovernanceRetention: aws.Bool(true)}); err != nil {
		t.Fatalf("shorten governance with bypass: %v", err)
	}
	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("g"), VersionId: aws.String(vid), BypassGovernanceRetention: aws.Bool(true)}); err != nil {
		t.Fatalf("delete governance with bypass (root): %v", err)
	}
	_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("g"), VersionId: aws.String(vid)})
	requireAPIError(t, err, 404)

	// A user without s3:BypassGovernanceRetention cannot bypass, even with
	// the header; granting the permission lets the same request through.
	tk := createTenant(t, srv, "lockco")
	admin := srv.s3ClientWith(t, tk.AccessKey, tk.Secret)
	tb := newLockBucket(t, admin, "olgovt")
	tvid := putLocked(t, admin, tb, "g", types.ObjectLockRetentionModeGovernance, until)
	if err := adminCLI(t, srv, tk.AccessKey, tk.Secret, nil, "user", "create", "clerk"); err != nil {
		t.Fatal(err)
	}
	var k cliKey
	if err := adminCLI(t, srv, tk.AccessKey, tk.Secret, &k, "key", "create", "clerk"); err != nil {
		t.Fatal(err)
	}
	clerk := srv.s3ClientWith(t, k.AccessKey, k.Secret)
	setPolicy := func(actions string) {
		t.Helper()
		pol := filepath.Join(t.TempDir(), "clerk.json")
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + actions + `],"Resource":["arn:aws:s3:::` + tb + `","arn:aws:s3:::` + tb + `/*"]}]}`
		if err := os.WriteFile(pol, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := adminCLI(t, srv, tk.AccessKey, tk.Secret, nil, "policy", "set", "clerk", pol); err != nil {
			t.Fatal(err)
		}
	}
	setPolicy(`"s3:DeleteObject","s3:DeleteObjectVersion","s3:GetObject","s3:GetObjectVersion"`)
	delIn := &s3.DeleteObjectInput{Bucket: aws.String(tb), Key: aws.String("g"), VersionId: aws.String(tvid), BypassGovernanceRetention: aws.Bool(true)}
	_, err = clerk.DeleteObject(ctx(t), delIn)
	requireAPIError(t, err, 403, "AccessDenied")
	// Without s3:GetObjectRetention the retention headers are not shown.
	h, err := clerk.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(tb), Key: aws.String("g"), VersionId: aws.String(tvid)})
	if err != nil {
		t.Fatalf("clerk HEAD: %v", err)
	}
	if h.ObjectLockMode != "" || h.ObjectLockRetainUntilDate != nil {
		t.Fatalf("clerk HEAD shows retention without s3:GetObjectRetention: %q", h.ObjectLockMode)
	}
	setPolicy(`"s3:DeleteObject","s3:DeleteObjectVersion","s3:GetObject","s3:GetObjectVersion","s3:BypassGovernanceRetention"`)
	if _, err := clerk.DeleteObject(ctx(t), delIn); err != nil {
		t.Fatalf("delete with s3:BypassGovernanceRetention: %v", err)
	}
}

// TestObjectLockLegalHold: a legal hold blocks deletion whatever the
// retention; releasing it allows the delete.
func TestObjectLockLegalHold(t *testing.T) {
	srv := startServer(t)
	c := srv.s3Client(t)
	b := newLockBucket(t, c, "olhold")
	out := putBytes(t, c, b, "h", []byte("held"), func(in *s3.PutObjectInput) {
		in.ObjectLockLegalHoldStatus = types.ObjectLockLegalHoldStatusOn
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
	})
	vid := out.VersionId
	lh, err := c.GetObjectLegalHold(ctx(t), &s3.GetObjectLegalHoldInput{Bucket: aws.String(b), Key: aws.String("h"), VersionId: vid})
	if err != nil || lh.LegalHold.Status != types.ObjectLockLegalHoldStatusOn {
		t.Fatalf("GetObjectLegalHold: %+v %v", lh, err)
	}
	_, err = c.GetObjectRetention(ctx(t), &s3.GetObjectRetentionInput{Bucket: aws.String(b), Key: aws.String("h"), VersionId: vid})
	requireAPIError(t, err, 404, "NoSuchObjectLockConfiguration")
	_, err = c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("h"), VersionId: vid, BypassGovernanceRetention: aws.Bool(true)})
	requireAPIError(t, err, 403, "AccessDenied")
	if _, err := c.PutObjectLegalHold(ctx(t), &s3.PutObjectLegalHoldInput{Bucket: aws.String(b), Key: aws.String("h"), VersionId: vid,
		LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOff}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("h"), VersionId: vid}); err != nil {
		t.Fatalf("delete after release: %v", err)
	}

	// A hold set later through the API blocks too; multipart uploads take
	// their lock settings at Complete.
	mp, err := c.CreateMultipartUpload(ctx(t), &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"),
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx(t), &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("p"))})
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.CompleteMultipartUpload(ctx(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("mp"), VersionId: done.VersionId})
	requireAPIError(t, err, 403, "AccessDenied")
}

// TestObjectLockHeaderRules: lock headers need a lock bucket, come in
// mode+date pairs, and need Content-MD5 or an x-amz-checksum-*.
func TestObjectLockHeaderRules(t *testing.T) {
	srv := startServer(t)
	c := srv.s3Client(t)
	lb := newLockBucket(t, c, "olhdr")
	plain := newBucket(t, c, "olhdrp")
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	body := []byte("payload")
	sum := md5.Sum(body)
	md5b64 := base64.StdEncoding.EncodeToString(sum[:])
	lockHdr := func(extra ...string) http.Header {
		h := http.Header{}
		h.Set("x-amz-object-lock-mode", "COMPLIANCE")
		h.Set("x-amz-object-lock-retain-until-date", until)
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}

	resp, rb := srv.do(t, rawRequest{Method: "PUT", Path: "/" + lb + "/k", Header: lockHdr(), Body: body})
	requireRawError(t, resp, rb, 400, "InvalidRequest")
	resp, rb = srv.do(t, rawRequest{Method: "PUT", Path: "/" + plain + "/k", Header: lockHdr("Content-MD5", md5b64), Body: body})
	e := requireRawError(t, resp, rb, 400, "InvalidRequest")
	if e.Message != "Bucket is missing Object Lock Configuration" {
		t.Errorf("non-lock bucket message: %q", e.Message)
	}
	h := lockHdr("Content-MD5", md5b64)
	h.Del("x-amz-object-lock-retain-until-date")
	resp, rb = srv.do(t, rawRequest{Method: "PUT", Path: "/" + lb + "/k", Header: h, Body: body})
	requireRawError(t, resp, rb, 400, "InvalidArgument")
	resp, rb = srv.do(t, rawRequest{Method: "PUT", Path: "/" + lb + "/k", Header: lockHdr("Content-MD5", md5b64, "x-amz-object-lock-retain-until-date", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), Body: body})
	requireRawError(t, resp, rb, 400, "InvalidArgument")

	resp, rb = srv.do(t, rawRequest{Method: "PUT", Path: "/" + lb + "/k", Header: lockHdr("Content-MD5", md5b64), Body: body})
	if resp.StatusCode != 200 {
		t.Fatalf("PUT with lock headers and Content-MD5: %d %s", resp.StatusCode, rb)
	}
	// Through the SDK: lock headers on a plain bucket, and lock headers
	// without a checksum.
	_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(plain), Key: aws.String("k"), Body: bytes.NewReader(body),
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	requireAPIError(t, err, 400, "InvalidRequest")
	_, err = c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(lb), Key: aws.String("k"), Body: bytes.NewReader(body),
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn})
	requireAPIError(t, err, 400, "InvalidRequest") // no checksum over plain HTTP
	_, err = c.PutObjectLegalHold(ctx(t), &s3.PutObjectLegalHoldInput{Bucket: aws.String(plain), Key: aws.String("k"),
		LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOn}})
	requireAPIError(t, err, 400, "InvalidRequest")
}

// TestLockBodiesNeedDigest: PutObjectRetention and PutObjectLegalHold
// bodies must carry Content-MD5 or a checksum, as S3 requires.
func TestLockBodiesNeedDigest(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	c := srv.s3Client(t)
	bucket := "lock-digest"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	body := []byte(`<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>`)
	resp, out := srv.do(t, rawRequest{Method: "PUT", Path: "/" + bucket + "/k", RawQuery: "legal-hold", Body: body})
	requireRawError(t, resp, out, 400, "MissingContentMD5")
	sum := md5.Sum(body)
	resp, out = srv.do(t, rawRequest{Method: "PUT", Path: "/" + bucket + "/k", RawQuery: "legal-hold", Body: body,
		Header: http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(sum[:])}}})
	if resp.StatusCode != 200 {
		t.Fatalf("legal hold with Content-MD5: %d %s", resp.StatusCode, out)
	}
}
