// Package policy parses AWS IAM JSON policy documents (identity policies
// and bucket policies) and makes coffer's one authorization decision,
// Evaluate. It is pure: no I/O, no clock, no package-level mutable state.
// Callers load the policies, the ACL verdict and the request context.
//
// # Evaluation order
//
// Evaluate decides a request in this order; this is the contract auditors
// read, and the tests in this package hold it to each sentence.
//
//  1. Explicit deny. A Deny statement that applies to the request in any
//     identity policy of the principal or in the bucket policy MUST deny
//     the request, whatever any Allow statement, ACL grant, tenant
//     administrator status or root status says. The only exception is
//     recovery: the bucket-policy management actions (s3:GetBucketPolicy,
//     s3:PutBucketPolicy, s3:DeleteBucketPolicy) by root, or by an
//     administrator of the bucket's owning tenant, MUST NOT be denied by the
//     bucket policy, so that a bad bucket policy can always be repaired (AWS
//     grants the same to the account root user). Identity-policy denies
//     still bind such an administrator.
//  2. Root. The operator's break-glass account MUST be allowed every
//     request not denied by step 1. Root has no identity policies; any
//     passed for it are ignored. Object Lock retention and legal hold are
//     NOT decided here: they are enforced by package lock on every path
//     that removes or overwrites a version, and root MUST NOT be able to
//     bypass them through any policy.
//  3. Anonymous. An anonymous request MUST be allowed only when the bucket
//     policy allows it (a statement whose Principal is "*" or {"AWS": "*"})
//     or when the ACL grants it (acl == ACLAllow); identity policies never
//     apply to it.
//  4. No bucket. A request that concerns no bucket (BucketOwnerTenant is
//     empty, e.g. ListBuckets, CreateBucket) MUST be allowed only for a
//     tenant administrator or when an identity policy allows it.
//  5. Same tenant (the principal's tenant owns the bucket). A tenant
//     administrator MUST be allowed. Any other principal MUST be allowed
//     when its identity policies OR the bucket policy OR the ACL allow.
//  6. Cross tenant (the principal's tenant does not own the bucket). The
//     request MUST be allowed only when the owner's side allows it (the
//     bucket policy or the ACL) AND the principal's side allows it (its
//     identity policies, or its being an administrator of its own tenant),
//     as AWS requires for cross-account access.
//  7. Otherwise the request MUST be denied (implicit deny). A principal
//     with no policies can do nothing: deny by default.
//
// # Matching
//
// A statement applies when its principal (bucket policies), action,
// resource and every condition apply. Actions compare case-insensitively;
// resources and principals case-sensitively; '*' matches any run of
// characters ('/' included) and '?' one character. Condition keys are
// looked up case-insensitively (an exact-case match is preferred). Policy
// variables ${key} and ${key, 'default'} are substituted in Resource,
// NotResource and String/Arn condition values under Version 2012-10-17
// only; a variable without a single value and without a default makes that
// value not match (a Deny with such a NotResource fails closed).
//
// Identity policies apply to the principal holding them. A bucket-policy
// statement applies only to the principals its Principal names ("*" and
// {"AWS": "*"}: everyone, anonymous included; a tenant id or
// arn:coffer:iam::<tenant>:root: every principal of that tenant;
// arn:coffer:iam::<tenant>:user/<name>: that user; {"CanonicalUser": id})
// or its NotPrincipal does not name.
//
// # Conditions
//
// All operators of a statement, and all keys under one operator, MUST hold;
// any one of a key's policy values may match. When the key is absent from
// the request context: ...IfExists holds; ForAllValues holds; ForAnyValue
// does not; a negated operator (StringNotEquals, StringNotLike,
// NumericNotEquals, DateNotEquals, NotIpAddress, ArnNotEquals, ArnNotLike,
// StringNotEqualsIgnoreCase) holds; every other operator does not. Null
// "true" holds exactly when the key is absent. With several request values,
// an unqualified or ForAnyValue operator holds when some value matches and
// ForAllValues when every value matches; a negated operator inverts the
// per-value test. A request value that cannot be read as the operator's
// type (a date, a number, an IP address, a boolean) matches no policy
// value. Policy values are checked when the policy is parsed: a malformed
// value is a MalformedPolicy error, never silently ignored.
package policy

import (
	"strings"
)

