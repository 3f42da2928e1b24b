package object

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/lock"
	sha256 "github.com/minio/sha256-simd"
)

// Compliance administration (admin.Compliance): `coffer admin verify`
// re-reads versions through the normal read path (decryption, erasure
// verification, decompression) and compares them with the digests and
// evidence recorded at write time; `coffer admin retention report`
// summarises a bucket's retention and legal holds.

var _ admin.Compliance = (*Engine)(nil)

// Verify limits: versions per call when the caller names none, and at most.
const (
	VerifyDefaultLimit = 1000
	VerifyMaxLimit     = 10000
)

// complianceErr maps object errors to the admin API's classes.
func complianceErr(err error) error {
	switch {
	case errors.Is(err, ErrNoSuchBucket), errors.Is(err, ErrNoSuchKey), errors.Is(err, ErrNoSuchVersion):
		return fmt.Errorf("%w: %v", admin.ErrNotFound, err)
	}
	return err
}

// BucketTenant implements admin.Compliance.
func (e *Engine) BucketTenant(_ context.Context, bucket string) (string, error) {
	brec, err := e.bucket(bucket)
	if err != nil {
		return "", complianceErr(err)
	}
	return tenantOr(brec.Tenant), nil
}

// errStopScan ends a scan early.
var errStopScan = errors.New("object: stop scan")

type rawRecord struct{ k, v []byte }

// Verify implements admin.Compliance. It verifies the one version
// versionID of key, or up to limit version records of key (every key when
// key is "") after marker, in metadata order. A record that cannot be
// decoded or data that cannot be read or does not match is reported as a
// problem of that version; it never ends the report.
func (e *Engine) Verify(ctx context.Context, bucket, key, versionID string, limit int, marker string) (admin.VerifyReport, error) {
	rep := admin.VerifyReport{Bucket: bucket, Results: []admin.VerifyResult{}}
	if _, err := e.bucket(bucket); err != nil {
		return rep, complianceErr(err)
	}
	if limit <= 0 {
		limit = VerifyDefaultLimit
	}
	limit = min(limit, VerifyMaxLimit)
	add := func(r admin.VerifyResult) {
		rep.Checked++
		if !r.OK {
			rep.Failed++
		}
		rep.Results = append(rep.Results, r)
	}
	if versionID != "" {
		if key == "" {
			return rep, fmt.Errorf("%w: a version id needs a key", admin.ErrInvalid)
		}
		if err := checkKey(key); err != nil {
			return rep, fmt.Errorf("%w: %v", admin.ErrNotFound, err)
		}
		v, err := e.resolve(bucket, key, versionID)
		switch {
		case errors.Is(err, errBadRecord):
			add(admin.VerifyResult{Key: key, VersionID: versionID, Problem: "unreadable version record: " + err.Error()})
			return rep, nil
		case err != nil:
			return rep, complianceErr(err)
		case v.DeleteMarker:
			return rep, fmt.Errorf("%w: version %s of %q is a delete marker", admin.ErrInvalid, versionID, key)
		}
		add(e.verifyVersion(ctx, bucket, key, v))
		return rep, nil
	}
	prefix := objPrefix(tagVersion, bucket, "")
	if key != "" {
		if err := checkKey(key); err != nil {
			return rep, fmt.Errorf("%w: %v", admin.ErrNotFound, err)
		}
		prefix = append(objPrefix(tagVersion, bucket, key), 0)
	}
	lower := prefix
	if marker != "" {
		mk, err := hex.DecodeString(marker)
		if err != nil || !bytes.HasPrefix(mk, prefix) || len(mk) == len(prefix) {
			return rep, fmt.Errorf("%w: marker %q does not belong to this listing", admin.ErrInvalid, marker)
		}
		lower = append(mk, 0) // the smallest key after the marker
	}
	// Collect first, verify after: reading data must not hold an iterator.
	var recs []rawRecord
	err := e.scan(lower, prefixEnd(prefix), func(k, v []byte) error {
		if len(recs) == limit {
			rep.Truncated = true
			return errStopScan
		}
		recs = append(recs, rawRecord{bytes.Clone(k), bytes.Clone(v)})
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return rep, err
	}
	if rep.Truncated {
		rep.NextMarker = hex.EncodeToString(recs[len(recs)-1].k)
	}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		_, k := splitRecordKey(r.k)
		vs := r.k[len(objPrefix(tagVersion, bucket, k))+1:]
		v, err := decodeVersion(r.v)
		if err != nil {
			add(admin.VerifyResult{Key: k, VersionID: versionIDString(vs), Problem: "unreadable version record: " + err.Error()})
			continue
		}
		if v.DeleteMarker {
			continue
		}
		add(e.verifyVersion(ctx, bucket, k, v))
	}
	return rep, nil
}

