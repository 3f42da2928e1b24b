package bench

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferstore/coffer/s3api/sigv4"
)

// fakeS3 is an in-memory S3 good enough to exercise every workload. It
// verifies each request's SigV4 signature with coffer's own verifier and
// the body against x-amz-content-sha256, and enforces SSE-C keys on reads,
// so a bug in the generator's signing or headers fails the run.
type fakeS3 struct {
	t       testing.TB
	mu      sync.Mutex
	buckets map[string]map[string]fakeObject
	uploads map[string]map[int][]byte
	nextID  int
	calls   sync.Map // "METHOD op" -> *atomic.Int64
	badAuth atomic.Int64
	failGet atomic.Bool // answer every GetObject with 503 SlowDown
}

type fakeObject struct {
	data   []byte
	sseKey string // SSE-C key MD5, "" when none
}

const (
	testAccessKey = "benchtestkey"
	testSecretKey = "benchtestsecret/with+chars"
)

func newFakeS3(t testing.TB) (*fakeS3, string) {
	f := &fakeS3{t: t, buckets: map[string]map[string]fakeObject{}, uploads: map[string]map[int][]byte{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeS3) count(name string) int64 {
	v, ok := f.calls.Load(name)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

func (f *fakeS3) bump(name string) {
	v, _ := f.calls.LoadOrStore(name, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func s3error(w http.ResponseWriter, status int, code string) {
	w.WriteHeader(status)
	fmt.Fprintf(w, "<Error><Code>%s</Code><Message>fake says %s</Message></Error>", code, code)
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	sr := &sigv4.Request{Method: r.Method, RawPath: rawPath, RawQuery: rawQuery, Host: r.Host}
	for name, vals := range r.Header {
		for _, v := range vals {
			sr.Headers = append(sr.Headers, [2]string{name, v})
		}
	}
	sr.Headers = append(sr.Headers, [2]string{"Host", r.Host})
	lookup := func(ak string) (string, bool) { return testSecretKey, ak == testAccessKey }
	res, err := sigv4.Verify(sr, lookup, "us-east-1", time.Now())
	if err != nil || res.Anonymous || res.Mode != sigv4.PayloadSHA256 {
		f.badAuth.Add(1)
		s3error(w, 403, "SignatureDoesNotMatch")
		return
	}
	body, _ := io.ReadAll(r.Body)
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], res.PayloadSHA256) {
		f.badAuth.Add(1)
		s3error(w, 400, "XAmzContentSHA256Mismatch")
		return
	}

	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	objs, haveBucket := f.buckets[bucket]
	if key == "" {
		switch {
		case r.Method == "HEAD":
			f.bump("HeadBucket")
			if !haveBucket {
				w.WriteHeader(404)
			}
		case r.Method == "PUT":
			f.bump("CreateBucket")
			if haveBucket {
				s3error(w, 409, "BucketAlreadyOwnedByYou")
				return
			}
			f.buckets[bucket] = map[string]fakeObject{}
		case r.Method == "GET" && q.Get("list-type") == "2":
			f.bump("ListObjectsV2")
			f.list(w, objs, q)
		default:
			s3error(w, 501, "NotImplemented")
		}
		return
	}
	if !haveBucket {
		s3error(w, 404, "NoSuchBucket")
		return
	}
	sseKey := r.Header.Get("x-amz-server-side-encryption-customer-key-md5")
	switch {
	case r.Method == "POST" && q.Has("uploads"):
		f.bump("CreateMultipartUpload")
		f.nextID++
		id := "up+" + strconv.Itoa(f.nextID) + "/="
		f.uploads[id] = map[int][]byte{}
		fmt.Fprintf(w, "<InitiateMultipartUploadResult><UploadId>%s</UploadId></InitiateMultipartUploadResult>", id)
	case r.Method == "PUT" && q.Has("uploadId"):
		f.bump("UploadPart")
		parts, ok := f.uploads[q.Get("uploadId")]
		if !ok {
			s3error(w, 404, "NoSuchUpload")
			return
		}
		n, _ := strconv.Atoi(q.Get("partNumber"))
		parts[n] = body
		sum := md5.Sum(body)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	case r.Method == "POST" && q.Has("uploadId"):
		f.bump("CompleteMultipartUpload")
		f.complete(w, objs, key, q.Get("uploadId"), body)
	case r.Method == "DELETE" && q.Has("uploadId"):
		f.bump("AbortMultipartUpload")
		delete(f.uploads, q.Get("uploadId"))
		w.WriteHeader(204)
	case r.Method == "PUT":
		f.bump("PutObject")
		objs[key] = fakeObject{data: body, sseKey: sseKey}
		w.Header().Set("ETag", `"x"`)
	case r.Method == "GET" || r.Method == "HEAD":
		f.bump(map[string]string{"GET": "GetObject", "HEAD": "HeadObject"}[r.Method])
		if r.Method == "GET" && f.failGet.Load() {
			s3error(w, 503, "SlowDown")
			return
		}
		o, ok := objs[key]
		if !ok {
			s3error(w, 404, "NoSuchKey")
			return
		}
		if o.sseKey != sseKey {
			s3error(w, 400, "InvalidRequest")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(o.data)))
		if r.Method == "GET" {
			_, _ = w.Write(o.data)
		}
	case r.Method == "DELETE":
		f.bump("DeleteObject")
		delete(objs, key)
		w.WriteHeader(204)
	default:
		s3error(w, 501, "NotImplemented")
	}
}

// list serves ListObjectsV2 with base64 continuation tokens (so that '+',
// '/' and '=' exercise the client's query encoding).
func (f *fakeS3) list(w http.ResponseWriter, objs map[string]fakeObject, q map[string][]string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	prefix := get("prefix")
	maxKeys, _ := strconv.Atoi(get("max-keys"))
	after := ""
	if tok := get("continuation-token"); tok != "" {
		b, err := base64.StdEncoding.DecodeString(tok)
		if err != nil {
			s3error(w, 400, "InvalidArgument")
			return
		}
		after = string(b)
	}
	var keys []string
	for k := range objs {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	truncated := len(keys) > maxKeys
	if truncated {
		keys = keys[:maxKeys]
	}
	var b strings.Builder
	b.WriteString("<ListBucketResult>")
	fmt.Fprintf(&b, "<KeyCount>%d</KeyCount><IsTruncated>%t</IsTruncated>", len(keys), truncated)
	if truncated {
		fmt.Fprintf(&b, "<NextContinuationToken>%s</NextContinuationToken>", base64.StdEncoding.EncodeToString([]byte(keys[len(keys)-1])))
	}
	for _, k := range keys {
		fmt.Fprintf(&b, "<Contents><Key>%s</Key><Size>%d</Size></Contents>", k, len(objs[k].data))
	}
	b.WriteString("</ListBucketResult>")
	_, _ = io.WriteString(w, b.String())
}

func (f *fakeS3) complete(w http.ResponseWriter, objs map[string]fakeObject, key, id string, body []byte) {
	parts, ok := f.uploads[id]
	if !ok {
		s3error(w, 404, "NoSuchUpload")
		return
	}
	var req struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Parts) == 0 {
		s3error(w, 400, "MalformedXML")
		return
	}
	var data []byte
	for i, p := range req.Parts {
		part, ok := parts[p.PartNumber]
		sum := md5.Sum(part)
		if !ok || p.PartNumber != i+1 || p.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
			w.WriteHeader(200) // S3 reports Complete failures inside a 200
			_, _ = io.WriteString(w, "<Error><Code>InvalidPart</Code><Message>bad part</Message></Error>")
			return
		}
		data = append(data, part...)
	}
	delete(f.uploads, id)
	objs[key] = fakeObject{data: data}
	_, _ = io.WriteString(w, "<CompleteMultipartUploadResult><ETag>\"y\"</ETag></CompleteMultipartUploadResult>")
}
