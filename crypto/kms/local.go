package kms

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ErrCorrupt is returned (wrapped) when a record in the key store is
// malformed or fails authentication under the master key.
var ErrCorrupt = errors.New("kms: key store record corrupt")

// Store is the persistence Local needs: an ordered key-value store with
// atomic, durable batches. It is the subset of metadata.Store that kms uses,
// declared here so that kms does not depend on the metadata package; package
// kmsmeta adapts any metadata.Store (Pebble, Replicated) to it.
//
// Implementations MUST be safe for concurrent use.
type Store interface {
	// Get returns a copy of the value under key and found=true, or
	// found=false with a nil error if key has no value.
	Get(key []byte) (value []byte, found bool, err error)
	// Apply applies muts atomically and durably, in order: on a nil return
	// all of them are visible to later reads and survive a crash; a reader
	// sees all of them or none.
	Apply(muts []Mutation) error
	// Scan calls fn for every key in [lower, upper) in ascending bytewise
	// order, from a consistent view, stopping at fn's first error, which it
	// returns. key and value are valid only during the call. Both bounds
	// are non-nil.
	Scan(lower, upper []byte, fn func(key, value []byte) error) error
}

// Mutation is one operation of Store.Apply: set Key to Value, or delete
// Key when Delete is true.
type Mutation struct {
	Key, Value []byte
	Delete     bool
}

// Storage layout of Local under its prefix P (all integers big endian):
//
//	P "\x00" "master-check"            -> 0x01 || HMAC-SHA256(macKey, "coffer-kms-master-check")
//	P tenant "\x00" name               -> key record: 0x01 || current(4) || created unix ns(8) || mac(32)
//	P tenant "\x00" name "\x00" ver(4) -> KEK version: 0x01 || nonce(12) || AES-256-GCM_master(kek(32)) (48)
//
// The KEK version's GCM additional data is
// "coffer-kek\x00" tenant "\x00" name "\x00" ver(4). The key record's mac is
// HMAC-SHA256(macKey, "coffer-kms-key-record\x00" tenant "\x00" name "\x00"
// body) over its first 13 bytes. macKey = HKDF-SHA256(master, no salt,
// "coffer-kms-record-mac-v1"). Names never contain "\x00", so a key record
// sorts immediately before its versions and the layout is unambiguous.
const (
	recordFormat   = 1
	kekLen         = 32
	keyRecordLen   = 1 + 4 + 8 + sha256.Size
	kekRecordLen   = 1 + gcmNonceLen + kekLen + gcmTagLen
	gcmNonceLen    = 12
	gcmTagLen      = 16
	masterCheckKey = "\x00master-check"
	maxCachedKEKs  = 1024
)

// Local is the built-in Provider: KEKs are random 32-byte keys stored in a
// Store, each sealed by the master key with AES-256-GCM.
//
// Guarantees:
//   - Plaintext KEKs and the master key MUST NOT reach the Store, errors or
//     String output; unsealed KEKs live only in a bounded in-memory cache
//     that is zeroed on DestroyKey, DestroyVersion, eviction and Close.
//   - Mutations (CreateKey, Rotate, Destroy*) are serialised and each is one
//     atomic Store batch. They are linearizable with Seal and Unseal: once
//     DestroyKey or DestroyVersion returns, no Seal or Unseal of this Local
//     uses the destroyed version.
//
// Local assumes it is the only writer under its prefix: two Locals (or two
// processes) over the same prefix of one store are not supported, because
// each caches KEKs and would not see the other's destroys.
//
// Deleting a record removes it from the Store's logical view; whether the
// physical bytes (old SSTs, WAL segments, replicas) are erased is up to the
// Store. Those bytes are sealed by the master key, so shredding a KEK is
// complete once the master key is also unavailable or those bytes compacted.
type Local struct {
	st     Store
	prefix []byte
	now    func() time.Time

	// mu is held for writing by mutations and Close, for reading by every
	// other operation; it guards closed, master, macKey and masterAEAD.
	mu         sync.RWMutex
	closed     bool
	master     []byte
	macKey     []byte
	masterAEAD cipher.AEAD

	cacheMu sync.Mutex
	cache   map[versionID][]byte // unsealed KEKs; owned by the cache
}

// versionID names one KEK version.
type versionID struct {
	tenant, name string
	version      uint32
}

var _ Provider = (*Local)(nil)

