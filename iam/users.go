package iam

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/cofferstore/coffer/iam/policy"
	"github.com/cofferstore/coffer/metadata"
)

// CreateUser adds a user to a tenant. A new user has no policy: it can do
// nothing until one is set (deny by default).
func (m *IAM) CreateUser(tenant, name string, admin bool) (User, error) {
	if !validName(name) {
		return User{}, fmt.Errorf("%w: user name %q", ErrInvalid, name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[tenant]; !ok {
		return User{}, fmt.Errorf("%w: tenant %q", ErrNotFound, tenant)
	}
	if m.offboarding(tenant) {
		return User{}, fmt.Errorf("%w: %q", ErrOffboarding, tenant)
	}
	if _, ok := m.users[userID(tenant, name)]; ok {
		return User{}, fmt.Errorf("%w: user %s/%s", ErrExists, tenant, name)
	}
	u := User{Tenant: tenant, Name: name, Admin: admin, Created: m.now().UTC()}
	if err := m.putUser(u); err != nil {
		return User{}, err
	}
	return u, nil
}

func (m *IAM) putUser(u User) error {
	parsed, err := parsePolicies(u.Policies)
	if err != nil {
		return err
	}
	b := metadata.NewBatch()
	b.Set(userKey(u.Tenant, u.Name), mustJSON(u))
	if err := m.st.Apply(b); err != nil {
		return err
	}
	m.users[userID(u.Tenant, u.Name)] = u
	m.parsed[userID(u.Tenant, u.Name)] = parsed
	return nil
}

// parsePolicies parses a user's identity policies in name order.
func parsePolicies(docs map[string]json.RawMessage) ([]*policy.Policy, error) {
	var out []*policy.Policy
	for _, name := range sortedKeys(docs) {
		p, err := policy.ParseIdentity(docs[name])
		if err != nil {
			return nil, fmt.Errorf("%w: policy %q: %v", ErrInvalid, name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Users lists a tenant's users ("" = all tenants).
func (m *IAM) Users(tenant string) []User {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []User
	for _, u := range m.users {
		if tenant == "" || u.Tenant == tenant {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return userID(out[i].Tenant, out[i].Name) < userID(out[j].Tenant, out[j].Name) })
	return out
}

// DeleteUser removes a user and its keys.
func (m *IAM) DeleteUser(tenant, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[userID(tenant, name)]; !ok {
		return fmt.Errorf("%w: user %s/%s", ErrNotFound, tenant, name)
	}
	b := metadata.NewBatch()
	b.Delete(userKey(tenant, name))
	for kid, c := range m.keys {
		if c.rec.Tenant == tenant && c.rec.User == name {
			b.Delete(accessKeyKey(kid))
		}
	}
	if err := m.st.Apply(b); err != nil {
		return err
	}
	delete(m.users, userID(tenant, name))
	delete(m.parsed, userID(tenant, name))
	for kid, c := range m.keys {
		if c.rec.Tenant == tenant && c.rec.User == name {
			delete(m.keys, kid)
		}
	}
	return nil
}

// SetUserDisabled disables (or re-enables) a user: its keys stop working.
func (m *IAM) SetUserDisabled(tenant, name string, disabled bool) (User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID(tenant, name)]
	if !ok {
		return User{}, fmt.Errorf("%w: user %s/%s", ErrNotFound, tenant, name)
	}
	u.Disabled = disabled
	return u, m.putUser(u)
}

// SetPolicy sets (doc non-nil) or removes (nil) a named identity policy of
// a user. The document must already be validated by the caller's policy
// parser.
func (m *IAM) SetPolicy(tenant, name, policyName string, doc json.RawMessage) (User, error) {
	if !validName(policyName) {
		return User{}, fmt.Errorf("%w: policy name %q", ErrInvalid, policyName)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[userID(tenant, name)]
	if !ok {
		return User{}, fmt.Errorf("%w: user %s/%s", ErrNotFound, tenant, name)
	}
	pols := map[string]json.RawMessage{}
	for k, v := range u.Policies {
		pols[k] = v
	}
	if doc == nil {
		delete(pols, policyName)
	} else {
		pols[policyName] = doc
	}
	u.Policies = pols
	return u, m.putUser(u)
}

// User returns one user.
func (m *IAM) User(tenant, name string) (User, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	u, ok := m.users[userID(tenant, name)]
	if !ok {
		return User{}, fmt.Errorf("%w: user %s/%s", ErrNotFound, tenant, name)
	}
	return u, nil
}

// CreateKey adds an access key to a user (expires, when set, ends it).
func (m *IAM) CreateKey(ctx context.Context, tenant, name string, expires *time.Time) (NewKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[userID(tenant, name)]; !ok {
		return NewKey{}, fmt.Errorf("%w: user %s/%s", ErrNotFound, tenant, name)
	}
	if m.offboarding(tenant) {
		return NewKey{}, fmt.Errorf("%w: %q", ErrOffboarding, tenant)
	}
	nk, kr, err := m.newKey(ctx, tenant, name, expires)
	if err != nil {
		return NewKey{}, err
	}
	b := metadata.NewBatch()
	b.Set(accessKeyKey(nk.ID), mustJSON(kr))
	if err := m.st.Apply(b); err != nil {
		return NewKey{}, err
	}
	m.keys[nk.ID] = cachedKey{rec: nk.AccessKey, secret: nk.Secret}
	return nk, nil
}

// Keys lists the access keys of a tenant ("" = all), optionally of one user.
func (m *IAM) Keys(tenant, user string) []AccessKey {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []AccessKey
	for _, c := range m.keys {
		if (tenant == "" || c.rec.Tenant == tenant) && (user == "" || c.rec.User == user) {
			out = append(out, c.rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// RevokeKey revokes one access key at once. tenant, when not "", must own
// it (a tenant admin cannot revoke another tenant's key; the answer is the
// same as for a missing key).
func (m *IAM) RevokeKey(tenant, id string) (AccessKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.keys[id]
	if !ok || (tenant != "" && c.rec.Tenant != tenant) {
		return AccessKey{}, fmt.Errorf("%w: access key %q", ErrNotFound, id)
	}
	raw, err := m.st.Get(accessKeyKey(id))
	if err != nil {
		return AccessKey{}, err
	}
	var kr keyRecord
	if err := json.Unmarshal(raw, &kr); err != nil {
		return AccessKey{}, err
	}
	kr.Revoked = true
	b := metadata.NewBatch()
	b.Set(accessKeyKey(id), mustJSON(kr))
	if err := m.st.Apply(b); err != nil {
		return AccessKey{}, err
	}
	c.rec.Revoked = true
	m.keys[id] = c
	return c.rec, nil
}

// Lookup resolves an access key to its secret and principal. ok is false
// for an unknown, revoked or expired key, a disabled user, or a tenant
// being offboarded.
func (m *IAM) Lookup(accessKey string) (secret string, p Principal, ok bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, found := m.keys[accessKey]
	if !found || c.rec.Revoked || (c.rec.Expires != nil && !m.now().Before(*c.rec.Expires)) {
		return "", Principal{}, false
	}
	u, found := m.users[userID(c.rec.Tenant, c.rec.User)]
	if !found || u.Disabled || m.offboarding(u.Tenant) {
		return "", Principal{}, false
	}
	p = Principal{Tenant: u.Tenant, User: u.Name, CanonicalID: CanonicalID(u.Tenant), Admin: u.Admin, AccessKey: accessKey, Policies: m.parsed[userID(u.Tenant, u.Name)]}
	return c.secret, p, true
}

func sortedKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
