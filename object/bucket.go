package object

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/cofferstore/coffer/metadata"
)

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", errBadRecord, err)
	}
	return nil
}

// ValidBucketName reports whether name follows the S3 rules for new
// general-purpose buckets: 3–63 characters of lower-case letters, digits,
// '.' and '-', starting and ending with a letter or digit, no "..", not an
// IP address, not starting with "xn--" or "sthree-", not ending "-s3alias"
// or "--ol-s3".
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-'
		if !ok {
			return false
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' {
		return false
	}
	if strings.Contains(name, "..") || net.ParseIP(name) != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// MakeBucket implements Layer.
func (e *Engine) MakeBucket(_ context.Context, bucket string, opts MakeBucketOptions) error {
	if !ValidBucketName(bucket) {
		return fmt.Errorf("%w: %q", ErrInvalidBucketName, bucket)
	}
	unlock := e.lockKey(bucket, "")
	defer unlock()
	if _, err := e.meta.Get(bucketKey(bucket)); err == nil {
		return ErrBucketExists
	} else if !errors.Is(err, metadata.ErrNotFound) {
		return mapErr(err)
	}
	rec := bucketRecord{
		Name: bucket, Created: e.now().UnixNano(), Region: opts.Region,
		Owner: opts.Owner, Tenant: opts.Tenant, ObjectLock: opts.ObjectLock,
	}
	if opts.ObjectLock {
		rec.Versioning = VersioningEnabled
	}
	b := metadata.NewBatch()
	b.Set(bucketKey(bucket), mustJSON(rec))
	return mapErr(e.meta.Apply(b))
}

