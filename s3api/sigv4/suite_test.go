package sigv4

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Vectors of the AWS SigV4 test suite (aws-sig-v4-test-suite, 2015-08-30),
// service "service" in us-east-1. The suite's path-normalisation cases are
// left out: S3 does not normalise paths. Each expected signature is also
// reproduced with the aws-sdk-go-v2 signer, so a mistyped vector cannot
// pass silently.
func TestSigV4Suite(t *testing.T) {
	const (
		secret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
		amzDate = "20150830T123600Z"
		scope   = "20150830/us-east-1/service/aws4_request"
	)
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	key := signingKeyFor(secret, "20150830", "us-east-1", "service")
	hdr := func(kv ...string) [][2]string {
		h := [][2]string{{"Host", "example.amazonaws.com"}, {"X-Amz-Date", amzDate}}
		for i := 0; i < len(kv); i += 2 {
			h = append(h, [2]string{kv[i], kv[i+1]})
		}
		return h
	}
	tests := []struct {
		name, method, path, query string
		headers                   [][2]string
		signed                    string
		body                      string
		want                      string
	}{
		{"get-vanilla", "GET", "/", "", hdr(), "host;x-amz-date", "",
			"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", hdr(), "host;x-amz-date", "",
			"b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"get-vanilla-empty-query-key", "GET", "/", "Param1=value1", hdr(), "host;x-amz-date", "",
			"a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
		{"get-utf8", "GET", "/%E1%88%B4", "", hdr(), "host;x-amz-date", "",
			"8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
		{"get-vanilla-utf8-query", "GET", "/", "%E1%88%B4=bar", hdr(), "host;x-amz-date", "",
			"2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
		{"get-header-value-trim", "GET", "/", "", hdr("My-Header1", " value1", "My-Header2", ` "a   b   c"`),
			"host;my-header1;my-header2;x-amz-date", "",
			"acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
		{"get-header-key-duplicate", "GET", "/", "", hdr("My-Header1", "value2", "My-Header1", "value2", "My-Header1", "value1"),
			"host;my-header1;x-amz-date", "",
			"c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
		{"post-vanilla", "POST", "/", "", hdr(), "host;x-amz-date", "",
			"5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"post-vanilla-query", "POST", "/", "Param1=value1", hdr(), "host;x-amz-date", "",
			"28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
		{"post-header-key-sort", "POST", "/", "", hdr("My-Header1", "value1"), "host;my-header1;x-amz-date", "",
			"c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
		{"post-header-value-case", "POST", "/", "", hdr("My-Header1", "VALUE1"), "host;my-header1;x-amz-date", "",
			"cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
		{"post-x-www-form-urlencoded", "POST", "/", "", hdr("Content-Type", "application/x-www-form-urlencoded"),
			"content-type;host;x-amz-date", "Param1=value1",
			"ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Request{Method: tc.method, RawPath: tc.path, RawQuery: tc.query,
				Host: "example.amazonaws.com", Headers: tc.headers}
			sig := computeSignature(r, false, tc.signed, stdHex([]byte(tc.body)), amzDate, scope, key)
			if got := string(sig[:]); got != tc.want {
				t.Errorf("signature %s, want %s", got, tc.want)
			}
			// The SDK agrees.
			url := "https://example.amazonaws.com" + tc.path
			if tc.query != "" {
				url += "?" + tc.query
			}
			req, err := http.NewRequest(tc.method, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.headers {
				if h[0] != "Host" && h[0] != "X-Amz-Date" {
					req.Header.Add(h[0], h[1])
				}
			}
			creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: secret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, stdHex([]byte(tc.body)), "service", "us-east-1", at, s3SignerOpts); err != nil {
				t.Fatal(err)
			}
			if a := req.Header.Get("Authorization"); !strings.HasSuffix(a, "Signature="+tc.want) {
				t.Errorf("SDK signed %s", a)
			}
		})
	}
}

func TestCanonicalURI(t *testing.T) {
	for raw, want := range map[string]string{
		"":                 "/",
		"/":                "/",
		"/b/a b":           "/b/a%20b",
		"/b/a%20b":         "/b/a%20b",
		"/b/a+b":           "/b/a%2Bb",
		"/b/a%2Bb":         "/b/a%2Bb",
		"/b/a=b":           "/b/a%3Db",
		"/b/~x":            "/b/~x",
		"/b/%7Ex":          "/b/~x",
		"/b/a%2fb":         "/b/a%2Fb", // an escaped slash stays escaped
		"/b//./../c":       "/b//./../c",
		"/b/%":             "/b/%25",
		"/b/%zz":           "/b/%25zz",
		"/b/\xe1\x88\xb4":  "/b/%E1%88%B4",
		"/b/%e1%88%b4":     "/b/%E1%88%B4",
		"/b/test$file.txt": "/b/test%24file.txt",
	} {
		if got := string(appendCanonicalURI(nil, raw)); got != want {
			t.Errorf("canonical URI of %q = %q, want %q", raw, got, want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for raw, want := range map[string]string{
		"":                           "",
		"acl":                        "acl=",
		"b=2&a=1&a=0":                "a=0&a=1&b=2",
		"a=x+y":                      "a=x%20y",
		"a=x%2by&&":                  "a=x%2By",
		"prefix=a/b":                 "prefix=a%2Fb",
		"k=%7E":                      "k=~",
		"X-Amz-Signature=abc&x=1":    "X-Amz-Signature=abc&x=1",
		"a%2F=1&a-=2":                "a%2F=1&a-=2",
		"Param2=value2&Param1=value": "Param1=value&Param2=value2",
	} {
		if got := string(appendCanonicalQuery(nil, raw, false)); got != want {
			t.Errorf("canonical query of %q = %q, want %q", raw, got, want)
		}
	}
	if got := string(appendCanonicalQuery(nil, "X-Amz-Signature=abc&x=1", true)); got != "x=1" {
		t.Errorf("presigned canonical query kept the signature: %q", got)
	}
}
