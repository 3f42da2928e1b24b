package policy

import (
	"fmt"
	"strings"
)

func errorf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// pchar is one element of a compiled wildcard pattern: a literal rune, '*'
// (any run of characters, '/' and ':' included) or '?' (one character).
type pchar struct {
	r    rune
	wild bool // r is '*' or '?' used as a wildcard
}

// compileLiteralPattern compiles s with '*' and '?' as wildcards and no
// policy variables.
func compileLiteralPattern(s string) []pchar {
	out := make([]pchar, 0, len(s))
	for _, r := range s {
		out = append(out, pchar{r: r, wild: r == '*' || r == '?'})
	}
	return out
}

// globMatch reports whether s matches the whole pattern. It is the classic
// linear backtracking matcher: on a mismatch it retries from the most
// recent '*', so it runs in O(len(pat)*len(s)) at worst.
func globMatch(pat []pchar, s string) bool {
	str := []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(str) {
		switch {
		case pi < len(pat) && pat[pi].wild && pat[pi].r == '*':
			star, mark = pi, si
			pi++
		case pi < len(pat) && (pat[pi].wild && pat[pi].r == '?' || !pat[pi].wild && pat[pi].r == str[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi].wild && pat[pi].r == '*' {
		pi++
	}
	return pi == len(pat)
}

// matchAction reports whether action matches the pattern; actions compare
// case-insensitively, as in AWS.
func matchAction(pattern, action string) bool {
	return globMatch(compileLiteralPattern(strings.ToLower(pattern)), strings.ToLower(action))
}

// expandPattern compiles a Resource or StringLike/ArnLike value, replacing
// policy variables (Version 2012-10-17 only) by their values taken
// literally: a '*' in a user name never acts as a wildcard. ok is false
// when a variable has no single value and no default; the element then
// does not match.
func (ec *evalCtx) expandPattern(s string, vars bool) (pat []pchar, ok bool) {
	if !vars || !strings.Contains(s, "${") {
		return compileLiteralPattern(s), true
	}
	ok = true
	walkVariables(s, func(lit string) {
		pat = append(pat, compileLiteralPattern(lit)...)
	}, func(name, def string, hasDef bool) {
		v, found := ec.variable(name, def, hasDef)
		if !found {
			ok = false
		}
		for _, r := range v {
			pat = append(pat, pchar{r: r})
		}
	})
	return pat, ok
}

// expandString replaces policy variables in an exact-match value.
func (ec *evalCtx) expandString(s string, vars bool) (string, bool) {
	if !vars || !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	ok := true
	walkVariables(s, func(lit string) { b.WriteString(lit) }, func(name, def string, hasDef bool) {
		v, found := ec.variable(name, def, hasDef)
		if !found {
			ok = false
		}
		b.WriteString(v)
	})
	return b.String(), ok
}

// walkVariables splits s into literal text and ${name} or
// ${name, 'default'} references. An unterminated "${" is literal text.
func walkVariables(s string, lit func(string), ref func(name, def string, hasDef bool)) {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			lit(s)
			return
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			lit(s)
			return
		}
		lit(s[:i])
		inner := s[i+2 : i+j]
		name, def, hasDef := strings.Cut(inner, ",")
		name = strings.TrimSpace(name)
		if hasDef {
			def = strings.TrimSpace(def)
			if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
				def = def[1 : len(def)-1]
			} else {
				hasDef = false
			}
		}
		ref(name, def, hasDef)
		s = s[i+j+1:]
	}
}

// variable resolves one policy variable. ${*}, ${?} and ${$} stand for the
// literal characters.
func (ec *evalCtx) variable(name, def string, hasDef bool) (string, bool) {
	switch name {
	case "*", "?", "$":
		return name, true
	}
	if vals, ok := ec.lookup(name); ok && len(vals) == 1 {
		return vals[0], true
	}
	if hasDef {
		return def, true
	}
	return "", false
}

// parsePrincipalARN parses arn:coffer:iam::<tenant>:root and
// arn:coffer:iam::<tenant>:user/<name> (partition coffer or aws). user is
// empty for :root.
func parsePrincipalARN(a string) (tenant, user string, ok bool) {
	parts := strings.SplitN(a, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || (parts[1] != "coffer" && parts[1] != "aws") ||
		parts[2] != "iam" || parts[3] != "" || parts[4] == "" {
		return "", "", false
	}
	tenant = parts[4]
	switch res := parts[5]; {
	case res == "root":
		return tenant, "", true
	case strings.HasPrefix(res, "user/") && len(res) > len("user/"):
		return tenant, res[len("user/"):], true
	}
	return "", "", false
}

// matches reports whether the principal is named by ps.
func (ps *Principals) matches(p Principal) bool {
	if ps.Wildcard {
		return true
	}
	for _, a := range ps.AWS {
		if a == "*" {
			return true
		}
		if p.Anonymous || p.Root {
			continue
		}
		if !strings.HasPrefix(a, "arn:") {
			if p.Tenant != "" && a == p.Tenant {
				return true
			}
			continue
		}
		if p.ARN != "" && a == p.ARN {
			return true
		}
		tenant, user, ok := parsePrincipalARN(a)
		if !ok || p.Tenant == "" || tenant != p.Tenant {
			continue
		}
		if user == "" || user == p.User {
			return true
		}
	}
	if !p.Anonymous {
		for _, c := range ps.CanonicalUser {
			if p.CanonicalID != "" && c == p.CanonicalID {
				return true
			}
		}
	}
	return false
}

// appliesTo reports whether the statement's Principal/NotPrincipal admits
// p. A statement with neither applies to the policy's holder (identity
// policies) and to nobody in a bucket policy.
func (st *Statement) appliesTo(p Principal, bucketPolicy bool) bool {
	switch {
	case st.Principal != nil:
		return st.Principal.matches(p)
	case st.NotPrincipal != nil:
		return !st.NotPrincipal.matches(p)
	}
	return !bucketPolicy
}

// applies reports whether the statement applies to the request: principal,
// action, resource and every condition. When a policy variable in a
// NotResource cannot be resolved the statement fails closed: a Deny applies
// and an Allow does not.
func (st *Statement) applies(req *Request, ec *evalCtx, vars, bucketPolicy bool) bool {
	if !st.appliesTo(req.Principal, bucketPolicy) {
		return false
	}
	if st.Action != nil {
		if !anyMatch(st.Action, func(a string) bool { return matchAction(a, req.Action) }) {
			return false
		}
	} else if anyMatch(st.NotAction, func(a string) bool { return matchAction(a, req.Action) }) {
		return false
	}
	if st.Resource != nil {
		hit := anyMatch(st.Resource, func(r string) bool {
			pat, ok := ec.expandPattern(r, vars)
			return ok && globMatch(pat, req.Resource)
		})
		if !hit {
			return false
		}
	} else {
		unresolved := false
		hit := anyMatch(st.NotResource, func(r string) bool {
			pat, ok := ec.expandPattern(r, vars)
			if !ok {
				unresolved = true
				return false
			}
			return globMatch(pat, req.Resource)
		})
		if hit || (unresolved && st.Effect == Allow) {
			return false
		}
	}
	for i := range st.Condition {
		if !st.Condition[i].op.eval(ec, vars) {
			return false
		}
	}
	return true
}

func anyMatch(list []string, f func(string) bool) bool {
	for _, s := range list {
		if f(s) {
			return true
		}
	}
	return false
}