func (e *Engine) bucket(bucket string) (*bucketRecord, error) {
	raw, err := e.meta.Get(bucketKey(bucket))
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, ErrNoSuchBucket
	}
	if err != nil {
		return nil, mapErr(err)
	}
	rec := new(bucketRecord)
	if err := jsonUnmarshal(raw, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

func (r *bucketRecord) info() BucketInfo {
	return BucketInfo{
		Name: r.Name, Created: time.Unix(0, r.Created).UTC(), Region: r.Region,
		Owner: r.Owner, Tenant: r.Tenant, Versioning: r.Versioning,
		ObjectLock: r.ObjectLock, ObjectLockDefault: r.ObjectLockDefault, Tags: r.Tags, Encryption: r.Encryption,
		Configs: r.Configs,
	}
}

// GetBucketInfo implements Layer.
func (e *Engine) GetBucketInfo(_ context.Context, bucket string) (BucketInfo, error) {
	rec, err := e.bucket(bucket)
	if err != nil {
		return BucketInfo{}, err
	}
	return rec.info(), nil
}

// ListBuckets implements Layer.
func (e *Engine) ListBuckets(context.Context) ([]BucketInfo, error) {
	var out []BucketInfo
	err := e.scan([]byte{tagBucket}, []byte{tagBucket + 1}, func(_, v []byte) error {
		var rec bucketRecord
		if err := jsonUnmarshal(v, &rec); err != nil {
			return err
		}
		out = append(out, rec.info())
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// hasAny reports whether any key exists with the given prefix.
func (e *Engine) hasAny(prefix []byte) (bool, error) {
	it, err := e.meta.NewIter(prefix, prefixEnd(prefix))
	if err != nil {
		return false, mapErr(err)
	}
	defer it.Close()
	return it.First(), nil
}

// DeleteBucket implements Layer.
func (e *Engine) DeleteBucket(_ context.Context, bucket string) error {
	unlock := e.lockKey(bucket, "")
	defer unlock()
	if _, err := e.bucket(bucket); err != nil {
		return err
	}
	for _, tag := range []byte{tagVersion, tagUpload} {
		any, err := e.hasAny(objPrefix(tag, bucket, ""))
		if err != nil {
			return err
		}
		if any {
			return ErrBucketNotEmpty
		}
	}
	// The bucket's state that outlives its objects goes in batches, the
	// last with the bucket record: a crash in between leaves a bucket
	// without scheduler state, which the scheduler rebuilds.
	b := metadata.NewBatch()
	for _, p := range bucketStatePrefixes(bucket) {
		err := e.scan(p, prefixEnd(p), func(k, _ []byte) error {
			b.Delete(bytes.Clone(k))
			if b.Len() < deleteBatchLen {
				return nil
			}
			err := e.meta.Apply(b)
			b = metadata.NewBatch()
			return err
		})
		if err != nil {
			return mapErr(err)
		}
	}
	b.Delete(bucketKey(bucket))
	return mapErr(e.meta.Apply(b))
}

// deleteBatchLen bounds the batches of DeleteBucket's state cleanup.
const deleteBatchLen = 10000

// bucketStatePrefixes are the key ranges of a bucket's state that outlives
// its objects: the lifecycle scheduler's cursors and pending retries, and
// stale hints of the noncurrent index. DeleteBucket removes them, so that a
// bucket created later under the same name starts clean.
func bucketStatePrefixes(bucket string) [][]byte {
	return [][]byte{
		lcBucketPrefix('c', bucket),
		lcBucketPrefix('p', bucket),
		objPrefix(tagNoncurrent, bucket, ""),
	}
}

// updateBucket applies fn to the bucket record under the bucket lock.
func (e *Engine) updateBucket(bucket string, fn func(*bucketRecord) error) error {
	unlock := e.lockKey(bucket, "")
	defer unlock()
	rec, err := e.bucket(bucket)
	if err != nil {
		return err
	}
	if err := fn(rec); err != nil {
		return err
	}
	b := metadata.NewBatch()
	b.Set(bucketKey(bucket), mustJSON(rec))
	return mapErr(e.meta.Apply(b))
}

// SetBucketTags implements Layer.
func (e *Engine) SetBucketTags(_ context.Context, bucket string, tags map[string]string) error {
	return e.updateBucket(bucket, func(r *bucketRecord) error {
		r.Tags = tags
		return nil
	})
}

// SetBucketVersioning implements Layer. A bucket with Object Lock can never
// be suspended.
func (e *Engine) SetBucketVersioning(_ context.Context, bucket string, state string) error {
	if state != VersioningEnabled && state != VersioningSuspended {
		return fmt.Errorf("%w: versioning state %q", ErrMalformedRequest, state)
	}
	return e.updateBucket(bucket, func(r *bucketRecord) error {
		if r.ObjectLock && state == VersioningSuspended {
			return fmt.Errorf("%w: versioning cannot be suspended on an Object Lock bucket", ErrInvalidBucketState)
		}
		r.Versioning = state
		return nil
	})
}

// SetBucketEncryption implements Layer.
func (e *Engine) SetBucketEncryption(ctx context.Context, bucket string, enc *BucketEncryption) error {
	if enc != nil {
		switch enc.Mode {
		case SSES3:
			if enc.KMSKeyID != "" {
				return fmt.Errorf("%w: a KMS key id needs SSE-KMS", ErrInvalidEncryption)
			}
		case SSEKMS:
			if enc.KMSKeyID != "" {
				brec, err := e.bucket(bucket)
				if err != nil {
					return err
				}
				if err := e.checkKMSKey(ctx, tenantOr(brec.Tenant), enc.KMSKeyID); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%w: default encryption %q", ErrInvalidEncryption, enc.Mode)
		}
	}
	return e.updateBucket(bucket, func(r *bucketRecord) error {
		r.Encryption = enc
		return nil
	})
}

// SetBucketConfig implements Layer.
func (e *Engine) SetBucketConfig(_ context.Context, bucket, name string, value []byte) error {
	if name == "" {
		return fmt.Errorf("%w: empty config name", ErrMalformedRequest)
	}
	return e.updateBucket(bucket, func(r *bucketRecord) error {
		if value == nil {
			delete(r.Configs, name)
			return nil
		}
		if r.Configs == nil {
			r.Configs = map[string][]byte{}
		}
		r.Configs[name] = append([]byte(nil), value...)
		return nil
	})
}

// SetObjectLockConfig implements Layer.
func (e *Engine) SetObjectLockConfig(_ context.Context, bucket string, enabled bool, def *LockDefault) error {
	if !enabled {
		return fmt.Errorf("%w: Object Lock can only be Enabled", ErrMalformedRequest)
	}
	if err := def.validate(); err != nil {
		return err
	}
	return e.updateBucket(bucket, func(r *bucketRecord) error {
		if !r.ObjectLock && r.Versioning != VersioningEnabled {
			return fmt.Errorf("%w: Object Lock needs versioning Enabled", ErrInvalidBucketState)
		}
		r.ObjectLock = true
		if def != nil {
			d := *def
			def = &d
		}
		r.ObjectLockDefault = def
		return nil
	})
}