// NewLocal returns the local provider over st, keeping its records under
// prefix (for example []byte("K")), which must be non-empty, must not begin
// with 0xFF and must not be a prefix of any other user of st. master must be
// 32 bytes; it is copied, and the caller may Zero its copy. On first use
// NewLocal stores a check value derived from master; later it returns
// ErrMasterKeyMismatch if master differs from the one used then.
func NewLocal(master []byte, st Store, prefix []byte) (*Local, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("kms: master key must be 32 bytes, got %d: %w", len(master), ErrInvalidInput)
	}
	if st == nil || len(prefix) == 0 || prefix[0] == 0xFF {
		return nil, fmt.Errorf("kms: NewLocal: nil store or invalid prefix: %w", ErrInvalidInput)
	}
	l := &Local{
		st:     st,
		prefix: bytes.Clone(prefix),
		now:    time.Now,
		master: bytes.Clone(master),
		cache:  make(map[versionID][]byte),
	}
	var err error
	l.masterAEAD, err = newGCM(l.master)
	if err != nil {
		l.wipe()
		return nil, err
	}
	l.macKey, err = hkdf.Key(sha256.New, l.master, nil, "coffer-kms-record-mac-v1", 32)
	if err != nil {
		l.wipe()
		return nil, fmt.Errorf("kms: derive record key: %w", err)
	}
	if err := l.checkMaster(); err != nil {
		l.wipe()
		return nil, err
	}
	return l, nil
}

// checkMaster verifies, or on first use records, the master-key check value.
func (l *Local) checkMaster() error {
	m := hmac.New(sha256.New, l.macKey)
	m.Write([]byte("coffer-kms-master-check"))
	want := append([]byte{recordFormat}, m.Sum(nil)...)
	k := l.key(masterCheckKey)
	got, found, err := l.st.Get(k)
	if err != nil {
		return fmt.Errorf("kms: read master check: %w", err)
	}
	if found {
		if !hmac.Equal(got, want) {
			return ErrMasterKeyMismatch
		}
		return nil
	}
	if err := l.st.Apply([]Mutation{{Key: k, Value: want}}); err != nil {
		return fmt.Errorf("kms: write master check: %w", err)
	}
	return nil
}

// String describes l without any secret.
func (l *Local) String() string { return fmt.Sprintf("kms.Local(prefix %q)", l.prefix) }

// GoString is String, so that %#v prints no secret either.
func (l *Local) GoString() string { return l.String() }

// Close zeroes the master key and every cached KEK. Later calls of any
// method return ErrClosed. It does not close the Store.
func (l *Local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	l.wipe()
	return nil
}

// wipe zeroes all key material held by l.
func (l *Local) wipe() {
	Zero(l.master)
	Zero(l.macKey)
	l.master, l.macKey, l.masterAEAD = nil, nil, nil
	l.cacheMu.Lock()
	for id, k := range l.cache {
		Zero(k)
		delete(l.cache, id)
	}
	l.cacheMu.Unlock()
}

// rlock takes the read lock and checks ctx and closed; on nil the caller
// must RUnlock.
func (l *Local) rlock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// lock is rlock for writers; on nil the caller must Unlock.
func (l *Local) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// CreateKey implements Provider.CreateKey.
func (l *Local) CreateKey(ctx context.Context, tenant, name string) (KeyInfo, error) {
	if err := checkNames(tenant, name); err != nil {
		return KeyInfo{}, err
	}
	if err := l.lock(ctx); err != nil {
		return KeyInfo{}, err
	}
	defer l.mu.Unlock()
	_, found, err := l.st.Get(l.key(tenant, name))
	if err != nil {
		return KeyInfo{}, fmt.Errorf("kms: create %s/%s: %w", tenant, name, err)
	}
	if found {
		return KeyInfo{}, fmt.Errorf("kms: create %s/%s: %w", tenant, name, ErrKeyExists)
	}
	created := l.now().UTC().Round(0)
	rec := keyRecord{current: 1, created: created}
	if err := l.writeVersion(tenant, name, rec); err != nil {
		return KeyInfo{}, fmt.Errorf("kms: create %s/%s: %w", tenant, name, err)
	}
	return KeyInfo{Tenant: tenant, Name: name, Current: 1, Versions: []int{1}, Created: created}, nil
}

