package integration

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

func TestObjectSizes(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "sizes")
	for _, size := range []int{0, 1, 4 * kib, 128*kib + 1, 5 * mib, 20 * mib} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("obj/size-%d", size)
			data := randomBytes(t, size)
			put := putBytes(t, c, bucket, key, data)
			if got := aws.ToString(put.ETag); got != quotedMD5(data) {
				t.Errorf("PutObject ETag = %s, want %s", got, quotedMD5(data))
			}
			head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if aws.ToInt64(head.ContentLength) != int64(size) {
				t.Errorf("HeadObject Content-Length = %d, want %d", aws.ToInt64(head.ContentLength), size)
			}
			if aws.ToString(head.ETag) != quotedMD5(data) {
				t.Errorf("HeadObject ETag = %s, want %s", aws.ToString(head.ETag), quotedMD5(data))
			}
			if head.LastModified == nil || time.Since(*head.LastModified) > time.Hour || time.Until(*head.LastModified) > time.Minute {
				t.Errorf("HeadObject Last-Modified = %v, want about now", head.LastModified)
			}
			got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			requireSameBytes(t, "GetObject", got, data)
			if aws.ToString(out.ETag) != quotedMD5(data) {
				t.Errorf("GetObject ETag = %s, want %s", aws.ToString(out.ETag), quotedMD5(data))
			}
			if aws.ToInt64(out.ContentLength) != int64(size) {
				t.Errorf("GetObject Content-Length = %d, want %d", aws.ToInt64(out.ContentLength), size)
			}
			if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				t.Fatalf("DeleteObject: %v", err)
			}
			_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			requireAPIError(t, err, http.StatusNotFound)
			_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			requireAPIError(t, err, http.StatusNotFound, "NoSuchKey")
		})
	}
	t.Run("DeleteMissingKey", func(t *testing.T) {
		out, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("never-existed")})
		if err != nil {
			t.Fatalf("DeleteObject of a missing key must succeed (204): %v", err)
		}
		if st := rawStatus(out.ResultMetadata); st != http.StatusNoContent {
			t.Errorf("DeleteObject status = %d, want 204", st)
		}
	})
	t.Run("Overwrite", func(t *testing.T) {
		putBytes(t, c, bucket, "over", []byte("first version"))
		second := randomBytes(t, 200*kib)
		putBytes(t, c, bucket, "over", second)
		got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("over")})
		requireSameBytes(t, "overwritten object", got, second)
	})
}

