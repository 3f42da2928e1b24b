package object

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/metadata"
)

// Multipart limits, as in S3.
const (
	MaxPartNumber = 10000
	MinPartSize   = 5 << 20
)

// NewMultipartUpload implements Layer.
func (e *Engine) NewMultipartUpload(ctx context.Context, bucket, key string, opts PutOptions) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	brec, err := e.bucket(bucket)
	if err != nil {
		return "", err
	}
	sse, err := resolveSSE(opts.SSE, brec)
	if err != nil {
		return "", err
	}
	if _, err := lockForWrite(brec.ObjectLock, brec.ObjectLockDefault, brec.RetentionPolicy, opts.Lock, e.now(), true); err != nil {
		return "", err
	}
	dek, enc, err := e.newDataKey(ctx, sse, tenantOr(brec.Tenant), bucket, key)
	if err != nil {
		return "", err
	}
	kms.Zero(dek) // parts unseal it again; only the sealed form is kept
	if opts.ChecksumAlgorithm != "" {
		if _, err := newChecksum(opts.ChecksumAlgorithm); err != nil {
			return "", err
		}
	}
	id := newID()
	rec := uploadRecord{ID: id, Bucket: bucket, Key: key, Initiated: e.now().UnixNano(), Opts: opts, Enc: enc,
		Compress: e.compress.wants(-1, opts.ContentType, opts.ContentEncoding)}
	// The description is kept sealed, never in the record's options.
	if rec.SealedDesc, err = e.sealDesc(ctx, enc, tenantOr(brec.Tenant), bucket, key, descFromOptions(opts)); err != nil {
		return "", err
	}
	descMeta{}.setOptions(&rec.Opts)
	b := metadata.NewBatch()
	b.Set(uploadKey(bucket, key, id), mustJSON(rec))
	b.Set(uploadAgeKey(&rec), nil) // lifecycle upload index (lcindex.go)
	if err := e.meta.Apply(b); err != nil {
		return "", mapErr(err)
	}
	return id, nil
}

// upload loads an upload record; ErrNoSuchUpload when it does not exist
// under this bucket and key.
func (e *Engine) upload(bucket, key, uploadID string) (*uploadRecord, error) {
	if _, err := e.bucket(bucket); err != nil {
		return nil, err
	}
	if uploadID == "" || strings.IndexByte(uploadID, 0) >= 0 || checkKey(key) != nil {
		return nil, ErrNoSuchUpload
	}
	raw, err := e.meta.Get(uploadKey(bucket, key, uploadID))
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, ErrNoSuchUpload
	}
	if err != nil {
		return nil, mapErr(err)
	}
	rec := new(uploadRecord)
	return rec, jsonUnmarshal(raw, rec)
}

// PutObjectPart implements Layer. Parts are always erasure-coded (never
// inline) so that Complete can reference them without copying.
func (e *Engine) PutObjectPart(ctx context.Context, bucket, key, uploadID string, n int, r io.Reader, size int64, opts PartOptions) (PartInfo, error) {
	if n < 1 || n > MaxPartNumber {
		return PartInfo{}, fmt.Errorf("%w: part number %d", ErrMalformedRequest, n)
	}
	up, err := e.upload(bucket, key, uploadID)
	if err != nil {
		return PartInfo{}, err
	}
	alg := opts.ChecksumAlgorithm
	if alg == "" {
		alg = up.Opts.ChecksumAlgorithm
	}
	dek, err := e.openDataKey(ctx, up.Enc, opts.CustomerKey, DefaultTenant, bucket, key)
	if err != nil {
		return PartInfo{}, err
	}
	tf, suite, nonce, err := newDataStream(dek, partLabel(n), up.Compress)
	kms.Zero(dek)
	if err != nil {
		return PartInfo{}, err
	}
	brec, err := e.bucket(bucket)
	if err != nil {
		return PartInfo{}, err
	}
	s, err := e.store(r, size, digests{opts.ExpectMD5, opts.ExpectSHA256, alg, opts.ExpectChecksum, opts.TrailingChecksum, brec.ObjectLock}, false, tf)
	if err != nil {
		return PartInfo{}, err
	}
	now := e.now()
	p := partRecord{Number: n, Size: s.size, StoredSize: s.storedSize, ETag: hex.EncodeToString(s.md5), DataID: s.dataID, ModTime: now.UnixNano(), Suite: suite, Nonce: nonce, Comp: s.comp}
	if brec.ObjectLock {
		// Evidence of a multipart object is per part: a SHA-256 over the
		// whole object cannot be derived from the parts' digests.
		p.Evidence = newEvidence(s.sha256, opts.ExpectMD5)
	}
	if s.checksum != "" {
		p.Checksums = map[string]string{alg: s.checksum}
	}
	unlock := e.lockKey(bucket, key)
	defer unlock()
	if _, err := e.upload(bucket, key, uploadID); err != nil { // aborted meanwhile?
		e.discard(s)
		return PartInfo{}, err
	}
	b := metadata.NewBatch()
	var garbage []string
	if raw, err := e.meta.Get(partKey(uploadID, n)); err == nil {
		var old partRecord
		if jsonUnmarshal(raw, &old) == nil && old.DataID != "" {
			markGarbage(b, old.DataID, e.overwrites(brec))
			garbage = append(garbage, old.DataID)
		}
	}
	b.Set(partKey(uploadID, n), mustJSON(p))
	b.Set(refKey(s.dataID), mustJSON(refRecord{Bucket: bucket, Key: key, UploadID: uploadID, StoredSize: s.storedSize}))
	if err := e.meta.Apply(b); err != nil {
		e.discard(s)
		return PartInfo{}, mapErr(err)
	}
	e.commitData(s)
	e.queueGC(garbage)
	pi := p.info()
	pi.Encryption = up.Enc.info()
	return pi, nil
}

