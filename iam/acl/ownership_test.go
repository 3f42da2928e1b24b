package acl

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestObjectOwner(t *testing.T) {
	tests := []struct {
		o      Ownership
		canned string
		want   Owner
	}{
		{BucketOwnerEnforced, "", alice},
		{BucketOwnerEnforced, CannedBucketOwnerFullControl, alice},
		{"", "", alice},
		{BucketOwnerPreferred, CannedBucketOwnerFullControl, alice},
		{BucketOwnerPreferred, CannedPrivate, bob},
		{BucketOwnerPreferred, "", bob},
		{ObjectWriter, CannedBucketOwnerFullControl, bob},
		{ObjectWriter, "", bob},
	}
	for _, tt := range tests {
		if got := ObjectOwner(tt.o, alice, bob, tt.canned); got != tt.want {
			t.Errorf("ObjectOwner(%q, %q) = %v, want %v", tt.o, tt.canned, got, tt.want)
		}
	}
}

func TestCheckWriteEnforced(t *testing.T) {
	s := Settings{BucketOwner: alice, Ownership: BucketOwnerEnforced}
	canned := func(name string, owner Owner, r Resource) *ACL {
		a, err := Canned(name, r, owner, alice)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	bobFull := &ACL{Owner: alice, Grants: []Grant{ug(alice, FullControl), ug(bob, FullControl)}}
	aliceFull := &ACL{Owner: alice, Grants: []Grant{ug(alice, FullControl)}}
	tests := []struct {
		name   string
		op     Op
		canned string
		a      *ACL
		want   error
	}{
		{"no acl", OpPutObject, "", nil, nil},
		{"no acl create", OpCreateBucket, "", nil, nil},
		{"bofc object", OpPutObject, CannedBucketOwnerFullControl, canned(CannedBucketOwnerFullControl, alice, Object), nil},
		{"bofc put acl", OpPutACL, CannedBucketOwnerFullControl, canned(CannedBucketOwnerFullControl, alice, Object), nil},
		{"private put acl", OpPutACL, CannedPrivate, canned(CannedPrivate, alice, Bucket), ErrACLNotSupported},
		{"private object", OpPutObject, CannedPrivate, canned(CannedPrivate, alice, Object), ErrACLNotSupported},
		{"public-read object", OpPutObject, CannedPublicRead, canned(CannedPublicRead, alice, Object), ErrACLNotSupported},
		{"xml owner full control", OpPutACL, "", aliceFull, nil},
		{"xml owner full + read", OpPutACL, "", &ACL{Owner: alice, Grants: []Grant{ug(alice, FullControl), ug(alice, Read)}}, nil},
		{"xml owner read only", OpPutACL, "", &ACL{Owner: alice, Grants: []Grant{ug(alice, Read)}}, ErrACLNotSupported},
		{"xml empty", OpPutACL, "", &ACL{Owner: alice}, ErrACLNotSupported},
		{"xml other user", OpPutACL, "", bobFull, ErrACLNotSupported},
		{"xml group", OpPutObject, "", &ACL{Owner: alice, Grants: []Grant{ug(alice, FullControl), gg(LogDelivery, Write)}}, ErrACLNotSupported},
		{"create private", OpCreateBucket, CannedPrivate, canned(CannedPrivate, alice, Bucket), nil},
		{"create bofc", OpCreateBucket, CannedBucketOwnerFullControl, canned(CannedBucketOwnerFullControl, alice, Bucket), nil},
		{"create public-read", OpCreateBucket, CannedPublicRead, canned(CannedPublicRead, alice, Bucket), ErrInvalidBucketACLWithOwnership},
		{"create grants other", OpCreateBucket, "", bobFull, ErrInvalidBucketACLWithOwnership},
	}
	for _, tt := range tests {
		err := s.CheckWrite(tt.op, tt.canned, tt.a)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: CheckWrite = %v, want %v", tt.name, err, tt.want)
		}
	}
	// An empty Ownership is the default, BucketOwnerEnforced.
	if err := (Settings{BucketOwner: alice}).CheckWrite(OpPutACL, CannedPublicRead, canned(CannedPublicRead, alice, Bucket)); !errors.Is(err, ErrACLNotSupported) {
		t.Errorf("default ownership: %v", err)
	}
}

