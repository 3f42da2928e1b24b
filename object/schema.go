package object

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cofferstore/coffer/lock"
)

// The metadata keyspace. Every key starts with a one-byte table tag; names
// are separated by 0x00 (keys and bucket names never contain it), so the
// byte order of keys within a bucket is the S3 listing order.
//
//	B<bucket>                       bucket record (JSON)
//	L<bucket>\0<key>                current version of a key: its record without inline data
//	V<bucket>\0<key>\0<vsort>       every version and delete marker (full record)
//	N<bucket>\0<key>                vsort of the key's null version
//	U<bucket>\0<key>\0<uploadID>    multipart upload record (JSON)
//	P<uploadID>\0<part:05d>         multipart part record (JSON)
//	R<dataID>                       reference: which version (or upload) owns a shard set
//	G<dataID>                       garbage: shard set to delete (value: garbageRecord JSON, or empty)
//	W...                            deletion records (WORM, hash-chained) and the shred state (shred.go)
//	K...                            the local KMS provider's tenant keys (sealed by the master key)
//	Cclock                          the compliance clock (lock.Clock state)
//
// vsort is 16 bytes: big-endian (MaxUint64 - mtime in ns) then 8 random
// bytes, so a key's versions sort newest first. A version id is the hex of
// its vsort; the null version keeps its own vsort and is found through N.
const (
	tagBucket  = 'B'
	tagLatest  = 'L'
	tagVersion = 'V'
	tagNull    = 'N'
	tagUpload  = 'U'
	tagPart    = 'P'
	tagRef     = 'R'
	tagGarbage = 'G'
	tagKMS     = 'K' // the local KMS provider's keyspace
	tagClock   = 'C' // the compliance clock's persisted state
)

// TablePrefixes returns the metadata tables the object layer owns — its
// keyspace above, the lifecycle indexes and state, the deletion records,
// the local KMS provider's records and the compliance clock — by prefix,
// with what each holds. Packages composed beside the object layer on the
// same store (iam, offboard) MUST use other prefixes; a test of the
// composition (cmd/coffer) checks that every prefix has one owner.
func TablePrefixes() map[byte]string {
	return map[byte]string{
		tagBucket:     "object: bucket records",
		tagLatest:     "object: current versions",
		tagVersion:    "object: versions",
		tagNull:       "object: null versions",
		tagUpload:     "object: multipart uploads",
		tagPart:       "object: multipart parts",
		tagRef:        "object: shard set references",
		tagGarbage:    "object: garbage shard sets",
		tagDeletion:   "object: deletion records and shred state",
		tagAge:        "object: lifecycle age index",
		tagNoncurrent: "object: lifecycle noncurrent index",
		tagUploadAge:  "object: lifecycle upload index",
		tagLifecycle:  "object: lifecycle scheduler state",
		tagScrub:      "object: scrubber state",
		tagKMS:        "crypto/kms: local provider records",
		tagClock:      "lock: compliance clock",
	}
}

const vsortLen = 16

func bucketKey(bucket string) []byte {
	return append([]byte{tagBucket}, bucket...)
}

// objPrefix returns tag + bucket + 0x00 (+ key).
func objPrefix(tag byte, bucket, key string) []byte {
	b := make([]byte, 0, 2+len(bucket)+len(key)+vsortLen+1)
	b = append(b, tag)
	b = append(b, bucket...)
	b = append(b, 0)
	return append(b, key...)
}

func latestKey(bucket, key string) []byte { return objPrefix(tagLatest, bucket, key) }
func nullKey(bucket, key string) []byte   { return objPrefix(tagNull, bucket, key) }

func versionKey(bucket, key string, vsort []byte) []byte {
	b := objPrefix(tagVersion, bucket, key)
	b = append(b, 0)
	return append(b, vsort...)
}

func uploadKey(bucket, key, uploadID string) []byte {
	b := objPrefix(tagUpload, bucket, key)
	b = append(b, 0)
	return append(b, uploadID...)
}

