package acl

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrors(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range AllErrors() {
		if e.Code == "" || e.Message == "" {
			t.Errorf("sentinel %+v lacks code or message", e)
		}
		if seen[e.Code] {
			t.Errorf("duplicate code %s", e.Code)
		}
		seen[e.Code] = true
		detailed := e.with("detail")
		if !errors.Is(detailed, e) || !errors.Is(fmt.Errorf("wrapped: %w", detailed), e) {
			t.Errorf("%s: detailed error does not match its sentinel", e.Code)
		}
		var got *Error
		if !errors.As(fmt.Errorf("wrapped: %w", detailed), &got) || got.Message != "detail" {
			t.Errorf("%s: errors.As lost the message", e.Code)
		}
		for _, o := range AllErrors() {
			if o != e && errors.Is(e, o) {
				t.Errorf("%s matches %s", e.Code, o.Code)
			}
		}
	}
	if errors.Is(ErrAccessDenied, errors.New("AccessDenied")) {
		t.Error("matches a non-*Error")
	}
}