func TestObjectRead(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "read")
	size := mib + 12345
	data := randomBytes(t, size)
	put := putBytes(t, c, bucket, "blob", data)
	etag := aws.ToString(put.ETag)
	head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("blob")})
	if err != nil {
		t.Fatal(err)
	}
	lm := aws.ToTime(head.LastModified)
	get := func(mod func(*s3.GetObjectInput)) *s3.GetObjectInput {
		in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("blob")}
		if mod != nil {
			mod(in)
		}
		return in
	}

	t.Run("Ranges", func(t *testing.T) {
		n := size
		for _, tc := range []struct {
			rng        string
			start, end int // inclusive
		}{
			{"bytes=0-99", 0, 99},
			{"bytes=500000-600000", 500000, 600000},
			{"bytes=-100", n - 100, n - 1},
			{fmt.Sprintf("bytes=%d-", n-4321), n - 4321, n - 1},
			{"bytes=0-", 0, n - 1},
			{fmt.Sprintf("bytes=%d-%d", n-10, n+1000), n - 10, n - 1},    // end clamped
			{fmt.Sprintf("bytes=%d-%d", mib-5, mib+5), mib - 5, mib + 5}, // across a 1 MiB block
			{"bytes=-" + fmt.Sprint(n+50), 0, n - 1},                     // suffix longer than object
		} {
			got, out := getBytes(t, c, get(func(in *s3.GetObjectInput) { in.Range = aws.String(tc.rng) }))
			requireSameBytes(t, "Range "+tc.rng, got, data[tc.start:tc.end+1])
			if st := rawStatus(out.ResultMetadata); st != http.StatusPartialContent {
				t.Errorf("Range %s: status %d, want 206", tc.rng, st)
			}
			wantCR := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, n)
			if cr := aws.ToString(out.ContentRange); cr != wantCR {
				t.Errorf("Range %s: Content-Range %q, want %q", tc.rng, cr, wantCR)
			}
			if aws.ToInt64(out.ContentLength) != int64(tc.end-tc.start+1) {
				t.Errorf("Range %s: Content-Length %d, want %d", tc.rng, aws.ToInt64(out.ContentLength), tc.end-tc.start+1)
			}
		}
		_, out := getBytes(t, c, get(nil))
		if st := rawStatus(out.ResultMetadata); st != http.StatusOK {
			t.Errorf("GET without Range: status %d, want 200", st)
		}
		if aws.ToString(out.AcceptRanges) != "bytes" {
			t.Errorf("Accept-Ranges = %q, want bytes", aws.ToString(out.AcceptRanges))
		}
		for _, rng := range []string{fmt.Sprintf("bytes=%d-", n), fmt.Sprintf("bytes=%d-%d", n+5, n+10)} {
			_, err := c.GetObject(ctx(t), get(func(in *s3.GetObjectInput) { in.Range = aws.String(rng) }))
			requireAPIError(t, err, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
		}
	})

	t.Run("Conditionals", func(t *testing.T) {
		before, after := lm.Add(-time.Hour), lm.Add(time.Hour)
		ok := func(name string, mod func(*s3.GetObjectInput)) {
			t.Helper()
			out, err := c.GetObject(ctx(t), get(mod))
			if err != nil {
				t.Errorf("%s: want 200, got %v", name, err)
				return
			}
			out.Body.Close()
		}
		fail := func(name string, status int, mod func(*s3.GetObjectInput)) {
			t.Helper()
			_, err := c.GetObject(ctx(t), get(mod))
			if err == nil || httpStatus(err) != status {
				t.Errorf("%s: want HTTP %d, got %v", name, status, err)
				return
			}
			if status == http.StatusPreconditionFailed && errCode(err) != "PreconditionFailed" {
				t.Errorf("%s: code %q, want PreconditionFailed", name, errCode(err))
			}
		}
		ok("If-Match current", func(in *s3.GetObjectInput) { in.IfMatch = aws.String(etag) })
		ok("If-Match *", func(in *s3.GetObjectInput) { in.IfMatch = aws.String("*") })
		fail("If-Match other", 412, func(in *s3.GetObjectInput) { in.IfMatch = aws.String(`"0123456789abcdef0123456789abcdef"`) })
		fail("If-None-Match current", 304, func(in *s3.GetObjectInput) { in.IfNoneMatch = aws.String(etag) })
		ok("If-None-Match other", func(in *s3.GetObjectInput) { in.IfNoneMatch = aws.String(`"0123456789abcdef0123456789abcdef"`) })
		fail("If-Modified-Since future", 304, func(in *s3.GetObjectInput) { in.IfModifiedSince = aws.Time(after) })
		ok("If-Modified-Since past", func(in *s3.GetObjectInput) { in.IfModifiedSince = aws.Time(before) })
		fail("If-Unmodified-Since past", 412, func(in *s3.GetObjectInput) { in.IfUnmodifiedSince = aws.Time(before) })
		ok("If-Unmodified-Since future", func(in *s3.GetObjectInput) { in.IfUnmodifiedSince = aws.Time(after) })
		// RFC 7232 precedence as S3 documents it.
		ok("If-Match true + If-Unmodified-Since false", func(in *s3.GetObjectInput) {
			in.IfMatch = aws.String(etag)
			in.IfUnmodifiedSince = aws.Time(before)
		})
		fail("If-None-Match false + If-Modified-Since true", 304, func(in *s3.GetObjectInput) {
			in.IfNoneMatch = aws.String(etag)
			in.IfModifiedSince = aws.Time(before)
		})
		_, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("blob"), IfNoneMatch: aws.String(etag)})
		requireAPIError(t, err, http.StatusNotModified)
		_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("blob"), IfMatch: aws.String(`"nope"`)})
		requireAPIError(t, err, http.StatusPreconditionFailed)
	})

	t.Run("ResponseOverrides", func(t *testing.T) {
		exp := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
		got, out := getBytes(t, c, get(func(in *s3.GetObjectInput) {
			in.ResponseContentType = aws.String("text/x-override")
			in.ResponseContentDisposition = aws.String(`attachment; filename="o.bin"`)
			in.ResponseCacheControl = aws.String("no-store")
			in.ResponseContentEncoding = aws.String("x-override-enc")
			in.ResponseContentLanguage = aws.String("de-DE")
			in.ResponseExpires = aws.Time(exp)
		}))
		requireSameBytes(t, "overridden GET", got, data)
		checks := map[string][2]string{
			"Content-Type":        {aws.ToString(out.ContentType), "text/x-override"},
			"Content-Disposition": {aws.ToString(out.ContentDisposition), `attachment; filename="o.bin"`},
			"Cache-Control":       {aws.ToString(out.CacheControl), "no-store"},
			"Content-Encoding":    {aws.ToString(out.ContentEncoding), "x-override-enc"},
			"Content-Language":    {aws.ToString(out.ContentLanguage), "de-DE"},
		}
		for h, v := range checks {
			if v[0] != v[1] {
				t.Errorf("%s = %q, want %q", h, v[0], v[1])
			}
		}
		if e, err := http.ParseTime(aws.ToString(out.ExpiresString)); err != nil || !e.Equal(exp) {
			t.Errorf("Expires = %q, want %s", aws.ToString(out.ExpiresString), exp.Format(http.TimeFormat))
		}
	})
}

