package acl

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

var (
	alice = Owner{ID: "alice-id", DisplayName: "alice"}
	bob   = Owner{ID: "bob-id", DisplayName: "bob"}
)

func ug(o Owner, perm string) Grant { return userGrant(o, perm) }
func gg(uri, perm string) Grant     { return groupGrant(uri, perm) }

func TestCanned(t *testing.T) {
	type tc struct {
		name        string
		r           Resource
		owner, bown Owner
		want        []Grant
	}
	full := ug(alice, FullControl)
	tests := []tc{
		// Buckets: the bucket owner argument is ignored.
		{CannedPrivate, Bucket, alice, bob, []Grant{full}},
		{CannedPublicRead, Bucket, alice, bob, []Grant{full, gg(AllUsers, Read)}},
		{CannedPublicReadWrite, Bucket, alice, bob, []Grant{full, gg(AllUsers, Read), gg(AllUsers, Write)}},
		{CannedAuthenticatedRead, Bucket, alice, bob, []Grant{full, gg(AuthenticatedUsers, Read)}},
		{CannedBucketOwnerRead, Bucket, alice, bob, []Grant{full}},
		{CannedBucketOwnerFullControl, Bucket, alice, bob, []Grant{full}},
		{CannedLogDeliveryWrite, Bucket, alice, bob, []Grant{full, gg(LogDelivery, Write), gg(LogDelivery, ReadACP)}},
		{CannedAWSExecRead, Bucket, alice, bob, []Grant{full}},
		// Objects in a bucket owned by someone else.
		{CannedPrivate, Object, alice, bob, []Grant{full}},
		{CannedPublicRead, Object, alice, bob, []Grant{full, gg(AllUsers, Read)}},
		{CannedPublicReadWrite, Object, alice, bob, []Grant{full, gg(AllUsers, Read), gg(AllUsers, Write)}},
		{CannedAuthenticatedRead, Object, alice, bob, []Grant{full, gg(AuthenticatedUsers, Read)}},
		{CannedBucketOwnerRead, Object, alice, bob, []Grant{full, ug(bob, Read)}},
		{CannedBucketOwnerFullControl, Object, alice, bob, []Grant{full, ug(bob, FullControl)}},
		{CannedLogDeliveryWrite, Object, alice, bob, []Grant{full, gg(LogDelivery, Write), gg(LogDelivery, ReadACP)}},
		{CannedAWSExecRead, Object, alice, bob, []Grant{full}},
		// Objects in the writer's own bucket: no duplicate grant.
		{CannedPrivate, Object, alice, alice, []Grant{full}},
		{CannedPublicRead, Object, alice, alice, []Grant{full, gg(AllUsers, Read)}},
		{CannedBucketOwnerRead, Object, alice, alice, []Grant{full}},
		{CannedBucketOwnerFullControl, Object, alice, alice, []Grant{full}},
		{CannedBucketOwnerFullControl, Object, alice, Owner{}, []Grant{full}},
	}
	for _, tt := range tests {
		a, err := Canned(tt.name, tt.r, tt.owner, tt.bown)
		if err != nil {
			t.Errorf("Canned(%q, %v): %v", tt.name, tt.r, err)
			continue
		}
		if a.Owner != tt.owner {
			t.Errorf("Canned(%q, %v) owner = %v", tt.name, tt.r, a.Owner)
		}
		if !reflect.DeepEqual(a.Grants, tt.want) {
			t.Errorf("Canned(%q, %v, bucket owner %s) =\n %v\nwant\n %v", tt.name, tt.r, tt.bown.ID, a.Grants, tt.want)
		}
		if err := a.Validate(); err != nil {
			t.Errorf("Canned(%q) does not validate: %v", tt.name, err)
		}
	}
	for _, bad := range []string{"", "Private", "public", "public-read ", "bucket-owner", strings.Repeat("x", 500)} {
		if _, err := Canned(bad, Bucket, alice, alice); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Canned(%q) = %v, want InvalidArgument", bad, err)
		} else if len(err.Error()) > 200 {
			t.Errorf("Canned(%q) echoes too much: %d bytes", bad, len(err.Error()))
		}
	}
}

