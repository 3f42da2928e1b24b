package sigv4

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func streamingResult(mode PayloadMode, decoded int64, trailers ...string) *Result {
	return &Result{
		AccessKey:     exampleAK,
		Mode:          mode,
		SeedSignature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
		SigningKey:    signingKeyFor(exampleSecret, "20130524", "us-east-1", "s3"),
		Scope:         "20130524/us-east-1/s3/aws4_request",
		Date:          "20130524T000000Z",
		DecodedLength: decoded,
		Trailers:      trailers,
	}
}

var allStreamingModes = []PayloadMode{PayloadStreamingSigned, PayloadStreamingUnsignedTrail, PayloadStreamingSignedTrail}

// readSmall reads r 7 bytes at a time, as a slow consumer would.
func readSmall(r io.Reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 7)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestChunkedRoundTrip(t *testing.T) {
	trailerSets := [][][2]string{
		nil,
		{{"x-amz-checksum-crc32", "sOO8/Q=="}},
		{{"x-amz-checksum-crc32c", "AAAAAA=="}, {"x-amz-checksum-sha256", "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw="}},
	}
	for _, mode := range allStreamingModes {
		for _, size := range []int{0, 1, 8191, 65536, 100000} {
			for _, chunk := range []int{8192, 65536, 1 << 20} {
				for ti, trailers := range trailerSets {
					if mode == PayloadStreamingSigned && trailers != nil {
						continue
					}
					name := fmt.Sprintf("mode%d/size%d/chunk%d/trailers%d", mode, size, chunk, ti)
					data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
					var names []string
					for _, tr := range trailers {
						names = append(names, tr[0])
					}
					res := streamingResult(mode, int64(size), names...)
					body := encodeChunked(mode, res, data, chunk, trailers)
					for _, wrap := range []func(io.Reader) io.Reader{
						func(r io.Reader) io.Reader { return r },
						iotest.OneByteReader,
						iotest.HalfReader,
						iotest.DataErrReader,
					} {
						cr := NewChunkedReader(wrap(bytes.NewReader(body)), res)
						got, err := readSmall(cr)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						if !bytes.Equal(got, data) {
							t.Fatalf("%s: decoded %d bytes, want %d", name, len(got), len(data))
						}
						for _, tr := range trailers {
							if v := cr.Trailer(tr[0]); v != tr[1] {
								t.Fatalf("%s: trailer %s = %q, want %q", name, tr[0], v, tr[1])
							}
						}
					}
					// Unknown decoded length works too.
					res.DecodedLength = -1
					if got, err := io.ReadAll(NewChunkedReader(bytes.NewReader(body), res)); err != nil || !bytes.Equal(got, data) {
						t.Fatalf("%s without decoded length: %v", name, err)
					}
				}
			}
		}
	}
}

// TestChunkedSDKUnsignedExample decodes the body the aws-sdk-go-v2 checksum
// middleware documents for STREAMING-UNSIGNED-PAYLOAD-TRAILER.
func TestChunkedSDKUnsignedExample(t *testing.T) {
	body := "b\r\nHello world\r\n0\r\nx-amz-checksum-sha256:ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=\r\n\r\n"
	res := &Result{Mode: PayloadStreamingUnsignedTrail, DecodedLength: 11, Trailers: []string{"x-amz-checksum-sha256"}}
	cr := NewChunkedReader(strings.NewReader(body), res)
	if cr.Trailer("x-amz-checksum-sha256") != "" {
		t.Fatal("trailer visible before EOF")
	}
	got, err := io.ReadAll(cr)
	if err != nil || string(got) != "Hello world" {
		t.Fatalf("got %q, %v", got, err)
	}
	if v := cr.Trailer("x-amz-checksum-sha256"); v != "ZOyIygCyaOW6GjVnihtTFtIS9PNmskdyMlNKiuyjfzw=" {
		t.Fatalf("trailer %q", v)
	}
}

