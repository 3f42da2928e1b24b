package iam

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/crypto/kms/kmsmeta"
	"github.com/cofferstore/coffer/iam/policy"
	"github.com/cofferstore/coffer/metadata"
)

func openStore(t *testing.T, dir string) (*IAM, func()) {
	t.Helper()
	st, err := metadata.OpenPebble(dir, metadata.PebbleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	prov, err := kms.NewLocal(bytes.Repeat([]byte{3}, 32), kmsmeta.New(st), []byte{'K'})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(context.Background(), st, prov)
	if err != nil {
		t.Fatal(err)
	}
	return m, func() { prov.Close(); st.Close() }
}

// TestPersistenceAndSecrets: identities survive a restart; the secret is
// never stored in plaintext.
func TestPersistenceAndSecrets(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	m, closeFn := openStore(t, dir)
	_, admin, err := m.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.CreateTenant(ctx, "acme"); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate tenant: %v", err)
	}
	if _, err := m.CreateUser("acme", "alice", false); err != nil {
		t.Fatal(err)
	}
	doc := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`)
	if _, err := m.SetPolicy("acme", "alice", "read", doc); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SetPolicy("acme", "alice", "bad", json.RawMessage(`{"Statement":[{"Effect":"Maybe"}]}`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid policy stored: %v", err)
	}
	k, err := m.CreateKey(ctx, "acme", "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	closeFn()
	// No secret in any file of the store.
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte(k.Secret)) || bytes.Contains(b, []byte(admin.Secret)) {
				t.Errorf("plaintext secret in %s", p)
			}
		}
		return nil
	})
	m, closeFn = openStore(t, dir)
	defer closeFn()
	secret, p, ok := m.Lookup(k.ID)
	if !ok || secret != k.Secret || p.Tenant != "acme" || p.User != "alice" || len(p.Policies) != 1 {
		t.Fatalf("after restart: %v %+v", ok, p)
	}
	if _, p, ok := m.Lookup(admin.ID); !ok || !p.Admin {
		t.Fatalf("admin after restart: %v %+v", ok, p)
	}
	// Revocation and expiry take effect at once.
	m.RevokeKey("", k.ID)
	if _, _, ok := m.Lookup(k.ID); ok {
		t.Fatal("revoked key still resolves")
	}
	past := time.Now().Add(-time.Second)
	old, _ := m.CreateKey(ctx, "acme", "alice", &past)
	if _, _, ok := m.Lookup(old.ID); ok {
		t.Fatal("expired key resolves")
	}
	if _, err := m.RevokeKey("other", admin.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoking another tenant's key: %v", err)
	}
}

// TestAuthorizerRules: the rules layered on policy.Evaluate.
func TestAuthorizerRules(t *testing.T) {
	ctx := context.Background()
	read, err := policy.ParseIdentity([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	alice := Principal{Tenant: "acme", User: "alice", CanonicalID: CanonicalID("acme"), Policies: []*policy.Policy{read}}
	admin := Principal{Tenant: "acme", User: "admin", CanonicalID: CanonicalID("acme"), Admin: true}
	root := Principal{Tenant: RootTenant, Root: true}
	cases := []struct {
		name  string
		req   Request
		allow bool
	}{
		{"root anywhere", Request{Principal: root, Action: "s3:DeleteObject", Bucket: "x", Key: "k", BucketTenant: "acme"}, true},
		{"anonymous", Request{Principal: Principal{}, Action: "s3:GetObject", Bucket: "b", Key: "k", BucketTenant: "acme"}, false},
		{"policy allows", Request{Principal: alice, Action: "s3:GetObject", Bucket: "b", Key: "k", BucketTenant: "acme"}, true},
		{"policy silent", Request{Principal: alice, Action: "s3:PutObject", Bucket: "b", Key: "k", BucketTenant: "acme"}, false},
		{"no policy", Request{Principal: Principal{Tenant: "acme", User: "bob"}, Action: "s3:GetObject", Bucket: "b", Key: "k", BucketTenant: "acme"}, false},
		{"admin own tenant", Request{Principal: admin, Action: "s3:DeleteBucket", Bucket: "b", BucketTenant: "acme"}, true},
		{"admin other tenant", Request{Principal: admin, Action: "s3:GetObject", Bucket: "b", Key: "k", BucketTenant: "globex"}, false},
		{"admin missing bucket", Request{Principal: admin, Action: "s3:GetObject", Bucket: "nope", Key: "k"}, false},
		{"policy user, other tenant's bucket", Request{Principal: alice, Action: "s3:GetObject", Bucket: "b", Key: "k", BucketTenant: "globex"}, false},
		{"admin creates bucket", Request{Principal: admin, Action: "s3:CreateBucket", Bucket: "new"}, true},
	}
	a := &Authorizer{}
	for _, c := range cases {
		err := a.Authorize(ctx, &c.req)
		if (err == nil) != c.allow {
			t.Errorf("%s: err = %v, want allow=%v", c.name, err, c.allow)
		}
		if err != nil && !errors.Is(err, ErrDenied) {
			t.Errorf("%s: error %v does not wrap ErrDenied", c.name, err)
		}
	}
}

// TestOffboardingFreeze: a tenant marked as being offboarded MUST NOT
// authenticate, cannot gain users or keys, and stays marked across a
// restart; other tenants are unaffected; cancelling restores it.
func TestOffboardingFreeze(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	m, closeFn := openStore(t, dir)
	_, a, err := m.CreateTenant(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := m.CreateTenant(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	started := time.Unix(1000, 0).UTC()
	tn, err := m.BeginOffboarding("acme", Offboarding{Started: started, Actor: "admin:x"})
	if err != nil || tn.Offboarding == nil {
		t.Fatalf("BeginOffboarding = %+v, %v", tn, err)
	}
	// A second begin keeps the first mark.
	if tn, _ := m.BeginOffboarding("acme", Offboarding{Started: time.Unix(2000, 0), Actor: "admin:y"}); tn.Offboarding.Actor != "admin:x" {
		t.Errorf("second BeginOffboarding replaced the mark: %+v", tn.Offboarding)
	}
	if _, err := m.SetOffboardingPlan("acme", json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	check := func(m *IAM) {
		t.Helper()
		if _, _, ok := m.Lookup(a.ID); ok {
			t.Error("a frozen tenant's key authenticates")
		}
		if _, _, ok := m.Lookup(b.ID); !ok {
			t.Error("another tenant's key stopped working")
		}
		if _, err := m.CreateUser("acme", "u", false); !errors.Is(err, ErrOffboarding) {
			t.Errorf("CreateUser = %v, want ErrOffboarding", err)
		}
		if _, err := m.CreateKey(ctx, "acme", "admin", nil); !errors.Is(err, ErrOffboarding) {
			t.Errorf("CreateKey = %v, want ErrOffboarding", err)
		}
	}
	check(m)
	closeFn()
	m, closeFn = openStore(t, dir)
	defer closeFn()
	check(m)
	tn, err = m.Tenant("acme")
	if err != nil || tn.Offboarding == nil || !tn.Offboarding.Started.Equal(started) || string(tn.Offboarding.Plan) != `{"n":1}` {
		t.Fatalf("after restart: %+v, %v", tn.Offboarding, err)
	}
	if err := m.CancelOffboarding("acme"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := m.Lookup(a.ID); !ok {
		t.Error("the key does not work after CancelOffboarding")
	}
	if _, err := m.BeginOffboarding("nobody", Offboarding{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("BeginOffboarding(missing) = %v", err)
	}
}
