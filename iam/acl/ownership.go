package acl

import (
	"encoding/xml"
	"io"
)

// Ownership is a bucket's S3 Object Ownership setting.
type Ownership string

const (
	// BucketOwnerEnforced disables ACLs: the bucket owner owns every object,
	// ACLs MUST NOT affect any access decision, reads of an ACL return
	// bucket owner FULL_CONTROL, and writes may set only bucket owner full
	// control (otherwise ErrACLNotSupported).
	BucketOwnerEnforced Ownership = "BucketOwnerEnforced"
	// BucketOwnerPreferred: the bucket owner owns objects written with the
	// bucket-owner-full-control canned ACL; other objects are owned by their
	// writer. ACLs are enabled.
	BucketOwnerPreferred Ownership = "BucketOwnerPreferred"
	// ObjectWriter: the writer owns each object. ACLs are enabled.
	ObjectWriter Ownership = "ObjectWriter"

	// DefaultOwnership is the setting of a new bucket, as in AWS since
	// April 2023: ACLs disabled.
	DefaultOwnership = BucketOwnerEnforced
)

// Valid reports whether o is one of the three settings.
func (o Ownership) Valid() bool {
	return o == BucketOwnerEnforced || o == BucketOwnerPreferred || o == ObjectWriter
}

// ACLsEnabled reports whether ACLs take part in decisions. Only
// BucketOwnerEnforced disables them; an empty Ownership is treated as
// DefaultOwnership.
func (o Ownership) ACLsEnabled() bool {
	return o != BucketOwnerEnforced && o != ""
}

type xmlOwnershipControls struct {
	XMLName xml.Name `xml:"OwnershipControls"`
	Rules   []struct {
		ObjectOwnership string `xml:"ObjectOwnership"`
	} `xml:"Rule"`
}

// ParseOwnershipControls parses the body of PutBucketOwnershipControls
// (at most MaxXMLSize bytes): an OwnershipControls element with exactly one
// Rule holding a valid ObjectOwnership. Anything else yields ErrMalformedXML.
func ParseOwnershipControls(r io.Reader) (Ownership, error) {
	b, err := readBounded(r, ErrMalformedXML)
	if err != nil {
		return "", err
	}
	var c xmlOwnershipControls
	if err := decodeStrict(b, &c); err != nil || len(c.Rules) != 1 {
		return "", ErrMalformedXML
	}
	o := Ownership(c.Rules[0].ObjectOwnership)
	if !o.Valid() {
		return "", ErrMalformedXML
	}
	return o, nil
}

// OwnershipControlsXML renders o as the body of GetBucketOwnershipControls.
func OwnershipControlsXML(o Ownership) []byte {
	return []byte(xml.Header + `<OwnershipControls xmlns="` + S3Namespace +
		`"><Rule><ObjectOwnership>` + string(o) + `</ObjectOwnership></Rule></OwnershipControls>`)
}

// ObjectOwner returns the owner of an object that writer stores in a bucket
// owned by bucketOwner, given the canned ACL of the request ("" if none):
// the bucket owner under BucketOwnerEnforced (or an empty Ownership), and
// under BucketOwnerPreferred when canned is bucket-owner-full-control; the
// writer otherwise.
func ObjectOwner(o Ownership, bucketOwner, writer Owner, canned string) Owner {
	switch {
	case !o.ACLsEnabled():
		return bucketOwner
	case o == BucketOwnerPreferred && canned == CannedBucketOwnerFullControl:
		return bucketOwner
	}
	return writer
}

// Settings are the bucket-level settings that govern its ACLs and those of
// its objects.
type Settings struct {
	BucketOwner       Owner
	Ownership         Ownership // "" means DefaultOwnership
	PublicAccessBlock PublicAccessBlock
}

// DefaultSettings returns the settings of a new bucket owned by owner:
// DefaultOwnership and DefaultPublicAccessBlock.
func DefaultSettings(owner Owner) Settings {
	return Settings{BucketOwner: owner, Ownership: DefaultOwnership, PublicAccessBlock: DefaultPublicAccessBlock()}
}

// ownerOnly returns the ACL that grants the bucket owner FULL_CONTROL and
// nothing else.
func (s Settings) ownerOnly() *ACL {
	return &ACL{Owner: s.BucketOwner, Grants: []Grant{userGrant(s.BucketOwner, FullControl)}}
}

