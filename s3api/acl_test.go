package s3api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cofferstore/coffer/iam/acl"
)

// TestACLErrorsInTable proves every acl sentinel maps to a row of the S3
// error table with the status AWS documents.
func TestACLErrorsInTable(t *testing.T) {
	want := map[string]int{
		"MalformedACLError": 400, "MalformedXML": 400, "InvalidArgument": 400, "InvalidRequest": 400,
		"AccessDenied": 403, "AccessControlListNotSupported": 400,
		"InvalidBucketAclWithObjectOwnership": 400, "UnresolvableGrantByEmailAddress": 400,
	}
	for _, ae := range acl.AllErrors() {
		e, known := errorFor(aclError(ae))
		if !known || e.Code != ae.Code {
			t.Errorf("%s: mapped to %+v", ae.Code, e)
			continue
		}
		if _, ok := errorTable[ae.Code]; !ok {
			t.Errorf("%s: no row in errorTable", ae.Code)
		}
		if s, ok := want[ae.Code]; !ok || s != e.Status {
			t.Errorf("%s: status %d, want %d", ae.Code, e.Status, s)
		}
	}
	if e := errorTable["AccessControlListNotSupported"]; e.Status != http.StatusBadRequest {
		t.Errorf("AccessControlListNotSupported: %+v", e)
	}
}

func TestACLEndToEnd(t *testing.T) {
	ts := newTestServer(t)
	expectStatus(t, ts.do("PUT", "/bkt", ""), 200)
	// Default: BucketOwnerEnforced.
	expectError(t, ts.do("PUT", "/bkt/k", "x", "x-amz-acl", "public-read"), 400, "AccessControlListNotSupported")
	expectError(t, ts.do("PUT", "/bkt/k", "x", "x-amz-acl", "private"), 400, "AccessControlListNotSupported")
	expectStatus(t, ts.do("PUT", "/bkt/k", "x", "x-amz-acl", "bucket-owner-full-control"), 200)
	expectError(t, ts.do("PUT", "/bkt/k", "x", "x-amz-grant-read", `emailAddress="a@b.c"`), 400, "UnresolvableGrantByEmailAddress")
	res := ts.do("GET", "/bkt?ownershipControls", "")
	expectStatus(t, res, 200)
	if !strings.Contains(string(res.body), "BucketOwnerEnforced") {
		t.Fatalf("ownership: %s", res.body)
	}
	res = ts.do("GET", "/bkt?acl", "")
	expectStatus(t, res, 200)
	if !strings.Contains(string(res.body), "FULL_CONTROL") {
		t.Fatalf("bucket acl: %s", res.body)
	}
	expectError(t, ts.do("PUT", "/bkt?ownershipControls", "<OwnershipControls><Rule><ObjectOwnership>Nope</ObjectOwnership></Rule></OwnershipControls>"), 400, "MalformedXML")

	// ObjectWriter with Block Public Access on: public ACLs are refused.
	expectStatus(t, ts.do("PUT", "/bkt?ownershipControls", "<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>"), 200)
	expectError(t, ts.do("PUT", "/bkt/k", "x", "x-amz-acl", "public-read"), 403, "AccessDenied")
	expectStatus(t, ts.do("PUT", "/bkt/k", "x", "x-amz-acl", "authenticated-read", "x-amz-grant-read", `uri="http://acs.amazonaws.com/groups/global/AllUsers"`), 400)

	// Block Public Access off: public-read is stored and read back.
	expectStatus(t, ts.do("PUT", "/bkt?publicAccessBlock", "<PublicAccessBlockConfiguration></PublicAccessBlockConfiguration>"), 200)
	expectStatus(t, ts.do("PUT", "/bkt/k", "x", "x-amz-acl", "public-read"), 200)
	res = ts.do("GET", "/bkt/k?acl", "")
	expectStatus(t, res, 200)
	if !strings.Contains(string(res.body), acl.AllUsers) {
		t.Fatalf("object acl: %s", res.body)
	}
	expectStatus(t, ts.do("PUT", "/bkt/k?acl", "", "x-amz-acl", "private"), 200)
	res = ts.do("GET", "/bkt/k?acl", "")
	if strings.Contains(string(res.body), acl.AllUsers) {
		t.Fatalf("object acl after private: %s", res.body)
	}
	expectError(t, ts.do("PUT", "/bkt/k?acl", "<AccessControlPolicy>"), 400, "MalformedACLError")
	// A public bucket ACL blocks the switch back to BucketOwnerEnforced.
	expectStatus(t, ts.do("PUT", "/bkt?acl", "", "x-amz-acl", "public-read"), 200)
	expectError(t, ts.do("DELETE", "/bkt?ownershipControls", ""), 400, "InvalidBucketAclWithObjectOwnership")
	expectStatus(t, ts.do("PUT", "/bkt?acl", "", "x-amz-acl", "private"), 200)
	expectStatus(t, ts.do("DELETE", "/bkt?ownershipControls", ""), 204)
}
