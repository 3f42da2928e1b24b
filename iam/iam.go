// Package iam holds coffer's identities: tenants (the accounts that own
// buckets and keys), their users, and the users' access keys and identity
// policies. Root — the operator and break-glass account — is not stored
// here; its credentials come from the server configuration.
//
// Guarantees:
//   - A secret access key MUST NOT be stored in plaintext: it is sealed by
//     the KMS provider (key "_coffer/iam-secrets", additional data = the
//     access key id) and appears in clear only in memory and in the one
//     answer that creates it.
//   - Every change is durable (one metadata batch) and takes effect at once
//     for every later request: lookups read an in-memory view that each
//     change updates under the same lock.
//   - A user can do nothing until a policy grants it (deny by default);
//     authorization itself is in package iam/policy.
package iam

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/iam/policy"
	"github.com/cofferstore/coffer/metadata"
)

// Sentinel errors; wrapped with context, test with errors.Is.
var (
	ErrExists   = errors.New("iam: already exists")
	ErrNotFound = errors.New("iam: not found")
	ErrInvalid  = errors.New("iam: invalid argument")
	// ErrNotEmpty is returned when a tenant that still owns buckets would
	// be deleted without shredding.
	ErrNotEmpty = errors.New("iam: tenant not empty")
	// ErrOffboarding is returned for changes to a tenant that is being
	// offboarded (no user or access key may be added to it).
	ErrOffboarding = errors.New("iam: tenant is being offboarded")
)

// RootTenant is the tenant of the root account (it owns the buckets root
// creates).
const RootTenant = "root"

// systemTenant and secretKeyName name the KMS key that seals secrets.
const (
	systemTenant  = "_coffer"
	secretKeyName = "iam-secrets"
)

// TablePrefix is this package's table in the metadata keyspace ('I'):
// It<tenant>, Iu<tenant>\0<user>, Ik<access key>.
const TablePrefix = 'I'

// Tenant is an account.
type Tenant struct {
	ID          string    `json:"id"`
	CanonicalID string    `json:"canonical_id"`
	Created     time.Time `json:"created"`
	// Offboarding is set while the tenant is being offboarded (package
	// offboard). While it is set the tenant's access keys MUST NOT
	// authenticate and no user or key may be added.
	Offboarding *Offboarding `json:"offboarding,omitempty"`
}

// Offboarding is the persisted state of a tenant offboarding, so that an
// interrupted one resumes.
type Offboarding struct {
	Started time.Time `json:"started"` // compliance clock
	Actor   string    `json:"actor"`
	// Plan is the offboarding's own record (package offboard owns its
	// format); empty until the inventory was taken.
	Plan json.RawMessage `json:"plan,omitempty"`
}

// User is a tenant's user.
type User struct {
	Tenant   string    `json:"tenant"`
	Name     string    `json:"name"`
	Admin    bool      `json:"admin"` // tenant administrator: everything within its tenant
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
	// Policies are identity policy documents (AWS IAM JSON) by name.
	Policies map[string]json.RawMessage `json:"policies,omitempty"`
}

