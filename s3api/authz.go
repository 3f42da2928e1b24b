package s3api

import (
	"context"
	"strings"

	"github.com/cofferstore/coffer/iam"
	"github.com/cofferstore/coffer/iam/acl"
	"github.com/cofferstore/coffer/object"
)

// Resolver maps an access key to its secret and principal (root included).
// ok is false for an unknown, revoked or expired key, or a disabled user.
type Resolver func(accessKey string) (secret string, p iam.Principal, ok bool)

// AuthzRequest is one authorization question (see iam.Request).
type AuthzRequest = iam.Request

// Authorizer decides requests. It returns nil to allow; any error denies
// (answered as 403 AccessDenied, identical whether or not the resource
// exists).
type Authorizer interface {
	Authorize(ctx context.Context, req *AuthzRequest) error
}

// iamAction maps an API label to the IAM action that authorizes it, as
// AWS documents ("Actions, resources, and condition keys for Amazon S3").
func iamAction(api string) string {
	switch api {
	case "HeadObject":
		return "s3:GetObject"
	case "HeadBucket", "ListObjects", "ListObjectsV2":
		return "s3:ListBucket"
	case "ListObjectVersions":
		return "s3:ListBucketVersions"
	case "ListMultipartUploads":
		return "s3:ListBucketMultipartUploads"
	case "ListParts":
		return "s3:ListMultipartUploadParts"
	case "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload", "CopyObject":
		return "s3:PutObject"
	case "DeleteObjects":
		return "s3:DeleteObject"
	case "GetObjectAttributes":
		return "s3:GetObjectAttributes"
	case "ListBuckets":
		return "s3:ListAllMyBuckets"
	case "DeleteBucketTagging":
		return "s3:PutBucketTagging"
	case "DeleteBucketEncryption":
		return "s3:PutEncryptionConfiguration"
	case "PutBucketEncryption":
		return "s3:PutEncryptionConfiguration"
	case "GetBucketEncryption":
		return "s3:GetEncryptionConfiguration"
	case "GetBucketPublicAccessBlock":
		return "s3:GetBucketPublicAccessBlock"
	case "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock":
		return "s3:PutBucketPublicAccessBlock"
	case "DeleteBucketOwnershipControls":
		return "s3:PutBucketOwnershipControls"
	case "GetObjectLockConfiguration":
		return "s3:GetBucketObjectLockConfiguration"
	case "PutObjectLockConfiguration":
		return "s3:PutBucketObjectLockConfiguration"
	case "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle":
		return "s3:PutLifecycleConfiguration"
	case "GetBucketLifecycleConfiguration":
		return "s3:GetLifecycleConfiguration"
	}
	return "s3:" + api
}

