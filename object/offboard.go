package object

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cofferstore/coffer/metadata"
	"github.com/cofferstore/coffer/offboard"
)

// Tenant offboarding (offboard.Storage): counting a tenant's data, listing
// what retention protects, and purging it all through the one removal path.
// The orchestration (freeze, KEK destruction, certificate) is in package
// offboard.
//
// Guarantees:
//   - PurgeTenant MUST remove a version only after checkRemove allowed it
//     (path offboard.Path, never with the governance bypass), and only
//     through removeVersion, so that everything removeVersion does for a
//     permanent removal (sealed data key, deletion record, shards) happens
//     for offboarding too.
//   - PurgeTenant MUST NOT remove anything while TenantInventory reports a
//     blocker.
//   - TenantInventory changes nothing.

var _ offboard.Storage = (*Engine)(nil)

// DeploymentID implements offboard.Storage: the deployment id of the
// drives' format.
func (e *Engine) DeploymentID() string { return e.set.DeploymentID() }

// ComplianceNow implements offboard.Storage: the compliance clock's time.
func (e *Engine) ComplianceNow() time.Time { return e.now() }

// tenantBuckets returns the names of the buckets tenant owns, sorted.
func (e *Engine) tenantBuckets(tenant string) ([]string, error) {
	var out []string
	err := e.scan([]byte{tagBucket}, []byte{tagBucket + 1}, func(_, v []byte) error {
		var rec bucketRecord
		if err := jsonUnmarshal(v, &rec); err != nil {
			return err
		}
		if tenantOr(rec.Tenant) == tenant {
			out = append(out, rec.Name)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// TenantInventory implements offboard.Storage. Every version is asked the
// retention check exactly as the purge will ask it; a version it refuses
// is a blocker. An Object Lock bucket's default retention alone blocks
// nothing: it only applies to versions written later.
func (e *Engine) TenantInventory(ctx context.Context, tenant string) (offboard.Survey, error) {
	sv := offboard.Survey{Blockers: []offboard.Blocker{}}
	inv := &sv.Inventory
	buckets, err := e.tenantBuckets(tenant)
	if err != nil {
		return offboard.Survey{}, err
	}
	for _, bucket := range buckets {
		if err := ctx.Err(); err != nil {
			return offboard.Survey{}, err
		}
		prefix := objPrefix(tagVersion, bucket, "")
		lastKey := ""
		first := true
		err := e.scan(prefix, prefixEnd(prefix), func(k, v []byte) error {
			key, _, ok := splitVersionKey(k[len(prefix):])
			if !ok {
				return errBadRecord
			}
			rec, err := decodeVersion(v)
			if err != nil {
				return err
			}
			if first || key != lastKey {
				inv.Objects++
				lastKey, first = key, false
			}
			inv.Versions++
			if rec.DeleteMarker {
				inv.DeleteMarkers++
			}
			inv.Bytes += rec.Size
			if e.checkRemove(rec, offboard.Path, false) != nil {
				sv.Blocked++
				if len(sv.Blockers) >= offboard.MaxBlockers {
					return nil
				}
				b := offboard.Blocker{Bucket: bucket, Key: key, VersionID: rec.versionID(), LegalHold: rec.Lock.LegalHold}
				if !rec.Lock.RetainUntil.IsZero() && rec.Lock.RetainUntil.After(e.now()) {
					until := rec.Lock.RetainUntil.UTC()
					b.Mode, b.RetainUntil = string(rec.Lock.Mode), &until
				}
				sv.Blockers = append(sv.Blockers, b)
			}
			return nil
		})
		if err != nil {
			return offboard.Survey{}, err
		}
		up := objPrefix(tagUpload, bucket, "")
		if err := e.scan(up, prefixEnd(up), func(_, _ []byte) error { inv.Uploads++; return nil }); err != nil {
			return offboard.Survey{}, err
		}
	}
	sv.Buckets = buckets
	if sv.Buckets == nil {
		sv.Buckets = []string{}
	}
	return sv, nil
}

// splitVersionKey splits the part of a V key after the bucket into the
// object key and the vsort.
func splitVersionKey(rest []byte) (string, []byte, bool) {
	if len(rest) < vsortLen+1 || rest[len(rest)-vsortLen-1] != 0 {
		return "", nil, false
	}
	return string(rest[:len(rest)-vsortLen-1]), rest[len(rest)-vsortLen:], true
}

// PurgeTenant implements offboard.Storage. It first takes the inventory
// and refuses (ErrObjectLocked, nothing removed) when any version is a
// blocker; each removal then asks the retention check again, so a hold set
// meanwhile still stops it.
func (e *Engine) PurgeTenant(ctx context.Context, tenant, actor string) error {
	sv, err := e.TenantInventory(ctx, tenant)
	if err != nil {
		return err
	}
	if sv.Blocked > 0 {
		b := sv.Blockers[0]
		return fmt.Errorf("%w: %s: tenant %q: %d versions under retention or legal hold (first: %s/%s version %s)",
			ErrObjectLocked, offboard.Path, tenant, sv.Blocked, b.Bucket, b.Key, b.VersionID)
	}
	buckets := sv.Buckets
	for _, bucket := range buckets {
		if err := e.purgeBucket(ctx, bucket, actor); err != nil {
			return fmt.Errorf("object: purging bucket %q of tenant %q: %w", bucket, tenant, err)
		}
	}
	return e.drainGarbage()
}

// purgeBucket removes every version and upload of bucket, then the bucket.
func (e *Engine) purgeBucket(ctx context.Context, bucket, actor string) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		key, ok, err := e.firstKey(tagVersion, bucket)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if err := e.purgeKey(bucket, key, actor); err != nil {
			return err
		}
	}
	type upload struct{ key, id string }
	var ups []upload
	prefix := objPrefix(tagUpload, bucket, "")
	err := e.scan(prefix, prefixEnd(prefix), func(k, _ []byte) error {
		key, id, ok := bytes.Cut(k[len(prefix):], []byte{0})
		if !ok {
			return errBadRecord
		}
		ups = append(ups, upload{string(key), string(id)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, u := range ups {
		// The deletion record of an aborted upload names the offboarding
		// actor and path, like those of the versions.
		unlock := e.lockKey(bucket, u.key)
		err := e.abortUpload(bucket, u.key, u.id, removal{Actor: actor, Path: offboard.Path}, nil)
		unlock()
		if err != nil && !errors.Is(err, ErrNoSuchUpload) {
			return err
		}
	}
	err = e.DeleteBucket(ctx, bucket)
	if errors.Is(err, ErrNoSuchBucket) {
		return nil
	}
	return err
}

// firstKey returns the first object key with a record in table tag of bucket.
func (e *Engine) firstKey(tag byte, bucket string) (string, bool, error) {
	prefix := objPrefix(tag, bucket, "")
	it, err := e.meta.NewIter(prefix, prefixEnd(prefix))
	if err != nil {
		return "", false, mapErr(err)
	}
	if !it.First() {
		return "", false, mapErr(it.Close())
	}
	key, _, ok := splitVersionKey(it.Key()[len(prefix):])
	if err := it.Close(); err != nil {
		return "", false, mapErr(err)
	}
	if !ok {
		return "", false, errBadRecord
	}
	return key, true, nil
}

// purgeKey removes every version of one key in one batch, each after the
// retention check, and deletes the freed shard sets.
func (e *Engine) purgeKey(bucket, key, actor string) error {
	unlock := e.lockKey(bucket, key)
	defer unlock()
	prefix := append(objPrefix(tagVersion, bucket, key), 0)
	var versions []*versionRecord
	err := e.scan(prefix, prefixEnd(prefix), func(_, v []byte) error {
		rec, err := decodeVersion(v)
		if err != nil {
			return err
		}
		versions = append(versions, rec)
		return nil
	})
	if err != nil {
		return err
	}
	b := metadata.NewBatch()
	var garbage []string
	for _, v := range versions {
		if err := e.checkRemove(v, offboard.Path, false); err != nil {
			return err
		}
		garbage = append(garbage, e.removeVersion(b, bucket, key, v, removal{Actor: actor, Path: offboard.Path})...)
	}
	b.Delete(latestKey(bucket, key))
	if err := e.meta.Apply(b); err != nil {
		return mapErr(err)
	}
	for _, id := range garbage {
		e.collect(id)
	}
	return nil
}

// drainGarbage deletes every pending shard set now (not in the background)
// and fails if any is left, so that an offboarding is certified only when
// no shard of the tenant remains on the drives.
func (e *Engine) drainGarbage() error {
	var ids []string
	err := e.scan([]byte{tagGarbage}, []byte{tagGarbage + 1}, func(k, _ []byte) error {
		ids = append(ids, string(k[1:]))
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		e.collect(id)
	}
	left := 0
	err = e.scan([]byte{tagGarbage}, []byte{tagGarbage + 1}, func(_, _ []byte) error {
		left++
		return nil
	})
	if err == nil && left > 0 {
		err = fmt.Errorf("object: %d shard sets could not be deleted yet (they are retried at every start)", left)
	}
	return err
}
