// Package object is the object layer: the one interface the S3 front end
// calls. It composes the metadata store, the erasure-coded drive set and the
// transform stage (compression/encryption) into buckets, versioned objects,
// multipart uploads and listings, expressed in coffer's own domain types.
//
// Error contract: every method returns either nil or an error that matches
// (errors.Is) one of the sentinels in errors.go. Callers map sentinels to
// protocol errors; the object layer never speaks HTTP.
package object

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/cofferstore/coffer/lock"
)

// Layer is the object-layer interface. Implementations MUST be safe for
// concurrent use. Every method that takes a version id treats "" as "the
// current version" and "null" as the null version.
type Layer interface {
	// MakeBucket creates a bucket. ErrBucketExists if the name is taken (by any
	// tenant), ErrInvalidBucketName if the name breaks S3 naming rules.
	MakeBucket(ctx context.Context, bucket string, opts MakeBucketOptions) error
	// GetBucketInfo returns a bucket's record; ErrNoSuchBucket if absent.
	GetBucketInfo(ctx context.Context, bucket string) (BucketInfo, error)
	// ListBuckets returns all buckets sorted by name.
	ListBuckets(ctx context.Context) ([]BucketInfo, error)
	// DeleteBucket removes an empty bucket: ErrBucketNotEmpty while any
	// version, delete marker or multipart upload remains.
	DeleteBucket(ctx context.Context, bucket string) error
	// SetBucketTags replaces the bucket's tag set (nil removes it).
	SetBucketTags(ctx context.Context, bucket string, tags map[string]string) error
	// SetBucketVersioning sets the versioning state: VersioningEnabled or
	// VersioningSuspended.
	SetBucketVersioning(ctx context.Context, bucket string, state string) error
	// SetBucketEncryption replaces the bucket's default encryption; nil
	// restores the default (SSE-S3). ErrNoSuchKMSKey when an SSE-KMS key
	// does not exist.
	SetBucketEncryption(ctx context.Context, bucket string, enc *BucketEncryption) error
	// SetBucketConfig stores (value non-nil) or removes (nil) a named
	// bucket configuration document that the layer keeps but does not
	// interpret (e.g. "policy", "public-access-block"). It is returned in
	// BucketInfo.Configs.
	SetBucketConfig(ctx context.Context, bucket, name string, value []byte) error
	// SetObjectLockConfig enables Object Lock on a bucket (enabled MUST be
	// true: lock can never be disabled) and replaces its default retention
	// (nil = none). Enabling it on an existing bucket requires versioning
	// Enabled (ErrInvalidBucketState); ErrInvalidRetentionPeriod for a bad
	// default.
	SetObjectLockConfig(ctx context.Context, bucket string, enabled bool, def *LockDefault) error

	// PutObject streams r (exactly size bytes; size -1 = until EOF) into a new
	// version. The data is durable on a write quorum before it returns.
	// Checksums requested in opts are computed while streaming and verified
	// against opts.Expect; ErrBadDigest / ErrChecksumMismatch on mismatch (and
	// nothing becomes visible).
	PutObject(ctx context.Context, bucket, key string, r io.Reader, size int64, opts PutOptions) (ObjectInfo, error)
	// GetObject opens a reader over the requested range of a version. The
	// returned ObjectInfo describes the whole version. A delete marker as the
	// current version yields ErrNoSuchKey with the marker's info; asking for a
	// delete marker by version id yields ErrMethodNotAllowed.
	GetObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, io.ReadCloser, error)
	// HeadObject returns a version's info without reading data.
	HeadObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, error)
	// DeleteObject deletes a key (adding a delete marker when versioning is
	// enabled) or, with opts.VersionID, removes that version permanently.
	DeleteObject(ctx context.Context, bucket, key string, opts DeleteOptions) (DeleteResult, error)
	// CopyObject streams a source version into a new destination version.
	CopyObject(ctx context.Context, src CopySource, dstBucket, dstKey string, opts PutOptions) (ObjectInfo, error)
	// PutObjectTags rewrites a version's tags in place (no new version).
	PutObjectTags(ctx context.Context, bucket, key, versionID string, tags map[string]string) (ObjectInfo, error)
	// PutObjectACL rewrites a version's ACL document in place (no new
	// version); nil removes it. The layer stores acl without interpreting
	// it. ErrNoSuchKey / ErrNoSuchVersion when the version is absent,
	// ErrMethodNotAllowed for a delete marker named by version id.
	PutObjectACL(ctx context.Context, bucket, key, versionID string, acl []byte) (ObjectInfo, error)
	// PutObjectRetention replaces a version's retention in place (mode ""
	// with a zero until removes it), under CheckRetentionChange: a refusal
	// is ErrObjectLocked. ErrLockNotEnabled on a bucket without Object Lock,
	// ErrInvalidRetention for an invalid mode or a date not in the future.
	PutObjectRetention(ctx context.Context, bucket, key, versionID string, mode string, until time.Time, bypassGovernance bool) (ObjectInfo, error)
	// PutObjectLegalHold sets or clears a version's legal hold in place.
	// ErrLockNotEnabled on a bucket without Object Lock.
	PutObjectLegalHold(ctx context.Context, bucket, key, versionID string, on bool) (ObjectInfo, error)

	// ListObjects lists current versions (delete markers hidden).
	ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error)
	// ListObjectVersions lists all versions and delete markers, newest first
	// within a key.
	ListObjectVersions(ctx context.Context, bucket string, opts ListVersionsOptions) (ListVersionsResult, error)

	// NewMultipartUpload starts an upload and returns its id.
	NewMultipartUpload(ctx context.Context, bucket, key string, opts PutOptions) (string, error)
	// PutObjectPart stores one part (1..10000); re-uploading a part number
	// replaces it. ErrNoSuchUpload when the upload is unknown.
	PutObjectPart(ctx context.Context, bucket, key, uploadID string, partNumber int, r io.Reader, size int64, opts PartOptions) (PartInfo, error)
	// CompleteMultipartUpload assembles the listed parts by reference (no
	// data is copied) into a new version. ErrInvalidPart, ErrInvalidPartOrder,
	// ErrEntityTooSmall per S3 rules.
	CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart, opts CompleteOptions) (ObjectInfo, error)
	// AbortMultipartUpload discards an upload and its parts.
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string, opts AbortOptions) error
	// ListParts lists an upload's parts after marker (part number).
	ListParts(ctx context.Context, bucket, key, uploadID string, marker, max int) (ListPartsResult, error)
	// ListMultipartUploads lists in-progress uploads.
	ListMultipartUploads(ctx context.Context, bucket string, opts ListUploadsOptions) (ListUploadsResult, error)

	// Close flushes and releases everything; the layer is unusable after.
	Close() error
}

