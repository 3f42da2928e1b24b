package object

import (
	"bytes"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/lock"
	"github.com/cofferstore/coffer/offboard"
)

// TestTenantOffboardBlockers: a version under COMPLIANCE or GOVERNANCE
// retention or legal hold is a blocker (the governance bypass is never
// used), listed with its mode, date and hold; PurgeTenant then removes
// nothing at all. A bucket's default retention alone blocks nothing.
func TestTenantOffboardBlockers(t *testing.T) {
	until := time.Now().Add(time.Hour).UTC()
	cases := map[string]*LockOptions{
		"compliance": {Mode: lock.ModeCompliance, RetainUntil: until},
		"governance": {Mode: lock.ModeGovernance, RetainUntil: until},
		"legal hold": {LegalHold: true, LegalHoldSet: true},
	}
	for name, lk := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEngine(t)
			if err := e.MakeBucket(ctx, "locked", MakeBucketOptions{Tenant: "t1", ObjectLock: true}); err != nil {
				t.Fatal(err)
			}
			if err := e.MakeBucket(ctx, "plain", MakeBucketOptions{Tenant: "t1"}); err != nil {
				t.Fatal(err)
			}
			mustPut(t, e, "plain", "free", []byte("free data"))
			mustPut(t, e, "locked", "free", []byte("unlocked version"))
			data := randBytes(1, 200<<10)
			oi, err := e.PutObject(ctx, "locked", "held", bytes.NewReader(data), int64(len(data)), PutOptions{Lock: lk})
			if err != nil {
				t.Fatal(err)
			}
			sv, err := e.TenantInventory(ctx, "t1")
			if err != nil {
				t.Fatal(err)
			}
			inv, buckets, blockers := sv.Inventory, sv.Buckets, sv.Blockers
			if sv.Blocked != 1 {
				t.Errorf("blocked = %d, want 1", sv.Blocked)
			}
			if len(buckets) != 2 || inv.Versions != 3 || inv.Objects != 3 {
				t.Errorf("inventory = %+v buckets %v, want 3 versions of 3 objects in 2 buckets", inv, buckets)
			}
			if len(blockers) != 1 {
				t.Fatalf("blockers = %+v, want exactly the locked version", blockers)
			}
			b := blockers[0]
			if b.Bucket != "locked" || b.Key != "held" || b.VersionID != oi.VersionID || b.LegalHold != lk.LegalHold || b.Mode != lk.Mode {
				t.Errorf("blocker = %+v", b)
			}
			if lk.Mode != "" && (b.RetainUntil == nil || !b.RetainUntil.Equal(until)) {
				t.Errorf("blocker retain-until = %v, want %v", b.RetainUntil, until)
			}
			err = e.PurgeTenant(ctx, "t1", "admin:test")
			if !errors.Is(err, ErrObjectLocked) {
				t.Fatalf("PurgeTenant = %v, want ErrObjectLocked", err)
			}
			if got := mustGet(t, e, "locked", "held", GetOptions{}); !bytes.Equal(got, data) {
				t.Error("the locked version changed")
			}
			mustGet(t, e, "locked", "free", GetOptions{})
			mustGet(t, e, "plain", "free", GetOptions{})
			if _, err := e.GetBucketInfo(ctx, "plain"); err != nil {
				t.Errorf("a bucket went: %v", err)
			}
		})
	}
}

