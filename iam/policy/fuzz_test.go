package policy

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzRequests are the fixed requests on which a parsed policy and its
// re-marshaled form must decide identically.
func fuzzRequests() []Request {
	return []Request{
		req(alice, getObj, obj),
		req(alice, "s3:ListBucket", bkt, "s3:prefix", "home/alice/", "s3:max-keys", "10"),
		req(bob, "s3:PutObject", "arn:aws:s3:::b1/home/bob/x", "s3:x-amz-acl", "private", "aws:SecureTransport", "false"),
		req(carol, "s3:DeleteObject", obj, "s3:RequestObjectTagKeys", "a|b", "aws:SourceIp", "2001:db8::1"),
		req(anon, getObj, obj, "aws:SourceIp", "<absent>"),
		req(admin2, "s3:PutBucketPolicy", bkt2, "s3:object-lock-remaining-retention-days", "31"),
		req(root, "s3:DeleteBucketPolicy", bkt),
		req(admin1, "s3:CreateBucket", ""),
	}
}

// FuzzParse checks that Parse never panics on arbitrary input, and that a
// policy it accepts re-marshals to a document that parses back to a policy
// deciding every fixed request identically (as identity and as bucket
// policy).
func FuzzParse(f *testing.F) {
	f.Add([]byte(publicRead))
	f.Add([]byte(denyInsecure))
	f.Add([]byte(allowS3AllB1))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if p != nil {
				t.Fatal("policy returned with an error")
			}
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if len(out) > MaxSize {
			return // canonical form may be longer than the input
		}
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		out2, err := json.Marshal(q)
		if err != nil || string(out2) != string(out) {
			t.Fatalf("marshal not stable:\n%s\n%s", out, out2)
		}
		for _, r := range fuzzRequests() {
			for _, acl := range []ACLDecision{ACLNone, ACLAllow} {
				a := Evaluate(r, []*Policy{p}, p, acl)
				b := Evaluate(r, []*Policy{q}, q, acl)
				if a != b {
					t.Fatalf("decision changed after round trip for %+v:\n%+v\n%+v\n%s", r, a, b, out)
				}
			}
		}
		_ = p.IsPublic()
	})
}

// globByRegexp is the reference matcher for globMatch.
func globByRegexp(pattern, s string) bool {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String()).MatchString(s)
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "arn:aws:s3:::b/k", true},
		{"", "", true},
		{"", "a", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true},
		{"arn:aws:s3:::b1/*", "arn:aws:s3:::b1/x/y/z", true},
		{"arn:aws:s3:::b1/*", "arn:aws:s3:::b10/x", false},
		{"**a", "bba", true},
		{"*a*a*a*a*b", strings.Repeat("a", 200), false},
	}
	for _, c := range cases {
		if got := globMatch(compileLiteralPattern(c.pattern), c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
		if ref := globByRegexp(c.pattern, c.s); ref != c.want {
			t.Errorf("reference disagrees on (%q, %q)", c.pattern, c.s)
		}
	}
}

func TestPolicyVariables(t *testing.T) {
	ec := newEvalCtx(&Request{Principal: alice, Context: map[string][]string{"s3:multi": {"a", "b"}, "S3:Tag": {"x*y"}}})
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"home/${aws:username}/", "home/alice/", true},
		{"${aws:PrincipalAccount}:${aws:userid}", "t1:c-alice", true},
		{"lit ${*}${?}${$}", "lit *?$", true},
		{"${s3:tag}", "x*y", true},
		{"${s3:multi}", "", false},
		{"${s3:missing, 'd e'}", "d e", true},
		{"${s3:missing, bad}", "", false},
		{"unterminated ${aws:username", "unterminated ${aws:username", true},
	}
	for _, c := range cases {
		got, ok := ec.expandString(c.in, true)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("expandString(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	// A substituted value is literal in a pattern: "x*y" does not match "xZy".
	pat, ok := ec.expandPattern("${s3:tag}", true)
	if !ok || globMatch(pat, "xZy") || !globMatch(pat, "x*y") {
		t.Error("substituted value acted as a wildcard")
	}
}

// FuzzGlob checks globMatch against a regular-expression reference.
func FuzzGlob(f *testing.F) {
	f.Add("a*b?c", "aXXbYc")
	f.Add("*/*", "x/y")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 64 || !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return
		}
		if got, want := globMatch(compileLiteralPattern(pattern), s), globByRegexp(pattern, s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, reference %v", pattern, s, got, want)
		}
	})
}
