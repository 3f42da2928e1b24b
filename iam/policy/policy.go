package policy

import (
	"slices"
	"strings"
)

// Effect is a statement's Effect element.
type Effect string

// The two effects. They are case-sensitive, as in AWS.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed and validated IAM policy document (an identity policy
// or a bucket policy). Build it with Parse, ParseIdentity or ParseBucket; a
// Policy built by hand MUST be checked with Validate before use (Evaluate
// validates an unchecked policy on every call and denies when it is
// invalid). A Policy MUST NOT be modified after validation; it is then safe
// for concurrent use by any number of Evaluate calls.
type Policy struct {
	// Version is "2012-10-17", "2008-10-17", or "" (absent, which means
	// 2008-10-17).
	Version string
	// ID is the optional Id element.
	ID string
	// Statements holds at least one statement, in document order.
	Statements []Statement

	validated bool
}

// Statement is one element of a policy's Statement array.
type Statement struct {
	// Sid is the optional statement id; Decision reasons quote it.
	Sid string
	// Effect is Allow or Deny.
	Effect Effect
	// Principal names who the statement applies to (bucket policies only).
	// At most one of Principal and NotPrincipal is set.
	Principal *Principals
	// NotPrincipal names who the statement does not apply to.
	NotPrincipal *Principals
	// Action lists action patterns ("s3:Get*"); exactly one of Action and
	// NotAction is set.
	Action []string
	// NotAction lists action patterns the statement does not apply to.
	NotAction []string
	// Resource lists ARN patterns; exactly one of Resource and NotResource
	// is set.
	Resource []string
	// NotResource lists ARN patterns the statement does not apply to.
	NotResource []string
	// Condition holds one entry per (operator, key) pair, sorted by
	// operator then key. All must hold for the statement to apply.
	Condition []Condition
}

// Principals is the value of a Principal or NotPrincipal element.
type Principals struct {
	// Wildcard is true for "Principal": "*": everyone, anonymous included.
	Wildcard bool
	// AWS lists "*" (everyone, anonymous included, as in AWS), tenant ids
	// (any principal of that tenant), arn:coffer:iam::<tenant>:root (the
	// same as the tenant id) and arn:coffer:iam::<tenant>:user/<name>.
	// The partition "aws" is accepted in place of "coffer".
	AWS []string
	// CanonicalUser lists canonical user ids.
	CanonicalUser []string
	// Service lists AWS service principals. They are accepted so that
	// policies written for AWS parse, but they never match a coffer
	// principal.
	Service []string
}

// Condition is one (operator, key, values) triple of a Condition block.
type Condition struct {
	// Operator is the operator as written, e.g. "ForAnyValue:StringLike"
	// or "DateLessThanIfExists".
	Operator string
	// Key is the condition key as written, e.g. "aws:SourceIp". Keys are
	// looked up case-insensitively.
	Key string
	// Values holds the values as text (numbers and booleans included).
	// Any one value may match.
	Values []string

	op compiledOp
}

// Validate checks p against the rules of kind (see Kind) and prepares it
// for evaluation. bucket is used only with KindBucket. Errors wrap
// ErrMalformedPolicy.
func (p *Policy) Validate(kind Kind, bucket string) error {
	p.validated = false
	if err := p.validate(kind, bucket); err != nil {
		return err
	}
	return nil
}

func (p *Policy) validate(kind Kind, bucket string) error {
	switch p.Version {
	case "", Version2012, Version2008:
	default:
		return malformed("Version must be %q or %q, not %q", Version2012, Version2008, p.Version)
	}
	if len(p.Statements) == 0 {
		return malformed("Statement is empty")
	}
	sids := map[string]bool{}
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Sid != "" {
			if sids[st.Sid] {
				return malformed("duplicate Sid %q", st.Sid)
			}
			sids[st.Sid] = true
		}
		if err := st.validate(kind, bucket); err != nil {
			return err
		}
	}
	p.validated = true
	return nil
}

func (st *Statement) validate(kind Kind, bucket string) error {
	where := st.name()
	if st.Effect != Allow && st.Effect != Deny {
		return malformed("%s: Effect must be \"Allow\" or \"Deny\", not %q", where, st.Effect)
	}
	if st.Principal != nil && st.NotPrincipal != nil {
		return malformed("%s: Principal and NotPrincipal are mutually exclusive", where)
	}
	hasPrincipal := st.Principal != nil || st.NotPrincipal != nil
	switch {
	case kind == KindIdentity && hasPrincipal:
		return malformed("%s: an identity policy must not specify a Principal", where)
	case kind == KindBucket && !hasPrincipal:
		return malformed("%s: missing required field Principal", where)
	}
	for _, ps := range []*Principals{st.Principal, st.NotPrincipal} {
		if err := ps.validate(); err != nil {
			return malformed("%s: %v", where, err)
		}
	}
	if (st.Action == nil) == (st.NotAction == nil) {
		return malformed("%s: exactly one of Action and NotAction is required", where)
	}
	for _, a := range slices.Concat(st.Action, st.NotAction) {
		if err := validateAction(a, kind); err != nil {
			return malformed("%s: %v", where, err)
		}
	}
	if (st.Resource == nil) == (st.NotResource == nil) {
		return malformed("%s: exactly one of Resource and NotResource is required", where)
	}
	for _, r := range slices.Concat(st.Resource, st.NotResource) {
		if err := validateResource(r, kind, bucket); err != nil {
			return malformed("%s: %v", where, err)
		}
	}
	seen := map[string]bool{}
	for i := range st.Condition {
		c := &st.Condition[i]
		id := strings.ToLower(c.Operator) + "\x00" + strings.ToLower(c.Key)
		if seen[id] {
			return malformed("%s: condition %s %s given twice", where, c.Operator, c.Key)
		}
		seen[id] = true
		if err := c.compile(); err != nil {
			return malformed("%s: %v", where, err)
		}
	}
	return nil
}

