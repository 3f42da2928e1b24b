package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/cofferstore/coffer/object"
)

// testCustomerKey is an SSE-C key with its base64 form and base64 MD5.
type testCustomerKey struct {
	raw      []byte
	b64, md5 string
}

func newTestCustomerKey(fill byte) testCustomerKey {
	raw := bytes.Repeat([]byte{fill}, 32)
	sum := md5.Sum(raw)
	return testCustomerKey{raw: raw, b64: base64.StdEncoding.EncodeToString(raw), md5: base64.StdEncoding.EncodeToString(sum[:])}
}

// headers returns the three SSE-C headers (prefix hdrSSECPrefix or
// hdrCopySSECPrefix) as name, value pairs.
func (k testCustomerKey) headers(prefix string) []string {
	return []string{prefix + "algorithm", "AES256", prefix + "key", k.b64, prefix + "key-MD5", k.md5}
}

// newSSECServer is a bucket server that accepts SSE-C over its plain
// in-memory connections.
func newSSECServer(t *testing.T) *testServer {
	ts := newTestServer(t, func(c *Config) { c.AllowInsecureSSEC = true })
	expectStatus(t, ts.do("PUT", "/bkt", ""), 200)
	return ts
}

// expectMessage checks an error response's status, code and message, and
// that it does not carry the given secrets.
func expectMessage(t *testing.T, r response, status int, code, msg string, secrets ...string) {
	t.Helper()
	expectError(t, r, status, code)
	if e := errorCode(t, r); msg != "" && e.Message != msg {
		t.Errorf("message %q, want %q", e.Message, msg)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(r.body, s) {
			t.Errorf("error body carries key material: %s", r.body)
		}
	}
}

func allZero(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }

func TestSSEWriteHeaders(t *testing.T) {
	ts := newBucketServer(t)
	f := ts.layer

	// No headers: the bucket default (SSE-S3) is reported.
	r := ts.do("PUT", "/bkt/plain", "data")
	expectStatus(t, r, 200)
	if f.lastPutSSE.Mode != "" || r.header["x-amz-server-side-encryption"] != "AES256" {
		t.Fatalf("default: layer got %+v, response %v", f.lastPutSSE, r.header)
	}
	r = ts.do("PUT", "/bkt/s3", "data", "x-amz-server-side-encryption", "AES256")
	expectStatus(t, r, 200)
	if f.lastPutSSE.Mode != object.SSES3 || r.header["x-amz-server-side-encryption"] != "AES256" {
		t.Fatalf("AES256: layer got %+v, response %v", f.lastPutSSE, r.header)
	}
	if _, ok := r.header["x-amz-server-side-encryption-aws-kms-key-id"]; ok {
		t.Error("key id header on an SSE-S3 object")
	}

	r = ts.do("PUT", "/bkt/kms", "data", "x-amz-server-side-encryption", "aws:kms",
		"x-amz-server-side-encryption-aws-kms-key-id", "testkey-1", "x-amz-server-side-encryption-bucket-key-enabled", "TRUE")
	expectStatus(t, r, 200)
	if f.lastPutSSE.Mode != object.SSEKMS || f.lastPutSSE.KMSKeyID != "testkey-1" || f.lastPutSSE.CustomerKey != nil {
		t.Fatalf("aws:kms: layer got %+v", f.lastPutSSE)
	}
	for k, v := range map[string]string{
		"x-amz-server-side-encryption":                    "aws:kms",
		"x-amz-server-side-encryption-aws-kms-key-id":     "testkey-1",
		"x-amz-server-side-encryption-bucket-key-enabled": "true",
	} {
		if r.header[k] != v {
			t.Errorf("aws:kms PUT %s = %q, want %q", k, r.header[k], v)
		}
	}
	g := ts.do("GET", "/bkt/kms", "")
	if g.status != 200 || g.header["x-amz-server-side-encryption"] != "aws:kms" || g.header["x-amz-server-side-encryption-aws-kms-key-id"] != "testkey-1" {
		t.Fatalf("aws:kms GET %d %v", g.status, g.header)
	}
	if h := ts.do("HEAD", "/bkt/kms", ""); h.header["x-amz-server-side-encryption-aws-kms-key-id"] != "testkey-1" {
		t.Fatalf("aws:kms HEAD %v", h.header)
	}

	// aws:kms without a key id: the layer picks the default key.
	r = ts.do("PUT", "/bkt/kms-default", "data", "x-amz-server-side-encryption", "aws:kms")
	expectStatus(t, r, 200)
	if f.lastPutSSE.Mode != object.SSEKMS || f.lastPutSSE.KMSKeyID != "" || r.header["x-amz-server-side-encryption"] != "aws:kms" {
		t.Fatalf("aws:kms without key: %+v %v", f.lastPutSSE, r.header)
	}

	bad := []struct {
		hdrs      []string
		status    int
		code, msg string
	}{
		{[]string{"x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id", "nokey"}, 400, "KMS.NotFoundException", ""},
		{[]string{"x-amz-server-side-encryption", "aws:kms:dsse"}, 400, "InvalidArgument", msgSSEDSSE},
		{[]string{"x-amz-server-side-encryption", "AES128"}, 400, "InvalidArgument", msgSSEUnsupported},
		{[]string{"x-amz-server-side-encryption", "aes256"}, 400, "InvalidArgument", msgSSEUnsupported},
		{[]string{"x-amz-server-side-encryption-aws-kms-key-id", "testkey-1"}, 400, "InvalidArgument", msgSSEKMSKeyNoKMS},
		{[]string{"x-amz-server-side-encryption", "AES256", "x-amz-server-side-encryption-aws-kms-key-id", "testkey-1"}, 400, "InvalidArgument", msgSSEKMSKeyNoKMS},
		{[]string{"x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id", strings.Repeat("k", 2049)}, 400, "InvalidArgument", ""},
		{[]string{"x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-bucket-key-enabled", "maybe"}, 400, "InvalidArgument", msgSSEBucketKey},
		{[]string{"x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-context", "e30="}, 501, "NotImplemented", ""},
	}
	for _, c := range bad {
		r := ts.do("PUT", "/bkt/refused", "data", c.hdrs...)
		expectMessage(t, r, c.status, c.code, c.msg)
		if _, ok := f.buckets["bkt"].objects["refused"]; ok {
			t.Fatalf("%v: object stored despite the error", c.hdrs)
		}
	}
}

