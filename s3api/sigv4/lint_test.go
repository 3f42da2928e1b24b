package sigv4

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLint enforces the package's security rules on its non-test sources:
// MACs are compared in constant time only, SHA-256 comes from sha256-simd,
// no math/rand, and nothing derived from a secret is formatted into an error.
func TestLint(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []struct {
		re   *regexp.Regexp
		why  string
		skip func(line string) bool
	}{
		{regexp.MustCompile(`bytes\.Equal|bytes\.Compare|subtle\.ConstantTimeEq\b`), "compare MACs with hmac.Equal", nil},
		{regexp.MustCompile(`"crypto/sha256"`), "use github.com/minio/sha256-simd", nil},
		{regexp.MustCompile(`"math/rand`), "no math/rand in security code", nil},
		{regexp.MustCompile(`"fmt"`), "errors carry constant messages; no formatting of values", nil},
		{regexp.MustCompile(`(?i)(signature|sig|mac|want)\s*[!=]=\s*`), "compare signatures with hmac.Equal",
			func(l string) bool { return strings.Contains(l, "len(") || strings.Contains(l, "nil") }},
		{regexp.MustCompile(`(?i)(secret|key\[|keyBuf|SigningKey)`), "no secret material in errors",
			func(l string) bool {
				return !strings.Contains(l, "Err(") && !strings.Contains(l, "Error{") && !strings.Contains(l, "errMalformed")
			}},
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			for _, rule := range forbidden {
				if rule.re.MatchString(code) && (rule.skip == nil || !rule.skip(code)) {
					t.Errorf("%s:%d: %s: %s", f, i+1, rule.why, strings.TrimSpace(line))
				}
			}
		}
	}
}
