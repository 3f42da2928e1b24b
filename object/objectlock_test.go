package object

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cofferstore/coffer/lock"
)

func TestCheckRetentionChange(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	later, sooner := now.Add(48*time.Hour), now.Add(time.Hour)
	comp := lock.State{Mode: lock.ModeCompliance, RetainUntil: now.Add(24 * time.Hour)}
	gov := lock.State{Mode: lock.ModeGovernance, RetainUntil: now.Add(24 * time.Hour)}
	expired := lock.State{Mode: lock.ModeCompliance, RetainUntil: now.Add(-time.Hour)}
	cases := []struct {
		name   string
		cur    lock.State
		mode   string
		until  time.Time
		bypass bool
		ok     bool
	}{
		{"no retention: set", lock.State{}, lock.ModeCompliance, later, false, true},
		{"compliance: extend", comp, lock.ModeCompliance, later, false, true},
		{"compliance: same date", comp, lock.ModeCompliance, comp.RetainUntil, false, true},
		{"compliance: shorten", comp, lock.ModeCompliance, sooner, false, false},
		{"compliance: shorten with bypass", comp, lock.ModeCompliance, sooner, true, false},
		{"compliance: remove with bypass", comp, "", time.Time{}, true, false},
		{"compliance: to governance", comp, lock.ModeGovernance, later, true, false},
		{"governance: extend", gov, lock.ModeGovernance, later, false, true},
		{"governance: to compliance, later", gov, lock.ModeCompliance, later, false, true},
		{"governance: to compliance, sooner", gov, lock.ModeCompliance, sooner, false, false},
		{"governance: shorten", gov, lock.ModeGovernance, sooner, false, false},
		{"governance: shorten with bypass", gov, lock.ModeGovernance, sooner, true, true},
		{"governance: remove", gov, "", time.Time{}, false, false},
		{"governance: remove with bypass", gov, "", time.Time{}, true, true},
		{"expired compliance: remove", expired, "", time.Time{}, false, true},
		{"legal hold only: set", lock.State{LegalHold: true}, lock.ModeGovernance, sooner, false, true},
	}
	for _, c := range cases {
		err := CheckRetentionChange(c.cur, c.mode, c.until, now, c.bypass)
		if c.ok && err != nil {
			t.Errorf("%s: %v, want allowed", c.name, err)
		}
		if !c.ok && !errors.Is(err, ErrObjectLocked) {
			t.Errorf("%s: %v, want ErrObjectLocked", c.name, err)
		}
	}
}