// Versioning states of a bucket, spelled as S3 spells them. "" is unversioned.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// NullVersionID is the version id of the null version, as S3 spells it.
const NullVersionID = "null"

// MakeBucketOptions are the options of MakeBucket.
type MakeBucketOptions struct {
	Region     string // location constraint recorded with the bucket
	Owner      string // canonical id of the owning principal
	Tenant     string // owning tenant id
	ObjectLock bool   // enable Object Lock (forces versioning on)
}

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name       string
	Created    time.Time
	Region     string
	Owner      string
	Tenant     string
	Versioning string // "", VersioningEnabled or VersioningSuspended
	ObjectLock bool
	// ObjectLockDefault is the default retention of new versions; nil
	// means none. Only set when ObjectLock is true.
	ObjectLockDefault *LockDefault
	Tags              map[string]string
	// Encryption is the default encryption; nil means SSE-S3.
	Encryption *BucketEncryption
	// Configs holds the bucket's opaque configuration documents by name.
	Configs map[string][]byte
}

// Checksum algorithms known to the object layer, named as in x-amz-checksum-*.
const (
	ChecksumCRC32     = "CRC32"
	ChecksumCRC32C    = "CRC32C"
	ChecksumCRC64NVME = "CRC64NVME"
	ChecksumSHA1      = "SHA1"
	ChecksumSHA256    = "SHA256"
)

