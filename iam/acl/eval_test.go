package acl

import (
	"errors"
	"testing"
)

var allPerms = []string{Read, Write, ReadACP, WriteACP, FullControl}

// TestAllowsMatrix checks requester × grant × permission.
func TestAllowsMatrix(t *testing.T) {
	var (
		owner   = Requester{CanonicalID: "owner-id"}
		grantee = Requester{CanonicalID: "bob-id"}
		other   = Requester{CanonicalID: "carol-id"}
		anon    = Requester{Anonymous: true}
		// Anonymous requests never use the id they might carry.
		anonBob = Requester{CanonicalID: "bob-id", Anonymous: true}
		// A signed request without a canonical id matches no user grant.
		noID = Requester{}
	)
	requesters := map[string]Requester{"owner": owner, "grantee": grantee, "other": other, "anon": anon, "anonBob": anonBob, "noID": noID}
	bobG := func(p string) Grant { return Grant{Grantee{Type: TypeCanonicalUser, ID: "bob-id"}, p} }
	tests := []struct {
		name  string
		grant *Grant
		// who holds which permission, beyond the owner's implicit ACP.
		holders map[string][]string
	}{
		{"no grant", nil, nil},
		{"user READ", ptr(bobG(Read)), map[string][]string{"grantee": {Read}}},
		{"user WRITE", ptr(bobG(Write)), map[string][]string{"grantee": {Write}}},
		{"user READ_ACP", ptr(bobG(ReadACP)), map[string][]string{"grantee": {ReadACP}}},
		{"user WRITE_ACP", ptr(bobG(WriteACP)), map[string][]string{"grantee": {WriteACP}}},
		{"user FULL_CONTROL", ptr(bobG(FullControl)), map[string][]string{"grantee": allPerms}},
		{"AllUsers READ", ptr(gg(AllUsers, Read)), map[string][]string{
			"owner": {Read}, "grantee": {Read}, "other": {Read}, "anon": {Read}, "anonBob": {Read}, "noID": {Read}}},
		{"AllUsers FULL_CONTROL", ptr(gg(AllUsers, FullControl)), map[string][]string{
			"owner": allPerms, "grantee": allPerms, "other": allPerms, "anon": allPerms, "anonBob": allPerms, "noID": allPerms}},
		{"AuthenticatedUsers WRITE", ptr(gg(AuthenticatedUsers, Write)), map[string][]string{
			"owner": {Write}, "grantee": {Write}, "other": {Write}, "noID": {Write}}},
		{"LogDelivery FULL_CONTROL", ptr(gg(LogDelivery, FullControl)), nil},
	}
	for _, tt := range tests {
		a := &ACL{Owner: Owner{ID: "owner-id"}}
		if tt.grant != nil {
			a.Grants = []Grant{*tt.grant}
		}
		for rn, r := range requesters {
			for _, p := range allPerms {
				want := contains(tt.holders[rn], p) || (rn == "owner" && (p == ReadACP || p == WriteACP))
				if got := a.Allows(r, p); got != want {
					t.Errorf("%s: Allows(%s, %s) = %v, want %v", tt.name, rn, p, got, want)
				}
			}
			if a.Allows(r, "") || a.Allows(r, "read") {
				t.Errorf("%s: %s granted an invalid permission", tt.name, rn)
			}
		}
	}
	var nilACL *ACL
	if nilACL.Allows(owner, ReadACP) {
		t.Error("nil ACL grants")
	}
}

// TestIgnorePublicAcls runs the matrix of public grants with
// IgnorePublicAcls on and off.
func TestIgnorePublicAcls(t *testing.T) {
	a := &ACL{Owner: alice, Grants: []Grant{ug(alice, FullControl), gg(AllUsers, Read), gg(AuthenticatedUsers, Write), ug(bob, ReadACP)}}
	on := Settings{BucketOwner: alice, Ownership: ObjectWriter, PublicAccessBlock: PublicAccessBlock{IgnorePublicAcls: true}}
	off := Settings{BucketOwner: alice, Ownership: ObjectWriter}
	anon, carol, b := Requester{Anonymous: true}, Requester{CanonicalID: "carol-id"}, Requester{CanonicalID: bob.ID}
	tests := []struct {
		s    Settings
		r    Requester
		perm string
		want bool
	}{
		{off, anon, Read, true}, {on, anon, Read, false},
		{off, carol, Write, true}, {on, carol, Write, false},
		{off, carol, Read, true}, {on, carol, Read, false},
		{on, b, ReadACP, true}, {on, Requester{CanonicalID: alice.ID}, Write, true},
	}
	for i, tt := range tests {
		if got := tt.s.Allows(a, tt.r, tt.perm); got != tt.want {
			t.Errorf("%d: Allows(%+v, %s) = %v, want %v", i, tt.r, tt.perm, got, tt.want)
		}
	}
	if len(a.Grants) != 4 {
		t.Fatal("Effective modified the stored ACL")
	}
	if got := on.ForRead(a); got != a {
		t.Error("IgnorePublicAcls must not hide grants from reads")
	}
}