func TestObjectMetadata(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "meta")

	t.Run("RoundTrip", func(t *testing.T) {
		exp := time.Date(2030, 6, 7, 8, 9, 10, 0, time.UTC)
		meta := map[string]string{"color": "blue", "multi-word": "a b c"}
		putBytes(t, c, bucket, "m", []byte("hello"), func(in *s3.PutObjectInput) {
			in.Metadata = meta
			in.ContentType = aws.String("application/x-coffer-test")
			in.ContentEncoding = aws.String("x-test-enc")
			in.ContentDisposition = aws.String(`inline; filename="m.txt"`)
			in.ContentLanguage = aws.String("en-GB")
			in.CacheControl = aws.String("max-age=60")
			in.Expires = aws.Time(exp)
			in.StorageClass = types.StorageClassStandard
		})
		head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("m")})
		if err != nil {
			t.Fatal(err)
		}
		_, get := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("m")})
		for name, v := range map[string]struct {
			meta                               map[string]string
			ctype, cenc, cdisp, clang, cc, exp string
		}{
			"HeadObject": {head.Metadata, aws.ToString(head.ContentType), aws.ToString(head.ContentEncoding), aws.ToString(head.ContentDisposition), aws.ToString(head.ContentLanguage), aws.ToString(head.CacheControl), aws.ToString(head.ExpiresString)},
			"GetObject":  {get.Metadata, aws.ToString(get.ContentType), aws.ToString(get.ContentEncoding), aws.ToString(get.ContentDisposition), aws.ToString(get.ContentLanguage), aws.ToString(get.CacheControl), aws.ToString(get.ExpiresString)},
		} {
			for k, want := range meta {
				if got, ok := v.meta[k]; !ok || got != want {
					t.Errorf("%s: x-amz-meta-%s = %q (present %v), want %q", name, k, got, ok, want)
				}
			}
			if len(v.meta) != len(meta) {
				t.Errorf("%s: metadata %v, want %v", name, v.meta, meta)
			}
			if v.ctype != "application/x-coffer-test" || v.cenc != "x-test-enc" || v.cdisp != `inline; filename="m.txt"` ||
				v.clang != "en-GB" || v.cc != "max-age=60" {
				t.Errorf("%s: content headers type=%q enc=%q disp=%q lang=%q cache=%q", name, v.ctype, v.cenc, v.cdisp, v.clang, v.cc)
			}
			if e, err := http.ParseTime(v.exp); err != nil || !e.Equal(exp) {
				t.Errorf("%s: Expires = %q, want %s", name, v.exp, exp.Format(http.TimeFormat))
			}
		}
	})

	t.Run("DefaultContentType", func(t *testing.T) {
		resp, body := s.do(t, rawRequest{Method: "PUT", Path: "/" + bucket + "/plain", Body: []byte("x")})
		if resp.StatusCode != 200 {
			t.Fatalf("raw PUT: %d %s", resp.StatusCode, body)
		}
		head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("plain")})
		if err != nil {
			t.Fatal(err)
		}
		if ct := aws.ToString(head.ContentType); ct != "binary/octet-stream" && ct != "application/octet-stream" {
			t.Errorf("default Content-Type = %q, want binary/octet-stream", ct)
		}
	})

	t.Run("TooLarge", func(t *testing.T) {
		_, err := c.PutObject(ctx(t), &s3.PutObjectInput{
			Bucket:   aws.String(bucket),
			Key:      aws.String("big-meta"),
			Body:     strings.NewReader("x"),
			Metadata: map[string]string{"a": strings.Repeat("v", 1500), "b": strings.Repeat("w", 1000)},
		})
		requireAPIError(t, err, http.StatusBadRequest, "MetadataTooLarge")
		// Just under the limit is accepted.
		putBytes(t, c, bucket, "ok-meta", []byte("x"), func(in *s3.PutObjectInput) {
			in.Metadata = map[string]string{"a": strings.Repeat("v", 1900)}
		})
	})

	t.Run("ContentMD5", func(t *testing.T) {
		data := randomBytes(t, 10*kib)
		good := md5.Sum(data)
		out := putBytes(t, c, bucket, "md5-good", data, func(in *s3.PutObjectInput) {
			in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(good[:]))
		})
		if aws.ToString(out.ETag) != quotedMD5(data) {
			t.Errorf("ETag %s, want %s", aws.ToString(out.ETag), quotedMD5(data))
		}
		wrong := md5.Sum([]byte("something else"))
		_, err := c.PutObject(ctx(t), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("md5-bad"), Body: strings.NewReader(string(data)),
			ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:])),
		})
		requireAPIError(t, err, http.StatusBadRequest, "BadDigest")
		_, err = c.PutObject(ctx(t), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("md5-bad"), Body: strings.NewReader(string(data)),
			ContentMD5: aws.String("not-base64!!"),
		})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidDigest")
		_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("md5-bad")})
		requireAPIError(t, err, http.StatusNotFound)
	})
}