// PutOptions are the options of PutObject, CopyObject and NewMultipartUpload.
type PutOptions struct {
	ContentType        string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	Expires            string
	UserMeta           map[string]string // x-amz-meta-* without the prefix, lower-case keys
	Tags               map[string]string
	StorageClass       string
	// ACL is the version's S3 ACL document (AccessControlPolicy XML), or
	// nil for none. The layer stores it with the version, uninterpreted;
	// CopyObject never copies the source's ACL.
	ACL []byte `json:"acl,omitempty"`

	// ExpectMD5 is the Content-MD5 the client sent (raw 16 bytes), or nil.
	ExpectMD5 []byte `json:"-"`
	// ExpectSHA256 is the payload SHA-256 the client signed (raw), or nil.
	ExpectSHA256 []byte `json:"-"`
	// ChecksumAlgorithm selects an additional checksum to compute and store
	// ("" = none). ExpectChecksum, when set, is its base64 value to verify.
	ChecksumAlgorithm string
	ExpectChecksum    string `json:"-"`
	// TrailingChecksum, when non-nil, is called after the body has been read
	// to learn the expected checksum value that arrived in a trailer.
	TrailingChecksum func() string `json:"-"`

	// IfNoneMatchStar fails with ErrPreconditionFailed if the key has a
	// current (non-delete-marker) version. IfMatch fails with
	// ErrPreconditionFailed unless the current version's ETag equals it.
	IfNoneMatchStar bool   `json:"-"`
	IfMatch         string `json:"-"`

	// SSE selects how the new version's data key is protected. The zero
	// value means the bucket's default encryption (SSE-S3 unless the bucket
	// says SSE-KMS): every object is encrypted, there is no way to opt out.
	SSE SSE `json:"-"`

	// MetadataReplace (CopyObject) takes metadata from these options instead
	// of the source; TagsReplace likewise for tags.
	MetadataReplace bool
	TagsReplace     bool

	// Lock is the Object Lock settings the write asks for; nil means the
	// bucket's default retention (if any). CopyObject never copies the
	// source's lock state. Stored with a multipart upload and applied at
	// CompleteMultipartUpload.
	Lock *LockOptions `json:"lock,omitempty"`
}

// SSE modes, spelled as coffer records them.
const (
	SSES3  = "SSE-S3"  // data key sealed by the tenant's default key
	SSEKMS = "SSE-KMS" // data key sealed by a named tenant key
	SSEC   = "SSE-C"   // data key sealed by a key the client sends with every request
)

// SSE is the server-side encryption requested for a write, or the
// customer key presented for a read of an SSE-C version.
type SSE struct {
	// Mode is "", SSES3, SSEKMS or SSEC. "" on a write means the bucket
	// default; on a read it is ignored.
	Mode string
	// KMSKeyID names the tenant key for SSEKMS ("" = the bucket's default
	// key, else the tenant's default key). Echoed back exactly.
	KMSKeyID string
	// CustomerKey is the 32-byte SSE-C key. The layer never stores it: it
	// keeps only a salted MAC to recognise it.
	CustomerKey []byte
}

// Encryption describes how a stored version is encrypted (never secrets).
type Encryption struct {
	Mode     string // SSES3, SSEKMS or SSEC
	KMSKeyID string // SSEKMS: the key name as the client gave it
}

// PartOptions are the options of PutObjectPart.
type PartOptions struct {
	// CustomerKey is the SSE-C key of the upload (required when the upload
	// was created with SSE-C; must match).
	CustomerKey       []byte
	ExpectMD5         []byte
	ExpectSHA256      []byte
	ChecksumAlgorithm string
	ExpectChecksum    string
	TrailingChecksum  func() string
}

// GetOptions select a version and a byte range.
type GetOptions struct {
	VersionID string
	// Range selects bytes; nil means the whole object. It is resolved
	// against the version's size by the layer: ErrInvalidRange when
	// unsatisfiable.
	Range *Range
	// PartNumber, when > 0, selects one part of a multipart object (or part
	// 1 of a single-part object).
	PartNumber int
	// CustomerKey is the SSE-C key; required (ErrSSECustomerKeyMissing)
	// for SSE-C versions, and must match (ErrSSECustomerKeyMismatch).
	// HeadObject checks it too, as S3 does.
	CustomerKey []byte
	// MetadataOnly (HeadObject) reads only metadata that S3 serves without
	// the SSE-C key, such as tags: the customer key is not checked.
	MetadataOnly bool
}