func TestIsPublic(t *testing.T) {
	for name, want := range map[string]bool{
		CannedPrivate: false, CannedPublicRead: true, CannedPublicReadWrite: true, CannedAuthenticatedRead: true,
		CannedBucketOwnerRead: false, CannedBucketOwnerFullControl: false, CannedLogDeliveryWrite: false, CannedAWSExecRead: false,
	} {
		a, _ := Canned(name, Object, alice, bob)
		if IsPublic(a) != want {
			t.Errorf("IsPublic(%s) = %v", name, !want)
		}
	}
	if IsPublic(nil) {
		t.Error("IsPublic(nil)")
	}
}

func TestPermission(t *testing.T) {
	tests := []struct {
		action     string
		bucket, ob string
	}{
		{"s3:ListBucket", Read, ""},
		{"s3:ListBucketVersions", Read, ""},
		{"s3:ListBucketMultipartUploads", Read, ""},
		{"S3:LISTBUCKET", Read, ""},
		{"s3:PutObject", Write, ""},
		{"s3:DeleteObject", Write, ""},
		{"s3:GetObject", "", Read},
		{"s3:GetObjectVersion", "", Read},
		{"s3:GetBucketAcl", ReadACP, ""},
		{"s3:GetObjectAcl", "", ReadACP},
		{"s3:GetObjectVersionAcl", "", ReadACP},
		{"s3:PutBucketAcl", WriteACP, ""},
		{"s3:PutObjectAcl", "", WriteACP},
		{"s3:PutObjectVersionAcl", "", WriteACP},
		{"s3:DeleteObjectVersion", "", ""},
		{"s3:PutBucketPolicy", "", ""},
		{"s3:DeleteBucket", "", ""},
		{"s3:PutBucketOwnershipControls", "", ""},
		{"s3:*", "", ""},
		{"ListBucket", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := Permission(tt.action, false); got != tt.bucket {
			t.Errorf("Permission(%q, bucket) = %q, want %q", tt.action, got, tt.bucket)
		}
		if got := Permission(tt.action, true); got != tt.ob {
			t.Errorf("Permission(%q, object) = %q, want %q", tt.action, got, tt.ob)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestValidateAndResolve(t *testing.T) {
	dir := map[string]string{"alice-id": "Alice", "bob-id": "Bob"}
	lookup := func(id string) (string, bool) { n, ok := dir[id]; return n, ok }
	a := &ACL{Owner: Owner{ID: "alice-id", DisplayName: "forged"}, Grants: []Grant{
		{Grantee{Type: TypeCanonicalUser, ID: "bob-id", DisplayName: "forged"}, Read}, gg(AllUsers, Read)}}
	r, err := a.Resolve(lookup)
	if err != nil || r.Owner.DisplayName != "Alice" || r.Grants[0].Grantee.DisplayName != "Bob" || r.Grants[1] != a.Grants[1] {
		t.Fatalf("Resolve = %+v, %v", r, err)
	}
	if a.Owner.DisplayName != "forged" || a.Grants[0].Grantee.DisplayName != "forged" {
		t.Fatal("Resolve modified its receiver")
	}
	for _, bad := range []*ACL{
		{Owner: Owner{ID: "nobody"}},
		{Owner: Owner{ID: "alice-id"}, Grants: []Grant{{Grantee{Type: TypeCanonicalUser, ID: "nobody"}, Read}}},
	} {
		if _, err := bad.Resolve(lookup); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Resolve(%+v) = %v", bad, err)
		}
	}
	tooMany := &ACL{Owner: alice, Grants: make([]Grant, MaxGrants+1)}
	for i := range tooMany.Grants {
		tooMany.Grants[i] = gg(AllUsers, Read)
	}
	for _, tt := range []struct {
		a    *ACL
		want error
	}{
		{&ACL{Owner: alice}, nil},
		{&ACL{}, ErrInvalidArgument},
		{tooMany, ErrMalformedACL},
		{&ACL{Owner: alice, Grants: []Grant{{Grantee{Type: TypeEmail}, Read}}}, ErrUnresolvableGrantByEmail},
		{&ACL{Owner: alice, Grants: []Grant{{Grantee{Type: "X", ID: "a"}, Read}}}, ErrMalformedACL},
		{&ACL{Owner: alice, Grants: []Grant{{Grantee{Type: TypeGroup, URI: "x"}, Read}}}, ErrInvalidArgument},
	} {
		err := tt.a.Validate()
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("Validate(%.80v) = %v, want %v", tt.a, err, tt.want)
		}
	}
}
