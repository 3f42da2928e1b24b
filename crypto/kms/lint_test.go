package kms_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLint enforces key-hygiene rules on this package's source (tests
// included): no math/rand; and in non-test code secrets are compared only
// with hmac.Equal or crypto/subtle, never bytes.Equal, and nothing is logged.
func TestLint(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := filepath.Glob("*/*.go")
	files = append(files, sub...)
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "math/rand" || p == "math/rand/v2" {
				t.Errorf("%s imports %s; crypto code uses crypto/rand only", f, p)
			}
		}
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "kmstest"+string(filepath.Separator)) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "bytes.Equal(") {
			t.Errorf("%s uses bytes.Equal; compare secrets and MACs with hmac.Equal or subtle", f)
		}
		for _, bad := range []string{"log.", "slog.", "fmt.Print"} {
			if strings.Contains(string(src), bad) {
				t.Errorf("%s uses %s: kms logs nothing (callers get a warn func)", f, bad)
			}
		}
	}
}
