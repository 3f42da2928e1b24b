package integration

import (
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cofferstore/coffer/admin"
)

// TestLifecycle drives the real binary with a one-second lifecycle day:
// the SDK sets a configuration, PUT and HEAD carry x-amz-expiration, the
// admin preview lists what the run then does, the object is gone, the
// status and /metrics count it once.
func TestLifecycle(t *testing.T) {
	s := startServerWith(t, newDrives(t, 4), serverOptions{Args: []string{
		"--lifecycle-day-seconds", "1", "--lifecycle-interval", "0", "--lifecycle-rate", "50"}})
	c := s.s3Client(t)
	bucket := newBucket(t, c, "lifecycle")

	_, err := c.GetBucketLifecycleConfiguration(ctx(t), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	requireAPIError(t, err, http.StatusNotFound, "NoSuchLifecycleConfiguration")
	_, err = c.PutBucketLifecycleConfiguration(ctx(t), &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("tmp"), Status: types.ExpirationStatusEnabled,
			Filter:     &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(0)},
		}}},
	})
	requireAPIError(t, err, http.StatusBadRequest, "InvalidArgument")
	_, err = c.PutBucketLifecycleConfiguration(ctx(t), &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("tmp"), Status: types.ExpirationStatusEnabled,
			Filter:     &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)},
		}}},
	})
	if err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
	got, err := c.GetBucketLifecycleConfiguration(ctx(t), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil || len(got.Rules) != 1 || aws.ToString(got.Rules[0].ID) != "tmp" || aws.ToInt32(got.Rules[0].Expiration.Days) != 1 {
		t.Fatalf("GetBucketLifecycleConfiguration: %+v %v", got, err)
	}

	put, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("tmp/a"), Body: strings.NewReader("expire me")})
	if err != nil {
		t.Fatal(err)
	}
	exp := aws.ToString(put.Expiration)
	if !strings.HasSuffix(exp, `GMT", rule-id="tmp"`) {
		t.Fatalf("PUT x-amz-expiration %q", exp)
	}
	head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("tmp/a")})
	if err != nil || aws.ToString(head.Expiration) != exp {
		t.Fatalf("HEAD x-amz-expiration %q (%v), want %q", aws.ToString(head.Expiration), err, exp)
	}
	putBytes(t, c, bucket, "keep/b", []byte("stay"))

	due, err := time.Parse(time.RFC1123, strings.TrimSuffix(strings.TrimPrefix(exp, `expiry-date="`), `", rule-id="tmp"`))
	if err != nil {
		t.Fatal(err)
	}
	if wait := time.Until(due); wait > 3*time.Second {
		t.Fatalf("due %v is more than a few 1-second days away", due)
	} else {
		time.Sleep(wait + 200*time.Millisecond)
	}

	var preview, run admin.LifecycleReport
	if err := adminCLI(t, s, s.AccessKey, s.SecretKey, &preview, "lifecycle", "preview", bucket); err != nil {
		t.Fatal(err)
	}
	if len(preview.Items) != 1 || preview.Items[0].Key != "tmp/a" || preview.Items[0].Action != "Expiration" || !preview.DryRun {
		t.Fatalf("preview %+v", preview)
	}
	if _, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("tmp/a")}); err != nil {
		t.Fatalf("preview removed the object: %v", err)
	}
	if err := adminCLI(t, s, s.AccessKey, s.SecretKey, &run, "lifecycle", "run", bucket, "--wait"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(preview.Items, run.Items) {
		t.Fatalf("preview %+v != run %+v", preview.Items, run.Items)
	}
	_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("tmp/a")})
	requireAPIError(t, err, http.StatusNotFound, "NotFound")
	if _, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("keep/b")}); err != nil {
		t.Fatalf("keep/b: %v", err)
	}

	var st admin.LifecycleStatus
	if err := adminCLI(t, s, s.AccessKey, s.SecretKey, &st, "lifecycle", "status"); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range st.Rules {
		if r.Bucket == bucket && r.Rule == "tmp" && r.Kind == "current" {
			found = true
			if r.Expired != 1 || r.Bytes != 9 || r.Overdue != 0 || r.LastRun.IsZero() {
				t.Fatalf("status %+v", r)
			}
		}
	}
	if !found {
		t.Fatalf("no status for the rule: %+v", st)
	}

	// A tenant administrator sees neither root's bucket nor its rules.
	ta := createTenant(t, s, "lcten")
	var none admin.LifecycleReport
	if err := adminCLI(t, s, ta.AccessKey, ta.Secret, &none, "lifecycle", "preview", bucket); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("tenant admin preview of root's bucket: %v", err)
	}
	if err := adminCLI(t, s, ta.AccessKey, ta.Secret, &none, "lifecycle", "run", bucket, "--wait"); err == nil || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("tenant admin run of root's bucket: %v", err)
	}
	var tst admin.LifecycleStatus
	if err := adminCLI(t, s, ta.AccessKey, ta.Secret, &tst, "lifecycle", "status"); err != nil || len(tst.Rules) != 0 {
		t.Fatalf("tenant admin status: %+v %v", tst, err)
	}

	resp, err := http.Get(s.Endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"coffer_lifecycle_expired_objects_total 1\n", "coffer_lifecycle_overdue_items 0\n", `coffer_lifecycle_skipped_total{reason="retention"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("/metrics lacks %q", want)
		}
	}

	_, err = c.DeleteBucketLifecycle(ctx(t), &s3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketLifecycleConfiguration(ctx(t), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	requireAPIError(t, err, http.StatusNotFound, "NoSuchLifecycleConfiguration")
}

// TestLifecycleBackground: with a short interval the server expires due
// objects by itself.
func TestLifecycleBackground(t *testing.T) {
	s := startServerWith(t, newDrives(t, 4), serverOptions{Args: []string{
		"--lifecycle-day-seconds", "1", "--lifecycle-interval", "300ms"}})
	c := s.s3Client(t)
	bucket := newBucket(t, c, "lcbg")
	_, err := c.PutBucketLifecycleConfiguration(ctx(t), &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{
			ID: aws.String("all"), Status: types.ExpirationStatusEnabled,
			Filter:     &types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	putBytes(t, c, bucket, "x", []byte("x"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("x")})
		if err != nil {
			requireAPIError(t, err, http.StatusNotFound, "NotFound")
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("object not expired by the background scheduler within 5s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
