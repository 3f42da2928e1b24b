package acl

// Error is an ACL failure carrying the S3 error code the S3 layer sends to
// the client. Message is safe to show to clients.
//
// Two *Error values match under errors.Is when their Codes are equal, so a
// function may return an Error with a specific Message and callers still
// test it with errors.Is(err, ErrMalformedACL).
type Error struct {
	Code    string // S3 error code, e.g. "MalformedACLError"
	Message string // human-readable detail, never contains secrets
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// with returns a copy of the sentinel e carrying msg.
func (e *Error) with(msg string) *Error { return &Error{Code: e.Code, Message: msg} }

// Sentinel errors. Each carries its S3 code and the default AWS message.
var (
	// ErrMalformedACL: the ACL XML is not well-formed, does not follow the
	// schema, names an unknown permission or has too many grants (400).
	ErrMalformedACL = &Error{"MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema"}
	// ErrMalformedXML: OwnershipControls or PublicAccessBlockConfiguration
	// XML is not well-formed or not valid (400).
	ErrMalformedXML = &Error{"MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema."}
	// ErrInvalidArgument: an unknown canned ACL, a malformed x-amz-grant-*
	// header, an invalid canonical id or an unknown group URI (400).
	ErrInvalidArgument = &Error{"InvalidArgument", "Invalid Argument"}
	// ErrInvalidRequest: a request carries both a canned ACL and grant
	// headers (400).
	ErrInvalidRequest = &Error{"InvalidRequest", "Specifying both Canned ACLs and Header Grants is not allowed"}
	// ErrAccessDenied: the Owner of a new ACL is not the current owner, or
	// Block Public Access refuses a public ACL (403).
	ErrAccessDenied = &Error{"AccessDenied", "Access Denied"}
	// ErrACLNotSupported: the bucket uses BucketOwnerEnforced and the request
	// sets an ACL other than bucket owner full control (400).
	ErrACLNotSupported = &Error{"AccessControlListNotSupported", "The bucket does not allow ACLs"}
	// ErrInvalidBucketACLWithOwnership: CreateBucket or
	// PutBucketOwnershipControls would combine BucketOwnerEnforced with a
	// bucket ACL that grants anyone but the bucket owner (400).
	ErrInvalidBucketACLWithOwnership = &Error{"InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"}
	// ErrUnresolvableGrantByEmail: a grant names an e-mail address
	// (AmazonCustomerByEmail). coffer has no e-mail directory, so no address
	// ever resolves (400).
	ErrUnresolvableGrantByEmail = &Error{"UnresolvableGrantByEmailAddress", "The e-mail address you provided does not match any account on record."}
)

// AllErrors returns every sentinel error of the package, in a new slice.
func AllErrors() []*Error {
	return []*Error{
		ErrMalformedACL, ErrMalformedXML, ErrInvalidArgument, ErrInvalidRequest,
		ErrAccessDenied, ErrACLNotSupported, ErrInvalidBucketACLWithOwnership,
		ErrUnresolvableGrantByEmail,
	}
}