// checksums computes the base64 checksum values AWS uses.
func checksums(data []byte) map[types.ChecksumAlgorithm]string {
	b64 := base64.StdEncoding.EncodeToString
	be32 := func(v uint32) []byte { b := make([]byte, 4); binary.BigEndian.PutUint32(b, v); return b }
	be64 := func(v uint64) []byte { b := make([]byte, 8); binary.BigEndian.PutUint64(b, v); return b }
	s1 := sha1.Sum(data)
	s256 := sha256.Sum256(data)
	return map[types.ChecksumAlgorithm]string{
		types.ChecksumAlgorithmCrc32:     b64(be32(crc32.ChecksumIEEE(data))),
		types.ChecksumAlgorithmCrc32c:    b64(be32(crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))),
		types.ChecksumAlgorithmCrc64nvme: b64(be64(crc64.Checksum(data, crc64.MakeTable(0x9a6c9329ac4bc9b5)))),
		types.ChecksumAlgorithmSha1:      b64(s1[:]),
		types.ChecksumAlgorithmSha256:    b64(s256[:]),
	}
}

func checksumOf(algo types.ChecksumAlgorithm, crc32v, crc32c, crc64v, sha1v, sha256v *string) string {
	switch algo {
	case types.ChecksumAlgorithmCrc32:
		return aws.ToString(crc32v)
	case types.ChecksumAlgorithmCrc32c:
		return aws.ToString(crc32c)
	case types.ChecksumAlgorithmCrc64nvme:
		return aws.ToString(crc64v)
	case types.ChecksumAlgorithmSha1:
		return aws.ToString(sha1v)
	case types.ChecksumAlgorithmSha256:
		return aws.ToString(sha256v)
	}
	return ""
}

func TestChecksums(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "sums")
	data := randomBytes(t, 300*kib)
	want := checksums(data)
	for _, algo := range []types.ChecksumAlgorithm{
		types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha1,
		types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme,
	} {
		t.Run(string(algo), func(t *testing.T) {
			key := "sum-" + string(algo)
			put := putBytes(t, c, bucket, key, data, func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = algo })
			if got := checksumOf(algo, put.ChecksumCRC32, put.ChecksumCRC32C, put.ChecksumCRC64NVME, put.ChecksumSHA1, put.ChecksumSHA256); got != want[algo] {
				t.Errorf("PutObject checksum = %q, want %q", got, want[algo])
			}
			got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			requireSameBytes(t, "GetObject", got, data)
			if g := checksumOf(algo, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256); g != want[algo] {
				t.Errorf("GetObject ChecksumMode=ENABLED: checksum = %q, want %q", g, want[algo])
			}
			head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			if g := checksumOf(algo, head.ChecksumCRC32, head.ChecksumCRC32C, head.ChecksumCRC64NVME, head.ChecksumSHA1, head.ChecksumSHA256); g != want[algo] {
				t.Errorf("HeadObject ChecksumMode=ENABLED: checksum = %q, want %q", g, want[algo])
			}
		})
	}
	t.Run("WrongHeader", func(t *testing.T) {
		_, err := c.PutObject(ctx(t), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("wrong-sum"), Body: strings.NewReader(string(data)),
			ChecksumCRC32: aws.String("AAAAAA=="),
		})
		requireAPIError(t, err, http.StatusBadRequest, "BadDigest", "XAmzContentChecksumMismatch")
		_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("wrong-sum")})
		requireAPIError(t, err, http.StatusNotFound)
	})
	t.Run("WrongSHA256Header", func(t *testing.T) {
		_, err := c.PutObject(ctx(t), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("wrong-sum"), Body: strings.NewReader("abc"),
			ChecksumSHA256: aws.String(want[types.ChecksumAlgorithmSha256]),
		})
		requireAPIError(t, err, http.StatusBadRequest, "BadDigest", "XAmzContentChecksumMismatch")
	})
}

