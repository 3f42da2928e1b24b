package object

import "errors"

// Sentinel errors of the object layer. Methods wrap them with context (use
// errors.Is to test); the S3 front end maps each to exactly one S3 error
// code, and a test proves the mapping is total.
var (
	// ErrNoSuchBucket: the bucket does not exist.
	ErrNoSuchBucket = errors.New("object: no such bucket")
	// ErrBucketExists: the bucket name is taken.
	ErrBucketExists = errors.New("object: bucket already exists")
	// ErrBucketNotEmpty: DeleteBucket on a bucket that still holds versions,
	// delete markers or multipart uploads.
	ErrBucketNotEmpty = errors.New("object: bucket not empty")
	// ErrInvalidBucketName: the name breaks S3 bucket naming rules.
	ErrInvalidBucketName = errors.New("object: invalid bucket name")
	// ErrInvalidObjectName: the key is empty, longer than 1024 bytes or not
	// valid UTF-8.
	ErrInvalidObjectName = errors.New("object: invalid object name")
	// ErrNoSuchKey: no current version (or the current version is a delete
	// marker).
	ErrNoSuchKey = errors.New("object: no such key")
	// ErrNoSuchVersion: the requested version id does not exist.
	ErrNoSuchVersion = errors.New("object: no such version")
	// ErrMethodNotAllowed: the operation addressed a delete marker by id.
	ErrMethodNotAllowed = errors.New("object: method not allowed on a delete marker")
	// ErrInvalidRange: the range selects no bytes of the object.
	ErrInvalidRange = errors.New("object: invalid range")
	// ErrInvalidPartNumber: the part number does not exist in the object.
	ErrInvalidPartNumber = errors.New("object: invalid part number")
	// ErrPreconditionFailed: a conditional write or copy-source condition
	// did not hold.
	ErrPreconditionFailed = errors.New("object: precondition failed")
	// ErrNotModified: a copy-source If-None-Match / If-Modified-Since
	// condition says the source did not change.
	ErrNotModified = errors.New("object: not modified")
	// ErrBadDigest: the Content-MD5 did not match the body.
	ErrBadDigest = errors.New("object: content-md5 mismatch")
	// ErrSHA256Mismatch: the signed payload SHA-256 did not match the body.
	ErrSHA256Mismatch = errors.New("object: x-amz-content-sha256 mismatch")
	// ErrChecksumMismatch: an x-amz-checksum-* value did not match the body.
	ErrChecksumMismatch = errors.New("object: checksum mismatch")
	// ErrIncompleteBody: the body ended before the declared size.
	ErrIncompleteBody = errors.New("object: incomplete body")
	// ErrEntityTooLarge: the object or part exceeds the size limit.
	ErrEntityTooLarge = errors.New("object: entity too large")
	// ErrNoSuchUpload: the multipart upload id is unknown (or belongs to a
	// different bucket/key).
	ErrNoSuchUpload = errors.New("object: no such upload")
	// ErrInvalidPart: a listed part does not exist or its ETag differs.
	ErrInvalidPart = errors.New("object: invalid part")
	// ErrInvalidPartOrder: the listed parts are not in ascending order.
	ErrInvalidPartOrder = errors.New("object: invalid part order")
	// ErrEntityTooSmall: a part other than the last is below 5 MiB.
	ErrEntityTooSmall = errors.New("object: entity too small")
	// ErrMalformedRequest: an argument is malformed (e.g. part number out of
	// range, bad versioning state).
	ErrMalformedRequest = errors.New("object: malformed request")
	// ErrInsufficientWriteQuorum: fewer than write-quorum drives accepted
	// the write; nothing became visible.
	ErrInsufficientWriteQuorum = errors.New("object: insufficient write quorum")
	// ErrInsufficientReadQuorum: fewer than k intact shards (or metadata
	// replicas) could be read; no bytes are returned.
	ErrInsufficientReadQuorum = errors.New("object: insufficient read quorum")
	// ErrCorruption: stored data failed verification and could not be
	// reconstructed. Never returned together with wrong bytes.
	ErrCorruption = errors.New("object: data corruption")
	// ErrObjectLocked: the retention check refused to remove or overwrite a
	// version.
	ErrObjectLocked = errors.New("object: version is locked")
)

// Object Lock errors.
var (
	// ErrLockNotEnabled: an Object Lock request (lock headers, retention,
	// legal hold) on a bucket without Object Lock.
	ErrLockNotEnabled = errors.New("object: bucket is missing Object Lock configuration")
	// ErrInvalidRetention: a retention mode or date is invalid (unknown
	// mode, mode without date or date without mode, date not in the future).
	ErrInvalidRetention = errors.New("object: invalid retention")
	// ErrInvalidRetentionPeriod: a default retention period is missing,
	// ambiguous (Days and Years) or out of range.
	ErrInvalidRetentionPeriod = errors.New("object: invalid default retention period")
)

// ErrInvalidBucketState: the request conflicts with the bucket's state
// (e.g. suspending versioning on an Object Lock bucket).
var ErrInvalidBucketState = errors.New("object: invalid bucket state")

// Encryption errors.
var (
	// ErrSSECustomerKeyMissing: an SSE-C version was read without its key.
	ErrSSECustomerKeyMissing = errors.New("object: the object is encrypted with a customer key; the key is required")
	// ErrSSECustomerKeyMismatch: the SSE-C key presented is not the key the
	// version was written with.
	ErrSSECustomerKeyMismatch = errors.New("object: the customer key does not match")
	// ErrSSECustomerKeyNotExpected: an SSE-C key was presented for a
	// version that is not SSE-C.
	ErrSSECustomerKeyNotExpected = errors.New("object: the object was not encrypted with a customer key")
	// ErrNoSuchKMSKey: the named SSE-KMS key does not exist for the tenant.
	ErrNoSuchKMSKey = errors.New("object: no such KMS key")
	// ErrInvalidEncryption: an invalid encryption request (bad key length,
	// unknown mode, SSE-C combined with KMS, ...).
	ErrInvalidEncryption = errors.New("object: invalid encryption request")
)