func TestEnforcedIgnoresACLs(t *testing.T) {
	public, _ := Canned(CannedPublicReadWrite, Object, bob, alice)
	public.Grants = append(public.Grants, ug(Owner{ID: "carol-id"}, FullControl))
	s := Settings{BucketOwner: alice, Ownership: BucketOwnerEnforced}
	for _, r := range []Requester{{Anonymous: true}, {CanonicalID: "bob-id"}, {CanonicalID: "carol-id"}} {
		for _, p := range allPerms {
			if s.Allows(public, r, p) {
				t.Errorf("enforced: %+v granted %s", r, p)
			}
		}
	}
	for _, p := range allPerms {
		if !s.Allows(public, Requester{CanonicalID: alice.ID}, p) || !s.Allows(nil, Requester{CanonicalID: alice.ID}, p) {
			t.Errorf("enforced: bucket owner lacks %s", p)
		}
	}
	want := &ACL{Owner: alice, Grants: []Grant{ug(alice, FullControl)}}
	if got := s.ForRead(public); !reflect.DeepEqual(got, want) {
		t.Errorf("ForRead = %+v, want %+v", got, want)
	}
	if got := s.ForRead(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("ForRead(nil) = %+v", got)
	}
	// With ACLs enabled, the stored ACL decides and is what reads return.
	w := Settings{BucketOwner: alice, Ownership: ObjectWriter}
	if !w.Allows(public, Requester{Anonymous: true}, Write) || w.Allows(public, Requester{CanonicalID: alice.ID}, Read) == false {
		t.Error("ObjectWriter: stored ACL not applied")
	}
	if w.Allows(nil, Requester{CanonicalID: alice.ID}, Read) {
		t.Error("ObjectWriter: nil ACL grants")
	}
	if w.ForRead(public) != public {
		t.Error("ObjectWriter: ForRead must return the stored ACL")
	}
}

func TestCheckOwnership(t *testing.T) {
	s := Settings{BucketOwner: alice, Ownership: ObjectWriter}
	private, _ := Canned(CannedPrivate, Bucket, alice, alice)
	public, _ := Canned(CannedPublicRead, Bucket, alice, alice)
	tests := []struct {
		o    Ownership
		a    *ACL
		want error
	}{
		{BucketOwnerEnforced, private, nil},
		{BucketOwnerEnforced, nil, nil},
		{BucketOwnerEnforced, public, ErrInvalidBucketACLWithOwnership},
		{BucketOwnerPreferred, public, nil},
		{ObjectWriter, public, nil},
		{"Nobody", private, ErrMalformedXML},
		{"", private, ErrMalformedXML},
	}
	for _, tt := range tests {
		err := s.CheckOwnership(tt.o, tt.a)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("CheckOwnership(%q) = %v, want %v", tt.o, err, tt.want)
		}
	}
}

func TestOwnershipControlsXML(t *testing.T) {
	for _, o := range []Ownership{BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter} {
		b := OwnershipControlsXML(o)
		want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
			`<OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ObjectOwnership>` + string(o) + `</ObjectOwnership></Rule></OwnershipControls>`
		if string(b) != want {
			t.Errorf("render %s: %s", o, b)
		}
		got, err := ParseOwnershipControls(strings.NewReader(string(b)))
		if err != nil || got != o {
			t.Errorf("round trip %s: %v, %v", o, got, err)
		}
	}
	// The AWS API reference request body, indented.
	body := `<OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
	  <Rule>
	    <ObjectOwnership>BucketOwnerPreferred</ObjectOwnership>
	  </Rule>
	</OwnershipControls>`
	if o, err := ParseOwnershipControls(strings.NewReader(body)); err != nil || o != BucketOwnerPreferred {
		t.Errorf("AWS example: %v, %v", o, err)
	}
	for _, bad := range []string{
		"",
		`<OwnershipControls/>`,
		`<OwnershipControls><Rule></Rule></OwnershipControls>`,
		`<OwnershipControls><Rule><ObjectOwnership>bucketownerenforced</ObjectOwnership></Rule></OwnershipControls>`,
		`<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>`,
		`<Other><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></Other>`,
		`<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>` + strings.Repeat(" ", MaxXMLSize),
	} {
		if _, err := ParseOwnershipControls(strings.NewReader(bad)); !errors.Is(err, ErrMalformedXML) {
			t.Errorf("ParseOwnershipControls(%.60q) = %v", bad, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	s := DefaultSettings(alice)
	if s.Ownership != BucketOwnerEnforced || s.Ownership.ACLsEnabled() {
		t.Errorf("default ownership %q", s.Ownership)
	}
	if s.PublicAccessBlock != (PublicAccessBlock{true, true, true, true}) {
		t.Errorf("default PAB %+v", s.PublicAccessBlock)
	}
	if s.BucketOwner != alice {
		t.Error("owner")
	}
	for o, want := range map[Ownership]bool{BucketOwnerEnforced: true, BucketOwnerPreferred: true, ObjectWriter: true, "": false, "objectwriter": false} {
		if o.Valid() != want {
			t.Errorf("Valid(%q) = %v", o, !want)
		}
	}
}