func TestObjectLockEngine(t *testing.T) {
	e := newEngine(t)
	clock := time.Now().UTC()
	e.now = func() time.Time { return clock }

	// Lock on an existing bucket needs versioning Enabled.
	if err := e.MakeBucket(ctx, "plain", MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetObjectLockConfig(ctx, "plain", true, nil); !errors.Is(err, ErrInvalidBucketState) {
		t.Fatalf("lock on unversioned bucket: %v", err)
	}
	lk := &LockOptions{Mode: lock.ModeCompliance, RetainUntil: clock.Add(time.Hour)}
	if _, err := e.PutObject(ctx, "plain", "k", bytes.NewReader([]byte("x")), 1, PutOptions{Lock: lk}); !errors.Is(err, ErrLockNotEnabled) {
		t.Fatalf("lock headers on plain bucket: %v", err)
	}
	if _, err := e.PutObjectLegalHold(ctx, "plain", "k", "", true); !errors.Is(err, ErrLockNotEnabled) {
		t.Fatalf("legal hold on plain bucket: %v", err)
	}
	if err := e.SetBucketVersioning(ctx, "plain", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	if err := e.SetObjectLockConfig(ctx, "plain", true, &LockDefault{Mode: lock.ModeGovernance, Days: 1, Years: 1}); !errors.Is(err, ErrInvalidRetentionPeriod) {
		t.Fatalf("Days and Years: %v", err)
	}
	if err := e.SetObjectLockConfig(ctx, "plain", true, &LockDefault{Mode: lock.ModeGovernance, Days: 2}); err != nil {
		t.Fatal(err)
	}
	bi, _ := e.GetBucketInfo(ctx, "plain")
	if !bi.ObjectLock || bi.ObjectLockDefault == nil || bi.ObjectLockDefault.Days != 2 {
		t.Fatalf("bucket info: %+v", bi)
	}
	if err := e.SetBucketVersioning(ctx, "plain", VersioningSuspended); !errors.Is(err, ErrInvalidBucketState) {
		t.Fatalf("suspend on lock bucket: %v", err)
	}

	// Default retention applies without explicit settings.
	def := mustPut(t, e, "plain", "def", []byte("d"))
	if def.Lock.Mode != lock.ModeGovernance || !def.Lock.RetainUntil.Equal(clock.AddDate(0, 0, 2)) {
		t.Fatalf("default retention: %+v", def.Lock)
	}
	if _, err := e.DeleteObject(ctx, "plain", "def", DeleteOptions{VersionID: def.VersionID}); !errors.Is(err, ErrObjectLocked) {
		t.Fatalf("delete under default governance: %v", err)
	}
	if _, err := e.DeleteObject(ctx, "plain", "def", DeleteOptions{VersionID: def.VersionID, BypassGovernance: true}); err != nil {
		t.Fatalf("delete with bypass: %v", err)
	}

	// Explicit COMPLIANCE wins over the default; the date must be future.
	if _, err := e.PutObject(ctx, "plain", "c", bytes.NewReader([]byte("x")), 1, PutOptions{Lock: &LockOptions{Mode: lock.ModeCompliance, RetainUntil: clock.Add(-time.Second)}}); !errors.Is(err, ErrInvalidRetention) {
		t.Fatalf("past date: %v", err)
	}
	c, err := e.PutObject(ctx, "plain", "c", bytes.NewReader([]byte("x")), 1, PutOptions{Lock: lk})
	if err != nil || c.Lock.Mode != lock.ModeCompliance {
		t.Fatalf("compliance put: %+v %v", c.Lock, err)
	}
	if _, err := e.PutObjectRetention(ctx, "plain", "c", c.VersionID, lock.ModeCompliance, clock.Add(time.Minute), true); !errors.Is(err, ErrObjectLocked) {
		t.Fatalf("shorten compliance: %v", err)
	}
	info, err := e.PutObjectRetention(ctx, "plain", "c", c.VersionID, lock.ModeCompliance, clock.Add(2*time.Hour), false)
	if err != nil || !info.Lock.RetainUntil.Equal(clock.Add(2*time.Hour)) {
		t.Fatalf("extend compliance: %+v %v", info.Lock, err)
	}
	if _, err := e.DeleteObject(ctx, "plain", "c", DeleteOptions{VersionID: c.VersionID, BypassGovernance: true}); !errors.Is(err, ErrObjectLocked) {
		t.Fatalf("delete compliance with bypass: %v", err)
	}
	// A delete without version id writes a marker; the version stays.
	if res, err := e.DeleteObject(ctx, "plain", "c", DeleteOptions{}); err != nil || !res.DeleteMarker {
		t.Fatalf("delete marker: %+v %v", res, err)
	}
	if got := mustGet(t, e, "plain", "c", GetOptions{VersionID: c.VersionID}); string(got) != "x" {
		t.Fatalf("locked version after delete marker: %q", got)
	}

	// Legal hold blocks deletion whatever the dates; release allows it.
	clock = clock.Add(3 * time.Hour) // every retention above has expired
	if _, err := e.PutObjectLegalHold(ctx, "plain", "c", c.VersionID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteObject(ctx, "plain", "c", DeleteOptions{VersionID: c.VersionID, BypassGovernance: true}); !errors.Is(err, ErrObjectLocked) {
		t.Fatalf("delete under legal hold: %v", err)
	}
	if _, err := e.PutObjectLegalHold(ctx, "plain", "c", c.VersionID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DeleteObject(ctx, "plain", "c", DeleteOptions{VersionID: c.VersionID}); err != nil {
		t.Fatalf("delete after release and expiry: %v", err)
	}

	// Multipart: the upload's lock settings apply at Complete.
	hold := &LockOptions{LegalHold: true, LegalHoldSet: true}
	id, err := e.NewMultipartUpload(ctx, "plain", "mp", PutOptions{Lock: hold})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.PutObjectPart(ctx, "plain", "mp", id, 1, bytes.NewReader([]byte("p")), 1, PartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mp, err := e.CompleteMultipartUpload(ctx, "plain", "mp", id, []CompletePart{{Number: 1, ETag: p.ETag}}, CompleteOptions{})
	if err != nil || !mp.Lock.LegalHold || mp.Lock.Mode != lock.ModeGovernance {
		t.Fatalf("multipart lock: %+v %v", mp.Lock, err)
	}
	if _, err := e.DeleteObject(ctx, "plain", "mp", DeleteOptions{VersionID: mp.VersionID, BypassGovernance: true}); !errors.Is(err, ErrObjectLocked) {
		t.Fatalf("delete multipart under hold: %v", err)
	}
	if err := e.DeleteBucket(ctx, "plain"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Fatalf("delete bucket with versions: %v", err)
	}
}
