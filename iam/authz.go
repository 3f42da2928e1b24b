package iam

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

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
// bucket that grants nothing. S3 ACLs are not evaluated yet (ACLNone).
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
	d := policy.Evaluate(pr, p.Policies, bucketPolicy, policy.ACLNone)
	if !d.Allowed {
		return fmt.Errorf("%w: %s", ErrDenied, d.Reason)
	}
	return nil
}
