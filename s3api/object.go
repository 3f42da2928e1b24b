package s3api

import (
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/cofferstore/coffer/object"
)

// putObject: PUT /bucket/key.
func putObject(r *request) error {
	opts, sse, err := r.parseWriteOptions()
	defer sse.customer.wipe()
	if err != nil {
		return err
	}
	cs, err := r.parseChecksums()
	if err != nil {
		return err
	}
	if err := requireLockIntegrity(opts.Lock, cs); err != nil {
		return err
	}
	opts.ExpectMD5, opts.ExpectSHA256 = cs.md5, r.expectSHA256()
	opts.ChecksumAlgorithm, opts.ExpectChecksum, opts.TrailingChecksum = cs.algorithm, cs.expect, cs.trailing
	if opts.IfNoneMatchStar, opts.IfMatch, err = r.parseWriteConditions(); err != nil {
		return err
	}
	size, err := r.bodySize()
	if err != nil {
		return err
	}
	if size > maxObjectSize {
		return errCode("EntityTooLarge", "")
	}
	info, err := r.s.layer.PutObject(r.c, r.bucket, r.key, r.body(), size, opts)
	if err != nil {
		return err
	}
	r.setHeader("ETag", quoteETag(info.ETag))
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	r.setChecksumHeaders(info.Checksums)
	r.setSSEHeaders(info.Encryption, sse.customer.sentMD5(), sse.bucketKey)
	r.setExpirationHeader(info)
	return r.writeStatus(200)
}

// getObject: GET /bucket/key.
func getObject(r *request) error { return r.readObject(false) }

// headObject: HEAD /bucket/key (same headers as GET, no body).
func headObject(r *request) error { return r.readObject(true) }

// deleteMarkerError adds the headers S3 sends when a read hits a delete
// marker.
func deleteMarkerError(err error, info object.ObjectInfo) error {
	if !info.DeleteMarker || !(errors.Is(err, object.ErrNoSuchKey) || errors.Is(err, object.ErrMethodNotAllowed)) {
		return err
	}
	h := [][2]string{{"x-amz-delete-marker", "true"}}
	if info.VersionID != "" {
		h = append(h, [2]string{"x-amz-version-id", info.VersionID})
	}
	if !info.ModTime.IsZero() {
		h = append(h, [2]string{"Last-Modified", httpDate(info.ModTime)})
	}
	if errors.Is(err, object.ErrMethodNotAllowed) {
		h = append(h, [2]string{"Allow", "DELETE"})
	}
	return &headerError{err: err, headers: h}
}

