package s3api

import (
	"encoding/xml"

	"github.com/cofferstore/coffer/object"
)

// sseConfiguration is the ServerSideEncryptionConfiguration document of
// Put/GetBucketEncryption.
type sseConfiguration struct {
	XMLName xml.Name  `xml:"ServerSideEncryptionConfiguration"`
	NS      string    `xml:"xmlns,attr,omitempty"`
	Rules   []sseRule `xml:"Rule"`
}

// sseRule is one Rule of a ServerSideEncryptionConfiguration.
type sseRule struct {
	Default          *sseByDefault `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled *bool         `xml:"BucketKeyEnabled"`
}

// sseByDefault is an ApplyServerSideEncryptionByDefault element.
type sseByDefault struct {
	SSEAlgorithm   string `xml:"SSEAlgorithm"`
	KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
}

// parseBucketEncryption parses a ServerSideEncryptionConfiguration body.
// It accepts exactly one rule with SSEAlgorithm AES256 (no key id) or
// aws:kms (optional key id); the result is never nil.
func parseBucketEncryption(b []byte) (*object.BucketEncryption, error) {
	var c sseConfiguration
	if err := decodeXML(b, &c); err != nil {
		return nil, err
	}
	if len(c.Rules) != 1 || c.Rules[0].Default == nil {
		return nil, errCode("MalformedXML", "")
	}
	rule := c.Rules[0]
	enc := &object.BucketEncryption{BucketKeyEnabled: rule.BucketKeyEnabled != nil && *rule.BucketKeyEnabled}
	keyID := rule.Default.KMSMasterKeyID
	switch rule.Default.SSEAlgorithm {
	case sseAES256:
		if keyID != "" {
			return nil, errCode("InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
		}
		enc.Mode = object.SSES3
	case sseKMS:
		if len(keyID) > maxKMSKeyIDLen {
			return nil, errCode("InvalidArgument", "The KMSMasterKeyID is longer than 2048 characters.")
		}
		enc.Mode, enc.KMSKeyID = object.SSEKMS, keyID
	case sseKMSDSSE:
		return nil, errCode("InvalidArgument", msgSSEDSSE)
	default:
		return nil, errCode("MalformedXML", "")
	}
	return enc, nil
}

// bucketEncryptionDoc renders a bucket's default encryption; nil is the
// SSE-S3 default every bucket has.
func bucketEncryptionDoc(be *object.BucketEncryption) sseConfiguration {
	def := &sseByDefault{SSEAlgorithm: sseAES256}
	bucketKey := false
	if be != nil {
		bucketKey = be.BucketKeyEnabled
		if be.Mode == object.SSEKMS {
			def = &sseByDefault{SSEAlgorithm: sseKMS, KMSMasterKeyID: be.KMSKeyID}
		}
	}
	return sseConfiguration{NS: s3NS, Rules: []sseRule{{Default: def, BucketKeyEnabled: &bucketKey}}}
}

// getBucketEncryption: GET /bucket?encryption. A bucket without a
// configuration reports the SSE-S3 default, as S3 does.
func getBucketEncryption(r *request) error {
	info, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	return r.writeXML(200, bucketEncryptionDoc(info.Encryption))
}

// putBucketEncryption: PUT /bucket?encryption.
func putBucketEncryption(r *request) error {
	b, err := r.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	enc, err := parseBucketEncryption(b)
	if err != nil {
		return err
	}
	if err := r.s.layer.SetBucketEncryption(r.c, r.bucket, enc); err != nil {
		return err
	}
	return r.writeStatus(200)
}

// deleteBucketEncryption: DELETE /bucket?encryption restores the SSE-S3
// default (204).
func deleteBucketEncryption(r *request) error {
	if err := r.s.layer.SetBucketEncryption(r.c, r.bucket, nil); err != nil {
		return err
	}
	return r.writeStatus(204)
}