// verifyVersion re-reads one version and compares it with its record. A
// failure, even an unexpected panic of a lower layer on corrupt input, is
// a problem of this version only.
func (e *Engine) verifyVersion(ctx context.Context, bucket, key string, v *versionRecord) (res admin.VerifyResult) {
	res = admin.VerifyResult{Key: key, VersionID: v.versionID(), Size: v.Size}
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("verify: panic reading version", "bucket", bucket, "key", key, "version", res.VersionID, "panic", r)
			res.OK, res.Problem = false, fmt.Sprintf("internal error reading the data: %v", r)
		}
	}()
	if v.Enc != nil && v.Enc.Mode == SSEC {
		res.Problem = "SSE-C: the data cannot be read without the customer's key"
		return res
	}
	var problems []string
	if len(v.Parts) == 0 {
		d, err := e.digestRange(ctx, v, bucket, key, 0, v.Size)
		problems = append(problems, d.compare(err, "", v.Size, v.ETag, v.Evidence)...)
		res.Evidence = v.Evidence != nil && v.Evidence.SHA256 != ""
	} else {
		res.Evidence = true
		off, total := int64(0), int64(0)
		for _, p := range v.Parts {
			d, err := e.digestRange(ctx, v, bucket, key, off, p.Size)
			problems = append(problems, d.compare(err, fmt.Sprintf("part %d: ", p.Number), p.Size, p.ETag, p.Evidence)...)
			if p.Evidence == nil || p.Evidence.SHA256 == "" {
				res.Evidence = false
			}
			off += p.Size
			total += p.Size
		}
		if total != v.Size {
			problems = append(problems, fmt.Sprintf("parts hold %d bytes, the version records %d", total, v.Size))
		}
		if etag, err := multipartETag(v.Parts); err != nil || etag != v.ETag {
			problems = append(problems, fmt.Sprintf("multipart ETag %q does not match the parts' digests", v.ETag))
		}
	}
	res.OK = len(problems) == 0
	res.Problem = strings.Join(problems, "; ")
	return res
}

// rangeDigest is what re-reading a plaintext range found.
type rangeDigest struct {
	n           int64
	md5, sha256 []byte
}

// digestRange reads [off, off+length) of a version's plaintext through the
// normal read path and digests it.
func (e *Engine) digestRange(ctx context.Context, v *versionRecord, bucket, key string, off, length int64) (rangeDigest, error) {
	var d rangeDigest
	rc, err := e.open(ctx, v, bucket, key, nil, off, length)
	if err != nil {
		return d, err
	}
	defer rc.Close()
	m, s := md5.New(), sha256.New()
	d.n, err = io.Copy(io.MultiWriter(m, s), ctxReader{ctx, rc})
	d.md5, d.sha256 = m.Sum(nil), s.Sum(nil)
	return d, err
}

// compare checks a digest against the recorded size, ETag (a plain MD5;
// a composite "-N" ETag is not compared here) and evidence.
func (d rangeDigest) compare(readErr error, what string, size int64, etag string, ev *evidence) []string {
	if readErr != nil {
		return []string{fmt.Sprintf("%sreading the data failed: %v", what, readErr)}
	}
	var out []string
	if d.n != size {
		out = append(out, fmt.Sprintf("%sread %d bytes, recorded size %d", what, d.n, size))
	}
	if etag != "" && !strings.Contains(etag, "-") && hex.EncodeToString(d.md5) != etag {
		out = append(out, fmt.Sprintf("%sMD5 %x does not match the ETag %s", what, d.md5, etag))
	}
	if ev != nil {
		if ev.SHA256 != "" && hex.EncodeToString(d.sha256) != ev.SHA256 {
			out = append(out, fmt.Sprintf("%sSHA-256 %x does not match the evidence %s", what, d.sha256, ev.SHA256))
		}
		if ev.ContentMD5 != "" && base64.StdEncoding.EncodeToString(d.md5) != ev.ContentMD5 {
			out = append(out, fmt.Sprintf("%sMD5 does not match the client's Content-MD5 %s", what, ev.ContentMD5))
		}
	}
	return out
}

// ctxReader stops a long read when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// RetentionReport implements admin.Compliance: one scan of the bucket's
// version records. Delete markers are not counted.
func (e *Engine) RetentionReport(ctx context.Context, bucket string) (admin.RetentionReport, error) {
	rep := admin.RetentionReport{Bucket: bucket}
	if _, err := e.bucket(bucket); err != nil {
		return rep, complianceErr(err)
	}
	now := e.now()
	rep.AsOf = now.UTC()
	var earliest, latest time.Time
	prefix := objPrefix(tagVersion, bucket, "")
	err := e.scan(prefix, prefixEnd(prefix), func(_, raw []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := decodeVersion(raw)
		if err != nil {
			rep.Unreadable++
			return nil
		}
		if v.DeleteMarker {
			return nil
		}
		rep.Versions++
		rep.Bytes += v.Size
		if l := v.Lock; l.Mode != "" && l.RetainUntil.After(now) {
			rep.Retained++
			rep.RetainedBytes += v.Size
			switch l.Mode {
			case lock.ModeCompliance:
				rep.Compliance++
			case lock.ModeGovernance:
				rep.Governance++
			}
			if earliest.IsZero() || l.RetainUntil.Before(earliest) {
				earliest = l.RetainUntil
			}
			if l.RetainUntil.After(latest) {
				latest = l.RetainUntil
			}
		}
		if v.Lock.LegalHold {
			rep.LegalHold++
			rep.LegalHoldBytes += v.Size
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if !earliest.IsZero() {
		first, last := earliest.UTC(), latest.UTC()
		rep.EarliestRetainUntil, rep.LatestRetainUntil = &first, &last
	}
	return rep, nil
}