// TestTenantOffboardDefaultRetentionDoesNotBlock: an Object Lock bucket
// with a default retention but no retained version is purged.
func TestTenantOffboardDefaultRetentionDoesNotBlock(t *testing.T) {
	e := newEngine(t)
	if err := e.MakeBucket(ctx, "deflock", MakeBucketOptions{Tenant: "t1", ObjectLock: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.SetObjectLockConfig(ctx, "deflock", true, &LockDefault{Mode: lock.ModeCompliance, Days: 30}); err != nil {
		t.Fatal(err)
	}
	sv, err := e.TenantInventory(ctx, "t1")
	if err != nil || len(sv.Blockers) != 0 || sv.Blocked != 0 {
		t.Fatalf("blockers = %v, %v; want none", sv.Blockers, err)
	}
	if err := e.PurgeTenant(ctx, "t1", "admin:test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.GetBucketInfo(ctx, "deflock"); !errors.Is(err, ErrNoSuchBucket) {
		t.Errorf("bucket after purge: %v", err)
	}
}

// TestTenantOffboardPurge: every version, delete marker, null version,
// upload, shard file and bucket of the tenant goes; another tenant's data
// stays readable; the tenant's data keys were sealed by its own KEK.
func TestTenantOffboardPurge(t *testing.T) {
	e := newEngine(t)
	for _, b := range []struct{ name, tenant string }{{"gone-a", "t2"}, {"gone-b", "t2"}, {"kept", "t3"}} {
		if err := e.MakeBucket(ctx, b.name, MakeBucketOptions{Tenant: b.tenant}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.SetBucketVersioning(ctx, "gone-a", VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	big := randBytes(2, 300<<10) // above the inline limit: shard files
	var bytesPut int64
	for i := 0; i < 3; i++ {
		oi := mustPut(t, e, "gone-a", "k", big)
		bytesPut += oi.Size
	}
	if _, err := e.DeleteObject(ctx, "gone-a", "k", DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, "gone-b", "small", []byte("inline"))
	mustPut(t, e, "gone-b", "large", big)
	bytesPut += int64(len("inline")) + int64(len(big))
	up, err := e.NewMultipartUpload(ctx, "gone-b", "mp", PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutObjectPart(ctx, "gone-b", "mp", up, 1, bytes.NewReader(big), int64(len(big)), PartOptions{}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, e, "kept", "k", big)

	keys, err := e.KMS().ListKeys(ctx, "t2")
	if err != nil || len(keys) != 1 || keys[0].Name != DefaultKeyName {
		t.Fatalf("t2 keys = %v, %v; want its own default key", keys, err)
	}
	sv, err := e.TenantInventory(ctx, "t2")
	if err != nil {
		t.Fatal(err)
	}
	inv := sv.Inventory
	want := offboard.Inventory{Objects: 3, Versions: 6, DeleteMarkers: 1, Bytes: bytesPut, Uploads: 1}
	if inv != want {
		t.Errorf("inventory = %+v, want %+v", inv, want)
	}
	before := shardFiles(t, e)
	if err := e.PurgeTenant(ctx, "t2", "admin:test"); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"gone-a", "gone-b"} {
		if _, err := e.GetBucketInfo(ctx, b); !errors.Is(err, ErrNoSuchBucket) {
			t.Errorf("bucket %s after purge: %v", b, err)
		}
		for _, tag := range []byte{tagLatest, tagVersion, tagNull, tagUpload} {
			if any, _ := e.hasAny(objPrefix(tag, b, "")); any {
				t.Errorf("bucket %s: %c records left", b, tag)
			}
		}
	}
	for _, tag := range []byte{tagPart, tagGarbage} {
		if any, _ := e.hasAny([]byte{tag}); any {
			t.Errorf("%c records left", tag)
		}
	}
	after := shardFiles(t, e)
	if len(after) == 0 || len(after) >= len(before) {
		t.Errorf("shard files: %d before, %d after; want only the other tenant's left", len(before), len(after))
	}
	var refs int
	_ = e.scan([]byte{tagRef}, []byte{tagRef + 1}, func(_, _ []byte) error { refs++; return nil })
	if refs != 1 {
		t.Errorf("%d shard references left, want 1 (tenant t3's object)", refs)
	}
	if got := mustGet(t, e, "kept", "k", GetOptions{}); !bytes.Equal(got, big) {
		t.Error("another tenant's object changed")
	}
	// Every deletion record of the purge, the aborted upload's included,
	// names the offboarding actor and path.
	recs := exportAll(t, e, admin.DeletionFilter{Tenant: "t2"})
	if len(recs) != 6 {
		t.Errorf("%d deletion records for t2, want 6 (5 versions with data, 1 upload)", len(recs))
	}
	for _, r := range recs {
		if r.Actor != "admin:test" || r.Path != offboard.Path {
			t.Errorf("record %s/%s %s%s: actor %q path %q, want %q %q",
				r.Bucket, r.Key, r.VersionID, r.UploadID, r.Actor, r.Path, "admin:test", offboard.Path)
		}
	}
	// Idempotent: a second purge (a resumed offboarding) succeeds.
	if err := e.PurgeTenant(ctx, "t2", "admin:test"); err != nil {
		t.Fatal(err)
	}
}

// shardFiles lists the data files on the engine's drives (metadata and
// format files excluded).
func shardFiles(t *testing.T, e *Engine) []string {
	t.Helper()
	var out []string
	for _, d := range e.set.Drives() {
		root := filepath.Dir(d.MetaPath())
		err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if de.IsDir() && p == d.MetaPath() {
				return filepath.SkipDir
			}
			if !de.IsDir() && !strings.HasPrefix(de.Name(), "format") {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestTenantOffboardBlockerCap: the survey lists at most
// offboard.MaxBlockers blockers but counts them all.
func TestTenantOffboardBlockerCap(t *testing.T) {
	if testing.Short() {
		t.Skip("writes MaxBlockers+1 versions")
	}
	e := newEngine(t)
	if err := e.MakeBucket(ctx, "many", MakeBucketOptions{Tenant: "t1", ObjectLock: true}); err != nil {
		t.Fatal(err)
	}
	hold := &LockOptions{LegalHold: true, LegalHoldSet: true}
	for i := 0; i <= offboard.MaxBlockers; i++ {
		if _, err := e.PutObject(ctx, "many", "k", bytes.NewReader(nil), 0, PutOptions{Lock: hold}); err != nil {
			t.Fatal(err)
		}
	}
	sv, err := e.TenantInventory(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if sv.Blocked != offboard.MaxBlockers+1 || len(sv.Blockers) != offboard.MaxBlockers || sv.Versions != offboard.MaxBlockers+1 {
		t.Errorf("blocked %d, listed %d, versions %d", sv.Blocked, len(sv.Blockers), sv.Versions)
	}
}
