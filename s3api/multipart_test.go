package s3api

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestMultipartFlow(t *testing.T) {
	ts := newBucketServer(t)
	r := ts.do("POST", "/bkt/big?uploads", "", "Content-Type", "video/mp4")
	expectStatus(t, r, 200)
	var init initiateResult
	if err := xml.Unmarshal([]byte(r.body), &init); err != nil || init.UploadID == "" || init.Key != "big" || init.Bucket != "bkt" {
		t.Fatalf("initiate: %s %v", r.body, err)
	}
	id := init.UploadID
	p1 := ts.do("PUT", "/bkt/big?partNumber=1&uploadId="+id, "hello ")
	p2 := ts.do("PUT", "/bkt/big?partNumber=2&uploadId="+id, "world")
	expectStatus(t, p1, 200)
	if p1.header["etag"] == "" {
		t.Fatal("no part ETag")
	}
	expectError(t, ts.do("PUT", "/bkt/big?partNumber=10001&uploadId="+id, "x"), 400, "InvalidArgument")
	expectError(t, ts.do("PUT", "/bkt/big?partNumber=0&uploadId="+id, "x"), 400, "InvalidArgument")
	expectError(t, ts.do("PUT", "/bkt/big?partNumber=1&uploadId=nope", "x"), 404, "NoSuchUpload")

	lp := ts.do("GET", "/bkt/big?uploadId="+id+"&max-parts=1", "")
	if !strings.Contains(lp.body, "<Part><PartNumber>1</PartNumber>") || !strings.Contains(lp.body, "<IsTruncated>true</IsTruncated>") || !strings.Contains(lp.body, "<NextPartNumberMarker>1</NextPartNumberMarker>") {
		t.Fatalf("ListParts: %s", lp.body)
	}
	lu := ts.do("GET", "/bkt?uploads", "")
	if !strings.Contains(lu.body, "<UploadId>"+id+"</UploadId>") || !strings.Contains(lu.body, "<ListMultipartUploadsResult") {
		t.Fatalf("ListMultipartUploads: %s", lu.body)
	}

	bad := `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>` + p2.header["etag"] + `</ETag></Part><Part><PartNumber>1</PartNumber><ETag>` + p1.header["etag"] + `</ETag></Part></CompleteMultipartUpload>`
	expectError(t, ts.do("POST", "/bkt/big?uploadId="+id, bad), 400, "InvalidPartOrder")
	expectError(t, ts.do("POST", "/bkt/big?uploadId="+id, "<CompleteMultipartUpload></CompleteMultipartUpload>"), 400, "MalformedXML")
	wrong := `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"0000"</ETag></Part></CompleteMultipartUpload>`
	expectError(t, ts.do("POST", "/bkt/big?uploadId="+id, wrong), 400, "InvalidPart")
	good := `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>` + p1.header["etag"] + `</ETag></Part><Part><PartNumber>2</PartNumber><ETag>` + p2.header["etag"] + `</ETag></Part></CompleteMultipartUpload>`
	c := ts.do("POST", "/bkt/big?uploadId="+id, good)
	expectStatus(t, c, 200)
	var done completeResult
	if err := xml.Unmarshal([]byte(c.body), &done); err != nil || !strings.HasSuffix(done.ETag, `-2"`) || done.Location != "http://s3.test/bkt/big" {
		t.Fatalf("complete: %s", c.body)
	}
	g := ts.do("GET", "/bkt/big", "")
	if g.body != "hello world" || g.header["content-type"] != "video/mp4" {
		t.Fatalf("assembled: %q %v", g.body, g.header)
	}
	pr := ts.do("GET", "/bkt/big?partNumber=2", "")
	if pr.status != 206 || pr.body != "world" || pr.header["content-range"] != "bytes 6-10/11" || pr.header["x-amz-mp-parts-count"] != "2" {
		t.Fatalf("partNumber read: %d %q %v", pr.status, pr.body, pr.header)
	}
	ph := ts.do("HEAD", "/bkt/big?partNumber=1", "")
	if ph.status != 206 || ph.header["content-length"] != "6" {
		t.Fatalf("partNumber head: %d %v", ph.status, ph.header)
	}
	expectError(t, ts.do("GET", "/bkt/big?partNumber=3", ""), 416, "InvalidPartNumber")
	attrs := ts.do("GET", "/bkt/big?attributes", "", "x-amz-object-attributes", "ObjectParts", "x-amz-max-parts", "1")
	if !strings.Contains(attrs.body, "<ObjectParts><PartsCount>2</PartsCount>") || !strings.Contains(attrs.body, "<IsTruncated>true</IsTruncated>") {
		t.Fatalf("attributes parts: %s", attrs.body)
	}
}

func TestUploadPartCopyAndAbort(t *testing.T) {
	ts := newBucketServer(t)
	expectStatus(t, ts.do("PUT", "/bkt/src", "0123456789"), 200)
	r := ts.do("POST", "/bkt/dst?uploads", "")
	var init initiateResult
	_ = xml.Unmarshal([]byte(r.body), &init)
	id := init.UploadID
	c := ts.do("PUT", "/bkt/dst?partNumber=1&uploadId="+id, "", "x-amz-copy-source", "/bkt/src", "x-amz-copy-source-range", "bytes=2-5")
	expectStatus(t, c, 200)
	if !strings.Contains(c.body, "<CopyPartResult") || !strings.Contains(c.body, "<ETag>") {
		t.Fatalf("copy part: %s", c.body)
	}
	if got := string(ts.layer.uploads[id].parts[1].data); got != "2345" {
		t.Fatalf("copied %q", got)
	}
	expectError(t, ts.do("PUT", "/bkt/dst?partNumber=2&uploadId="+id, "", "x-amz-copy-source", "/bkt/src", "x-amz-copy-source-range", "bytes=5-2"), 400, "InvalidArgument")
	expectError(t, ts.do("PUT", "/bkt/dst?partNumber=2&uploadId="+id, "", "x-amz-copy-source", "/bkt/src", "x-amz-copy-source-range", "bytes=5-20"), 400, "InvalidArgument") // as AWS answers an out-of-bounds copy range
	expectError(t, ts.do("PUT", "/bkt/dst?partNumber=2&uploadId="+id, "", "x-amz-copy-source", "/bkt/src", "x-amz-copy-source-if-match", `"zz"`), 412, "PreconditionFailed")
	expectStatus(t, ts.do("PUT", "/bkt/dst?partNumber=2&uploadId="+id, "", "x-amz-copy-source", "/bkt/src"), 200)
	if got := string(ts.layer.uploads[id].parts[2].data); got != "0123456789" {
		t.Fatalf("whole copy %q", got)
	}
	expectStatus(t, ts.do("DELETE", "/bkt/dst?uploadId="+id, ""), 204)
	expectError(t, ts.do("DELETE", "/bkt/dst?uploadId="+id, ""), 404, "NoSuchUpload")
}
