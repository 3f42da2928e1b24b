package object

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/metadata"
)

// Key management for the admin API (admin.KeyManager). Rotation makes a new
// KEK version and re-seals every data key sealed under an older version of
// that key, without touching object data; once no data key refers to an
// old version, the version is destroyed. The re-seal job is idempotent and
// is resumed at start-up (any data key under a non-current version is
// re-sealed), so an interrupted rotation finishes after a restart.

var _ admin.KeyManager = (*Engine)(nil)

// rewrapState is the progress of the re-seal job, per tenant/key.
type rewrapState struct {
	mu   sync.Mutex
	jobs map[string]*admin.RewrapStatus
}

func keyStatus(k kms.KeyInfo) admin.KeyStatus {
	st := admin.KeyStatus{Tenant: k.Tenant, Name: k.Name, Current: k.Current, Created: k.Created}
	for _, v := range k.Versions {
		st.Versions = append(st.Versions, admin.VersionStatus{Version: v})
	}
	return st
}

func kmsAdminErr(err error) error {
	switch {
	case errors.Is(err, kms.ErrKeyExists):
		return fmt.Errorf("%w: %v", admin.ErrConflict, err)
	case errors.Is(err, kms.ErrNoSuchKey):
		return fmt.Errorf("%w: %v", admin.ErrNotFound, err)
	case errors.Is(err, kms.ErrInvalidName):
		return fmt.Errorf("%w: %v", admin.ErrInvalid, err)
	}
	return err
}

// systemTenant is the reserved KMS tenant of coffer's own secrets (no iam
// tenant can have this name).
const systemTenant = "_coffer"

func tenantOr(t string) string {
	if t == "" {
		return DefaultTenant
	}
	return t
}

// CreateKey implements admin.KeyManager.
func (e *Engine) CreateKey(ctx context.Context, tenant, name string) (admin.KeyStatus, error) {
	k, err := e.kms.CreateKey(ctx, tenantOr(tenant), name)
	if err != nil {
		return admin.KeyStatus{}, kmsAdminErr(err)
	}
	return keyStatus(k), nil
}

// ListKeys implements admin.KeyManager.
func (e *Engine) ListKeys(ctx context.Context, tenant string) ([]admin.KeyStatus, error) {
	ks, err := e.kms.ListKeys(ctx, tenant)
	if err != nil {
		return nil, kmsAdminErr(err)
	}
	out := make([]admin.KeyStatus, 0, len(ks))
	for _, k := range ks {
		out = append(out, keyStatus(k))
	}
	return out, nil
}

// RotateKey implements admin.KeyManager: a new KEK version, then a
// background re-seal of the data keys under older versions.
func (e *Engine) RotateKey(ctx context.Context, tenant, name string) (admin.KeyStatus, error) {
	tenant = tenantOr(tenant)
	k, err := e.kms.Rotate(ctx, tenant, name)
	if err != nil {
		return admin.KeyStatus{}, kmsAdminErr(err)
	}
	e.startRewrap()
	st := keyStatus(k)
	st.Rewrap = e.rewrapStatus(tenant, name)
	return st, nil
}

// KeyStatus implements admin.KeyManager: every key with the number of data
// keys sealed under each version (one scan of the metadata).
func (e *Engine) KeyStatus(ctx context.Context) ([]admin.KeyStatus, error) {
	ks, err := e.kms.ListKeys(ctx, "")
	if err != nil {
		return nil, err
	}
	counts := map[string]map[int]int64{}
	err = e.forEachSealed(func(_ []byte, _ *encRecord, s *kms.Sealed) error {
		id := s.Tenant + "/" + s.Name
		if counts[id] == nil {
			counts[id] = map[int]int64{}
		}
		counts[id][s.Version]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]admin.KeyStatus, 0, len(ks))
	for _, k := range ks {
		st := keyStatus(k)
		for i := range st.Versions {
			st.Versions[i].Objects = counts[k.Tenant+"/"+k.Name][st.Versions[i].Version]
		}
		st.Rewrap = e.rewrapStatus(k.Tenant, k.Name)
		out = append(out, st)
	}
	return out, nil
}

func (e *Engine) rewrapStatus(tenant, name string) *admin.RewrapStatus {
	e.rewrap.mu.Lock()
	defer e.rewrap.mu.Unlock()
	if j := e.rewrap.jobs[tenant+"/"+name]; j != nil {
		c := *j
		return &c
	}
	return nil
}