// parsePartNumber reads the partNumber query parameter (0 if absent).
func (r *request) parsePartNumber() (int, error) {
	if !r.query.has("partNumber") {
		return 0, nil
	}
	n, err := strconv.Atoi(r.query.get("partNumber"))
	if err != nil || n < 1 || n > maxParts {
		return 0, errCode("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
	}
	return n, nil
}

// partExtent returns the offset and size of part n of info.
func partExtent(info object.ObjectInfo, n int) (off, size int64, ok bool) {
	for _, p := range info.Parts {
		if p.Number == n {
			return off, p.Size, true
		}
		off += p.Size
	}
	return 0, 0, false
}

// readObject serves GetObject (head=false) and HeadObject.
func (r *request) readObject(head bool) error {
	opts := object.GetOptions{VersionID: r.query.get("versionId")}
	n, err := r.parsePartNumber()
	if err != nil {
		return err
	}
	ck, err := r.parseReadSSE()
	if err != nil {
		return err
	}
	// The key is wiped when the handler returns, or, for a streamed body,
	// when fasthttp closes the stream after sending it.
	wipeKey := true
	defer func() {
		if wipeKey {
			ck.wipe()
		}
	}()
	opts.CustomerKey = ck.bytes()
	rangeHdr := r.header("Range")
	if n > 0 && rangeHdr != "" {
		return errCode("InvalidRequest", "Cannot specify both Range header and partNumber query parameter")
	}
	opts.PartNumber = n
	if rangeHdr != "" {
		opts.Range = parseRange(rangeHdr)
	}
	var info object.ObjectInfo
	var rc io.ReadCloser
	if head {
		info, err = r.s.layer.HeadObject(r.c, r.bucket, r.key, opts)
	} else {
		info, rc, err = r.s.layer.GetObject(r.c, r.bucket, r.key, opts)
	}
	if errors.Is(err, object.ErrInvalidRange) {
		// Conditions still take precedence, and the 416 needs the size.
		if info.ETag != "" {
			err = nil
		} else if hi, herr := r.s.layer.HeadObject(r.c, r.bucket, r.key, object.GetOptions{VersionID: opts.VersionID, CustomerKey: opts.CustomerKey}); herr == nil {
			info, err = hi, nil
		}
	}
	if err != nil {
		return deleteMarkerError(err, info)
	}
	ok := false
	defer func() {
		if !ok && rc != nil {
			rc.Close()
		}
	}()
	if err := checkConditions(r.header, info); err != nil {
		return notModified(err, info)
	}
	status, length := 200, info.Size
	var contentRange string
	switch {
	case n > 0 && info.PartsCount > 0:
		off, size, found := partExtent(info, n)
		if !found {
			return errCode("InvalidPartNumber", "")
		}
		status, length = 206, size
		contentRange = "bytes " + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+size-1, 10) + "/" + strconv.FormatInt(info.Size, 10)
		r.setHeader("x-amz-mp-parts-count", strconv.Itoa(info.PartsCount))
	case n > 1:
		return errCode("InvalidPartNumber", "")
	case opts.Range != nil:
		off, size, err := opts.Range.Resolve(info.Size)
		if err != nil {
			return &headerError{err: errCode("InvalidRange", ""), headers: [][2]string{
				{"Content-Range", "bytes */" + strconv.FormatInt(info.Size, 10)},
			}}
		}
		status, length = 206, size
		contentRange = "bytes " + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+size-1, 10) + "/" + strconv.FormatInt(info.Size, 10)
	}
	r.setObjectHeaders(info, opts.Range != nil && contentRange != "")
	r.setSSEHeaders(info.Encryption, ck.sentMD5(), "")
	if contentRange != "" {
		r.setHeader("Content-Range", contentRange)
	}
	r.ctx.SetStatusCode(status)
	ok = true
	if head || rc == nil {
		r.ctx.Response.Header.SetContentLength(int(length))
		if rc != nil {
			rc.Close()
		}
		return nil
	}
	if ck != nil {
		rc, wipeKey = wipeOnClose{ReadCloser: rc, key: ck}, false
	}
	r.ctx.SetBodyStream(r.guardBody(rc, length), int(length)) // fasthttp closes rc after sending
	return nil
}

// deleteObject: DELETE /bucket/key (204).
func deleteObject(r *request) error {
	if r.header("If-Match") != "" || r.header("x-amz-if-match-last-modified-time") != "" || r.header("x-amz-if-match-size") != "" {
		return errCode("NotImplemented", "Conditional deletes are not implemented.")
	}
	vid := r.query.get("versionId")
	dopts := object.DeleteOptions{VersionID: vid, Actor: r.principal.ARN()}
	if vid != "" {
		dopts.BypassGovernance = r.bypassGovernance(r.key)
	}
	res, err := r.s.layer.DeleteObject(r.c, r.bucket, r.key, dopts)
	if errors.Is(err, object.ErrNoSuchKey) || errors.Is(err, object.ErrNoSuchVersion) {
		err = nil // S3 answers 204 for a key or version that is not there
		res = object.DeleteResult{VersionID: vid}
	}
	if err != nil {
		return err
	}
	if res.VersionID != "" {
		r.setHeader("x-amz-version-id", res.VersionID)
	}
	if res.DeleteMarker {
		r.setHeader("x-amz-delete-marker", "true")
	}
	return r.writeStatus(204)
}

// copyResult is the CopyObject / UploadPartCopy response.
type copyResult struct {
	XMLName      xml.Name
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	checksumXML
}

