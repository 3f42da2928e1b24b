package sigv4

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// Examples from the Amazon S3 API reference, "Signature Calculations for
// the Authorization Header" and "Query String Authentication", all signed
// with AKIAIOSFODNN7EXAMPLE at 2013-05-24T00:00:00Z in us-east-1.

func exampleAuth(signedHeaders, sig string) string {
	return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=" +
		signedHeaders + ",Signature=" + sig
}

func TestS3DocumentationExamples(t *testing.T) {
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	tests := []struct {
		name string
		req  Request
		mode PayloadMode
	}{
		{"GetObject", Request{
			Method: "GET", RawPath: "/test.txt", Host: "examplebucket.s3.amazonaws.com",
			Headers: [][2]string{
				{"Host", "examplebucket.s3.amazonaws.com"},
				{"Authorization", exampleAuth("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")},
				{"x-amz-date", "20130524T000000Z"},
				{"x-amz-content-sha256", emptyHash},
				{"Range", "bytes=0-9"},
			},
		}, PayloadSHA256},
		{"PutObject", Request{
			// The key "test$file.text" is sent with a literal '$' and
			// signed as "/test%24file.text".
			Method: "PUT", RawPath: "/test$file.text", Host: "examplebucket.s3.amazonaws.com",
			Headers: [][2]string{
				{"Host", "examplebucket.s3.amazonaws.com"},
				{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
				{"Authorization", exampleAuth("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")},
				{"x-amz-date", "20130524T000000Z"},
				{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
				{"x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"},
			},
		}, PayloadSHA256},
		{"GetBucketLifecycle", Request{
			Method: "GET", RawPath: "/", RawQuery: "lifecycle", Host: "examplebucket.s3.amazonaws.com",
			Headers: [][2]string{
				{"Host", "examplebucket.s3.amazonaws.com"},
				{"Authorization", exampleAuth("host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")},
				{"x-amz-date", "20130524T000000Z"},
				{"x-amz-content-sha256", emptyHash},
			},
		}, PayloadSHA256},
		{"ListObjects", Request{
			Method: "GET", RawPath: "/", RawQuery: "max-keys=2&prefix=J", Host: "examplebucket.s3.amazonaws.com",
			Headers: [][2]string{
				{"Host", "examplebucket.s3.amazonaws.com"},
				{"Authorization", exampleAuth("host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")},
				{"x-amz-date", "20130524T000000Z"},
				{"x-amz-content-sha256", emptyHash},
			},
		}, PayloadSHA256},
		{"PresignedGetObject", Request{
			Method: "GET", RawPath: "/test.txt", Host: "examplebucket.s3.amazonaws.com",
			RawQuery: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
			Headers:  [][2]string{{"Host", "examplebucket.s3.amazonaws.com"}},
		}, PayloadUnsigned},
	}
	v := NewVerifier(exampleLookup, "us-east-1", 0)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, verify := range []func() (*Result, error){
				func() (*Result, error) { return Verify(&tc.req, exampleLookup, "us-east-1", exampleTime) },
				func() (*Result, error) { return v.Verify(&tc.req, exampleTime) },
			} {
				res, err := verify()
				if err != nil {
					t.Fatal(err)
				}
				if res.AccessKey != exampleAK || res.Mode != tc.mode || res.Anonymous ||
					res.Presigned != strings.HasPrefix(tc.name, "Presigned") {
					t.Fatalf("result %+v", res)
				}
				if res.Scope != "20130524/us-east-1/s3/aws4_request" || res.Date != "20130524T000000Z" {
					t.Fatalf("scope %q date %q", res.Scope, res.Date)
				}
			}
			// Any change to a signed element must fail.
			bad := tc.req
			bad.RawPath += "x"
			_, err := v.Verify(&bad, exampleTime)
			wantCode(t, err, CodeSignatureDoesNotMatch, 403)
		})
	}
}

