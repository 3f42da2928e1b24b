package policy

import (
	"testing"
)

// cond is an identity policy allowing s3:* on everything under the given
// Condition block.
func cond(block string) []string {
	return []string{id(st("Allow", `"Action":"s3:*"`, `"Resource":"*"`, `"Condition":`+block))}
}

// denyCond is an identity policy allowing everything and denying s3:* on
// everything under the given Condition block.
func denyCond(block string) []string {
	return []string{allowS3AllB1, id(`{"Sid":"D","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":` + block + `}`)}
}

func TestEvaluateConditions(t *testing.T) {
	put := "s3:PutObject"
	retention := "s3:PutObjectRetention"
	runEvalCases(t, []evalCase{
		// String family.
		{name: "StringEquals match", identity: cond(`{"StringEquals":{"s3:x-amz-acl":"private"}}`), req: req(alice, put, obj, "s3:x-amz-acl", "private"), allowed: true},
		{name: "StringEquals miss", identity: cond(`{"StringEquals":{"s3:x-amz-acl":"private"}}`), req: req(alice, put, obj, "s3:x-amz-acl", "public-read")},
		{name: "StringEquals any of values", identity: cond(`{"StringEquals":{"s3:x-amz-server-side-encryption":["AES256","aws:kms"]}}`), req: req(alice, put, obj, "s3:x-amz-server-side-encryption", "aws:kms"), allowed: true},
		{name: "StringEquals absent key", identity: cond(`{"StringEquals":{"s3:x-amz-acl":"private"}}`), req: req(alice, put, obj)},
		{name: "StringEquals case-sensitive value", identity: cond(`{"StringEquals":{"s3:x-amz-acl":"Private"}}`), req: req(alice, put, obj, "s3:x-amz-acl", "private")},
		{name: "condition key case-insensitive", identity: cond(`{"StringEquals":{"S3:X-AMZ-ACL":"private"}}`), req: req(alice, put, obj, "s3:x-amz-acl", "private"), allowed: true},
		{name: "StringNotEquals deny on other value", identity: denyCond(`{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}`), req: req(alice, put, obj, "s3:x-amz-server-side-encryption", "aws:kms"), reason: "explicit deny"},
		{name: "StringNotEquals deny on absent key", identity: denyCond(`{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}`), req: req(alice, put, obj), reason: "explicit deny"},
		{name: "StringNotEquals passes matching value", identity: denyCond(`{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}`), req: req(alice, put, obj, "s3:x-amz-server-side-encryption", "AES256"), allowed: true},
		{name: "StringEqualsIgnoreCase", identity: cond(`{"StringEqualsIgnoreCase":{"s3:x-amz-acl":"PRIVATE"}}`), req: req(alice, put, obj, "s3:x-amz-acl", "private"), allowed: true},
		{name: "StringNotEqualsIgnoreCase", identity: cond(`{"StringNotEqualsIgnoreCase":{"s3:x-amz-acl":"PRIVATE"}}`), req: req(alice, put, obj, "s3:x-amz-acl", "private")},
		{name: "StringLike prefix", identity: cond(`{"StringLike":{"s3:prefix":"public/*"}}`), req: req(alice, "s3:ListBucket", bkt, "s3:prefix", "public/a/b"), allowed: true},
		{name: "StringLike miss", identity: cond(`{"StringLike":{"s3:prefix":"public/*"}}`), req: req(alice, "s3:ListBucket", bkt, "s3:prefix", "private/")},
		{name: "StringNotLike deny", identity: denyCond(`{"StringNotLike":{"s3:prefix":["home/*",""]}}`), req: req(alice, "s3:ListBucket", bkt, "s3:prefix", "etc/"), reason: "explicit deny"},
		{name: "StringNotLike pass", identity: denyCond(`{"StringNotLike":{"s3:prefix":["home/*",""]}}`), req: req(alice, "s3:ListBucket", bkt, "s3:prefix", "home/x"), allowed: true},
		{name: "StringEquals s3:delimiter", identity: cond(`{"StringEquals":{"s3:delimiter":"/"}}`), req: req(alice, "s3:ListBucket", bkt, "s3:delimiter", "/"), allowed: true},
		{name: "ExistingObjectTag", identity: cond(`{"StringEquals":{"s3:ExistingObjectTag/Project":"apollo"}}`), req: req(alice, getObj, obj, "s3:ExistingObjectTag/Project", "apollo"), allowed: true},
		{name: "ArnLike", identity: cond(`{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b1*"}}`), req: req(alice, getObj, obj, "aws:SourceArn", "arn:aws:s3:::b1-logs"), allowed: true},
		{name: "ArnNotEquals deny", identity: denyCond(`{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::b1"}}`), req: req(alice, getObj, obj, "aws:SourceArn", "arn:aws:s3:::b9"), reason: "explicit deny"},
		{name: "BinaryEquals", identity: cond(`{"BinaryEquals":{"s3:x-blob":"QUJD"}}`), req: req(alice, getObj, obj, "s3:x-blob", "QUJD"), allowed: true},
		// IP addresses.
		{name: "IpAddress IPv4 CIDR in", identity: cond(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), req: req(alice, getObj, obj), allowed: true},
		{name: "IpAddress IPv4 CIDR out", identity: cond(`{"IpAddress":{"aws:SourceIp":"192.168.0.0/16"}}`), req: req(alice, getObj, obj)},
		{name: "IpAddress single address", identity: cond(`{"IpAddress":{"aws:SourceIp":"10.1.2.3"}}`), req: req(alice, getObj, obj), allowed: true},
		{name: "IpAddress IPv6 CIDR in", identity: cond(`{"IpAddress":{"aws:SourceIp":["192.168.0.0/16","2001:db8::/32"]}}`), req: req(alice, getObj, obj, "aws:SourceIp", "2001:db8:1::5"), allowed: true},
		{name: "IpAddress IPv6 CIDR out", identity: cond(`{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`), req: req(alice, getObj, obj, "aws:SourceIp", "2001:db9::1")},
		{name: "IpAddress IPv4-mapped source", identity: cond(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), req: req(alice, getObj, obj, "aws:SourceIp", "::ffff:10.9.9.9"), allowed: true},
		{name: "IpAddress garbage source", identity: cond(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`), req: req(alice, getObj, obj, "aws:SourceIp", "not-an-ip")},
		{name: "NotIpAddress deny outside office", identity: denyCond(`{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}`), req: req(alice, getObj, obj), reason: "explicit deny"},
		{name: "NotIpAddress pass inside office", identity: denyCond(`{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}`), req: req(alice, getObj, obj, "aws:SourceIp", "192.0.2.77"), allowed: true},
		// Bool.
		{name: "Bool SecureTransport true", identity: cond(`{"Bool":{"aws:SecureTransport":"true"}}`), req: req(alice, getObj, obj), allowed: true},
		{name: "Bool SecureTransport false request", identity: cond(`{"Bool":{"aws:SecureTransport":true}}`), req: req(alice, getObj, obj, "aws:SecureTransport", "false")},
		{name: "Bool absent key", identity: cond(`{"Bool":{"aws:SecureTransport":"true"}}`), req: req(alice, getObj, obj, "aws:SecureTransport", "<absent>")},
		// Dates.
		{name: "DateLessThan CurrentTime before", identity: cond(`{"DateLessThan":{"aws:CurrentTime":"2026-12-31T00:00:00Z"}}`), req: req(alice, getObj, obj), allowed: true},
		{name: "DateLessThan CurrentTime after", identity: cond(`{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`), req: req(alice, getObj, obj)},
		{name: "DateGreaterThan", identity: cond(`{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01"}}`), req: req(alice, getObj, obj), allowed: true},
		{name: "DateGreaterThanEquals epoch value", identity: cond(`{"DateGreaterThanEquals":{"aws:EpochTime":1780272000}}`), req: req(alice, getObj, obj), allowed: true},
		{name: "DateLessThanEquals at instant", identity: cond(`{"DateLessThanEquals":{"aws:CurrentTime":"2026-06-01T02:00:00+02:00"}}`), req: req(alice, getObj, obj), allowed: true},
		{name: "DateEquals", identity: cond(`{"DateEquals":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}`), req: req(alice, getObj, obj), allowed: true},
		{name: "DateNotEquals", identity: cond(`{"DateNotEquals":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}`), req: req(alice, getObj, obj)},
		{name: "Date garbage request value", identity: cond(`{"DateLessThan":{"aws:CurrentTime":"2030-01-01"}}`), req: req(alice, getObj, obj, "aws:CurrentTime", "yesterday")},
		// Numbers.
		{name: "NumericLessThanEquals retention days within", identity: cond(`{"NumericLessThanEquals":{"s3:object-lock-remaining-retention-days":"30"}}`), req: req(alice, retention, obj, "s3:object-lock-remaining-retention-days", "30"), allowed: true},
		{name: "NumericLessThanEquals retention days over", identity: cond(`{"NumericLessThanEquals":{"s3:object-lock-remaining-retention-days":"30"}}`), req: req(alice, retention, obj, "s3:object-lock-remaining-retention-days", "31")},
		{name: "NumericGreaterThan deny long retention", identity: denyCond(`{"NumericGreaterThan":{"s3:object-lock-remaining-retention-days":3650}}`), req: req(alice, retention, obj, "s3:object-lock-remaining-retention-days", "4000"), reason: "explicit deny"},
		{name: "NumericLessThan max-keys", identity: cond(`{"NumericLessThan":{"s3:max-keys":"100"}}`), req: req(alice, "s3:ListBucket", bkt, "s3:max-keys", "99"), allowed: true},
		{name: "NumericGreaterThanEquals", identity: cond(`{"NumericGreaterThanEquals":{"s3:max-keys":"100"}}`), req: req(alice, "s3:ListBucket", bkt, "s3:max-keys", "99")},
		{name: "NumericEquals decimal", identity: cond(`{"NumericEquals":{"s3:max-keys":"10.0"}}`), req: req(alice, "s3:ListBucket", bkt, "s3:max-keys", "10"), allowed: true},
		{name: "NumericNotEquals", identity: cond(`{"NumericNotEquals":{"s3:max-keys":"10"}}`), req: req(alice, "s3:ListBucket", bkt, "s3:max-keys", "11"), allowed: true},
		{name: "Numeric garbage request value", identity: cond(`{"NumericLessThan":{"s3:max-keys":"100"}}`), req: req(alice, "s3:ListBucket", bkt, "s3:max-keys", "lots")},
		// Null.
		{name: "Null true on absent key", identity: cond(`{"Null":{"s3:x-amz-server-side-encryption":"true"}}`), req: req(alice, put, obj), allowed: true},
		{name: "Null true on present key", identity: cond(`{"Null":{"s3:x-amz-server-side-encryption":"true"}}`), req: req(alice, put, obj, "s3:x-amz-server-side-encryption", "AES256")},
		{name: "Null deny unencrypted", identity: denyCond(`{"Null":{"s3:x-amz-server-side-encryption":"true"}}`), req: req(alice, put, obj), reason: "explicit deny"},
		{name: "Null false on present", identity: cond(`{"Null":{"aws:SourceIp":false}}`), req: req(alice, put, obj), allowed: true},
		// IfExists.
		{name: "IfExists absent key holds", identity: cond(`{"StringEqualsIfExists":{"s3:x-amz-acl":"private"}}`), req: req(alice, put, obj), allowed: true},
		{name: "IfExists present key evaluated", identity: cond(`{"StringEqualsIfExists":{"s3:x-amz-acl":"private"}}`), req: req(alice, put, obj, "s3:x-amz-acl", "public-read")},
		{name: "NumericLessThanEqualsIfExists absent", identity: cond(`{"NumericLessThanEqualsIfExists":{"s3:max-keys":"10"}}`), req: req(alice, "s3:ListBucket", bkt), allowed: true},
		{name: "IpAddressIfExists absent", identity: cond(`{"IpAddressIfExists":{"aws:SourceIp":"192.0.2.0/24"}}`), req: req(alice, getObj, obj, "aws:SourceIp", "<absent>"), allowed: true},
		// Multi-valued keys.
		{name: "ForAnyValue match one", identity: cond(`{"ForAnyValue:StringEquals":{"s3:RequestObjectTagKeys":["project","team"]}}`), req: req(alice, put, obj, "s3:RequestObjectTagKeys", "owner|team"), allowed: true},
		{name: "ForAnyValue match none", identity: cond(`{"ForAnyValue:StringEquals":{"s3:RequestObjectTagKeys":["project","team"]}}`), req: req(alice, put, obj, "s3:RequestObjectTagKeys", "owner")},
		{name: "ForAnyValue absent", identity: cond(`{"ForAnyValue:StringEquals":{"s3:RequestObjectTagKeys":"team"}}`), req: req(alice, put, obj)},
		{name: "ForAllValues all in set", identity: cond(`{"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["project","team"]}}`), req: req(alice, put, obj, "s3:RequestObjectTagKeys", "team|project"), allowed: true},
		{name: "ForAllValues one outside", identity: cond(`{"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["project","team"]}}`), req: req(alice, put, obj, "s3:RequestObjectTagKeys", "team|owner")},
		{name: "ForAllValues absent holds", identity: cond(`{"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":"team"}}`), req: req(alice, put, obj), allowed: true},
		{name: "ForAllValues StringLike", identity: cond(`{"ForAllValues:StringLike":{"s3:RequestObjectTagKeys":"x-*"}}`), req: req(alice, put, obj, "s3:RequestObjectTagKeys", "x-a|x-b"), allowed: true},
		{name: "ForAnyValue StringNotEquals", identity: denyCond(`{"ForAnyValue:StringNotEquals":{"s3:RequestObjectTagKeys":["project","team"]}}`), req: req(alice, put, obj, "s3:RequestObjectTagKeys", "team|secret"), reason: "explicit deny"},
		{name: "ForAllValues StringNotEquals", identity: cond(`{"ForAllValues:StringNotEquals":{"s3:RequestObjectTagKeys":["secret"]}}`), req: req(alice, put, obj, "s3:RequestObjectTagKeys", "team|secret")},
		{name: "unqualified multi-valued any", identity: cond(`{"StringEquals":{"s3:RequestObjectTag/Class":"public"}}`), req: req(alice, put, obj, "s3:RequestObjectTag/Class", "x|public"), allowed: true},
		// Conjunction.
		{name: "all operators must hold", identity: cond(`{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`), req: req(alice, getObj, obj)},
		{name: "all keys must hold", identity: cond(`{"StringEquals":{"s3:x-amz-acl":"private","s3:signatureversion":"AWS4-HMAC-SHA256"}}`), req: req(alice, put, obj, "s3:x-amz-acl", "private", "s3:signatureversion", "AWS4-HMAC-SHA256"), allowed: true},
		{name: "all keys must hold miss", identity: cond(`{"StringEquals":{"s3:x-amz-acl":"private","s3:authType":"REST-HEADER"}}`), req: req(alice, put, obj, "s3:x-amz-acl", "private", "s3:authType", "REST-QUERY-STRING")},
		{name: "anonymous public read only over TLS", bucket: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b1/*","Condition":{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","fd00::/8"]}}}]}`, req: req(anon, getObj, obj), allowed: true},
	})
}

func TestConditionKeyExactCasePreferred(t *testing.T) {
	p, err := ParseIdentity([]byte(id(st("Allow", `"Action":"s3:*"`, `"Resource":"*"`, `"Condition":{"StringEquals":{"s3:ExistingObjectTag/Env":"prod"}}`))))
	if err != nil {
		t.Fatal(err)
	}
	r := req(alice, getObj, obj)
	r.Context["s3:ExistingObjectTag/env"] = []string{"dev"}
	r.Context["s3:ExistingObjectTag/Env"] = []string{"prod"}
	if d := Evaluate(r, []*Policy{p}, nil, ACLNone); !d.Allowed {
		t.Fatalf("exact-case key not preferred: %q", d.Reason)
	}
}
