package acl

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

const awsID = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestXMLGolden checks rendering byte for byte against hand-written goldens
// shaped after the S3 API reference, and that parsing inverts rendering.
func TestXMLGolden(t *testing.T) {
	awsOwner := Owner{ID: awsID, DisplayName: "CustomersName@amazon.com"}
	other := Owner{ID: "other&<id>", DisplayName: "A & B"}
	owner := Owner{ID: "owner-id"}
	tests := []struct {
		golden string
		acl    *ACL
	}{
		{"testdata/get-bucket-acl.golden.xml", &ACL{Owner: awsOwner, Grants: []Grant{ug(awsOwner, FullControl)}}},
		{"testdata/groups.golden.xml", &ACL{Owner: owner, Grants: []Grant{
			ug(owner, FullControl), gg(AllUsers, Read), gg(AuthenticatedUsers, Write),
			gg(LogDelivery, ReadACP), ug(other, WriteACP),
		}}},
	}
	for _, tt := range tests {
		want := readFile(t, tt.golden)
		if got := tt.acl.XML(); !bytes.Equal(got, want) {
			t.Errorf("%s: render mismatch\n got: %s\nwant: %s", tt.golden, got, want)
		}
		parsed, err := ParseXML(bytes.NewReader(want))
		if err != nil {
			t.Fatalf("%s: %v", tt.golden, err)
		}
		if !reflect.DeepEqual(parsed, tt.acl) {
			t.Errorf("%s: parsed %+v\nwant %+v", tt.golden, parsed, tt.acl)
		}
	}
}

