package object

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferstore/coffer/admin"
	"github.com/cofferstore/coffer/metadata"
)

// Secure delete (crypto-shredding, requirements R54, R56, R57).
//
// A version is destroyed by destroying its data key: the version record
// (V), the latest record (L) and, for an aborted multipart upload, the
// upload record (U) are the only places that hold the sealed DEK, and they
// are deleted in the removal's metadata batch. Deleted pebble values stay
// in memtables, write-ahead logs and tables until compaction, so the shred
// worker purges (metadata.Purger) the key ranges of every removal from
// every replica within ShredInterval. The same removal batch stages a
// deletion record; the worker moves staged records into the hash-chained
// WORM log before it purges.
//
// Keyspace (tag 'W', see docs/on-disk-format.md):
//
//	W 0x00 <ns:8><rand:8>   staged deletion record (JSON), same batch as the removal
//	W 0x01 <seq:8>          chained deletion record (JSON), never rewritten or deleted
//	W 0x02                  chain head {seq, hash}
//	W 0x03                  purge mark {seq}: every removal up to seq is purged
const tagDeletion = 'W'

// Sub-tables of the deletion keyspace.
const (
	delStaged = 0x00
	delChain  = 0x01
	delHead   = 0x02
	delPurged = 0x03
)

// DefaultShredInterval is how often the shred worker chains staged
// deletion records and purges destroyed data keys from the metadata
// replicas when Config.ShredInterval is 0. A sealed data key outlives its
// removal by at most one interval plus the purge's duration.
const DefaultShredInterval = 10 * time.Second

// Deletion methods recorded in DeletionRecord.Method.
const (
	MethodCryptoShred          = "crypto-shred"
	MethodCryptoShredOverwrite = "crypto-shred+overwrite"
)

// unknownDigest is recorded when no plaintext SHA-256 was kept.
const unknownDigest = "unknown"

// genesisHash is the Prev of the first chained record.
var genesisHash = strings.Repeat("0", 64)

// purgeSpanLimit is the number of key ranges above which one purge
// compacts the single span covering all of them instead.
const purgeSpanLimit = 64

// chainBatch bounds the records chained per metadata batch.
const chainBatch = 512

// shredState is the engine's secure-delete state.
type shredState struct {
	// mu serialises chaining and purging (the chain head and purge mark
	// have one writer at a time).
	mu        sync.Mutex
	overwrite bool // server-wide overwrite before unlink
	interval  time.Duration

	versions    atomic.Int64 // versions whose purge completed
	bytes       atomic.Int64 // their plaintext bytes
	overwritten atomic.Int64 // shard bytes overwritten before unlink
	pending     atomic.Int64 // removals not yet purged (as of the last run)
}

// chainHead is the persisted head of the deletion record chain.
type chainHead struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// garbageRecord is the value of a G record: how to delete the shard set.
type garbageRecord struct {
	Overwrite bool `json:"ow,omitempty"`
}

func stagedKey(t time.Time) []byte {
	k := make([]byte, 2, 18)
	k[0], k[1] = tagDeletion, delStaged
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano()))
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		panic(err)
	}
	return append(k, r[:]...)
}

func chainKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{tagDeletion, delChain}, seq)
}

var (
	chainHeadKey = []byte{tagDeletion, delHead}
	purgeMarkKey = []byte{tagDeletion, delPurged}
)

// garbageValue is the G record value for a shard set of bucket.
func garbageValue(overwrite bool) []byte {
	if !overwrite {
		return nil
	}
	return mustJSON(garbageRecord{Overwrite: true})
}

// markGarbage adds to b: the shard set id is no longer referenced and
// becomes garbage, deleted with an overwrite when overwrite is set.
func markGarbage(b *metadata.Batch, id string, overwrite bool) {
	b.Delete(refKey(id))
	b.Set(garbageKey(id), garbageValue(overwrite))
}

// overwrites reports whether shard sets of brec are overwritten before
// unlink: the server flag or the bucket's opt-in.
func (e *Engine) overwrites(brec *bucketRecord) bool {
	return e.shred.overwrite || (brec != nil && brec.SecureDelete)
}

// deletionTarget is what removeVersion and the upload paths know about the
// bucket of a removal: its tenant and whether shards are overwritten.
func (e *Engine) deletionTarget(bucket string) (tenant string, overwrite bool) {
	brec, err := e.bucket(bucket)
	if err != nil {
		// The caller holds the bucket; a failed read only loses the
		// bucket's opt-in, never the server's.
		e.log.Warn("secure delete: reading bucket", "bucket", bucket, "err", err)
		return "unknown", e.shred.overwrite
	}
	return tenantOr(brec.Tenant), e.overwrites(brec)
}

