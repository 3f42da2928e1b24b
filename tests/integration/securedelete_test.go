package integration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// deletionRecordOut is a line of `coffer admin deletions export`.
type deletionRecordOut struct {
	Seq          uint64    `json:"seq"`
	Time         time.Time `json:"time"`
	Tenant       string    `json:"tenant"`
	Bucket       string    `json:"bucket"`
	Key          string    `json:"key"`
	VersionID    string    `json:"version_id"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	SHA256Source string    `json:"sha256_source"`
	ETag         string    `json:"etag"`
	Actor        string    `json:"actor"`
	Path         string    `json:"path"`
	Method       string    `json:"method"`
	Prev         string    `json:"prev"`
	Hash         string    `json:"hash"`
}

// exportDeletions runs `coffer admin deletions export` with the given
// credentials and parses its JSON lines.
func exportDeletions(t *testing.T, srv *server, access, secret string, args ...string) []deletionRecordOut {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"admin", "deletions", "export"}, args...)...)
	cmd.Env = append(os.Environ(), "COFFER_ENDPOINT="+srv.Endpoint, "COFFER_ACCESS_KEY="+access, "COFFER_SECRET_KEY="+secret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("deletions export %v: %v: %s", args, err, stderr.String())
	}
	var out []deletionRecordOut
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var r deletionRecordOut
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// metricValue reads one unlabelled metric from /metrics.
func metricValue(t *testing.T, srv *server, name string) float64 {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(srv.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("metric %s missing", name)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestSecureDeleteRecords deletes versions through aws-sdk-go-v2 against
// the real binary and reads the deletion records back through `coffer
// admin deletions export`: every field, tenant scoping, the chain check,
// the per-bucket overwrite opt-in and the secure-delete metrics.
func TestSecureDeleteRecords(t *testing.T) {
	srv := startServerWith(t, newDrives(t, 4), serverOptions{Args: []string{"--shred-interval", "200ms"}})
	ta := createTenant(t, srv, "shred-a")
	tb := createTenant(t, srv, "shred-b")
	c := srv.s3ClientWith(t, ta.AccessKey, ta.Secret)
	bucket := newBucket(t, c, "shred")
	if _, err := c.PutBucketVersioning(ctx(t), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)

	data := randomBytes(t, 4000)
	sum := sha256.Sum256(data)
	put := putBytes(t, c, bucket, "ledger.csv", data, func(in *s3.PutObjectInput) {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
	})
	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("ledger.csv"), VersionId: put.VersionId}); err != nil {
		t.Fatal(err)
	}
	// Per-bucket overwrite opt-in, set by the tenant's administrator.
	var setting struct {
		Overwrite bool `json:"overwrite"`
	}
	if err := adminCLI(t, srv, ta.AccessKey, ta.Secret, &setting, "bucket", "secure-delete", bucket, "on"); err != nil || !setting.Overwrite {
		t.Fatalf("bucket secure-delete on: %v %+v", err, setting)
	}
	if err := adminCLI(t, srv, tb.AccessKey, tb.Secret, nil, "bucket", "secure-delete", bucket, "off"); err == nil {
		t.Fatal("another tenant's administrator changed the bucket")
	}
	big := randomBytes(t, 600<<10) // stored in shard files, not inline
	put2 := putBytes(t, c, bucket, "big.bin", big)
	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.bin"), VersionId: put2.VersionId}); err != nil {
		t.Fatal(err)
	}

	recs := exportDeletions(t, srv, srv.AccessKey, srv.SecretKey, "--since", start, "--bucket", bucket)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2: %+v", len(recs), recs)
	}
	r := recs[0]
	if r.Tenant != "shred-a" || r.Bucket != bucket || r.Key != "ledger.csv" || r.VersionID != aws.ToString(put.VersionId) ||
		r.Size != int64(len(data)) || r.SHA256 != hex.EncodeToString(sum[:]) || r.SHA256Source != "checksum" ||
		r.ETag != md5Hex(data) || !strings.Contains(r.Actor, "shred-a") || r.Path != "DeleteObject.version" ||
		r.Method != "crypto-shred" || r.Hash == "" || r.Prev == "" || time.Since(r.Time) > time.Minute {
		t.Errorf("record: %+v", r)
	}
	if r2 := recs[1]; r2.Key != "big.bin" || r2.Method != "crypto-shred+overwrite" || r2.Prev != r.Hash || r2.Seq != r.Seq+1 {
		t.Errorf("second record: %+v", r2)
	}
	// Tenant scoping: the owner's administrator sees them, another
	// tenant's sees none, even when naming the tenant.
	if got := exportDeletions(t, srv, ta.AccessKey, ta.Secret, "--since", start); len(got) != 2 {
		t.Errorf("tenant admin sees %d records, want 2", len(got))
	}
	if got := exportDeletions(t, srv, tb.AccessKey, tb.Secret, "--since", start); len(got) != 0 {
		t.Errorf("other tenant sees %d records", len(got))
	}
	if got := exportDeletions(t, srv, srv.AccessKey, srv.SecretKey, "--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(got) != 0 {
		t.Errorf("--since in the future: %d records", len(got))
	}
	var st struct {
		OK      bool `json:"ok"`
		Records int  `json:"records"`
	}
	if err := adminCLI(t, srv, srv.AccessKey, srv.SecretKey, &st, "deletions", "verify"); err != nil || !st.OK || st.Records < 2 {
		t.Fatalf("deletions verify: %v %+v", err, st)
	}
	if err := adminCLI(t, srv, ta.AccessKey, ta.Secret, nil, "deletions", "verify"); err == nil {
		t.Error("a tenant administrator verified the global chain")
	}
	// The deleted versions are gone for S3 clients.
	_, err := c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.bin"), VersionId: put2.VersionId})
	if err == nil {
		t.Fatal("deleted version still readable")
	}
	// Metrics: within the shred window both are purged and the shards of
	// the opted-in bucket were overwritten.
	deadline := time.Now().Add(15 * time.Second)
	for metricValue(t, srv, "coffer_secure_delete_versions_total") < 2 || metricValue(t, srv, "coffer_secure_delete_pending") != 0 ||
		metricValue(t, srv, "coffer_secure_delete_overwritten_bytes_total") < float64(len(big)) {
		if time.Now().After(deadline) {
			t.Fatalf("secure-delete metrics: versions %v pending %v overwritten %v",
				metricValue(t, srv, "coffer_secure_delete_versions_total"), metricValue(t, srv, "coffer_secure_delete_pending"),
				metricValue(t, srv, "coffer_secure_delete_overwritten_bytes_total"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v := metricValue(t, srv, "coffer_secure_delete_bytes_total"); v < float64(len(data)+len(big)) {
		t.Errorf("coffer_secure_delete_bytes_total = %v", v)
	}
	// A client's AbortMultipartUpload records the client as the actor.
	up, err := c.CreateMultipartUpload(ctx(t), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp.bin")})
	if err != nil {
		t.Fatal(err)
	}
	part := randomBytes(t, 1000)
	if _, err := c.UploadPart(ctx(t), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp.bin"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(part)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx(t), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp.bin"), UploadId: up.UploadId}); err != nil {
		t.Fatal(err)
	}
	recs = exportDeletions(t, srv, srv.AccessKey, srv.SecretKey, "--since", start, "--bucket", bucket)
	if len(recs) != 3 {
		t.Fatalf("%d records after the abort, want 3: %+v", len(recs), recs)
	}
	if r := recs[2]; r.Key != "mp.bin" || r.Path != "AbortMultipartUpload" || !strings.Contains(r.Actor, "shred-a") || r.Size != int64(len(part)) {
		t.Errorf("abort record: %+v", r)
	}
	// A DeleteObjects request is named as such in its records.
	put3 := putBytes(t, c, bucket, "batch.bin", data)
	if _, err := c.DeleteObjects(ctx(t), &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("batch.bin"), VersionId: put3.VersionId}}}}); err != nil {
		t.Fatal(err)
	}
	recs = exportDeletions(t, srv, srv.AccessKey, srv.SecretKey, "--since", start, "--bucket", bucket)
	if len(recs) != 4 {
		t.Fatalf("%d records after DeleteObjects, want 4", len(recs))
	}
	if r := recs[3]; r.Key != "batch.bin" || r.Path != "DeleteObjects.version" || !strings.Contains(r.Actor, "shred-a") {
		t.Errorf("DeleteObjects record: %+v", r)
	}
}