func TestChunkedWhitespaceVariants(t *testing.T) {
	res := streamingResult(PayloadStreamingSignedTrail, 5, "x-amz-checksum-crc32")
	trailers := [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
	body := string(encodeChunked(PayloadStreamingSignedTrail, res, []byte("hello"), 8192, trailers))
	variants := map[string]string{
		"spaces around ;=":       strings.ReplaceAll(body, ";chunk-signature=", " ; chunk-signature = "),
		"trailing blank":         strings.Replace(body, "\r\nhello", " \r\nhello", 1),
		"space after colon":      strings.Replace(body, "x-amz-checksum-crc32:", "x-amz-checksum-crc32: ", 1),
		"upper-case trailer":     strings.Replace(body, "x-amz-checksum-crc32:", "X-Amz-Checksum-CRC32:", 1),
		"blank before trailers":  strings.Replace(body, "\r\nx-amz-checksum-crc32:", "\r\n\r\nx-amz-checksum-crc32:", 1),
		"upper-case size digits": body, // sizes are lower-case hex already; decoder accepts both
	}
	for name, b := range variants {
		cr := NewChunkedReader(strings.NewReader(b), res)
		got, err := io.ReadAll(cr)
		if err != nil || string(got) != "hello" || cr.Trailer("x-amz-checksum-crc32") != "AAAAAA==" {
			t.Errorf("%s: got %q, %v", name, got, err)
		}
	}
}

func TestChunkedErrors(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 20000)
	crc := [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
	enc := func(mode PayloadMode, trailers [][2]string, announced ...string) (*Result, string) {
		res := streamingResult(mode, int64(len(data)), announced...)
		return res, string(encodeChunked(mode, res, data, 8192, trailers))
	}
	type tc struct {
		name string
		res  *Result
		body string
		code string
	}
	var cases []tc
	add := func(name string, res *Result, body, code string) { cases = append(cases, tc{name, res, body, code}) }

	res, body := enc(PayloadStreamingSignedTrail, crc, "x-amz-checksum-crc32")
	add("signed trailer: value tampered", res, strings.Replace(body, "AAAAAA==", "AAAAAB==", 1), CodeSignatureDoesNotMatch)
	add("signed trailer: signature missing", res, body[:strings.Index(body, "x-amz-trailer-signature")]+"\r\n", CodeSignatureDoesNotMatch)
	add("signed trailer: signature tampered", res, strings.Replace(body, "x-amz-trailer-signature:", "x-amz-trailer-signature:0", 1)[:len(body)-2]+"\r\n", CodeSignatureDoesNotMatch)
	add("signed trailer: truncated", res, body[:len(body)-2], CodeIncompleteBody)
	add("signed trailer: trailer after signature", res, strings.TrimSuffix(body, "\r\n")+"x-amz-checksum-crc32c:AAAAAA==\r\n\r\n", CodeMalformedTrailerError)
	res2 := *res
	res2.Trailers = []string{"x-amz-checksum-sha256"}
	add("signed trailer: not announced", &res2, body, CodeMalformedTrailerError)
	res3 := *res
	res3.Trailers = []string{"x-amz-checksum-crc32", "x-amz-checksum-sha256"}
	add("signed trailer: announced one missing", &res3, body, CodeMalformedTrailerError)

	res, body = enc(PayloadStreamingUnsignedTrail, crc, "x-amz-checksum-crc32")
	add("unsigned trailer: no colon", res, strings.Replace(body, "x-amz-checksum-crc32:", "x-amz-checksum-crc32 ", 1), CodeMalformedTrailerError)
	add("unsigned trailer: duplicate", res, strings.Replace(body, "x-amz-checksum-crc32:AAAAAA==\r\n", "x-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:AAAAAA==\r\n", 1), CodeMalformedTrailerError)
	add("unsigned trailer: bare LF", res, strings.Replace(body, "AAAAAA==\r\n", "AAAAAA==\n", 1), CodeIncompleteBody)
	add("unsigned: truncated data", res, body[:9000], CodeIncompleteBody)
	add("unsigned: bad hex", res, "2g\r\n"+body[6:], CodeIncompleteBody)
	add("unsigned: long line", res, strings.Repeat("0", 5000)+"\r\n", CodeIncompleteBody)
	resShort := *res
	resShort.DecodedLength = 100
	add("unsigned: longer than decoded length", &resShort, body, CodeIncompleteBody)

	res, body = enc(PayloadStreamingSigned, nil)
	add("signed: huge claimed chunk", res, "fffffff;chunk-signature="+strings.Repeat("0", 64)+"\r\nabc", CodeIncompleteBody)
	add("signed: size overflow", res, "fffffffffffffffff;chunk-signature="+strings.Repeat("0", 64)+"\r\n", CodeIncompleteBody)
	add("signed: no signature", res, "2000\r\n"+body[strings.Index(body, "\r\n")+2:], CodeIncompleteBody)
	add("signed: short signature", res, "2000;chunk-signature=abc\r\n", CodeSignatureDoesNotMatch)
	add("signed: garbage after final chunk", res, strings.TrimSuffix(body, "\r\n")+"junk\r\n", CodeIncompleteBody)
	badSeed := *res
	badSeed.SeedSignature = strings.Repeat("0", 64)
	add("signed: wrong seed", &badSeed, body, CodeSignatureDoesNotMatch)
	add("not streaming", &Result{Mode: PayloadUnsigned}, body, CodeInvalidRequest)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cr := NewChunkedReader(strings.NewReader(c.body), c.res)
			_, err := io.ReadAll(cr)
			if !IsCode(err, c.code) {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
			// Errors are sticky.
			if _, err2 := cr.Read(make([]byte, 10)); err2 != err {
				t.Fatalf("second read err = %v", err2)
			}
			if cr.Trailer("x-amz-checksum-crc32") != "" {
				t.Fatal("trailer visible after failure")
			}
		})
	}
}

// TestChunkedTruncationEverywhere cuts a signed-trailer body at every
// offset: never a nil error before the end, never unsigned data.
func TestChunkedTruncationEverywhere(t *testing.T) {
	data := []byte("the quick brown fox jumps over the lazy dog")
	for _, mode := range allStreamingModes {
		var trailers [][2]string
		var names []string
		if mode != PayloadStreamingSigned {
			trailers = [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
			names = []string{"x-amz-checksum-crc32"}
		}
		res := streamingResult(mode, int64(len(data)), names...)
		body := encodeChunked(mode, res, data, 10, trailers)
		for cut := 0; cut < len(body); cut++ {
			got, err := io.ReadAll(NewChunkedReader(bytes.NewReader(body[:cut]), res))
			if mode == PayloadStreamingSigned && cut == len(body)-2 {
				// The final CRLF of the plain signed mode is optional.
				if err != nil {
					t.Fatalf("mode %d cut %d: %v", mode, cut, err)
				}
				continue
			}
			if err == nil {
				t.Fatalf("mode %d cut %d of %d: no error", mode, cut, len(body))
			}
			if !bytes.HasPrefix(data, got) {
				t.Fatalf("mode %d cut %d: yielded %q", mode, cut, got)
			}
		}
	}
}