// grantsOnlyBucketOwner reports whether every grant of a is to the bucket
// owner and at least one of them is FULL_CONTROL: "bucket owner full
// control" expressed as grants.
func (s Settings) grantsOnlyBucketOwner(a *ACL) bool {
	full := false
	for _, g := range a.Grants {
		if g.Grantee.Type != TypeCanonicalUser || g.Grantee.ID != s.BucketOwner.ID {
			return false
		}
		full = full || g.Permission == FullControl
	}
	return full
}

// ForRead returns the ACL that GetBucketAcl or GetObjectAcl reports for a
// stored ACL: bucket owner FULL_CONTROL when ACLs are disabled, stored
// otherwise. IgnorePublicAcls does not hide grants from reads.
func (s Settings) ForRead(stored *ACL) *ACL {
	if !s.Ownership.ACLsEnabled() {
		return s.ownerOnly()
	}
	return stored
}

// Effective returns the ACL that decisions use for a stored ACL: bucket
// owner FULL_CONTROL when ACLs are disabled; the stored ACL without its
// public grants under IgnorePublicAcls; the stored ACL otherwise. A nil
// stored ACL with ACLs enabled yields nil (grants nothing).
func (s Settings) Effective(stored *ACL) *ACL {
	switch {
	case !s.Ownership.ACLsEnabled():
		return s.ownerOnly()
	case stored == nil:
		return nil
	case s.PublicAccessBlock.IgnorePublicAcls:
		return withoutPublic(stored)
	}
	return stored
}

// Allows reports whether the stored ACL, as Effective makes it, grants perm
// to p. This is the ACL's contribution to an authorization decision.
func (s Settings) Allows(stored *ACL, p Requester, perm string) bool {
	return s.Effective(stored).Allows(p, perm)
}

// Op is the kind of request that sets an ACL.
type Op int

const (
	// OpCreateBucket: CreateBucket with x-amz-acl or x-amz-grant-*.
	OpCreateBucket Op = iota
	// OpPutObject: PutObject, CopyObject or CreateMultipartUpload with
	// x-amz-acl or x-amz-grant-*.
	OpPutObject
	// OpPutACL: PutBucketAcl or PutObjectAcl (headers or XML body).
	OpPutACL
)

// CheckWrite decides whether a request of kind op may set the ACL a, which
// it expressed as the canned ACL canned ("" for grant headers or XML). A
// nil a (the request sets no ACL) is always accepted. In order:
//
//  1. ACLs disabled (BucketOwnerEnforced): CreateBucket is accepted only
//     if a grants nothing beyond bucket owner full control, otherwise
//     ErrInvalidBucketACLWithOwnership. Other writes are accepted only with
//     the canned ACL bucket-owner-full-control or, without a canned ACL,
//     grants that give the bucket owner FULL_CONTROL and nobody anything;
//     otherwise ErrACLNotSupported (as AWS, even canned "private" is
//     refused). An accepted ACL MUST NOT be stored: ForRead and Effective
//     ignore it.
//  2. BlockPublicAcls: a public ACL (IsPublic) yields ErrAccessDenied.
func (s Settings) CheckWrite(op Op, canned string, a *ACL) error {
	if a == nil {
		return nil
	}
	if !s.Ownership.ACLsEnabled() {
		switch {
		case op == OpCreateBucket:
			if !s.grantsOnlyBucketOwner(a) {
				return ErrInvalidBucketACLWithOwnership
			}
		case canned == CannedBucketOwnerFullControl:
		case canned == "" && s.grantsOnlyBucketOwner(a):
		default:
			return ErrACLNotSupported
		}
		return nil
	}
	if s.PublicAccessBlock.BlockPublicAcls && IsPublic(a) {
		return ErrAccessDenied
	}
	return nil
}

// CheckOwnership decides whether PutBucketOwnershipControls may switch the
// bucket to o while its bucket ACL is bucketACL: switching to
// BucketOwnerEnforced requires a bucket ACL granting nothing beyond bucket
// owner full control (ErrInvalidBucketACLWithOwnership otherwise). An
// invalid o yields ErrMalformedXML.
func (s Settings) CheckOwnership(o Ownership, bucketACL *ACL) error {
	if !o.Valid() {
		return ErrMalformedXML
	}
	if o == BucketOwnerEnforced && bucketACL != nil && !s.grantsOnlyBucketOwner(bucketACL) {
		return ErrInvalidBucketACLWithOwnership
	}
	return nil
}
