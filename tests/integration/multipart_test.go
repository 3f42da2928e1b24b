package integration

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// multipartETag is the ETag S3 gives a completed multipart upload.
func multipartETag(parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		s := md5.Sum(p)
		cat = append(cat, s[:]...)
	}
	s := md5.Sum(cat)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(s[:]), len(parts))
}

func createUpload(t *testing.T, c *s3.Client, bucket, key string, mod ...func(*s3.CreateMultipartUploadInput)) string {
	t.Helper()
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	for _, m := range mod {
		m(in)
	}
	out, err := c.CreateMultipartUpload(ctx(t), in)
	if err != nil {
		t.Fatalf("CreateMultipartUpload %s: %v", key, err)
	}
	if aws.ToString(out.UploadId) == "" || aws.ToString(out.Key) != key || aws.ToString(out.Bucket) != bucket {
		t.Fatalf("CreateMultipartUpload returned UploadId=%q Bucket=%q Key=%q", aws.ToString(out.UploadId), aws.ToString(out.Bucket), aws.ToString(out.Key))
	}
	return aws.ToString(out.UploadId)
}

func uploadPart(t *testing.T, c *s3.Client, bucket, key, id string, n int32, data []byte) types.CompletedPart {
	t.Helper()
	out, err := c.UploadPart(ctx(t), &s3.UploadPartInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		PartNumber: aws.Int32(n), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		t.Fatalf("UploadPart %d (%d bytes): %v", n, len(data), err)
	}
	if aws.ToString(out.ETag) != quotedMD5(data) {
		t.Errorf("UploadPart %d ETag = %s, want %s", n, aws.ToString(out.ETag), quotedMD5(data))
	}
	return types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag}
}

