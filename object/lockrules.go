package object

// Object Lock rules that are pure decisions on a lock.State. They belong in
// package lock (next to lock.CheckRemove) and SHOULD move there once the
// compliance-clock work in lock/ has landed; they live here meanwhile so
// that package lock is not edited concurrently.

import (
	"fmt"
	"time"

	"github.com/cofferstore/coffer/lock"
)

// Limits of a bucket's default retention, as S3 enforces them.
const (
	maxDefaultRetentionDays  = 36500
	maxDefaultRetentionYears = 100
)

// LockOptions are the Object Lock settings a write asks for
// (x-amz-object-lock-mode, -retain-until-date and -legal-hold). A nil
// *LockOptions, or one with an empty Mode, means "the bucket's default
// retention, if any".
type LockOptions struct {
	// Mode is "", lock.ModeGovernance or lock.ModeCompliance. Mode and
	// RetainUntil MUST be given together or not at all.
	Mode string
	// RetainUntil is the retention date; it MUST be in the future when
	// the write starts.
	RetainUntil time.Time
	// LegalHold is the legal hold to set; it applies only when
	// LegalHoldSet is true.
	LegalHold    bool
	LegalHoldSet bool
}

// LockDefault is a bucket's default retention (the Rule of its Object
// Lock configuration). Exactly one of Days and Years is positive.
type LockDefault struct {
	Mode  string // lock.ModeGovernance or lock.ModeCompliance
	Days  int    // retention period in days, or 0
	Years int    // retention period in years, or 0
}

// validate checks a default retention: a known mode and exactly one
// positive period within S3's limits. ErrInvalidRetentionPeriod otherwise.
func (d *LockDefault) validate() error {
	if d == nil {
		return nil
	}
	if !validMode(d.Mode) {
		return fmt.Errorf("%w: mode %q", ErrMalformedRequest, d.Mode)
	}
	if (d.Days > 0) == (d.Years > 0) || d.Days < 0 || d.Years < 0 ||
		d.Days > maxDefaultRetentionDays || d.Years > maxDefaultRetentionYears {
		return fmt.Errorf("%w: exactly one of Days (1..%d) or Years (1..%d) is required",
			ErrInvalidRetentionPeriod, maxDefaultRetentionDays, maxDefaultRetentionYears)
	}
	return nil
}

// until returns the retain-until date of a version written at now.
func (d *LockDefault) until(now time.Time) time.Time {
	if d.Years > 0 {
		return now.AddDate(d.Years, 0, 0)
	}
	return now.AddDate(0, 0, d.Days)
}

func validMode(m string) bool { return m == lock.ModeGovernance || m == lock.ModeCompliance }

// lockForWrite decides the lock state of a new version written at now into
// a bucket with Object Lock enabled (enabled) and default retention def.
//
//   - Explicit lock settings on a bucket without Object Lock MUST fail with
//     ErrLockNotEnabled.
//   - Mode and RetainUntil MUST come together; when future is true the date
//     MUST be after now (ErrInvalidRetention otherwise).
//   - Without an explicit mode the bucket's S3 default MUST apply, and
//     without one the retention policy's default (pol).
//   - The result MUST lie within the retention policy's bounds
//     (checkPolicyBounds; ErrInvalidRetentionPeriod otherwise).
func lockForWrite(enabled bool, def *LockDefault, pol *RetentionPolicy, o *LockOptions, now time.Time, future bool) (lock.State, error) {
	var s lock.State
	if o != nil && (o.Mode != "" || !o.RetainUntil.IsZero() || o.LegalHoldSet) {
		if !enabled {
			return s, ErrLockNotEnabled
		}
		if (o.Mode == "") != o.RetainUntil.IsZero() {
			return s, fmt.Errorf("%w: mode and retain-until date must be given together", ErrInvalidRetention)
		}
		if o.Mode != "" {
			if !validMode(o.Mode) {
				return s, fmt.Errorf("%w: mode %q", ErrInvalidRetention, o.Mode)
			}
			if future && !o.RetainUntil.After(now) {
				return s, fmt.Errorf("%w: the retain until date must be in the future", ErrInvalidRetention)
			}
			s.Mode, s.RetainUntil = o.Mode, o.RetainUntil.UTC()
		}
		s.LegalHold = o.LegalHoldSet && o.LegalHold
	}
	if s.Mode == "" && enabled && def == nil {
		def = policyDefault(pol)
	}
	if s.Mode == "" && enabled && def != nil {
		s.Mode, s.RetainUntil = def.Mode, def.until(now).UTC()
	}
	if enabled {
		if err := checkPolicyBounds(pol, s.Mode, s.RetainUntil, now); err != nil {
			return lock.State{}, err
		}
	}
	return s, nil
}

// CheckRetentionChange decides whether a version's retention may change
// from cur to (mode, until) at time now. An empty mode with a zero date
// removes the retention. The rules, as S3 Object Lock defines them:
//
//   - A retention whose date has passed (or none) MAY be replaced freely.
//   - A COMPLIANCE retention in force MUST NOT be shortened, removed or
//     changed to GOVERNANCE by anyone; extending it is allowed.
//   - A GOVERNANCE retention in force MAY be extended, or changed to
//     COMPLIANCE with a date no earlier; shortening it, removing it or any
//     other change MUST be refused unless bypassGovernance is true.
//
// A refusal wraps ErrObjectLocked. The legal hold is independent of
// retention and is not consulted.
func CheckRetentionChange(cur lock.State, mode string, until time.Time, now time.Time, bypassGovernance bool) error {
	if cur.Mode == "" || cur.RetainUntil.IsZero() || !now.Before(cur.RetainUntil) {
		return nil
	}
	stricter := mode != "" && !until.Before(cur.RetainUntil) &&
		(mode == cur.Mode || mode == lock.ModeCompliance)
	if stricter {
		return nil
	}
	if cur.Mode == lock.ModeGovernance && bypassGovernance {
		return nil
	}
	return fmt.Errorf("%w: %s retention until %s may only be extended", ErrObjectLocked, cur.Mode, cur.RetainUntil.Format(time.RFC3339))
}

// modTime is the version's creation time.
func (v *versionRecord) modTime() time.Time { return time.Unix(0, v.ModTime) }
