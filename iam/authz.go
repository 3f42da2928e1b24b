package iam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cofferstore/coffer/iam/acl"
	"github.com/cofferstore/coffer/iam/policy"
)

// Request is one authorization question: may this principal perform this
// S3 action on this resource, in this context?
type Request struct {
	Principal Principal
	// Action is the IAM action, e.g. "s3:GetObject".
	Action string
	// Bucket and Key name the resource ("" for service-level actions).
	Bucket, Key string
	// BucketTenant is the tenant owning the bucket ("" when the bucket does
	// not exist, or for service-level actions).
	BucketTenant string
	// Context holds condition keys (aws:SecureTransport, aws:SourceIp,
	// s3:prefix, s3:max-keys, ...).
	Context map[string][]string
	// BucketPolicy is the bucket's policy document (nil: none).
	BucketPolicy []byte
	// RestrictPublicBuckets (Block Public Access): a public bucket policy
	// grants nothing to principals outside the bucket's tenant.
	RestrictPublicBuckets bool

	// BucketOwner is the canonical id of the bucket's owner ("" when the
	// bucket does not exist).
	BucketOwner string
	// Ownership is the bucket's Object Ownership setting; "" means
	// acl.DefaultOwnership (BucketOwnerEnforced: ACLs grant nothing).
	Ownership acl.Ownership
	// IgnorePublicAcls (Block Public Access): grants to AllUsers and
	// AuthenticatedUsers grant nothing.
	IgnorePublicAcls bool
	// BucketACL is the bucket's stored AccessControlPolicy XML (nil: none).
	BucketACL []byte
	// ObjectACL is the stored AccessControlPolicy XML of the object version
	// the request addresses (nil: none, or not loaded). Callers load it only
	// for actions an object ACL can grant (acl.Permission(action, true) is
	// not empty) and only while ACLs are enabled.
	ObjectACL []byte
}

// Resource returns the request's ARN (arn:aws:s3:::bucket[/key]).
func (r *Request) Resource() string {
	switch {
	case r.Bucket == "":
		return "arn:aws:s3:::*"
	case r.Key == "":
		return "arn:aws:s3:::" + r.Bucket
	}
	return "arn:aws:s3:::" + r.Bucket + "/" + r.Key
}

// ErrDenied is returned by Authorize for every refusal.
var ErrDenied = errors.New("iam: access denied")

// Authorizer decides S3 requests with policy.Evaluate (whose documented
// order is the authority: explicit deny wins, root, anonymous only through
// a bucket policy, same-tenant and cross-tenant rules — the bucket owner's
// side and the caller's side must both allow — deny by default). On top of
// it one rule keeps the API free of existence oracles and MUST hold: a
// bucket-level or object-level request on a bucket that does not exist is
// denied to everyone but root, exactly like a request on another tenant's
// bucket that grants nothing.
//
// S3 ACLs enter as policy.Evaluate's ACL verdict (see aclDecision): the
// bucket ACL for the actions acl.Permission maps on buckets, the object ACL
// for those it maps on objects, both through acl.Settings (Object
// Ownership, IgnorePublicAcls). ACLs carry no Deny, so an explicit Deny in
// any policy still wins over an ACL grant.
type Authorizer struct{}

// Authorize returns nil to allow, or an error wrapping ErrDenied with the
// reason (for logs; clients only ever see AccessDenied).
func (a *Authorizer) Authorize(_ context.Context, req *Request) error {
	p := req.Principal
	if p.Root {
		return nil
	}
	anonymous := p.Tenant == ""
	serviceLevel := req.Action == "s3:CreateBucket" || req.Action == "s3:ListAllMyBuckets"
	if !serviceLevel && req.BucketTenant == "" {
		return fmt.Errorf("%w: no such bucket", ErrDenied)
	}
	if anonymous && serviceLevel {
		return fmt.Errorf("%w: anonymous", ErrDenied)
	}
	pr := policy.Request{
		Principal: policy.Principal{Tenant: p.Tenant, User: p.User, CanonicalID: p.CanonicalID, ARN: p.ARN(), Admin: p.Admin},
		Action:    req.Action, BucketOwnerTenant: req.BucketTenant, Context: req.Context,
	}
	if anonymous {
		pr.Principal = policy.Principal{Anonymous: true}
	}
	var bucketPolicy *policy.Policy
	if req.BucketPolicy != nil {
		bp, err := policy.ParseBucket(req.BucketPolicy, req.Bucket)
		if err != nil {
			return fmt.Errorf("%w: stored bucket policy does not parse: %v", ErrDenied, err)
		}
		if !(req.RestrictPublicBuckets && bp.IsPublic() && p.Tenant != req.BucketTenant) {
			bucketPolicy = bp
		}
	}
	if req.Bucket != "" {
		pr.Resource = req.Resource()
	}
	now := time.Now().UTC()
	if pr.Context == nil {
		pr.Context = map[string][]string{}
	}
	pr.Context["aws:CurrentTime"] = []string{now.Format(time.RFC3339)}
	pr.Context["aws:EpochTime"] = []string{strconv.FormatInt(now.Unix(), 10)}
	d := policy.Evaluate(pr, p.Policies, bucketPolicy, aclDecision(req, anonymous))
	if !d.Allowed {
		return fmt.Errorf("%w: %s", ErrDenied, d.Reason)
	}
	return nil
}

// aclDecision is the verdict of the bucket and object ACLs on req.
//
// Grants to a canonical user id (a tenant) count only for principals of
// another tenant: inside the bucket owner's tenant the owner's implicit
// FULL_CONTROL would otherwise let every user of the tenant past deny by
// default, whereas AWS requires an identity policy for an account's own
// IAM users. Such principals, like every signed request, still match the
// AllUsers and AuthenticatedUsers groups. Cross-tenant principals are
// matched by their tenant's canonical id; policy.Evaluate then still
// requires their own side (identity policy or tenant administrator) to
// allow. A stored ACL that does not parse grants nothing.
func aclDecision(req *Request, anonymous bool) policy.ACLDecision {
	if req.BucketTenant == "" {
		return policy.ACLNone
	}
	s := acl.Settings{
		BucketOwner:       acl.Owner{ID: req.BucketOwner},
		Ownership:         req.Ownership,
		PublicAccessBlock: acl.PublicAccessBlock{IgnorePublicAcls: req.IgnorePublicAcls},
	}
	if s.Ownership == "" {
		s.Ownership = acl.DefaultOwnership
	}
	who := acl.Requester{Anonymous: anonymous}
	if !anonymous && req.Principal.Tenant != req.BucketTenant {
		who.CanonicalID = req.Principal.CanonicalID
	}
	if perm := acl.Permission(req.Action, false); perm != "" && s.Allows(parseStoredACL(req.BucketACL), who, perm) {
		return policy.ACLAllow
	}
	if perm := acl.Permission(req.Action, true); perm != "" && s.Allows(parseStoredACL(req.ObjectACL), who, perm) {
		return policy.ACLAllow
	}
	return policy.ACLNone
}

// parseStoredACL parses a stored ACL document; nil or a document that does
// not parse yields nil (grants nothing).
func parseStoredACL(raw []byte) *acl.ACL {
	if raw == nil {
		return nil
	}
	a, err := acl.ParseXML(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	return a
}
