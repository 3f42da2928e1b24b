package object

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/lock"
)

func intp(n int) *int       { return &n }
func strp(s string) *string { return &s }

func TestRetentionPolicy(t *testing.T) {
	e := newEngine(t)
	clock := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	e.now = func() time.Time { return clock }
	const actor = "arn:coffer:iam::acme:root"

	if err := e.MakeBucket(ctx, "plain", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SetRetentionPolicy(ctx, admin.RetentionPolicyUpdate{Bucket: "plain", MinDays: intp(1)}, actor); !errors.Is(err, admin.ErrConflict) {
		t.Fatalf("policy on a bucket without Object Lock: %v, want ErrConflict", err)
	}
	if _, err := e.RetentionPolicy(ctx, "missing"); !errors.Is(err, admin.ErrNotFound) {
		t.Fatalf("missing bucket: %v", err)
	}
	if err := e.MakeBucket(ctx, "vault", MakeBucketOptions{ObjectLock: true}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, lk *LockOptions) (ObjectInfo, error) {
		return e.PutObject(ctx, "vault", key, bytes.NewReader([]byte("x")), 1, PutOptions{Lock: lk})
	}
	days := func(n int) time.Time { return clock.AddDate(0, 0, n) }

	// Invalid policies.
	for name, u := range map[string]admin.RetentionPolicyUpdate{
		"max below min":     {MinDays: intp(10), MaxDays: intp(5)},
		"negative":          {MinDays: intp(-1)},
		"mode without days": {DefaultMode: strp(lock.ModeGovernance)},
		"bad mode":          {DefaultMode: strp("FOREVER"), DefaultDays: intp(3)},
		"default too short": {MinDays: intp(10), DefaultMode: strp(lock.ModeGovernance), DefaultDays: intp(3)},
	} {
		u.Bucket = "vault"
		if _, err := e.SetRetentionPolicy(ctx, u, actor); !errors.Is(err, admin.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}

	p, err := e.SetRetentionPolicy(ctx, admin.RetentionPolicyUpdate{Bucket: "vault", MinDays: intp(10), MaxDays: intp(100),
		DefaultMode: strp(lock.ModeGovernance), DefaultDays: intp(30)}, actor)
	if err != nil {
		t.Fatal(err)
	}
	if p.MinDays != 10 || p.MaxDays != 100 || p.DefaultMode != lock.ModeGovernance || p.DefaultDays != 30 || p.Locked {
		t.Fatalf("policy %+v", p)
	}

	// PUT: bounds on explicit dates; the policy default applies otherwise.
	if _, err := put("short", &LockOptions{Mode: lock.ModeCompliance, RetainUntil: days(5)}); !errors.Is(err, ErrInvalidRetentionPeriod) {
		t.Fatalf("below minimum: %v", err)
	}
	if _, err := put("long", &LockOptions{Mode: lock.ModeCompliance, RetainUntil: days(101)}); !errors.Is(err, ErrInvalidRetentionPeriod) {
		t.Fatalf("above maximum: %v", err)
	}
	if _, err := put("ok", &LockOptions{Mode: lock.ModeCompliance, RetainUntil: days(50)}); err != nil {
		t.Fatalf("within bounds: %v", err)
	}
	oi, err := put("dflt", nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.resolve("vault", "dflt", oi.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Lock.Mode != lock.ModeGovernance || !v.Lock.RetainUntil.Equal(days(30)) {
		t.Fatalf("policy default not applied: %+v", v.Lock)
	}
	// The bucket's S3 default wins over the policy default, and is bounded too.
	if err := e.SetObjectLockConfig(ctx, "vault", true, &LockDefault{Mode: lock.ModeCompliance, Days: 200}); err != nil {
		t.Fatal(err)
	}
	if _, err := put("s3default", nil); !errors.Is(err, ErrInvalidRetentionPeriod) {
		t.Fatalf("S3 default above maximum: %v", err)
	}
	if err := e.SetObjectLockConfig(ctx, "vault", true, &LockDefault{Mode: lock.ModeCompliance, Days: 40}); err != nil {
		t.Fatal(err)
	}
	oi2, err := put("s3default", nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := e.resolve("vault", "s3default", oi2.VersionID); v.Lock.Mode != lock.ModeCompliance || !v.Lock.RetainUntil.Equal(days(40)) {
		t.Fatalf("S3 default not applied: %+v", v.Lock)
	}
	if err := e.SetObjectLockConfig(ctx, "vault", true, nil); err != nil {
		t.Fatal(err)
	}

	// PutObjectRetention: same bounds.
	if _, err := e.PutObjectRetention(ctx, "vault", "dflt", "", lock.ModeGovernance, days(150), false); !errors.Is(err, ErrInvalidRetentionPeriod) {
		t.Fatalf("retention above maximum: %v", err)
	}
	if _, err := e.PutObjectRetention(ctx, "vault", "dflt", "", lock.ModeGovernance, days(5), true); !errors.Is(err, ErrInvalidRetentionPeriod) {
		t.Fatalf("bypass below minimum: %v", err)
	}
	if _, err := e.PutObjectRetention(ctx, "vault", "dflt", "", "", time.Time{}, true); !errors.Is(err, ErrInvalidRetentionPeriod) {
		t.Fatalf("bypass removal under a minimum: %v", err)
	}
	if _, err := e.PutObjectRetention(ctx, "vault", "dflt", "", lock.ModeGovernance, days(60), false); err != nil {
		t.Fatalf("extend within bounds: %v", err)
	}

	// Lock: only tightening from now on.
	clock = clock.Add(time.Hour)
	if p, err = e.LockRetentionPolicy(ctx, "vault", "arn:coffer:iam::acme:user/officer"); err != nil || !p.Locked {
		t.Fatalf("lock: %+v %v", p, err)
	}
	for name, u := range map[string]admin.RetentionPolicyUpdate{
		"lower min":            {MinDays: intp(5)},
		"raise max":            {MaxDays: intp(200)},
		"remove max":           {MaxDays: intp(0)},
		"remove default":       {DefaultMode: strp(""), DefaultDays: intp(0)},
		"shorter default":      {DefaultMode: strp(lock.ModeGovernance), DefaultDays: intp(20)},
		"max below min (also)": {MaxDays: intp(9)},
	} {
		u.Bucket = "vault"
		if _, err := e.SetRetentionPolicy(ctx, u, actor); err == nil {
			t.Errorf("locked policy, %s: allowed", name)
		}
	}
	clock = clock.Add(time.Hour)
	p, err = e.SetRetentionPolicy(ctx, admin.RetentionPolicyUpdate{Bucket: "vault", MinDays: intp(20), MaxDays: intp(90),
		DefaultMode: strp(lock.ModeCompliance), DefaultDays: intp(45)}, actor)
	if err != nil {
		t.Fatalf("tightening a locked policy: %v", err)
	}
	if _, err := e.SetRetentionPolicy(ctx, admin.RetentionPolicyUpdate{Bucket: "vault",
		DefaultMode: strp(lock.ModeGovernance), DefaultDays: intp(50)}, actor); !errors.Is(err, admin.ErrConflict) {
		t.Fatalf("COMPLIANCE to GOVERNANCE default: %v", err)
	}
	if p.MinDays != 20 || p.MaxDays != 90 || p.DefaultMode != lock.ModeCompliance || p.DefaultDays != 45 || !p.Locked {
		t.Fatalf("tightened policy %+v", p)
	}

	// History: set, lock, set (refusals leave no trace).
	got, err := e.RetentionPolicy(ctx, "vault")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.History) != 3 {
		t.Fatalf("history %+v", got.History)
	}
	start := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, h := range got.History {
		if !h.Time.Equal(start.Add(time.Duration(i) * time.Hour)) {
			t.Errorf("history[%d] time %v", i, h.Time)
		}
	}
	if got.History[1].Actor != "arn:coffer:iam::acme:user/officer" || got.History[0].Actor != actor {
		t.Errorf("history actors %+v", got.History)
	}

	// A version without retention is refused under a minimum.
	if _, err := e.SetRetentionPolicy(ctx, admin.RetentionPolicyUpdate{Bucket: "vault", MinDays: intp(20)}, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := put("plain-hold", &LockOptions{LegalHold: true, LegalHoldSet: true}); err != nil {
		t.Fatalf("legal-hold-only write gets the policy default: %v", err)
	}

	// Legal hold through the admin interface.
	lh, err := e.SetLegalHold(ctx, "vault", "ok", "", true, actor)
	if err != nil || !lh.LegalHold || lh.VersionID == "" {
		t.Fatalf("legal hold: %+v %v", lh, err)
	}
	if _, err := e.SetLegalHold(ctx, "vault", "nope", "", true, actor); !errors.Is(err, admin.ErrNotFound) {
		t.Fatalf("legal hold on a missing key: %v", err)
	}
	if _, err := e.SetLegalHold(ctx, "plain", "k", "", true, actor); !errors.Is(err, admin.ErrConflict) {
		t.Fatalf("legal hold on a plain bucket: %v", err)
	}
}

func TestRetentionPolicyMinimumWithoutDefault(t *testing.T) {
	e := newEngine(t)
	if err := e.MakeBucket(ctx, "vault", MakeBucketOptions{ObjectLock: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SetRetentionPolicy(ctx, admin.RetentionPolicyUpdate{Bucket: "vault", MinDays: intp(1)}, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutObject(ctx, "vault", "k", bytes.NewReader([]byte("x")), 1, PutOptions{}); !errors.Is(err, ErrInvalidRetentionPeriod) {
		t.Fatalf("no retention under a minimum: %v", err)
	}
}
