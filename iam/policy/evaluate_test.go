package policy

import (
	"strings"
	"testing"
)

// Principals used across the evaluation tests. Tenant t1 owns bucket b1;
// t2 owns b2.
var (
	alice  = Principal{Tenant: "t1", User: "alice", CanonicalID: "c-alice", ARN: "arn:coffer:iam::t1:user/alice"}
	bob    = Principal{Tenant: "t1", User: "bob", CanonicalID: "c-bob", ARN: "arn:coffer:iam::t1:user/bob"}
	carol  = Principal{Tenant: "t2", User: "carol", CanonicalID: "c-carol", ARN: "arn:coffer:iam::t2:user/carol"}
	admin1 = Principal{Tenant: "t1", User: "admin", CanonicalID: "c-admin1", ARN: "arn:coffer:iam::t1:user/admin", Admin: true}
	admin2 = Principal{Tenant: "t2", User: "admin", CanonicalID: "c-admin2", ARN: "arn:coffer:iam::t2:user/admin", Admin: true}
	anon   = Principal{Anonymous: true}
	root   = Principal{Root: true}
)

// baseContext is what s3api sets on every request.
func baseContext() map[string][]string {
	return map[string][]string{
		"aws:SecureTransport": {"true"},
		"aws:SourceIp":        {"10.1.2.3"},
		"aws:CurrentTime":     {"2026-06-01T00:00:00Z"},
		"aws:EpochTime":       {"1780272000"},
	}
}

// req builds a request on bucket b1 (owned by t1) with the base context
// plus extra keys (alternating key, value).
func req(p Principal, action, resource string, extra ...string) Request {
	ctx := baseContext()
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "<absent>" {
			delete(ctx, extra[i])
			continue
		}
		ctx[extra[i]] = append(ctx[extra[i]], strings.Split(extra[i+1], "|")...)
		if extra[i] == "aws:SecureTransport" || extra[i] == "aws:SourceIp" || extra[i] == "aws:CurrentTime" {
			ctx[extra[i]] = strings.Split(extra[i+1], "|")
		}
	}
	owner := "t1"
	if strings.HasPrefix(resource, "arn:aws:s3:::b2") {
		owner = "t2"
	}
	if resource == "" {
		owner = ""
	}
	return Request{Principal: p, Action: action, Resource: resource, BucketOwnerTenant: owner, Context: ctx}
}

const (
	obj    = "arn:aws:s3:::b1/docs/report.pdf"
	bkt    = "arn:aws:s3:::b1"
	obj2   = "arn:aws:s3:::b2/data/x.csv"
	bkt2   = "arn:aws:s3:::b2"
	v2012  = `"Version":"2012-10-17",`
	getObj = "s3:GetObject"
)

// id wraps statements into an identity policy.
func id(stmts ...string) string {
	return `{` + v2012 + `"Statement":[` + strings.Join(stmts, ",") + `]}`
}

// st builds a statement from JSON fragments.
func st(effect string, frags ...string) string {
	return `{"Effect":"` + effect + `",` + strings.Join(frags, ",") + `}`
}

type evalCase struct {
	name     string
	identity []string // identity policy documents
	bucket   string   // bucket policy document, "" for none
	acl      ACLDecision
	req      Request
	allowed  bool
	reason   string // substring of Decision.Reason, optional
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ids []*Policy
			for _, doc := range c.identity {
				p, err := ParseIdentity([]byte(doc))
				if err != nil {
					t.Fatalf("identity policy: %v\n%s", err, doc)
				}
				ids = append(ids, p)
			}
			var bp *Policy
			if c.bucket != "" {
				var err error
				if bp, err = ParseBucket([]byte(c.bucket), ""); err != nil {
					t.Fatalf("bucket policy: %v\n%s", err, c.bucket)
				}
			}
			d := Evaluate(c.req, ids, bp, c.acl)
			if d.Allowed != c.allowed {
				t.Fatalf("Allowed=%v, want %v (reason %q)", d.Allowed, c.allowed, d.Reason)
			}
			if c.reason != "" && !strings.Contains(d.Reason, c.reason) {
				t.Fatalf("reason %q does not contain %q", d.Reason, c.reason)
			}
			if d.Reason == "" {
				t.Fatal("empty reason")
			}
		})
	}
}

