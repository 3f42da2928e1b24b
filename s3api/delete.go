package s3api

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"

	"github.com/minio/sha256-simd"

	"github.com/cofferstore/coffer/object"
)

// crc64NVMETable is the CRC-64/NVME polynomial in reflected form.
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// newChecksum returns the hash of a checksum algorithm, or nil if unknown.
func newChecksum(alg string) hash.Hash {
	switch alg {
	case object.ChecksumCRC32:
		return crc32.NewIEEE()
	case object.ChecksumCRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case object.ChecksumCRC64NVME:
		return crc64.New(crc64NVMETable)
	case object.ChecksumSHA1:
		return sha1.New()
	case object.ChecksumSHA256:
		return sha256.New()
	}
	return nil
}

// checksumOf returns the base64 checksum of b under alg.
func checksumOf(alg string, b []byte) string {
	h := newChecksum(alg)
	if h == nil {
		return ""
	}
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// verifySmallBody checks the integrity headers of a small body that s3api
// reads itself; required makes one of Content-MD5 / x-amz-checksum-* (or a
// checksum trailer) mandatory, as S3 requires for DeleteObjects.
func (r *request) verifySmallBody(b []byte, cs checksumOptions, required bool) error {
	if required && cs.md5 == nil && cs.expect == "" && cs.trailing == nil {
		return errCode("MissingContentMD5", "")
	}
	if cs.md5 != nil {
		sum := md5.Sum(b)
		if !bytes.Equal(sum[:], cs.md5) {
			return errCode("BadDigest", "")
		}
	}
	want := cs.expect
	if want == "" && cs.trailing != nil {
		want = cs.trailing()
	}
	if want != "" && checksumOf(cs.algorithm, b) != want {
		return errCode("BadDigest", "The "+strings.ToLower(cs.algorithm)+" you specified did not match the calculated checksum.")
	}
	return nil
}

// deleteResult is the DeleteObjects response.
type deleteResult struct {
	XMLName xml.Name         `xml:"DeleteResult"`
	NS      string           `xml:"xmlns,attr"`
	Deleted []deletedXML     `xml:"Deleted"`
	Errors  []deleteErrorXML `xml:"Error"`
}

type deletedXML struct {
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

type deleteErrorXML struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
}

// deleteObjects: POST /bucket?delete.
func deleteObjects(r *request) error {
	cs, err := r.parseChecksums()
	if err != nil {
		return err
	}
	b, err := r.readBody(maxXMLBodyLarge)
	if err != nil {
		return err
	}
	if err := r.verifySmallBody(b, cs, true); err != nil {
		return err
	}
	req, err := parseDelete(b)
	if err != nil {
		return err
	}
	if _, err := r.s.layer.GetBucketInfo(r.c, r.bucket); err != nil {
		return err
	}
	res := deleteResult{NS: s3NS}
	for _, o := range req.Objects {
		dopts := object.DeleteOptions{VersionID: o.VersionID, Actor: r.principal.ARN(), Batch: true}
		if o.VersionID != "" {
			dopts.BypassGovernance = r.bypassGovernance(o.Key)
		}
		dr, err := r.s.layer.DeleteObject(r.c, r.bucket, o.Key, dopts)
		if errors.Is(err, object.ErrNoSuchKey) || errors.Is(err, object.ErrNoSuchVersion) {
			err, dr = nil, object.DeleteResult{VersionID: o.VersionID}
		}
		if err != nil {
			e, known := errorFor(err)
			if !known {
				r.s.log.Error("delete failed", "request_id", r.id, "bucket", r.bucket, "key", o.Key, "err", err)
			}
			res.Errors = append(res.Errors, deleteErrorXML{Key: o.Key, VersionID: o.VersionID, Code: e.Code, Message: e.Message})
			continue
		}
		if req.Quiet {
			continue
		}
		d := deletedXML{Key: o.Key, VersionID: o.VersionID}
		if dr.DeleteMarker {
			d.DeleteMarker = true
			d.DeleteMarkerVersionID = dr.VersionID
		}
		res.Deleted = append(res.Deleted, d)
	}
	return r.writeXML(200, res)
}
