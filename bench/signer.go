package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"strings"
	"time"
)

// Header-authenticated AWS Signature Version 4 for S3, tuned for a load
// generator: one signer per worker, the signing key derived once per UTC
// day, and all canonical-request building done in reused buffers. The only
// per-request allocation is the Authorization string itself.
//
// Limits, by design: service "s3" only; header values are trimmed but
// inner runs of spaces are not collapsed (the generator never sends such
// values); the path must already be in S3 canonical (single-encoded) form,
// which appendURIEncode produces.

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateFmt   = "20060102T150405Z"
)

// header is one request header to sign: the name in lower case.
type header struct{ name, value string }

// queryParam is one query parameter, not yet encoded.
type queryParam struct{ name, value string }

// signer signs requests for one access key and region. It is not safe for
// concurrent use; give each worker its own.
type signer struct {
	accessKey, secretKey, region string

	day      string    // yyyymmdd the cached key is for
	mac      hash.Hash // HMAC keyed with the day's signing key
	scope    string    // day/region/s3/aws4_request
	credPfx  string    // "AWS4-HMAC-SHA256 Credential=AK/scope, SignedHeaders="
	sh       hash.Hash
	canon    []byte
	sts      []byte
	sum      [sha256.Size]byte
	hexBuf   [2 * sha256.Size]byte
	sorted   []header
	lastTime time.Time
	amzDate  string
}

func newSigner(accessKey, secretKey, region string) *signer {
	return &signer{accessKey: accessKey, secretKey: secretKey, region: region, sh: sha256.New()}
}

func hmacSum(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// setDay derives the signing key for day (yyyymmdd) unless cached.
func (s *signer) setDay(day string) {
	if s.day == day {
		return
	}
	k := hmacSum([]byte("AWS4"+s.secretKey), day)
	k = hmacSum(k, s.region)
	k = hmacSum(k, "s3")
	k = hmacSum(k, "aws4_request")
	s.mac = hmac.New(sha256.New, k)
	s.day = day
	s.scope = day + "/" + s.region + "/s3/aws4_request"
	s.credPfx = sigAlgorithm + " Credential=" + s.accessKey + "/" + s.scope + ", SignedHeaders="
}

// date returns the x-amz-date value for t, cached per second.
func (s *signer) date(t time.Time) string {
	t = t.UTC().Truncate(time.Second)
	if !t.Equal(s.lastTime) || s.amzDate == "" {
		s.lastTime = t
		s.amzDate = t.Format(amzDateFmt)
	}
	return s.amzDate
}

// sign returns the Authorization header value for a request. path is the
// canonical (already URI-encoded) path; query must be sorted by name;
// headers must include host, x-amz-date and x-amz-content-sha256, with
// lower-case names; amzDate is the x-amz-date value.
func (s *signer) sign(method, path string, query []queryParam, headers []header, payloadHash, amzDate string) string {
	s.setDay(amzDate[:8])

	s.sorted = append(s.sorted[:0], headers...)
	slices.SortFunc(s.sorted, func(a, b header) int { return strings.Compare(a.name, b.name) })

	c := s.canon[:0]
	c = append(c, method...)
	c = append(c, '\n')
	c = append(c, path...)
	c = append(c, '\n')
	c = appendQuery(c, query)
	c = append(c, '\n')
	for _, h := range s.sorted {
		c = append(c, h.name...)
		c = append(c, ':')
		c = append(c, strings.TrimSpace(h.value)...)
		c = append(c, '\n')
	}
	c = append(c, '\n')
	signedStart := len(c)
	for i, h := range s.sorted {
		if i > 0 {
			c = append(c, ';')
		}
		c = append(c, h.name...)
	}
	signedEnd := len(c)
	c = append(c, '\n')
	c = append(c, payloadHash...)
	s.canon = c

	s.sh.Reset()
	s.sh.Write(c)
	s.sh.Sum(s.sum[:0])
	hex.Encode(s.hexBuf[:], s.sum[:])

	t := s.sts[:0]
	t = append(t, sigAlgorithm+"\n"...)
	t = append(t, amzDate...)
	t = append(t, '\n')
	t = append(t, s.scope...)
	t = append(t, '\n')
	t = append(t, s.hexBuf[:]...)
	s.sts = t

	s.mac.Reset()
	s.mac.Write(t)
	s.mac.Sum(s.sum[:0])
	hex.Encode(s.hexBuf[:], s.sum[:])

	var b strings.Builder
	b.Grow(len(s.credPfx) + (signedEnd - signedStart) + len(", Signature=") + len(s.hexBuf))
	b.WriteString(s.credPfx)
	b.Write(c[signedStart:signedEnd])
	b.WriteString(", Signature=")
	b.Write(s.hexBuf[:])
	return b.String()
}

// appendQuery appends the canonical (and wire) form of a sorted query.
func appendQuery(dst []byte, q []queryParam) []byte {
	for i, p := range q {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = appendURIEncode(dst, p.name, false)
		dst = append(dst, '=')
		dst = appendURIEncode(dst, p.value, false)
	}
	return dst
}

// appendURIEncode appends s percent-encoded the way SigV4 wants: every
// byte but A-Z a-z 0-9 - . _ ~ is encoded as %XX (upper-case hex), and
// '/' is kept when keepSlash is set (paths).
func appendURIEncode(dst []byte, s string, keepSlash bool) []byte {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/' && keepSlash:
			dst = append(dst, c)
		default:
			dst = append(dst, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return dst
}
