package sigv4

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ and run as regression
// tests with plain `go test`.

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	f.Fuzz(func(t *testing.T, h string) {
		p, err := parseAuthorization(h)
		if err == nil && (p.credential == "" || p.signedHeaders == "" || p.signature == "") {
			t.Fatalf("accepted %q with an empty component: %+v", h, p)
		}
		// The whole verification path must not panic either, and must
		// reject (the fuzzer cannot forge a signature).
		r := &Request{Method: "GET", RawPath: "/test.txt", Host: "examplebucket.s3.amazonaws.com",
			Headers: [][2]string{
				{"Host", "examplebucket.s3.amazonaws.com"},
				{"Authorization", h},
				{"x-amz-date", "20130524T000000Z"},
				{"x-amz-content-sha256", emptySHA256},
				{"Range", "bytes=0-9"},
			}}
		res, verr := Verify(r, exampleLookup, "us-east-1", exampleTime)
		var e *Error
		switch {
		case verr == nil && p != fuzzGoodParams:
			t.Fatalf("accepted %q: %+v", h, res)
		case verr != nil && !errors.As(verr, &e):
			t.Fatalf("error %v is not *Error", verr)
		case verr != nil && (e.Status < 400 || e.Code == ""):
			t.Fatalf("bad error %+v", e)
		}
	})
}

// fuzzGoodParams is what every Authorization value that verifies in
// FuzzParseAuthorization must parse to: the S3 GetObject documentation
// example, up to blanks around its separators.
var fuzzGoodParams, _ = parseAuthorization(fuzzGoodAuth)

const fuzzGoodAuth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"

// fuzzSignedData is the payload of every validly signed body in the
// FuzzChunkedReader seed corpus (signed with the seed of streamingResult).
const fuzzSignedData = "hello chunked world!"

func FuzzChunkedReader(f *testing.F) {
	f.Add([]byte("b\r\nHello world\r\n0\r\nx-amz-checksum-sha256:ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=\r\n\r\n"), uint8(3), int64(11), []byte("hello world"), uint16(4), uint32(0), uint8(0))
	f.Add([]byte("10;chunk-signature=00\r\n"), uint8(2), int64(-1), []byte("some data that spans chunks"), uint16(8), uint32(30), uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, modeSel uint8, decoded int64, data []byte, chunk uint16, pos uint32, xor uint8) {
		mode := allStreamingModes[int(modeSel)%len(allStreamingModes)]
		var names []string
		var trailers [][2]string
		if mode != PayloadStreamingSigned {
			names = []string{"x-amz-checksum-crc32"}
			trailers = [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
		}

		// 1. Arbitrary bodies: no panic, never more out than in, and in
		// the signed modes only data that was signed.
		res := streamingResult(mode, decoded, names...)
		got, err := io.ReadAll(io.LimitReader(NewChunkedReader(bytes.NewReader(body), res), int64(len(body))+1))
		if len(got) > len(body) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(body))
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not *Error", err)
			}
		}
		// Every signed chain starts at the fixed seed signature, and the
		// only chains the fuzzer holds are the checked-in seeds, which all
		// sign fuzzSignedData; it cannot forge others.
		if mode != PayloadStreamingUnsignedTrail && !bytes.HasPrefix([]byte(fuzzSignedData), got) {
			t.Fatalf("signed mode yielded %q, which nobody signed", got)
		}

		// 2. A valid body with one byte flipped: whatever is yielded is a
		// prefix of the signed data; in the signed modes an error-free
		// decode means the data is exactly what was signed.
		cs := int(chunk)%4096 + 1
		res = streamingResult(mode, int64(len(data)), names...)
		enc := encodeChunked(mode, res, data, cs, trailers)
		if len(enc) > 0 {
			enc[int(pos)%len(enc)] ^= xor
		}
		cr := NewChunkedReader(bytes.NewReader(enc), res)
		got, err = io.ReadAll(cr)
		if mode == PayloadStreamingUnsignedTrail {
			return // unsigned data may be altered at will
		}
		if !bytes.HasPrefix(data, got) {
			t.Fatalf("yielded %q, not a prefix of the signed %q", got, data)
		}
		if err == nil && !bytes.Equal(got, data) {
			t.Fatalf("no error but yielded %q, signed %q", got, data)
		}
		if err == nil && mode == PayloadStreamingSignedTrail && cr.Trailer("x-amz-checksum-crc32") != "AAAAAA==" {
			t.Fatalf("trailer altered without error: %q", cr.Trailer("x-amz-checksum-crc32"))
		}
	})
}

func FuzzPresignQuery(f *testing.F) {
	f.Add("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
	f.Fuzz(func(t *testing.T, q string) {
		r := &Request{Method: "GET", RawPath: "/test.txt", RawQuery: q, Host: "examplebucket.s3.amazonaws.com",
			Headers: [][2]string{{"Host", "examplebucket.s3.amazonaws.com"}}}
		res, err := Verify(r, exampleLookup, "us-east-1", exampleTime.Add(time.Hour))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" || e.Status < 400 {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if res.Presigned {
			// Only the documented example (up to the order and encoding of
			// its parameters) can verify.
			if !strings.Contains(q, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404") {
				t.Fatalf("accepted presigned query %q", q)
			}
			return
		}
		if !res.Anonymous {
			t.Fatalf("neither presigned nor anonymous: %+v", res)
		}
		_ = canonicalComponent(q)
		_ = appendCanonicalQuery(nil, q, true)
	})
}