// parseCopySource reads x-amz-copy-source ("[/]bucket/key[?versionId=id]",
// URL-encoded) and the x-amz-copy-source-if-* conditions.
func (r *request) parseCopySource() (object.CopySource, error) {
	var src object.CopySource
	bad := errCode("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	raw := r.header("x-amz-copy-source")
	p, rawq, _ := strings.Cut(raw, "?")
	p, err := url.PathUnescape(p)
	if err != nil {
		return src, bad
	}
	p = strings.TrimPrefix(p, "/")
	b, k, ok := strings.Cut(p, "/")
	if !ok || b == "" || k == "" {
		return src, bad
	}
	src.Bucket, src.Key = b, k
	if rawq != "" {
		q, err := url.ParseQuery(rawq)
		if err != nil || len(q) != 1 || !q.Has("versionId") || q.Get("versionId") == "" {
			return src, bad
		}
		src.VersionID = q.Get("versionId")
	}
	if v := r.header("x-amz-copy-source-if-match"); v != "" {
		src.IfMatch = trimETag(v)
	}
	if v := r.header("x-amz-copy-source-if-none-match"); v != "" {
		src.IfNoneMatch = trimETag(v)
	}
	if t, ok := parseHTTPDate(r.header("x-amz-copy-source-if-modified-since")); ok {
		src.IfModifiedSince = t
	}
	if t, ok := parseHTTPDate(r.header("x-amz-copy-source-if-unmodified-since")); ok {
		src.IfUnmodifiedSince = t
	}
	return src, nil
}

// parseDirective reads a COPY|REPLACE directive header; true means REPLACE.
func (r *request) parseDirective(name string) (bool, error) {
	switch v := r.header(name); v {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	default:
		return false, errCode("InvalidArgument", "Unknown "+name+" value "+v)
	}
}

// copyObject: PUT /bucket/key with x-amz-copy-source.
func copyObject(r *request) error {
	src, err := r.parseCopySource()
	if err != nil {
		return err
	}
	srcKey, err := r.parseCustomerKey(hdrCopySSECPrefix)
	if err != nil {
		return err
	}
	defer srcKey.wipe()
	src.CustomerKey = srcKey.bytes()
	opts, sse, err := r.parseWriteOptions()
	defer sse.customer.wipe()
	if err != nil {
		return err
	}
	if opts.MetadataReplace, err = r.parseDirective("x-amz-metadata-directive"); err != nil {
		return err
	}
	if opts.TagsReplace, err = r.parseDirective("x-amz-tagging-directive"); err != nil {
		return err
	}
	if !opts.TagsReplace {
		opts.Tags = nil
	}
	if v := r.header("x-amz-checksum-algorithm"); v != "" {
		a, ok := checksumAlgorithms[strings.ToLower(v)]
		if !ok {
			return errCode("InvalidRequest", "Value for x-amz-checksum-algorithm header is invalid.")
		}
		opts.ChecksumAlgorithm = a.name
	}
	if opts.IfNoneMatchStar, opts.IfMatch, err = r.parseWriteConditions(); err != nil {
		return err
	}
	// Copying an object onto itself is how S3 clients change its
	// encryption, so SSE headers make such a copy legal.
	if src.Bucket == r.bucket && src.Key == r.key && src.VersionID == "" && !opts.MetadataReplace && opts.SSE.Mode == "" {
		return errCode("InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	info, err := r.s.layer.CopyObject(r.c, src, r.bucket, r.key, opts)
	if errors.Is(err, object.ErrNotModified) {
		err = errCode("PreconditionFailed", "") // S3 answers 412 for every copy-source condition
	}
	if err != nil {
		return err
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	if src.VersionID != "" {
		r.setHeader("x-amz-copy-source-version-id", src.VersionID)
	}
	r.setSSEHeaders(info.Encryption, sse.customer.sentMD5(), sse.bucketKey)
	res := copyResult{XMLName: xmlName("CopyObjectResult"), LastModified: iso8601(info.ModTime), ETag: quoteETag(info.ETag)}
	res.checksumXML = checksumsXML(info.Checksums)
	return r.writeXML(200, res)
}
