// Package lock holds the retention rules: S3 Object Lock retention
// (GOVERNANCE and COMPLIANCE), legal hold, and the decision whether a
// version may be removed or overwritten. It is pure: no I/O, no clocks of
// its own; callers pass the time as judged by the compliance clock.
//
// Guarantee: every path in coffer that removes or overwrites a version MUST
// call CheckRemove and MUST NOT proceed when it returns an error.
package lock

import (
	"errors"
	"time"
)

// Retention modes, spelled as S3 spells them.
const (
	ModeGovernance = "GOVERNANCE"
	ModeCompliance = "COMPLIANCE"
)

// ErrLocked is returned by CheckRemove when a version is protected.
var ErrLocked = errors.New("lock: version is protected by retention or legal hold")

// State is a version's retention state as recorded in its metadata.
type State struct {
	Mode        string    // "", ModeGovernance or ModeCompliance
	RetainUntil time.Time // zero when no retention is set
	LegalHold   bool
}

// Removal describes the attempt to remove or overwrite a version.
type Removal struct {
	// Now is the compliance clock's current time.
	Now time.Time
	// BypassGovernance is true when the caller holds the governance
	// bypass permission and asked for it explicitly.
	BypassGovernance bool
	// Path names the code path (for audit and for the path-enumeration
	// test), e.g. "DeleteObject", "PutObject.replaceNull".
	Path string
}

// CheckRemove decides whether a version in state s may be removed or
// overwritten. It MUST return ErrLocked while a legal hold is on, while a
// COMPLIANCE retention date is in the future (no bypass exists), and while
// a GOVERNANCE retention date is in the future unless r.BypassGovernance.
func CheckRemove(s State, r Removal) error {
	if s.LegalHold {
		return ErrLocked
	}
	if s.Mode == "" || s.RetainUntil.IsZero() || !r.Now.Before(s.RetainUntil) {
		return nil
	}
	if s.Mode == ModeGovernance && r.BypassGovernance {
		return nil
	}
	return ErrLocked
}