func TestSSECHeaderValidation(t *testing.T) {
	ts := newSSECServer(t)
	k := newTestCustomerKey(7)
	other := newTestCustomerKey(9)
	short := base64.StdEncoding.EncodeToString(k.raw[:16])
	p := hdrSSECPrefix
	cases := []struct {
		hdrs []string
		msg  string
	}{
		{[]string{p + "algorithm", "AES256"}, msgSSECMissingKey},
		{[]string{p + "algorithm", "AES256", p + "key", k.b64}, msgSSECMissingMD5},
		{[]string{p + "key", k.b64, p + "key-MD5", k.md5}, msgSSECAlgorithm},
		{[]string{p + "algorithm", "AES128", p + "key", k.b64, p + "key-MD5", k.md5}, msgSSECAlgorithm},
		{[]string{p + "algorithm", "aes256", p + "key", k.b64, p + "key-MD5", k.md5}, msgSSECAlgorithm},
		{[]string{p + "algorithm", "AES256", p + "key", "not base64!", p + "key-MD5", k.md5}, msgSSECInvalidKey},
		{[]string{p + "algorithm", "AES256", p + "key", short, p + "key-MD5", k.md5}, msgSSECInvalidKey},
		{[]string{p + "algorithm", "AES256", p + "key", k.b64 + k.b64, p + "key-MD5", k.md5}, msgSSECInvalidKey},
		{[]string{p + "algorithm", "AES256", p + "key", k.b64, p + "key-MD5", other.md5}, msgSSECMD5Mismatch},
		{[]string{p + "algorithm", "AES256", p + "key", k.b64, p + "key-MD5", "%%%"}, msgSSECMD5Mismatch},
		{[]string{p + "algorithm", "AES256", p + "key", k.b64, p + "key-MD5", k.md5[:10]}, msgSSECMD5Mismatch},
		{append(k.headers(p), "x-amz-server-side-encryption", "AES256"), msgSSECIncompatible},
		{append(k.headers(p), "x-amz-server-side-encryption", "aws:kms"), msgSSECIncompatible},
		{append(k.headers(p), "x-amz-server-side-encryption-aws-kms-key-id", "testkey-1"), msgSSECIncompatible},
	}
	for _, c := range cases {
		for _, uri := range []string{"/bkt/k", "/bkt/k?uploads"} {
			method := "PUT"
			if strings.HasSuffix(uri, "?uploads") {
				method = "POST"
			}
			r := ts.do(method, uri, "data", c.hdrs...)
			expectMessage(t, r, 400, "InvalidArgument", c.msg, k.b64, short)
		}
	}
	if len(ts.layer.buckets["bkt"].objects) != 0 || len(ts.layer.uploads) != 0 {
		t.Fatal("a refused SSE-C request stored something")
	}
	// The same rules hold for reads, parts and copy sources.
	missingMD5 := []string{p + "algorithm", "AES256", p + "key", k.b64}
	expectStatus(t, ts.do("PUT", "/bkt/plain", "data"), 200)
	expectMessage(t, ts.do("GET", "/bkt/plain", "", missingMD5...), 400, "InvalidArgument", msgSSECMissingMD5, k.b64)
	expectMessage(t, ts.do("GET", "/bkt/plain?attributes", "", append(missingMD5, "x-amz-object-attributes", "ETag")...), 400, "InvalidArgument", msgSSECMissingMD5, k.b64)
	cp := hdrCopySSECPrefix
	expectMessage(t, ts.do("PUT", "/bkt/dst", "", "x-amz-copy-source", "bkt/plain", cp+"algorithm", "AES256", cp+"key", k.b64), 400, "InvalidArgument", msgSSECMissingMD5, k.b64)
	expectMessage(t, ts.do("GET", "/bkt/plain", "", "x-amz-server-side-encryption", "AES256"), 400, "InvalidArgument", msgSSEOnRead)
}

