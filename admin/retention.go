package admin

import (
	"context"
	"time"
)

// RetentionPolicy is a bucket's retention policy (R31), set by compliance
// officers through the admin API on Object Lock buckets only. Bounds of 0
// mean "no bound". Once Locked, a change may only tighten the policy.
type RetentionPolicy struct {
	Bucket      string            `json:"bucket,omitempty"`
	MinDays     int               `json:"min_days"`
	MaxDays     int               `json:"max_days"`
	DefaultMode string            `json:"default_mode,omitempty"`
	DefaultDays int               `json:"default_days,omitempty"`
	Locked      bool              `json:"locked"`
	History     []RetentionChange `json:"history,omitempty"`
}

// RetentionChange is one recorded change of a retention policy, stamped
// with the compliance clock's time and the acting principal's ARN.
type RetentionChange struct {
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	Summary string    `json:"summary"`
}

// RetentionPolicyUpdate is the body of `retention set`: only the fields
// given change. DefaultMode and DefaultDays go together; an empty mode
// with 0 days removes the default.
type RetentionPolicyUpdate struct {
	Bucket      string  `json:"bucket"`
	MinDays     *int    `json:"min_days,omitempty"`
	MaxDays     *int    `json:"max_days,omitempty"`
	DefaultMode *string `json:"default_mode,omitempty"`
	DefaultDays *int    `json:"default_days,omitempty"`
}

// LegalHoldStatus is the answer of `legal-hold set|clear`.
type LegalHoldStatus struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	LegalHold bool   `json:"legal_hold"`
}

// RetentionAdmin is what the admin API needs from the storage engine for
// retention policies and legal holds. A Compliance that also implements it
// serves the retention and legal-hold endpoints. Errors wrap ErrNotFound,
// ErrConflict (no Object Lock, loosening a locked policy) or ErrInvalid.
type RetentionAdmin interface {
	RetentionPolicy(ctx context.Context, bucket string) (RetentionPolicy, error)
	SetRetentionPolicy(ctx context.Context, u RetentionPolicyUpdate, actor string) (RetentionPolicy, error)
	LockRetentionPolicy(ctx context.Context, bucket, actor string) (RetentionPolicy, error)
	SetLegalHold(ctx context.Context, bucket, key, versionID string, on bool, actor string) (LegalHoldStatus, error)
}

// RetentionPolicy returns a bucket's retention policy.
func (c *Client) RetentionPolicy(ctx context.Context, bucket string) (RetentionPolicy, error) {
	var out RetentionPolicy
	return out, c.do(ctx, "GET", "retention/policy", map[string][]string{"bucket": {bucket}}, nil, &out)
}

// SetRetentionPolicy changes the fields of a bucket's retention policy
// given in u.
func (c *Client) SetRetentionPolicy(ctx context.Context, u RetentionPolicyUpdate) (RetentionPolicy, error) {
	var out RetentionPolicy
	return out, c.do(ctx, "PUT", "retention/policy", nil, u, &out)
}

// LockRetentionPolicy locks a bucket's retention policy (irreversible).
func (c *Client) LockRetentionPolicy(ctx context.Context, bucket string) (RetentionPolicy, error) {
	var out RetentionPolicy
	return out, c.do(ctx, "POST", "retention/lock", nil, map[string]string{"bucket": bucket}, &out)
}

// SetLegalHold sets or clears the legal hold of a version (the current one
// when versionID is "").
func (c *Client) SetLegalHold(ctx context.Context, bucket, key, versionID string, on bool) (LegalHoldStatus, error) {
	var out LegalHoldStatus
	in := legalHoldRequest{Bucket: bucket, Key: key, VersionID: versionID, On: on}
	return out, c.do(ctx, "PUT", "legal-hold", nil, in, &out)
}

type legalHoldRequest struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id,omitempty"`
	On        bool   `json:"on"`
}
