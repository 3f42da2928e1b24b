package s3api

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cofferstore/coffer/object"
	"github.com/cofferstore/coffer/s3api/sigv4"
)

// objectSentinels lists every exported sentinel of object/errors.go with the
// S3 code it must map to. TestSentinelsParsed fails when errors.go gains a
// sentinel that is missing here.
var objectSentinels = map[string]struct {
	err  error
	code string
}{
	"ErrNoSuchBucket":            {object.ErrNoSuchBucket, "NoSuchBucket"},
	"ErrBucketExists":            {object.ErrBucketExists, "BucketAlreadyExists"},
	"ErrBucketNotEmpty":          {object.ErrBucketNotEmpty, "BucketNotEmpty"},
	"ErrInvalidBucketName":       {object.ErrInvalidBucketName, "InvalidBucketName"},
	"ErrInvalidObjectName":       {object.ErrInvalidObjectName, "InvalidArgument"},
	"ErrNoSuchKey":               {object.ErrNoSuchKey, "NoSuchKey"},
	"ErrNoSuchVersion":           {object.ErrNoSuchVersion, "NoSuchVersion"},
	"ErrMethodNotAllowed":        {object.ErrMethodNotAllowed, "MethodNotAllowed"},
	"ErrInvalidRange":            {object.ErrInvalidRange, "InvalidRange"},
	"ErrInvalidPartNumber":       {object.ErrInvalidPartNumber, "InvalidPartNumber"},
	"ErrPreconditionFailed":      {object.ErrPreconditionFailed, "PreconditionFailed"},
	"ErrNotModified":             {object.ErrNotModified, "NotModified"},
	"ErrBadDigest":               {object.ErrBadDigest, "BadDigest"},
	"ErrSHA256Mismatch":          {object.ErrSHA256Mismatch, "XAmzContentSHA256Mismatch"},
	"ErrChecksumMismatch":        {object.ErrChecksumMismatch, "BadDigest"},
	"ErrIncompleteBody":          {object.ErrIncompleteBody, "IncompleteBody"},
	"ErrEntityTooLarge":          {object.ErrEntityTooLarge, "EntityTooLarge"},
	"ErrNoSuchUpload":            {object.ErrNoSuchUpload, "NoSuchUpload"},
	"ErrInvalidPart":             {object.ErrInvalidPart, "InvalidPart"},
	"ErrInvalidPartOrder":        {object.ErrInvalidPartOrder, "InvalidPartOrder"},
	"ErrEntityTooSmall":          {object.ErrEntityTooSmall, "EntityTooSmall"},
	"ErrMalformedRequest":        {object.ErrMalformedRequest, "InvalidArgument"},
	"ErrInsufficientWriteQuorum": {object.ErrInsufficientWriteQuorum, "ServiceUnavailable"},
	"ErrInsufficientReadQuorum":  {object.ErrInsufficientReadQuorum, "ServiceUnavailable"},
	"ErrCorruption":              {object.ErrCorruption, "InternalError"},
	"ErrObjectLocked":            {object.ErrObjectLocked, "AccessDenied"},
	"ErrInvalidBucketState":      {object.ErrInvalidBucketState, "InvalidBucketState"},
	"ErrLockNotEnabled":          {object.ErrLockNotEnabled, "InvalidRequest"},
	"ErrInvalidRetention":        {object.ErrInvalidRetention, "InvalidArgument"},
	"ErrInvalidRetentionPeriod":  {object.ErrInvalidRetentionPeriod, "InvalidRetentionPeriod"},

	"ErrSSECustomerKeyMissing":     {object.ErrSSECustomerKeyMissing, "InvalidRequest"},
	"ErrSSECustomerKeyMismatch":    {object.ErrSSECustomerKeyMismatch, "AccessDenied"},
	"ErrSSECustomerKeyNotExpected": {object.ErrSSECustomerKeyNotExpected, "InvalidRequest"},
	"ErrNoSuchKMSKey":              {object.ErrNoSuchKMSKey, "KMS.NotFoundException"},
	"ErrInvalidEncryption":         {object.ErrInvalidEncryption, "InvalidArgument"},
}

// TestSentinelsParsed parses object/errors.go and requires every exported
// Err* variable to be listed in objectSentinels (and so to have a mapping).
func TestSentinelsParsed(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../object/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			for _, n := range s.(*ast.ValueSpec).Names {
				if n.IsExported() && strings.HasPrefix(n.Name, "Err") {
					found[n.Name] = true
				}
			}
		}
	}
	if len(found) == 0 {
		t.Fatal("no sentinels parsed from object/errors.go")
	}
	for name := range found {
		if _, ok := objectSentinels[name]; !ok {
			t.Errorf("object.%s has no entry in objectSentinels: add it and map it in sentinelCodes", name)
		}
	}
	for name := range objectSentinels {
		if !found[name] {
			t.Errorf("objectSentinels lists %s, which object/errors.go no longer declares", name)
		}
	}
}

