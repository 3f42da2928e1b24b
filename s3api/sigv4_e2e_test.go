package s3api

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/sha256-simd"

	"github.com/cofferstore/coffer/object"
)

// The tests below use the real sigv4 verifier with a minimal SigV4 signer,
// so routing, header collection and body wiring are checked end to end.

const (
	testAK     = "AKIDEXAMPLE0000000000"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var signTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func hmacSHA256(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

// sign returns the headers (name, value pairs) that sign a request whose
// path and query are already encoded as sent. payloadHash is the
// x-amz-content-sha256 value; extra headers are signed too.
func sign(method, path, query, payloadHash string, extra ...string) []string {
	amzDate := signTime.Format("20060102T150405Z")
	day := signTime.Format("20060102")
	hdr := map[string]string{"host": "s3.test", "x-amz-date": amzDate, "x-amz-content-sha256": payloadHash}
	for i := 0; i+1 < len(extra); i += 2 {
		hdr[strings.ToLower(extra[i])] = extra[i+1]
	}
	names := make([]string, 0, len(hdr))
	for k := range hdr {
		names = append(names, k)
	}
	sort.Strings(names)
	var ch strings.Builder
	for _, n := range names {
		ch.WriteString(n + ":" + strings.TrimSpace(hdr[n]) + "\n")
	}
	signed := strings.Join(names, ";")
	var qs []string
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			if !strings.Contains(kv, "=") {
				kv += "="
			}
			qs = append(qs, kv)
		}
		sort.Strings(qs)
	}
	creq := strings.Join([]string{method, path, strings.Join(qs, "&"), ch.String(), signed, payloadHash}, "\n")
	h := sha256.Sum256([]byte(creq))
	scope := day + "/us-east-1/s3/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(h[:])
	k := hmacSHA256([]byte("AWS4"+testSecret), day)
	k = hmacSHA256(k, "us-east-1")
	k = hmacSHA256(k, "s3")
	k = hmacSHA256(k, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(k, sts))
	out := []string{"Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", testAK, scope, signed, sig),
		"x-amz-date", amzDate, "x-amz-content-sha256", payloadHash}
	for i := 0; i+1 < len(extra); i += 2 {
		out = append(out, extra[i], extra[i+1])
	}
	return out
}

func newSignedServer(t *testing.T) *testServer {
	ts := newTestServer(t, func(c *Config) {
		c.Authenticate = nil
		c.Credentials = func(ak string) (string, bool) { return testSecret, ak == testAK }
		c.Now = func() time.Time { return signTime }
	})
	return ts
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestRealSignatures(t *testing.T) {
	ts := newSignedServer(t)
	expectStatus(t, ts.send(false, "PUT", "/bkt", "", sign("PUT", "/bkt", "", "UNSIGNED-PAYLOAD", "Content-Length", "0")...), 200)
	expectError(t, ts.send(false, "GET", "/", ""), 403, "AccessDenied")

	bad := sign("GET", "/bkt", "", "UNSIGNED-PAYLOAD")
	bad[1] = strings.Replace(bad[1], "Signature=", "Signature=0", 1)[:len(bad[1])]
	expectError(t, ts.send(false, "GET", "/bkt", "", bad...), 403, "SignatureDoesNotMatch")

	// A signed payload digest is checked on bodies s3api reads itself.
	tagBody := `<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`
	expectStatus(t, ts.send(false, "PUT", "/bkt?tagging", tagBody, sign("PUT", "/bkt", "tagging", sha256Hex(tagBody))...), 204)
	expectError(t, ts.send(false, "PUT", "/bkt?tagging", tagBody, sign("PUT", "/bkt", "tagging", sha256Hex("other"))...), 400, "XAmzContentSHA256Mismatch")

	// Keys with reserved characters: the raw path is what was signed.
	expectStatus(t, ts.send(false, "PUT", "/bkt/a%20b/c%2Bd", "hi", sign("PUT", "/bkt/a%20b/c%2Bd", "", sha256Hex("hi"))...), 200)
	if _, ok := ts.layer.buckets["bkt"].objects["a b/c+d"]; !ok {
		t.Fatal("key not decoded")
	}
	r := ts.send(false, "GET", "/bkt?list-type=2&prefix=a%20", "", sign("GET", "/bkt", "list-type=2&prefix=a%20", "UNSIGNED-PAYLOAD")...)
	if r.status != 200 || !strings.Contains(r.body, "<Key>a b/c+d</Key>") {
		t.Fatalf("signed list: %d %s", r.status, r.body)
	}
}

func TestUnsignedTrailerUpload(t *testing.T) {
	ts := newSignedServer(t)
	expectStatus(t, ts.send(false, "PUT", "/bkt", "", sign("PUT", "/bkt", "", "UNSIGNED-PAYLOAD")...), 200)
	data := "Hello world"
	crc := checksumOf(object.ChecksumCRC32, []byte(data))
	body := fmt.Sprintf("%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n", len(data), data, crc)
	hdrs := sign("PUT", "/bkt/k", "", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		"Content-Encoding", "aws-chunked", "x-amz-decoded-content-length", strconv.Itoa(len(data)),
		"x-amz-trailer", "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm", "CRC32")
	r := ts.send(false, "PUT", "/bkt/k", body, hdrs...)
	expectStatus(t, r, 200)
	o := ts.layer.buckets["bkt"].objects["k"]
	if string(o.data) != data || o.info.ContentEncoding != "" || o.info.Checksums[object.ChecksumCRC32] != crc || r.header["x-amz-checksum-crc32"] != crc {
		t.Fatalf("stored %q enc %q sums %v hdr %v", o.data, o.info.ContentEncoding, o.info.Checksums, r.header)
	}
	wrong := fmt.Sprintf("%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n", len(data), data, checksumOf(object.ChecksumCRC32, []byte("x")))
	hdrs2 := sign("PUT", "/bkt/k2", "", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		"Content-Encoding", "aws-chunked", "x-amz-decoded-content-length", strconv.Itoa(len(data)),
		"x-amz-trailer", "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm", "CRC32")
	expectError(t, ts.send(false, "PUT", "/bkt/k2", wrong, hdrs2...), 400, "BadDigest")
}
