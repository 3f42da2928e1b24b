package acl

import (
	"errors"
	"strings"
	"testing"
)

func TestPublicAccessBlockXML(t *testing.T) {
	for _, p := range []PublicAccessBlock{{}, DefaultPublicAccessBlock(), {BlockPublicAcls: true}, {IgnorePublicAcls: true, RestrictPublicBuckets: true}} {
		b := p.XML()
		got, err := ParsePublicAccessBlock(strings.NewReader(string(b)))
		if err != nil || got != p {
			t.Errorf("round trip %+v: %+v, %v", p, got, err)
		}
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
		`<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls>` +
		`<BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets>` +
		`</PublicAccessBlockConfiguration>`
	if got := (PublicAccessBlock{BlockPublicAcls: true, BlockPublicPolicy: true}).XML(); string(got) != want {
		t.Errorf("render:\n got %s\nwant %s", got, want)
	}
	// Partial documents: absent elements are false.
	p, err := ParsePublicAccessBlock(strings.NewReader(`<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <IgnorePublicAcls>true</IgnorePublicAcls>
</PublicAccessBlockConfiguration>`))
	if err != nil || p != (PublicAccessBlock{IgnorePublicAcls: true}) {
		t.Errorf("partial: %+v, %v", p, err)
	}
	for _, bad := range []string{
		"",
		`<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>`,
		`<PublicAccessBlockConfiguration><BlockPublicAcls>TRUE</BlockPublicAcls></PublicAccessBlockConfiguration>`,
		`<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>`,
		`<PublicAccessBlock><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlock>`,
		`<PublicAccessBlockConfiguration/>` + strings.Repeat(" ", MaxXMLSize),
	} {
		if _, err := ParsePublicAccessBlock(strings.NewReader(bad)); !errors.Is(err, ErrMalformedXML) {
			t.Errorf("ParsePublicAccessBlock(%.60q) = %v", bad, err)
		}
	}
}

// TestBlockPublicAcls covers BlockPublicAcls on every ACL-setting request.
func TestBlockPublicAcls(t *testing.T) {
	block := Settings{BucketOwner: alice, Ownership: ObjectWriter, PublicAccessBlock: PublicAccessBlock{BlockPublicAcls: true}}
	open := Settings{BucketOwner: alice, Ownership: BucketOwnerPreferred}
	for _, name := range []string{CannedPrivate, CannedPublicRead, CannedPublicReadWrite, CannedAuthenticatedRead,
		CannedBucketOwnerRead, CannedBucketOwnerFullControl, CannedLogDeliveryWrite, CannedAWSExecRead} {
		a, _ := Canned(name, Object, bob, alice)
		for _, op := range []Op{OpCreateBucket, OpPutObject, OpPutACL} {
			err := block.CheckWrite(op, name, a)
			if IsPublic(a) != errors.Is(err, ErrAccessDenied) || (!IsPublic(a) && err != nil) {
				t.Errorf("BlockPublicAcls %s op %d: %v", name, op, err)
			}
			if err := open.CheckWrite(op, name, a); err != nil {
				t.Errorf("no block %s op %d: %v", name, op, err)
			}
		}
	}
	// Grants by header or XML are judged the same way.
	xmlPublic := &ACL{Owner: bob, Grants: []Grant{gg(AuthenticatedUsers, ReadACP)}}
	if err := block.CheckWrite(OpPutACL, "", xmlPublic); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("xml public: %v", err)
	}
	// BucketOwnerEnforced answers first: ACLs are not supported at all.
	enforced := Settings{BucketOwner: alice, Ownership: BucketOwnerEnforced, PublicAccessBlock: DefaultPublicAccessBlock()}
	if err := enforced.CheckWrite(OpPutACL, "", xmlPublic); !errors.Is(err, ErrACLNotSupported) {
		t.Errorf("enforced + block: %v", err)
	}
}

func TestPolicyPublicness(t *testing.T) {
	tests := []struct {
		principals []string
		restricted bool
		want       bool
	}{
		{[]string{"*"}, false, true},
		{[]string{"tenant-a", "*"}, false, true},
		{[]string{"*"}, true, false},
		{[]string{"tenant-a"}, false, false},
		{nil, false, false},
		{[]string{"arn:aws:iam::*:root"}, false, false},
	}
	for _, tt := range tests {
		if got := PolicyIsPublic(tt.principals, tt.restricted); got != tt.want {
			t.Errorf("PolicyIsPublic(%v, %v) = %v", tt.principals, tt.restricted, got)
		}
	}
	block := PublicAccessBlock{BlockPublicPolicy: true}
	if err := block.CheckPolicyWrite(true); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("BlockPublicPolicy public: %v", err)
	}
	if block.CheckPolicyWrite(false) != nil || (PublicAccessBlock{}).CheckPolicyWrite(true) != nil {
		t.Error("CheckPolicyWrite refused an allowed policy")
	}
	r := PublicAccessBlock{RestrictPublicBuckets: true}
	for _, tt := range []struct {
		p                     PublicAccessBlock
		public, same, applies bool
	}{
		{r, true, false, false}, {r, true, true, true}, {r, false, false, true},
		{PublicAccessBlock{}, true, false, true},
	} {
		if got := tt.p.PolicyGrantApplies(tt.public, tt.same); got != tt.applies {
			t.Errorf("PolicyGrantApplies(%+v, public=%v, same=%v) = %v", tt.p, tt.public, tt.same, got)
		}
	}
}