func TestSSECRequiresTLS(t *testing.T) {
	ts := newBucketServer(t) // AllowInsecureSSEC unset; the test connection is plain
	k := newTestCustomerKey(1)
	expectStatus(t, ts.do("PUT", "/bkt/plain", "data"), 200)
	for _, c := range []struct {
		method, uri string
		hdrs        []string
	}{
		{"PUT", "/bkt/k", k.headers(hdrSSECPrefix)},
		{"POST", "/bkt/k?uploads", k.headers(hdrSSECPrefix)},
		{"GET", "/bkt/plain", k.headers(hdrSSECPrefix)},
		{"HEAD", "/bkt/plain", k.headers(hdrSSECPrefix)},
		{"PUT", "/bkt/copy", append(k.headers(hdrCopySSECPrefix), "x-amz-copy-source", "bkt/plain")},
		// Even an incomplete SSE-C request is refused first for the
		// plain connection: the key crossed the network in clear.
		{"PUT", "/bkt/k", []string{hdrSSECPrefix + "key", k.b64}},
	} {
		r := ts.do(c.method, c.uri, "data", c.hdrs...)
		if c.method == "HEAD" {
			expectStatus(t, r, 400)
			continue
		}
		expectMessage(t, r, 400, "InvalidRequest", msgSSECInsecure, k.b64)
	}
	if _, ok := ts.layer.buckets["bkt"].objects["k"]; ok {
		t.Fatal("SSE-C object stored over plain HTTP")
	}
}