// writeVersion generates KEK version rec.current, stores it sealed together
// with rec in one batch, and caches it. The caller holds l.mu for writing.
func (l *Local) writeVersion(tenant, name string, rec keyRecord) error {
	kek := make([]byte, kekLen)
	if _, err := rand.Read(kek); err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	nonce := make([]byte, gcmNonceLen)
	if _, err := rand.Read(nonce); err != nil {
		Zero(kek)
		return fmt.Errorf("generate nonce: %w", err)
	}
	val := append([]byte{recordFormat}, nonce...)
	val = l.masterAEAD.Seal(val, nonce, kek, kekAAD(tenant, name, rec.current))
	err := l.st.Apply([]Mutation{
		{Key: l.key(tenant, name), Value: l.encodeRecord(tenant, name, rec)},
		{Key: l.versionKey(tenant, name, rec.current), Value: val},
	})
	if err != nil {
		Zero(kek)
		return err
	}
	l.cachePut(versionID{tenant, name, rec.current}, kek)
	return nil
}

// Key implements Provider.Key.
func (l *Local) Key(ctx context.Context, tenant, name string) (KeyInfo, error) {
	if err := checkNames(tenant, name); err != nil {
		return KeyInfo{}, err
	}
	if err := l.rlock(ctx); err != nil {
		return KeyInfo{}, err
	}
	defer l.mu.RUnlock()
	info, err := l.loadKey(tenant, name)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("kms: key %s/%s: %w", tenant, name, err)
	}
	return info, nil
}

// loadKey reads and verifies the key record and lists the live versions.
func (l *Local) loadKey(tenant, name string) (KeyInfo, error) {
	v, found, err := l.st.Get(l.key(tenant, name))
	if err != nil {
		return KeyInfo{}, err
	}
	if !found {
		return KeyInfo{}, ErrNoSuchKey
	}
	rec, err := l.decodeRecord(tenant, name, v)
	if err != nil {
		return KeyInfo{}, err
	}
	info := KeyInfo{Tenant: tenant, Name: name, Current: int(rec.current), Created: rec.created}
	lower := l.key(tenant, name, "")
	upper := append(bytes.Clone(lower[:len(lower)-1]), 1)
	err = l.st.Scan(lower, upper, func(k, _ []byte) error {
		ver, ok := parseVersion(k[len(lower):])
		if !ok {
			return fmt.Errorf("%w: bad version key", ErrCorrupt)
		}
		info.Versions = append(info.Versions, int(ver))
		return nil
	})
	if err != nil {
		return KeyInfo{}, err
	}
	if !slices.Contains(info.Versions, info.Current) {
		return KeyInfo{}, fmt.Errorf("%w: current version %d missing", ErrCorrupt, info.Current)
	}
	return info, nil
}

// ListKeys implements Provider.ListKeys.
func (l *Local) ListKeys(ctx context.Context, tenant string) ([]KeyInfo, error) {
	if tenant != "" {
		if err := checkNames(tenant); err != nil {
			return nil, err
		}
	}
	if err := l.rlock(ctx); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	lower, upper := l.prefix, prefixEnd(l.prefix)
	if tenant != "" {
		lower = l.key(tenant, "")
		upper = append(bytes.Clone(lower[:len(lower)-1]), 1)
	}
	var out []KeyInfo
	err := l.st.Scan(lower, upper, func(k, v []byte) error {
		rest := k[len(l.prefix):]
		t, r, ok := bytes.Cut(rest, []byte{0})
		if !ok || len(t) == 0 {
			return nil // the master check record
		}
		n, ver, isVersion := bytes.Cut(r, []byte{0})
		if !isVersion {
			rec, err := l.decodeRecord(string(t), string(n), v)
			if err != nil {
				return fmt.Errorf("%s/%s: %w", t, n, err)
			}
			out = append(out, KeyInfo{Tenant: string(t), Name: string(n), Current: int(rec.current), Created: rec.created})
			return nil
		}
		num, ok := parseVersion(ver)
		if !ok || len(out) == 0 || out[len(out)-1].Tenant != string(t) || out[len(out)-1].Name != string(n) {
			return fmt.Errorf("%w: orphan or malformed version record", ErrCorrupt)
		}
		out[len(out)-1].Versions = append(out[len(out)-1].Versions, int(num))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kms: list keys: %w", err)
	}
	return out, nil
}

// Rotate implements Provider.Rotate.
func (l *Local) Rotate(ctx context.Context, tenant, name string) (KeyInfo, error) {
	if err := checkNames(tenant, name); err != nil {
		return KeyInfo{}, err
	}
	if err := l.lock(ctx); err != nil {
		return KeyInfo{}, err
	}
	defer l.mu.Unlock()
	info, err := l.loadKey(tenant, name)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("kms: rotate %s/%s: %w", tenant, name, err)
	}
	next := info.Versions[len(info.Versions)-1] + 1
	if next > maxVersion {
		return KeyInfo{}, fmt.Errorf("kms: rotate %s/%s: version space exhausted: %w", tenant, name, ErrInvalidInput)
	}
	rec := keyRecord{current: uint32(next), created: info.Created}
	if err := l.writeVersion(tenant, name, rec); err != nil {
		return KeyInfo{}, fmt.Errorf("kms: rotate %s/%s: %w", tenant, name, err)
	}
	info.Current = next
	info.Versions = append(info.Versions, next)
	return info, nil
}

