package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	exampleAK     = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// exampleTime is the time of every AWS documentation example.
var exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func exampleLookup(ak string) (string, bool) {
	if ak == exampleAK {
		return exampleSecret, true
	}
	return "", false
}

// fromHTTP converts a signed net/http request into a Request the way a
// server sees it on the wire.
func fromHTTP(req *http.Request) *Request {
	r := &Request{
		Method:   req.Method,
		RawPath:  req.URL.EscapedPath(),
		RawQuery: req.URL.RawQuery,
		Host:     req.Host,
	}
	if req.URL.Opaque != "" {
		r.RawPath = req.URL.Opaque
	}
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	r.Headers = append(r.Headers, [2]string{"Host", r.Host})
	if req.ContentLength > 0 {
		r.Headers = append(r.Headers, [2]string{"Content-Length", strconv.FormatInt(req.ContentLength, 10)})
	}
	for name, vals := range req.Header {
		for _, v := range vals {
			r.Headers = append(r.Headers, [2]string{name, v})
		}
	}
	return r
}

// s3EscapePath encodes an object key as the S3 SDKs put it in the path:
// everything but RFC 3986 unreserved characters and '/' is %XX.
func s3EscapePath(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if isUnreserved(c) || c == '/' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}

func sdkCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: exampleAK, SecretAccessKey: exampleSecret}
}

func s3SignerOpts(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }

// sdkSign signs req with the aws-sdk-go-v2 signer as the S3 client does.
func sdkSign(t testing.TB, req *http.Request, payloadHash, region string, at time.Time) *Request {
	t.Helper()
	if req.Header.Get("X-Amz-Content-Sha256") == "" {
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), sdkCreds(), req, payloadHash, "s3", region, at, s3SignerOpts); err != nil {
		t.Fatal(err)
	}
	return fromHTTP(req)
}

// sdkPresign presigns req with the aws-sdk-go-v2 signer.
func sdkPresign(t testing.TB, req *http.Request, expires time.Duration, region string, at time.Time) *Request {
	t.Helper()
	q := req.URL.Query()
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	req.URL.RawQuery = q.Encode()
	u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), sdkCreds(), req, "UNSIGNED-PAYLOAD", "s3", region, at, s3SignerOpts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := http.NewRequest(req.Method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if !strings.EqualFold(k, "host") {
			out.Header[k] = v
		}
	}
	return fromHTTP(out)
}

func newHTTPRequest(t testing.TB, method, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func wantCode(t testing.TB, err error, code string, status int) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("err = %v (%T), want *Error %s", err, err, code)
	}
	if e.Code != code || e.Status != status {
		t.Fatalf("err = %v (status %d), want %s (%d)", e, e.Status, code, status)
	}
}

// --- a reference aws-chunked encoder, written from the AWS documentation
// with the standard library's HMAC, independent of the decoder. ---

type chunkEncoder struct {
	key     []byte
	date    string
	scope   string
	prevSig string
}

func stdHMAC(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func stdHex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func (e *chunkEncoder) chunkSig(data []byte) string {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + e.date + "\n" + e.scope + "\n" + e.prevSig + "\n" +
		stdHex(nil) + "\n" + stdHex(data)
	e.prevSig = hex.EncodeToString(stdHMAC(e.key, sts))
	return e.prevSig
}

func (e *chunkEncoder) trailerSig(trailers [][2]string) string {
	var tl string
	for _, t := range trailers {
		tl += t[0] + ":" + t[1] + "\n"
	}
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + e.date + "\n" + e.scope + "\n" + e.prevSig + "\n" + stdHex([]byte(tl))
	return hex.EncodeToString(stdHMAC(e.key, sts))
}

// encodeChunked frames data in chunks of chunkSize for mode.
func encodeChunked(mode PayloadMode, res *Result, data []byte, chunkSize int, trailers [][2]string) []byte {
	e := &chunkEncoder{key: res.SigningKey, date: res.Date, scope: res.Scope, prevSig: res.SeedSignature}
	signed := mode != PayloadStreamingUnsignedTrail
	var b bytes.Buffer
	writeChunk := func(c []byte) {
		b.WriteString(strconv.FormatInt(int64(len(c)), 16))
		if signed {
			b.WriteString(";chunk-signature=" + e.chunkSig(c))
		}
		b.WriteString("\r\n")
		if len(c) > 0 {
			b.Write(c)
			b.WriteString("\r\n")
		}
	}
	for len(data) > 0 {
		n := min(chunkSize, len(data))
		writeChunk(data[:n])
		data = data[n:]
	}
	writeChunk(nil)
	if mode != PayloadStreamingSigned {
		for _, t := range trailers {
			b.WriteString(t[0] + ":" + t[1] + "\r\n")
		}
		if mode == PayloadStreamingSignedTrail {
			b.WriteString("x-amz-trailer-signature:" + e.trailerSig(trailers) + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// signingKeyFor derives a signing key with the standard library.
func signingKeyFor(secret, date, region, service string) []byte {
	k := stdHMAC([]byte("AWS4"+secret), date)
	k = stdHMAC(k, region)
	k = stdHMAC(k, service)
	return stdHMAC(k, "aws4_request")
}