// authorize asks the configured Authorizer about the request. The owner
// tenant of an existing bucket is looked up here; a missing bucket has no
// owner, so only root (or, for CreateBucket, anyone allowed to create) gets
// past, and the caller sees the same AccessDenied as for a foreign bucket.
func (s *Server) authorize(r *request) error {
	if s.cfg.Authorizer == nil {
		return nil
	}
	req := &AuthzRequest{
		Principal: r.principal, Action: iamAction(r.api), Bucket: r.bucket, Key: r.key,
		Context: baseContext(r),
	}
	if r.query.has("versionId") {
		switch req.Action {
		case "s3:GetObject", "s3:DeleteObject", "s3:GetObjectAcl", "s3:PutObjectAcl":
			req.Action = strings.Replace(req.Action, "Object", "ObjectVersion", 1)
		case "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:DeleteObjectTagging":
			req.Action = strings.Replace(req.Action, "Object", "ObjectVersion", 1)
		}
	}
	if r.bucket != "" && r.api != "CreateBucket" {
		if bi, err := s.layer.GetBucketInfo(r.c, r.bucket); err == nil {
			fillBucket(req, bi)
			if r.key != "" && !r.principal.Root && req.Ownership.ACLsEnabled() && acl.Permission(req.Action, true) != "" {
				// Only reads and ACL operations on one object consult its
				// ACL: one metadata lookup, no data read.
				opts := object.GetOptions{VersionID: r.query.get("versionId"), MetadataOnly: true}
				if info, err := s.layer.HeadObject(r.c, r.bucket, r.key, opts); err == nil {
					req.ObjectACL = info.ACL
				}
			}
		}
	}
	for _, q := range []string{"prefix", "max-keys", "delimiter"} {
		if v, ok := r.query.lookup(q); ok {
			req.Context["s3:"+q] = []string{v}
		}
	}
	for _, h := range []string{"x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp", "x-amz-grant-full-control",
		"x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-copy-source", "x-amz-metadata-directive"} {
		if v := r.header(h); v != "" {
			req.Context["s3:"+h] = []string{v}
		}
	}
	if err := s.cfg.Authorizer.Authorize(r.c, req); err != nil {
		s.log.Debug("request denied", "request_id", r.id, "api", r.api, "principal", r.principal.ARN(), "bucket", r.bucket, "reason", err.Error())
		return errCode("AccessDenied", "")
	}
	// A copy reads its source: that read is authorized on its own, as
	// s3:GetObject (s3:GetObjectVersion with a version id) on the source.
	if r.api == "CopyObject" || r.api == "UploadPartCopy" {
		src, err := r.parseCopySource()
		if err != nil {
			return err
		}
		sreq := &AuthzRequest{Principal: r.principal, Action: "s3:GetObject", Bucket: src.Bucket, Key: src.Key, Context: req.Context}
		if src.VersionID != "" {
			sreq.Action = "s3:GetObjectVersion"
		}
		if bi, err := s.layer.GetBucketInfo(r.c, src.Bucket); err == nil {
			fillBucket(sreq, bi)
			if !r.principal.Root && sreq.Ownership.ACLsEnabled() {
				opts := object.GetOptions{VersionID: src.VersionID, MetadataOnly: true}
				if info, err := s.layer.HeadObject(r.c, src.Bucket, src.Key, opts); err == nil {
					sreq.ObjectACL = info.ACL
				}
			}
		}
		if err := s.cfg.Authorizer.Authorize(r.c, sreq); err != nil {
			s.log.Debug("copy source denied", "request_id", r.id, "principal", r.principal.ARN(), "source", src.Bucket+"/"+src.Key, "reason", err.Error())
			return errCode("AccessDenied", "")
		}
	}
	return nil
}

// baseContext returns the condition keys every authorization of r carries.
func baseContext(r *request) map[string][]string {
	return map[string][]string{
		"aws:SecureTransport": {boolString(r.ctx.IsTLS())},
		"aws:SourceIp":        {ipOnly(r.ctx.RemoteAddr().String())},
		"s3:signatureversion": {"AWS4-HMAC-SHA256"},
	}
}

// authorizeExtra asks the Authorizer about a further action that a request
// already authorized needs on r.bucket/key, such as
// s3:BypassGovernanceRetention. It returns nil to allow (always, without
// an Authorizer, like authorize).
func (s *Server) authorizeExtra(r *request, action, key string) error {
	if s.cfg.Authorizer == nil {
		return nil
	}
	req := &AuthzRequest{Principal: r.principal, Action: action, Bucket: r.bucket, Key: key, Context: baseContext(r)}
	if bi, err := s.layer.GetBucketInfo(r.c, r.bucket); err == nil {
		fillBucket(req, bi)
	}
	if err := s.cfg.Authorizer.Authorize(r.c, req); err != nil {
		s.log.Debug("extra action denied", "request_id", r.id, "action", action, "principal", r.principal.ARN(), "bucket", r.bucket, "key", key, "reason", err.Error())
		return errCode("AccessDenied", "")
	}
	return nil
}

// fillBucket copies into req what the decision needs from the bucket's
// record: its owner, bucket policy, Block Public Access, Object Ownership
// and bucket ACL.
func fillBucket(req *AuthzRequest, bi object.BucketInfo) {
	pab := publicAccessBlock(bi.Configs)
	req.BucketTenant = bi.Tenant
	req.BucketOwner = bi.Owner
	req.BucketPolicy = bi.Configs[configPolicy]
	req.RestrictPublicBuckets = pab.RestrictPublicBuckets
	req.IgnorePublicAcls = pab.IgnorePublicAcls
	req.Ownership = ownership(bi.Configs)
	req.BucketACL = bi.Configs[configACL]
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func ipOnly(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		addr = addr[:i]
	}
	return strings.Trim(addr, "[]")
}
