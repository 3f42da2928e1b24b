package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestScrubRepairsRot starts the real binary with a 1-second scrub
// interval, uploads an object with aws-sdk-go-v2, flips a byte of the
// shard file on the last drive (a parity piece of every block, which a GET
// of a healthy object never reads), and waits for the scrubber to find it
// and put the original bytes back; the metrics count the damage and the
// repair, and the object still reads back unchanged.
func TestScrubRepairsRot(t *testing.T) {
	srv := startServerWith(t, newDrives(t, 4), serverOptions{Args: []string{"--scrub-interval", "1s", "--parity", "2"}})
	c := srv.s3Client(t)
	bucket := newBucket(t, c, "scrub")
	data := randomBytes(t, 3<<20)
	putBytes(t, c, bucket, "rot", data)

	files, err := filepath.Glob(filepath.Join(srv.Drives[3], "objects", "*", "*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("want one shard file on the last drive, found %v (%v)", files, err)
	}
	orig, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	rotten := bytes.Clone(orig)
	rotten[len(rotten)/3] ^= 0x01
	if err := os.WriteFile(files[0], rotten, 0o644); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for metricValue(t, srv, "coffer_scrub_damaged_total") < 1 || metricValue(t, srv, "coffer_heal_shards_total") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the scrubber did not find and repair the rotten shard within 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got, err := os.ReadFile(files[0]); err != nil || !bytes.Equal(got, orig) {
		t.Fatalf("shard file not restored to its original bytes (err %v)", err)
	}
	if v := metricValue(t, srv, "coffer_scrub_passes_total"); v < 1 {
		t.Errorf("coffer_scrub_passes_total %v", v)
	}
	if v := metricValue(t, srv, "coffer_heal_failed_total"); v != 0 {
		t.Errorf("coffer_heal_failed_total %v", v)
	}
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("rot")})
	if !bytes.Equal(got, data) {
		t.Fatal("object changed")
	}
}
