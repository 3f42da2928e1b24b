package acl

import (
	"encoding/xml"
	"io"
	"strconv"
)

// PublicAccessBlock is a bucket's Block Public Access configuration.
//
//   - BlockPublicAcls: a request that sets a public ACL (CreateBucket,
//     PutObject, CopyObject, CreateMultipartUpload, Put*Acl) MUST fail with
//     AccessDenied (Settings.CheckWrite).
//   - IgnorePublicAcls: grants to AllUsers and AuthenticatedUsers MUST NOT
//     grant anything (Settings.Effective); they stay stored and readable.
//   - BlockPublicPolicy: PutBucketPolicy with a public policy MUST fail with
//     AccessDenied (CheckPolicyWrite).
//   - RestrictPublicBuckets: while the bucket policy is public, it MUST
//     grant only to principals of the bucket owner's tenant
//     (PolicyGrantApplies).
//
// Whether a policy is public is decided by PolicyIsPublic from facts the
// policy package extracts.
type PublicAccessBlock struct {
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}

// DefaultPublicAccessBlock returns the configuration of a new bucket, as in
// AWS since April 2023: everything blocked. DeletePublicAccessBlock leaves
// the zero value (nothing blocked).
func DefaultPublicAccessBlock() PublicAccessBlock {
	return PublicAccessBlock{true, true, true, true}
}

type xmlPAB struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	BlockPublicAcls       string   `xml:"BlockPublicAcls"`
	IgnorePublicAcls      string   `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     string   `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets string   `xml:"RestrictPublicBuckets"`
}

// parseXMLBool accepts "true" and "false" (and absent = false), the
// xs:boolean spellings S3 clients send.
func parseXMLBool(s string) (bool, bool) {
	switch s {
	case "", "false", "0":
		return false, true
	case "true", "1":
		return true, true
	}
	return false, false
}

// ParsePublicAccessBlock parses the body of PutPublicAccessBlock (at most
// MaxXMLSize bytes). Absent elements are false. A malformed document or a
// value other than true/false/1/0 yields ErrMalformedXML.
func ParsePublicAccessBlock(r io.Reader) (PublicAccessBlock, error) {
	b, err := readBounded(r, ErrMalformedXML)
	if err != nil {
		return PublicAccessBlock{}, err
	}
	var x xmlPAB
	if err := decodeStrict(b, &x); err != nil {
		return PublicAccessBlock{}, ErrMalformedXML
	}
	var p PublicAccessBlock
	for _, f := range []struct {
		s   string
		dst *bool
	}{
		{x.BlockPublicAcls, &p.BlockPublicAcls},
		{x.IgnorePublicAcls, &p.IgnorePublicAcls},
		{x.BlockPublicPolicy, &p.BlockPublicPolicy},
		{x.RestrictPublicBuckets, &p.RestrictPublicBuckets},
	} {
		v, ok := parseXMLBool(f.s)
		if !ok {
			return PublicAccessBlock{}, ErrMalformedXML
		}
		*f.dst = v
	}
	return p, nil
}

// XML renders p as the body of GetPublicAccessBlock.
func (p PublicAccessBlock) XML() []byte {
	f := strconv.FormatBool
	return []byte(xml.Header + `<PublicAccessBlockConfiguration xmlns="` + S3Namespace + `">` +
		`<BlockPublicAcls>` + f(p.BlockPublicAcls) + `</BlockPublicAcls>` +
		`<IgnorePublicAcls>` + f(p.IgnorePublicAcls) + `</IgnorePublicAcls>` +
		`<BlockPublicPolicy>` + f(p.BlockPublicPolicy) + `</BlockPublicPolicy>` +
		`<RestrictPublicBuckets>` + f(p.RestrictPublicBuckets) + `</RestrictPublicBuckets>` +
		`</PublicAccessBlockConfiguration>`)
}

// PolicyIsPublic reports whether one Allow statement of a bucket policy is
// public: it names a wildcard principal ("*", as the policy package
// normalizes both "Principal": "*" and {"AWS": "*"}) and has no condition
// that pins access to fixed values (hasRestrictingCondition, decided by the
// policy package: for example aws:SourceIp with a fixed CIDR or
// aws:PrincipalAccount with fixed tenants). A policy is public when any of
// its Allow statements is.
func PolicyIsPublic(principals []string, hasRestrictingCondition bool) bool {
	if hasRestrictingCondition {
		return false
	}
	for _, p := range principals {
		if p == "*" {
			return true
		}
	}
	return false
}

// CheckPolicyWrite decides whether PutBucketPolicy may store a policy whose
// publicness is public: BlockPublicPolicy refuses a public policy with
// ErrAccessDenied.
func (p PublicAccessBlock) CheckPolicyWrite(public bool) error {
	if p.BlockPublicPolicy && public {
		return ErrAccessDenied
	}
	return nil
}

// PolicyGrantApplies reports whether an Allow from the bucket policy may
// count for a requester: under RestrictPublicBuckets, a public policy
// allows only requesters of the bucket owner's tenant (sameTenant).
func (p PublicAccessBlock) PolicyGrantApplies(policyPublic, sameTenant bool) bool {
	return !(p.RestrictPublicBuckets && policyPublic) || sameTenant
}
