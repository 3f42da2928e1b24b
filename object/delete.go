package object

import (
	"bytes"
	"context"
	"errors"

	"github.com/cofferstore/coffer/metadata"
)

// DeleteObject implements Layer. Without a version id it follows the
// bucket's versioning state: unversioned buckets remove the null version,
// Enabled buckets add a delete marker, Suspended buckets replace the null
// version with a null delete marker. With a version id it removes that
// version permanently. Every removal passes the retention check first.
// Deleting a key or version that does not exist succeeds, as in S3.
func (e *Engine) DeleteObject(_ context.Context, bucket, key string, opts DeleteOptions) (DeleteResult, error) {
	if err := checkKey(key); err != nil {
		return DeleteResult{}, err
	}
	unlock := e.lockKey(bucket, key)
	defer unlock()
	brec, err := e.bucket(bucket)
	if err != nil {
		return DeleteResult{}, err
	}
	b := metadata.NewBatch()
	var res DeleteResult
	var garbage []string
	if opts.VersionID != "" {
		v, err := e.resolve(bucket, key, opts.VersionID)
		if errors.Is(err, ErrNoSuchVersion) {
			return DeleteResult{VersionID: opts.VersionID}, nil
		}
		if err != nil {
			return DeleteResult{}, err
		}
		if err := e.checkRemove(v, opts.path("version"), opts.BypassGovernance); err != nil {
			return DeleteResult{}, err
		}
		garbage = e.removeVersion(b, bucket, key, v, removal{Actor: opts.Actor, Path: opts.path("version")})
		if err := e.fixLatest(b, bucket, key, v.VSort); err != nil {
			return DeleteResult{}, err
		}
		res = DeleteResult{VersionID: v.versionID(), DeleteMarker: v.DeleteMarker}
	} else {
		switch brec.Versioning {
		case "":
			old, err := e.nullVersion(bucket, key)
			if errors.Is(err, ErrNoSuchVersion) {
				return DeleteResult{}, nil
			}
			if err != nil {
				return DeleteResult{}, err
			}
			if err := e.checkRemove(old, opts.path("unversioned"), opts.BypassGovernance); err != nil {
				return DeleteResult{}, err
			}
			garbage = e.removeVersion(b, bucket, key, old, removal{Actor: opts.Actor, Path: opts.path("unversioned")})
			b.Delete(latestKey(bucket, key))
		default:
			now := e.now()
			m := &versionRecord{VSort: newVSort(now), ModTime: now.UnixNano(), DeleteMarker: true, Owner: brec.Owner}
			var replaced *versionRecord
			if brec.Versioning == VersioningSuspended {
				m.Null = true
				old, err := e.nullVersion(bucket, key)
				if err != nil && !errors.Is(err, ErrNoSuchVersion) {
					return DeleteResult{}, err
				}
				if old != nil {
					if err := e.checkRemove(old, opts.path("suspendedNull"), opts.BypassGovernance); err != nil {
						return DeleteResult{}, err
					}
					garbage = e.removeVersion(b, bucket, key, old, removal{Actor: opts.Actor, Path: opts.path("suspendedNull")})
					replaced = old
				}
				b.Set(nullKey(bucket, key), m.VSort)
			}
			if err := e.demoteLatest(b, bucket, key, m.VSort, replaced); err != nil {
				return DeleteResult{}, err
			}
			e.putVersion(b, bucket, key, m)
			b.Set(latestKey(bucket, key), m.encode(false))
			res = DeleteResult{VersionID: m.versionID(), DeleteMarker: true}
		}
	}
	if err := e.meta.Apply(b); err != nil {
		return DeleteResult{}, mapErr(err)
	}
	e.queueGC(garbage)
	return res, nil
}

// fixLatest, when the removed version was the current one, points the
// latest record at the next newest version (or removes it).
func (e *Engine) fixLatest(b *metadata.Batch, bucket, key string, removed []byte) error {
	cur, err := e.latest(bucket, key)
	if errors.Is(err, ErrNoSuchKey) {
		return nil
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(cur.VSort, removed) {
		return nil
	}
	prefix := append(objPrefix(tagVersion, bucket, key), 0)
	it, err := e.meta.NewIter(prefix, prefixEnd(prefix))
	if err != nil {
		return mapErr(err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		if bytes.Equal(it.Key()[len(prefix):], removed) {
			continue
		}
		next, err := decodeVersion(it.Value())
		if err != nil {
			return err
		}
		b.Set(latestKey(bucket, key), next.encode(false))
		// next is current again: drop the noncurrent index entry it got
		// when removed superseded it (lcindex.go).
		b.Delete(noncurrentKey(bucket, key, vsortTime(removed), next.VSort))
		return nil
	}
	b.Delete(latestKey(bucket, key))
	return nil
}
