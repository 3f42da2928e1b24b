package s3api

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"

	"github.com/cofferstore/coffer/object"
)

// initiateResult is the CreateMultipartUpload response.
type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	NS       string   `xml:"xmlns,attr"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

// createMultipartUpload: POST /bucket/key?uploads.
func createMultipartUpload(r *request) error {
	opts, sse, err := r.parseWriteOptions()
	defer sse.customer.wipe()
	if err != nil {
		return err
	}
	if v := r.header("x-amz-checksum-algorithm"); v != "" {
		a, ok := checksumAlgorithms[strings.ToLower(v)]
		if !ok {
			return errCode("InvalidRequest", "Value for x-amz-checksum-algorithm header is invalid.")
		}
		opts.ChecksumAlgorithm = a.name
	}
	switch v := r.header("x-amz-checksum-type"); v {
	case "", "COMPOSITE":
	default:
		return errCode("NotImplemented", "Checksum type "+v+" is not implemented.")
	}
	id, err := r.s.layer.NewMultipartUpload(r.c, r.bucket, r.key, opts)
	if err != nil {
		return err
	}
	if opts.ChecksumAlgorithm != "" {
		r.setHeader("x-amz-checksum-algorithm", opts.ChecksumAlgorithm)
		r.setHeader("x-amz-checksum-type", "COMPOSITE")
	}
	// The layer returns no ObjectInfo here: report what the request asked
	// for or, without SSE headers, the bucket default the layer applies.
	enc := encryptionOf(opts.SSE)
	if enc.Mode == "" {
		if bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket); err == nil {
			enc = bucketDefaultEncryption(bi.Encryption)
		}
	}
	r.setSSEHeaders(enc, sse.customer.sentMD5(), sse.bucketKey)
	return r.writeXML(200, initiateResult{NS: s3NS, Bucket: r.bucket, Key: r.key, UploadID: id})
}

// partParams reads uploadId and partNumber of UploadPart / UploadPartCopy.
func (r *request) partParams() (string, int, error) {
	id := r.query.get("uploadId")
	if id == "" {
		return "", 0, errCode("InvalidArgument", "This operation requires an uploadId")
	}
	if !r.query.has("partNumber") {
		return "", 0, errCode("InvalidArgument", "This operation requires a partNumber")
	}
	n, err := r.parsePartNumber()
	return id, n, err
}

// uploadPart: PUT /bucket/key?partNumber=N&uploadId=ID.
func uploadPart(r *request) error {
	id, n, err := r.partParams()
	if err != nil {
		return err
	}
	ck, err := r.parseCustomerKey(hdrSSECPrefix)
	if err != nil {
		return err
	}
	defer ck.wipe()
	cs, err := r.parseChecksums()
	if err != nil {
		return err
	}
	size, err := r.bodySize()
	if err != nil {
		return err
	}
	if size > maxObjectSize {
		return errCode("EntityTooLarge", "")
	}
	opts := object.PartOptions{CustomerKey: ck.bytes(), ExpectMD5: cs.md5, ExpectSHA256: r.expectSHA256(), ChecksumAlgorithm: cs.algorithm,
		ExpectChecksum: cs.expect, TrailingChecksum: cs.trailing}
	pi, err := r.s.layer.PutObjectPart(r.c, r.bucket, r.key, id, n, r.body(), size, opts)
	if err != nil {
		return err
	}
	r.setHeader("ETag", quoteETag(pi.ETag))
	r.setChecksumHeaders(pi.Checksums)
	r.setPartSSEHeaders(pi.Encryption, ck)
	return r.writeStatus(200)
}

// parseCopyRange reads x-amz-copy-source-range ("bytes=first-last").
func parseCopyRange(v string) (*object.Range, error) {
	if v == "" {
		return nil, nil
	}
	bad := errCode("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return nil, bad
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return nil, bad
	}
	start, err1 := parseDigits(a)
	end, err2 := parseDigits(b)
	if err1 != nil || err2 != nil || end < start {
		return nil, bad
	}
	return &object.Range{Start: start, End: end}, nil
}

// copySourceConditions evaluates x-amz-copy-source-if-* against the source.
func copySourceConditions(src object.CopySource, info object.ObjectInfo) error {
	get := func(name string) string {
		switch name {
		case "If-Match":
			return src.IfMatch
		case "If-None-Match":
			return src.IfNoneMatch
		case "If-Modified-Since":
			if !src.IfModifiedSince.IsZero() {
				return httpDate(src.IfModifiedSince)
			}
		case "If-Unmodified-Since":
			if !src.IfUnmodifiedSince.IsZero() {
				return httpDate(src.IfUnmodifiedSince)
			}
		}
		return ""
	}
	if err := checkConditions(get, info); err != nil {
		return errCode("PreconditionFailed", "") // S3 answers 412 for every copy-source condition
	}
	return nil
}

// uploadPartCopy: PUT /bucket/key?partNumber=N&uploadId=ID with
// x-amz-copy-source: reads the source range through GetObject and streams it
// into PutObjectPart.
func uploadPartCopy(r *request) error {
	id, n, err := r.partParams()
	if err != nil {
		return err
	}
	src, err := r.parseCopySource()
	if err != nil {
		return err
	}
	if src.Range, err = parseCopyRange(r.header("x-amz-copy-source-range")); err != nil {
		return err
	}
	srcKey, err := r.parseCustomerKey(hdrCopySSECPrefix)
	if err != nil {
		return err
	}
	defer srcKey.wipe()
	src.CustomerKey = srcKey.bytes()
	dstKey, err := r.parseCustomerKey(hdrSSECPrefix)
	if err != nil {
		return err
	}
	defer dstKey.wipe()
	info, rc, err := r.s.layer.GetObject(r.c, src.Bucket, src.Key, object.GetOptions{VersionID: src.VersionID, Range: src.Range, CustomerKey: src.CustomerKey})
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := copySourceConditions(src, info); err != nil {
		return err
	}
	size := info.Size
	if src.Range != nil {
		if src.Range.End >= info.Size {
			return errCode("InvalidArgument", "Range specified is not valid for source object of size: "+strconv.FormatInt(info.Size, 10))
		}
		size = src.Range.End - src.Range.Start + 1
	}
	if size > maxObjectSize {
		return errCode("EntityTooLarge", "")
	}
	pi, err := r.s.layer.PutObjectPart(r.c, r.bucket, r.key, id, n, io.LimitReader(rc, size), size, object.PartOptions{CustomerKey: dstKey.bytes()})
	if err != nil {
		return err
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-copy-source-version-id", info.VersionID)
	}
	r.setPartSSEHeaders(pi.Encryption, dstKey)
	res := copyResult{XMLName: xmlName("CopyPartResult"), LastModified: iso8601(pi.ModTime), ETag: quoteETag(pi.ETag)}
	res.checksumXML = checksumsXML(pi.Checksums)
	return r.writeXML(200, res)
}

// completeResult is the CompleteMultipartUpload response.
type completeResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	NS       string   `xml:"xmlns,attr"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
	checksumXML
}

