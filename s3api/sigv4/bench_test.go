package sigv4

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// benchRequest is a typical SDK PutObject: eight signed headers, a query
// string, an encoded key.
func benchRequest(b *testing.B, at time.Time) *Request {
	req := newHTTPRequest(b, "PUT", "https://bucket.s3.example.com/photos/2026/03/IMG%200001.jpg?x-id=PutObject", []byte("0123456789"))
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("X-Amz-Meta-Camera", "  Nikon   Z6  ")
	req.Header.Set("X-Amz-Storage-Class", "STANDARD")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.7")
	return sdkSign(b, req, stdHex([]byte("0123456789")), "us-east-1", at)
}

func BenchmarkVerifyHeader(b *testing.B) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := benchRequest(b, at)
	v := NewVerifier(exampleLookup, "us-east-1", 0)
	if _, err := v.Verify(r, at); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, at); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyHeaderUncached is the package-level, stateless Verify:
// four more HMACs per request for the key derivation.
func BenchmarkVerifyHeaderUncached(b *testing.B) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := benchRequest(b, at)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(r, exampleLookup, "us-east-1", at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChunkedSigned(b *testing.B) {
	data := bytes.Repeat([]byte("x"), 1<<20)
	res := streamingResult(PayloadStreamingSigned, int64(len(data)))
	body := encodeChunked(PayloadStreamingSigned, res, data, 64<<10, nil)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := io.CopyBuffer(io.Discard, NewChunkedReader(bytes.NewReader(body), res), buf); err != nil {
			b.Fatal(err)
		}
	}
}