// Principal is the authenticated (or anonymous) caller of a request.
type Principal struct {
	// Tenant is the tenant id the principal belongs to ("" for root and
	// anonymous).
	Tenant string
	// User is the user name within the tenant.
	User string
	// CanonicalID is the canonical user id (ACL grantee id).
	CanonicalID string
	// ARN is arn:coffer:iam::<tenant>:user/<name> or
	// arn:coffer:iam::<tenant>:root.
	ARN string
	// Anonymous is true for an unsigned request. An anonymous principal
	// MUST have every other field empty; Evaluate denies otherwise.
	Anonymous bool
	// Root is true for the operator's break-glass account.
	Root bool
	// Admin is true for an administrator of Tenant: allowed everything
	// on its own tenant's buckets unless explicitly denied.
	Admin bool
}

// Request is one authorization question.
type Request struct {
	// Principal is the caller.
	Principal Principal
	// Action is the S3 action, e.g. "s3:GetObject".
	Action string
	// Resource is the ARN acted on: arn:aws:s3:::bucket,
	// arn:aws:s3:::bucket/key, or "" when there is none (ListBuckets).
	// "" is matched as "arn:aws:s3:::", so that the patterns "*" and
	// "arn:aws:s3:::*" cover it, as in AWS.
	Resource string
	// BucketOwnerTenant is the tenant owning the bucket, "" when the
	// request concerns no existing bucket (ListBuckets, CreateBucket).
	BucketOwnerTenant string
	// Context holds the condition keys and their values. Callers MUST set
	// aws:CurrentTime (RFC 3339), aws:EpochTime, aws:SecureTransport and
	// aws:SourceIp on every request, since policies that test them
	// otherwise see them absent. aws:username, aws:userid (the canonical
	// id), aws:PrincipalAccount (the tenant id) and aws:PrincipalArn are
	// always derived from Principal and override any value given here.
	Context map[string][]string
}

// ACLDecision is the verdict of the S3 ACLs (bucket or object) on the
// request, decided by the caller.
type ACLDecision int

const (
	// ACLNone means no ACL grant covers the request (or ACLs are disabled
	// by BucketOwnerEnforced).
	ACLNone ACLDecision = iota
	// ACLAllow means an ACL grant covers the request.
	ACLAllow
)

// Decision is the outcome of Evaluate.
type Decision struct {
	// Allowed is true when the request may proceed.
	Allowed bool
	// Reason says which rule decided, e.g. `explicit deny in bucket policy
	// statement "DenyHTTP"`, "allowed by identity policy", "implicit deny".
	// It is meant for audit records, not for the S3 client.
	Reason string
}

// recoveryActions may not be denied by a policy to root or to the owning
// tenant's administrator (step 1 of the evaluation order).
var recoveryActions = map[string]bool{
	"s3:getbucketpolicy": true, "s3:putbucketpolicy": true, "s3:deletebucketpolicy": true,
}

