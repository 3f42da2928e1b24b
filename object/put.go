package object

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/lock"
	"github.com/cofferstore/coffer/metadata"
)

// MaxObjectSize is the largest single PUT or part that S3 accepts (5 GiB).
const MaxObjectSize = 5 << 30

// checkKey validates an object key.
func checkKey(key string) error {
	if key == "" || len(key) > 1024 || !utf8.ValidString(key) || strings.IndexByte(key, 0) >= 0 {
		return fmt.Errorf("%w: %q", ErrInvalidObjectName, key)
	}
	return nil
}

// stored is the result of streaming a body to storage: either inline bytes
// or a shard set left uncommitted in the drives' temporary area.
type stored struct {
	size       int64
	storedSize int64
	md5        []byte
	checksum   string // additional checksum (base64), "" if none
	sha256     []byte // SHA-256 of the plaintext, when computed (evidence)
	inline     []byte // non-nil when the data is inline (may be empty)
	dataID     string // shard set id when not inline
	degraded   bool   // some drives missed their shard: heal after commit

	comp *compRecord // compression record, when the transform compressed
}

// digests carries what the client asked us to verify.
type digests struct {
	md5, sha256 []byte
	alg, expect string
	trailing    func() string
	// evidence: compute the plaintext's SHA-256 even when the client did
	// not sign the payload (versions written to Object Lock buckets).
	evidence bool
}

// store streams r (size bytes, or until EOF when size < 0) through the
// hashing and transform stages into either an inline buffer (at most the
// inline limit) or a new uncommitted shard set. Nothing is visible until the
// caller commits metadata and then calls commitData.
func (e *Engine) store(r io.Reader, size int64, d digests, allowInline bool, tf Transform) (*stored, error) {
	if size > MaxObjectSize {
		return nil, ErrEntityTooLarge
	}
	hr, err := newHashingReader(r, size, d.sha256 != nil || d.evidence, d.alg)
	if err != nil {
		return nil, err
	}
	out := &stored{}
	var head []byte
	if allowInline && size <= e.inline {
		// Read up to the inline limit; if the body ends there it is inline.
		buf, err := io.ReadAll(io.LimitReader(hr, e.inline+1))
		if err != nil {
			return nil, mapErr(err)
		}
		if int64(len(buf)) <= e.inline {
			if out.inline, out.comp, err = encodeInline(buf, tf); err != nil {
				return nil, err
			}
		} else {
			head = buf
		}
	}
	if out.inline == nil {
		id := newID()
		w, err := e.set.NewWriter(id)
		if err != nil {
			return nil, mapErr(err)
		}
		enc, err := tf.NewEncoder(w)
		if err != nil {
			w.Abort()
			return nil, err
		}
		if _, err := enc.Write(head); err != nil { // already hashed
			w.Abort()
			return nil, mapErr(err)
		}
		if err := copyHashed(enc, hr); err != nil {
			w.Abort()
			return nil, mapErr(err)
		}
		if err := enc.Close(); err != nil {
			w.Abort()
			return nil, mapErr(err)
		}
		out.comp = encoderComp(enc)
		n, err := w.Close()
		if err != nil {
			return nil, mapErr(err)
		}
		out.dataID, out.storedSize = id, n
		out.degraded = len(w.Failed()) > 0
	} else {
		out.storedSize = int64(len(out.inline))
	}
	out.size = hr.n
	out.md5, out.checksum, err = hr.verify(d.md5, d.sha256, d.alg, d.expect, d.trailing)
	if err != nil {
		e.discard(out)
		return nil, err
	}
	if hr.sha256 != nil {
		out.sha256 = hr.sha256.Sum(nil)
	}
	return out, nil
}

// encodeInline applies the transform to a small plaintext held in memory.
func encodeInline(p []byte, tf Transform) ([]byte, *compRecord, error) {
	var b bytes.Buffer
	enc, err := tf.NewEncoder(&b)
	if err == nil {
		_, err = enc.Write(p)
	}
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		return nil, nil, err
	}
	return b.Bytes(), encoderComp(enc), nil
}

// discard drops uncommitted data.
func (e *Engine) discard(s *stored) {
	if s != nil && s.dataID != "" {
		e.set.RemoveTemp(s.dataID)
	}
}

// commitData makes a stored shard set final after its metadata committed.
// A failure here is repaired at the next start (the reference exists).
func (e *Engine) commitData(s *stored) {
	if s.dataID == "" {
		return
	}
	unlock := e.lockData(s.dataID) // a heal of this set may have committed it already
	err := e.set.Commit(s.dataID)
	unlock()
	if err != nil {
		e.log.Error("committing shards (repaired at restart)", "data", s.dataID, "err", err)
		s.degraded = true
	}
	if s.degraded {
		e.queueHeal(s.dataID)
	}
}