func TestSSECObjectRoundTrip(t *testing.T) {
	ts := newSSECServer(t)
	f := ts.layer
	k, wrong := newTestCustomerKey(3), newTestCustomerKey(4)
	body := "0123456789 secret payload"

	r := ts.do("PUT", "/bkt/c", body, k.headers(hdrSSECPrefix)...)
	expectStatus(t, r, 200)
	if f.lastPutSSE.Mode != object.SSEC || !bytes.Equal(f.lastPutSSE.CustomerKey, k.raw) || f.lastPutSSE.KMSKeyID != "" {
		t.Fatalf("layer got %+v", f.lastPutSSE)
	}
	if r.header["x-amz-server-side-encryption-customer-algorithm"] != "AES256" || r.header["x-amz-server-side-encryption-customer-key-md5"] != k.md5 {
		t.Fatalf("PUT headers %v", r.header)
	}
	if _, ok := r.header["x-amz-server-side-encryption"]; ok {
		t.Fatal("x-amz-server-side-encryption on an SSE-C response")
	}

	expectMessage(t, ts.do("GET", "/bkt/c", ""), 400, "InvalidRequest",
		"The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	expectMessage(t, ts.do("GET", "/bkt/c", "", wrong.headers(hdrSSECPrefix)...), 403, "AccessDenied", "", k.b64, wrong.b64)
	expectStatus(t, ts.do("HEAD", "/bkt/c", ""), 400)
	expectStatus(t, ts.do("HEAD", "/bkt/c", "", wrong.headers(hdrSSECPrefix)...), 403)

	g := ts.do("GET", "/bkt/c", "", k.headers(hdrSSECPrefix)...)
	if g.status != 200 || g.body != body || g.header["x-amz-server-side-encryption-customer-algorithm"] != "AES256" ||
		g.header["x-amz-server-side-encryption-customer-key-md5"] != k.md5 {
		t.Fatalf("GET %d %q %v", g.status, g.body, g.header)
	}
	if !bytes.Equal(f.lastGetKey, k.raw) {
		t.Fatal("GET did not pass the key to the layer")
	}
	// The decoded key is wiped once fasthttp has closed the body stream.
	deadline := time.Now().Add(2 * time.Second)
	for {
		f.mu.Lock()
		wiped := allZero(f.lastGetKeyRef)
		f.mu.Unlock()
		if wiped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("SSE-C key not wiped after the GET body was sent")
		}
		time.Sleep(5 * time.Millisecond)
	}

	h := ts.do("HEAD", "/bkt/c", "", k.headers(hdrSSECPrefix)...)
	if h.status != 200 || h.header["x-amz-server-side-encryption-customer-key-md5"] != k.md5 || h.header["content-length"] != "25" {
		t.Fatalf("HEAD %d %v", h.status, h.header)
	}
	if !allZero(f.lastGetKeyRef) {
		t.Fatal("SSE-C key not wiped after HEAD")
	}
	rg := ts.do("GET", "/bkt/c", "", append(k.headers(hdrSSECPrefix), "Range", "bytes=2-5")...)
	if rg.status != 206 || rg.body != "2345" || rg.header["content-range"] != "bytes 2-5/25" {
		t.Fatalf("range GET %d %q %v", rg.status, rg.body, rg.header)
	}
	// An unsatisfiable range still needs (and gets) the key for its 416.
	expectError(t, ts.do("GET", "/bkt/c", "", append(k.headers(hdrSSECPrefix), "Range", "bytes=100-")...), 416, "InvalidRange")

	a := ts.do("GET", "/bkt/c?attributes", "", append(k.headers(hdrSSECPrefix), "x-amz-object-attributes", "ObjectSize")...)
	if a.status != 200 || !strings.Contains(a.body, "<ObjectSize>25</ObjectSize>") {
		t.Fatalf("attributes %d %s", a.status, a.body)
	}
	expectError(t, ts.do("GET", "/bkt/c?attributes", "", "x-amz-object-attributes", "ObjectSize"), 400, "InvalidRequest")

	// A key for an object that has none.
	expectStatus(t, ts.do("PUT", "/bkt/plain", "x"), 200)
	expectMessage(t, ts.do("GET", "/bkt/plain", "", k.headers(hdrSSECPrefix)...), 400, "InvalidRequest",
		"The encryption parameters are not applicable to this object.")
}

