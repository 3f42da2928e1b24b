package sigv4

import (
	"strconv"
	"time"
)

// queryAuth holds the raw authentication parameters of a query string.
type queryAuth struct {
	v4, v2                                             bool
	alg, cred, date, expires, signedHeaders, signature string
	n                                                  int // how many of the six were present
}

// scanQueryAuth finds the presigned-URL parameters in a raw query string.
// The error reports a repeated parameter; it matters only when v4 is set.
func scanQueryAuth(raw string) (queryAuth, *Error) {
	var q queryAuth
	var err *Error
	forEachQueryParam(raw, func(name, value string) bool {
		var dst *string
		switch queryUnescape(name) {
		case "X-Amz-Algorithm":
			dst = &q.alg
		case "X-Amz-Credential":
			dst = &q.cred
		case "X-Amz-Date":
			dst = &q.date
		case "X-Amz-Expires":
			dst = &q.expires
		case "X-Amz-SignedHeaders":
			dst = &q.signedHeaders
		case "X-Amz-Signature":
			dst = &q.signature
		case "AWSAccessKeyId":
			q.v2 = true
			return true
		default:
			return true
		}
		if dst == &q.alg || dst == &q.cred || dst == &q.signature {
			q.v4 = true
		}
		if *dst != "" || value == "" {
			err = errMalformedQuery("Query-string authentication parameters must appear once and be non-empty")
			return true
		}
		*dst = value
		q.n++
		return true
	})
	return q, err
}

// parsePresign validates the presigned-URL parameters and the validity
// window at now.
func parsePresign(q *queryAuth, now time.Time) (authParams, *Error) {
	p := authParams{presigned: true}
	if q.n != 6 {
		return p, errMalformedQuery("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	}
	switch queryUnescape(q.alg) {
	case algorithm:
	case "AWS4-ECDSA-P256-SHA256":
		return p, errMalformedQuery("Signature Version 4A (AWS4-ECDSA-P256-SHA256) is not supported; use AWS4-HMAC-SHA256")
	default:
		return p, errMalformedQuery("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	p.amzDate = queryUnescape(q.date)
	t, err := time.Parse(iso8601Basic, p.amzDate)
	if err != nil {
		return p, errMalformedQuery("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	p.t = t
	exp, err := strconv.ParseInt(queryUnescape(q.expires), 10, 64)
	if err != nil || exp < 1 || exp > MaxPresignExpires {
		return p, errMalformedQuery("X-Amz-Expires must be an integer from 1 to 604800 (one week, in seconds)")
	}
	if t.Sub(now) > MaxClockSkew {
		return p, newErr(CodeAccessDenied, 403, "Request is not valid yet")
	}
	if now.Sub(t) > time.Duration(exp)*time.Second {
		return p, newErr(CodeAccessDenied, 403, "Request has expired")
	}
	p.credential = queryUnescape(q.cred)
	p.signedHeaders = queryUnescape(q.signedHeaders)
	p.signature = queryUnescape(q.signature)
	return p, nil
}
