package object

// Per-bucket retention policies (R31): bounds on, and a default for, the
// retention of every new version of an Object Lock bucket, administered by
// compliance officers through the admin API (admin.RetentionAdmin).
//
// Precedence of a new version's retention: the request's Object Lock
// headers, else the bucket's S3 default retention (ObjectLockConfiguration),
// else the retention policy's default. Whatever the source, the bounds then
// apply: with MinDays set a version MUST be retained until at least
// now+MinDays (a version without retention is refused), with MaxDays set
// at most until now+MaxDays; a refusal wraps ErrInvalidRetentionPeriod.
// PutObjectRetention is held to the same bounds.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/lock"
)

// RetentionPolicy is a bucket's retention policy, stored in its record.
type RetentionPolicy = admin.RetentionPolicy

// RetentionChange is one recorded change of a retention policy.
type RetentionChange = admin.RetentionChange

var _ admin.RetentionAdmin = (*Engine)(nil)

// checkPolicyBounds judges a version's retention (mode, until) written or
// changed at now against the policy p (nil: no policy).
func checkPolicyBounds(p *RetentionPolicy, mode string, until, now time.Time) error {
	if p == nil {
		return nil
	}
	if mode == "" || until.IsZero() {
		if p.MinDays > 0 {
			return fmt.Errorf("%w: the bucket's retention policy requires at least %d days of retention", ErrInvalidRetentionPeriod, p.MinDays)
		}
		return nil
	}
	if p.MinDays > 0 && until.Before(now.AddDate(0, 0, p.MinDays)) {
		return fmt.Errorf("%w: retain-until %s is less than the bucket's minimum of %d days", ErrInvalidRetentionPeriod, until.UTC().Format(time.RFC3339), p.MinDays)
	}
	if p.MaxDays > 0 && until.After(now.AddDate(0, 0, p.MaxDays)) {
		return fmt.Errorf("%w: retain-until %s is more than the bucket's maximum of %d days", ErrInvalidRetentionPeriod, until.UTC().Format(time.RFC3339), p.MaxDays)
	}
	return nil
}

// policyDefault is the policy's default retention, or nil.
func policyDefault(p *RetentionPolicy) *LockDefault {
	if p == nil || p.DefaultMode == "" || p.DefaultDays <= 0 {
		return nil
	}
	return &LockDefault{Mode: p.DefaultMode, Days: p.DefaultDays}
}

// validatePolicy checks a policy's own consistency (ErrInvalid-class).
func validatePolicy(p *RetentionPolicy) error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", admin.ErrInvalid, fmt.Sprintf(f, a...)) }
	if p.MinDays < 0 || p.MaxDays < 0 || p.DefaultDays < 0 {
		return bad("days must not be negative")
	}
	if p.MinDays > maxDefaultRetentionDays || p.MaxDays > maxDefaultRetentionDays || p.DefaultDays > maxDefaultRetentionDays {
		return bad("days must be at most %d", maxDefaultRetentionDays)
	}
	if p.MaxDays > 0 && p.MaxDays < p.MinDays {
		return bad("max-days %d is below min-days %d", p.MaxDays, p.MinDays)
	}
	if (p.DefaultMode == "") != (p.DefaultDays == 0) {
		return bad("default mode and default days go together")
	}
	if p.DefaultMode != "" {
		if !validMode(p.DefaultMode) {
			return bad("default mode %q: want GOVERNANCE or COMPLIANCE", p.DefaultMode)
		}
		if p.DefaultDays < p.MinDays || (p.MaxDays > 0 && p.DefaultDays > p.MaxDays) {
			return bad("default days %d outside the bounds [%d, %d]", p.DefaultDays, p.MinDays, p.MaxDays)
		}
	}
	return nil
}

// checkTightening refuses a change of a locked policy from old to p that
// loosens it (ErrConflict-class).
func checkTightening(old, p *RetentionPolicy) error {
	var why []string
	if p.MinDays < old.MinDays {
		why = append(why, "min-days may not decrease")
	}
	if old.MaxDays > 0 && (p.MaxDays == 0 || p.MaxDays > old.MaxDays) {
		why = append(why, "max-days may not increase or be removed")
	}
	if old.DefaultMode != "" {
		switch {
		case p.DefaultMode == "":
			why = append(why, "the default may not be removed")
		case old.DefaultMode == lock.ModeCompliance && p.DefaultMode != lock.ModeCompliance:
			why = append(why, "the default mode may not go from COMPLIANCE to GOVERNANCE")
		}
		if p.DefaultDays < old.DefaultDays {
			why = append(why, "default days may not decrease")
		}
	}
	if len(why) > 0 {
		return fmt.Errorf("%w: the retention policy is locked and may only be tightened: %s", admin.ErrConflict, strings.Join(why, "; "))
	}
	return nil
}

