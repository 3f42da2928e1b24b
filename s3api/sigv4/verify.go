package sigv4

import (
	"crypto/hmac"
	"strconv"
	"strings"
	"time"

	"github.com/minio/sha256-simd"
)

// MaxClockSkew is how far the request time of a header-authenticated
// request may be from the server clock, either way.
const MaxClockSkew = 15 * time.Minute

// MaxPresignExpires is the largest X-Amz-Expires accepted: one week.
const MaxPresignExpires = 604800

const (
	iso8601Basic = "20060102T150405Z"
	httpDate     = "Mon, 02 Jan 2006 15:04:05 GMT"
)

// Verifier verifies SigV4 requests for one region and caches derived
// signing keys. It is safe for concurrent use and immutable after
// NewVerifier; the cache is its only state and is owned by the value, so
// servers (and tests) with different credentials never share keys.
type Verifier struct {
	lookup CredentialLookup
	region string
	keys   keyCache
}

// NewVerifier returns a Verifier that resolves access keys with lookup and
// accepts credential scopes naming region. An empty region accepts any
// region (the region is still bound by the signature). keyCacheSize bounds
// the signing-key cache: 0 means DefaultKeyCacheSize, a negative value
// disables caching.
func NewVerifier(lookup CredentialLookup, region string, keyCacheSize int) *Verifier {
	return &Verifier{lookup: lookup, region: region, keys: keyCache{max: keyCacheSize}}
}

// Verify checks the request's signature (header or presigned query) against
// lookup at time now, in region. A request with neither is returned as
// Anonymous with a nil error; the caller decides whether anonymous access is
// allowed. Errors are *Error values carrying the S3 error code.
//
// Verify is stateless: it derives the signing key on every call. Servers
// should build one Verifier with NewVerifier and call its Verify method,
// which caches signing keys.
func Verify(r *Request, lookup CredentialLookup, region string, now time.Time) (*Result, error) {
	v := Verifier{lookup: lookup, region: region, keys: keyCache{max: -1}}
	return v.Verify(r, now)
}

// Verify is the caching form of the package-level Verify.
func (v *Verifier) Verify(r *Request, now time.Time) (*Result, error) {
	auth, hasAuth := r.header("authorization")
	q, qerr := scanQueryAuth(r.RawQuery)
	switch {
	case hasAuth && (q.v4 || q.v2):
		return nil, newErr(CodeInvalidArgument, 400,
			"Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	case hasAuth:
		p, err := parseAuthorization(auth)
		if err != nil {
			return nil, err
		}
		return v.verify(r, &p, now)
	case q.v4:
		if qerr != nil {
			return nil, qerr
		}
		p, err := parsePresign(&q, now)
		if err != nil {
			return nil, err
		}
		return v.verify(r, &p, now)
	case q.v2:
		return nil, errSigV2()
	}
	res := &Result{Anonymous: true, DecodedLength: -1}
	if err := fillPayload(r, res, false); err != nil {
		return nil, err
	}
	if res.Mode == PayloadStreamingSigned || res.Mode == PayloadStreamingSignedTrail {
		return nil, newErr(CodeInvalidArgument, 400, "a signed streaming payload requires a signed request")
	}
	return res, nil
}

func errSigV2() *Error {
	return newErr(CodeAccessDenied, 403, "Signature Version 2 is not supported; use AWS4-HMAC-SHA256")
}

// header returns the first value of the named header.
func (r *Request) header(name string) (string, bool) {
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1], true
		}
	}
	return "", false
}

// authParams is what the header and the presigned query have in common.
type authParams struct {
	presigned     bool
	credential    string // AK/date/region/service/aws4_request
	signedHeaders string
	signature     string
	amzDate       string    // ISO8601 basic, as it enters the string to sign
	t             time.Time // parsed amzDate (presigned only; header auth parses late)
}

// parseAuthorization splits an Authorization header into its components.
// It checks the syntax only.
func parseAuthorization(h string) (authParams, *Error) {
	var p authParams
	h = strings.TrimSpace(h)
	alg, rest, _ := strings.Cut(h, " ")
	switch alg {
	case algorithm:
	case "AWS":
		return p, errSigV2()
	case "AWS4-ECDSA-P256-SHA256":
		return p, errMalformedHeader("Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not supported; use AWS4-HMAC-SHA256")
	default:
		return p, errMalformedHeader("Unsupported authorization type; only AWS4-HMAC-SHA256 is supported")
	}
	var seen [3]bool
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		k, val, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		val = strings.TrimSpace(val)
		if !ok || val == "" {
			return p, errMalformedHeader("The authorization header is malformed; each component must be key=value")
		}
		var i int
		switch k {
		case "Credential":
			i, p.credential = 0, val
		case "SignedHeaders":
			i, p.signedHeaders = 1, val
		case "Signature":
			i, p.signature = 2, val
		default:
			return p, errMalformedHeader("The authorization header is malformed; unknown component " + strconv.Quote(k))
		}
		if seen[i] {
			return p, errMalformedHeader("The authorization header is malformed; duplicate component " + k)
		}
		seen[i] = true
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return p, errMalformedHeader("The authorization header is malformed; Credential, SignedHeaders and Signature are required")
	}
	return p, nil
}

