package integration

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// TestMinioGo round-trips objects with minio-go, which signs bodies with
// streaming (aws-chunked) signatures over plain HTTP.
func TestMinioGo(t *testing.T) {
	s := startServer(t)
	mc := s.minioClient(t)
	c := ctx(t)
	bucket := bucketName("minio")
	if err := mc.MakeBucket(c, bucket, minio.MakeBucketOptions{Region: region}); err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}
	exists, err := mc.BucketExists(c, bucket)
	if err != nil || !exists {
		t.Fatalf("BucketExists = %v, %v", exists, err)
	}

	small := randomBytes(t, 33*kib)
	info, err := mc.PutObject(c, bucket, "dir/small", bytes.NewReader(small), int64(len(small)), minio.PutObjectOptions{
		ContentType:  "application/x-minio",
		UserMetadata: map[string]string{"Origin": "minio-go"},
	})
	if err != nil {
		t.Fatalf("PutObject small: %v", err)
	}
	if info.ETag != md5Hex(small) {
		t.Errorf("PutObject ETag %q, want %s", info.ETag, md5Hex(small))
	}
	st, err := mc.StatObject(c, bucket, "dir/small", minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("StatObject: %v", err)
	}
	if st.Size != int64(len(small)) || st.ContentType != "application/x-minio" || st.UserMetadata["Origin"] != "minio-go" {
		t.Errorf("StatObject: size %d type %q metadata %v", st.Size, st.ContentType, st.UserMetadata)
	}
	obj, err := mc.GetObject(c, bucket, "dir/small", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	obj.Close()
	if err != nil {
		t.Fatalf("GetObject small: %v", err)
	}
	requireSameBytes(t, "minio small object", got, small)

	// > 16 MiB with 5 MiB parts: a 4-part multipart upload.
	big := randomBytes(t, 17*mib+3)
	info, err = mc.PutObject(c, bucket, "dir/big", bytes.NewReader(big), int64(len(big)), minio.PutObjectOptions{PartSize: 5 * mib})
	if err != nil {
		t.Fatalf("PutObject big: %v", err)
	}
	if !strings.HasSuffix(info.ETag, "-4") {
		t.Errorf("multipart ETag %q, want suffix -4", info.ETag)
	}
	obj, err = mc.GetObject(c, bucket, "dir/big", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(obj)
	obj.Close()
	if err != nil {
		t.Fatalf("GetObject big: %v", err)
	}
	requireSameBytes(t, "minio multipart object", got, big)

	// Ranged read through minio-go.
	ro := minio.GetObjectOptions{}
	if err := ro.SetRange(6*mib, 6*mib+999); err != nil {
		t.Fatal(err)
	}
	obj, err = mc.GetObject(c, bucket, "dir/big", ro)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(obj)
	obj.Close()
	if err != nil {
		t.Fatal(err)
	}
	requireSameBytes(t, "minio range", got, big[6*mib:6*mib+1000])

	var keys []string
	for o := range mc.ListObjects(c, bucket, minio.ListObjectsOptions{Prefix: "dir/", Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("ListObjects: %v", o.Err)
		}
		keys = append(keys, o.Key)
	}
	if strings.Join(keys, ",") != "dir/big,dir/small" {
		t.Errorf("ListObjects = %v, want [dir/big dir/small]", keys)
	}
	for _, k := range keys {
		if err := mc.RemoveObject(c, bucket, k, minio.RemoveObjectOptions{}); err != nil {
			t.Fatalf("RemoveObject %s: %v", k, err)
		}
	}
	if _, err := mc.StatObject(c, bucket, "dir/small", minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" && minio.ToErrorResponse(err).StatusCode != 404 {
		t.Errorf("StatObject after RemoveObject: %v", err)
	}
	if err := mc.RemoveBucket(c, bucket); err != nil {
		t.Fatalf("RemoveBucket: %v", err)
	}
}