// Seal implements Provider.Seal. The ciphertext is nonce(12) ||
// AES-256-GCM(kek, nonce, plaintext, A) where A is aad || "coffer-seal\x00"
// || tenant || "\x00" || name || "\x00" || version(4) || len(aad)(8), all
// integers big endian.
func (l *Local) Seal(ctx context.Context, tenant, name string, plaintext, aad []byte) (Sealed, error) {
	if err := checkNames(tenant, name); err != nil {
		return Sealed{}, err
	}
	if len(plaintext) > MaxSealSize {
		return Sealed{}, fmt.Errorf("kms: seal: plaintext of %d bytes exceeds %d: %w", len(plaintext), MaxSealSize, ErrInvalidInput)
	}
	if err := l.rlock(ctx); err != nil {
		return Sealed{}, err
	}
	defer l.mu.RUnlock()
	v, found, err := l.st.Get(l.key(tenant, name))
	if err != nil {
		return Sealed{}, fmt.Errorf("kms: seal %s/%s: %w", tenant, name, err)
	}
	if !found {
		return Sealed{}, fmt.Errorf("kms: seal %s/%s: %w", tenant, name, ErrNoSuchKey)
	}
	rec, err := l.decodeRecord(tenant, name, v)
	if err != nil {
		return Sealed{}, fmt.Errorf("kms: seal %s/%s: %w", tenant, name, err)
	}
	aead, err := l.kekAEAD(tenant, name, rec.current)
	if err != nil {
		return Sealed{}, fmt.Errorf("kms: seal %s/%s v%d: %w", tenant, name, rec.current, err)
	}
	nonce := make([]byte, gcmNonceLen, gcmNonceLen+len(plaintext)+gcmTagLen)
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, fmt.Errorf("kms: seal: nonce: %w", err)
	}
	ct := aead.Seal(nonce, nonce, plaintext, sealAAD(aad, tenant, name, rec.current))
	return Sealed{Tenant: tenant, Name: name, Version: int(rec.current), Ciphertext: ct}, nil
}

// Unseal implements Provider.Unseal.
func (l *Local) Unseal(ctx context.Context, s Sealed, aad []byte) ([]byte, error) {
	if err := checkNames(s.Tenant, s.Name); err != nil {
		return nil, err
	}
	if s.Version < 1 || s.Version > maxVersion {
		return nil, fmt.Errorf("kms: unseal %s/%s v%d: %w", s.Tenant, s.Name, s.Version, ErrNoSuchVersion)
	}
	if err := l.rlock(ctx); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	ver := uint32(s.Version)
	aead, err := l.kekAEAD(s.Tenant, s.Name, ver)
	if errors.Is(err, ErrNoSuchVersion) {
		if _, found, gerr := l.st.Get(l.key(s.Tenant, s.Name)); gerr == nil && !found {
			err = ErrNoSuchKey
		}
	}
	if err != nil {
		return nil, fmt.Errorf("kms: unseal %s/%s v%d: %w", s.Tenant, s.Name, s.Version, err)
	}
	if len(s.Ciphertext) < gcmNonceLen+gcmTagLen {
		return nil, fmt.Errorf("kms: unseal %s/%s v%d: %w", s.Tenant, s.Name, s.Version, ErrUnseal)
	}
	nonce, ct := s.Ciphertext[:gcmNonceLen], s.Ciphertext[gcmNonceLen:]
	pt, err := aead.Open(nil, nonce, ct, sealAAD(aad, s.Tenant, s.Name, ver))
	if err != nil {
		return nil, fmt.Errorf("kms: unseal %s/%s v%d: %w", s.Tenant, s.Name, s.Version, ErrUnseal)
	}
	return pt, nil
}