// splitCredential splits AK/date/region/service/terminator from the right,
// so that only the access key may contain '/'.
func splitCredential(cred string) (ak, date, region, service, term string, ok bool) {
	var parts [4]string
	rest := cred
	for i := 3; i >= 0; i-- {
		j := strings.LastIndexByte(rest, '/')
		if j < 0 {
			return "", "", "", "", "", false
		}
		parts[i], rest = rest[j+1:], rest[:j]
	}
	if rest == "" {
		return "", "", "", "", "", false
	}
	return rest, parts[0], parts[1], parts[2], parts[3], true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validSignedHeaders checks a ';'-separated list of lower-case header names
// that includes host.
func validSignedHeaders(s string) (hasHost bool, ok bool) {
	for rest := s; ; {
		var name string
		var more bool
		name, rest, more = strings.Cut(rest, ";")
		if name == "" {
			return false, false
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			if c <= ' ' || c >= 0x7f || c == ':' || 'A' <= c && c <= 'Z' {
				return false, false
			}
		}
		if name == "host" {
			hasHost = true
		}
		if !more {
			return hasHost, true
		}
	}
}

func isSigned(signedHeaders, name string) bool {
	for rest := signedHeaders; rest != ""; {
		var s string
		s, rest, _ = strings.Cut(rest, ";")
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// verify runs the checks common to header and presigned authentication.
func (v *Verifier) verify(r *Request, p *authParams, now time.Time) (*Result, error) {
	malformed := errMalformedHeader
	if p.presigned {
		malformed = errMalformedQuery
	}
	ak, date, region, service, term, ok := splitCredential(p.credential)
	if !ok {
		return nil, malformed("The credential is malformed; expecting \"<AccessKey>/<YYYYMMDD>/<Region>/s3/aws4_request\"")
	}
	if len(date) != 8 || !isDigits(date) {
		return nil, malformed("The credential date is malformed; expecting YYYYMMDD")
	}
	if v.region != "" && region != v.region {
		return nil, malformed("The authorization header is malformed; the region " + strconv.Quote(region) +
			" is wrong; expecting " + strconv.Quote(v.region))
	}
	if service != serviceName {
		return nil, malformed("The credential is malformed; the service must be \"s3\"")
	}
	if term != terminator {
		return nil, malformed("The credential is malformed; the scope must end in \"aws4_request\"")
	}
	hasHost, ok := validSignedHeaders(p.signedHeaders)
	if !ok {
		return nil, malformed("SignedHeaders must be a ';'-separated list of lower-case header names")
	}
	if !hasHost {
		return nil, malformed("The host header must be signed")
	}

	// Request time. Header auth takes x-amz-date, else Date.
	if !p.presigned {
		if d, ok := r.header("x-amz-date"); ok {
			t, err := time.Parse(iso8601Basic, d)
			if err != nil {
				return nil, newErr(CodeAccessDenied, 403, "AWS authentication requires a valid Date or x-amz-date header")
			}
			p.t, p.amzDate = t, d
		} else if d, ok := r.header("date"); ok {
			t, err := time.Parse(httpDate, d)
			if err != nil {
				return nil, newErr(CodeAccessDenied, 403, "AWS authentication requires a valid Date or x-amz-date header")
			}
			p.t, p.amzDate = t, t.UTC().Format(iso8601Basic)
		} else {
			return nil, newErr(CodeAccessDenied, 403, "AWS authentication requires a valid Date or x-amz-date header")
		}
	}
	if p.amzDate[:8] != date {
		return nil, malformed("Invalid credential date. Date is not the same as X-Amz-Date.")
	}

	// Every x-amz-* header that was sent must be signed: they carry
	// semantics (ACLs, copy sources, SSE-C keys) a replay must not add.
	for _, h := range r.Headers {
		if len(h[0]) > 6 && strings.EqualFold(h[0][:6], "x-amz-") && !isSigned(p.signedHeaders, h[0]) {
			return nil, newErr(CodeAccessDenied, 403, "There were headers present in the request which were not signed")
		}
	}

	res := &Result{AccessKey: ak, Presigned: p.presigned, DecodedLength: -1}
	if err := fillPayload(r, res, p.presigned); err != nil {
		return nil, err
	}
	payloadHash := "UNSIGNED-PAYLOAD"
	if h, ok := r.header("x-amz-content-sha256"); ok {
		payloadHash = h
	}

	secret, ok := v.lookup(ak)
	if !ok {
		return nil, newErr(CodeInvalidAccessKeyID, 403, "The AWS Access Key Id you provided does not exist in our records.")
	}

	if !p.presigned {
		if d := now.Sub(p.t); d > MaxClockSkew || d < -MaxClockSkew {
			return nil, newErr(CodeRequestTimeTooSkewed, 403, "The difference between the request time and the current time is too large.")
		}
	}

	key := v.keys.get(secret, date, region, service)
	scope := p.credential[len(ak)+1:]

	want := computeSignature(r, p.presigned, p.signedHeaders, payloadHash, p.amzDate, scope, key[:])
	var got [64]byte
	if len(p.signature) != len(got) || !hmac.Equal(want[:], got[:copy(got[:], p.signature)]) {
		return nil, errSignature()
	}

	res.keyBuf = key
	res.SigningKey = res.keyBuf[:]
	res.SeedSignature = p.signature
	res.Scope = scope
	res.Date = p.amzDate
	return res, nil
}

// fillPayload sets Mode, PayloadSHA256, DecodedLength and Trailers from the
// request headers. Presigned requests default to UNSIGNED-PAYLOAD; header
// auth requires x-amz-content-sha256, as S3 does.
func fillPayload(r *Request, res *Result, presigned bool) error {
	h, ok := r.header("x-amz-content-sha256")
	switch {
	case !ok && (presigned || res.Anonymous):
		res.Mode = PayloadUnsigned
	case !ok:
		return newErr(CodeInvalidRequest, 400, "Missing required header for this request: x-amz-content-sha256")
	case h == "UNSIGNED-PAYLOAD":
		res.Mode = PayloadUnsigned
	case h == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD":
		res.Mode = PayloadStreamingSigned
	case h == "STREAMING-UNSIGNED-PAYLOAD-TRAILER":
		res.Mode = PayloadStreamingUnsignedTrail
	case h == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
		res.Mode = PayloadStreamingSignedTrail
	case h == "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", h == "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
		return newErr(CodeNotImplemented, 501, "Signature Version 4A streaming payloads are not supported")
	default:
		if len(h) != 64 {
			return newErr(CodeInvalidArgument, 400, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or a hex SHA-256 digest")
		}
		for i := 0; i < 32; i++ {
			hi, ok1 := unhex(h[2*i])
			lo, ok2 := unhex(h[2*i+1])
			if !ok1 || !ok2 {
				return newErr(CodeInvalidArgument, 400, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or a hex SHA-256 digest")
			}
			res.digestBuf[i] = hi<<4 | lo
		}
		res.Mode = PayloadSHA256
		res.PayloadSHA256 = res.digestBuf[:]
	}
	if d, ok := r.header("x-amz-decoded-content-length"); ok {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < 0 {
			return newErr(CodeInvalidArgument, 400, "x-amz-decoded-content-length must be a non-negative integer")
		}
		res.DecodedLength = n
	}
	for _, hv := range r.Headers {
		if !strings.EqualFold(hv[0], "x-amz-trailer") {
			continue
		}
		for rest := hv[1]; rest != ""; {
			var name string
			name, rest, _ = strings.Cut(rest, ",")
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				res.Trailers = append(res.Trailers, name)
			}
		}
	}
	return nil
}

// computeSignature returns the hex SigV4 signature of r. The canonical
// request is built in a stack buffer and hashed in one go.
func computeSignature(r *Request, presigned bool, signedHeaders, payloadHash, amzDate, scope string, key []byte) [64]byte {
	var crbuf [2048]byte
	cr := append(crbuf[:0], r.Method...)
	cr = append(cr, '\n')
	cr = appendCanonicalURI(cr, r.RawPath)
	cr = append(cr, '\n')
	cr = appendCanonicalQuery(cr, r.RawQuery, presigned)
	cr = append(cr, '\n')
	cr = appendCanonicalHeaders(cr, r, signedHeaders)
	cr = append(cr, '\n')
	cr = append(cr, signedHeaders...)
	cr = append(cr, '\n')
	cr = append(cr, payloadHash...)
	crHash := sha256.Sum256(cr)

	var stsbuf [256]byte
	sts := append(stsbuf[:0], algorithm+"\n"...)
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, scope...)
	sts = append(sts, '\n')
	sts = appendHex(sts, crHash[:])
	mac := hmacSHA256(key, sts)
	var sig [64]byte
	appendHex(sig[:0], mac[:])
	return sig
}