// forEachSealed calls fn for every key sealed by a tenant key in version
// and upload records — data keys and SSE-C metadata keys (the metadata
// key, the record's encryption, the sealed key).
func (e *Engine) forEachSealed(fn func(mkey []byte, enc *encRecord, s *kms.Sealed) error) error {
	each := func(k []byte, enc *encRecord) error {
		if enc == nil {
			return nil
		}
		for _, s := range []*kms.Sealed{enc.Sealed, enc.MetaSealed} {
			if s != nil {
				if err := fn(k, enc, s); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := e.scan([]byte{tagVersion}, []byte{tagVersion + 1}, func(k, v []byte) error {
		rec, err := decodeVersion(v)
		if err != nil {
			return err
		}
		return each(k, rec.Enc)
	}); err != nil {
		return err
	}
	return e.scan([]byte{tagUpload}, []byte{tagUpload + 1}, func(k, v []byte) error {
		var up uploadRecord
		if err := jsonUnmarshal(v, &up); err != nil {
			return err
		}
		return each(k, up.Enc)
	})
}

// startRewrap runs the re-seal job in the background unless it runs.
func (e *Engine) startRewrap() {
	e.rewrap.mu.Lock()
	if e.rewrapRunning {
		e.rewrapAgain = true
		e.rewrap.mu.Unlock()
		return
	}
	e.rewrapRunning = true
	e.rewrap.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			if err := e.rewrapAll(context.Background()); err != nil {
				e.log.Error("re-sealing data keys", "err", err)
			}
			e.rewrap.mu.Lock()
			again := e.rewrapAgain
			e.rewrapAgain = false
			if !again {
				e.rewrapRunning = false
				e.rewrap.mu.Unlock()
				return
			}
			e.rewrap.mu.Unlock()
		}
	}()
}

// rewrapAll re-seals every data key under a non-current key version, then
// destroys key versions that no data key uses any more.
func (e *Engine) rewrapAll(ctx context.Context) error {
	ks, err := e.kms.ListKeys(ctx, "")
	if err != nil {
		return err
	}
	current := map[string]int{}
	for _, k := range ks {
		current[k.Tenant+"/"+k.Name] = k.Current
	}
	type item struct {
		mkey []byte
	}
	var todo []item
	if err := e.forEachSealed(func(mk []byte, _ *encRecord, s *kms.Sealed) error {
		if s.Version != current[s.Tenant+"/"+s.Name] {
			todo = append(todo, item{append([]byte(nil), mk...)})
		}
		return nil
	}); err != nil {
		return err
	}
	for _, it := range todo {
		select {
		case <-e.stop:
			return nil
		default:
		}
		id, err := e.rewrapOne(ctx, it.mkey)
		e.rewrap.mu.Lock()
		j := e.rewrap.jobs[id]
		if j == nil && id != "" {
			j = &admin.RewrapStatus{}
			e.rewrap.jobs[id] = j
		}
		if j != nil {
			j.Running = true
			if err != nil {
				j.Failed++
				j.LastErr = err.Error()
			} else {
				j.Done++
			}
		}
		e.rewrap.mu.Unlock()
	}
	// Destroy versions no data key refers to any more.
	used := map[string]map[int]bool{}
	if err := e.forEachSealed(func(_ []byte, _ *encRecord, s *kms.Sealed) error {
		id := s.Tenant + "/" + s.Name
		if used[id] == nil {
			used[id] = map[int]bool{}
		}
		used[id][s.Version] = true
		return nil
	}); err != nil {
		return err
	}
	for _, k := range ks {
		for _, v := range k.Versions {
			// Keys of the reserved tenant seal secrets kept outside the
			// object metadata (access key secrets, the certificate signing
			// key): this scan cannot see their users, so their versions
			// MUST NOT be destroyed here.
			if k.Tenant == systemTenant {
				break
			}
			if v != k.Current && !used[k.Tenant+"/"+k.Name][v] {
				if err := e.kms.DestroyVersion(ctx, k.Tenant, k.Name, v); err != nil && !errors.Is(err, kms.ErrNoSuchVersion) {
					e.log.Warn("destroying unused key version", "tenant", k.Tenant, "key", k.Name, "version", v, "err", err)
				}
			}
		}
		e.rewrap.mu.Lock()
		if j := e.rewrap.jobs[k.Tenant+"/"+k.Name]; j != nil {
			j.Running, j.Finished = false, true
		}
		e.rewrap.mu.Unlock()
	}
	return nil
}

// rewrapOne re-seals the data key of one version or upload record under
// its key's current version. It returns the key's "tenant/name".
func (e *Engine) rewrapOne(ctx context.Context, mkey []byte) (string, error) {
	bucket, key := splitRecordKey(mkey)
	unlock := e.lockKey(bucket, key)
	defer unlock()
	raw, err := e.meta.Get(mkey)
	if errors.Is(err, metadata.ErrNotFound) {
		return "", nil // removed meanwhile
	}
	if err != nil {
		return "", mapErr(err)
	}
	var enc *encRecord
	var rec *versionRecord
	var up *uploadRecord
	if mkey[0] == tagVersion {
		if rec, err = decodeVersion(raw); err != nil {
			return "", err
		}
		enc = rec.Enc
	} else {
		up = new(uploadRecord)
		if err := jsonUnmarshal(raw, up); err != nil {
			return "", err
		}
		enc = up.Enc
	}
	if enc == nil {
		return "", nil
	}
	// The data key and, for SSE-C, the metadata key (each with its own
	// additional data).
	slots := []struct {
		s   **kms.Sealed
		aad []byte
	}{
		{&enc.Sealed, sealedAAD(enc, bucket, key)},
		{&enc.MetaSealed, enc.metaSealedAAD(bucket, key)},
	}
	id := ""
	for _, sl := range slots {
		s := *sl.s
		if s == nil {
			continue
		}
		id = s.Tenant + "/" + s.Name
		pt, err := e.kms.Unseal(ctx, *s, sl.aad)
		if err != nil {
			return id, err
		}
		sealed, err := e.kms.Seal(ctx, s.Tenant, s.Name, pt, sl.aad)
		kms.Zero(pt)
		if err != nil {
			return id, err
		}
		*sl.s = &sealed
	}
	if id == "" {
		return "", nil
	}
	b := metadata.NewBatch()
	if rec != nil {
		b.Set(mkey, rec.encode(true))
		if cur, err := e.latest(bucket, key); err == nil && string(cur.VSort) == string(rec.VSort) {
			b.Set(latestKey(bucket, key), rec.encode(false))
		}
	} else {
		b.Set(mkey, mustJSON(up))
	}
	return id, mapErr(e.meta.Apply(b))
}

// splitRecordKey returns the bucket and object key of a V or U record key.
func splitRecordKey(k []byte) (bucket, key string) {
	rest := k[1:]
	i := indexByte(rest, 0)
	bucket, rest = string(rest[:i]), rest[i+1:]
	j := indexByte(rest, 0)
	return bucket, string(rest[:j])
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return len(b)
}
