// Package acl implements S3 access control lists, Object Ownership and Block
// Public Access as pure functions: it parses and renders the wire forms
// (canned ACLs, x-amz-grant-* headers, AccessControlPolicy,
// OwnershipControls and PublicAccessBlockConfiguration XML) and answers
// "does this ACL grant this permission to this requester". It performs no
// I/O, holds no package-level mutable state and knows nothing of storage.
//
// # Where ACLs sit in an authorization decision
//
// An ACL is one source of Allow in coffer's decision function, which lives
// outside this package. The intended order, as in AWS, is:
//
//  1. An explicit Deny in any identity or bucket policy denies. ACLs MUST
//     NOT override a Deny: they carry no Deny of their own.
//  2. An Allow from an identity policy, the bucket policy, the bucket ACL
//     (for bucket-level actions) or the object ACL (for object-level
//     actions) allows. ACL grants are consulted through Settings.Allows,
//     which applies Object Ownership and Block Public Access first.
//  3. Otherwise the request is denied (deny by default).
//
// Permission maps an S3 action to the ACL permission that can grant it;
// actions it maps to "" can never be granted by an ACL.
//
// # Defaults
//
// New buckets get DefaultOwnership (BucketOwnerEnforced: ACLs disabled) and
// DefaultPublicAccessBlock() (all four settings true), as AWS does since
// April 2023.
//
// # Errors
//
// Every failure is an *Error whose Code is an S3 error code. Functions
// return values that satisfy errors.Is against the exported sentinels
// (ErrMalformedACL, ErrInvalidArgument, …); AllErrors lists every sentinel
// so that the S3 layer can prove each code is in its error table.
package acl
