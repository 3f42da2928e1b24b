package sigv4

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Cross-checks against the aws-sdk-go-v2 signer: whatever it signs (the
// way the S3 client uses it), Verify must accept, and any change to a
// signed element must be rejected.

var sdkKeys = []string{
	"plain.txt",
	"dir/sub dir/file with spaces.txt",
	"a+b+c",
	"eq=uals&amp;",
	"~tilde-_.",
	"ünïcödé/キー/ключ",
	"percent%20literal%",
	"!$'()*,;:@",
	"double//slash/./dot/../x",
	"trailing/",
	"hash#question?",
}

var sdkQueries = []string{
	"",
	"uploads",
	"list-type=2&prefix=a b&delimiter=/",
	"uploadId=abc%2Bdef&partNumber=3",
	"versionId=3%2F4%3D&tagging",
	"prefix=%E3%82%AD&max-keys=10&encoding-type=url",
	"b=2&a=1&a=0&c",
	"response-content-disposition=attachment%3B%20filename%3D%22x%20y.txt%22",
}

func TestSDKHeaderAuth(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v := NewVerifier(exampleLookup, "eu-west-3", 16)
	for _, key := range sdkKeys {
		for _, q := range sdkQueries {
			url := "https://bucket.s3.example.com/" + s3EscapePath(key)
			if q != "" {
				url += "?" + q
			}
			req := newHTTPRequest(t, "PUT", url, []byte("hello"))
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Add("X-Amz-Meta-Multi", "  one   two  ")
			req.Header.Add("X-Amz-Meta-Multi", "three")
			payload := stdHex([]byte("hello"))
			r := sdkSign(t, req, payload, "eu-west-3", at)

			res, err := v.Verify(r, at.Add(10*time.Minute))
			if err != nil {
				t.Fatalf("key %q query %q: %v\nauth %s", key, q, err, req.Header.Get("Authorization"))
			}
			if res.Mode != PayloadSHA256 || stdHex([]byte("hello")) != hexOf(res.PayloadSHA256) {
				t.Fatalf("mode %v digest %x", res.Mode, res.PayloadSHA256)
			}
			// Tamper with each part in turn.
			tampered := []func(r *Request){
				func(r *Request) { r.RawPath += "z" },
				func(r *Request) { r.RawQuery += "&x-id=1" },
				func(r *Request) { r.Method = "POST" },
				func(r *Request) { r.Host = "other.example.com" },
				func(r *Request) { setHeader(r, "Content-Type", "text/html") },
				func(r *Request) { setHeader(r, "X-Amz-Content-Sha256", stdHex([]byte("evil"))) },
			}
			for i, f := range tampered {
				r2 := cloneRequest(r)
				f(r2)
				if _, err := v.Verify(r2, at); !IsCode(err, CodeSignatureDoesNotMatch) {
					t.Fatalf("key %q query %q tamper %d: err = %v", key, q, i, err)
				}
			}
		}
	}
	if n := v.keys.len(); n != 1 {
		t.Fatalf("key cache holds %d keys, want 1", n)
	}
}

func TestSDKPresign(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v := NewVerifier(exampleLookup, "us-east-1", 0)
	for _, key := range sdkKeys {
		for _, q := range sdkQueries {
			url := "https://bucket.s3.example.com/" + s3EscapePath(key)
			if q != "" {
				url += "?" + q
			}
			req := newHTTPRequest(t, "GET", url, nil)
			req.Header.Set("X-Amz-Meta-Hoisted", "v")    // hoisted into the query
			req.Header.Set("Content-Type", "text/plain") // stays a signed header
			r := sdkPresign(t, req, time.Hour, "us-east-1", at)

			res, err := v.Verify(r, at.Add(59*time.Minute))
			if err != nil {
				t.Fatalf("key %q query %q: %v\nquery %s", key, q, err, r.RawQuery)
			}
			if !res.Presigned || res.Mode != PayloadUnsigned {
				t.Fatalf("result %+v", res)
			}
			_, err = v.Verify(r, at.Add(61*time.Minute))
			wantCode(t, err, CodeAccessDenied, 403)
			if !strings.Contains(err.Error(), "expired") {
				t.Fatal(err)
			}
			r2 := cloneRequest(r)
			r2.RawQuery = strings.Replace(r2.RawQuery, "X-Amz-Expires=3600", "X-Amz-Expires=3601", 1)
			_, err = v.Verify(r2, at)
			wantCode(t, err, CodeSignatureDoesNotMatch, 403)
		}
	}
}

func TestSDKSigningKeyMatches(t *testing.T) {
	got := deriveSigningKey(exampleSecret, "20130524", "us-east-1", "s3")
	want := signingKeyFor(exampleSecret, "20130524", "us-east-1", "s3")
	if hexOf(got[:]) != hexOf(want) {
		t.Fatalf("signing key %x, want %x", got, want)
	}
	long := strings.Repeat("k", 200) // longer than the HMAC block
	got = deriveSigningKey(long, "20130524", "us-east-1", "s3")
	if hexOf(got[:]) != hexOf(signingKeyFor(long, "20130524", "us-east-1", "s3")) {
		t.Fatal("long secret")
	}
}

func hexOf(b []byte) string {
	const h = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, h[c>>4], h[c&15])
	}
	return string(out)
}

func cloneRequest(r *Request) *Request {
	c := *r
	c.Headers = append([][2]string(nil), r.Headers...)
	return &c
}

func setHeader(r *Request, name, value string) {
	for i := range r.Headers {
		if strings.EqualFold(r.Headers[i][0], name) {
			r.Headers[i][1] = value
			return
		}
	}
	r.Headers = append(r.Headers, [2]string{name, value})
}

func delHeader(r *Request, name string) {
	out := r.Headers[:0]
	for _, h := range r.Headers {
		if !strings.EqualFold(h[0], name) {
			out = append(out, h)
		}
	}
	r.Headers = out
}

var _ = http.MethodGet
