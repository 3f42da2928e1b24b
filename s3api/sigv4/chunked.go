package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"errors"
	"io"
	"strings"

	"github.com/minio/sha256-simd"
)

// Limits of the aws-chunked decoder.
const (
	// MaxChunkLine bounds a chunk header or trailer line, CRLF included.
	MaxChunkLine = 4 << 10
	// MaxSignedChunkSize bounds one chunk in the signed modes. A signed
	// chunk is held in memory until its signature verifies, so this is also
	// the decoder's peak buffer. Real clients use 8 KiB to 1 MiB chunks.
	MaxSignedChunkSize = 16 << 20
	// MaxTrailers bounds the number of trailer lines.
	MaxTrailers = 32
)

type chunkState int

const (
	stHeader  chunkState = iota // next: a chunk header line
	stServe                     // signed: serving a verified chunk from buf
	stData                      // unsigned: streaming a chunk's data
	stDataEnd                   // unsigned: expecting the CRLF after data
	stDone                      // io.EOF
	stFailed                    // err is sticky
)

// ChunkedReader decodes an aws-chunked body.
//
// Guarantees: in the signed modes, Read MUST NOT return any byte of a chunk
// before that chunk's signature has verified, so a tampered, reordered or
// truncated body yields only data that was signed, then the error. Memory
// is bounded by MaxSignedChunkSize plus a 4 KiB line buffer and is never
// allocated from a size the client claims, only as bytes arrive. In the
// unsigned-trailer mode data is streamed as it arrives and chunks may be of
// any size (the Go SDK sends one chunk for the whole object).
type ChunkedReader struct {
	br      *bufio.Reader
	mode    PayloadMode
	signed  bool
	key     []byte
	scope   string
	date    string
	prevSig [64]byte
	// announced trailer names (lower-case), from x-amz-trailer
	announced []string
	expected  int64 // DecodedLength, -1 if unknown
	total     int64 // decoded bytes so far

	state  chunkState
	err    error
	buf    []byte // signed: current chunk
	off    int    // signed: next byte of buf to return
	remain int64  // unsigned: bytes left in the current chunk

	trailers [][2]string
	scratch  []byte
}

// NewChunkedReader returns a reader that decodes an aws-chunked body per
// res.Mode, verifying every chunk signature (signed modes) and the trailer
// signature; it yields exactly the decoded payload, and returns an *Error on
// any violation: SignatureDoesNotMatch (403) for a chunk or trailer
// signature, IncompleteBody (400) for any framing fault (truncation, bad
// chunk header, missing CRLF, oversized line or chunk, decoded length not
// equal to DecodedLength), MalformedTrailerError (400) for trailer lines
// that are malformed or not the ones announced in x-amz-trailer. After
// io.EOF, Trailer returns the trailing headers. A res whose Mode is not a
// streaming mode yields an error on the first Read.
func NewChunkedReader(body io.Reader, res *Result) *ChunkedReader {
	c := &ChunkedReader{
		br:        bufio.NewReaderSize(body, MaxChunkLine),
		mode:      res.Mode,
		signed:    res.Mode == PayloadStreamingSigned || res.Mode == PayloadStreamingSignedTrail,
		key:       res.SigningKey,
		scope:     res.Scope,
		date:      res.Date,
		announced: res.Trailers,
		expected:  res.DecodedLength,
	}
	switch {
	case res.Mode != PayloadStreamingSigned && res.Mode != PayloadStreamingSignedTrail && res.Mode != PayloadStreamingUnsignedTrail:
		c.fail(newErr(CodeInvalidRequest, 400, "the request does not use an aws-chunked payload"))
	case c.signed && (len(res.SeedSignature) != 64 || len(res.SigningKey) != 32):
		c.fail(errChunkSignature())
	default:
		copy(c.prevSig[:], res.SeedSignature)
	}
	return c
}

func (c *ChunkedReader) fail(err error) error {
	c.state, c.err = stFailed, err
	c.buf = nil
	return err
}

// Read implements io.Reader.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	for {
		switch c.state {
		case stFailed:
			return 0, c.err
		case stDone:
			return 0, io.EOF
		case stServe:
			if c.off < len(c.buf) {
				if len(p) == 0 {
					return 0, nil
				}
				n := copy(p, c.buf[c.off:])
				c.off += n
				return n, nil
			}
			c.state = stHeader
		case stData:
			if len(p) == 0 {
				return 0, nil
			}
			if int64(len(p)) > c.remain {
				p = p[:c.remain]
			}
			n, err := c.br.Read(p)
			c.remain -= int64(n)
			if c.remain == 0 {
				c.state = stDataEnd
			}
			if n > 0 {
				return n, nil
			}
			if err != nil {
				return 0, c.fail(errTruncated(err))
			}
		case stDataEnd:
			if err := c.expectCRLF(); err != nil {
				return 0, c.fail(err)
			}
			c.state = stHeader
		case stHeader:
			if err := c.nextChunk(); err != nil {
				return 0, c.fail(err)
			}
		}
	}
}