func TestDeleteObjects(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "multidel")
	keys := []string{"a", "b", "dir/c", "dir/d with space", "e+f"}
	for _, k := range keys {
		putBytes(t, c, bucket, k, []byte(k))
	}
	ids := func(ks ...string) []types.ObjectIdentifier {
		var out []types.ObjectIdentifier
		for _, k := range ks {
			out = append(out, types.ObjectIdentifier{Key: aws.String(k)})
		}
		return out
	}
	verbose, err := c.DeleteObjects(ctx(t), &s3.DeleteObjectsInput{
		Bucket: aws.String(bucket),
		Delete: &types.Delete{Objects: ids("a", "dir/d with space", "missing-key")},
	})
	if err != nil {
		t.Fatalf("DeleteObjects verbose: %v", err)
	}
	if len(verbose.Errors) != 0 {
		t.Errorf("DeleteObjects verbose errors: %+v", verbose.Errors)
	}
	seen := map[string]bool{}
	for _, d := range verbose.Deleted {
		seen[aws.ToString(d.Key)] = true
	}
	for _, k := range []string{"a", "dir/d with space", "missing-key"} {
		if !seen[k] {
			t.Errorf("verbose DeleteObjects: %q not reported as deleted (got %v)", k, seen)
		}
	}
	quiet, err := c.DeleteObjects(ctx(t), &s3.DeleteObjectsInput{
		Bucket: aws.String(bucket),
		Delete: &types.Delete{Objects: ids("b", "e+f"), Quiet: aws.Bool(true)},
	})
	if err != nil {
		t.Fatalf("DeleteObjects quiet: %v", err)
	}
	if len(quiet.Deleted) != 0 || len(quiet.Errors) != 0 {
		t.Errorf("quiet DeleteObjects reported Deleted=%d Errors=%d, want none", len(quiet.Deleted), len(quiet.Errors))
	}
	list, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, o := range list.Contents {
		left = append(left, aws.ToString(o.Key))
	}
	if len(left) != 1 || left[0] != "dir/c" {
		t.Errorf("after DeleteObjects the bucket holds %v, want [dir/c]", left)
	}
	// Malformed body.
	resp, body := s.do(t, rawRequest{
		Method: "POST", Path: "/" + bucket, RawQuery: "delete=",
		Header: http.Header{"Content-Md5": {base64.StdEncoding.EncodeToString(md5Sum([]byte("<Delete><Object>")))}},
		Body:   []byte("<Delete><Object>"),
	})
	requireRawError(t, resp, body, http.StatusBadRequest, "MalformedXML")
}

func md5Sum(b []byte) []byte { s := md5.Sum(b); return s[:] }