// DestroyKey implements Provider.DestroyKey: the key record and every
// version record are deleted in one batch and the cached KEKs zeroed.
func (l *Local) DestroyKey(ctx context.Context, tenant, name string) error {
	if err := checkNames(tenant, name); err != nil {
		return err
	}
	if err := l.lock(ctx); err != nil {
		return err
	}
	defer l.mu.Unlock()
	rk := l.key(tenant, name)
	_, found, err := l.st.Get(rk)
	if err != nil {
		return fmt.Errorf("kms: destroy %s/%s: %w", tenant, name, err)
	}
	if !found {
		return fmt.Errorf("kms: destroy %s/%s: %w", tenant, name, ErrNoSuchKey)
	}
	muts := []Mutation{{Key: rk, Delete: true}}
	lower := l.key(tenant, name, "")
	upper := append(bytes.Clone(lower[:len(lower)-1]), 1)
	err = l.st.Scan(lower, upper, func(k, _ []byte) error {
		muts = append(muts, Mutation{Key: bytes.Clone(k), Delete: true})
		return nil
	})
	if err == nil {
		err = l.st.Apply(muts)
	}
	if err != nil {
		return fmt.Errorf("kms: destroy %s/%s: %w", tenant, name, err)
	}
	l.cacheMu.Lock()
	for id, k := range l.cache {
		if id.tenant == tenant && id.name == name {
			Zero(k)
			delete(l.cache, id)
		}
	}
	l.cacheMu.Unlock()
	return nil
}

