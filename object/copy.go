package object

import (
	"context"
	"maps"

	"github.com/cofferstore/coffer/metadata"
)

// checkCopySource evaluates the x-amz-copy-source-if-* conditions with S3's
// precedence: if-match true overrides if-unmodified-since false, and
// if-none-match false (i.e. the ETag matches) overrides if-modified-since.
func checkCopySource(src CopySource, info ObjectInfo) error {
	if src.IfMatch != "" {
		if !etagMatches(src.IfMatch, info.ETag) {
			return ErrPreconditionFailed
		}
	} else if !src.IfUnmodifiedSince.IsZero() && info.ModTime.Truncate(1e9).After(src.IfUnmodifiedSince) {
		return ErrPreconditionFailed
	}
	if src.IfNoneMatch != "" {
		if etagMatches(src.IfNoneMatch, info.ETag) {
			return ErrPreconditionFailed
		}
	} else if !src.IfModifiedSince.IsZero() && !info.ModTime.Truncate(1e9).After(src.IfModifiedSince) {
		return ErrPreconditionFailed
	}
	return nil
}

// CopyObject implements Layer: it streams the source version through the
// normal write path into a new destination version (the data is re-encoded,
// never shared between versions, so deleting one never affects the other).
func (e *Engine) CopyObject(ctx context.Context, src CopySource, dstBucket, dstKey string, opts PutOptions) (ObjectInfo, error) {
	info, rc, err := e.GetObject(ctx, src.Bucket, src.Key, GetOptions{VersionID: src.VersionID, CustomerKey: src.CustomerKey})
	if err != nil {
		return ObjectInfo{}, err
	}
	defer rc.Close()
	if err := checkCopySource(src, info); err != nil {
		return ObjectInfo{}, err
	}
	if !opts.MetadataReplace {
		opts.ContentType, opts.ContentEncoding = info.ContentType, info.ContentEncoding
		opts.ContentDisposition, opts.ContentLanguage = info.ContentDisposition, info.ContentLanguage
		opts.CacheControl, opts.Expires = info.CacheControl, info.Expires
		opts.UserMeta = maps.Clone(info.UserMeta)
	}
	if !opts.TagsReplace {
		opts.Tags = maps.Clone(info.Tags)
	}
	if opts.ChecksumAlgorithm == "" {
		for alg := range info.Checksums {
			if len(info.Parts) == 0 {
				opts.ChecksumAlgorithm = alg // keep the source's checksum
			}
		}
	}
	opts.ExpectMD5, opts.ExpectSHA256, opts.ExpectChecksum, opts.TrailingChecksum = nil, nil, "", nil
	return e.PutObject(ctx, dstBucket, dstKey, rc, info.Size, opts)
}

// PutObjectTags implements Layer: it rewrites the version's record in place.
func (e *Engine) PutObjectTags(_ context.Context, bucket, key, versionID string, tags map[string]string) (ObjectInfo, error) {
	if len(tags) == 0 {
		tags = nil
	}
	return e.rewriteVersionWith(bucket, key, versionID, func(v *versionRecord) error { v.Tags = tags; return nil }, e.lifecycleRetag)
}

// PutObjectACL implements Layer: it rewrites the version's record in place.
func (e *Engine) PutObjectACL(_ context.Context, bucket, key, versionID string, acl []byte) (ObjectInfo, error) {
	if len(acl) == 0 {
		acl = nil
	}
	return e.rewriteVersion(bucket, key, versionID, func(v *versionRecord) error { v.ACL = acl; return nil })
}

// rewriteVersion applies update to the record of a version (not a delete
// marker) under the key lock and writes it back in place, together with
// the latest pointer when the version is current. An error from update
// aborts the rewrite and is returned.
func (e *Engine) rewriteVersion(bucket, key, versionID string, update func(*versionRecord) error) (ObjectInfo, error) {
	return e.rewriteVersionWith(bucket, key, versionID, update, nil)
}

// rewriteVersionWith is rewriteVersion; extra, when set, adds to the
// rewrite's batch (it sees the updated record and the bucket).
func (e *Engine) rewriteVersionWith(bucket, key, versionID string, update func(*versionRecord) error,
	extra func(b *metadata.Batch, brec *bucketRecord, key string, v *versionRecord) error) (ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return ObjectInfo{}, ErrNoSuchKey
	}
	unlock := e.lockKey(bucket, key)
	defer unlock()
	brec, err := e.bucket(bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	v, err := e.resolve(bucket, key, versionID)
	if err != nil {
		return ObjectInfo{}, err
	}
	if v.DeleteMarker {
		if versionID == "" {
			return ObjectInfo{}, ErrNoSuchKey
		}
		return ObjectInfo{}, ErrMethodNotAllowed
	}
	if v.Inline && v.data == nil {
		if v, err = e.versionBySort(bucket, key, v.VSort); err != nil {
			return ObjectInfo{}, err
		}
	}
	// The description is opened and sealed again around the update (with
	// a fresh nonce), so an update of the tags keeps the user metadata.
	if err := e.openVersion(context.Background(), v, bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	if err := update(v); err != nil {
		return ObjectInfo{}, err
	}
	if err := e.sealVersion(context.Background(), v, tenantOr(brec.Tenant), bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	b := metadata.NewBatch()
	b.Set(versionKey(bucket, key, v.VSort), v.encode(true))
	if cur, err := e.latest(bucket, key); err == nil && string(cur.VSort) == string(v.VSort) {
		b.Set(latestKey(bucket, key), v.encode(false))
	}
	if extra != nil {
		if err := extra(b, brec, key, v); err != nil {
			return ObjectInfo{}, err
		}
	}
	if err := e.meta.Apply(b); err != nil {
		return ObjectInfo{}, mapErr(err)
	}
	return v.info(bucket, key, brec.Versioning != ""), nil
}