func TestSSECopy(t *testing.T) {
	ts := newSSECServer(t)
	f := ts.layer
	k, k2 := newTestCustomerKey(5), newTestCustomerKey(6)
	expectStatus(t, ts.do("PUT", "/bkt/c", "payload", k.headers(hdrSSECPrefix)...), 200)

	// SSE-C source -> SSE-S3 destination.
	expectError(t, ts.do("PUT", "/bkt/s3", "", "x-amz-copy-source", "bkt/c"), 400, "InvalidRequest")
	expectError(t, ts.do("PUT", "/bkt/s3", "", append(k2.headers(hdrCopySSECPrefix), "x-amz-copy-source", "bkt/c")...), 403, "AccessDenied")
	// The destination headers are not the source's key.
	expectError(t, ts.do("PUT", "/bkt/s3", "", append(k.headers(hdrSSECPrefix), "x-amz-copy-source", "bkt/c")...), 400, "InvalidRequest")
	r := ts.do("PUT", "/bkt/s3", "", append(k.headers(hdrCopySSECPrefix), "x-amz-copy-source", "bkt/c", "x-amz-server-side-encryption", "AES256")...)
	expectStatus(t, r, 200)
	if !bytes.Equal(f.lastCopySrcKey, k.raw) || f.lastPutSSE.Mode != object.SSES3 || r.header["x-amz-server-side-encryption"] != "AES256" {
		t.Fatalf("copy to SSE-S3: src key %x, dst %+v, headers %v", f.lastCopySrcKey, f.lastPutSSE, r.header)
	}
	if _, ok := r.header["x-amz-server-side-encryption-customer-key-md5"]; ok {
		t.Fatal("source key MD5 echoed on the destination")
	}
	if g := ts.do("GET", "/bkt/s3", ""); g.status != 200 || g.body != "payload" {
		t.Fatalf("GET copy %d %q", g.status, g.body)
	}

	// ... and back: SSE-S3 source -> SSE-C destination under another key.
	r = ts.do("PUT", "/bkt/c2", "", append(k2.headers(hdrSSECPrefix), "x-amz-copy-source", "bkt/s3")...)
	expectStatus(t, r, 200)
	if f.lastCopySrcKey != nil || !bytes.Equal(f.lastPutSSE.CustomerKey, k2.raw) ||
		r.header["x-amz-server-side-encryption-customer-key-md5"] != k2.md5 || r.header["x-amz-server-side-encryption-customer-algorithm"] != "AES256" {
		t.Fatalf("copy to SSE-C: %+v %v", f.lastPutSSE, r.header)
	}
	if g := ts.do("GET", "/bkt/c2", "", k2.headers(hdrSSECPrefix)...); g.status != 200 || g.body != "payload" {
		t.Fatalf("GET SSE-C copy %d %q", g.status, g.body)
	}

	// Copying an object onto itself is legal when it changes encryption.
	expectError(t, ts.do("PUT", "/bkt/s3", "", "x-amz-copy-source", "bkt/s3"), 400, "InvalidRequest")
	r = ts.do("PUT", "/bkt/s3", "", "x-amz-copy-source", "bkt/s3", "x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id", "testkey-1")
	expectStatus(t, r, 200)
	if r.header["x-amz-server-side-encryption-aws-kms-key-id"] != "testkey-1" {
		t.Fatalf("re-encrypting copy headers %v", r.header)
	}
}