// TestParseAWSExample parses the indented example of the GetBucketAcl API
// reference, as a client would send it to PutBucketAcl.
func TestParseAWSExample(t *testing.T) {
	a, err := ParseXML(bytes.NewReader(readFile(t, "testdata/get-bucket-acl.aws-example.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.XML(), readFile(t, "testdata/get-bucket-acl.golden.xml")) {
		t.Fatalf("example does not render as the golden: %s", a.XML())
	}
	if err := CheckOwner(a, Owner{ID: awsID}); err != nil {
		t.Fatal(err)
	}
	if err := CheckOwner(a, alice); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("foreign owner: %v", err)
	}
}

func policy(owner, grants string) string {
	return `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + owner +
		`<AccessControlList>` + grants + `</AccessControlList></AccessControlPolicy>`
}

const xsi = `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`

func grantXML(typ, inner, perm string) string {
	return `<Grant><Grantee ` + xsi + ` xsi:type="` + typ + `">` + inner + `</Grantee><Permission>` + perm + `</Permission></Grant>`
}

func TestParseXMLVariants(t *testing.T) {
	own := `<Owner><ID>alice-id</ID></Owner>`
	// No AccessControlList: an owner-only ACL.
	a, err := ParseXML(strings.NewReader(`<AccessControlPolicy><Owner><ID>alice-id</ID></Owner></AccessControlPolicy>`))
	if err != nil || a.Owner.ID != "alice-id" || len(a.Grants) != 0 {
		t.Fatalf("no list: %+v, %v", a, err)
	}
	// Without the S3 namespace, with the type attribute unprefixed, with
	// irrelevant fields that are dropped.
	a, err = ParseXML(strings.NewReader(`<AccessControlPolicy>` + own + `<AccessControlList>` +
		`<Grant><Grantee type="Group"><URI>` + AllUsers + `</URI><ID>junk</ID></Grantee><Permission>READ</Permission></Grant>` +
		grantXML("CanonicalUser", "<ID>bob-id</ID><URI>junk</URI>", "WRITE") +
		`</AccessControlList></AccessControlPolicy><!-- trailing comment -->`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Grant{gg(AllUsers, Read), {Grantee{Type: TypeCanonicalUser, ID: "bob-id"}, Write}}
	if !reflect.DeepEqual(a.Grants, want) {
		t.Fatalf("got %+v want %+v", a.Grants, want)
	}
	// Exactly MaxGrants grants is fine.
	g := strings.Repeat(grantXML("CanonicalUser", "<ID>x</ID>", "READ"), MaxGrants)
	if a, err := ParseXML(strings.NewReader(policy(own, g))); err != nil || len(a.Grants) != MaxGrants {
		t.Fatalf("%d grants: %v", MaxGrants, err)
	}
}

func TestParseXMLErrors(t *testing.T) {
	own := `<Owner><ID>alice-id</ID></Owner>`
	user := grantXML("CanonicalUser", "<ID>bob-id</ID>", "READ")
	tests := []struct {
		name, body string
		err        error
	}{
		{"empty", "", ErrMalformedACL},
		{"not xml", "hello", ErrMalformedACL},
		{"truncated", policy(own, user)[:80], ErrMalformedACL},
		{"wrong root", `<AccessControlList>` + user + `</AccessControlList>`, ErrMalformedACL},
		{"no owner", policy("", user), ErrMalformedACL},
		{"empty owner id", policy(`<Owner><ID></ID></Owner>`, user), ErrMalformedACL},
		{"bad owner id", policy(`<Owner><ID>a b</ID></Owner>`, user), ErrInvalidArgument},
		{"no grantee", policy(own, `<Grant><Permission>READ</Permission></Grant>`), ErrMalformedACL},
		{"no xsi:type", policy(own, `<Grant><Grantee><ID>bob-id</ID></Grantee><Permission>READ</Permission></Grant>`), ErrMalformedACL},
		{"unknown type", policy(own, grantXML("Robot", "<ID>bob-id</ID>", "READ")), ErrMalformedACL},
		{"unknown permission", policy(own, grantXML("CanonicalUser", "<ID>bob-id</ID>", "READ_WRITE")), ErrMalformedACL},
		{"lower-case permission", policy(own, grantXML("CanonicalUser", "<ID>bob-id</ID>", "read")), ErrMalformedACL},
		{"missing permission", policy(own, grantXML("CanonicalUser", "<ID>bob-id</ID>", "")), ErrMalformedACL},
		{"empty grantee id", policy(own, grantXML("CanonicalUser", "", "READ")), ErrInvalidArgument},
		{"unknown group", policy(own, grantXML("Group", "<URI>http://acs.amazonaws.com/groups/global/Everyone</URI>", "READ")), ErrInvalidArgument},
		{"email", policy(own, grantXML("AmazonCustomerByEmail", "<EmailAddress>a@example.com</EmailAddress>", "READ")), ErrUnresolvableGrantByEmail},
		{"too many grants", policy(own, strings.Repeat(user, MaxGrants+1)), ErrMalformedACL},
		{"trailing element", policy(own, user) + "<x/>", ErrMalformedACL},
		{"trailing text", policy(own, user) + "junk", ErrMalformedACL},
		{"too large", policy(own, user) + strings.Repeat(" ", MaxXMLSize), ErrMalformedACL},
		{"entity", `<!DOCTYPE a [<!ENTITY x "alice-id">]>` + policy(`<Owner><ID>&x;</ID></Owner>`, user), ErrMalformedACL},
	}
	for _, tt := range tests {
		_, err := ParseXML(strings.NewReader(tt.body))
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: error = %v, want %v", tt.name, err, tt.err)
		}
	}
	readErr := errors.New("boom")
	if _, err := ParseXML(iotest.ErrReader(readErr)); !errors.Is(err, readErr) {
		t.Errorf("read error: %v", err)
	}
}

func TestRenderParseRoundTrip(t *testing.T) {
	for _, name := range []string{CannedPrivate, CannedPublicRead, CannedPublicReadWrite, CannedAuthenticatedRead,
		CannedBucketOwnerRead, CannedBucketOwnerFullControl, CannedLogDeliveryWrite, CannedAWSExecRead} {
		a, err := Canned(name, Object, alice, bob)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseXML(bytes.NewReader(a.XML()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: round trip %+v != %+v", name, b, a)
		}
	}
}
