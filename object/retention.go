package object

import (
	"context"
	"fmt"
	"time"
)

// lockBucket returns the bucket's record, or ErrLockNotEnabled when the
// bucket has no Object Lock. Object Lock can never be disabled, so the
// answer stays true once given.
func (e *Engine) lockBucket(bucket string) (*bucketRecord, error) {
	brec, err := e.bucket(bucket)
	if err != nil {
		return nil, err
	}
	if !brec.ObjectLock {
		return nil, ErrLockNotEnabled
	}
	return brec, nil
}

// PutObjectRetention implements Layer. The change is judged by
// CheckRetentionChange against the engine's clock under the key lock, so
// that two concurrent changes cannot both shorten a retention.
func (e *Engine) PutObjectRetention(_ context.Context, bucket, key, versionID string, mode string, until time.Time, bypassGovernance bool) (ObjectInfo, error) {
	brec, err := e.lockBucket(bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	if (mode == "") != until.IsZero() || (mode != "" && !validMode(mode)) {
		return ObjectInfo{}, fmt.Errorf("%w: mode %q with date %v", ErrInvalidRetention, mode, until)
	}
	return e.rewriteVersion(bucket, key, versionID, func(v *versionRecord) error {
		now := e.now()
		if mode != "" && !until.After(now) {
			return fmt.Errorf("%w: the retain until date must be in the future", ErrInvalidRetention)
		}
		if err := CheckRetentionChange(v.Lock, mode, until, now, bypassGovernance); err != nil {
			return err
		}
		// The bucket's retention policy bounds the new date; removing a
		// retention still in force is refused under a minimum (an expired
		// one may be removed).
		inForce := v.Lock.Mode != "" && now.Before(v.Lock.RetainUntil)
		if mode != "" || inForce {
			if err := checkPolicyBounds(brec.RetentionPolicy, mode, until, now); err != nil {
				return err
			}
		}
		if bypassGovernance && CheckRetentionChange(v.Lock, mode, until, now, false) != nil {
			e.log.Warn("governance retention bypassed", "path", "PutObjectRetention", "bucket", bucket,
				"key", key, "version", v.versionID(), "retain_until", v.Lock.RetainUntil, "new_mode", mode, "new_until", until)
		}
		v.Lock.Mode, v.Lock.RetainUntil = mode, until.UTC()
		if mode == "" {
			v.Lock.RetainUntil = time.Time{}
		}
		return nil
	})
}

// PutObjectLegalHold implements Layer. A legal hold MUST block every
// removal of the version while it is on (lock.CheckRemove); clearing it
// leaves the retention as it is.
func (e *Engine) PutObjectLegalHold(_ context.Context, bucket, key, versionID string, on bool) (ObjectInfo, error) {
	if _, err := e.lockBucket(bucket); err != nil {
		return ObjectInfo{}, err
	}
	return e.rewriteVersion(bucket, key, versionID, func(v *versionRecord) error {
		if v.Lock.LegalHold != on {
			e.log.Info("legal hold changed", "bucket", bucket, "key", key, "version", v.versionID(), "on", on)
		}
		v.Lock.LegalHold = on
		return nil
	})
}