func errTruncated(err error) *Error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errIncomplete("The request body terminated unexpectedly")
	}
	return errIncomplete("The request body could not be read")
}

// readLine returns the next line without its CRLF. The slice is valid until
// the next read.
func (c *ChunkedReader) readLine() ([]byte, *Error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errIncomplete("aws-chunked line longer than 4 KiB")
		}
		return nil, errTruncated(err)
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errIncomplete("aws-chunked line not terminated by CRLF")
	}
	return line[:len(line)-2], nil
}

func (c *ChunkedReader) expectCRLF() *Error {
	var b [2]byte
	if _, err := io.ReadFull(c.br, b[:]); err != nil {
		return errTruncated(err)
	}
	if b != [2]byte{'\r', '\n'} {
		return errIncomplete("chunk data not followed by CRLF")
	}
	return nil
}

func trimWS(b []byte) []byte {
	return bytes.Trim(b, " \t")
}

// parseChunkHeader parses "hex-size[;chunk-signature=sig]" with optional
// blanks around ';' and '='. In signed modes the signature is required; in
// the unsigned mode chunk extensions are ignored.
func (c *ChunkedReader) parseChunkHeader(line []byte) (size int64, sig []byte, err *Error) {
	sizePart, ext, hasExt := bytes.Cut(line, []byte{';'})
	sizePart = trimWS(sizePart)
	if len(sizePart) == 0 || len(sizePart) > 16 {
		return 0, nil, errIncomplete("invalid aws-chunked chunk size")
	}
	for _, ch := range sizePart {
		d, ok := unhex(ch)
		if !ok {
			return 0, nil, errIncomplete("invalid aws-chunked chunk size")
		}
		if size > (1<<62)>>4 {
			return 0, nil, errIncomplete("aws-chunked chunk size too large")
		}
		size = size<<4 | int64(d)
	}
	if !c.signed {
		return size, nil, nil
	}
	if !hasExt {
		return 0, nil, errIncomplete("aws-chunked chunk header lacks chunk-signature")
	}
	k, v, ok := bytes.Cut(ext, []byte{'='})
	if !ok || string(trimWS(k)) != "chunk-signature" {
		return 0, nil, errIncomplete("aws-chunked chunk header lacks chunk-signature")
	}
	v = trimWS(v)
	if len(v) != 64 {
		return 0, nil, errChunkSignature()
	}
	return size, v, nil
}

// nextChunk reads a chunk header and, in the signed modes, the whole chunk,
// verifying it before anything of it is served.
func (c *ChunkedReader) nextChunk() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	size, sigRef, err := c.parseChunkHeader(line)
	if err != nil {
		return err
	}
	var sig [64]byte
	copy(sig[:], sigRef) // line is invalidated by the next read
	if c.signed && size > MaxSignedChunkSize {
		return errIncomplete("aws-chunked chunk larger than 16 MiB")
	}
	if c.expected >= 0 && size > c.expected-c.total {
		return errIncomplete("The request body is longer than x-amz-decoded-content-length")
	}
	if !c.signed {
		if size == 0 {
			return c.finish()
		}
		c.total += size
		c.remain = size
		c.state = stData
		return nil
	}
	if err := c.readChunkData(size); err != nil {
		return err
	}
	if err := c.expectCRLFIfData(size); err != nil {
		return err
	}
	if !c.verifyChunk(sig[:]) {
		c.buf = c.buf[:0]
		return errChunkSignature()
	}
	c.total += size
	if size == 0 {
		c.buf = nil
		return c.finish()
	}
	c.off = 0
	c.state = stServe
	return nil
}

func (c *ChunkedReader) expectCRLFIfData(size int64) *Error {
	if size == 0 {
		return nil // the final chunk's CRLF belongs to the trailer section
	}
	return c.expectCRLF()
}

// readChunkData reads size bytes into c.buf, growing it as data arrives.
func (c *ChunkedReader) readChunkData(size int64) *Error {
	n := int(size)
	c.buf = c.buf[:0]
	for len(c.buf) < n {
		if len(c.buf) == cap(c.buf) {
			nc := max(2*cap(c.buf), 32<<10)
			nc = min(nc, n)
			nb := make([]byte, len(c.buf), nc)
			copy(nb, c.buf)
			c.buf = nb
		}
		m, err := c.br.Read(c.buf[len(c.buf):min(cap(c.buf), n)])
		c.buf = c.buf[:len(c.buf)+m]
		if m == 0 && err != nil {
			return errTruncated(err)
		}
	}
	return nil
}