// Evaluate decides req against the principal's identity policies, the
// bucket policy (nil when there is none) and the ACL verdict, in the order
// documented in the package comment. A policy that fails validation denies
// the request.
func Evaluate(req Request, identity []*Policy, bucket *Policy, acl ACLDecision) Decision {
	p := req.Principal
	if req.Action == "" {
		return deny("invalid request: no action")
	}
	if p.Anonymous && (p.Root || p.Admin || p.Tenant != "" || p.User != "" || p.ARN != "" || p.CanonicalID != "") {
		return deny("invalid principal: anonymous with an identity")
	}
	if p.Root && p.Tenant != "" {
		return deny("invalid principal: root belongs to no tenant")
	}
	if !p.Anonymous && !p.Root && p.Tenant == "" {
		return deny("invalid principal: authenticated principal without a tenant")
	}
	if req.Resource == "" {
		req.Resource = "arn:aws:s3:::"
	}
	ec := newEvalCtx(&req)
	sameTenant := p.Tenant != "" && p.Tenant == req.BucketOwnerTenant
	recovery := recoveryActions[strings.ToLower(req.Action)] && (p.Root || p.Admin && sameTenant)

	// Step 1: explicit deny, while noting the allows.
	identityAllow, bucketAllow := "", ""
	if !p.Anonymous && !p.Root {
		for _, pol := range identity {
			if pol == nil {
				continue
			}
			pol, err := usable(pol)
			if err != nil {
				return deny("invalid identity policy: " + err.Error())
			}
			st, effect := pol.decide(&req, ec, false)
			if effect == Deny {
				return deny("explicit deny in identity policy " + st.name())
			}
			if effect == Allow && identityAllow == "" {
				identityAllow = st.name()
			}
		}
	}
	if bucket != nil {
		pol, err := usable(bucket)
		if err != nil {
			return deny("invalid bucket policy: " + err.Error())
		}
		st, effect := pol.decide(&req, ec, true)
		if effect == Deny && !recovery {
			return deny("explicit deny in bucket policy " + st.name())
		}
		if effect == Allow {
			bucketAllow = st.name()
		}
	}

	// Steps 2 to 7.
	switch {
	case p.Root:
		return allow("root (break-glass operator)")
	case p.Anonymous:
		if bucketAllow != "" {
			return allow("allowed anonymous by bucket policy " + bucketAllow)
		}
		if acl == ACLAllow {
			return allow("allowed anonymous by ACL")
		}
		return deny("implicit deny: anonymous request not allowed by bucket policy or ACL")
	case req.BucketOwnerTenant == "":
		if p.Admin && p.Tenant != "" {
			return allow("tenant administrator")
		}
		if identityAllow != "" {
			return allow("allowed by identity policy " + identityAllow)
		}
		return deny("implicit deny: no identity policy allows it")
	case sameTenant:
		switch {
		case p.Admin:
			return allow("tenant administrator of the bucket owner")
		case identityAllow != "":
			return allow("allowed by identity policy " + identityAllow)
		case bucketAllow != "":
			return allow("allowed by bucket policy " + bucketAllow)
		case acl == ACLAllow:
			return allow("allowed by ACL")
		}
		return deny("implicit deny: no identity policy, bucket policy or ACL allows it")
	}
	owner := ""
	switch {
	case bucketAllow != "":
		owner = "bucket policy " + bucketAllow
	case acl == ACLAllow:
		owner = "ACL"
	}
	caller := ""
	switch {
	case p.Admin && p.Tenant != "":
		caller = "tenant administrator"
	case identityAllow != "":
		caller = "identity policy " + identityAllow
	}
	switch {
	case owner != "" && caller != "":
		return allow("allowed cross-tenant by " + owner + " and " + caller)
	case owner == "":
		return deny("implicit deny: cross-tenant request not allowed by the bucket owner's bucket policy or ACL")
	}
	return deny("implicit deny: cross-tenant request not allowed by the caller's identity policy")
}

func allow(reason string) Decision { return Decision{Allowed: true, Reason: reason} }
func deny(reason string) Decision  { return Decision{Reason: reason} }

// usable returns p if it was validated, else a validated copy.
func usable(p *Policy) (*Policy, error) {
	if p.validated {
		return p, nil
	}
	q := p.clone()
	if err := q.validate(KindAny, ""); err != nil {
		return nil, err
	}
	return q, nil
}

// decide returns the first applicable Deny statement if any (effect Deny),
// else the first applicable Allow statement (effect Allow), else effect "".
func (p *Policy) decide(req *Request, ec *evalCtx, bucketPolicy bool) (*Statement, Effect) {
	vars := p.Version == Version2012
	var allowed *Statement
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect == Allow && allowed != nil {
			continue
		}
		if !st.applies(req, ec, vars, bucketPolicy) {
			continue
		}
		if st.Effect == Deny {
			return st, Deny
		}
		allowed = st
	}
	if allowed != nil {
		return allowed, Allow
	}
	return nil, ""
}

// evalCtx is the request context prepared for lookups.
type evalCtx struct {
	exact map[string][]string
	lower map[string][]string
}

// principalKeys are derived from the principal and override the context.
var principalKeys = []string{"aws:username", "aws:userid", "aws:principalaccount", "aws:principalarn"}

func newEvalCtx(req *Request) *evalCtx {
	ec := &evalCtx{exact: map[string][]string{}, lower: map[string][]string{}}
	chosen := map[string]string{} // lower-cased key -> original key used
	for k, v := range req.Context {
		ec.exact[k] = v
		lk := strings.ToLower(k)
		// Keys differing only in case: the smallest spelling wins, so
		// that the choice does not depend on map order.
		if prev, dup := chosen[lk]; !dup || k < prev {
			chosen[lk] = k
			ec.lower[lk] = v
		}
	}
	p := req.Principal
	derived := []string{p.User, p.CanonicalID, p.Tenant, p.ARN}
	for i, k := range principalKeys {
		delete(ec.lower, k)
		for ek := range ec.exact {
			if strings.EqualFold(ek, k) {
				delete(ec.exact, ek)
			}
		}
		if !p.Anonymous && derived[i] != "" {
			ec.lower[k] = []string{derived[i]}
		}
	}
	return ec
}

// lookup finds a condition key, preferring an exact-case match.
func (ec *evalCtx) lookup(key string) ([]string, bool) {
	if v, ok := ec.exact[key]; ok {
		return v, true
	}
	v, ok := ec.lower[strings.ToLower(key)]
	return v, ok
}
