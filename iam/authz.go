package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// PolicyFunc evaluates identity policies for a request: allowed reports an
// explicit Allow with no explicit Deny; denied reports an explicit Deny.
type PolicyFunc func(policies []json.RawMessage, req *Request) (allowed, denied bool, reason string)

// ErrDenied is returned by Authorize for every refusal.
var ErrDenied = errors.New("iam: access denied")

// Authorizer decides S3 requests. Evaluation order (each step MUST hold):
//
//  1. Anonymous requests are denied (bucket policies and ACLs, which can
//     open a bucket to anonymous callers, arrive later).
//  2. Root is allowed everything (Object Lock is enforced in the object
//     layer and binds root too).
//  3. An explicit Deny in the caller's identity policies denies.
//  4. A request on a bucket of another tenant is denied (cross-tenant
//     grants come with bucket policies); so is one on a bucket that does
//     not exist, except CreateBucket and ListAllMyBuckets.
//  5. A tenant administrator is allowed everything in its own tenant.
//  6. Otherwise the identity policies must explicitly allow the action on
//     the resource: a user without policies can do nothing.
type Authorizer struct {
	// Eval evaluates identity policies; nil denies every non-admin user.
	Eval PolicyFunc
}

// Authorize returns nil to allow, or an error wrapping ErrDenied with the
// reason (for logs; clients only ever see AccessDenied).
func (a *Authorizer) Authorize(_ context.Context, req *Request) error {
	p := req.Principal
	if p.Tenant == "" && !p.Root {
		return fmt.Errorf("%w: anonymous", ErrDenied)
	}
	if p.Root {
		return nil
	}
	var allowed, denied bool
	reason := "no identity policy"
	if a.Eval != nil && len(p.Policies) > 0 {
		allowed, denied, reason = a.Eval(p.Policies, req)
	}
	if denied {
		return fmt.Errorf("%w: explicit deny: %s", ErrDenied, reason)
	}
	serviceLevel := req.Action == "s3:CreateBucket" || req.Action == "s3:ListAllMyBuckets"
	if !serviceLevel && req.BucketTenant != p.Tenant {
		return fmt.Errorf("%w: bucket of another tenant or missing", ErrDenied)
	}
	if p.Admin || allowed {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrDenied, reason)
}