// newVersion builds a version record for stored data, encrypted as enc.
func (e *Engine) newVersion(s *stored, opts PutOptions, enc *encRecord) *versionRecord {
	now := e.now()
	v := &versionRecord{
		VSort: newVSort(now), ModTime: now.UnixNano(), Size: s.size,
		ETag:     hex.EncodeToString(s.md5),
		descMeta: descFromOptions(opts), StorageClass: opts.StorageClass, ACL: opts.ACL,
		StoredSize: s.storedSize, Enc: enc, Comp: s.comp,
	}
	if s.checksum != "" {
		v.Checksums = map[string]string{opts.ChecksumAlgorithm: s.checksum}
	}
	if s.inline != nil {
		v.Inline, v.data = true, s.inline
	} else {
		v.DataID = s.dataID
	}
	return v
}

// PutObject implements Layer.
func (e *Engine) PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return ObjectInfo{}, err
	}
	brec, err := e.bucket(bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	sse, err := resolveSSE(opts.SSE, brec)
	if err != nil {
		return ObjectInfo{}, err
	}
	if _, err := lockForWrite(brec.ObjectLock, brec.ObjectLockDefault, brec.RetentionPolicy, opts.Lock, e.now(), true); err != nil {
		return ObjectInfo{}, err
	}
	if err := e.checkWriteConditions(bucket, key, opts.IfNoneMatchStar, opts.IfMatch); err != nil {
		return ObjectInfo{}, err
	}
	dek, enc, err := e.newDataKey(ctx, sse, tenantOr(brec.Tenant), bucket, key)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer kms.Zero(dek)
	tf, suite, nonce, err := newDataStream(dek, objectLabel, e.compress.wants(size, opts.ContentType, opts.ContentEncoding))
	if err != nil {
		return ObjectInfo{}, err
	}
	enc.Suite, enc.Nonce = suite, nonce
	s, err := e.store(r, size, digests{opts.ExpectMD5, opts.ExpectSHA256, opts.ChecksumAlgorithm, opts.ExpectChecksum, opts.TrailingChecksum, brec.ObjectLock}, true, tf)
	if err != nil {
		return ObjectInfo{}, err
	}
	v := e.newVersion(s, opts, enc)
	if brec.ObjectLock {
		v.Evidence = newEvidence(s.sha256, opts.ExpectMD5)
	} else if s.sha256 != nil {
		v.PayloadSHA256 = hex.EncodeToString(s.sha256)
	}
	info, err := e.commitVersion(bucket, key, v, opts.Lock, opts.IfNoneMatchStar, opts.IfMatch, nil)
	if err != nil {
		e.discard(s)
		return ObjectInfo{}, err
	}
	e.commitData(s)
	return info, nil
}

// checkWriteConditions evaluates If-None-Match: * and If-Match against the
// key's current version. It runs before the upload (to fail fast) and again
// inside the commit (to be exact).
func (e *Engine) checkWriteConditions(bucket, key string, noneMatchStar bool, ifMatch string) error {
	if !noneMatchStar && ifMatch == "" {
		return nil
	}
	cur, err := e.latest(bucket, key)
	if err != nil && !errors.Is(err, ErrNoSuchKey) {
		return err
	}
	exists := cur != nil && !cur.DeleteMarker
	if noneMatchStar && exists {
		return ErrPreconditionFailed
	}
	if ifMatch != "" {
		if !exists {
			return ErrNoSuchKey
		}
		if !etagMatches(ifMatch, cur.ETag) {
			return ErrPreconditionFailed
		}
	}
	return nil
}

// etagMatches compares an If-Match style list against an ETag.
func etagMatches(cond, etag string) bool {
	for _, c := range strings.Split(cond, ",") {
		c = strings.TrimSpace(c)
		c = strings.TrimPrefix(c, "W/")
		if c == "*" || strings.Trim(c, `"`) == etag {
			return true
		}
	}
	return false
}