// verifyChunk checks sig against the chunk in c.buf and advances the chain.
func (c *ChunkedReader) verifyChunk(sig []byte) bool {
	dataHash := sha256.Sum256(c.buf)
	sts := append(c.scratch[:0], "AWS4-HMAC-SHA256-PAYLOAD\n"...)
	sts = append(sts, c.date...)
	sts = append(sts, '\n')
	sts = append(sts, c.scope...)
	sts = append(sts, '\n')
	sts = append(sts, c.prevSig[:]...)
	sts = append(sts, '\n')
	sts = append(sts, emptySHA256...)
	sts = append(sts, '\n')
	sts = appendHex(sts, dataHash[:])
	c.scratch = sts
	return c.checkSig(sts, sig)
}

func (c *ChunkedReader) checkSig(sts, sig []byte) bool {
	mac := hmacSHA256(c.key, sts)
	var want [64]byte
	appendHex(want[:0], mac[:])
	if !hmac.Equal(want[:], sig) {
		return false
	}
	copy(c.prevSig[:], sig)
	return true
}

// finish reads what follows the final chunk: nothing but CRLF in the plain
// signed mode, trailer lines then CRLF in the trailer modes, with the
// trailer signature before the CRLF in the signed-trailer mode.
func (c *ChunkedReader) finish() error {
	if c.expected >= 0 && c.total != c.expected {
		return errIncomplete("The request body is shorter than x-amz-decoded-content-length")
	}
	if c.mode == PayloadStreamingSigned {
		// Tolerate a body that ends right after the final chunk.
		if _, perr := c.br.Peek(1); perr == io.EOF {
			c.state = stDone
			return nil
		}
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if len(line) != 0 {
			return errIncomplete("unexpected data after the final chunk")
		}
		c.state = stDone
		return nil
	}
	var trailerSig [64]byte
	haveSig, skippedBlank := false, false
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			// Some encoders put a blank line between the final chunk and
			// the trailers; skip one when trailers are still expected.
			if !skippedBlank && len(c.trailers) == 0 && !haveSig &&
				(len(c.announced) > 0 || c.mode == PayloadStreamingSignedTrail) {
				skippedBlank = true
				continue
			}
			break
		}
		if haveSig {
			return errTrailer("x-amz-trailer-signature must be the last trailer")
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return errTrailer("trailer line is not name:value")
		}
		lname := strings.ToLower(string(trimWS(name)))
		value = trimWS(value)
		if lname == "" {
			return errTrailer("trailer line has an empty name")
		}
		if c.mode == PayloadStreamingSignedTrail && lname == "x-amz-trailer-signature" {
			if len(value) != 64 {
				return errChunkSignature()
			}
			copy(trailerSig[:], value)
			haveSig = true
			continue
		}
		if len(c.trailers) >= MaxTrailers {
			return errTrailer("too many trailers")
		}
		for _, t := range c.trailers {
			if t[0] == lname {
				return errTrailer("duplicate trailer " + lname)
			}
		}
		c.trailers = append(c.trailers, [2]string{lname, string(value)})
	}
	if c.mode == PayloadStreamingSignedTrail {
		if !haveSig {
			return errChunkSignature()
		}
		if !c.verifyTrailer(trailerSig[:]) {
			return errChunkSignature()
		}
	}
	if err := c.checkAnnounced(); err != nil {
		return err
	}
	c.state = stDone
	return nil
}

// verifyTrailer checks the trailer signature over "name:value\n" lines.
func (c *ChunkedReader) verifyTrailer(sig []byte) bool {
	var tl []byte
	for _, t := range c.trailers {
		tl = append(tl, t[0]...)
		tl = append(tl, ':')
		tl = append(tl, t[1]...)
		tl = append(tl, '\n')
	}
	h := sha256.Sum256(tl)
	sts := append(c.scratch[:0], "AWS4-HMAC-SHA256-TRAILER\n"...)
	sts = append(sts, c.date...)
	sts = append(sts, '\n')
	sts = append(sts, c.scope...)
	sts = append(sts, '\n')
	sts = append(sts, c.prevSig[:]...)
	sts = append(sts, '\n')
	sts = appendHex(sts, h[:])
	c.scratch = sts
	return c.checkSig(sts, sig)
}

// checkAnnounced requires the trailers received to be exactly those
// announced in x-amz-trailer.
func (c *ChunkedReader) checkAnnounced() error {
	if len(c.trailers) != len(c.announced) {
		return errTrailer("the trailers sent differ from those announced in x-amz-trailer")
	}
	for _, t := range c.trailers {
		found := false
		for _, a := range c.announced {
			if a == t[0] {
				found = true
				break
			}
		}
		if !found {
			return errTrailer("trailer " + t[0] + " was not announced in x-amz-trailer")
		}
	}
	return nil
}

// Trailer returns the value of a trailing header (lower-case name) once the
// body has been read to io.EOF, or "".
func (c *ChunkedReader) Trailer(name string) string {
	if c.state != stDone {
		return ""
	}
	for _, t := range c.trailers {
		if t[0] == name {
			return t[1]
		}
	}
	return ""
}