// Range is a byte range as in an HTTP Range header. Start < 0 means a suffix
// range of SuffixLength bytes; End < 0 means "to the end".
type Range struct {
	Start, End   int64
	SuffixLength int64
}

// Resolve returns the offset and length that r selects in an object of
// size bytes, or ErrInvalidRange when it selects nothing.
func (r *Range) Resolve(size int64) (off, length int64, err error) {
	if r.Start < 0 {
		if r.SuffixLength <= 0 {
			return 0, 0, ErrInvalidRange
		}
		n := r.SuffixLength
		if n > size {
			n = size
		}
		if size == 0 {
			return 0, 0, ErrInvalidRange
		}
		return size - n, n, nil
	}
	if r.Start >= size {
		return 0, 0, ErrInvalidRange
	}
	end := r.End
	if end < 0 || end >= size {
		end = size - 1
	}
	if end < r.Start {
		return 0, 0, ErrInvalidRange
	}
	return r.Start, end - r.Start + 1, nil
}

// AbortOptions are the options of AbortMultipartUpload.
type AbortOptions struct {
	// Actor names who asked, for the deletion records of the upload's
	// parts, as in DeleteOptions.
	Actor string
}

// DeleteOptions are the options of DeleteObject.
type DeleteOptions struct {
	VersionID string
	// BypassGovernance lets the delete remove a version under GOVERNANCE
	// retention. The caller MUST set it only when the client sent
	// x-amz-bypass-governance-retention: true and holds
	// s3:BypassGovernanceRetention. It never bypasses COMPLIANCE or a
	// legal hold.
	BypassGovernance bool
	// Actor names who asked, for the deletion record of a permanent
	// removal: the principal's ARN for S3 requests, "admin:<user>" for
	// admin commands. Empty is recorded as "unknown".
	Actor string
	// Batch is set for the keys of a DeleteObjects request: the removal
	// paths (deletion records, retention refusals) then name that
	// operation, "DeleteObjects.version" rather than "DeleteObject.version".
	Batch bool
}

// path names a removal path of DeleteObject (or DeleteObjects, for Batch).
func (o DeleteOptions) path(kind string) string {
	if o.Batch {
		return "DeleteObjects." + kind
	}
	return "DeleteObject." + kind
}

// DeleteResult reports what a delete did.
type DeleteResult struct {
	VersionID    string // the version removed, or the delete marker created
	DeleteMarker bool   // a delete marker was created or removed
}

// CopySource names the source of a copy, with optional S3 copy-source
// conditions and a byte range (UploadPartCopy).
type CopySource struct {
	Bucket, Key, VersionID string
	IfMatch                string
	IfNoneMatch            string
	IfModifiedSince        time.Time
	IfUnmodifiedSince      time.Time
	Range                  *Range
	// CustomerKey is the SSE-C key of the source version, if it has one.
	CustomerKey []byte
}

// ObjectInfo describes one version of an object.
type ObjectInfo struct {
	Bucket, Key  string
	VersionID    string // "" when the bucket was never versioned
	IsLatest     bool
	DeleteMarker bool
	Size         int64
	ModTime      time.Time
	ETag         string // without quotes
	PartsCount   int    // 0 for a single-part object

	ContentType        string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	Expires            string
	UserMeta           map[string]string
	Tags               map[string]string
	StorageClass       string
	Owner              string
	// ACL is the version's stored ACL document (PutOptions.ACL or
	// PutObjectACL), nil when it has none.
	ACL []byte

	// Checksums holds the stored additional checksums by algorithm (base64).
	// For multipart objects the value is the checksum-of-checksums with the
	// "-N" suffix, as S3 returns it.
	Checksums map[string]string
	// Parts describes the parts of a multipart object (for partNumber reads
	// and GetObjectAttributes).
	Parts []ObjectPart
	// Encryption says how the version is encrypted (every version is).
	Encryption Encryption
	// Lock is the version's Object Lock state (retention and legal hold).
	Lock lock.State
}

