package s3api

import (
	"errors"
	"net/url"
)

// queryValues are the decoded query parameters of a request.
type queryValues url.Values

// parseQuery decodes a raw query leniently (malformed pairs are skipped).
func parseQuery(raw string) queryValues {
	v, _ := url.ParseQuery(raw)
	return queryValues(v)
}

func (q queryValues) has(k string) bool { _, ok := q[k]; return ok }

func (q queryValues) lookup(k string) (string, bool) {
	v, ok := q[k]
	if !ok || len(v) == 0 {
		return "", ok
	}
	return v[0], true
}

func (q queryValues) get(k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// handler is an S3 operation handler. It writes its success response through
// the request's writer helpers, or returns an error that becomes the S3
// error response.
type handler func(*request) error

// unimplementedBucket lists bucket subresources S3 defines that coffer does
// not implement yet: any request naming one gets 501 NotImplemented, never a
// silent 200.
var unimplementedBucket = []string{
	"accelerate", "analytics", "cors", "intelligent-tiering",
	"inventory", "logging", "metadataConfiguration", "metadataTable",
	"metrics", "notification",
	"replication", "requestPayment",
	"session", "website", "abac", "metadataInventoryTable", "metadataJournalTable",
}

// unimplementedObject lists object subresources coffer does not implement
// yet (501 NotImplemented).
var unimplementedObject = []string{
	"torrent", "restore", "select", "renameObject",
}

func notImplemented(*request) error { return errCode("NotImplemented", "") }

func methodNotAllowed(*request) error { return errCode("MethodNotAllowed", "") }

func firstOf(q queryValues, names []string) bool {
	for _, n := range names {
		if q.has(n) {
			return true
		}
	}
	return false
}

// route picks the operation for a request: its metrics label (a bounded set)
// and its handler.
func route(r *request, method string) (string, handler) {
	q := r.query
	switch {
	case r.bucket == "":
		if method == "GET" {
			return "ListBuckets", listBuckets
		}
		return "unknown", methodNotAllowed
	case r.key == "":
		if firstOf(q, unimplementedBucket) {
			return "NotImplemented", notImplemented
		}
		switch method {
		case "GET":
			switch {
			case q.has("location"):
				return "GetBucketLocation", getBucketLocation
			case q.has("versioning"):
				return "GetBucketVersioning", getBucketVersioning
			case q.has("tagging"):
				return "GetBucketTagging", getBucketTagging
			case q.has("encryption"):
				return "GetBucketEncryption", getBucketEncryption
			case q.has("policyStatus"):
				return "GetBucketPolicyStatus", getBucketPolicyStatus
			case q.has("policy"):
				return "GetBucketPolicy", getBucketPolicy
			case q.has("publicAccessBlock"):
				return "GetBucketPublicAccessBlock", getPublicAccessBlock
			case q.has("acl"):
				return "GetBucketAcl", getBucketACL
			case q.has("ownershipControls"):
				return "GetBucketOwnershipControls", getOwnershipControls
			case q.has("object-lock"):
				return "GetObjectLockConfiguration", getObjectLockConfig
			case q.has("lifecycle"):
				return "GetBucketLifecycleConfiguration", getBucketLifecycle
			case q.has("uploads"):
				return "ListMultipartUploads", listMultipartUploads
			case q.has("versions"):
				return "ListObjectVersions", listObjectVersions
			case q.get("list-type") == "2":
				return "ListObjectsV2", listObjectsV2
			case q.has("list-type"):
				return "ListObjectsV2", invalidListType
			}
			return "ListObjects", listObjectsV1
		case "HEAD":
			return "HeadBucket", headBucket
		case "PUT":
			switch {
			case q.has("versioning"):
				return "PutBucketVersioning", putBucketVersioning
			case q.has("tagging"):
				return "PutBucketTagging", putBucketTagging
			case q.has("encryption"):
				return "PutBucketEncryption", putBucketEncryption
			case q.has("policy"):
				return "PutBucketPolicy", putBucketPolicy
			case q.has("publicAccessBlock"):
				return "PutBucketPublicAccessBlock", putPublicAccessBlock
			case q.has("acl"):
				return "PutBucketAcl", putBucketACL
			case q.has("ownershipControls"):
				return "PutBucketOwnershipControls", putOwnershipControls
			case q.has("object-lock"):
				return "PutObjectLockConfiguration", putObjectLockConfig
			case q.has("lifecycle"):
				return "PutBucketLifecycleConfiguration", putBucketLifecycle
			case q.has("policyStatus"):
				return "MethodNotAllowed", methodNotAllowed
			}
			return "CreateBucket", createBucket
		case "DELETE":
			switch {
			case q.has("tagging"):
				return "DeleteBucketTagging", deleteBucketTagging
			case q.has("encryption"):
				return "DeleteBucketEncryption", deleteBucketEncryption
			case q.has("policy"):
				return "DeleteBucketPolicy", deleteBucketPolicy
			case q.has("publicAccessBlock"):
				return "DeleteBucketPublicAccessBlock", deletePublicAccessBlock
			case q.has("ownershipControls"):
				return "DeleteBucketOwnershipControls", deleteOwnershipControls
			case q.has("lifecycle"):
				return "DeleteBucketLifecycle", deleteBucketLifecycle
			case q.has("acl"), q.has("object-lock"):
				return "MethodNotAllowed", methodNotAllowed
			}
			return "DeleteBucket", deleteBucket
		case "POST":
			if q.has("delete") {
				return "DeleteObjects", deleteObjects
			}
			return "NotImplemented", notImplemented // browser POST uploads
		}
		return "unknown", methodNotAllowed
	}
	if firstOf(q, unimplementedObject) {
		return "NotImplemented", notImplemented
	}
	switch method {
	case "GET":
		switch {
		case q.has("tagging"):
			return "GetObjectTagging", getObjectTagging
		case q.has("acl"):
			return "GetObjectAcl", getObjectACL
		case q.has("attributes"):
			return "GetObjectAttributes", getObjectAttributes
		case q.has("retention"):
			return "GetObjectRetention", getObjectRetention
		case q.has("legal-hold"):
			return "GetObjectLegalHold", getObjectLegalHold
		case q.has("uploadId"):
			return "ListParts", listParts
		}
		return "GetObject", getObject
	case "HEAD":
		return "HeadObject", headObject
	case "PUT":
		switch {
		case q.has("tagging"):
			return "PutObjectTagging", putObjectTagging
		case q.has("acl"):
			return "PutObjectAcl", putObjectACL
		case q.has("retention"):
			return "PutObjectRetention", putObjectRetention
		case q.has("legal-hold"):
			return "PutObjectLegalHold", putObjectLegalHold
		case q.has("uploadId") || q.has("partNumber"):
			if r.header("x-amz-copy-source") != "" {
				return "UploadPartCopy", uploadPartCopy
			}
			return "UploadPart", uploadPart
		case r.header("x-amz-copy-source") != "":
			return "CopyObject", copyObject
		}
		return "PutObject", putObject
	case "DELETE":
		switch {
		case q.has("tagging"):
			return "DeleteObjectTagging", deleteObjectTagging
		case q.has("acl"), q.has("retention"), q.has("legal-hold"):
			return "MethodNotAllowed", methodNotAllowed
		case q.has("uploadId"):
			return "AbortMultipartUpload", abortMultipartUpload
		}
		return "DeleteObject", deleteObject
	case "POST":
		switch {
		case q.has("uploads"):
			return "CreateMultipartUpload", createMultipartUpload
		case q.has("uploadId"):
			return "CompleteMultipartUpload", completeMultipartUpload
		}
		return "NotImplemented", notImplemented
	}
	return "unknown", methodNotAllowed
}

func invalidListType(*request) error {
	return errCode("InvalidArgument", "Invalid List Type specified in Request")
}

func asHeaderError(err error, target **headerError) bool { return errors.As(err, target) }