// completeMultipartUpload: POST /bucket/key?uploadId=ID.
func completeMultipartUpload(r *request) error {
	id := r.query.get("uploadId")
	b, err := r.readBody(maxXMLBodyLarge)
	if err != nil {
		return err
	}
	parts, err := parseComplete(b)
	if err != nil {
		return err
	}
	var opts object.CompleteOptions
	if opts.IfNoneMatchStar, opts.IfMatch, err = r.parseWriteConditions(); err != nil {
		return err
	}
	// SDKs may repeat an SSE-C upload's key here; it is validated and its
	// MD5 echoed, but the layer needs no key to assemble parts.
	ck, err := r.parseCustomerKey(hdrSSECPrefix)
	if err != nil {
		return err
	}
	ck.wipe()
	info, err := r.s.layer.CompleteMultipartUpload(r.c, r.bucket, r.key, id, parts, opts)
	if err != nil {
		return err
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	r.setSSEHeaders(info.Encryption, ck.sentMD5(), "")
	scheme := "http"
	if r.ctx.IsTLS() {
		scheme = "https"
	}
	loc := scheme + "://" + string(r.ctx.Host()) + "/" + r.bucket + "/" + s3URLEncode(r.key)
	res := completeResult{NS: s3NS, Location: loc, Bucket: r.bucket, Key: r.key, ETag: quoteETag(info.ETag)}
	res.checksumXML = checksumsXML(info.Checksums)
	return r.writeXML(200, res)
}

// abortMultipartUpload: DELETE /bucket/key?uploadId=ID (204).
func abortMultipartUpload(r *request) error {
	if err := r.s.layer.AbortMultipartUpload(r.c, r.bucket, r.key, r.query.get("uploadId"), object.AbortOptions{Actor: r.principal.ARN()}); err != nil {
		return err
	}
	return r.writeStatus(204)
}

type partXML struct {
	PartNumber   int    `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	checksumXML
}

// listPartsResult is the ListParts response.
type listPartsResult struct {
	XMLName              xml.Name  `xml:"ListPartsResult"`
	NS                   string    `xml:"xmlns,attr"`
	Bucket               string    `xml:"Bucket"`
	Key                  string    `xml:"Key"`
	UploadID             string    `xml:"UploadId"`
	Initiator            owner     `xml:"Initiator"`
	Owner                owner     `xml:"Owner"`
	StorageClass         string    `xml:"StorageClass"`
	PartNumberMarker     int       `xml:"PartNumberMarker"`
	NextPartNumberMarker int       `xml:"NextPartNumberMarker"`
	MaxParts             int       `xml:"MaxParts"`
	IsTruncated          bool      `xml:"IsTruncated"`
	ChecksumAlgorithm    string    `xml:"ChecksumAlgorithm,omitempty"`
	Parts                []partXML `xml:"Part"`
}

// listParts: GET /bucket/key?uploadId=ID.
func listParts(r *request) error {
	id := r.query.get("uploadId")
	maxP := maxListKeys
	if r.query.has("max-parts") {
		n, err := strconv.Atoi(r.query.get("max-parts"))
		if err != nil || n < 0 {
			return errCode("InvalidArgument", "Provided max-parts not an integer or within integer range")
		}
		maxP = min(n, maxListKeys)
	}
	marker := 0
	if r.query.has("part-number-marker") {
		n, err := strconv.Atoi(r.query.get("part-number-marker"))
		if err != nil || n < 0 {
			return errCode("InvalidArgument", "Provided part-number-marker not an integer or within integer range")
		}
		marker = n
	}
	lr, err := r.s.layer.ListParts(r.c, r.bucket, r.key, id, marker, maxP)
	if err != nil {
		return err
	}
	res := listPartsResult{NS: s3NS, Bucket: r.bucket, Key: r.key, UploadID: id, Initiator: owner{ID: r.owner}, Owner: owner{ID: r.owner},
		StorageClass: "STANDARD", PartNumberMarker: marker, NextPartNumberMarker: lr.NextPartNumberMarker, MaxParts: maxP,
		IsTruncated: lr.IsTruncated, ChecksumAlgorithm: lr.ChecksumAlgorithm}
	for _, p := range lr.Parts {
		res.Parts = append(res.Parts, partXML{PartNumber: p.Number, LastModified: iso8601(p.ModTime), ETag: quoteETag(p.ETag), Size: p.Size, checksumXML: checksumsXML(p.Checksums)})
	}
	if len(lr.Parts) > 0 && res.NextPartNumberMarker == 0 {
		res.NextPartNumberMarker = lr.Parts[len(lr.Parts)-1].Number
	}
	return r.writeXML(200, res)
}

type uploadXML struct {
	Key          string `xml:"Key"`
	UploadID     string `xml:"UploadId"`
	Initiator    owner  `xml:"Initiator"`
	Owner        owner  `xml:"Owner"`
	StorageClass string `xml:"StorageClass"`
	Initiated    string `xml:"Initiated"`
}

// listUploadsResult is the ListMultipartUploads response.
type listUploadsResult struct {
	XMLName            xml.Name    `xml:"ListMultipartUploadsResult"`
	NS                 string      `xml:"xmlns,attr"`
	Bucket             string      `xml:"Bucket"`
	KeyMarker          string      `xml:"KeyMarker"`
	UploadIDMarker     string      `xml:"UploadIdMarker"`
	NextKeyMarker      string      `xml:"NextKeyMarker"`
	NextUploadIDMarker string      `xml:"NextUploadIdMarker"`
	Prefix             string      `xml:"Prefix"`
	Delimiter          string      `xml:"Delimiter,omitempty"`
	MaxUploads         int         `xml:"MaxUploads"`
	EncodingType       string      `xml:"EncodingType,omitempty"`
	IsTruncated        bool        `xml:"IsTruncated"`
	Uploads            []uploadXML `xml:"Upload"`
	CommonPrefixes     []prefixXML `xml:"CommonPrefixes"`
}

// listMultipartUploads: GET /bucket?uploads.
func listMultipartUploads(r *request) error {
	p, err := r.parseListParams("max-uploads")
	if err != nil {
		return err
	}
	keyMarker, idMarker := r.query.get("key-marker"), r.query.get("upload-id-marker")
	var lr object.ListUploadsResult
	if p.maxKeys == 0 {
		_, err = r.s.layer.GetBucketInfo(r.c, r.bucket)
	} else {
		lr, err = r.s.layer.ListMultipartUploads(r.c, r.bucket, object.ListUploadsOptions{
			Prefix: p.prefix, Delimiter: p.delimiter, KeyMarker: keyMarker, UploadIDMarker: idMarker, MaxUploads: p.maxKeys,
		})
	}
	if err != nil {
		return err
	}
	res := listUploadsResult{NS: s3NS, Bucket: r.bucket, KeyMarker: p.enc(keyMarker), UploadIDMarker: idMarker,
		NextKeyMarker: p.enc(lr.NextKeyMarker), NextUploadIDMarker: lr.NextUploadIDMarker, Prefix: p.enc(p.prefix),
		Delimiter: p.enc(p.delimiter), MaxUploads: p.maxKeys, IsTruncated: lr.IsTruncated}
	if p.encode {
		res.EncodingType = "url"
	}
	for _, u := range lr.Uploads {
		res.Uploads = append(res.Uploads, uploadXML{Key: p.enc(u.Key), UploadID: u.UploadID, Initiator: owner{ID: r.owner},
			Owner: owner{ID: r.owner}, StorageClass: "STANDARD", Initiated: iso8601(u.Initiated)})
	}
	for _, cp := range lr.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, prefixXML{Prefix: p.enc(cp)})
	}
	return r.writeXML(200, res)
}