// Identity and bucket policies shared by several cases.
var (
	allowGetAll    = id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"*"`))
	allowS3AllB1   = id(st("Allow", `"Action":"s3:*"`, `"Resource":["arn:aws:s3:::b1","arn:aws:s3:::b1/*"]`))
	denyDeleteAll  = id(`{"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}`)
	publicRead     = `{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*"}]}`
	publicReadAWS  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*"}]}`
	grantT2Get     = `{"Version":"2012-10-17","Statement":[{"Sid":"T2","Effect":"Allow","Principal":{"AWS":"t2"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*"}]}`
	denyAllBucket  = `{"Version":"2012-10-17","Statement":[{"Sid":"LockDown","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b1","arn:aws:s3:::b1/*"]}]}`
	denyInsecure   = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyHTTP","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b1/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	denyGetCarol   = `{"Version":"2012-10-17","Statement":[{"Sid":"NoCarol","Effect":"Deny","Principal":{"AWS":"arn:coffer:iam::t2:user/carol"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*"}]}`
	grantBobByARN  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:coffer:iam::t1:user/bob"]},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b1/*"}]}`
	grantT2Root    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:coffer:iam::t2:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b1"}]}`
	grantCanonical = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"CanonicalUser":"c-bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*"}]}`
	notPrincipal   = `{"Version":"2012-10-17","Statement":[{"Sid":"OnlyAlice","Effect":"Deny","NotPrincipal":{"AWS":"arn:coffer:iam::t1:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*"}]}`
	carolGetAll    = id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::*"`))
)