func complete(t *testing.T, c *s3.Client, bucket, key, id string, parts ...types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
	return c.CompleteMultipartUpload(ctx(t), &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
}

func TestMultipart(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "mpu")

	t.Run("Complete", func(t *testing.T) {
		key := "big/multi part"
		id := createUpload(t, c, bucket, key, func(in *s3.CreateMultipartUploadInput) {
			in.ContentType = aws.String("application/x-mpu")
			in.Metadata = map[string]string{"kind": "multipart"}
		})
		p1, p2, p3 := randomBytes(t, 5*mib), randomBytes(t, 5*mib), randomBytes(t, mib)
		// Part 1 uploaded twice: the last upload wins.
		uploadPart(t, c, bucket, key, id, 1, randomBytes(t, 5*mib))
		parts := []types.CompletedPart{
			uploadPart(t, c, bucket, key, id, 1, p1),
			uploadPart(t, c, bucket, key, id, 2, p2),
			uploadPart(t, c, bucket, key, id, 3, p3),
		}

		lp, err := c.ListParts(ctx(t), &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id)})
		if err != nil {
			t.Fatalf("ListParts: %v", err)
		}
		if len(lp.Parts) != 3 {
			t.Fatalf("ListParts: %d parts, want 3", len(lp.Parts))
		}
		for i, want := range [][]byte{p1, p2, p3} {
			p := lp.Parts[i]
			if aws.ToInt32(p.PartNumber) != int32(i+1) || aws.ToInt64(p.Size) != int64(len(want)) || aws.ToString(p.ETag) != quotedMD5(want) || p.LastModified == nil {
				t.Errorf("ListParts[%d] = number %d size %d etag %s", i, aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size), aws.ToString(p.ETag))
			}
		}
		page, err := c.ListParts(ctx(t), &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id), MaxParts: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Parts) != 2 || !aws.ToBool(page.IsTruncated) || aws.ToString(page.NextPartNumberMarker) != "2" {
			t.Errorf("ListParts max-parts=2: %d parts, truncated %v, next marker %q", len(page.Parts), aws.ToBool(page.IsTruncated), aws.ToString(page.NextPartNumberMarker))
		}
		page, err = c.ListParts(ctx(t), &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id), PartNumberMarker: aws.String("2")})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Parts) != 1 || aws.ToInt32(page.Parts[0].PartNumber) != 3 || aws.ToBool(page.IsTruncated) {
			t.Errorf("ListParts part-number-marker=2: %d parts", len(page.Parts))
		}

		lu, err := c.ListMultipartUploads(ctx(t), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String("big/")})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		found := false
		for _, u := range lu.Uploads {
			if aws.ToString(u.UploadId) == id && aws.ToString(u.Key) == key && u.Initiated != nil {
				found = true
			}
		}
		if !found {
			t.Errorf("ListMultipartUploads does not list upload %s (%d uploads)", id, len(lu.Uploads))
		}

		out, err := complete(t, c, bucket, key, id, parts...)
		if err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		etag := aws.ToString(out.ETag)
		if !strings.HasSuffix(etag, `-3"`) || etag != multipartETag(p1, p2, p3) {
			t.Errorf("multipart ETag = %s, want %s", etag, multipartETag(p1, p2, p3))
		}
		if aws.ToString(out.Key) != key || aws.ToString(out.Bucket) != bucket || aws.ToString(out.Location) == "" {
			t.Errorf("CompleteMultipartUpload result: Bucket %q Key %q Location %q", aws.ToString(out.Bucket), aws.ToString(out.Key), aws.ToString(out.Location))
		}
		whole := append(append(append([]byte{}, p1...), p2...), p3...)
		got, gout := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		requireSameBytes(t, "completed object", got, whole)
		if aws.ToString(gout.ETag) != etag || aws.ToString(gout.ContentType) != "application/x-mpu" || gout.Metadata["kind"] != "multipart" {
			t.Errorf("GetObject: ETag %s Content-Type %q metadata %v", aws.ToString(gout.ETag), aws.ToString(gout.ContentType), gout.Metadata)
		}

		got, pout := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), PartNumber: aws.Int32(2)})
		requireSameBytes(t, "GetObject partNumber=2", got, p2)
		if aws.ToInt32(pout.PartsCount) != 3 {
			t.Errorf("partNumber=2: x-amz-mp-parts-count = %d, want 3", aws.ToInt32(pout.PartsCount))
		}
		if cr, want := aws.ToString(pout.ContentRange), fmt.Sprintf("bytes %d-%d/%d", 5*mib, 10*mib-1, len(whole)); cr != want {
			t.Errorf("partNumber=2: Content-Range %q, want %q", cr, want)
		}
		if st := rawStatus(pout.ResultMetadata); st != http.StatusPartialContent {
			t.Errorf("partNumber=2: status %d, want 206", st)
		}
		h, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), PartNumber: aws.Int32(3)})
		if err != nil {
			t.Fatalf("HeadObject partNumber=3: %v", err)
		}
		if aws.ToInt64(h.ContentLength) != int64(len(p3)) {
			t.Errorf("HeadObject partNumber=3: Content-Length %d, want %d", aws.ToInt64(h.ContentLength), len(p3))
		}
		_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), PartNumber: aws.Int32(4)})
		requireAPIError(t, err, http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber")

		attrs, err := c.GetObjectAttributes(ctx(t), &s3.GetObjectAttributesInput{
			Bucket: aws.String(bucket), Key: aws.String(key),
			ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts, types.ObjectAttributesEtag, types.ObjectAttributesObjectSize},
		})
		if err != nil {
			t.Fatalf("GetObjectAttributes: %v", err)
		}
		if attrs.ObjectParts == nil || aws.ToInt32(attrs.ObjectParts.TotalPartsCount) != 3 {
			t.Errorf("GetObjectAttributes ObjectParts = %+v, want TotalPartsCount 3", attrs.ObjectParts)
		}
		if aws.ToInt64(attrs.ObjectSize) != int64(len(whole)) || strings.Trim(aws.ToString(attrs.ETag), `"`) != strings.Trim(etag, `"`) {
			t.Errorf("GetObjectAttributes size %d etag %q", aws.ToInt64(attrs.ObjectSize), aws.ToString(attrs.ETag))
		}

		lu, err = c.ListMultipartUploads(ctx(t), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range lu.Uploads {
			if aws.ToString(u.UploadId) == id {
				t.Errorf("completed upload still listed")
			}
		}
		_, err = c.ListParts(ctx(t), &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id)})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
	})

	t.Run("EntityTooSmall", func(t *testing.T) {
		id := createUpload(t, c, bucket, "small")
		a := uploadPart(t, c, bucket, "small", id, 1, randomBytes(t, mib))
		b := uploadPart(t, c, bucket, "small", id, 2, randomBytes(t, mib))
		_, err := complete(t, c, bucket, "small", id, a, b)
		requireAPIError(t, err, http.StatusBadRequest, "EntityTooSmall")
		// A single small part is fine: only non-last parts have a minimum.
		if _, err := complete(t, c, bucket, "small", id, a); err != nil {
			t.Errorf("complete with one 1 MiB part: %v", err)
		}
	})

	t.Run("InvalidPart", func(t *testing.T) {
		id := createUpload(t, c, bucket, "invalid-part")
		a := uploadPart(t, c, bucket, "invalid-part", id, 1, randomBytes(t, 5*mib))
		b := uploadPart(t, c, bucket, "invalid-part", id, 2, randomBytes(t, 100))
		_, err := complete(t, c, bucket, "invalid-part", id, a, types.CompletedPart{PartNumber: aws.Int32(2), ETag: aws.String(`"0123456789abcdef0123456789abcdef"`)})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidPart")
		_, err = complete(t, c, bucket, "invalid-part", id, a, types.CompletedPart{PartNumber: aws.Int32(7), ETag: b.ETag})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidPart")
		_, err = complete(t, c, bucket, "invalid-part", id, b, a)
		requireAPIError(t, err, http.StatusBadRequest, "InvalidPartOrder")
		// The upload survives the failed attempts.
		if _, err := complete(t, c, bucket, "invalid-part", id, a, b); err != nil {
			t.Errorf("valid complete after failed ones: %v", err)
		}
		_, err = c.UploadPart(ctx(t), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("invalid-part"), UploadId: aws.String(id), PartNumber: aws.Int32(10001), Body: strings.NewReader("x")})
		if err == nil || httpStatus(err) != http.StatusBadRequest && httpStatus(err) != http.StatusNotFound {
			t.Errorf("UploadPart 10001: want 400 InvalidArgument, got %v", err)
		}
	})

	t.Run("Abort", func(t *testing.T) {
		id := createUpload(t, c, bucket, "aborted")
		uploadPart(t, c, bucket, "aborted", id, 1, randomBytes(t, 1000))
		out, err := c.AbortMultipartUpload(ctx(t), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: aws.String(id)})
		if err != nil {
			t.Fatalf("AbortMultipartUpload: %v", err)
		}
		if st := rawStatus(out.ResultMetadata); st != http.StatusNoContent {
			t.Errorf("AbortMultipartUpload status %d, want 204", st)
		}
		_, err = c.UploadPart(ctx(t), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: aws.String(id), PartNumber: aws.Int32(2), Body: strings.NewReader("x")})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
		_, err = c.ListParts(ctx(t), &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: aws.String(id)})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
		_, err = complete(t, c, bucket, "aborted", id, types.CompletedPart{PartNumber: aws.Int32(1), ETag: aws.String(`"x"`)})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
		_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("aborted")})
		requireAPIError(t, err, http.StatusNotFound)
		_, err = c.UploadPart(ctx(t), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: aws.String("no-such-upload-id"), PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchUpload")
	})

	t.Run("UploadPartCopy", func(t *testing.T) {
		src := randomBytes(t, 11*mib) // parts of 5 MiB and 6 MiB, then a short last part
		putBytes(t, c, bucket, "copy-src", src)
		id := createUpload(t, c, bucket, "copy-dst")
		var parts []types.CompletedPart
		for i, r := range [][2]int{{0, 5*mib - 1}, {5 * mib, len(src) - 1}} {
			out, err := c.UploadPartCopy(ctx(t), &s3.UploadPartCopyInput{
				Bucket: aws.String(bucket), Key: aws.String("copy-dst"), UploadId: aws.String(id), PartNumber: aws.Int32(int32(i + 1)),
				CopySource:      aws.String(bucket + "/copy-src"),
				CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", r[0], r[1])),
			})
			if err != nil {
				t.Fatalf("UploadPartCopy %v: %v", r, err)
			}
			if out.CopyPartResult == nil || aws.ToString(out.CopyPartResult.ETag) != quotedMD5(src[r[0]:r[1]+1]) {
				t.Errorf("UploadPartCopy %v ETag = %+v, want %s", r, out.CopyPartResult, quotedMD5(src[r[0]:r[1]+1]))
			}
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
		}
		tail := randomBytes(t, 100)
		parts = append(parts, uploadPart(t, c, bucket, "copy-dst", id, 3, tail))
		if _, err := complete(t, c, bucket, "copy-dst", id, parts...); err != nil {
			t.Fatalf("complete: %v", err)
		}
		got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy-dst")})
		requireSameBytes(t, "UploadPartCopy result", got, append(append([]byte{}, src...), tail...))

		id2 := createUpload(t, c, bucket, "copy-bad")
		_, err := c.UploadPartCopy(ctx(t), &s3.UploadPartCopyInput{
			Bucket: aws.String(bucket), Key: aws.String("copy-bad"), UploadId: aws.String(id2), PartNumber: aws.Int32(1),
			CopySource: aws.String(bucket + "/copy-src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", len(src)+100)),
		})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidArgument", "InvalidRange")
		c.AbortMultipartUpload(ctx(t), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("copy-bad"), UploadId: aws.String(id2)})
	})
}