// method names the deletion method of a removal.
func method(overwrite, hasShards bool) string {
	if overwrite && hasShards {
		return MethodCryptoShredOverwrite
	}
	return MethodCryptoShred
}

// plainDigest returns the plaintext SHA-256 of v (hex) and its source, or
// "unknown". Sources: the Object Lock evidence, a client SHA-256 checksum
// of a single-part object, or the SigV4-signed payload hash.
func plainDigest(v *versionRecord) (sum, source string) {
	if v.Evidence != nil && v.Evidence.SHA256 != "" {
		return v.Evidence.SHA256, "evidence"
	}
	if c, ok := v.Checksums[ChecksumSHA256]; ok && len(v.Parts) == 0 {
		if raw, err := base64.StdEncoding.DecodeString(c); err == nil && len(raw) == sha256.Size {
			return hex.EncodeToString(raw), "checksum"
		}
	}
	if v.PayloadSHA256 != "" {
		return v.PayloadSHA256, "payload"
	}
	return unknownDigest, ""
}

// stageDeletion adds the staged deletion record r to b (the removal's
// batch), stamped with the compliance clock.
func (e *Engine) stageDeletion(b *metadata.Batch, r admin.DeletionRecord) {
	r.Time = e.now().UTC()
	if r.Actor == "" {
		r.Actor = "unknown"
	}
	b.Set(stagedKey(r.Time), mustJSON(r))
}

// versionDeletion is the deletion record of version old of bucket/key.
func versionDeletion(tenant, bucket, key string, old *versionRecord, why removal, overwrite bool) admin.DeletionRecord {
	sum, src := plainDigest(old)
	return admin.DeletionRecord{
		Tenant: tenant, Bucket: bucket, Key: key, VersionID: old.versionID(),
		Size: old.Size, SHA256: sum, SHA256Source: src, ETag: old.ETag,
		Actor: why.Actor, Rule: why.Rule, Path: why.Path,
		Method: method(overwrite, len(old.dataIDs()) > 0),
	}
}

// recordHash is the chain hash of r: SHA-256 over its JSON with Hash empty.
func recordHash(r admin.DeletionRecord) string {
	r.Hash = ""
	sum := sha256.Sum256(mustJSON(r))
	return hex.EncodeToString(sum[:])
}

// hashEqual compares two hex hashes in constant time.
func hashEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (e *Engine) readHead() (chainHead, error) {
	raw, err := e.meta.Get(chainHeadKey)
	if errors.Is(err, metadata.ErrNotFound) {
		return chainHead{Hash: genesisHash}, nil
	}
	if err != nil {
		return chainHead{}, mapErr(err)
	}
	var h chainHead
	return h, jsonUnmarshal(raw, &h)
}

func (e *Engine) readPurgeMark() (uint64, error) {
	raw, err := e.meta.Get(purgeMarkKey)
	if errors.Is(err, metadata.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, mapErr(err)
	}
	var h chainHead
	return h.Seq, jsonUnmarshal(raw, &h)
}