func TestEvaluateOrder(t *testing.T) {
	runEvalCases(t, []evalCase{
		// Deny by default.
		{name: "no policies implicit deny", req: req(alice, getObj, obj), reason: "implicit deny"},
		{name: "identity allow", identity: []string{allowGetAll}, req: req(alice, getObj, obj), allowed: true, reason: "identity policy"},
		{name: "identity allow other action", identity: []string{allowGetAll}, req: req(alice, "s3:PutObject", obj)},
		{name: "second identity policy allows", identity: []string{allowGetAll, allowS3AllB1}, req: req(alice, "s3:PutObject", obj), allowed: true},
		// Explicit deny wins.
		{name: "identity deny beats identity allow", identity: []string{allowS3AllB1, denyDeleteAll}, req: req(alice, "s3:DeleteObject", obj), reason: `explicit deny in identity policy statement "NoDelete"`},
		{name: "identity deny beats ACL allow", identity: []string{denyDeleteAll}, acl: ACLAllow, req: req(alice, "s3:DeleteObject", obj), reason: "explicit deny"},
		{name: "bucket deny beats identity allow", identity: []string{allowS3AllB1}, bucket: denyAllBucket, req: req(alice, getObj, obj), reason: `explicit deny in bucket policy statement "LockDown"`},
		{name: "bucket deny beats ACL allow", bucket: denyAllBucket, acl: ACLAllow, req: req(anon, getObj, obj), reason: "explicit deny"},
		{name: "bucket deny beats tenant admin", bucket: denyAllBucket, req: req(admin1, getObj, obj), reason: "explicit deny"},
		{name: "bucket deny beats root", bucket: denyAllBucket, req: req(root, getObj, obj), reason: "explicit deny"},
		{name: "root recovers bucket policy despite deny", bucket: denyAllBucket, req: req(root, "s3:DeleteBucketPolicy", bkt), allowed: true, reason: "root"},
		{name: "admin recovers own bucket policy", bucket: denyAllBucket, req: req(admin1, "s3:PutBucketPolicy", bkt), allowed: true},
		{name: "other tenant admin gets no recovery", bucket: denyAllBucket, req: req(admin2, "s3:PutBucketPolicy", bkt)},
		{name: "user gets no recovery", identity: []string{allowS3AllB1}, bucket: denyAllBucket, req: req(alice, "s3:GetBucketPolicy", bkt)},
		{name: "deny on insecure transport", identity: []string{allowS3AllB1}, bucket: denyInsecure, req: req(alice, getObj, obj, "aws:SecureTransport", "false"), reason: "DenyHTTP"},
		{name: "secure transport passes deny", identity: []string{allowS3AllB1}, bucket: denyInsecure, req: req(alice, getObj, obj), allowed: true},
		// Root and admins.
		{name: "root allowed everything", req: req(root, "s3:DeleteBucket", bkt2), allowed: true, reason: "root"},
		{name: "root identity policies ignored", identity: []string{denyDeleteAll}, req: req(root, "s3:DeleteObject", obj), allowed: true},
		{name: "admin allowed own bucket", req: req(admin1, "s3:DeleteObject", obj), allowed: true, reason: "administrator"},
		{name: "admin denied by own identity deny", identity: []string{denyDeleteAll}, req: req(admin1, "s3:DeleteObject", obj)},
		{name: "admin not allowed other tenant bucket", req: req(admin2, getObj, obj), reason: "implicit deny"},
		{name: "admin cross-tenant with grant", bucket: grantT2Get, req: req(admin2, getObj, obj), allowed: true, reason: "cross-tenant"},
		{name: "admin creates bucket", req: req(admin1, "s3:CreateBucket", ""), allowed: true},
		{name: "user cannot create bucket by default", req: req(alice, "s3:CreateBucket", "")},
		{name: "user lists buckets with identity", identity: []string{id(st("Allow", `"Action":"s3:ListAllMyBuckets"`, `"Resource":"*"`))}, req: req(alice, "s3:ListAllMyBuckets", ""), allowed: true},
		{name: "list buckets with s3 star resource", identity: []string{id(st("Allow", `"Action":"s3:ListAllMyBuckets"`, `"Resource":"arn:aws:s3:::*"`))}, req: req(alice, "s3:ListAllMyBuckets", ""), allowed: true},
		{name: "list buckets not covered by bucket resource", identity: []string{id(st("Allow", `"Action":"s3:ListAllMyBuckets"`, `"Resource":"arn:aws:s3:::b*"`))}, req: req(alice, "s3:ListAllMyBuckets", "")},
		{name: "admin identity deny binds recovery action", identity: []string{id(st("Deny", `"Action":"s3:PutBucketPolicy"`, `"Resource":"*"`))}, req: req(admin1, "s3:PutBucketPolicy", bkt), reason: "explicit deny in identity policy"},
		{name: "authenticated principal without tenant invalid", acl: ACLAllow, req: req(Principal{User: "ghost"}, getObj, obj), reason: "invalid principal"},
		{name: "root with tenant invalid", req: req(Principal{Root: true, Tenant: "t1"}, getObj, obj), reason: "invalid principal"},
		{name: "bucket policy irrelevant without bucket owner", bucket: publicRead, req: req(alice, "s3:ListAllMyBuckets", "")},
		// Same tenant: identity OR bucket policy OR ACL.
		{name: "same tenant bucket policy alone", bucket: grantBobByARN, req: req(bob, "s3:PutObject", obj), allowed: true, reason: "bucket policy"},
		{name: "same tenant bucket policy other user", bucket: grantBobByARN, req: req(alice, "s3:PutObject", obj)},
		{name: "same tenant ACL alone", acl: ACLAllow, req: req(alice, getObj, obj), allowed: true, reason: "ACL"},
		{name: "canonical user principal", bucket: grantCanonical, req: req(bob, getObj, obj), allowed: true},
		{name: "canonical user principal other", bucket: grantCanonical, req: req(alice, getObj, obj)},
		{name: "NotPrincipal deny spares alice", identity: []string{allowGetAll}, bucket: notPrincipal, req: req(alice, getObj, obj), allowed: true},
		{name: "NotPrincipal deny hits bob", identity: []string{allowGetAll}, bucket: notPrincipal, req: req(bob, getObj, obj), reason: "OnlyAlice"},
		{name: "NotPrincipal deny hits anonymous", bucket: notPrincipal, acl: ACLAllow, req: req(anon, getObj, obj)},
		// Cross tenant: both sides.
		{name: "cross-tenant both sides", identity: []string{carolGetAll}, bucket: grantT2Get, req: req(carol, getObj, obj), allowed: true, reason: "cross-tenant by bucket policy"},
		{name: "cross-tenant bucket side only", bucket: grantT2Get, req: req(carol, getObj, obj), reason: "identity"},
		{name: "cross-tenant identity side only", identity: []string{carolGetAll}, req: req(carol, getObj, obj), reason: "bucket owner"},
		{name: "cross-tenant ACL and identity", identity: []string{carolGetAll}, acl: ACLAllow, req: req(carol, getObj, obj), allowed: true, reason: "ACL"},
		{name: "cross-tenant ACL alone", acl: ACLAllow, req: req(carol, getObj, obj)},
		{name: "cross-tenant grant to other tenant", identity: []string{carolGetAll}, bucket: grantT2Get, req: req(Principal{Tenant: "t3", User: "eve", ARN: "arn:coffer:iam::t3:user/eve"}, getObj, obj)},
		{name: "cross-tenant root ARN principal", identity: []string{id(st("Allow", `"Action":"s3:ListBucket"`, `"Resource":"*"`))}, bucket: grantT2Root, req: req(carol, "s3:ListBucket", bkt), allowed: true},
		{name: "cross-tenant explicit deny by user ARN", identity: []string{carolGetAll}, bucket: denyGetCarol, acl: ACLAllow, req: req(carol, getObj, obj), reason: "NoCarol"},
		{name: "tenant id spoof via context ignored", identity: []string{carolGetAll}, bucket: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*","Condition":{"StringEquals":{"aws:PrincipalAccount":"t1"}}}]}`, req: req(carol, getObj, obj, "aws:PrincipalAccount", "t1")},
		{name: "principal account condition matches own tenant", bucket: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*","Condition":{"StringEquals":{"aws:PrincipalAccount":"t1"}}}]}`, req: req(bob, getObj, obj), allowed: true},
		// Anonymous.
		{name: "anonymous public bucket policy", bucket: publicRead, req: req(anon, getObj, obj), allowed: true, reason: "anonymous"},
		{name: "anonymous AWS star principal", bucket: publicReadAWS, req: req(anon, getObj, obj), allowed: true},
		{name: "anonymous public policy wrong action", bucket: publicRead, req: req(anon, "s3:PutObject", obj)},
		{name: "anonymous ACL public-read", acl: ACLAllow, req: req(anon, getObj, obj), allowed: true, reason: "ACL"},
		{name: "anonymous private", req: req(anon, getObj, obj), reason: "implicit deny"},
		{name: "anonymous identity policies ignored", identity: []string{allowGetAll}, req: req(anon, getObj, obj)},
		{name: "anonymous tenant-id grant does not match", bucket: grantT2Get, req: req(anon, getObj, obj)},
		{name: "anonymous with identity fields invalid", acl: ACLAllow, req: req(Principal{Anonymous: true, Tenant: "t1"}, getObj, obj), reason: "invalid principal"},
		{name: "empty action invalid", identity: []string{allowGetAll}, req: req(alice, "", obj), reason: "invalid request"},
	})
}

func TestEvaluateMatching(t *testing.T) {
	runEvalCases(t, []evalCase{
		// Action wildcards and case.
		{name: "action wildcard prefix", identity: []string{id(st("Allow", `"Action":"s3:Get*"`, `"Resource":"*"`))}, req: req(alice, "s3:GetObjectTagging", obj), allowed: true},
		{name: "action question mark", identity: []string{id(st("Allow", `"Action":"s3:?etObject"`, `"Resource":"*"`))}, req: req(alice, getObj, obj), allowed: true},
		{name: "action case-insensitive", identity: []string{id(st("Allow", `"Action":"S3:getobject"`, `"Resource":"*"`))}, req: req(alice, getObj, obj), allowed: true},
		{name: "action star", identity: []string{id(st("Allow", `"Action":"*"`, `"Resource":"*"`))}, req: req(alice, "s3:PutBucketTagging", bkt), allowed: true},
		{name: "action other service", identity: []string{id(st("Allow", `"Action":"iam:*"`, `"Resource":"*"`))}, req: req(alice, getObj, obj)},
		{name: "NotAction allows the rest", identity: []string{id(st("Allow", `"NotAction":"s3:Delete*"`, `"Resource":"*"`))}, req: req(alice, "s3:PutObject", obj), allowed: true},
		{name: "NotAction excludes", identity: []string{id(st("Allow", `"NotAction":["s3:Delete*","s3:Put*"]`, `"Resource":"*"`))}, req: req(alice, "s3:DeleteObject", obj)},
		{name: "NotAction deny", identity: []string{allowS3AllB1, id(st("Deny", `"NotAction":"s3:Get*"`, `"Resource":"*"`))}, req: req(alice, "s3:PutObject", obj), reason: "explicit deny"},
		// Resource wildcards.
		{name: "resource prefix", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::b1/docs/*"`))}, req: req(alice, getObj, obj), allowed: true},
		{name: "resource prefix miss", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::b1/img/*"`))}, req: req(alice, getObj, obj)},
		{name: "resource star crosses slash", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::b1/*.pdf"`))}, req: req(alice, getObj, obj), allowed: true},
		{name: "resource bucket only does not cover objects", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::b1"`))}, req: req(alice, getObj, obj)},
		{name: "resource question mark", identity: []string{id(st("Allow", `"Action":"s3:ListBucket"`, `"Resource":"arn:aws:s3:::b?"`))}, req: req(alice, "s3:ListBucket", bkt), allowed: true},
		{name: "resource case-sensitive", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::B1/*"`))}, req: req(alice, getObj, obj)},
		{name: "NotResource allows elsewhere", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"NotResource":"arn:aws:s3:::b1/secret/*"`))}, req: req(alice, getObj, obj), allowed: true},
		{name: "NotResource excludes", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"NotResource":"arn:aws:s3:::b1/docs/*"`))}, req: req(alice, getObj, obj)},
		{name: "NotResource deny outside home", identity: []string{allowS3AllB1, id(st("Deny", `"Action":"s3:*"`, `"NotResource":"arn:aws:s3:::b1/home/*"`))}, req: req(alice, getObj, obj), reason: "explicit deny"},
		// Policy variables.
		{name: "variable username in resource", identity: []string{id(st("Allow", `"Action":"s3:*"`, `"Resource":"arn:aws:s3:::b1/home/${aws:username}/*"`))}, req: req(alice, getObj, "arn:aws:s3:::b1/home/alice/a.txt"), allowed: true},
		{name: "variable username other home", identity: []string{id(st("Allow", `"Action":"s3:*"`, `"Resource":"arn:aws:s3:::b1/home/${aws:username}/*"`))}, req: req(alice, getObj, "arn:aws:s3:::b1/home/bob/a.txt")},
		{name: "variable ignored under 2008", identity: []string{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b1/home/${aws:username}/*"}]}`}, req: req(alice, getObj, "arn:aws:s3:::b1/home/alice/a.txt")},
		{name: "variable tenant in resource", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::${aws:PrincipalAccount}-*"`))}, req: req(alice, getObj, "arn:aws:s3:::t1-logs"), allowed: true},
		{name: "variable value is literal", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::b1/home/${aws:username}/x"`))}, req: req(Principal{Tenant: "t1", User: "*"}, getObj, "arn:aws:s3:::b1/home/alice/x")},
		{name: "variable missing does not match", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::b1/${s3:x-custom}/*"`))}, req: req(alice, getObj, obj)},
		{name: "variable default", identity: []string{id(st("Allow", `"Action":"s3:GetObject"`, `"Resource":"arn:aws:s3:::b1/${s3:x-custom, 'docs'}/*"`))}, req: req(alice, getObj, obj), allowed: true},
		{name: "variable missing in NotResource deny fails closed", identity: []string{allowS3AllB1, id(st("Deny", `"Action":"s3:*"`, `"NotResource":"arn:aws:s3:::b1/${s3:x-custom}/*"`))}, req: req(alice, getObj, obj), reason: "explicit deny"},
		{name: "variable in condition value", identity: []string{id(st("Allow", `"Action":"s3:ListBucket"`, `"Resource":"arn:aws:s3:::b1"`, `"Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}`))}, req: req(alice, "s3:ListBucket", bkt, "s3:prefix", "home/alice/photos/"), allowed: true},
		{name: "variable in condition value other user", identity: []string{id(st("Allow", `"Action":"s3:ListBucket"`, `"Resource":"arn:aws:s3:::b1"`, `"Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}`))}, req: req(bob, "s3:ListBucket", bkt, "s3:prefix", "home/alice/")},
		{name: "variable userid in StringEquals", identity: []string{id(st("Allow", `"Action":"s3:PutObject"`, `"Resource":"*"`, `"Condition":{"StringEquals":{"s3:x-amz-meta-owner":"${aws:userid}"}}`))}, req: req(alice, "s3:PutObject", obj, "s3:x-amz-meta-owner", "c-alice"), allowed: true},
	})
}

func BenchmarkEvaluate(b *testing.B) {
	ids := []*Policy{mustParse(b, allowS3AllB1), mustParse(b, denyDeleteAll)}
	bp := mustParse(b, denyInsecure)
	r := req(alice, getObj, obj, "s3:prefix", "home/alice/")
	for b.Loop() {
		if d := Evaluate(r, ids, bp, ACLNone); !d.Allowed {
			b.Fatal(d.Reason)
		}
	}
}

func mustParse(tb testing.TB, doc string) *Policy {
	tb.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