func partKey(uploadID string, n int) []byte {
	return fmt.Appendf([]byte{tagPart}, "%s\x00%05d", uploadID, n)
}

func refKey(dataID string) []byte     { return append([]byte{tagRef}, dataID...) }
func garbageKey(dataID string) []byte { return append([]byte{tagGarbage}, dataID...) }

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// newVSort returns a fresh version sort key for time t.
func newVSort(t time.Time) []byte {
	v := make([]byte, vsortLen)
	binary.BigEndian.PutUint64(v, math.MaxUint64-uint64(t.UnixNano()))
	if _, err := rand.Read(v[8:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return v
}

// newID returns a random 128-bit identifier in hex (data ids, upload ids).
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// parseVersionID decodes a non-null version id into its vsort.
func parseVersionID(id string) ([]byte, error) {
	v, err := hex.DecodeString(id)
	if err != nil || len(v) != vsortLen {
		return nil, fmt.Errorf("%w: version id %q", ErrNoSuchVersion, id)
	}
	return v, nil
}

// versionRecord is one version (or delete marker) of a key. It is encoded
// as uvarint(len(json)) || json || inline data.
type versionRecord struct {
	VSort        []byte            `json:"vs"`
	Null         bool              `json:"null,omitempty"`
	DeleteMarker bool              `json:"dm,omitempty"`
	ModTime      int64             `json:"mt"`
	Size         int64             `json:"sz"`
	ETag         string            `json:"etag,omitempty"`
	Owner        string            `json:"owner,omitempty"`
	Tenant       string            `json:"tenant,omitempty"`
	StorageClass string            `json:"sc,omitempty"`
	ACL          []byte            `json:"acl,omitempty"`
	Checksums    map[string]string `json:"ck,omitempty"`
	// descMeta is the client's description (content headers, user
	// metadata, tags), in memory only: records hold it sealed in
	// SealedDesc (metaseal.go). Decoded records have it empty until
	// Engine.openVersion.
	descMeta   `json:"-"`
	SealedDesc []byte `json:"sdesc,omitempty"`
	// Data location: Inline (data follows the JSON), DataID (one shard
	// set) or Parts (multipart, one shard set per part).
	Inline     bool         `json:"inl,omitempty"`
	DataID     string       `json:"did,omitempty"`
	StoredSize int64        `json:"ssz,omitempty"`
	Parts      []partRecord `json:"parts,omitempty"`
	// Lock is the Object Lock state.
	Lock lock.State `json:"lock"`
	// Enc is the encryption record: the sealed data key and the stream
	// parameters. Every version that holds data has one.
	Enc *encRecord `json:"enc,omitempty"`
	// Comp is the compression record of single-part and inline data that
	// was compressed (compress.go); parts carry their own.
	Comp *compRecord `json:"comp,omitempty"`
	// Evidence is the integrity evidence of a version written to an
	// Object Lock bucket (single-part and inline data; a multipart
	// version's evidence is in its parts).
	Evidence *evidence `json:"evid,omitempty"`
	// PayloadSHA256 is the hex SHA-256 of the plaintext of a single-part
	// version whose client signed the payload (computed anyway to verify
	// the signature), for its deletion record; "" when unknown or when
	// Evidence holds it.
	PayloadSHA256 string `json:"psha,omitempty"`

	data []byte // inline data (not in JSON)
}

// partRecord is one uploaded part, in an upload or in a completed version.
type partRecord struct {
	Number     int               `json:"n"`
	Size       int64             `json:"sz"`
	StoredSize int64             `json:"ssz"`
	ETag       string            `json:"etag"`
	DataID     string            `json:"did,omitempty"`
	ModTime    int64             `json:"mt"`
	Checksums  map[string]string `json:"ck,omitempty"`
	// Suite and Nonce are the part's encryption stream parameters (its key
	// is derived from the upload's data key and the part number).
	Suite byte   `json:"suite,omitempty"`
	Nonce []byte `json:"nonce,omitempty"`
	// Comp is the part's compression record when it was compressed.
	Comp *compRecord `json:"comp,omitempty"`
	// Evidence is the part's integrity evidence in an Object Lock bucket.
	Evidence *evidence `json:"evid,omitempty"`
}

// evidence is the integrity evidence kept for data written to an Object
// Lock bucket (SEC 17a-4(f) "verify the quality and accuracy"): the
// SHA-256 of the plaintext, computed while the data streamed in whether or
// not the client signed the payload, and the Content-MD5 the client sent
// (base64, "" when none). `coffer admin verify` re-reads the data and
// compares. For a multipart object each part carries its own evidence: S3
// gives no whole-object digest of a multipart upload and the whole
// object's SHA-256 cannot be derived from the parts'.
type evidence struct {
	SHA256     string `json:"sha256"`
	ContentMD5 string `json:"cmd5,omitempty"`
}

// newEvidence returns the evidence record for a plaintext SHA-256 and the
// client's raw Content-MD5 (nil when not sent).
func newEvidence(sha []byte, contentMD5 []byte) *evidence {
	ev := &evidence{SHA256: hex.EncodeToString(sha)}
	if contentMD5 != nil {
		ev.ContentMD5 = base64.StdEncoding.EncodeToString(contentMD5)
	}
	return ev
}

// uploadRecord is an in-progress multipart upload.
type uploadRecord struct {
	ID        string     `json:"id"`
	Bucket    string     `json:"b"`
	Key       string     `json:"k"`
	Initiated int64      `json:"init"`
	Opts      PutOptions `json:"opts"`
	Enc       *encRecord `json:"enc"`
	// Compress says the upload's parts are compressed (decided at
	// NewMultipartUpload from the Content-Type).
	Compress bool `json:"comp,omitempty"`
	// SealedDesc is the upload's description sealed (metaseal.go); Opts
	// holds none of it.
	SealedDesc []byte `json:"sdesc,omitempty"`
}

// bucketRecord is a bucket.
type bucketRecord struct {
	Name       string `json:"name"`
	Created    int64  `json:"created"`
	Region     string `json:"region,omitempty"`
	Owner      string `json:"owner,omitempty"`
	Tenant     string `json:"tenant,omitempty"`
	Versioning string `json:"versioning,omitempty"`
	ObjectLock bool   `json:"object_lock,omitempty"`
	// ObjectLockDefault is the default retention of new versions.
	ObjectLockDefault *LockDefault      `json:"object_lock_default,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	Encryption        *BucketEncryption `json:"encryption,omitempty"`
	Configs           map[string][]byte `json:"configs,omitempty"`
	// RetentionPolicy is the compliance officers' retention policy
	// (Object Lock buckets only; see retentionpolicy.go).
	RetentionPolicy *RetentionPolicy `json:"retention_policy,omitempty"`
	// SecureDelete is the bucket's opt-in to overwriting shard files
	// before they are unlinked (secure delete, shred.go).
	SecureDelete bool `json:"secure_delete,omitempty"`
}

// refRecord says which version or upload owns a shard set.
type refRecord struct {
	Bucket     string `json:"b"`
	Key        string `json:"k"`
	VSort      []byte `json:"vs,omitempty"`
	UploadID   string `json:"u,omitempty"`
	StoredSize int64  `json:"ssz"`
}

func (v *versionRecord) versionID() string {
	if v.Null {
		return NullVersionID
	}
	return hex.EncodeToString(v.VSort)
}

func (v *versionRecord) encode(withData bool) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain types: cannot fail
	}
	n := len(j) + binary.MaxVarintLen64
	if withData {
		n += len(v.data)
	}
	out := make([]byte, 0, n)
	out = binary.AppendUvarint(out, uint64(len(j)))
	out = append(out, j...)
	if withData {
		out = append(out, v.data...)
	}
	return out
}

var errBadRecord = errors.New("object: malformed metadata record")

func decodeVersion(b []byte) (*versionRecord, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, errBadRecord
	}
	v := new(versionRecord)
	if err := json.Unmarshal(b[w:w+int(n)], v); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	if rest := b[w+int(n):]; len(rest) > 0 {
		v.data = rest
	}
	return v, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
