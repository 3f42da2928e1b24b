package s3api

// Compatibility notes: where this package deliberately differs from AWS S3
// (to be mirrored in docs/compatibility.md).
//
//   - Anonymous requests are allowed only by a bucket policy or an ACL
//     grant to AllUsers (with ACLs enabled and Block Public Access off).
//   - Every S3 operation or subresource that is recognised but not built
//     (CORS, lifecycle, Object Lock configuration, retention, legal hold,
//     restore, select, ...) answers 501 NotImplemented, as do write headers
//     that request unimplemented features (x-amz-object-lock-*, an SSE-KMS
//     encryption context, website redirects): coffer never silently ignores
//     them.
//   - ACLs and Object Ownership (acl.go) follow AWS, with these choices:
//     GetBucketOwnershipControls on a bucket without a configuration
//     returns the default rule, BucketOwnerEnforced, instead of AWS's 404
//     OwnershipControlsNotFoundError, because coffer's default is a real
//     setting; DeleteBucketOwnershipControls restores that default (and so,
//     like a PUT of BucketOwnerEnforced, fails with
//     InvalidBucketAclWithObjectOwnership while the bucket ACL grants
//     anyone but the owner). Grantee canonical ids are resolved loosely:
//     any 64-hex id is accepted without checking that a tenant has it, and
//     display names are not filled in. Objects written anonymously are
//     owned by the bucket owner. CreateBucket accepts
//     x-amz-object-ownership. Under BucketOwnerEnforced an accepted
//     bucket-owner-full-control ACL is not stored, and reads report bucket
//     owner FULL_CONTROL. ACL grants to a tenant's canonical id count only
//     for principals of another tenant (who still need their own identity
//     policy or tenant-admin status); inside the owning tenant, identity
//     and bucket policies decide, so deny by default holds for its users.
//   - Every object is encrypted at rest. SSE-S3 (AES256), SSE-KMS (aws:kms,
//     with coffer's tenant keys: the key id is echoed exactly as sent, never
//     expanded to an ARN) and SSE-C are accepted; dual-layer aws:kms:dsse is
//     refused with 400 InvalidArgument. The bucket-key header is accepted
//     and echoed (coffer has no bucket keys). SSE-C over plain HTTP is
//     refused with 400 InvalidRequest unless the server runs with
//     --insecure. A wrong SSE-C key answers 403 AccessDenied, a missing one
//     400 InvalidRequest. x-amz-server-side-encryption on a read is 400
//     InvalidArgument, as on S3.
//   - UploadPart and UploadPartCopy report encryption headers only for
//     SSE-C uploads (the object layer reports no encryption for a part).
//   - GetBucketEncryption on a bucket without a configuration returns the
//     SSE-S3 default, as S3 does since 2023; DeleteBucketEncryption
//     restores it. Only one Rule is accepted.
//   - Storage classes other than STANDARD are refused with 400
//     InvalidStorageClass.
//   - CreateBucket accepts an empty LocationConstraint in every region (the
//     bucket is created in the server's region); a non-empty one must equal
//     the server's region. Re-creating an own bucket answers 409
//     BucketAlreadyOwnedByYou also in us-east-1.
//   - A syntactically invalid or multi-range Range header is ignored (the
//     whole object is returned, 200), as S3 does; an unsatisfiable single
//     range is 416 InvalidRange with Content-Range: bytes */size.
//   - ListObjectsV2 continuation tokens are base64url of the last key or
//     common prefix returned; they are opaque to clients.
//   - /health/live, /health/ready and /metrics answer only unsigned GET/HEAD
//     requests; signed requests for those paths reach the S3 API (buckets
//     named "health" or "metrics" keep working). /metrics is unauthenticated.
//   - The request-duration histogram measures until the handler returns;
//     for streamed GET bodies the transfer itself is not included.
//   - x-amz-expected-bucket-owner must equal the caller's canonical id (the
//     Owner ID in listings); coffer has no AWS account ids, so any other
//     value fails closed with 403 AccessDenied.
