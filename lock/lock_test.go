package lock

import (
	"errors"
	"testing"
	"time"
)

func TestCheckRemove(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	future, past := now.Add(time.Hour), now.Add(-time.Hour)
	cases := []struct {
		name   string
		s      State
		bypass bool
		locked bool
	}{
		{"unprotected", State{}, false, false},
		{"legal hold", State{LegalHold: true}, true, true},
		{"compliance future", State{Mode: ModeCompliance, RetainUntil: future}, true, true},
		{"compliance expired", State{Mode: ModeCompliance, RetainUntil: past}, false, false},
		{"compliance at instant", State{Mode: ModeCompliance, RetainUntil: now}, false, false},
		{"governance future", State{Mode: ModeGovernance, RetainUntil: future}, false, true},
		{"governance bypass", State{Mode: ModeGovernance, RetainUntil: future}, true, false},
		{"governance expired held", State{Mode: ModeGovernance, RetainUntil: past, LegalHold: true}, true, true},
	}
	for _, c := range cases {
		err := CheckRemove(c.s, Removal{Now: now, BypassGovernance: c.bypass})
		if got := errors.Is(err, ErrLocked); got != c.locked {
			t.Errorf("%s: locked=%v, want %v", c.name, got, c.locked)
		}
	}
}