// AccessKey is a user's access key (without its secret).
type AccessKey struct {
	ID      string     `json:"access_key"`
	Tenant  string     `json:"tenant"`
	User    string     `json:"user"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	Revoked bool       `json:"revoked"`
}

// NewKey is an access key with its secret, returned once on creation.
type NewKey struct {
	AccessKey
	Secret string `json:"secret_key"`
}

type keyRecord struct {
	AccessKey
	Sealed kms.Sealed `json:"sealed_secret"`
}

// Principal is the authenticated caller of a request.
type Principal struct {
	Tenant      string
	User        string // "" for root
	CanonicalID string
	Root        bool
	Admin       bool
	AccessKey   string
	// Policies are the user's parsed identity policies.
	Policies []*policy.Policy
}

// ARN is the principal's coffer ARN.
func (p Principal) ARN() string {
	if p.Root || p.User == "" {
		return "arn:coffer:iam::" + p.Tenant + ":root"
	}
	return "arn:coffer:iam::" + p.Tenant + ":user/" + p.User
}

// CanonicalID derives a tenant's stable canonical id (the S3 owner id).
func CanonicalID(tenant string) string {
	sum := sha256.Sum256([]byte("coffer-canonical-id:" + tenant))
	return hex.EncodeToString(sum[:])
}

// IAM is the identity store.
type IAM struct {
	st  metadata.Store
	kms kms.Provider
	now func() time.Time

	mu      sync.RWMutex
	tenants map[string]Tenant
	users   map[string]User // tenant\0name
	parsed  map[string][]*policy.Policy
	keys    map[string]cachedKey
}

type cachedKey struct {
	rec    AccessKey
	secret string
}

// Open loads the identity store from st; secrets are sealed with prov.
func Open(ctx context.Context, st metadata.Store, prov kms.Provider) (*IAM, error) {
	m := &IAM{st: st, kms: prov, now: time.Now, tenants: map[string]Tenant{}, users: map[string]User{}, parsed: map[string][]*policy.Policy{}, keys: map[string]cachedKey{}}
	if _, err := prov.Key(ctx, systemTenant, secretKeyName); errors.Is(err, kms.ErrNoSuchKey) {
		if _, err := prov.CreateKey(ctx, systemTenant, secretKeyName); err != nil && !errors.Is(err, kms.ErrKeyExists) {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	it, err := st.NewIter([]byte{TablePrefix}, []byte{TablePrefix + 1})
	if err != nil {
		return nil, err
	}
	for ok := it.First(); ok; ok = it.Next() {
		k, v := it.Key(), it.Value()
		switch k[1] {
		case 't':
			var t Tenant
			if err := json.Unmarshal(v, &t); err != nil {
				it.Close()
				return nil, err
			}
			m.tenants[t.ID] = t
		case 'u':
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				it.Close()
				return nil, err
			}
			m.users[userID(u.Tenant, u.Name)] = u
			parsed, err := parsePolicies(u.Policies)
			if err != nil {
				it.Close()
				return nil, err
			}
			m.parsed[userID(u.Tenant, u.Name)] = parsed
		case 'k':
			var kr keyRecord
			if err := json.Unmarshal(v, &kr); err != nil {
				it.Close()
				return nil, err
			}
			secret, err := prov.Unseal(ctx, kr.Sealed, []byte(kr.ID))
			if err != nil {
				it.Close()
				return nil, fmt.Errorf("iam: unsealing the secret of %s: %w", kr.ID, err)
			}
			m.keys[kr.ID] = cachedKey{rec: kr.AccessKey, secret: string(secret)}
			kms.Zero(secret)
		}
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	return m, nil
}

func tenantKey(id string) []byte        { return append([]byte{TablePrefix, 't'}, id...) }
func userKey(t, name string) []byte     { return append([]byte{TablePrefix, 'u'}, t+"\x00"+name...) }
func accessKeyKey(id string) []byte     { return append([]byte{TablePrefix, 'k'}, id...) }
func validName(s string) bool           { return kms.ValidName(s) && s != systemTenant }
func userID(tenant, name string) string { return tenant + "\x00" + name }

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// CreateTenant creates a tenant with its first administrator user "admin"
// and returns that user's access key and secret (shown once).
func (m *IAM) CreateTenant(ctx context.Context, id string) (Tenant, NewKey, error) {
	if !validName(id) || id == RootTenant {
		return Tenant{}, NewKey{}, fmt.Errorf("%w: tenant id %q", ErrInvalid, id)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[id]; ok {
		return Tenant{}, NewKey{}, fmt.Errorf("%w: tenant %q", ErrExists, id)
	}
	t := Tenant{ID: id, CanonicalID: CanonicalID(id), Created: m.now().UTC()}
	u := User{Tenant: id, Name: "admin", Admin: true, Created: t.Created}
	b := metadata.NewBatch()
	b.Set(tenantKey(id), mustJSON(t))
	b.Set(userKey(id, u.Name), mustJSON(u))
	nk, kr, err := m.newKey(ctx, id, u.Name, nil)
	if err != nil {
		return Tenant{}, NewKey{}, err
	}
	b.Set(accessKeyKey(nk.ID), mustJSON(kr))
	if err := m.st.Apply(b); err != nil {
		return Tenant{}, NewKey{}, err
	}
	m.tenants[id] = t
	m.users[userID(id, u.Name)] = u
	m.keys[nk.ID] = cachedKey{rec: nk.AccessKey, secret: nk.Secret}
	return t, nk, nil
}

// newKey makes an access key and its sealed record (not stored).
func (m *IAM) newKey(ctx context.Context, tenant, user string, expires *time.Time) (NewKey, keyRecord, error) {
	id := "CK" + randomString(18, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
	secret := randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
	ak := AccessKey{ID: id, Tenant: tenant, User: user, Created: m.now().UTC(), Expires: expires}
	sealed, err := m.kms.Seal(ctx, systemTenant, secretKeyName, []byte(secret), []byte(id))
	if err != nil {
		return NewKey{}, keyRecord{}, err
	}
	return NewKey{AccessKey: ak, Secret: secret}, keyRecord{AccessKey: ak, Sealed: sealed}, nil
}

// Tenants lists tenants by id.
func (m *IAM) Tenants() []Tenant {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Tenant, 0, len(m.tenants))
	for _, t := range m.tenants {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Tenant returns one tenant.
func (m *IAM) Tenant(id string) (Tenant, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.tenants[id]
	if !ok {
		return Tenant{}, fmt.Errorf("%w: tenant %q", ErrNotFound, id)
	}
	return t, nil
}

// BeginOffboarding marks tenant as being offboarded (durably, at once for
// every later request): its keys stop authenticating. If it is already
// marked, the existing mark is kept and returned.
func (m *IAM) BeginOffboarding(id string, o Offboarding) (Tenant, error) {
	return m.updateTenant(id, func(t *Tenant) {
		if t.Offboarding == nil {
			t.Offboarding = &o
		}
	})
}

// SetOffboardingPlan stores the offboarding's plan on a marked tenant.
func (m *IAM) SetOffboardingPlan(id string, plan json.RawMessage) (Tenant, error) {
	return m.updateTenant(id, func(t *Tenant) {
		if t.Offboarding != nil {
			t.Offboarding.Plan = plan
		}
	})
}

// CancelOffboarding removes the offboarding mark (an offboarding refused
// before it destroyed anything): the tenant's keys work again.
func (m *IAM) CancelOffboarding(id string) error {
	_, err := m.updateTenant(id, func(t *Tenant) { t.Offboarding = nil })
	return err
}

// updateTenant applies fn to a copy of the tenant and stores it.
func (m *IAM) updateTenant(id string, fn func(*Tenant)) (Tenant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tenants[id]
	if !ok {
		return Tenant{}, fmt.Errorf("%w: tenant %q", ErrNotFound, id)
	}
	if t.Offboarding != nil {
		o := *t.Offboarding
		t.Offboarding = &o
	}
	fn(&t)
	b := metadata.NewBatch()
	b.Set(tenantKey(id), mustJSON(t))
	if err := m.st.Apply(b); err != nil {
		return Tenant{}, err
	}
	m.tenants[id] = t
	return t, nil
}

// offboarding reports whether tenant is being offboarded. The caller
// holds m.mu.
func (m *IAM) offboarding(tenant string) bool {
	t, ok := m.tenants[tenant]
	return ok && t.Offboarding != nil
}

// DeleteTenant removes a tenant with its users and keys. The caller MUST
// first check that the tenant owns no bucket.
func (m *IAM) DeleteTenant(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[id]; !ok {
		return fmt.Errorf("%w: tenant %q", ErrNotFound, id)
	}
	b := metadata.NewBatch()
	b.Delete(tenantKey(id))
	for k, u := range m.users {
		if u.Tenant == id {
			b.Delete(userKey(id, u.Name))
			_ = k
		}
	}
	for kid, c := range m.keys {
		if c.rec.Tenant == id {
			b.Delete(accessKeyKey(kid))
		}
	}
	if err := m.st.Apply(b); err != nil {
		return err
	}
	delete(m.tenants, id)
	for k, u := range m.users {
		if u.Tenant == id {
			delete(m.users, k)
			delete(m.parsed, k)
		}
	}
	for kid, c := range m.keys {
		if c.rec.Tenant == id {
			delete(m.keys, kid)
		}
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
