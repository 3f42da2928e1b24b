package stream

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLint enforces the package's crypto hygiene rules on its own source:
//   - no file (tests included) imports math/rand or math/rand/v2;
//   - non-test code compares no bytes itself (tags are checked only by the AEAD's Open):
//     no bytes.Equal/Compare, crypto/subtle, reflect or unsafe;
//   - the only package-level variables are Err* sentinel errors (no mutable state).
func TestLint(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources: %v", err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		isTest := strings.HasSuffix(name, "_test.go")
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "math/rand" || path == "math/rand/v2" {
				t.Errorf("%s: imports %s; use crypto/rand", fset.Position(imp.Pos()), path)
			}
			if !isTest && (path == "crypto/subtle" || path == "reflect" || path == "unsafe") {
				t.Errorf("%s: imports %s; tags are compared only inside the AEAD", fset.Position(imp.Pos()), path)
			}
		}
		if isTest {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "bytes" && (n.Sel.Name == "Equal" || n.Sel.Name == "Compare") {
					t.Errorf("%s: bytes.%s; tags are compared only inside the AEAD", fset.Position(n.Pos()), n.Sel.Name)
				}
			case *ast.GenDecl:
				if n.Tok != token.VAR {
					return true
				}
				for _, spec := range n.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						if !strings.HasPrefix(id.Name, "Err") {
							t.Errorf("%s: package-level variable %s; only Err* sentinels are allowed", fset.Position(id.Pos()), id.Name)
						}
					}
				}
			case *ast.FuncDecl:
				return false // local variables are fine
			}
			return true
		})
	}
}