func (p partRecord) info() PartInfo {
	return PartInfo{Number: p.Number, Size: p.Size, ETag: p.ETag, ModTime: time.Unix(0, p.ModTime).UTC(), Checksums: p.Checksums}
}

// parts loads every part of an upload in part-number order.
func (e *Engine) parts(uploadID string) ([]partRecord, error) {
	prefix := append([]byte{tagPart}, uploadID...)
	prefix = append(prefix, 0)
	var out []partRecord
	err := e.scan(prefix, prefixEnd(prefix), func(_, v []byte) error {
		var p partRecord
		if err := jsonUnmarshal(v, &p); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// CompleteMultipartUpload implements Layer.
func (e *Engine) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, list []CompletePart, opts CompleteOptions) (ObjectInfo, error) {
	up, err := e.upload(bucket, key, uploadID)
	if err != nil {
		return ObjectInfo{}, err
	}
	if len(list) == 0 {
		return ObjectInfo{}, fmt.Errorf("%w: no parts", ErrMalformedRequest)
	}
	stored, err := e.parts(uploadID)
	if err != nil {
		return ObjectInfo{}, err
	}
	byNum := make(map[int]partRecord, len(stored))
	for _, p := range stored {
		byNum[p.Number] = p
	}
	chosen := make([]partRecord, 0, len(list))
	used := make(map[int]bool, len(list))
	var size int64
	for i, c := range list {
		if i > 0 && c.Number <= list[i-1].Number {
			return ObjectInfo{}, ErrInvalidPartOrder
		}
		p, ok := byNum[c.Number]
		if !ok || strings.Trim(c.ETag, `"`) != p.ETag {
			return ObjectInfo{}, fmt.Errorf("%w: part %d", ErrInvalidPart, c.Number)
		}
		for alg, want := range c.Checksums {
			if got, ok := p.Checksums[alg]; want != "" && ok && got != want {
				return ObjectInfo{}, fmt.Errorf("%w: part %d checksum", ErrInvalidPart, c.Number)
			}
		}
		chosen = append(chosen, p)
		used[p.Number] = true
		size += p.Size
	}
	for _, p := range chosen[:len(chosen)-1] {
		if p.Size < MinPartSize {
			return ObjectInfo{}, fmt.Errorf("%w: part %d is %d bytes", ErrEntityTooSmall, p.Number, p.Size)
		}
	}
	etag, err := multipartETag(chosen)
	if err != nil {
		return ObjectInfo{}, err
	}
	o := up.Opts
	desc, err := e.openDesc(ctx, up.Enc, bucket, key, up.SealedDesc)
	if err != nil {
		return ObjectInfo{}, err
	}
	now := e.now()
	v := &versionRecord{
		VSort: newVSort(now), ModTime: now.UnixNano(), Size: size, ETag: etag,
		descMeta: desc, StorageClass: o.StorageClass, ACL: o.ACL, Parts: chosen,
		Enc: up.Enc, // the parts were encrypted under the upload's data key
	}
	if alg := o.ChecksumAlgorithm; alg != "" {
		if sum, ok := compositeChecksum(alg, chosen); ok {
			v.Checksums = map[string]string{alg: sum}
		}
	}
	var garbage []string
	_, overwrite := e.deletionTarget(bucket)
	info, err := e.commitVersion(bucket, key, v, o.Lock, opts.IfNoneMatchStar, opts.IfMatch, func(b *metadata.Batch) {
		b.Delete(uploadKey(bucket, key, uploadID))
		b.Delete(uploadAgeKey(up))
		for _, p := range stored {
			b.Delete(partKey(uploadID, p.Number))
			if !used[p.Number] && p.DataID != "" {
				markGarbage(b, p.DataID, overwrite)
				garbage = append(garbage, p.DataID)
			}
		}
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	e.queueGC(garbage)
	return info, nil
}

// AbortMultipartUpload implements Layer.
func (e *Engine) AbortMultipartUpload(_ context.Context, bucket, key, uploadID string, opts AbortOptions) error {
	unlock := e.lockKey(bucket, key)
	defer unlock()
	return e.abortUpload(bucket, key, uploadID, removal{Actor: opts.Actor, Path: "AbortMultipartUpload"}, nil)
}

// abortUpload removes an upload, its parts and its index entry in one
// batch (extra, when set, adds to it: the lifecycle scheduler's cursor) and
// queues the parts' shards as garbage. The caller holds the key lock. It is
// the one path that aborts uploads, for clients and for lifecycle alike.
func (e *Engine) abortUpload(bucket, key, uploadID string, why removal, extra func(*metadata.Batch)) error {
	up, err := e.upload(bucket, key, uploadID)
	if err != nil {
		return err
	}
	stored, err := e.parts(uploadID)
	if err != nil {
		return err
	}
	b := metadata.NewBatch()
	b.Delete(uploadKey(bucket, key, uploadID))
	// The upload record holds the sealed data key of every part: aborting
	// destroys it like a version removal, with a deletion record.
	tenant, overwrite := e.deletionTarget(bucket)
	b.Delete(uploadAgeKey(up))
	if extra != nil {
		extra(b)
	}
	var garbage []string
	var size int64
	for _, p := range stored {
		b.Delete(partKey(uploadID, p.Number))
		size += p.Size
		if p.DataID != "" {
			markGarbage(b, p.DataID, overwrite)
			garbage = append(garbage, p.DataID)
		}
	}
	e.stageDeletion(b, admin.DeletionRecord{
		Tenant: tenant, Bucket: bucket, Key: key, UploadID: uploadID, Size: size,
		SHA256: unknownDigest, Actor: why.Actor, Rule: why.Rule, Path: why.Path, Method: method(overwrite, len(garbage) > 0),
	})
	if err := e.meta.Apply(b); err != nil {
		return mapErr(err)
	}
	e.queueGC(garbage)
	return nil
}

// ListParts implements Layer.
func (e *Engine) ListParts(_ context.Context, bucket, key, uploadID string, marker, max int) (ListPartsResult, error) {
	up, err := e.upload(bucket, key, uploadID)
	if err != nil {
		return ListPartsResult{}, err
	}
	if max <= 0 || max > MaxListKeys {
		max = MaxListKeys
	}
	stored, err := e.parts(uploadID)
	if err != nil {
		return ListPartsResult{}, err
	}
	res := ListPartsResult{ChecksumAlgorithm: up.Opts.ChecksumAlgorithm, Initiated: time.Unix(0, up.Initiated).UTC()}
	i := sort.Search(len(stored), func(i int) bool { return stored[i].Number > marker })
	for ; i < len(stored); i++ {
		if len(res.Parts) == max {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, stored[i].info())
		res.NextPartNumberMarker = stored[i].Number
	}
	return res, nil
}

// ListMultipartUploads implements Layer.
func (e *Engine) ListMultipartUploads(_ context.Context, bucket string, opts ListUploadsOptions) (ListUploadsResult, error) {
	if _, err := e.bucket(bucket); err != nil {
		return ListUploadsResult{}, err
	}
	var res ListUploadsResult
	w := &walker{e: e, tag: tagUpload, bucket: bucket, prefix: opts.Prefix, delimiter: opts.Delimiter, max: clampMax(opts.MaxUploads)}
	lastKey, lastID := "", ""
	w.emit = func(name string, rest, value []byte, dry bool) (bool, error) {
		if dry {
			return true, nil
		}
		var up uploadRecord
		if err := jsonUnmarshal(value, &up); err != nil {
			return false, err
		}
		res.Uploads = append(res.Uploads, UploadInfo{Key: name, UploadID: up.ID, Initiated: time.Unix(0, up.Initiated).UTC()})
		lastKey, lastID = name, up.ID
		return true, nil
	}
	var seek []byte
	if opts.KeyMarker != "" {
		if opts.UploadIDMarker != "" {
			seek = append(uploadKey(bucket, opts.KeyMarker, opts.UploadIDMarker), 0)
		} else {
			seek = append(objPrefix(tagUpload, bucket, opts.KeyMarker), 1)
		}
	}
	if err := w.run(opts.KeyMarker, seek); err != nil {
		return ListUploadsResult{}, err
	}
	res.CommonPrefixes, res.IsTruncated = w.prefixes, w.truncated
	if w.truncated {
		res.NextKeyMarker = w.last
		if w.last == lastKey {
			res.NextUploadIDMarker = lastID
		}
	}
	return res, nil
}
