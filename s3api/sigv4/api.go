// Package sigv4 verifies AWS Signature Version 4: the Authorization header,
// presigned query URLs and aws-chunked streaming bodies (signed and unsigned,
// with trailers). It knows nothing of fasthttp or of the object layer: the
// caller fills a Request from whatever transport it uses.
package sigv4

// Request is the transport-neutral view of an HTTP request that signature
// verification needs. Header names are matched case-insensitively.
type Request struct {
	Method string
	// RawPath is the request path exactly as sent (still percent-encoded).
	RawPath string
	// RawQuery is the query string exactly as sent, without '?'.
	RawQuery string
	// Host is the Host header value.
	Host string
	// Headers holds every header as sent (name, value), in arrival order;
	// repeated names appear repeatedly.
	Headers [][2]string
}

// CredentialLookup returns the secret key of an access key, or ok=false
// when the key is unknown, disabled or expired.
type CredentialLookup func(accessKey string) (secret string, ok bool)

// PayloadMode says how the request body is protected.
type PayloadMode int

// Payload modes, from x-amz-content-sha256.
const (
	PayloadUnsigned               PayloadMode = iota // UNSIGNED-PAYLOAD (or presigned)
	PayloadSHA256                                    // hex digest to verify against the body
	PayloadStreamingSigned                           // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
	PayloadStreamingUnsignedTrail                    // STREAMING-UNSIGNED-PAYLOAD-TRAILER
	PayloadStreamingSignedTrail                      // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
)

// Result is what a successful verification established.
//
// Verification covers the request line, the query, the signed headers and
// the payload hash as declared; it does NOT cover the body. The caller MUST
// check a PayloadSHA256 digest against the body it reads, and MUST read
// streaming bodies through NewChunkedReader.
type Result struct {
	// AccessKey is the verified access key ("" when Anonymous).
	AccessKey string
	// Anonymous is true when the request carried no signature at all.
	Anonymous bool
	// Presigned is true for query-string (presigned URL) authentication.
	Presigned bool
	// Mode is the payload protection declared by x-amz-content-sha256
	// (PayloadUnsigned when absent on presigned or anonymous requests).
	Mode PayloadMode
	// PayloadSHA256 is the raw digest to verify (Mode == PayloadSHA256).
	PayloadSHA256 []byte
	// The fields below let NewChunkedReader verify chunk signatures.
	// SeedSignature is the request signature the first chunk chains from.
	SeedSignature string
	// SigningKey is derived from the secret: it MUST NOT be logged or sent
	// anywhere. Each Result owns its copy.
	SigningKey []byte
	// Scope is the credential scope, date/region/s3/aws4_request.
	Scope string
	Date  string // x-amz-date (ISO8601 basic)
	// DecodedLength is x-amz-decoded-content-length for streaming modes (-1 if absent).
	DecodedLength int64
	// Trailers lists the trailer names announced in x-amz-trailer (lower-case).
	Trailers []string

	// Backing storage so that a verification allocates only the Result.
	keyBuf    [32]byte
	digestBuf [32]byte
}

// Error is a verification failure with its S3 error code and HTTP status.
type Error struct {
	Code    string // e.g. "SignatureDoesNotMatch"
	Status  int    // e.g. 403
	Message string // safe for clients: never contains secrets
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