func TestCopyObject(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "copy")
	other := newBucket(t, c, "copy-dst")
	data := randomBytes(t, 300*kib)
	srcKey := "dir/src with space+plus"
	src := putBytes(t, c, bucket, srcKey, data, func(in *s3.PutObjectInput) {
		in.Metadata = map[string]string{"origin": "src"}
		in.ContentType = aws.String("application/x-src")
		in.Tagging = aws.String("a=1&b=2")
	})
	copySource := url.PathEscape(bucket) + "/" + escapeKey(srcKey)

	headMeta := func(b, k string) *s3.HeadObjectOutput {
		t.Helper()
		h, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("HeadObject %s/%s: %v", b, k, err)
		}
		return h
	}
	tagsOf := func(b, k string) []types.Tag {
		t.Helper()
		out, err := c.GetObjectTagging(ctx(t), &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("GetObjectTagging %s/%s: %v", b, k, err)
		}
		return out.TagSet
	}

	t.Run("DirectiveCopy", func(t *testing.T) {
		out, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(other), Key: aws.String("copied"), CopySource: aws.String(copySource)})
		if err != nil {
			t.Fatalf("CopyObject: %v", err)
		}
		if out.CopyObjectResult == nil || aws.ToString(out.CopyObjectResult.ETag) != aws.ToString(src.ETag) {
			t.Errorf("CopyObjectResult ETag = %v, want %s", out.CopyObjectResult, aws.ToString(src.ETag))
		}
		if out.CopyObjectResult != nil && out.CopyObjectResult.LastModified == nil {
			t.Errorf("CopyObjectResult has no LastModified")
		}
		got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(other), Key: aws.String("copied")})
		requireSameBytes(t, "copy", got, data)
		h := headMeta(other, "copied")
		if h.Metadata["origin"] != "src" || aws.ToString(h.ContentType) != "application/x-src" {
			t.Errorf("COPY directive: metadata %v content-type %q", h.Metadata, aws.ToString(h.ContentType))
		}
		requireTags(t, tagsOf(other, "copied"), map[string]string{"a": "1", "b": "2"})
	})

	t.Run("DirectiveReplace", func(t *testing.T) {
		_, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{
			Bucket: aws.String(other), Key: aws.String("replaced"), CopySource: aws.String(copySource),
			MetadataDirective: types.MetadataDirectiveReplace,
			Metadata:          map[string]string{"origin": "replaced", "new": "yes"},
			ContentType:       aws.String("text/x-replaced"),
			TaggingDirective:  types.TaggingDirectiveReplace,
			Tagging:           aws.String("c=3"),
		})
		if err != nil {
			t.Fatalf("CopyObject REPLACE: %v", err)
		}
		h := headMeta(other, "replaced")
		if h.Metadata["origin"] != "replaced" || h.Metadata["new"] != "yes" || len(h.Metadata) != 2 || aws.ToString(h.ContentType) != "text/x-replaced" {
			t.Errorf("REPLACE directive: metadata %v content-type %q", h.Metadata, aws.ToString(h.ContentType))
		}
		requireTags(t, tagsOf(other, "replaced"), map[string]string{"c": "3"})
	})

	t.Run("SourceConditions", func(t *testing.T) {
		_, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{
			Bucket: aws.String(other), Key: aws.String("cond"), CopySource: aws.String(copySource),
			CopySourceIfMatch: aws.String(`"0123456789abcdef0123456789abcdef"`),
		})
		requireAPIError(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
		_, err = c.CopyObject(ctx(t), &s3.CopyObjectInput{
			Bucket: aws.String(other), Key: aws.String("cond"), CopySource: aws.String(copySource),
			CopySourceIfNoneMatch: aws.String(aws.ToString(src.ETag)),
		})
		requireAPIError(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
		_, err = c.CopyObject(ctx(t), &s3.CopyObjectInput{
			Bucket: aws.String(other), Key: aws.String("cond"), CopySource: aws.String(copySource),
			CopySourceIfUnmodifiedSince: aws.Time(time.Now().Add(-24 * time.Hour)),
		})
		requireAPIError(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
		if _, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{
			Bucket: aws.String(other), Key: aws.String("cond"), CopySource: aws.String(copySource),
			CopySourceIfMatch: src.ETag,
		}); err != nil {
			t.Errorf("CopyObject with matching x-amz-copy-source-if-match: %v", err)
		}
	})

	t.Run("OntoItself", func(t *testing.T) {
		_, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String(srcKey), CopySource: aws.String(copySource)})
		requireAPIError(t, err, http.StatusBadRequest, "InvalidRequest")
		_, err = c.CopyObject(ctx(t), &s3.CopyObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(srcKey), CopySource: aws.String(copySource),
			MetadataDirective: types.MetadataDirectiveReplace,
			Metadata:          map[string]string{"origin": "self"},
		})
		if err != nil {
			t.Fatalf("CopyObject onto itself with REPLACE: %v", err)
		}
		if h := headMeta(bucket, srcKey); h.Metadata["origin"] != "self" {
			t.Errorf("self-copy REPLACE: metadata %v", h.Metadata)
		}
		got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(srcKey)})
		requireSameBytes(t, "self-copied object", got, data)
	})

	t.Run("MissingSource", func(t *testing.T) {
		_, err := c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(other), Key: aws.String("x"), CopySource: aws.String(bucket + "/no-such-key")})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchKey")
		_, err = c.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(other), Key: aws.String("x"), CopySource: aws.String(bucketName("nobucket") + "/k")})
		requireAPIError(t, err, http.StatusNotFound, "NoSuchBucket")
	})
}

// escapeKey escapes each path segment of an object key.
func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func TestConditionalPut(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "condput")
	first := putBytes(t, c, bucket, "k", []byte("one"), func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
	_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("two"), IfNoneMatch: aws.String("*")})
	requireAPIError(t, err, http.StatusPreconditionFailed, "PreconditionFailed")

	second := putBytes(t, c, bucket, "k", []byte("two"), func(in *s3.PutObjectInput) { in.IfMatch = first.ETag })
	_, err = c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("three"), IfMatch: first.ETag})
	requireAPIError(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
	got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if string(got) != "two" || aws.ToString(out.ETag) != aws.ToString(second.ETag) {
		t.Errorf("after conditional writes: %q %s, want \"two\" %s", got, aws.ToString(out.ETag), aws.ToString(second.ETag))
	}
	_, err = c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("absent"), Body: strings.NewReader("x"), IfMatch: first.ETag})
	requireAPIError(t, err, http.StatusNotFound, "NoSuchKey")
}

