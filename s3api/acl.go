package s3api

import (
	"bytes"
	"errors"
	"regexp"

	"github.com/cofferstore/coffer/iam/acl"
	"github.com/cofferstore/coffer/object"
)

// Names of the bucket configuration documents holding Object Ownership
// (OwnershipControls XML) and the bucket ACL (AccessControlPolicy XML).
const (
	configOwnership = "ownership"
	configACL       = "acl"
)

// ownership returns the bucket's Object Ownership: acl.DefaultOwnership
// (BucketOwnerEnforced) unless configured otherwise.
func ownership(configs map[string][]byte) acl.Ownership {
	if raw, ok := configs[configOwnership]; ok {
		if o, err := acl.ParseOwnershipControls(bytes.NewReader(raw)); err == nil {
			return o
		}
	}
	return acl.DefaultOwnership
}

// aclSettings returns the ACL-governing settings of a bucket.
func aclSettings(bi object.BucketInfo) acl.Settings {
	return acl.Settings{
		BucketOwner:       acl.Owner{ID: bi.Owner},
		Ownership:         ownership(bi.Configs),
		PublicAccessBlock: publicAccessBlock(bi.Configs),
	}
}

// storedACL parses a stored ACL document (nil when absent or unparsable).
func storedACL(raw []byte) *acl.ACL {
	if raw == nil {
		return nil
	}
	a, err := acl.ParseXML(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	return a
}

// aclError maps an *acl.Error to the S3 error it names.
func aclError(err error) error {
	var ae *acl.Error
	if errors.As(err, &ae) {
		return errCode(ae.Code, ae.Message)
	}
	return err
}

// hexID matches the canonical ids coffer issues (64 lower-case hex digits).
var hexID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// resolveLoosely accepts the bucket owner and any 64-hex canonical id as a
// grantee; it does not check that a tenant with that id exists.
func resolveLoosely(owner string) func(string) (string, bool) {
	return func(id string) (string, bool) {
		return "", id == owner || hexID.MatchString(id)
	}
}

// writer is the owner recorded for what the caller writes: its canonical
// id, or the bucket owner for anonymous writers.
func (r *request) writer(bucketOwner string) acl.Owner {
	if r.owner == "" {
		return acl.Owner{ID: bucketOwner}
	}
	return acl.Owner{ID: r.owner}
}

// headerACL parses x-amz-acl / x-amz-grant-* for a new object in bucket bi
// and checks it with Settings.CheckWrite. It returns the ACL document to
// store with the version: nil while ACLs are disabled (an accepted
// bucket-owner-full-control MUST NOT be stored), the requested ACL, or
// the canned private ACL of the object's owner when none was requested.
func (r *request) headerACL(bi object.BucketInfo) ([]byte, error) {
	s := aclSettings(bi)
	canned := r.header("x-amz-acl")
	objOwner := acl.ObjectOwner(s.Ownership, s.BucketOwner, r.writer(bi.Owner), canned)
	a, err := acl.ParseHeaders(r.header, acl.Object, objOwner, s.BucketOwner)
	if err != nil {
		return nil, aclError(err)
	}
	if err := s.CheckWrite(acl.OpPutObject, canned, a); err != nil {
		return nil, aclError(err)
	}
	if !s.Ownership.ACLsEnabled() {
		return nil, nil
	}
	if a == nil {
		a, _ = acl.Canned(acl.CannedPrivate, acl.Object, objOwner, s.BucketOwner)
	}
	return a.XML(), nil
}

// objectACLFor builds the PutOptions.ACL of a write into r.bucket.
func (r *request) objectACLFor() ([]byte, error) {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return nil, err
	}
	return r.headerACL(bi)
}

// readACL reads the ACL a Put*Acl request sets: from the x-amz-acl /
// x-amz-grant-* headers or else from the AccessControlPolicy body, whose
// Owner must be the resource's current owner. It returns the ACL and the
// canned name ("" for grants).
func (r *request) readACL(res acl.Resource, owner, bucketOwner acl.Owner) (*acl.ACL, string, error) {
	canned := r.header("x-amz-acl")
	a, err := acl.ParseHeaders(r.header, res, owner, bucketOwner)
	if err != nil {
		return nil, "", aclError(err)
	}
	if a != nil {
		return a, canned, nil
	}
	body, err := r.readBody(maxXMLBody)
	if err != nil {
		return nil, "", err
	}
	if len(body) == 0 {
		return nil, "", errCode("MissingSecurityHeader", "Your request was missing a required header: x-amz-acl or an AccessControlPolicy body.")
	}
	a, err = acl.ParseXML(bytes.NewReader(body))
	if err != nil {
		return nil, "", aclError(err)
	}
	if err := acl.CheckOwner(a, owner); err != nil {
		return nil, "", aclError(err)
	}
	if a, err = a.Resolve(resolveLoosely(bucketOwner.ID)); err != nil {
		return nil, "", aclError(err)
	}
	return a, "", nil
}

