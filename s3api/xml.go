package s3api

import (
	"bytes"
	"crypto/subtle"
	"encoding/xml"
	"io"
	"strings"
	"time"

	"github.com/minio/sha256-simd"

	"github.com/cofferstore/coffer/object"
)

// s3NS is the XML namespace of S3 documents.
const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// Caps on XML request bodies.
const (
	maxXMLBody      = 64 << 10 // tagging, versioning, bucket configuration
	maxXMLBodyLarge = 1 << 20  // DeleteObjects, CompleteMultipartUpload
)

// iso8601 formats a time as S3 does in XML documents.
func iso8601(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// httpDate formats a time as in HTTP headers (RFC 1123, GMT).
func httpDate(t time.Time) string { return t.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT") }

// encodeXML marshals v with the XML declaration.
func encodeXML(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// readBody reads a small request body of at most limit bytes (EntityTooLarge
// beyond), verifying a signed payload digest.
func (r *request) readBody(limit int64) ([]byte, error) {
	if n := r.ctx.Request.Header.ContentLength(); n > int(limit) && r.chunked == nil {
		return nil, errCode("EntityTooLarge", "Your request body is too large.")
	}
	b, err := io.ReadAll(io.LimitReader(r.body(), limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errCode("EntityTooLarge", "Your request body is too large.")
	}
	if want := r.expectSHA256(); want != nil {
		got := sha256.Sum256(b)
		if subtle.ConstantTimeCompare(got[:], want) != 1 {
			return nil, errCode("XAmzContentSHA256Mismatch", "")
		}
	}
	return b, nil
}

// decodeXML parses an XML document into v; any syntax or shape error is
// MalformedXML.
func decodeXML(b []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	if err := d.Decode(v); err != nil {
		return errCode("MalformedXML", "")
	}
	return nil
}

// errorResponse is the body of an error response.
type errorResponse struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
}

// owner is an Owner / Initiator element.
type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

// tagXML is one tag of a TagSet.
type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// tagging is the Tagging document (request and response).
type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	TagSet  struct {
		Tags []tagXML `xml:"Tag"`
	} `xml:"TagSet"`
}

// parseTagging parses a Tagging body into a tag map, validating it against
// the limit on the number of tags.
func parseTagging(b []byte, maxTags int) (map[string]string, error) {
	var t tagging
	if err := decodeXML(b, &t); err != nil {
		return nil, err
	}
	if t.XMLName.Local != "Tagging" {
		return nil, errCode("MalformedXML", "")
	}
	tags := make(map[string]string, len(t.TagSet.Tags))
	for _, tg := range t.TagSet.Tags {
		if _, dup := tags[tg.Key]; dup {
			return nil, errCode("InvalidTag", "Cannot provide multiple Tags with the same key")
		}
		tags[tg.Key] = tg.Value
	}
	if err := validateTags(tags, maxTags); err != nil {
		return nil, err
	}
	return tags, nil
}

// versioningConfiguration is the VersioningConfiguration document.
type versioningConfiguration struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	NS        string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:"Status,omitempty"`
	MfaDelete string   `xml:"MfaDelete,omitempty"`
}

// parseVersioning parses a VersioningConfiguration body and returns the
// requested state.
func parseVersioning(b []byte) (string, error) {
	var v versioningConfiguration
	if err := decodeXML(b, &v); err != nil {
		return "", err
	}
	if v.MfaDelete == "Enabled" {
		return "", errCode("NotImplemented", "MFA Delete is not implemented.")
	}
	if v.MfaDelete != "" && v.MfaDelete != "Disabled" {
		return "", errCode("MalformedXML", "")
	}
	switch v.Status {
	case "Enabled", "Suspended":
		return v.Status, nil
	}
	return "", errCode("IllegalVersioningConfigurationException", "")
}

// createBucketConfiguration is the optional CreateBucket body.
type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
	Location           *struct {
		Name string `xml:"Name"`
		Type string `xml:"Type"`
	} `xml:"Location"`
	Bucket *struct {
		DataRedundancy string `xml:"DataRedundancy"`
		Type           string `xml:"Type"`
	} `xml:"Bucket"`
}

// parseCreateBucket parses a CreateBucketConfiguration body (empty allowed)
// and returns its location constraint.
func parseCreateBucket(b []byte) (string, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return "", nil
	}
	var c createBucketConfiguration
	if err := decodeXML(b, &c); err != nil {
		return "", err
	}
	if c.Location != nil || c.Bucket != nil {
		return "", errCode("NotImplemented", "Directory buckets are not implemented.")
	}
	return c.LocationConstraint, nil
}

// deleteRequest is the DeleteObjects body.
type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
		ETag      string `xml:"ETag"`
	} `xml:"Object"`
}

// maxDeleteKeys is the most keys one DeleteObjects request may name.
const maxDeleteKeys = 1000

// parseDelete parses a DeleteObjects body.
func parseDelete(b []byte) (*deleteRequest, error) {
	var d deleteRequest
	if err := decodeXML(b, &d); err != nil {
		return nil, err
	}
	if len(d.Objects) == 0 || len(d.Objects) > maxDeleteKeys {
		return nil, errCode("MalformedXML", "")
	}
	return &d, nil
}

// completeRequest is the CompleteMultipartUpload body.
type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber        int    `xml:"PartNumber"`
		ETag              string `xml:"ETag"`
		ChecksumCRC32     string `xml:"ChecksumCRC32"`
		ChecksumCRC32C    string `xml:"ChecksumCRC32C"`
		ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME"`
		ChecksumSHA1      string `xml:"ChecksumSHA1"`
		ChecksumSHA256    string `xml:"ChecksumSHA256"`
	} `xml:"Part"`
}

