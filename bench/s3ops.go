package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// The S3 calls the workloads make. Each returns the bytes moved (request
// body for writes, response body for reads) and an *OpError on failure.

// putObject uploads size bytes of the shared payload to key.
func (w *conn) putObject(p *payload, key string, size int64) (int64, error) {
	body, sum := p.body(size)
	_, err := w.do(&request{op: "PutObject", method: "PUT", key: key, headers: w.c.sseWrite, body: body, bodyHash: sum})
	return size, err
}

// getObject downloads key, draining the body, and checks its length when
// wantSize >= 0.
func (w *conn) getObject(key string, wantSize int64) (int64, error) {
	res, err := w.do(&request{op: "GetObject", method: "GET", key: key, headers: w.c.sseRead})
	if err == nil && wantSize >= 0 && res.n != wantSize {
		err = &OpError{Op: "GetObject", Key: key, Status: res.status,
			Message: "body length " + strconv.FormatInt(res.n, 10) + ", want " + strconv.FormatInt(wantSize, 10)}
	}
	return res.n, err
}

// headObject stats key.
func (w *conn) headObject(key string) error {
	_, err := w.do(&request{op: "HeadObject", method: "HEAD", key: key, headers: w.c.sseRead})
	return err
}

// deleteObject deletes key.
func (w *conn) deleteObject(key string) error {
	_, err := w.do(&request{op: "DeleteObject", method: "DELETE", key: key})
	return err
}

// listPage fetches one ListObjectsV2 page of up to 1000 keys under prefix,
// continuing from token. It returns the key count, the bytes read and the
// next continuation token ("" at the end of the listing).
func (w *conn) listPage(prefix, token string) (keys int, n int64, next string, err error) {
	q := make([]queryParam, 0, 4)
	if token != "" {
		q = append(q, queryParam{"continuation-token", token})
	}
	q = append(q, queryParam{"list-type", "2"}, queryParam{"max-keys", "1000"}, queryParam{"prefix", prefix})
	res, err := w.do(&request{op: "ListObjectsV2", method: "GET", query: q, capture: true})
	if err != nil {
		return 0, res.n, "", err
	}
	keys = bytes.Count(res.body, []byte("<Key>"))
	if xmlText(res.body, "IsTruncated") == "true" {
		next = xmlText(res.body, "NextContinuationToken")
		if next == "" {
			return keys, res.n, "", &OpError{Op: "ListObjectsV2", Status: res.status, Message: "truncated page without NextContinuationToken"}
		}
	}
	return keys, res.n, next, nil
}

// createMultipart starts a multipart upload of key and returns its id.
func (w *conn) createMultipart(key string) (string, error) {
	res, err := w.do(&request{op: "CreateMultipartUpload", method: "POST", key: key,
		query: []queryParam{{"uploads", ""}}, headers: w.c.sseWrite, capture: true})
	if err != nil {
		return "", err
	}
	id := xmlText(res.body, "UploadId")
	if id == "" {
		return "", &OpError{Op: "CreateMultipartUpload", Key: key, Status: res.status, Message: "reply has no UploadId"}
	}
	return id, nil
}

// uploadPart uploads part number num (size bytes) and returns its ETag.
func (w *conn) uploadPart(p *payload, key, uploadID string, num int, size int64) (string, error) {
	body, sum := p.body(size)
	res, err := w.do(&request{op: "UploadPart", method: "PUT", key: key,
		query:   []queryParam{{"partNumber", strconv.Itoa(num)}, {"uploadId", uploadID}},
		headers: w.c.sseRead, body: body, bodyHash: sum})
	if err == nil && res.etag == "" {
		err = &OpError{Op: "UploadPart", Key: key, Status: res.status, Message: "reply has no ETag"}
	}
	return res.etag, err
}

// completeMultipart completes the upload with the given part ETags
// (part i+1 has etags[i]).
func (w *conn) completeMultipart(key, uploadID string, etags []string) error {
	var b bytes.Buffer
	b.WriteString("<CompleteMultipartUpload>")
	for i, e := range etags {
		b.WriteString("<Part><PartNumber>")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString("</PartNumber><ETag>")
		b.WriteString(escapeXML(e))
		b.WriteString("</ETag></Part>")
	}
	b.WriteString("</CompleteMultipartUpload>")
	sum := sha256.Sum256(b.Bytes())
	res, err := w.do(&request{op: "CompleteMultipartUpload", method: "POST", key: key,
		query: []queryParam{{"uploadId", uploadID}}, body: b.Bytes(), bodyHash: hex.EncodeToString(sum[:]),
		headers: []header{{"content-type", "application/xml"}}, capture: true})
	if err != nil {
		return err
	}
	if bytes.Contains(res.body, []byte("<Error>")) {
		return &OpError{Op: "CompleteMultipartUpload", Key: key, Status: res.status,
			Code: xmlText(res.body, "Code"), Message: errIncomplete.Error() + ": " + xmlText(res.body, "Message")}
	}
	return nil
}

// abortMultipart aborts an upload; errors are ignored by callers (best
// effort cleanup after a failed part).
func (w *conn) abortMultipart(key, uploadID string) error {
	_, err := w.do(&request{op: "AbortMultipartUpload", method: "DELETE", key: key,
		query: []queryParam{{"uploadId", uploadID}}})
	return err
}

// ensureBucket creates the bucket unless it exists already.
func (w *conn) ensureBucket() error {
	_, err := w.do(&request{op: "HeadBucket", method: "HEAD"})
	if err == nil {
		return nil
	}
	if oe, ok := err.(*OpError); !ok || oe.Status != 404 {
		return err
	}
	r := &request{op: "CreateBucket", method: "PUT"}
	if reg := w.c.cfg.Region; reg != "" && reg != "us-east-1" {
		body := []byte("<CreateBucketConfiguration><LocationConstraint>" + escapeXML(reg) +
			"</LocationConstraint></CreateBucketConfiguration>")
		sum := sha256.Sum256(body)
		r.body, r.bodyHash = body, hex.EncodeToString(sum[:])
	}
	_, err = w.do(r)
	if oe, ok := err.(*OpError); ok && oe.Code == "BucketAlreadyOwnedByYou" {
		return nil
	}
	return err
}

// escapeXML escapes text for an XML element body.
func escapeXML(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