// commitVersion makes v the current version of key in one metadata batch,
// applying the bucket's versioning rules: with versioning Enabled v gets its
// own version id; otherwise v becomes the null version, replacing (after
// the retention check) any previous null version. v's lock state comes
// from lk or the bucket's default retention (lockForWrite). extra, when
// set, adds operations to the same batch. It returns the new version's info.
func (e *Engine) commitVersion(bucket, key string, v *versionRecord, lk *LockOptions, noneMatchStar bool, ifMatch string, extra func(*metadata.Batch)) (ObjectInfo, error) {
	unlock := e.lockKey(bucket, key)
	defer unlock()
	brec, err := e.bucket(bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := e.checkWriteConditions(bucket, key, noneMatchStar, ifMatch); err != nil {
		return ObjectInfo{}, err
	}
	// The date was checked to be in the future when the write started; a
	// long upload does not turn it invalid here.
	if v.Lock, err = lockForWrite(brec.ObjectLock, brec.ObjectLockDefault, brec.RetentionPolicy, lk, v.modTime(), false); err != nil {
		return ObjectInfo{}, err
	}
	if err := e.sealVersion(context.Background(), v, tenantOr(brec.Tenant), bucket, key); err != nil {
		return ObjectInfo{}, err
	}
	b := metadata.NewBatch()
	var garbage []string
	var replaced *versionRecord
	if brec.Versioning != VersioningEnabled {
		v.Null = true
		old, err := e.nullVersion(bucket, key)
		if err != nil && !errors.Is(err, ErrNoSuchVersion) {
			return ObjectInfo{}, err
		}
		if old != nil {
			if err := e.checkRemove(old, "PutObject.replaceNull", false); err != nil {
				return ObjectInfo{}, err
			}
			garbage = e.removeVersion(b, bucket, key, old, removal{Actor: v.Owner, Path: "PutObject.replaceNull"})
			replaced = old
		}
		b.Set(nullKey(bucket, key), v.VSort)
	}
	if brec.Versioning != "" { // an unversioned bucket has no noncurrent versions
		if err := e.demoteLatest(b, bucket, key, v.VSort, replaced); err != nil {
			return ObjectInfo{}, err
		}
	}
	e.putVersion(b, bucket, key, v)
	b.Set(latestKey(bucket, key), v.encode(false))
	if extra != nil {
		extra(b)
	}
	if err := e.meta.Apply(b); err != nil {
		return ObjectInfo{}, mapErr(err)
	}
	e.queueGC(garbage)
	info := v.info(bucket, key, brec.Versioning != "")
	info.IsLatest = true
	return info, nil
}

// putVersion adds v's version record and its data references to b.
func (e *Engine) putVersion(b *metadata.Batch, bucket, key string, v *versionRecord) {
	b.Set(versionKey(bucket, key, v.VSort), v.encode(true))
	b.Set(ageKey(bucket, key, v), nil) // lifecycle age index (lcindex.go)
	for _, id := range v.dataIDs() {
		b.Set(refKey(id.id), mustJSON(refRecord{Bucket: bucket, Key: key, VSort: v.VSort, StoredSize: id.size}))
	}
}

// removal says why a version is removed permanently: who asked (Actor),
// under which lifecycle rule (Rule, "" for none) and by what path (Path,
// the same name given to checkRemove). It feeds the deletion record.
type removal struct {
	Actor string
	Rule  string
	Path  string
}

// removeVersion adds the removal of version old to b: its record, null
// index and references go, its shard sets become garbage (overwritten
// before unlink when the server or the bucket asks for it), and a version
// that held data gets a staged deletion record in the same batch, so the
// record exists if and only if the removal committed; the shred worker
// then purges its sealed data key from every metadata replica (shred.go).
// The caller MUST have passed the retention check for old. It returns the
// garbage ids.
func (e *Engine) removeVersion(b *metadata.Batch, bucket, key string, old *versionRecord, why removal) []string {
	b.Delete(versionKey(bucket, key, old.VSort))
	b.Delete(ageKey(bucket, key, old)) // lifecycle age index (lcindex.go)
	if old.Null {
		b.Delete(nullKey(bucket, key))
	}
	if old.DeleteMarker {
		return nil // no data, no data key: nothing to destroy or record
	}
	tenant, overwrite := e.deletionTarget(bucket)
	var ids []string
	for _, id := range old.dataIDs() {
		markGarbage(b, id.id, overwrite)
		ids = append(ids, id.id)
	}
	e.stageDeletion(b, versionDeletion(tenant, bucket, key, old, why, overwrite))
	return ids
}

// checkRemove is the object layer's single gate to lock.CheckRemove: every
// path that removes or overwrites a version calls it with its path name.
// bypass MUST be true only for a caller that asked for and holds the
// governance bypass (DeleteOptions.BypassGovernance); a removal that
// succeeds only because of it is logged for the audit trail.
func (e *Engine) checkRemove(v *versionRecord, path string, bypass bool) error {
	now := e.now()
	if err := lock.CheckRemove(v.Lock, lock.Removal{Now: now, Path: path, BypassGovernance: bypass}); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrObjectLocked, path, err)
	}
	if bypass && lock.CheckRemove(v.Lock, lock.Removal{Now: now, Path: path}) != nil {
		e.log.Warn("governance retention bypassed", "path", path, "version", v.versionID(),
			"mode", v.Lock.Mode, "retain_until", v.Lock.RetainUntil)
	}
	return nil
}

type dataRef struct {
	id   string
	size int64
}

func (v *versionRecord) dataIDs() []dataRef {
	if v.DataID != "" {
		return []dataRef{{v.DataID, v.StoredSize}}
	}
	var out []dataRef
	for _, p := range v.Parts {
		if p.DataID != "" {
			out = append(out, dataRef{p.DataID, p.StoredSize})
		}
	}
	return out
}