func TestSSEMultipart(t *testing.T) {
	ts := newSSECServer(t)
	f := ts.layer
	k, wrong := newTestCustomerKey(8), newTestCustomerKey(2)

	initiate := func(hdrs ...string) (string, response) {
		t.Helper()
		r := ts.do("POST", "/bkt/mp?uploads", "", hdrs...)
		expectStatus(t, r, 200)
		var res initiateResult
		if err := xml.Unmarshal([]byte(r.body), &res); err != nil {
			t.Fatal(err)
		}
		return res.UploadID, r
	}

	// Without SSE headers CreateMultipartUpload reports the bucket default.
	_, r := initiate()
	if r.header["x-amz-server-side-encryption"] != "AES256" {
		t.Fatalf("default initiate %v", r.header)
	}
	_, r = initiate("x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id", "testkey-1")
	if r.header["x-amz-server-side-encryption"] != "aws:kms" || r.header["x-amz-server-side-encryption-aws-kms-key-id"] != "testkey-1" {
		t.Fatalf("kms initiate %v", r.header)
	}
	expectError(t, ts.do("POST", "/bkt/mp?uploads", "", "x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id", "nokey"), 400, "KMS.NotFoundException")

	id, r := initiate(k.headers(hdrSSECPrefix)...)
	if r.header["x-amz-server-side-encryption-customer-algorithm"] != "AES256" || r.header["x-amz-server-side-encryption-customer-key-md5"] != k.md5 {
		t.Fatalf("SSE-C initiate %v", r.header)
	}
	part := strings.Repeat("p", 100)
	uri := "/bkt/mp?partNumber=1&uploadId=" + id
	expectError(t, ts.do("PUT", uri, part), 400, "InvalidRequest")
	expectError(t, ts.do("PUT", uri, part, wrong.headers(hdrSSECPrefix)...), 403, "AccessDenied")
	r = ts.do("PUT", uri, part, k.headers(hdrSSECPrefix)...)
	expectStatus(t, r, 200)
	if r.header["x-amz-server-side-encryption-customer-key-md5"] != k.md5 || !bytes.Equal(f.lastPartKey, k.raw) {
		t.Fatalf("UploadPart headers %v", r.header)
	}
	if !allZero(f.lastPartKeyRef) {
		t.Fatal("part key not wiped after UploadPart")
	}
	etag1 := r.header["etag"]

	// UploadPartCopy from an SSE-C source into the SSE-C upload.
	expectStatus(t, ts.do("PUT", "/bkt/src", "copied", wrong.headers(hdrSSECPrefix)...), 200)
	cpURI := "/bkt/mp?partNumber=2&uploadId=" + id
	expectError(t, ts.do("PUT", cpURI, "", append(k.headers(hdrSSECPrefix), "x-amz-copy-source", "bkt/src")...), 400, "InvalidRequest")
	r = ts.do("PUT", cpURI, "", append(append(k.headers(hdrSSECPrefix), wrong.headers(hdrCopySSECPrefix)...), "x-amz-copy-source", "bkt/src")...)
	expectStatus(t, r, 200)
	if !bytes.Equal(f.lastGetKey, wrong.raw) || !bytes.Equal(f.lastPartKey, k.raw) || r.header["x-amz-server-side-encryption-customer-key-md5"] != k.md5 {
		t.Fatalf("UploadPartCopy: source key %x part key %x headers %v", f.lastGetKey, f.lastPartKey, r.header)
	}
	var cr copyResult
	if err := xml.Unmarshal([]byte(r.body), &cr); err != nil {
		t.Fatal(err)
	}

	complete := `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>` + etag1 + `</ETag></Part>` +
		`<Part><PartNumber>2</PartNumber><ETag>` + cr.ETag + `</ETag></Part></CompleteMultipartUpload>`
	r = ts.do("POST", "/bkt/mp?uploadId="+id, complete, k.headers(hdrSSECPrefix)...)
	expectStatus(t, r, 200)
	if r.header["x-amz-server-side-encryption-customer-algorithm"] != "AES256" || r.header["x-amz-server-side-encryption-customer-key-md5"] != k.md5 {
		t.Fatalf("complete headers %v", r.header)
	}
	if g := ts.do("GET", "/bkt/mp", "", k.headers(hdrSSECPrefix)...); g.status != 200 || g.body != part+"copied" {
		t.Fatalf("GET assembled %d %q", g.status, g.body)
	}
	expectError(t, ts.do("GET", "/bkt/mp", ""), 400, "InvalidRequest")
}

