package s3api

import (
	"errors"
	"net/http"

	"github.com/cofferstore/coffer/object"
	"github.com/cofferstore/coffer/s3api/sigv4"
)

// apiError is one row of the S3 error table: the code sent to clients, the
// HTTP status and the default message.
type apiError struct {
	Code    string
	Status  int
	Message string
}

// errorTable is the one S3 error table: every error code coffer sends, with
// its HTTP status and default message as AWS documents them. It is read-only.
var errorTable = map[string]apiError{
	"AccessDenied":                            {"AccessDenied", http.StatusForbidden, "Access Denied"},
	"AccessControlListNotSupported":           {"AccessControlListNotSupported", http.StatusBadRequest, "The bucket does not allow ACLs"},
	"InvalidBucketAclWithObjectOwnership":     {"InvalidBucketAclWithObjectOwnership", http.StatusBadRequest, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"},
	"MalformedACLError":                       {"MalformedACLError", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema"},
	"MissingSecurityHeader":                   {"MissingSecurityHeader", http.StatusBadRequest, "Your request was missing a required header"},
	"UnresolvableGrantByEmailAddress":         {"UnresolvableGrantByEmailAddress", http.StatusBadRequest, "The e-mail address you provided does not match any account on record."},
	"InvalidAccessKeyId":                      {"InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records."},
	"MalformedPolicy":                         {"MalformedPolicy", http.StatusBadRequest, "Policies must be valid JSON and the first byte must be '{'"},
	"NoSuchBucketPolicy":                      {"NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist"},
	"NoSuchLifecycleConfiguration":            {"NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist"},
	"BadDigest":                               {"BadDigest", http.StatusBadRequest, "The Content-MD5 or checksum you specified did not match what we received."},
	"BucketAlreadyExists":                     {"BucketAlreadyExists", http.StatusConflict, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."},
	"BucketAlreadyOwnedByYou":                 {"BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it."},
	"BucketNotEmpty":                          {"BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty"},
	"EntityTooLarge":                          {"EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size."},
	"EntityTooSmall":                          {"EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size."},
	"IllegalLocationConstraintException":      {"IllegalLocationConstraintException", http.StatusBadRequest, "The location constraint you specified does not match the region of this endpoint."},
	"IllegalVersioningConfigurationException": {"IllegalVersioningConfigurationException", http.StatusBadRequest, "The Versioning element must be specified"},
	"IncompleteBody":                          {"IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header."},
	"InternalError":                           {"InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again."},
	"InvalidArgument":                         {"InvalidArgument", http.StatusBadRequest, "Invalid Argument"},
	"InvalidBucketName":                       {"InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid."},
	"InvalidBucketState":                      {"InvalidBucketState", http.StatusConflict, "The request is not valid with the current state of the bucket."},
	"InvalidDigest":                           {"InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid."},
	"InvalidPart":                             {"InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."},
	"InvalidPartNumber":                       {"InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable"},
	"InvalidPartOrder":                        {"InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. The parts list must be specified in order by part number."},
	"InvalidRange":                            {"InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable"},
	"InvalidRequest":                          {"InvalidRequest", http.StatusBadRequest, "Invalid Request"},
	"InvalidRetentionPeriod":                  {"InvalidRetentionPeriod", http.StatusBadRequest, "The retention period is not valid."},
	"ObjectLockConfigurationNotFoundError":    {"ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket"},
	"NoSuchObjectLockConfiguration":           {"NoSuchObjectLockConfiguration", http.StatusNotFound, "The specified object does not have a ObjectLock configuration"},
	"InvalidStorageClass":                     {"InvalidStorageClass", http.StatusBadRequest, "The storage class you specified is not valid"},
	"InvalidURI":                              {"InvalidURI", http.StatusBadRequest, "Couldn't parse the specified URI."},
	"RequestHeaderSectionTooLarge":            {"RequestHeaderSectionTooLarge", http.StatusBadRequest, "Your request header section exceeds the maximum allowed size."},
	"InvalidTag":                              {"InvalidTag", http.StatusBadRequest, "The tag provided was not a valid tag."},
	"KeyTooLongError":                         {"KeyTooLongError", http.StatusBadRequest, "Your key is too long"},
	"KMS.NotFoundException":                   {"KMS.NotFoundException", http.StatusBadRequest, "The specified KMS key does not exist."},
	"MalformedXML":                            {"MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema."},
	"MetadataTooLarge":                        {"MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size."},
	"MethodNotAllowed":                        {"MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."},
	"MissingContentLength":                    {"MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header."},
	"MissingContentMD5":                       {"MissingContentMD5", http.StatusBadRequest, "Missing required header for this request: Content-MD5 or x-amz-checksum-*"},
	"MissingRequestBodyError":                 {"MissingRequestBodyError", http.StatusBadRequest, "Request Body is empty."},
	"NoSuchBucket":                            {"NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist"},
	"NoSuchKey":                               {"NoSuchKey", http.StatusNotFound, "The specified key does not exist."},
	"NoSuchTagSet":                            {"NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist"},
	"NoSuchUpload":                            {"NoSuchUpload", http.StatusNotFound, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."},
	"NoSuchVersion":                           {"NoSuchVersion", http.StatusNotFound, "The specified version does not exist."},
	"NotImplemented":                          {"NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented."},
	"NotModified":                             {"NotModified", http.StatusNotModified, "Not Modified"},
	"PreconditionFailed":                      {"PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold"},
	"ServiceUnavailable":                      {"ServiceUnavailable", http.StatusServiceUnavailable, "Please reduce your request rate."},
	"SlowDown":                                {"SlowDown", http.StatusServiceUnavailable, "Please reduce your request rate."},
	"XAmzContentSHA256Mismatch":               {"XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed."},
}

// sentinelCodes maps every object-layer sentinel to its S3 error code. The
// test in errors_test.go proves the mapping is total.
var sentinelCodes = []struct {
	err  error
	code string
}{
	{object.ErrNoSuchBucket, "NoSuchBucket"},
	{object.ErrBucketExists, "BucketAlreadyExists"},
	{object.ErrBucketNotEmpty, "BucketNotEmpty"},
	{object.ErrInvalidBucketName, "InvalidBucketName"},
	{object.ErrInvalidObjectName, "InvalidArgument"},
	{object.ErrNoSuchKey, "NoSuchKey"},
	{object.ErrNoSuchVersion, "NoSuchVersion"},
	{object.ErrMethodNotAllowed, "MethodNotAllowed"},
	{object.ErrInvalidRange, "InvalidRange"},
	{object.ErrInvalidPartNumber, "InvalidPartNumber"},
	{object.ErrPreconditionFailed, "PreconditionFailed"},
	{object.ErrNotModified, "NotModified"},
	{object.ErrBadDigest, "BadDigest"},
	{object.ErrSHA256Mismatch, "XAmzContentSHA256Mismatch"},
	{object.ErrChecksumMismatch, "BadDigest"},
	{object.ErrIncompleteBody, "IncompleteBody"},
	{object.ErrEntityTooLarge, "EntityTooLarge"},
	{object.ErrNoSuchUpload, "NoSuchUpload"},
	{object.ErrInvalidPart, "InvalidPart"},
	{object.ErrInvalidPartOrder, "InvalidPartOrder"},
	{object.ErrEntityTooSmall, "EntityTooSmall"},
	{object.ErrMalformedRequest, "InvalidArgument"},
	{object.ErrInsufficientWriteQuorum, "ServiceUnavailable"},
	{object.ErrInsufficientReadQuorum, "ServiceUnavailable"},
	{object.ErrCorruption, "InternalError"},
	{object.ErrObjectLocked, "AccessDenied"},
	{object.ErrInvalidBucketState, "InvalidBucketState"},
	{object.ErrLockNotEnabled, "InvalidRequest"},
	{object.ErrInvalidRetention, "InvalidArgument"},
	{object.ErrInvalidRetentionPeriod, "InvalidRetentionPeriod"},
	{object.ErrSSECustomerKeyMissing, "InvalidRequest"},
	{object.ErrSSECustomerKeyMismatch, "AccessDenied"},
	{object.ErrSSECustomerKeyNotExpected, "InvalidRequest"},
	{object.ErrNoSuchKMSKey, "KMS.NotFoundException"},
	{object.ErrInvalidEncryption, "InvalidArgument"},
}

// sentinelMessages overrides the table's default message for sentinels whose
// code is shared with other causes.
var sentinelMessages = map[error]string{
	object.ErrInvalidObjectName:       "Object name is empty, longer than 1024 bytes or not valid UTF-8.",
	object.ErrChecksumMismatch:        "The checksum you specified did not match the calculated checksum.",
	object.ErrInsufficientWriteQuorum: "Not enough drives are available to store the data; please retry.",
	object.ErrInsufficientReadQuorum:  "Not enough drives are available to read the data; please retry.",
	object.ErrObjectLocked:            "Access Denied because object protected by object lock.",
	object.ErrLockNotEnabled:          "Bucket is missing Object Lock Configuration",
	object.ErrInvalidRetention:        "The retention mode and retain until date are invalid, or the date is not in the future.",
	// The SSE messages MUST NOT carry key material; they name no key.
	object.ErrSSECustomerKeyMissing:     "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
	object.ErrSSECustomerKeyMismatch:    "Access Denied. The customer-provided key does not match the key the object was encrypted with.",
	object.ErrSSECustomerKeyNotExpected: "The encryption parameters are not applicable to this object.",
	object.ErrInvalidEncryption:         "The encryption request you specified is not valid.",
}

// s3Error is an error raised by s3api itself with an S3 error code and an
// optional message replacing the table's default.
type s3Error struct {
	code string
	msg  string
}

func (e *s3Error) Error() string {
	if e.msg != "" {
		return e.code + ": " + e.msg
	}
	return e.code
}

// errCode returns an error carrying S3 error code code and message msg ("" =
// the table's default message).
func errCode(code, msg string) error { return &s3Error{code: code, msg: msg} }

// headerError wraps an error with response headers that must accompany the
// error response (e.g. x-amz-delete-marker on a GET of a deleted key).
type headerError struct {
	err     error
	headers [][2]string
}

func (e *headerError) Error() string { return e.err.Error() }
func (e *headerError) Unwrap() error { return e.err }

// errorFor maps any error to its S3 error: s3api's own errors, *sigv4.Error
// and every object-layer sentinel. known is false when err matched nothing;
// the result is then InternalError with a generic message and the caller
// logs the detail.
func errorFor(err error) (e apiError, known bool) {
	var se *s3Error
	if errors.As(err, &se) {
		e, ok := errorTable[se.code]
		if !ok {
			e = apiError{Code: se.code, Status: http.StatusBadRequest, Message: se.msg}
		}
		if se.msg != "" {
			e.Message = se.msg
		}
		return e, true
	}
	var ve *sigv4.Error
	if errors.As(err, &ve) {
		e := apiError{Code: ve.Code, Status: ve.Status, Message: ve.Message}
		if t, ok := errorTable[ve.Code]; ok {
			if e.Status == 0 {
				e.Status = t.Status
			}
			if e.Message == "" {
				e.Message = t.Message
			}
		}
		if e.Status == 0 {
			e.Status = http.StatusForbidden
		}
		return e, true
	}
	for _, m := range sentinelCodes {
		if errors.Is(err, m.err) {
			e := errorTable[m.code]
			if msg, ok := sentinelMessages[m.err]; ok {
				e.Message = msg
			}
			return e, m.err != object.ErrCorruption
		}
	}
	return errorTable["InternalError"], false
}
