package acl

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"testing"
)

// FuzzParseXML checks that ParseXML never panics, that every error is an
// *Error, and that an accepted document validates and survives a
// render/parse round trip unchanged.
func FuzzParseXML(f *testing.F) {
	for _, name := range []string{"testdata/get-bucket-acl.golden.xml", "testdata/groups.golden.xml", "testdata/get-bucket-acl.aws-example.xml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseXML(bytes.NewReader(body))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is not an *Error: %v", err)
			}
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("accepted ACL does not validate: %v", err)
		}
		b, err := ParseXML(bytes.NewReader(a.XML()))
		if err != nil {
			t.Fatalf("rendered ACL does not parse: %v\n%s", err, a.XML())
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the ACL:\n%+v\n%+v", a, b)
		}
	})
}
