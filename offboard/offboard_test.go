package offboard_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/lock"
	"github.com/cofferstore/coffer/metadata"
	"github.com/cofferstore/coffer/object"
	"github.com/cofferstore/coffer/offboard"
)

var master = bytes.Repeat([]byte{7}, 32)

type env struct {
	drives []string
	e      *object.Engine
	ids    *iam.IAM
	off    *offboard.Offboarder
}

func open(t *testing.T, drives []string, wrap func(offboard.Storage) offboard.Storage) *env {
	t.Helper()
	e, err := object.Open(object.Config{Drives: drives, MasterKey: master})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := iam.Open(t.Context(), e.Metadata(), e.KMS())
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	var st offboard.Storage = e
	if wrap != nil {
		st = wrap(e)
	}
	off, err := offboard.New(t.Context(), st, ids, e.KMS(), e.Metadata(), nil)
	if err != nil {
		e.Close()
		t.Fatal(err)
	}
	return &env{drives, e, ids, off}
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	var drives []string
	for _, n := range []string{"d1", "d2", "d3", "d4"} {
		drives = append(drives, filepath.Join(dir, n))
	}
	v := open(t, drives, nil)
	t.Cleanup(func() { v.e.Close() })
	return v
}

// populate makes tenant id with a second user and key, two buckets (one
// with Object Lock) and some objects; it returns the admin's access key.
func populate(t *testing.T, v *env, id string) string {
	t.Helper()
	ctx := t.Context()
	_, nk, err := v.ids.CreateTenant(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.ids.CreateUser(id, "app", false); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ids.CreateKey(ctx, id, "app", nil); err != nil {
		t.Fatal(err)
	}
	for _, b := range []struct {
		name string
		lock bool
	}{{id + "-data", false}, {id + "-records", true}} {
		if err := v.e.MakeBucket(ctx, b.name, object.MakeBucketOptions{Tenant: id, ObjectLock: b.lock}); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"a", "b"} {
			data := bytes.Repeat([]byte(k), 200<<10)
			if _, err := v.e.PutObject(ctx, b.name, k, bytes.NewReader(data), int64(len(data)), object.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return nk.ID
}

func TestShredRefusedWithBlockers(t *testing.T) {
	v := newEnv(t)
	ctx := t.Context()
	ak := populate(t, v, "acme")
	until := time.Now().Add(24 * time.Hour)
	data := []byte("record")
	oi, err := v.e.PutObject(ctx, "acme-records", "ledger", bytes.NewReader(data), int64(len(data)),
		object.PutOptions{Lock: &object.LockOptions{Mode: lock.ModeGovernance, RetainUntil: until}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.off.Shred(ctx, "acme", "admin:test")
	var be *offboard.BlockedError
	if !errors.As(err, &be) || len(be.Blockers) != 1 || be.Total != 1 {
		t.Fatalf("Shred = %v, want one blocker", err)
	}
	if b := be.Blockers[0]; b.Bucket != "acme-records" || b.Key != "ledger" || b.VersionID != oi.VersionID || b.Mode != lock.ModeGovernance {
		t.Errorf("blocker = %+v", b)
	}
	// Nothing destroyed, nothing frozen.
	tn, err := v.ids.Tenant("acme")
	if err != nil || tn.Offboarding != nil {
		t.Fatalf("tenant after refusal = %+v, %v", tn, err)
	}
	if _, _, ok := v.ids.Lookup(ak); !ok {
		t.Error("the tenant's key stopped working after a refused shred")
	}
	if keys, _ := v.e.KMS().ListKeys(ctx, "acme"); len(keys) == 0 {
		t.Error("the tenant's KEK went after a refused shred")
	}
	sv, err := v.e.TenantInventory(ctx, "acme")
	if err != nil || len(sv.Buckets) != 2 || sv.Versions != 5 {
		t.Errorf("inventory after refusal = %+v %v", sv, err)
	}
	if _, ok := v.off.Certificate("acme"); ok {
		t.Error("a certificate was issued for a refused shred")
	}
}

func TestShredCleanTenant(t *testing.T) {
	v := newEnv(t)
	ctx := t.Context()
	ak := populate(t, v, "acme")
	otherKey := populate(t, v, "other")
	keysBefore, err := v.e.KMS().ListKeys(ctx, "acme")
	if err != nil || len(keysBefore) == 0 {
		t.Fatalf("acme keys = %v, %v", keysBefore, err)
	}
	// The sealed KEK records as stored: after the shred no file of any
	// drive may hold them (the offboarding purges the replicas' logs and
	// tables, not only their view).
	var sealedKEKs [][]byte
	it, err := v.e.Metadata().NewIter([]byte("Kacme\x00"), []byte("Kacme\x01"))
	if err != nil {
		t.Fatal(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		// The random tail (ciphertext or MAC): table blocks are
		// compressed, and a record's structured head may be encoded as a
		// copy of a neighbour's.
		if v := it.Value(); len(v) >= 32 {
			sealedKEKs = append(sealedKEKs, bytes.Clone(v[len(v)-24:]))
		}
	}
	it.Close()
	if len(sealedKEKs) == 0 {
		t.Fatal("no sealed KEK record found to look for")
	}
	// Flush the memtables (by purging an unrelated range) so the KEK
	// records sit in tables, as they do on a server that ran for a while.
	if err := v.e.Metadata().(metadata.Purger).Purge([]metadata.KeyRange{{Start: []byte("Z"), End: []byte("Z\x00")}}); err != nil {
		t.Fatal(err)
	}
	if n := countInFiles(t, v.drives, sealedKEKs); n == 0 {
		t.Fatal("positive control: the sealed KEKs are not in the drive files before the shred")
	}
	cert, err := v.off.Shred(ctx, "acme", "admin:test")
	if err != nil {
		t.Fatal(err)
	}
	if cert.Tenant != "acme" || cert.Versions != 4 || cert.Objects != 4 || cert.Bytes != 4*200<<10 ||
		len(cert.Buckets) != 2 || cert.Users != 2 || cert.AccessKeys != 2 || len(cert.Keys) != len(keysBefore) ||
		cert.DeploymentID == "" || cert.DeploymentID != v.e.DeploymentID() || cert.Actor != "admin:test" {
		t.Errorf("certificate = %+v", cert)
	}
	if cert.Finished.Before(cert.Started) || cert.Started.IsZero() {
		t.Errorf("certificate times %v .. %v", cert.Started, cert.Finished)
	}
	pub := mustPub(t, v.off.PublicKey())
	if err := offboard.Verify(cert, pub); err != nil {
		t.Fatalf("certificate does not verify: %v", err)
	}
	// Everything is gone.
	if _, err := v.ids.Tenant("acme"); !errors.Is(err, iam.ErrNotFound) {
		t.Errorf("tenant after shred: %v", err)
	}
	if us := v.ids.Users("acme"); len(us) != 0 {
		t.Errorf("users left: %v", us)
	}
	if ks := v.ids.Keys("acme", ""); len(ks) != 0 {
		t.Errorf("access keys left: %v", ks)
	}
	if _, _, ok := v.ids.Lookup(ak); ok {
		t.Error("the shredded tenant's access key still resolves")
	}
	if keys, err := v.e.KMS().ListKeys(ctx, "acme"); err != nil || len(keys) != 0 {
		t.Errorf("KEKs left in the KMS: %v, %v", keys, err)
	}
	if sv, _ := v.e.TenantInventory(ctx, "acme"); len(sv.Buckets) != 0 {
		t.Errorf("buckets left: %v", sv.Buckets)
	}
	// The other tenant is untouched.
	if _, _, ok := v.ids.Lookup(otherKey); !ok {
		t.Error("another tenant's key stopped working")
	}
	if _, rc, err := v.e.GetObject(ctx, "other-data", "a", object.GetOptions{}); err != nil {
		t.Errorf("another tenant's object: %v", err)
	} else {
		rc.Close()
	}
	// A re-run returns the stored certificate.
	again, err := v.off.Shred(ctx, "acme", "admin:test")
	if err != nil || again.ID != cert.ID {
		t.Errorf("re-run = %v, %v; want the same certificate", again.ID, err)
	}
	// Every metadata replica has lost the tenant's KEK records, in its
	// view and in its files.
	v.e.Close()
	if n := countInFiles(t, v.drives, sealedKEKs); n != 0 {
		t.Errorf("%d files still hold a sealed KEK of the shredded tenant", n)
	}
	for _, d := range v.drives {
		p, err := metadata.OpenPebble(filepath.Join(d, "meta"), metadata.PebbleOptions{})
		if err != nil {
			t.Fatal(err)
		}
		it, err := p.NewIter([]byte("Kacme\x00"), []byte("Kacme\x01"))
		if err != nil {
			t.Fatal(err)
		}
		if it.First() {
			t.Errorf("replica %s still holds KEK record %q", d, it.Key())
		}
		it.Close()
		p.Close()
	}
}

// countInFiles returns the number of files under roots holding any of
// needles.
func countInFiles(t *testing.T, roots []string, needles [][]byte) int {
	t.Helper()
	n := 0
	for _, r := range roots {
		err := filepath.WalkDir(r, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, nd := range needles {
				if bytes.Contains(b, nd) {
					n++
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestShredResumes: a shred that fails after freezing the tenant leaves
// its keys disabled; after a restart Resume finishes it with a certificate.
func TestShredResumes(t *testing.T) {
	dir := t.TempDir()
	var drives []string
	for _, n := range []string{"d1", "d2", "d3", "d4"} {
		drives = append(drives, filepath.Join(dir, n))
	}
	v := open(t, drives, func(s offboard.Storage) offboard.Storage { return failingPurge{s} })
	ak := populate(t, v, "acme")
	pk := v.off.PublicKey()
	if _, err := v.off.Shred(t.Context(), "acme", "admin:test"); err == nil || !errors.Is(err, errCrash) {
		t.Fatalf("Shred = %v, want the injected failure", err)
	}
	tn, err := v.ids.Tenant("acme")
	if err != nil || tn.Offboarding == nil || len(tn.Offboarding.Plan) == 0 {
		t.Fatalf("tenant after the failure = %+v, %v; want frozen with a plan", tn, err)
	}
	if _, _, ok := v.ids.Lookup(ak); ok {
		t.Error("a frozen tenant's key still authenticates")
	}
	if _, err := v.ids.CreateUser("acme", "late", false); !errors.Is(err, iam.ErrOffboarding) {
		t.Errorf("CreateUser on a frozen tenant = %v, want ErrOffboarding", err)
	}
	if err := v.off.DeleteEmpty(t.Context(), "acme"); !errors.Is(err, iam.ErrOffboarding) {
		t.Errorf("DeleteEmpty on a frozen tenant = %v, want ErrOffboarding", err)
	}
	v.e.Close()

	w := open(t, drives, nil)
	defer w.e.Close()
	if w.off.PublicKey() != pk {
		t.Error("the signing key changed across a restart")
	}
	if err := w.off.Resume(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ids.Tenant("acme"); !errors.Is(err, iam.ErrNotFound) {
		t.Errorf("tenant after resume: %v", err)
	}
	cert, ok := w.off.Certificate("acme")
	if !ok || cert.Versions != 4 || len(cert.Buckets) != 2 {
		t.Fatalf("certificate after resume = %+v, %v", cert, ok)
	}
	if err := offboard.Verify(cert, mustPub(t, pk)); err != nil {
		t.Error(err)
	}
}

var errCrash = errors.New("injected crash")

type failingPurge struct{ offboard.Storage }

func (f failingPurge) PurgeTenant(context.Context, string, string) error { return errCrash }

func TestDeleteEmpty(t *testing.T) {
	v := newEnv(t)
	ctx := t.Context()
	populate(t, v, "acme")
	if err := v.off.DeleteEmpty(ctx, "acme"); !errors.Is(err, iam.ErrNotEmpty) {
		t.Fatalf("DeleteEmpty with buckets = %v, want ErrNotEmpty", err)
	}
	if _, _, err := v.ids.CreateTenant(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.e.KMS().CreateKey(ctx, "empty", "k"); err != nil {
		t.Fatal(err)
	}
	if err := v.off.DeleteEmpty(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	if keys, _ := v.e.KMS().ListKeys(ctx, "empty"); len(keys) != 0 {
		t.Errorf("keys left: %v", keys)
	}
}

// TestCertificateTamper: changing any field of a signed certificate, adding
// one, or verifying with another key fails.
func TestCertificateTamper(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	c := offboard.Certificate{
		Format: offboard.CertificateFormat, ID: "c1", DeploymentID: "dep", Tenant: "acme", CanonicalID: "cid", Actor: "admin:root",
		Started: time.Unix(100, 5).UTC(), Finished: time.Unix(200, 7).UTC(), StartedWall: time.Unix(101, 0).UTC(), FinishedWall: time.Unix(201, 0).UTC(),
		Keys:      []offboard.DestroyedKey{{Name: "coffer-default", Versions: []int{1, 2}, Current: 2}},
		Buckets:   []string{"b1", "b2"},
		Inventory: offboard.Inventory{Objects: 3, Versions: 4, DeleteMarkers: 1, Bytes: 1000, Uploads: 1},
		Users:     2, AccessKeys: 3, Method: offboard.Method,
	}
	if err := c.Sign(priv); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := offboard.ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := offboard.Verify(parsed, pub); err != nil {
		t.Fatalf("genuine certificate: %v", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	if len(fields) < 20 {
		t.Fatalf("only %d fields: the encoding changed", len(fields))
	}
	for name, val := range fields {
		t.Run(name, func(t *testing.T) {
			m := map[string]json.RawMessage{}
			for k, v := range fields {
				m[k] = v
			}
			m[name] = tamper(t, val)
			b, _ := json.Marshal(m)
			got, err := offboard.ParseCertificate(b)
			if err == nil {
				err = offboard.Verify(got, pub)
			}
			if !errors.Is(err, offboard.ErrBadCertificate) {
				t.Errorf("tampered %s: %v, want ErrBadCertificate", name, err)
			}
		})
	}
	t.Run("added field", func(t *testing.T) {
		b := append(bytes.TrimSuffix(raw, []byte("}")), []byte(`,"note":"x"}`)...)
		if _, err := offboard.ParseCertificate(b); !errors.Is(err, offboard.ErrBadCertificate) {
			t.Errorf("added field: %v", err)
		}
	})
	t.Run("other key", func(t *testing.T) {
		other, _, _ := ed25519.GenerateKey(nil)
		if err := offboard.Verify(parsed, other); !errors.Is(err, offboard.ErrBadCertificate) {
			t.Errorf("other key: %v", err)
		}
	})
}

// tamper returns a different JSON value of the same kind.
func tamper(t *testing.T, v json.RawMessage) json.RawMessage {
	t.Helper()
	var x any
	if err := json.Unmarshal(v, &x); err != nil {
		t.Fatal(err)
	}
	switch y := x.(type) {
	case string:
		if ts, err := time.Parse(time.RFC3339Nano, y); err == nil {
			x = ts.Add(time.Nanosecond).Format(time.RFC3339Nano)
		} else if len(y) > 0 {
			x = y[:len(y)-1] + string(rune(y[len(y)-1]^1))
		} else {
			x = "x"
		}
	case float64:
		x = y + 1
	case []any:
		x = y[:len(y)-1]
	default:
		t.Fatalf("unexpected JSON value %s", v)
	}
	b, _ := json.Marshal(x)
	return b
}

func mustPub(t *testing.T, pk offboard.PublicKey) ed25519.PublicKey {
	t.Helper()
	pub, err := offboard.ParsePublicKey([]byte(pk.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if pk.KeyID != offboard.KeyID(pub) {
		t.Fatal("key id mismatch")
	}
	return pub
}

// TestNoPrivateKeyInOutput: formatting the Offboarder prints no key bytes.
func TestNoPrivateKeyInOutput(t *testing.T) {
	v := newEnv(t)
	for _, s := range []string{fmt.Sprint(v.off), fmt.Sprintf("%v %+v %#v %s", v.off, v.off, v.off, v.off)} {
		if !strings.Contains(s, "ed25519:") || strings.Contains(s, "[") {
			t.Errorf("formatted Offboarder: %q", s)
		}
	}
}

// TestSigningKeySurvivesRotation: rotating the KMS key that seals the
// signing key MUST NOT destroy the version it is sealed under (the
// re-seal job cannot see that user), so the server still starts with the
// same signing key.
func TestSigningKeySurvivesRotation(t *testing.T) {
	dir := t.TempDir()
	var drives []string
	for _, n := range []string{"d1", "d2", "d3", "d4"} {
		drives = append(drives, filepath.Join(dir, n))
	}
	v := open(t, drives, nil)
	pk := v.off.PublicKey()
	if _, err := v.e.RotateKey(t.Context(), "_coffer", "cert-signing"); err != nil {
		t.Fatal(err)
	}
	v.e.Close() // waits for the re-seal job
	w := open(t, drives, nil)
	defer w.e.Close()
	if w.off.PublicKey() != pk {
		t.Error("the signing key changed")
	}
}

// TestFrozenWithBlockersUnfreezes: a tenant left frozen before its plan
// was stored (a crash right after the freeze) and holding retained data is
// unfrozen by the next attempt, which is refused: nothing was destroyed.
func TestFrozenWithBlockersUnfreezes(t *testing.T) {
	v := newEnv(t)
	ctx := t.Context()
	ak := populate(t, v, "acme")
	data := []byte("held")
	if _, err := v.e.PutObject(ctx, "acme-records", "h", bytes.NewReader(data), int64(len(data)),
		object.PutOptions{Lock: &object.LockOptions{LegalHold: true, LegalHoldSet: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.ids.BeginOffboarding("acme", iam.Offboarding{Started: time.Now(), Actor: "admin:test"}); err != nil {
		t.Fatal(err)
	}
	err := v.off.Resume(ctx)
	var be *offboard.BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("Resume = %v, want the blockers", err)
	}
	if tn, _ := v.ids.Tenant("acme"); tn.Offboarding != nil {
		t.Error("the tenant stays frozen")
	}
	if _, _, ok := v.ids.Lookup(ak); !ok {
		t.Error("the tenant's key does not work again")
	}
}