// maxParts is the most parts of a multipart upload.
const maxParts = 10000

// parseComplete parses a CompleteMultipartUpload body into the layer's parts.
func parseComplete(b []byte) ([]object.CompletePart, error) {
	var c completeRequest
	if err := decodeXML(b, &c); err != nil {
		return nil, err
	}
	if len(c.Parts) == 0 || len(c.Parts) > maxParts {
		return nil, errCode("MalformedXML", "")
	}
	out := make([]object.CompletePart, 0, len(c.Parts))
	for _, p := range c.Parts {
		if p.PartNumber < 1 || p.PartNumber > maxParts {
			return nil, errCode("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
		}
		cp := object.CompletePart{Number: p.PartNumber, ETag: trimETag(p.ETag)}
		for alg, v := range map[string]string{
			"CRC32": p.ChecksumCRC32, "CRC32C": p.ChecksumCRC32C, "CRC64NVME": p.ChecksumCRC64NVME,
			"SHA1": p.ChecksumSHA1, "SHA256": p.ChecksumSHA256,
		} {
			if v != "" {
				if cp.Checksums == nil {
					cp.Checksums = map[string]string{}
				}
				cp.Checksums[alg] = v
			}
		}
		out = append(out, cp)
	}
	return out, nil
}

// trimETag removes surrounding quotes (and a weak prefix) from an ETag.
func trimETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	return s
}

// quoteETag adds the quotes S3 puts around ETags.
func quoteETag(s string) string { return `"` + s + `"` }

// xmlName is an element name in the S3 namespace (rendered with xmlns).
func xmlName(local string) xml.Name { return xml.Name{Space: s3NS, Local: local} }

// checksumXML holds the Checksum* elements of S3 documents.
type checksumXML struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

// checksumsXML renders a checksum map (algorithm -> base64).
func checksumsXML(m map[string]string) checksumXML {
	return checksumXML{
		ChecksumCRC32:     m[object.ChecksumCRC32],
		ChecksumCRC32C:    m[object.ChecksumCRC32C],
		ChecksumCRC64NVME: m[object.ChecksumCRC64NVME],
		ChecksumSHA1:      m[object.ChecksumSHA1],
		ChecksumSHA256:    m[object.ChecksumSHA256],
	}
}