func TestBucketEncryption(t *testing.T) {
	ts := newBucketServer(t)
	get := func() sseConfiguration {
		t.Helper()
		r := ts.do("GET", "/bkt?encryption", "")
		expectStatus(t, r, 200)
		var c sseConfiguration
		if err := xml.Unmarshal([]byte(r.body), &c); err != nil {
			t.Fatal(err)
		}
		if len(c.Rules) != 1 || c.Rules[0].Default == nil || c.Rules[0].BucketKeyEnabled == nil {
			t.Fatalf("GET ?encryption shape: %s", r.body)
		}
		return c
	}
	if c := get(); c.Rules[0].Default.SSEAlgorithm != "AES256" || *c.Rules[0].BucketKeyEnabled {
		t.Fatalf("default configuration %+v", c.Rules[0].Default)
	}

	kms := `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault>` +
		`<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>testkey-1</KMSMasterKeyID></ApplyServerSideEncryptionByDefault>` +
		`<BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`
	expectStatus(t, ts.do("PUT", "/bkt?encryption", kms), 200)
	if got := ts.layer.buckets["bkt"].info.Encryption; got == nil || *got != (object.BucketEncryption{Mode: object.SSEKMS, KMSKeyID: "testkey-1", BucketKeyEnabled: true}) {
		t.Fatalf("layer got %+v", got)
	}
	if c := get(); c.Rules[0].Default.SSEAlgorithm != "aws:kms" || c.Rules[0].Default.KMSMasterKeyID != "testkey-1" || !*c.Rules[0].BucketKeyEnabled {
		t.Fatalf("kms configuration %+v", c.Rules[0].Default)
	}
	// Writes without SSE headers now report the bucket's key.
	r := ts.do("PUT", "/bkt/k", "data")
	if r.header["x-amz-server-side-encryption"] != "aws:kms" || r.header["x-amz-server-side-encryption-aws-kms-key-id"] != "testkey-1" {
		t.Fatalf("PUT under a KMS default %v", r.header)
	}
	r = ts.do("POST", "/bkt/k?uploads", "")
	if r.header["x-amz-server-side-encryption"] != "aws:kms" || r.header["x-amz-server-side-encryption-aws-kms-key-id"] != "testkey-1" {
		t.Fatalf("CreateMultipartUpload under a KMS default %v", r.header)
	}

	doc := func(alg, key, extra string) string {
		d := `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>` + alg + `</SSEAlgorithm>`
		if key != "" {
			d += `<KMSMasterKeyID>` + key + `</KMSMasterKeyID>`
		}
		return d + `</ApplyServerSideEncryptionByDefault></Rule>` + extra + `</ServerSideEncryptionConfiguration>`
	}
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{doc("aws:kms", "nokey", ""), 400, "KMS.NotFoundException"},
		{doc("AES256", "testkey-1", ""), 400, "InvalidArgument"},
		{doc("aws:kms:dsse", "", ""), 400, "InvalidArgument"},
		{doc("AES128", "", ""), 400, "MalformedXML"},
		{doc("AES256", "", "<Rule/>"), 400, "MalformedXML"},
		{`<ServerSideEncryptionConfiguration><Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`, 400, "MalformedXML"},
		{`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>maybe</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`, 400, "MalformedXML"},
		{`<Tagging/>`, 400, "MalformedXML"},
		{``, 400, "MalformedXML"},
		{`<ServerSideEncryptionConfiguration>` + strings.Repeat(" ", maxXMLBody) + `</ServerSideEncryptionConfiguration>`, 400, "EntityTooLarge"},
	} {
		expectError(t, ts.do("PUT", "/bkt?encryption", c.body), c.status, c.code)
		if got := ts.layer.buckets["bkt"].info.Encryption; got == nil || got.KMSKeyID != "testkey-1" {
			t.Fatalf("refused configuration changed the bucket: %+v", got)
		}
	}

	expectStatus(t, ts.do("PUT", "/bkt?encryption", doc("AES256", "", "")), 200)
	if c := get(); c.Rules[0].Default.SSEAlgorithm != "AES256" || c.Rules[0].Default.KMSMasterKeyID != "" {
		t.Fatalf("AES256 configuration %+v", c.Rules[0].Default)
	}
	expectStatus(t, ts.do("PUT", "/bkt?encryption", kms), 200)
	expectStatus(t, ts.do("DELETE", "/bkt?encryption", ""), 204)
	if ts.layer.buckets["bkt"].info.Encryption != nil {
		t.Fatal("DELETE ?encryption did not restore the default")
	}
	if c := get(); c.Rules[0].Default.SSEAlgorithm != "AES256" {
		t.Fatalf("after DELETE %+v", c.Rules[0].Default)
	}
	expectError(t, ts.do("GET", "/nobkt?encryption", ""), 404, "NoSuchBucket")
	expectError(t, ts.do("PUT", "/nobkt?encryption", kms), 404, "NoSuchBucket")
	expectError(t, ts.do("DELETE", "/nobkt?encryption", ""), 404, "NoSuchBucket")
}

// TestSSEErrorMessagesCarryNoKeys checks the SSE rows of the error
// mapping: AWS's codes, and messages that name no key material.
func TestSSEErrorMessagesCarryNoKeys(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{object.ErrSSECustomerKeyMissing, 400, "InvalidRequest"},
		{object.ErrSSECustomerKeyMismatch, 403, "AccessDenied"},
		{object.ErrSSECustomerKeyNotExpected, 400, "InvalidRequest"},
		{object.ErrNoSuchKMSKey, 400, "KMS.NotFoundException"},
		{object.ErrInvalidEncryption, 400, "InvalidArgument"},
	} {
		e, known := errorFor(c.err)
		if !known || e.Status != c.status || e.Code != c.code || e.Message == "" {
			t.Errorf("%v: %+v known=%v", c.err, e, known)
		}
	}
}
