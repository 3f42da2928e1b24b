package integration

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The SDK only sends aws-chunked bodies over HTTPS, so these tests build
// them by hand: signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER])
// and unsigned chunks with a checksum trailer
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER), as aws-cli and the SDKs send them.

type chunkedOpts struct {
	mode         string // x-amz-content-sha256 value
	chunkSize    int
	trailerName  string // e.g. x-amz-checksum-crc32; empty: no trailer
	trailerValue string
	corruptChunk int // 1-based index of a chunk whose signature is broken; 0: none
}

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var seedSigRE = regexp.MustCompile(`Signature=([0-9a-f]{64})`)

// putChunked uploads data to /bucket/key with an aws-chunked body.
func (s *server) putChunked(t *testing.T, bucket, key string, data []byte, o chunkedOpts) (*http.Response, []byte) {
	t.Helper()
	now := time.Now().UTC()
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	scope := day + "/" + region + "/s3/aws4_request"
	signingKey := hmacSHA256(hmacSHA256(hmacSHA256(hmacSHA256([]byte("AWS4"+s.SecretKey), day), region), "s3"), "aws4_request")
	signed := o.mode != "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

	// The body length must be known before signing the headers, so the
	// body is assembled with placeholder signatures of the right length.
	build := func(seed string) []byte {
		var buf bytes.Buffer
		prev := seed
		chunk := func(p []byte, idx int) {
			if !signed {
				fmt.Fprintf(&buf, "%x\r\n", len(p))
			} else {
				sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + prev + "\n" + emptySHA256 + "\n" + sha256Hex(p)
				sig := hex.EncodeToString(hmacSHA256(signingKey, sts))
				prev = sig
				if idx == o.corruptChunk {
					sig = hex.EncodeToString(hmacSHA256(signingKey, "tampered"))
				}
				fmt.Fprintf(&buf, "%x;chunk-signature=%s\r\n", len(p), sig)
			}
			if len(p) > 0 {
				buf.Write(p)
				buf.WriteString("\r\n")
			}
		}
		idx := 0
		for off := 0; off < len(data); off += o.chunkSize {
			end := min(off+o.chunkSize, len(data))
			idx++
			chunk(data[off:end], idx)
		}
		chunk(nil, idx+1)
		if o.trailerName != "" {
			line := o.trailerName + ":" + o.trailerValue
			buf.WriteString(line + "\r\n")
			if signed {
				sts := "AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + prev + "\n" + sha256Hex([]byte(line+"\n"))
				fmt.Fprintf(&buf, "x-amz-trailer-signature:%s\r\n", hex.EncodeToString(hmacSHA256(signingKey, sts)))
			}
		}
		buf.WriteString("\r\n")
		return buf.Bytes()
	}
	placeholder := build(emptySHA256) // same length as the real body
	req, err := http.NewRequest("PUT", s.Endpoint+"/"+bucket+"/"+escapeKey(key), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(placeholder))
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Content-Sha256", o.mode)
	if o.trailerName != "" {
		req.Header.Set("X-Amz-Trailer", o.trailerName)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds(), req, o.mode, "s3", region, now); err != nil {
		t.Fatal(err)
	}
	m := seedSigRE.FindStringSubmatch(req.Header.Get("Authorization"))
	if m == nil {
		t.Fatalf("no signature in %q", req.Header.Get("Authorization"))
	}
	body := build(m[1])
	if len(body) != len(placeholder) {
		t.Fatalf("chunked body length changed: %d vs %d", len(body), len(placeholder))
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return resp, rb
}

func TestAWSChunked(t *testing.T) {
	s := startServer(t)
	c := s.s3Client(t)
	bucket := newBucket(t, c, "chunked")
	data := randomBytes(t, 200*kib+17)
	crc := checksums(data)

	ok := func(t *testing.T, key string, o chunkedOpts) {
		t.Helper()
		resp, body := s.putChunked(t, bucket, key, data, o)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s PUT: %d %s", o.mode, resp.StatusCode, body)
		}
		if resp.Header.Get("ETag") != quotedMD5(data) {
			t.Errorf("%s PUT: ETag %q, want %s", o.mode, resp.Header.Get("ETag"), quotedMD5(data))
		}
		got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		requireSameBytes(t, o.mode+" object", got, data)
		if aws.ToInt64(out.ContentLength) != int64(len(data)) {
			t.Errorf("stored length %d, want decoded length %d", aws.ToInt64(out.ContentLength), len(data))
		}
		if o.trailerName == "x-amz-checksum-crc32" && aws.ToString(out.ChecksumCRC32) != crc[types.ChecksumAlgorithmCrc32] {
			t.Errorf("trailer checksum not returned: ChecksumCRC32 %q, want %q", aws.ToString(out.ChecksumCRC32), crc[types.ChecksumAlgorithmCrc32])
		}
		if o.trailerName == "x-amz-checksum-crc64nvme" && aws.ToString(out.ChecksumCRC64NVME) != crc[types.ChecksumAlgorithmCrc64nvme] {
			t.Errorf("trailer checksum not returned: ChecksumCRC64NVME %q, want %q", aws.ToString(out.ChecksumCRC64NVME), crc[types.ChecksumAlgorithmCrc64nvme])
		}
	}

	t.Run("SignedChunks", func(t *testing.T) {
		ok(t, "signed", chunkedOpts{mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chunkSize: 64 * kib})
	})
	t.Run("SignedChunksTrailer", func(t *testing.T) {
		ok(t, "signed-trailer", chunkedOpts{mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", chunkSize: 64 * kib,
			trailerName: "x-amz-checksum-crc32", trailerValue: crc[types.ChecksumAlgorithmCrc32]})
	})
	t.Run("UnsignedTrailer", func(t *testing.T) {
		ok(t, "unsigned-trailer", chunkedOpts{mode: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", chunkSize: 64 * kib,
			trailerName: "x-amz-checksum-crc32", trailerValue: crc[types.ChecksumAlgorithmCrc32]})
		ok(t, "unsigned-trailer-crc64", chunkedOpts{mode: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", chunkSize: 100 * kib,
			trailerName: "x-amz-checksum-crc64nvme", trailerValue: crc[types.ChecksumAlgorithmCrc64nvme]})
	})
	t.Run("BadChunkSignature", func(t *testing.T) {
		resp, body := s.putChunked(t, bucket, "bad-sig", data, chunkedOpts{mode: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", chunkSize: 64 * kib, corruptChunk: 2})
		requireRawError(t, resp, body, http.StatusForbidden, "SignatureDoesNotMatch")
		_, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("bad-sig")})
		requireAPIError(t, err, http.StatusNotFound)
	})
	t.Run("BadTrailerChecksum", func(t *testing.T) {
		resp, body := s.putChunked(t, bucket, "bad-trailer", data, chunkedOpts{mode: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", chunkSize: 64 * kib,
			trailerName: "x-amz-checksum-crc32", trailerValue: "AAAAAA=="})
		requireRawError(t, resp, body, http.StatusBadRequest, "BadDigest", "XAmzContentChecksumMismatch")
		_, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("bad-trailer")})
		requireAPIError(t, err, http.StatusNotFound)
	})
}