// name identifies the statement in errors and decision reasons.
func (st *Statement) name() string {
	if st.Sid != "" {
		return "statement " + quote(st.Sid)
	}
	return "statement without Sid"
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

func (ps *Principals) validate() error {
	if ps == nil || ps.Wildcard {
		return nil
	}
	if len(ps.AWS)+len(ps.CanonicalUser)+len(ps.Service) == 0 {
		return errorf("empty principal")
	}
	for _, a := range ps.AWS {
		if a == "*" {
			continue
		}
		if a == "" || strings.ContainsAny(a, "*?") {
			return errorf("invalid principal %s: wildcards are allowed only as \"*\"", quote(a))
		}
		if strings.HasPrefix(a, "arn:") {
			if _, _, ok := parsePrincipalARN(a); !ok {
				return errorf("invalid principal %s: want arn:coffer:iam::<tenant>:root or arn:coffer:iam::<tenant>:user/<name>", quote(a))
			}
		} else if strings.ContainsAny(a, ":/") {
			return errorf("invalid principal %s", quote(a))
		}
	}
	for _, c := range ps.CanonicalUser {
		if c == "" || strings.ContainsAny(c, "*?") {
			return errorf("invalid canonical user %s", quote(c))
		}
	}
	for _, s := range ps.Service {
		if s == "" {
			return errorf("empty service principal")
		}
	}
	return nil
}

// validateAction accepts "*" and service:pattern, where pattern holds
// letters, digits, '-', '*' and '?'. Bucket policies accept only s3.
func validateAction(a string, kind Kind) error {
	if a == "*" {
		return nil
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return errorf("invalid action %s: want service:Action", quote(a))
	}
	for _, r := range svc {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return errorf("invalid action %s: bad service prefix", quote(a))
		}
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '*' || r == '?') {
			return errorf("invalid action %s", quote(a))
		}
	}
	if kind == KindBucket && !strings.EqualFold(svc, "s3") {
		return errorf("invalid action %s: a bucket policy accepts only s3 actions", quote(a))
	}
	return nil
}

// validateResource accepts "*" and ARNs arn:partition:service:region:
// account:resource. In bucket policies the service must be s3 and the
// resource must lie within the bucket.
func validateResource(r string, kind Kind, bucket string) error {
	if r == "*" {
		return nil
	}
	parts := strings.SplitN(r, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return errorf("invalid resource %s: want an ARN such as arn:aws:s3:::bucket/key", quote(r))
	}
	if kind != KindBucket {
		return nil
	}
	if !globMatch(compileLiteralPattern(parts[2]), "s3") {
		return errorf("invalid resource %s: a bucket policy accepts only s3 resources", quote(r))
	}
	if bucket == "" {
		return nil
	}
	arn := "arn:aws:s3:::" + bucket
	pat := compileLiteralPattern(r)
	if r == arn || strings.HasPrefix(r, arn+"/") || globMatch(pat, arn) || globMatch(pat, arn+"/") {
		return nil
	}
	return errorf("invalid resource %s: policy has a resource outside bucket %s", quote(r), quote(bucket))
}

// sortConditions orders conditions by operator then key, so that parsing is
// deterministic whatever the map order.
func sortConditions(cs []Condition) {
	slices.SortFunc(cs, func(a, b Condition) int {
		if c := strings.Compare(a.Operator, b.Operator); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// clone returns a deep copy of p whose conditions can be compiled without
// touching p.
func (p *Policy) clone() *Policy {
	q := &Policy{Version: p.Version, ID: p.ID, Statements: slices.Clone(p.Statements)}
	for i := range q.Statements {
		q.Statements[i].Condition = slices.Clone(q.Statements[i].Condition)
	}
	return q
}

// IsPublic reports whether the policy grants access to everyone, in the
// sense S3 uses for GetBucketPolicyStatus and Block Public Access: some
// Allow statement applies to a wildcard principal (or uses NotPrincipal)
// and carries no condition that pins a fixed value on an identifying key
// (aws:SourceIp with a CIDR of at least /8 for IPv4 or /32 for IPv6,
// aws:PrincipalAccount, aws:PrincipalArn, aws:userid, aws:username,
// aws:SourceArn, aws:SourceAccount, aws:SourceVpc, aws:SourceVpce,
// aws:PrincipalOrgID) with StringEquals, StringLike without wildcards,
// ArnEquals, ArnLike without wildcards or IpAddress.
func (p *Policy) IsPublic() bool {
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect != Allow {
			continue
		}
		wild := st.NotPrincipal != nil
		if ps := st.Principal; ps != nil {
			wild = ps.Wildcard || slices.Contains(ps.AWS, "*")
		}
		if !wild {
			continue
		}
		pinned := false
		for j := range st.Condition {
			if st.Condition[j].pins() {
				pinned = true
				break
			}
		}
		if !pinned {
			return true
		}
	}
	return false
}
