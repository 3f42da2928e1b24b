package sigv4

import (
	"slices"
	"strings"

	"github.com/minio/sha256-simd"
)

// This file builds the SigV4 canonical request and the HMAC primitives.
// Everything appends into caller-owned buffers so that the hot path of a
// header-authenticated request allocates nothing but its Result.

const (
	algorithm   = "AWS4-HMAC-SHA256"
	terminator  = "aws4_request"
	serviceName = "s3"
	upperHex    = "0123456789ABCDEF"
	lowerHex    = "0123456789abcdef"

	// emptySHA256 is hex(sha256("")), the "previous data" hash that every
	// chunk string to sign carries.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// pctDecodeAt decodes "%XY" at s[i]; ok is false when s[i:] is not a valid
// escape.
func pctDecodeAt(s string, i int) (byte, bool) {
	if s[i] != '%' || i+2 >= len(s) {
		return 0, false
	}
	hi, ok1 := unhex(s[i+1])
	lo, ok2 := unhex(s[i+2])
	return hi<<4 | lo, ok1 && ok2
}

func appendEscaped(dst []byte, b byte) []byte {
	return append(dst, '%', upperHex[b>>4], upperHex[b&15])
}

// appendCanonicalURI appends the canonical URI of a raw (still encoded) S3
// path. S3 does not normalise the path: no "." / ".." resolution, no
// collapsing of "//", no double encoding. Each byte is brought to the form
// the AWS SDKs sign (RFC 3986 unreserved characters and '/' literal,
// everything else %XX with upper-case hex): valid escapes are decoded and
// re-encoded, so "%7e" and "~" both become "~" and "%2f" stays "%2F" (an
// escaped slash is part of a key, not a separator).
func appendCanonicalURI(dst []byte, raw string) []byte {
	if raw == "" {
		return append(dst, '/')
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' {
			if b, ok := pctDecodeAt(raw, i); ok {
				i += 2
				if isUnreserved(b) {
					dst = append(dst, b)
				} else {
					dst = appendEscaped(dst, b)
				}
				continue
			}
		}
		if isUnreserved(c) || c == '/' {
			dst = append(dst, c)
		} else {
			dst = appendEscaped(dst, c)
		}
	}
	return dst
}

// isCanonicalComponent reports whether a raw query name or value is already
// in SigV4 canonical form, so it can be used without decoding.
func isCanonicalComponent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			continue
		}
		if c != '%' || i+2 >= len(s) {
			return false
		}
		h, l := s[i+1], s[i+2]
		if !strings.ContainsRune(upperHex, rune(h)) || !strings.ContainsRune(upperHex, rune(l)) {
			return false
		}
		b, _ := pctDecodeAt(s, i)
		if isUnreserved(b) {
			return false
		}
		i += 2
	}
	return true
}

// queryUnescape decodes a query component the way net/url does for
// application/x-www-form-urlencoded ('+' is a space), except that an invalid
// escape is kept literally instead of failing.
func queryUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if d, ok := pctDecodeAt(s, i); ok {
				b = append(b, d)
				i += 2
			} else {
				b = append(b, c)
			}
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// canonicalComponent returns the SigV4 encoding of a raw query component.
func canonicalComponent(raw string) string {
	if isCanonicalComponent(raw) {
		return raw
	}
	dec := queryUnescape(raw)
	b := make([]byte, 0, len(dec)*3)
	for i := 0; i < len(dec); i++ {
		if isUnreserved(dec[i]) {
			b = append(b, dec[i])
		} else {
			b = appendEscaped(b, dec[i])
		}
	}
	return string(b)
}

type queryParam struct{ name, value string }

// forEachQueryParam calls fn with each raw name and value of a query string,
// skipping empty segments as net/url does.
func forEachQueryParam(raw string, fn func(name, value string) bool) {
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		name, value, _ := strings.Cut(seg, "=")
		if !fn(name, value) {
			return
		}
	}
}

// appendCanonicalQuery appends the canonical query string: every parameter
// URI-encoded, sorted by encoded name then encoded value, "name=value"
// joined by '&'. With presigned set, X-Amz-Signature is left out.
func appendCanonicalQuery(dst []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return dst
	}
	var arr [16]queryParam
	params := arr[:0]
	forEachQueryParam(raw, func(name, value string) bool {
		n := canonicalComponent(name)
		if presigned && n == "X-Amz-Signature" {
			return true
		}
		params = append(params, queryParam{n, canonicalComponent(value)})
		return true
	})
	slices.SortFunc(params, func(a, b queryParam) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	for i, p := range params {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.name...)
		dst = append(dst, '=')
		dst = append(dst, p.value...)
	}
	return dst
}

// appendTrimmedValue appends v with leading and trailing whitespace removed
// and runs of spaces collapsed to one, as the SDKs canonicalise values.
func appendTrimmedValue(dst []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// appendCanonicalHeaders appends "name:value\n" for each name of the
// ';'-separated signedHeaders, in the order given. Values of repeated headers
// are joined by ','. "host" comes from r.Host when set.
func appendCanonicalHeaders(dst []byte, r *Request, signedHeaders string) []byte {
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		dst = append(dst, name...)
		dst = append(dst, ':')
		if name == "host" && r.Host != "" {
			dst = appendTrimmedValue(dst, r.Host)
		} else {
			first := true
			for _, h := range r.Headers {
				if !strings.EqualFold(h[0], name) {
					continue
				}
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = appendTrimmedValue(dst, h[1])
			}
		}
		dst = append(dst, '\n')
	}
	return dst
}

// hmacSHA256 returns HMAC-SHA256(key, msg). It is written over sha256-simd's
// Sum256 so that it does not allocate for messages of ordinary size.
func hmacSHA256(key, msg []byte) [32]byte {
	var k [64]byte
	if len(key) > 64 {
		s := sha256.Sum256(key)
		copy(k[:], s[:])
	} else {
		copy(k[:], key)
	}
	var ibuf [512]byte
	in := ibuf[:64]
	for i := range k {
		in[i] = k[i] ^ 0x36
	}
	in = append(in, msg...)
	inner := sha256.Sum256(in)
	var obuf [96]byte
	for i := range k {
		obuf[i] = k[i] ^ 0x5c
	}
	copy(obuf[64:], inner[:])
	return sha256.Sum256(obuf[:])
}

func hmacString(key []byte, msg string, scratch []byte) [32]byte {
	scratch = append(scratch[:0], msg...)
	return hmacSHA256(key, scratch)
}

// deriveSigningKey computes the SigV4 signing key for a credential scope.
func deriveSigningKey(secret, date, region, service string) [32]byte {
	var buf [128]byte
	k := append(buf[:0], "AWS4"...)
	k = append(k, secret...)
	var scratch [64]byte
	kDate := hmacString(k, date, scratch[:0])
	kRegion := hmacString(kDate[:], region, scratch[:0])
	kService := hmacString(kRegion[:], service, scratch[:0])
	return hmacString(kService[:], terminator, scratch[:0])
}

// appendHex appends the lower-case hex encoding of b.
func appendHex(dst []byte, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, lowerHex[c>>4], lowerHex[c&15])
	}
	return dst
}