func TestObjectTagging(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "otag")
	putBytes(t, c, bucket, "t", []byte("tagged"), func(in *s3.PutObjectInput) { in.Tagging = aws.String("k1=v1&k2=v%202") })
	out, err := c.GetObjectTagging(ctx(t), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("t")})
	if err != nil {
		t.Fatalf("GetObjectTagging: %v", err)
	}
	requireTags(t, out.TagSet, map[string]string{"k1": "v1", "k2": "v 2"})
	_, get := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("t")})
	if aws.ToInt32(get.TagCount) != 2 {
		t.Errorf("GetObject x-amz-tagging-count = %d, want 2", aws.ToInt32(get.TagCount))
	}
	if _, err := c.PutObjectTagging(ctx(t), &s3.PutObjectTaggingInput{
		Bucket: aws.String(bucket), Key: aws.String("t"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k3"), Value: aws.String("v3")}}},
	}); err != nil {
		t.Fatalf("PutObjectTagging: %v", err)
	}
	out, err = c.GetObjectTagging(ctx(t), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	requireTags(t, out.TagSet, map[string]string{"k3": "v3"})
	if _, err := c.DeleteObjectTagging(ctx(t), &s3.DeleteObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("t")}); err != nil {
		t.Fatalf("DeleteObjectTagging: %v", err)
	}
	out, err = c.GetObjectTagging(ctx(t), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	requireTags(t, out.TagSet, map[string]string{})
	_, err = c.GetObjectTagging(ctx(t), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("nope")})
	requireAPIError(t, err, http.StatusNotFound, "NoSuchKey")
	// More than 10 tags is rejected.
	var many []types.Tag
	for i := 0; i < 11; i++ {
		many = append(many, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	_, err = c.PutObjectTagging(ctx(t), &s3.PutObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("t"), Tagging: &types.Tagging{TagSet: many}})
	requireAPIError(t, err, http.StatusBadRequest, "BadRequest", "InvalidTag")
}

func TestGetObjectAttributes(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "attrs")
	data := randomBytes(t, 70*kib)
	putBytes(t, c, bucket, "a", data, func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c })
	out, err := c.GetObjectAttributes(ctx(t), &s3.GetObjectAttributesInput{
		Bucket: aws.String(bucket), Key: aws.String("a"),
		ObjectAttributes: []types.ObjectAttributes{
			types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectSize,
			types.ObjectAttributesStorageClass, types.ObjectAttributesObjectParts,
		},
	})
	if err != nil {
		t.Fatalf("GetObjectAttributes: %v", err)
	}
	if strings.Trim(aws.ToString(out.ETag), `"`) != md5Hex(data) {
		t.Errorf("ETag = %q, want %s", aws.ToString(out.ETag), md5Hex(data))
	}
	if aws.ToInt64(out.ObjectSize) != int64(len(data)) {
		t.Errorf("ObjectSize = %d, want %d", aws.ToInt64(out.ObjectSize), len(data))
	}
	if out.StorageClass != types.StorageClassStandard {
		t.Errorf("StorageClass = %q, want STANDARD", out.StorageClass)
	}
	if out.Checksum == nil || aws.ToString(out.Checksum.ChecksumCRC32C) != checksums(data)[types.ChecksumAlgorithmCrc32c] {
		t.Errorf("Checksum = %+v, want CRC32C %s", out.Checksum, checksums(data)[types.ChecksumAlgorithmCrc32c])
	}
	if out.LastModified == nil {
		t.Errorf("no Last-Modified")
	}
	_, err = c.GetObjectAttributes(ctx(t), &s3.GetObjectAttributesInput{
		Bucket: aws.String(bucket), Key: aws.String("missing"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag},
	})
	requireAPIError(t, err, http.StatusNotFound, "NoSuchKey")
}