// writeACL sends an AccessControlPolicy document.
func (r *request) writeACL(a *acl.ACL) error {
	r.ctx.SetStatusCode(200)
	r.ctx.Response.Header.SetContentType("application/xml")
	r.ctx.SetBody(a.XML())
	return nil
}

// getBucketACL: GET /bucket?acl.
func getBucketACL(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	s := aclSettings(bi)
	a := s.ForRead(storedACL(bi.Configs[configACL]))
	if a == nil {
		a, _ = acl.Canned(acl.CannedPrivate, acl.Bucket, s.BucketOwner, s.BucketOwner)
	}
	return r.writeACL(a)
}

// putBucketACL: PUT /bucket?acl.
func putBucketACL(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	s := aclSettings(bi)
	a, canned, err := r.readACL(acl.Bucket, s.BucketOwner, s.BucketOwner)
	if err != nil {
		return err
	}
	if err := s.CheckWrite(acl.OpPutACL, canned, a); err != nil {
		return aclError(err)
	}
	if !s.Ownership.ACLsEnabled() {
		return r.writeStatus(200) // accepted, and not stored (CheckWrite)
	}
	if err := r.s.layer.SetBucketConfig(r.c, r.bucket, configACL, a.XML()); err != nil {
		return err
	}
	return r.writeStatus(200)
}

// objectOwnerOf returns the owner of an object version: the Owner of its
// stored ACL, else its recorded owner, else the bucket owner.
func objectOwnerOf(info object.ObjectInfo, stored *acl.ACL, bucketOwner string) acl.Owner {
	switch {
	case stored != nil:
		return stored.Owner
	case info.Owner != "":
		return acl.Owner{ID: info.Owner}
	}
	return acl.Owner{ID: bucketOwner}
}

// getObjectACL: GET /bucket/key?acl[&versionId=].
func getObjectACL(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	info, err := r.s.layer.HeadObject(r.c, r.bucket, r.key, object.GetOptions{VersionID: r.query.get("versionId"), MetadataOnly: true})
	if err != nil {
		return err
	}
	s := aclSettings(bi)
	stored := storedACL(info.ACL)
	a := s.ForRead(stored)
	if a == nil {
		a, _ = acl.Canned(acl.CannedPrivate, acl.Object, objectOwnerOf(info, stored, bi.Owner), s.BucketOwner)
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	return r.writeACL(a)
}

// putObjectACL: PUT /bucket/key?acl[&versionId=].
func putObjectACL(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	vid := r.query.get("versionId")
	info, err := r.s.layer.HeadObject(r.c, r.bucket, r.key, object.GetOptions{VersionID: vid, MetadataOnly: true})
	if err != nil {
		return err
	}
	s := aclSettings(bi)
	owner := objectOwnerOf(info, storedACL(info.ACL), bi.Owner)
	a, canned, err := r.readACL(acl.Object, owner, s.BucketOwner)
	if err != nil {
		return err
	}
	if err := s.CheckWrite(acl.OpPutACL, canned, a); err != nil {
		return aclError(err)
	}
	if s.Ownership.ACLsEnabled() {
		if info, err = r.s.layer.PutObjectACL(r.c, r.bucket, r.key, vid, a.XML()); err != nil {
			return err
		}
	}
	if info.VersionID != "" {
		r.setHeader("x-amz-version-id", info.VersionID)
	}
	return r.writeStatus(200)
}

// getOwnershipControls: GET /bucket?ownershipControls. A bucket without a
// configuration reports the default, BucketOwnerEnforced (see doc.go).
func getOwnershipControls(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	r.ctx.SetStatusCode(200)
	r.ctx.Response.Header.SetContentType("application/xml")
	r.ctx.SetBody(acl.OwnershipControlsXML(ownership(bi.Configs)))
	return nil
}

// putOwnershipControls: PUT /bucket?ownershipControls.
func putOwnershipControls(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	body, err := r.readBody(maxXMLBody)
	if err != nil {
		return err
	}
	o, err := acl.ParseOwnershipControls(bytes.NewReader(body))
	if err != nil {
		return aclError(err)
	}
	return r.setOwnership(bi, o, 200)
}

// deleteOwnershipControls: DELETE /bucket?ownershipControls restores the
// default, BucketOwnerEnforced (see doc.go).
func deleteOwnershipControls(r *request) error {
	bi, err := r.s.layer.GetBucketInfo(r.c, r.bucket)
	if err != nil {
		return err
	}
	return r.setOwnership(bi, acl.DefaultOwnership, 204)
}

// setOwnership switches bucket bi to o after Settings.CheckOwnership. The
// default is stored as the absence of a configuration.
func (r *request) setOwnership(bi object.BucketInfo, o acl.Ownership, status int) error {
	if err := aclSettings(bi).CheckOwnership(o, storedACL(bi.Configs[configACL])); err != nil {
		return aclError(err)
	}
	var doc []byte
	if o != acl.DefaultOwnership {
		doc = acl.OwnershipControlsXML(o)
	}
	if err := r.s.layer.SetBucketConfig(r.c, r.bucket, configOwnership, doc); err != nil {
		return err
	}
	return r.writeStatus(status)
}
