package sigv4

import "errors"

// S3 error codes this package returns in Error.Code. The s3api error table
// maps them to responses; Error.Status already carries the HTTP status.
const (
	// CodeAccessDenied (403): SigV2 signatures, expired or not-yet-valid
	// presigned URLs, x-amz-* headers that were sent but not signed.
	CodeAccessDenied = "AccessDenied"
	// CodeAuthorizationHeaderMalformed (400): unparsable Authorization
	// header, wrong region, service or terminator in the credential scope,
	// host not signed, missing or mismatched date.
	CodeAuthorizationHeaderMalformed = "AuthorizationHeaderMalformed"
	// CodeAuthorizationQueryParametersError (400): the same for presigned
	// query parameters, including X-Amz-Expires outside 1..604800.
	CodeAuthorizationQueryParametersError = "AuthorizationQueryParametersError"
	// CodeInvalidAccessKeyID (403): CredentialLookup did not know the key.
	CodeInvalidAccessKeyID = "InvalidAccessKeyId"
	// CodeSignatureDoesNotMatch (403): request, chunk or trailer signature
	// mismatch.
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	// CodeRequestTimeTooSkewed (403): header auth more than MaxClockSkew away
	// from the server clock.
	CodeRequestTimeTooSkewed = "RequestTimeTooSkewed"
	// CodeInvalidArgument (400): malformed x-amz-content-sha256,
	// x-amz-decoded-content-length, or header and query auth both present.
	CodeInvalidArgument = "InvalidArgument"
	// CodeNotImplemented (501): SigV4a (ECDSA) payload signing.
	CodeNotImplemented = "NotImplemented"
	// CodeInvalidRequest (400): x-amz-content-sha256 absent on a
	// header-authenticated request, as S3 answers it.
	CodeInvalidRequest = "InvalidRequest"
	// CodeIncompleteBody (400): aws-chunked framing violations: truncated
	// body, bad chunk header, missing CRLF, oversized chunk or line, decoded
	// length different from x-amz-decoded-content-length.
	CodeIncompleteBody = "IncompleteBody"
	// CodeMalformedTrailerError (400): trailer lines that are not well formed
	// or whose names differ from those announced in x-amz-trailer.
	CodeMalformedTrailerError = "MalformedTrailerError"
)

// IsCode reports whether err is (or wraps) an *Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

func newErr(code string, status int, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

func errMalformedHeader(msg string) *Error {
	return newErr(CodeAuthorizationHeaderMalformed, 400, msg)
}

func errMalformedQuery(msg string) *Error {
	return newErr(CodeAuthorizationQueryParametersError, 400, msg)
}

func errSignature() *Error {
	return newErr(CodeSignatureDoesNotMatch, 403,
		"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
}

func errChunkSignature() *Error {
	return newErr(CodeSignatureDoesNotMatch, 403, "The chunk signature we calculated does not match the signature you provided.")
}

func errIncomplete(msg string) *Error {
	return newErr(CodeIncompleteBody, 400, msg)
}

func errTrailer(msg string) *Error {
	return newErr(CodeMalformedTrailerError, 400, msg)
}
