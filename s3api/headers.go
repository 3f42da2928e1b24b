package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferstore/coffer/object"
)

// maxUserMetaSize is S3's limit on user metadata: the sum of the lengths of
// the x-amz-meta-* names (without the prefix) and values.
const maxUserMetaSize = 2 << 10

// checksumAlgorithms maps the lower-case x-amz-checksum-* suffix to the
// object layer's algorithm name, with the raw digest length.
var checksumAlgorithms = map[string]struct {
	name string
	size int
}{
	"crc32":     {object.ChecksumCRC32, 4},
	"crc32c":    {object.ChecksumCRC32C, 4},
	"crc64nvme": {object.ChecksumCRC64NVME, 8},
	"sha1":      {object.ChecksumSHA1, 20},
	"sha256":    {object.ChecksumSHA256, 32},
}

// checksumOptions are the integrity options of a write.
type checksumOptions struct {
	md5       []byte
	algorithm string
	expect    string
	trailing  func() string
}

// parseChecksums reads Content-MD5, x-amz-checksum-*, x-amz-sdk-checksum-
// algorithm and checksum trailers.
func (r *request) parseChecksums() (checksumOptions, error) {
	var o checksumOptions
	if v := r.header("Content-MD5"); v != "" {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(b) != md5.Size {
			return o, errCode("InvalidDigest", "")
		}
		o.md5 = b
	}
	if v := r.header("x-amz-sdk-checksum-algorithm"); v != "" {
		a, ok := checksumAlgorithms[strings.ToLower(v)]
		if !ok {
			return o, errCode("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		o.algorithm = a.name
	}
	for alg, a := range checksumAlgorithms {
		v := r.header("x-amz-checksum-" + alg)
		if v == "" {
			continue
		}
		if o.expect != "" {
			return o, errCode("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		if b, err := base64.StdEncoding.DecodeString(v); err != nil || len(b) != a.size {
			return o, errCode("InvalidRequest", "Value for x-amz-checksum-"+alg+" header is invalid.")
		}
		if o.algorithm != "" && o.algorithm != a.name {
			return o, errCode("InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		o.algorithm, o.expect = a.name, v
	}
	if r.chunked != nil {
		for _, t := range r.auth.Trailers {
			alg, ok := strings.CutPrefix(strings.ToLower(t), "x-amz-checksum-")
			if !ok {
				continue
			}
			a, known := checksumAlgorithms[alg]
			if !known || o.expect != "" || (o.algorithm != "" && o.algorithm != a.name) {
				return o, errCode("InvalidRequest", "The value specified in the x-amz-trailer header is not supported")
			}
			o.algorithm = a.name
			name, c := "x-amz-checksum-"+alg, r.chunked
			o.trailing = func() string { return c.Trailer(name) }
		}
	}
	return o, nil
}

// unsupportedWriteHeaders are request headers whose feature coffer does not
// implement yet: a write naming one fails with 501 rather than silently
// ignoring a compliance or security request.
//
// x-amz-server-side-encryption-context (an SSE-KMS encryption context) is
// among them: accepting it without binding it to the data key would
// silently drop what the client asked for.
var unsupportedWriteHeaders = []string{
	"x-amz-server-side-encryption-context",
	"x-amz-website-redirect-location",
}

// checkUnsupported refuses requests carrying headers of unimplemented
// features. x-amz-acl and x-amz-grant-* are implemented (acl.go): the
// write handlers parse them and check them with acl.Settings.CheckWrite.
func (r *request) checkUnsupported() error {
	for _, h := range unsupportedWriteHeaders {
		if r.header(h) != "" {
			return errCode("NotImplemented", "The "+h+" header is not implemented.")
		}
	}
	return nil
}

// parsePutOptions builds the metadata part of PutOptions from the request
// headers (content headers, x-amz-meta-*, storage class, tagging).
func (r *request) parsePutOptions() (object.PutOptions, error) {
	var o object.PutOptions
	if err := r.checkUnsupported(); err != nil {
		return o, err
	}
	h := &r.ctx.Request.Header
	o.ContentType = string(h.ContentType())
	o.ContentEncoding = stripAWSChunked(r.header("Content-Encoding"))
	o.ContentDisposition = r.header("Content-Disposition")
	o.ContentLanguage = r.header("Content-Language")
	o.CacheControl = r.header("Cache-Control")
	o.Expires = r.header("Expires")
	size := 0
	for k, v := range h.All() {
		name := strings.ToLower(string(k))
		mk, ok := strings.CutPrefix(name, "x-amz-meta-")
		if !ok {
			continue
		}
		if o.UserMeta == nil {
			o.UserMeta = map[string]string{}
		}
		if prev, dup := o.UserMeta[mk]; dup {
			o.UserMeta[mk] = prev + "," + string(v)
		} else {
			o.UserMeta[mk] = string(v)
		}
		size += len(mk) + len(v)
	}
	if size > maxUserMetaSize {
		return o, errCode("MetadataTooLarge", "")
	}
	switch sc := r.header("x-amz-storage-class"); sc {
	case "", "STANDARD":
		o.StorageClass = "STANDARD"
	default:
		return o, errCode("InvalidStorageClass", "")
	}
	if v := r.header("x-amz-tagging"); v != "" {
		tags, err := parseTagHeader(v)
		if err != nil {
			return o, err
		}
		o.Tags = tags
	}
	lk, err := r.parseLockHeaders()
	if err != nil {
		return o, err
	}
	o.Lock = lk
	return o, nil
}

// parseWriteConditions reads If-None-Match: * and If-Match on writes.
func (r *request) parseWriteConditions() (noneMatchStar bool, ifMatch string, err error) {
	if v := r.header("If-None-Match"); v != "" {
		if strings.TrimSpace(v) != "*" {
			return false, "", errCode("NotImplemented", "If-None-Match on writes supports only '*'.")
		}
		noneMatchStar = true
	}
	if v := r.header("If-Match"); v != "" {
		ifMatch = trimETag(v)
	}
	return noneMatchStar, ifMatch, nil
}

// setChecksumHeaders writes x-amz-checksum-* response headers.
func (r *request) setChecksumHeaders(sums map[string]string) {
	for alg, v := range sums {
		r.setHeader("x-amz-checksum-"+strings.ToLower(alg), v)
	}
}

// setObjectHeaders writes the headers GetObject and HeadObject return.
// ranged is true for a Range response: it carries no whole-object checksum,
// as on S3 (clients would validate it against the partial body).
func (r *request) setObjectHeaders(info object.ObjectInfo, ranged bool) {
	r.setExpirationHeader(info)
	h := &r.ctx.Response.Header
	h.Set("ETag", quoteETag(info.ETag))
	h.Set("Last-Modified", httpDate(info.ModTime))
	h.Set("Accept-Ranges", "bytes")
	ct := info.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.SetContentType(ct)
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set("Content-Encoding", info.ContentEncoding)
	set("Content-Disposition", info.ContentDisposition)
	set("Content-Language", info.ContentLanguage)
	set("Cache-Control", info.CacheControl)
	set("Expires", info.Expires)
	set("x-amz-version-id", info.VersionID)
	r.setLockHeaders(info.Lock)
	if info.StorageClass != "" && info.StorageClass != "STANDARD" {
		h.Set("x-amz-storage-class", info.StorageClass)
	}
	for k, v := range info.UserMeta {
		// SetCanonical keeps the lower-case name, as S3 sends it; SDKs
		// return metadata keys with the case they receive.
		h.SetCanonical([]byte("x-amz-meta-"+k), []byte(v))
	}
	if len(info.Tags) > 0 {
		h.Set("x-amz-tagging-count", strconv.Itoa(len(info.Tags)))
	}
	if !ranged && strings.EqualFold(r.header("x-amz-checksum-mode"), "ENABLED") {
		r.setChecksumHeaders(info.Checksums)
	}
	if r.auth != nil && !r.auth.Anonymous {
		for q, hdr := range map[string]string{
			"response-content-type":        "Content-Type",
			"response-content-language":    "Content-Language",
			"response-expires":             "Expires",
			"response-cache-control":       "Cache-Control",
			"response-content-disposition": "Content-Disposition",
			"response-content-encoding":    "Content-Encoding",
		} {
			if r.query.has(q) {
				h.Set(hdr, r.query.get(q))
			}
		}
	}
}

// parseRange parses an HTTP Range header. It returns nil (whole object) for
// an absent, syntactically invalid or multi-range header, as S3 does; an
// unsatisfiable single range is detected later against the object size.
func parseRange(v string) *object.Range {
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, err := parseDigits(last)
		if err != nil {
			return nil
		}
		return &object.Range{Start: -1, End: -1, SuffixLength: n}
	}
	start, err := parseDigits(first)
	if err != nil {
		return nil
	}
	if last == "" {
		return &object.Range{Start: start, End: -1}
	}
	end, err := parseDigits(last)
	if err != nil || end < start {
		return nil
	}
	return &object.Range{Start: start, End: end}
}

// parseDigits parses a non-negative decimal without sign.
func parseDigits(s string) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}

// etagMatches reports whether an If-Match / If-None-Match list matches etag.
func etagMatches(list, etag string) bool {
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || trimETag(v) == etag {
			return true
		}
	}
	return false
}

// parseHTTPDate parses a conditional-request date; ok false if invalid.
func parseHTTPDate(v string) (time.Time, bool) {
	t, err := http.ParseTime(v)
	return t, err == nil
}

// checkConditions evaluates If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since against info with S3's precedence: a true If-Match
// overrides a false If-Unmodified-Since, and a false If-None-Match overrides
// a true If-Modified-Since. It returns NotModified (304) or
// PreconditionFailed (412), or nil.
func checkConditions(get func(string) string, info object.ObjectInfo) error {
	mod := info.ModTime.Truncate(time.Second)
	ifMatch := get("If-Match")
	if ifMatch != "" {
		if !etagMatches(ifMatch, info.ETag) {
			return errCode("PreconditionFailed", "")
		}
	} else if v := get("If-Unmodified-Since"); v != "" {
		if t, ok := parseHTTPDate(v); ok && mod.After(t) {
			return errCode("PreconditionFailed", "")
		}
	}
	ifNoneMatch := get("If-None-Match")
	if ifNoneMatch != "" {
		if etagMatches(ifNoneMatch, info.ETag) {
			return errCode("NotModified", "")
		}
	} else if v := get("If-Modified-Since"); v != "" {
		if t, ok := parseHTTPDate(v); ok && !mod.After(t) {
			return errCode("NotModified", "")
		}
	}
	return nil
}

// notModified wraps a 304 with the headers S3 sends on it.
func notModified(err error, info object.ObjectInfo) error {
	if e, ok := err.(*s3Error); ok && e.code == "NotModified" {
		return &headerError{err: err, headers: [][2]string{
			{"ETag", quoteETag(info.ETag)}, {"Last-Modified", httpDate(info.ModTime)},
		}}
	}
	return err
}

// stripAWSChunked removes the aws-chunked transfer coding from a
// Content-Encoding value, as S3 does before storing it.
func stripAWSChunked(v string) string {
	if !strings.Contains(v, "aws-chunked") {
		return v
	}
	var keep []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			keep = append(keep, e)
		}
	}
	return strings.Join(keep, ",")
}