func TestParseGrantHeader(t *testing.T) {
	id64 := strings.Repeat("a", 64)
	tests := []struct {
		in   string
		want []Grant
		err  error
	}{
		{`id="` + id64 + `"`, []Grant{{Grantee{Type: TypeCanonicalUser, ID: id64}, Read}}, nil},
		{`id=` + id64, []Grant{{Grantee{Type: TypeCanonicalUser, ID: id64}, Read}}, nil},
		{`ID="x"`, []Grant{{Grantee{Type: TypeCanonicalUser, ID: "x"}, Read}}, nil},
		{`uri="` + AllUsers + `"`, []Grant{gg(AllUsers, Read)}, nil},
		{`  uri = "` + AuthenticatedUsers + `" ,id="b" `, []Grant{gg(AuthenticatedUsers, Read), {Grantee{Type: TypeCanonicalUser, ID: "b"}, Read}}, nil},
		{`uri="` + LogDelivery + `", id="a", id="b"`, []Grant{gg(LogDelivery, Read), {Grantee{Type: TypeCanonicalUser, ID: "a"}, Read}, {Grantee{Type: TypeCanonicalUser, ID: "b"}, Read}}, nil},
		// Malformed.
		{`emailAddress="x@example.com"`, nil, ErrUnresolvableGrantByEmail},
		{`EMAILADDRESS="x@example.com"`, nil, ErrUnresolvableGrantByEmail},
		{`id=""`, nil, ErrInvalidArgument},
		{`id="a b"`, nil, ErrInvalidArgument},
		{`id="` + strings.Repeat("a", MaxIDLength+1) + `"`, nil, ErrInvalidArgument},
		{`id="abc`, nil, ErrInvalidArgument},
		{`id="a",`, nil, ErrInvalidArgument},
		{`,id="a"`, nil, ErrInvalidArgument},
		{`id="a" id="b"`, nil, ErrInvalidArgument},
		{`id="a";id="b"`, nil, ErrInvalidArgument},
		{`id`, nil, ErrInvalidArgument},
		{`="a"`, nil, ErrInvalidArgument},
		{`name="a"`, nil, ErrInvalidArgument},
		{`uri="http://acs.amazonaws.com/groups/global/Everyone"`, nil, ErrInvalidArgument},
		{`uri="https://acs.amazonaws.com/groups/global/AllUsers"`, nil, ErrInvalidArgument},
		{`id=a"b`, nil, ErrInvalidArgument},
		{`id=a b`, nil, ErrInvalidArgument},
		{" ", nil, ErrInvalidArgument},
		{`id="` + "\x00" + `"`, nil, ErrInvalidArgument},
		{strings.Repeat(`id="a",`, MaxGrants) + `id="a"`, nil, ErrInvalidArgument},
	}
	for _, tt := range tests {
		got, err := ParseGrantHeader(tt.in, Read)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseGrantHeader(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseGrantHeader(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseGrantHeader(`id="a"`, "READ_WRITE"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown permission: %v", err)
	}
}

func headers(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestParseHeaders(t *testing.T) {
	// No ACL at all.
	if a, err := ParseHeaders(headers(), Object, alice, bob); a != nil || err != nil {
		t.Fatalf("no headers: %v, %v", a, err)
	}
	// Canned.
	a, err := ParseHeaders(headers("x-amz-acl", "public-read"), Object, alice, bob)
	if err != nil || !reflect.DeepEqual(a.Grants, []Grant{ug(alice, FullControl), gg(AllUsers, Read)}) {
		t.Fatalf("canned: %v, %v", a, err)
	}
	if _, err := ParseHeaders(headers("x-amz-acl", "nope"), Object, alice, bob); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown canned: %v", err)
	}
	// Every grant header, in the documented order; the owner is not added.
	a, err = ParseHeaders(headers(
		"x-amz-grant-full-control", `id="f"`,
		"x-amz-grant-write-acp", `id="wa"`,
		"x-amz-grant-read-acp", `id="ra"`,
		"x-amz-grant-write", `uri="`+LogDelivery+`"`,
		"x-amz-grant-read", `uri="`+AllUsers+`", id="r"`,
	), Bucket, alice, alice)
	if err != nil {
		t.Fatal(err)
	}
	u := func(id, p string) Grant { return Grant{Grantee{Type: TypeCanonicalUser, ID: id}, p} }
	want := []Grant{gg(AllUsers, Read), u("r", Read), gg(LogDelivery, Write), u("ra", ReadACP), u("wa", WriteACP), u("f", FullControl)}
	if a.Owner != alice || !reflect.DeepEqual(a.Grants, want) {
		t.Fatalf("grant headers = %+v\nwant %+v", a, want)
	}
	if a.Allows(Requester{CanonicalID: alice.ID}, Write) || !a.Allows(Requester{CanonicalID: alice.ID}, WriteACP) {
		t.Fatal("grant headers: owner must keep only implicit ACP rights")
	}
	// Canned plus grants.
	for _, h := range GrantHeaderNames() {
		if _, err := ParseHeaders(headers("x-amz-acl", "private", h, `id="x"`), Bucket, alice, alice); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("canned + %s: %v", h, err)
		}
	}
	// Malformed grant header.
	if _, err := ParseHeaders(headers("x-amz-grant-read", `id=`), Bucket, alice, alice); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("malformed: %v", err)
	}
	// More than MaxGrants across headers.
	many := strings.TrimSuffix(strings.Repeat(`id="a",`, 60), ",")
	if _, err := ParseHeaders(headers("x-amz-grant-read", many, "x-amz-grant-write", many), Bucket, alice, alice); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("too many grants: %v", err)
	}
}
