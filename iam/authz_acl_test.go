package iam

import (
	"context"
	"testing"

	"github.com/cofferstore/coffer/iam/acl"
)

// TestAuthorizerACLs: the ACL verdict the Authorizer feeds policy.Evaluate.
func TestAuthorizerACLs(t *testing.T) {
	owner := acl.Owner{ID: CanonicalID("own")}
	other := CanonicalID("oth")
	xmlOf := func(canned string, extra ...acl.Grant) []byte {
		a, err := acl.Canned(canned, acl.Object, owner, owner)
		if err != nil {
			t.Fatal(err)
		}
		a.Grants = append(a.Grants, extra...)
		return a.XML()
	}
	publicRead := xmlOf(acl.CannedPublicRead)
	toOther := xmlOf(acl.CannedPrivate, acl.Grant{Grantee: acl.Grantee{Type: acl.TypeCanonicalUser, ID: other}, Permission: acl.Read})
	anon := Principal{}
	user := Principal{Tenant: "own", User: "u", CanonicalID: owner.ID}                 // no policies
	otherAdmin := Principal{Tenant: "oth", User: "a", Admin: true, CanonicalID: other} // its own side allows
	otherUser := Principal{Tenant: "oth", User: "u", CanonicalID: other}               // its own side does not
	deny := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	cases := []struct {
		name      string
		p         Principal
		own       acl.Ownership
		ignore    bool
		objectACL []byte
		policy    []byte
		action    string
		allow     bool
	}{
		{"enforced ignores public-read", anon, acl.BucketOwnerEnforced, false, publicRead, nil, "s3:GetObject", false},
		{"default ownership ignores public-read", anon, "", false, publicRead, nil, "s3:GetObject", false},
		{"object writer honours public-read", anon, acl.ObjectWriter, false, publicRead, nil, "s3:GetObject", true},
		{"IgnorePublicAcls", anon, acl.ObjectWriter, true, publicRead, nil, "s3:GetObject", false},
		{"explicit deny beats ACL", anon, acl.ObjectWriter, false, publicRead, deny, "s3:GetObject", false},
		{"READ does not grant delete", anon, acl.ObjectWriter, false, publicRead, nil, "s3:DeleteObject", false},
		{"private object", anon, acl.ObjectWriter, false, xmlOf(acl.CannedPrivate), nil, "s3:GetObject", false},
		{"owner grant is not a policy for own users", user, acl.ObjectWriter, false, xmlOf(acl.CannedPrivate), nil, "s3:GetObject", false},
		{"own users still match AllUsers", user, acl.ObjectWriter, false, publicRead, nil, "s3:GetObject", true},
		{"cross-tenant grant with caller side", otherAdmin, acl.ObjectWriter, false, toOther, nil, "s3:GetObject", true},
		{"cross-tenant grant without caller side", otherUser, acl.ObjectWriter, false, toOther, nil, "s3:GetObject", false},
		{"cross-tenant grant under enforced", otherAdmin, acl.BucketOwnerEnforced, false, toOther, nil, "s3:GetObject", false},
	}
	a := &Authorizer{}
	for _, c := range cases {
		req := &Request{Principal: c.p, Action: c.action, Bucket: "b", Key: "k", BucketTenant: "own", BucketOwner: owner.ID,
			Ownership: c.own, IgnorePublicAcls: c.ignore, ObjectACL: c.objectACL, BucketPolicy: c.policy}
		err := a.Authorize(context.Background(), req)
		if (err == nil) != c.allow {
			t.Errorf("%s: allowed=%v, want %v (%v)", c.name, err == nil, c.allow, err)
		}
	}
}