// ObjectPart describes one part of a multipart object.
type ObjectPart struct {
	Number    int
	Size      int64
	ETag      string
	Checksums map[string]string
}

// ListOptions are the options of ListObjects (v1 and v2 alike: the S3
// layer maps marker, start-after and continuation tokens onto Marker).
type ListOptions struct {
	Prefix, Delimiter, Marker string
	// MaxKeys bounds the entries (keys plus common prefixes) returned;
	// <= 0 or > 1000 means 1000. (S3's max-keys=0 is answered by the
	// front end without a listing.)
	MaxKeys int
}

// ListResult is a page of a listing.
type ListResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	// NextMarker is the last key or common prefix returned, for the next
	// page (when truncated).
	NextMarker string
}

// ListVersionsOptions are the options of ListObjectVersions.
type ListVersionsOptions struct {
	Prefix, Delimiter          string
	KeyMarker, VersionIDMarker string
	MaxKeys                    int
}

// ListVersionsResult is a page of a version listing.
type ListVersionsResult struct {
	Versions            []ObjectInfo // includes delete markers, newest first per key
	CommonPrefixes      []string
	IsTruncated         bool
	NextKeyMarker       string
	NextVersionIDMarker string
}

// PartInfo describes an uploaded part.
type PartInfo struct {
	Number     int
	Size       int64
	ETag       string
	ModTime    time.Time
	Checksums  map[string]string
	Encryption Encryption // the upload's encryption (PutObjectPart only)
}

// CompletePart is one entry of a CompleteMultipartUpload request.
type CompletePart struct {
	Number    int
	ETag      string
	Checksums map[string]string // optional, base64 by algorithm
}

// CompleteOptions are the options of CompleteMultipartUpload.
type CompleteOptions struct {
	IfNoneMatchStar bool
	IfMatch         string
}

// ListPartsResult is a page of ListParts.
type ListPartsResult struct {
	Parts                []PartInfo
	IsTruncated          bool
	NextPartNumberMarker int
	ChecksumAlgorithm    string
	Initiated            time.Time
}

// ListUploadsOptions are the options of ListMultipartUploads.
type ListUploadsOptions struct {
	Prefix, Delimiter         string
	KeyMarker, UploadIDMarker string
	MaxUploads                int
}

// BucketEncryption is a bucket's default encryption configuration.
type BucketEncryption struct {
	Mode             string // SSES3 or SSEKMS
	KMSKeyID         string // SSEKMS only
	BucketKeyEnabled bool   // accepted and echoed; coffer has no bucket keys
}

// UploadInfo describes an in-progress multipart upload.
type UploadInfo struct {
	Key, UploadID string
	Initiated     time.Time
}

// ListUploadsResult is a page of ListMultipartUploads.
type ListUploadsResult struct {
	Uploads            []UploadInfo
	CommonPrefixes     []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// Config configures Open.
type Config struct {
	// Drives are the drive directories (4..16).
	Drives []string
	// Parity is the number of parity shards; <= 0 picks the default for
	// the drive count. Only used when the drives are formatted.
	Parity int
	// InlineLimit is the largest object stored inline in its metadata
	// record; 0 means the default of 128 KiB, < 0 disables inlining.
	InlineLimit int64
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
	// MasterKey is the 32-byte master key that seals tenant keys. Required.
	MasterKey []byte
	// Compress selects the writes compressed at rest; the zero value
	// compresses nothing.
	Compress CompressConfig
	// BufferedIO writes shard files through the page cache instead of
	// with O_DIRECT (the default where the file system supports it; see
	// erasure/direct.go).
	BufferedIO bool
	// SecureOverwrite makes every bucket's deleted shard files be
	// overwritten with random bytes and fsynced before they are unlinked
	// (buckets may also opt in one by one).
	SecureOverwrite bool
	// ShredInterval bounds how long a removed version's sealed data key
	// may survive in the metadata replicas' files (plus the purge's own
	// duration); 0 means DefaultShredInterval.
	ShredInterval time.Duration
	// Lifecycle configures the lifecycle scheduler (zero: defaults).
	Lifecycle LifecycleOptions
	// Scrub configures the background scrubber (zero: defaults).
	Scrub ScrubOptions
}