func TestVersioning(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "vers")
	st, err := c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("GetBucketVersioning: %v", err)
	}
	if st.Status != "" {
		t.Errorf("new bucket versioning status = %q, want empty", st.Status)
	}
	if _, err := c.PutBucketVersioning(ctx(t), &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatalf("PutBucketVersioning: %v", err)
	}
	st, err = c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil || st.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("GetBucketVersioning = %v, %v; want Enabled", st, err)
	}
	one, two := randomBytes(t, 1000), randomBytes(t, 200*kib)
	p1 := putBytes(t, c, bucket, "v", one)
	p2 := putBytes(t, c, bucket, "v", two)
	v1, v2 := aws.ToString(p1.VersionId), aws.ToString(p2.VersionId)
	if v1 == "" || v2 == "" || v1 == "null" || v1 == v2 {
		t.Fatalf("version ids %q %q: want two distinct non-null ids", v1, v2)
	}
	got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("v")})
	requireSameBytes(t, "latest", got, two)
	if aws.ToString(out.VersionId) != v2 {
		t.Errorf("latest x-amz-version-id = %q, want %q", aws.ToString(out.VersionId), v2)
	}
	got, out = getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("v"), VersionId: aws.String(v1)})
	requireSameBytes(t, "version 1", got, one)
	if aws.ToString(out.VersionId) != v1 {
		t.Errorf("GET ?versionId=v1: x-amz-version-id = %q", aws.ToString(out.VersionId))
	}
	del, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("v")})
	if err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	dm := aws.ToString(del.VersionId)
	if !aws.ToBool(del.DeleteMarker) || dm == "" {
		t.Errorf("DeleteObject on a versioned bucket: DeleteMarker=%v VersionId=%q", aws.ToBool(del.DeleteMarker), dm)
	}
	_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("v")})
	requireAPIError(t, err, http.StatusNotFound, "NoSuchKey")
	got, _ = getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("v"), VersionId: aws.String(v1)})
	requireSameBytes(t, "version 1 behind a delete marker", got, one)

	lv, err := c.ListObjectVersions(ctx(t), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListObjectVersions: %v", err)
	}
	if len(lv.Versions) != 2 || len(lv.DeleteMarkers) != 1 {
		t.Fatalf("ListObjectVersions: %d versions, %d delete markers; want 2 and 1", len(lv.Versions), len(lv.DeleteMarkers))
	}
	if aws.ToString(lv.DeleteMarkers[0].VersionId) != dm || !aws.ToBool(lv.DeleteMarkers[0].IsLatest) {
		t.Errorf("delete marker = %q latest=%v, want %q latest", aws.ToString(lv.DeleteMarkers[0].VersionId), aws.ToBool(lv.DeleteMarkers[0].IsLatest), dm)
	}
	// Versions of one key are listed newest first.
	if aws.ToString(lv.Versions[0].VersionId) != v2 || aws.ToString(lv.Versions[1].VersionId) != v1 {
		t.Errorf("versions listed %q, %q; want %q, %q", aws.ToString(lv.Versions[0].VersionId), aws.ToString(lv.Versions[1].VersionId), v2, v1)
	}
	for _, v := range lv.Versions {
		if aws.ToBool(v.IsLatest) {
			t.Errorf("version %s IsLatest behind a delete marker", aws.ToString(v.VersionId))
		}
	}
	// Removing the delete marker restores the previous version.
	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("v"), VersionId: aws.String(dm)}); err != nil {
		t.Fatalf("delete the delete marker: %v", err)
	}
	got, _ = getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("v")})
	requireSameBytes(t, "latest after removing the marker", got, two)
	// Permanently deleting a version.
	if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("v"), VersionId: aws.String(v1)}); err != nil {
		t.Fatalf("delete version 1: %v", err)
	}
	_, err = c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("v"), VersionId: aws.String(v1)})
	if err == nil || (httpStatus(err) != http.StatusNotFound && httpStatus(err) != http.StatusBadRequest) {
		t.Errorf("GET deleted version: want 404 NoSuchVersion (or 400 InvalidArgument), got %v", err)
	}
}

// TestMetadataHeaderCase reads raw response bytes: net/http canonicalizes
// header names, but AWS sends user metadata as lower-case x-amz-meta-* and
// clients such as boto3 and aws-cli keep the case they receive.
func TestMetadataHeaderCase(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "metacase")
	putBytes(t, c, bucket, "k", []byte("x"), func(in *s3.PutObjectInput) {
		in.Metadata = map[string]string{"color": "blue"}
	})
	req, err := http.NewRequest("HEAD", s.Endpoint+"/"+bucket+"/k", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds(), req, emptySHA256, "s3", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	var head strings.Builder
	for {
		line, err := readLine(conn)
		head.WriteString(line)
		if err != nil || line == "\r\n" {
			break
		}
	}
	h := head.String()
	if !strings.Contains(h, "\r\nx-amz-meta-color: blue\r\n") && !strings.Contains(h, "\r\nx-amz-meta-color:blue\r\n") {
		t.Errorf("user metadata header not sent as lower-case x-amz-meta-color; response head:\n%s", h)
	}
}

// readLine reads one CRLF-terminated line byte by byte (no buffering, so
// nothing past the header block is consumed).
func readLine(conn net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := conn.Read(one); err != nil {
			return string(b), err
		}
		b = append(b, one[0])
		if one[0] == '\n' {
			return string(b), nil
		}
	}
}