// DestroyTenant implements Provider.DestroyTenant: every key record and
// version record of the tenant is deleted in one batch (all or nothing)
// and the tenant's cached KEKs are zeroed.
func (l *Local) DestroyTenant(ctx context.Context, tenant string) ([]KeyInfo, error) {
	if err := checkNames(tenant); err != nil {
		return nil, err
	}
	if err := l.lock(ctx); err != nil {
		return nil, err
	}
	defer l.mu.Unlock()
	lower := l.key(tenant, "")
	upper := append(bytes.Clone(lower[:len(lower)-1]), 1)
	var muts []Mutation
	var names []string
	err := l.st.Scan(lower, upper, func(k, _ []byte) error {
		muts = append(muts, Mutation{Key: bytes.Clone(k), Delete: true})
		if n, _, isVersion := bytes.Cut(k[len(lower):], []byte{0}); !isVersion {
			names = append(names, string(n))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kms: destroy tenant %s: %w", tenant, err)
	}
	out := make([]KeyInfo, 0, len(names))
	for _, n := range names {
		info, err := l.loadKey(tenant, n)
		if err != nil {
			return nil, fmt.Errorf("kms: destroy tenant %s: key %s: %w", tenant, n, err)
		}
		out = append(out, info)
	}
	if len(muts) > 0 {
		if err := l.st.Apply(muts); err != nil {
			return nil, fmt.Errorf("kms: destroy tenant %s: %w", tenant, err)
		}
	}
	l.cacheMu.Lock()
	for id, k := range l.cache {
		if id.tenant == tenant {
			Zero(k)
			delete(l.cache, id)
		}
	}
	l.cacheMu.Unlock()
	return out, nil
}

// DestroyVersion implements Provider.DestroyVersion.
func (l *Local) DestroyVersion(ctx context.Context, tenant, name string, version int) error {
	if err := checkNames(tenant, name); err != nil {
		return err
	}
	if err := l.lock(ctx); err != nil {
		return err
	}
	defer l.mu.Unlock()
	info, err := l.loadKey(tenant, name)
	if err == nil && version == info.Current {
		err = ErrCurrentVersion
	} else if err == nil && !slices.Contains(info.Versions, version) {
		err = ErrNoSuchVersion
	}
	if err == nil {
		err = l.st.Apply([]Mutation{{Key: l.versionKey(tenant, name, uint32(version)), Delete: true}})
	}
	if err != nil {
		return fmt.Errorf("kms: destroy %s/%s v%d: %w", tenant, name, version, err)
	}
	id := versionID{tenant, name, uint32(version)}
	l.cacheMu.Lock()
	Zero(l.cache[id])
	delete(l.cache, id)
	l.cacheMu.Unlock()
	return nil
}

// kekAEAD returns an AES-GCM instance for a KEK version, from the cache or
// by unsealing its record (ErrNoSuchVersion if absent). The caller holds
// l.mu. The returned AEAD holds its own copy of the key schedule, so a
// concurrent eviction that zeroes the cached bytes cannot affect it.
func (l *Local) kekAEAD(tenant, name string, version uint32) (cipher.AEAD, error) {
	id := versionID{tenant, name, version}
	l.cacheMu.Lock()
	if k, ok := l.cache[id]; ok {
		aead, err := newGCM(k)
		l.cacheMu.Unlock()
		return aead, err
	}
	l.cacheMu.Unlock()
	v, found, err := l.st.Get(l.versionKey(tenant, name, version))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, ErrNoSuchVersion
	}
	if len(v) != kekRecordLen || v[0] != recordFormat {
		return nil, fmt.Errorf("%w: bad key version record", ErrCorrupt)
	}
	nonce := v[1 : 1+gcmNonceLen]
	kek, err := l.masterAEAD.Open(nil, nonce, v[1+gcmNonceLen:], kekAAD(tenant, name, version))
	if err != nil {
		return nil, fmt.Errorf("%w: key version record fails authentication", ErrCorrupt)
	}
	aead, err := newGCM(kek)
	if err != nil {
		Zero(kek)
		return nil, err
	}
	l.cachePut(id, kek)
	return aead, nil
}

// cachePut stores kek (taking ownership) in the cache, evicting and zeroing
// an arbitrary entry when the cache is full.
func (l *Local) cachePut(id versionID, kek []byte) {
	l.cacheMu.Lock()
	defer l.cacheMu.Unlock()
	if old, ok := l.cache[id]; ok {
		Zero(old)
	} else if len(l.cache) >= maxCachedKEKs {
		for victim, k := range l.cache {
			Zero(k)
			delete(l.cache, victim)
			break
		}
	}
	l.cache[id] = kek
}

// keyRecord is the decoded key record.
type keyRecord struct {
	current uint32
	created time.Time
}

func (l *Local) encodeRecord(tenant, name string, r keyRecord) []byte {
	b := make([]byte, 0, keyRecordLen)
	b = append(b, recordFormat)
	b = appendUint32(b, r.current)
	b = binary.BigEndian.AppendUint64(b, uint64(r.created.UnixNano()))
	return append(b, l.recordMAC(tenant, name, b)...)
}

func (l *Local) decodeRecord(tenant, name string, v []byte) (keyRecord, error) {
	if len(v) != keyRecordLen || v[0] != recordFormat {
		return keyRecord{}, fmt.Errorf("%w: bad key record", ErrCorrupt)
	}
	body := v[:keyRecordLen-sha256.Size]
	if !hmac.Equal(v[len(body):], l.recordMAC(tenant, name, body)) {
		return keyRecord{}, fmt.Errorf("%w: key record fails authentication", ErrCorrupt)
	}
	cur := binary.BigEndian.Uint32(body[1:5])
	if cur == 0 {
		return keyRecord{}, fmt.Errorf("%w: bad key record", ErrCorrupt)
	}
	created := time.Unix(0, int64(binary.BigEndian.Uint64(body[5:13]))).UTC()
	return keyRecord{current: cur, created: created}, nil
}

func (l *Local) recordMAC(tenant, name string, body []byte) []byte {
	m := hmac.New(sha256.New, l.macKey)
	m.Write([]byte("coffer-kms-key-record\x00" + tenant + "\x00" + name + "\x00"))
	m.Write(body)
	return m.Sum(nil)
}

// key returns prefix || parts joined by "\x00".
func (l *Local) key(parts ...string) []byte {
	b := bytes.Clone(l.prefix)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

func (l *Local) versionKey(tenant, name string, version uint32) []byte {
	return appendUint32(l.key(tenant, name, ""), version)
}

func parseVersion(b []byte) (uint32, bool) {
	if len(b) != 4 {
		return 0, false
	}
	v := binary.BigEndian.Uint32(b)
	return v, v != 0
}

// prefixEnd returns the smallest key greater than every key with prefix p
// (p does not begin with 0xFF, so the result is never empty).
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for len(end) > 0 && end[len(end)-1] == 0xFF {
		end = end[:len(end)-1]
	}
	end[len(end)-1]++
	return end
}

func kekAAD(tenant, name string, version uint32) []byte {
	return appendUint32([]byte("coffer-kek\x00"+tenant+"\x00"+name+"\x00"), version)
}

func sealAAD(aad []byte, tenant, name string, version uint32) []byte {
	b := make([]byte, 0, len(aad)+len(tenant)+len(name)+32)
	b = append(b, aad...)
	b = append(b, "coffer-seal\x00"+tenant+"\x00"+name+"\x00"...)
	b = appendUint32(b, version)
	return binary.BigEndian.AppendUint64(b, uint64(len(aad)))
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("kms: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("kms: gcm: %w", err)
	}
	return aead, nil
}