// chunkedExample is the 66560-byte upload of "Signature Calculations for
// the Authorization Header: Transferring Payload in Multiple Chunks".
func chunkedExample() (Request, []byte) {
	req := Request{
		Method: "PUT", RawPath: "/examplebucket/chunkObject.txt", Host: "s3.amazonaws.com",
		Headers: [][2]string{
			{"Host", "s3.amazonaws.com"},
			{"x-amz-date", "20130524T000000Z"},
			{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
			{"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"},
			{"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
			{"Content-Encoding", "aws-chunked"},
			{"x-amz-decoded-content-length", "66560"},
			{"Content-Length", "66824"},
		},
	}
	a := bytes.Repeat([]byte{'a'}, 65536)
	b := bytes.Repeat([]byte{'a'}, 1024)
	var body bytes.Buffer
	body.WriteString("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n")
	body.Write(a)
	body.WriteString("\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n")
	body.Write(b)
	body.WriteString("\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n")
	return req, body.Bytes()
}

func TestS3ChunkedExample(t *testing.T) {
	req, body := chunkedExample()
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes, want 66824", len(body))
	}
	res, err := Verify(&req, exampleLookup, "us-east-1", exampleTime)
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != PayloadStreamingSigned || res.DecodedLength != 66560 ||
		res.SeedSignature != "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9" {
		t.Fatalf("result %+v", res)
	}
	got, err := io.ReadAll(NewChunkedReader(bytes.NewReader(body), res))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, bytes.Repeat([]byte{'a'}, 66560)) {
		t.Fatalf("decoded %d bytes, want 66560 'a'", len(got))
	}
	// Our independent encoder reproduces the documented chunk signatures.
	enc := encodeChunked(PayloadStreamingSigned, res, got, 65536, nil)
	if !bytes.Equal(enc, body) {
		t.Fatal("reference encoder does not reproduce the documented body")
	}
}

func TestS3ChunkedExampleTampering(t *testing.T) {
	req, body := chunkedExample()
	res, err := Verify(&req, exampleLookup, "us-east-1", exampleTime)
	if err != nil {
		t.Fatal(err)
	}
	firstHdr := bytes.Index(body, []byte("\r\n")) + 2
	secondHdr := bytes.Index(body, []byte("400;"))
	finalHdr := bytes.Index(body, []byte("0;chunk-signature=b6c6"))

	flip := func(i int) []byte { b := bytes.Clone(body); b[i] ^= 1; return b }
	reorder := func() []byte {
		// Swap the two data chunks (with their headers).
		var b []byte
		b = append(b, body[secondHdr:finalHdr]...)
		b = append(b, body[:secondHdr]...)
		return append(b, body[finalHdr:]...)
	}
	cases := []struct {
		name     string
		body     []byte
		code     string
		maxBytes int // decoded bytes allowed before the error
	}{
		{"first chunk data", flip(firstHdr + 10), CodeSignatureDoesNotMatch, 0},
		{"second chunk data", flip(secondHdr + 100), CodeSignatureDoesNotMatch, 65536},
		{"first signature", flip(30), CodeSignatureDoesNotMatch, 0},
		{"final signature", flip(finalHdr + 30), CodeSignatureDoesNotMatch, 66560},
		{"reordered chunks", reorder(), CodeSignatureDoesNotMatch, 0},
		{"truncated in data", body[:firstHdr+1000], CodeIncompleteBody, 0},
		{"truncated before final chunk", body[:finalHdr], CodeIncompleteBody, 66560},
		{"final chunk dropped, ended", append(bytes.Clone(body[:finalHdr]), "\r\n"...), CodeIncompleteBody, 66560},
		{"bad size", append([]byte("zz"), body[5:]...), CodeIncompleteBody, 0},
		{"missing CRLF after data", bytes.Replace(bytes.Clone(body), []byte("\r\n400;"), []byte("\n\n400;"), 1), CodeIncompleteBody, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := io.ReadAll(NewChunkedReader(bytes.NewReader(tc.body), res))
			wantCode(t, err, tc.code, map[string]int{CodeSignatureDoesNotMatch: 403, CodeIncompleteBody: 400}[tc.code])
			if len(got) > tc.maxBytes {
				t.Fatalf("yielded %d bytes before the error, want at most %d", len(got), tc.maxBytes)
			}
		})
	}
	// Wrong decoded length.
	for _, n := range []int64{66559, 66561, 0} {
		r2 := *res
		r2.DecodedLength = n
		_, err := io.ReadAll(NewChunkedReader(bytes.NewReader(body), &r2))
		wantCode(t, err, CodeIncompleteBody, 400)
	}
}