// chainStaged moves staged deletion records into the chain, oldest first,
// each batch atomically (chained record, head, and the staged record's
// removal), so a crash neither loses nor doubles a record. The caller
// holds e.shred.mu.
func (e *Engine) chainStaged() error {
	lo, hi := []byte{tagDeletion, delStaged}, []byte{tagDeletion, delStaged + 1}
	for {
		head, err := e.readHead()
		if err != nil {
			return err
		}
		b := metadata.NewBatch()
		n := 0
		err = e.scan(lo, hi, func(k, v []byte) error {
			if n == chainBatch {
				return errStopScan
			}
			var r admin.DeletionRecord
			if err := jsonUnmarshal(v, &r); err != nil {
				return err
			}
			r.Seq, r.Prev = head.Seq+1, head.Hash
			r.Hash = recordHash(r)
			b.Set(chainKey(r.Seq), mustJSON(r))
			b.Delete(k)
			head = chainHead{Seq: r.Seq, Hash: r.Hash}
			n++
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			return err
		}
		if n == 0 {
			return nil
		}
		b.Set(chainHeadKey, mustJSON(head))
		if err := e.meta.Apply(b); err != nil {
			return mapErr(err)
		}
		if n < chainBatch {
			return nil
		}
	}
}

// purgeRanges returns the metadata key ranges that may hold r's sealed
// DEK: the key's version records, its latest record, and its upload
// records — an aborted upload's, and also those of completed uploads,
// whose deleted U record held the same sealed key as the version made of
// it.
func purgeRanges(r admin.DeletionRecord) []metadata.KeyRange {
	v := append(objPrefix(tagVersion, r.Bucket, r.Key), 0)
	l := latestKey(r.Bucket, r.Key)
	u := append(objPrefix(tagUpload, r.Bucket, r.Key), 0)
	return []metadata.KeyRange{
		{Start: v, End: prefixEnd(v)},
		{Start: l, End: append(bytes.Clone(l), 0)},
		{Start: u, End: prefixEnd(u)},
	}
}

// mergeRanges sorts and coalesces ranges; past purgeSpanLimit it returns
// the one span that covers them all.
func mergeRanges(rs []metadata.KeyRange) []metadata.KeyRange {
	slices.SortFunc(rs, func(a, b metadata.KeyRange) int { return bytes.Compare(a.Start, b.Start) })
	var out []metadata.KeyRange
	for _, r := range rs {
		if n := len(out); n > 0 && bytes.Compare(r.Start, out[n-1].End) <= 0 {
			if bytes.Compare(r.End, out[n-1].End) > 0 {
				out[n-1].End = r.End
			}
			continue
		}
		out = append(out, r)
	}
	if len(out) > purgeSpanLimit {
		end := out[0].End
		for _, r := range out {
			if bytes.Compare(r.End, end) > 0 {
				end = r.End
			}
		}
		out = []metadata.KeyRange{{Start: out[0].Start, End: end}}
	}
	return out
}

// ShredNow chains staged deletion records and purges the data keys of
// every removal not yet purged from every metadata replica. The shred
// worker calls it every ShredInterval; tests and operators may call it to
// finish the window early. When it returns nil, no file of any replica
// holds a sealed data key removed before the call. It is not part of
// Layer.
func (e *Engine) ShredNow(ctx context.Context) error {
	e.shred.mu.Lock()
	defer e.shred.mu.Unlock()
	if err := e.chainStaged(); err != nil {
		return err
	}
	head, err := e.readHead()
	if err != nil {
		return err
	}
	mark, err := e.readPurgeMark()
	if err != nil {
		return err
	}
	e.shred.pending.Store(int64(head.Seq - mark))
	if head.Seq <= mark {
		return nil
	}
	var ranges []metadata.KeyRange
	var versions, size int64
	err = e.scan(chainKey(mark+1), chainKey(head.Seq+1), func(_, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var r admin.DeletionRecord
		if err := jsonUnmarshal(v, &r); err != nil {
			return err
		}
		ranges = append(ranges, purgeRanges(r)...)
		versions++
		size += r.Size
		return nil
	})
	if err != nil {
		return err
	}
	pu, ok := e.meta.(metadata.Purger)
	if !ok {
		return errors.New("object: the metadata store cannot purge deleted values")
	}
	if err := pu.Purge(mergeRanges(ranges)); err != nil {
		return fmt.Errorf("object: purging destroyed data keys: %w", err)
	}
	b := metadata.NewBatch()
	b.Set(purgeMarkKey, mustJSON(chainHead{Seq: head.Seq}))
	if err := e.meta.Apply(b); err != nil {
		return mapErr(err)
	}
	e.shred.pending.Store(0)
	e.shred.versions.Add(versions)
	e.shred.bytes.Add(size)
	return nil
}

// shredWorker runs ShredNow every interval (and once at start, finishing
// a purge that a restart interrupted).
func (e *Engine) shredWorker() {
	defer e.wg.Done()
	t := time.NewTicker(e.shred.interval)
	defer t.Stop()
	for {
		if err := e.ShredNow(context.Background()); err != nil {
			e.log.Warn("secure delete: purge failed, retrying next interval", "err", err)
		}
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
	}
}

// ExportDeletions implements admin.DeletionLog: staged records are
// chained first, so every removal committed before the call is exported.
func (e *Engine) ExportDeletions(ctx context.Context, f admin.DeletionFilter, fn func(admin.DeletionRecord) error) error {
	e.shred.mu.Lock()
	err := e.chainStaged()
	e.shred.mu.Unlock()
	if err != nil {
		return err
	}
	return e.scan(chainKey(1), []byte{tagDeletion, delChain + 1}, func(_, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var r admin.DeletionRecord
		if err := jsonUnmarshal(v, &r); err != nil {
			return err
		}
		switch {
		case !f.Since.IsZero() && r.Time.Before(f.Since),
			!f.Until.IsZero() && !r.Time.Before(f.Until),
			f.Bucket != "" && r.Bucket != f.Bucket,
			f.Tenant != "" && r.Tenant != f.Tenant:
			return nil
		}
		return fn(r)
	})
}

// VerifyDeletions implements admin.DeletionLog: sequence numbers must run
// from 1 without gaps, each record's Prev must be the previous Hash, each
// Hash must match the record, each stored value must be the canonical
// encoding of its record, and the head must name the last record. Any
// deletion, insertion or alteration of a chained record is detected
// (unless the head is rewritten consistently too: anchor exported head
// hashes outside the server for that).
func (e *Engine) VerifyDeletions(ctx context.Context) (admin.DeletionChainStatus, error) {
	e.shred.mu.Lock()
	defer e.shred.mu.Unlock()
	st := admin.DeletionChainStatus{}
	head, err := e.readHead()
	if err != nil {
		return st, err
	}
	st.HeadSeq, st.HeadHash = head.Seq, head.Hash
	prev := genesisHash
	var problem string
	err = e.scan(chainKey(0), []byte{tagDeletion, delChain + 1}, func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := st.Records + 1
		var r admin.DeletionRecord
		switch {
		case jsonUnmarshal(v, &r) != nil:
			problem = fmt.Sprintf("record %d: malformed", want)
		case len(k) != 10 || binary.BigEndian.Uint64(k[2:]) != want || r.Seq != want:
			problem = fmt.Sprintf("record %d: sequence broken (found %d)", want, r.Seq)
		case !hashEqual(r.Prev, prev):
			problem = fmt.Sprintf("record %d: link to the previous record broken", want)
		case !hashEqual(r.Hash, recordHash(r)):
			problem = fmt.Sprintf("record %d: hash does not match its content", want)
		case !bytes.Equal(v, mustJSON(r)):
			problem = fmt.Sprintf("record %d: stored bytes altered", want)
		}
		if problem != "" {
			return errStopScan
		}
		prev = r.Hash
		st.Records++
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return st, err
	}
	if problem == "" && (st.Records != head.Seq || !hashEqual(prev, head.Hash)) {
		problem = fmt.Sprintf("chain ends at record %d but its head names record %d", st.Records, head.Seq)
	}
	st.OK, st.Problem = problem == "", problem
	return st, nil
}

// BucketSecureDelete implements admin.DeletionLog.
func (e *Engine) BucketSecureDelete(_ context.Context, bucket string) (admin.SecureDeleteSetting, error) {
	brec, err := e.bucket(bucket)
	if err != nil {
		return admin.SecureDeleteSetting{}, complianceErr(err)
	}
	return admin.SecureDeleteSetting{Bucket: bucket, Overwrite: brec.SecureDelete, Server: e.shred.overwrite}, nil
}

// SetBucketSecureDelete implements admin.DeletionLog: it sets the
// bucket's opt-in to overwriting shard files before unlink. It applies to
// shard sets that become garbage after the change.
func (e *Engine) SetBucketSecureDelete(_ context.Context, bucket string, on bool) (admin.SecureDeleteSetting, error) {
	var out admin.SecureDeleteSetting
	err := e.updateBucket(bucket, func(r *bucketRecord) error {
		r.SecureDelete = on
		out = admin.SecureDeleteSetting{Bucket: bucket, Overwrite: on, Server: e.shred.overwrite}
		return nil
	})
	return out, complianceErr(err)
}

// SecureDeleteMetrics is the s3api.MetricsSource of secure delete.
type SecureDeleteMetrics struct{ e *Engine }

// SecureDeleteMetrics returns the engine's secure-delete metrics source.
func (e *Engine) SecureDeleteMetrics() SecureDeleteMetrics { return SecureDeleteMetrics{e} }

// WriteMetrics writes the secure-delete families: throughput (versions and
// bytes whose data keys were purged), the shred queue, and the bytes
// overwritten before unlink. It never blocks.
func (m SecureDeleteMetrics) WriteMetrics(w io.Writer) {
	e := m.e
	fmt.Fprintf(w, "# HELP coffer_secure_delete_versions_total Versions and uploads whose data keys were purged from every metadata replica.\n"+
		"# TYPE coffer_secure_delete_versions_total counter\ncoffer_secure_delete_versions_total %d\n", e.shred.versions.Load())
	fmt.Fprintf(w, "# HELP coffer_secure_delete_bytes_total Plaintext bytes of the versions counted by coffer_secure_delete_versions_total.\n"+
		"# TYPE coffer_secure_delete_bytes_total counter\ncoffer_secure_delete_bytes_total %d\n", e.shred.bytes.Load())
	fmt.Fprintf(w, "# HELP coffer_secure_delete_pending Removals whose data keys are not yet purged (as of the last shred run).\n"+
		"# TYPE coffer_secure_delete_pending gauge\ncoffer_secure_delete_pending %d\n", e.shred.pending.Load())
	fmt.Fprintf(w, "# HELP coffer_secure_delete_overwritten_bytes_total Shard file bytes overwritten before unlink.\n"+
		"# TYPE coffer_secure_delete_overwritten_bytes_total counter\ncoffer_secure_delete_overwritten_bytes_total %d\n", e.shred.overwritten.Load())
}