// TestSentinelMapping checks that every sentinel, bare and wrapped, maps to
// its code, that the code is in the table and that its status is sane.
func TestSentinelMapping(t *testing.T) {
	for name, s := range objectSentinels {
		for _, err := range []error{s.err, fmt.Errorf("context: %w", s.err)} {
			e, known := errorFor(err)
			if e.Code != s.code {
				t.Errorf("%s: code %q, want %q", name, e.Code, s.code)
			}
			if _, ok := errorTable[e.Code]; !ok {
				t.Errorf("%s: code %q not in errorTable", name, e.Code)
			}
			if !known && s.err != object.ErrCorruption {
				t.Errorf("%s: reported as unknown", name)
			}
			if e.Status < 300 || e.Message == "" {
				t.Errorf("%s: bad status %d or empty message", name, e.Status)
			}
		}
	}
	// sentinelCodes covers exactly the listed sentinels.
	if len(sentinelCodes) != len(objectSentinels) {
		t.Errorf("sentinelCodes has %d entries, objectSentinels %d", len(sentinelCodes), len(objectSentinels))
	}
}

func TestErrorTableConsistent(t *testing.T) {
	for code, e := range errorTable {
		if e.Code != code || e.Status == 0 || e.Message == "" || http.StatusText(e.Status) == "" {
			t.Errorf("table row %q inconsistent: %+v", code, e)
		}
	}
}

func TestUnknownErrorIsGeneric(t *testing.T) {
	e, known := errorFor(errors.New("disk /dev/sdb1 exploded at /secret/path"))
	if known || e.Code != "InternalError" || e.Status != 500 || strings.Contains(e.Message, "secret") {
		t.Fatalf("got %+v known=%v", e, known)
	}
}

func TestSigv4ErrorMapping(t *testing.T) {
	e, known := errorFor(&sigv4.Error{Code: "RequestTimeTooSkewed", Status: 403, Message: "skewed"})
	if !known || e.Code != "RequestTimeTooSkewed" || e.Status != 403 || e.Message != "skewed" {
		t.Fatalf("got %+v", e)
	}
	e, _ = errorFor(fmt.Errorf("wrapped: %w", &sigv4.Error{Code: "AccessDenied"}))
	if e.Status != 403 || e.Message == "" {
		t.Fatalf("got %+v", e)
	}
}

func TestErrorResponseShape(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do("GET", "/nobucket/some/key", "")
	expectError(t, r, 404, "NoSuchBucket")
	e := errorCode(t, r)
	if e.RequestID == "" || e.RequestID != r.header["x-amz-request-id"] {
		t.Fatalf("RequestId %q vs header %q", e.RequestID, r.header["x-amz-request-id"])
	}
	if e.Resource != "/nobucket/some/key" || e.Message == "" {
		t.Fatalf("bad error body %+v", e)
	}
	if r.header["x-amz-id-2"] == "" || r.header["server"] != "coffer" || r.header["content-type"] != "application/xml" {
		t.Fatalf("headers %v", r.header)
	}
	if len(r.header["x-amz-request-id"]) != 16 {
		t.Fatalf("request id %q", r.header["x-amz-request-id"])
	}
	r2 := ts.do("GET", "/nobucket/some/key", "")
	if r2.header["x-amz-request-id"] == r.header["x-amz-request-id"] {
		t.Fatal("request ids repeat")
	}
	// HEAD errors carry no body.
	h := ts.do("HEAD", "/nobucket/some/key", "")
	if h.status != 404 || h.body != "" {
		t.Fatalf("HEAD error: %d %q", h.status, h.body)
	}
}

func TestInternalErrorHidesDetail(t *testing.T) {
	ts := newTestServer(t)
	ts.layer.failAll = errors.New("pebble: /drives/3 I/O error")
	r := ts.do("GET", "/", "")
	expectError(t, r, 500, "InternalError")
	if strings.Contains(r.body, "pebble") {
		t.Fatalf("internal detail leaked: %s", r.body)
	}
}

// TestEveryRaisedCodeInTable scans this package's sources for errCode("X"
// and requires X to be a row of errorTable, so no response goes out with a
// made-up status or an empty message.
func TestEveryRaisedCodeInTable(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`errCode\("([A-Za-z0-9]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n++
			if _, ok := errorTable[m[1]]; !ok {
				t.Errorf("%s raises %q, which is not in errorTable", f, m[1])
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d errCode calls; scanner broken?", n)
	}
}