// policyErr maps object errors to the admin API's classes.
func policyErr(err error) error {
	if errors.Is(err, ErrLockNotEnabled) {
		return fmt.Errorf("%w: %v", admin.ErrConflict, err)
	}
	return complianceErr(err)
}

func policyOut(bucket string, p *RetentionPolicy) RetentionPolicy {
	var out RetentionPolicy
	if p != nil {
		out = *p
		out.History = append([]RetentionChange(nil), p.History...)
	}
	out.Bucket = bucket
	return out
}

func describePolicy(p *RetentionPolicy) string {
	s := fmt.Sprintf("min-days=%d max-days=%d", p.MinDays, p.MaxDays)
	if p.DefaultMode != "" {
		s += fmt.Sprintf(" default=%s/%dd", p.DefaultMode, p.DefaultDays)
	} else {
		s += " default=none"
	}
	return s
}

// RetentionPolicy implements admin.RetentionAdmin.
func (e *Engine) RetentionPolicy(_ context.Context, bucket string) (RetentionPolicy, error) {
	brec, err := e.bucket(bucket)
	if err != nil {
		return RetentionPolicy{}, policyErr(err)
	}
	return policyOut(bucket, brec.RetentionPolicy), nil
}

// SetRetentionPolicy implements admin.RetentionAdmin: it changes the
// fields given in u, validates the result, refuses loosening a locked
// policy and records the change with the compliance clock's time.
func (e *Engine) SetRetentionPolicy(_ context.Context, u admin.RetentionPolicyUpdate, actor string) (RetentionPolicy, error) {
	if (u.DefaultMode == nil) != (u.DefaultDays == nil) {
		return RetentionPolicy{}, fmt.Errorf("%w: default mode and default days go together", admin.ErrInvalid)
	}
	var out RetentionPolicy
	err := e.updateBucket(u.Bucket, func(r *bucketRecord) error {
		if !r.ObjectLock {
			return ErrLockNotEnabled
		}
		old := r.RetentionPolicy
		if old == nil {
			old = &RetentionPolicy{}
		}
		p := *old
		p.Bucket = ""
		if u.MinDays != nil {
			p.MinDays = *u.MinDays
		}
		if u.MaxDays != nil {
			p.MaxDays = *u.MaxDays
		}
		if u.DefaultMode != nil {
			p.DefaultMode, p.DefaultDays = strings.ToUpper(*u.DefaultMode), *u.DefaultDays
		}
		if err := validatePolicy(&p); err != nil {
			return err
		}
		if old.Locked {
			if err := checkTightening(old, &p); err != nil {
				return err
			}
		}
		p.History = append(append([]RetentionChange(nil), old.History...),
			RetentionChange{Time: e.now().UTC(), Actor: actor, Summary: "set " + describePolicy(&p)})
		r.RetentionPolicy = &p
		out = policyOut(u.Bucket, &p)
		e.log.Info("retention policy changed", "bucket", u.Bucket, "actor", actor, "policy", describePolicy(&p), "locked", p.Locked)
		return nil
	})
	return out, policyErr(err)
}

// LockRetentionPolicy implements admin.RetentionAdmin. Locking is
// irreversible; locking a locked policy changes nothing.
func (e *Engine) LockRetentionPolicy(_ context.Context, bucket, actor string) (RetentionPolicy, error) {
	var out RetentionPolicy
	err := e.updateBucket(bucket, func(r *bucketRecord) error {
		if !r.ObjectLock {
			return ErrLockNotEnabled
		}
		p := RetentionPolicy{}
		if r.RetentionPolicy != nil {
			p = *r.RetentionPolicy
		}
		if !p.Locked {
			p.Locked = true
			p.History = append(append([]RetentionChange(nil), p.History...),
				RetentionChange{Time: e.now().UTC(), Actor: actor, Summary: "locked " + describePolicy(&p)})
			e.log.Info("retention policy locked", "bucket", bucket, "actor", actor, "policy", describePolicy(&p))
		}
		r.RetentionPolicy = &p
		out = policyOut(bucket, &p)
		return nil
	})
	return out, policyErr(err)
}

// SetLegalHold implements admin.RetentionAdmin through PutObjectLegalHold.
func (e *Engine) SetLegalHold(ctx context.Context, bucket, key, versionID string, on bool, actor string) (admin.LegalHoldStatus, error) {
	oi, err := e.PutObjectLegalHold(ctx, bucket, key, versionID, on)
	if err != nil {
		return admin.LegalHoldStatus{}, policyErr(err)
	}
	e.log.Info("legal hold set by administrator", "bucket", bucket, "key", key, "version", oi.VersionID, "on", on, "actor", actor)
	return admin.LegalHoldStatus{Bucket: bucket, Key: key, VersionID: oi.VersionID, LegalHold: on}, nil
}
