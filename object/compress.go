package object

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/crypto/stream"
	"github.com/klauspost/compress/s2"
)

// Compression at rest. When enabled, the plaintext of a write whose
// Content-Type is compressible is S2-compressed before it is encrypted:
//
//	plaintext -> S2 stream (1 MiB blocks) -> encryption stream -> erasure
//
// Compression is invisible to clients: sizes, ETags and checksums are those
// of the plaintext, and a Range read decompresses only the S2 blocks it
// covers, located through the stream's S2 index, which is kept in the
// version's (or part's) metadata record together with the compressed size.
//
// Guarantees: a compressed object MUST read back byte-exact or fail with
// ErrCorruption. The encryption stream authenticates the compressed bytes;
// two more bindings close the gaps that metadata, which is outside that
// authentication, would leave:
//
//   - The encryption stream of compressed data is keyed with its own label
//     ("coffer object s2", "coffer part N s2"), so a compression record
//     that is dropped (or added) makes the stream fail authentication
//     instead of serving compressed bytes as plaintext.
//   - The index and the sizes carry a MAC keyed from the data key and bound
//     to the stream's nonce, so a record that was altered or moved fails
//     instead of steering a read to the wrong plaintext offset.

// DefaultCompressMinSize is the smallest object compressed when
// CompressConfig.MinSize is 0.
const DefaultCompressMinSize = 4 << 10

// DefaultCompressTypes are the Content-Type prefixes compressed when
// CompressConfig.ContentTypes is empty: text and the common text-based
// application formats. Already-compressed media (images, video, archives)
// are left alone.
var DefaultCompressTypes = []string{
	"text/",
	"application/json", "application/x-ndjson", "application/ld+json",
	"application/xml", "application/xhtml+xml", "application/rss+xml", "application/atom+xml", "image/svg+xml",
	"application/javascript", "application/x-javascript", "application/ecmascript",
	"application/yaml", "application/x-yaml", "application/toml",
	"application/csv", "application/x-sh", "application/sql", "application/wasm",
}

// CompressConfig selects which writes are compressed at rest. The zero
// value disables compression.
type CompressConfig struct {
	// Enabled turns compression on for new writes (default false). Objects
	// already stored keep their form either way: reads always work.
	Enabled bool
	// ContentTypes are case-insensitive prefixes of the Content-Types to
	// compress, e.g. "text/" or "application/json"; parameters such as
	// "; charset=utf-8" are ignored. Empty means DefaultCompressTypes.
	ContentTypes []string
	// MinSize is the smallest object (in bytes) that is compressed; 0 means
	// DefaultCompressMinSize, a negative value compresses any size. A body
	// of unknown size is compressed.
	MinSize int64
}

// compressPolicy is a CompressConfig with its defaults applied.
type compressPolicy struct {
	enabled bool
	types   []string // lower case
	minSize int64
}

func newCompressPolicy(c CompressConfig) compressPolicy {
	p := compressPolicy{enabled: c.Enabled, minSize: c.MinSize}
	types := c.ContentTypes
	if len(types) == 0 {
		types = DefaultCompressTypes
	}
	for _, t := range types {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			p.types = append(p.types, t)
		}
	}
	if p.minSize == 0 {
		p.minSize = DefaultCompressMinSize
	}
	return p
}

// wants reports whether a write of size bytes (< 0: unknown) with the given
// Content-Type and Content-Encoding is compressed. A body that the client
// already encoded (gzip, br, zstd...) is not.
func (p compressPolicy) wants(size int64, contentType, contentEncoding string) bool {
	if !p.enabled || (size >= 0 && size < p.minSize) {
		return false
	}
	for _, enc := range strings.Split(contentEncoding, ",") {
		if enc = strings.ToLower(strings.TrimSpace(enc)); enc != "" && enc != "identity" && enc != "aws-chunked" {
			return false
		}
	}
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	}
	if ct == "" {
		return false
	}
	for _, t := range p.types {
		if strings.HasPrefix(ct, t) {
			return true
		}
	}
	return false
}

// compressBlockSize is the S2 block size: the unit of a Range read. It
// matches the S2 index's granularity (the index never records blocks less
// than 1 MiB apart), so a range read decompresses at most one block beyond
// each end of the range, and a 5 GiB stream has 5120 index entries.
const compressBlockSize = 1 << 20

// compRecord is the compression metadata of a stream (a version's data or
// one part). It holds no secret.
type compRecord struct {
	// Size is the size of the S2 stream: the plaintext size of the
	// encryption stream below it.
	Size int64 `json:"sz"`
	// Index is the S2 index of the stream without its headers
	// (s2.RemoveIndexHeaders).
	Index []byte `json:"idx"`
	// MAC is HMAC-SHA256 under a key derived from the data key over the
	// encryption stream's nonce base, the plaintext size, Size and Index.
	MAC []byte `json:"mac"`
}

// newDataStream returns the transform of a new stream of label (objectLabel
// or partLabel(n)) under dek: encryption, with S2 compression in front when
// compress is set; and the stream's suite and nonce base to record. The
// compression record of the stream is read with encoderComp after Close.
func newDataStream(dek []byte, label string, compress bool) (Transform, byte, []byte, error) {
	if !compress {
		return newStream(dek, label)
	}
	inner, suite, nonce, err := newStream(dek, compressedLabel(label))
	if err != nil {
		return nil, 0, nil, err
	}
	return newCompressor(inner, dek, label, nonce), suite, nonce, nil
}

// openDataStream returns the transform that reads the recorded stream of
// label: decryption, with decompression when comp is set (see
// openCompressed). size is the stream's plaintext size.
func openDataStream(dek []byte, label string, suite byte, nonce []byte, comp *compRecord, size int64) (Transform, error) {
	if comp == nil {
		return openStream(dek, label, suite, nonce)
	}
	inner, err := openStream(dek, compressedLabel(label), suite, nonce)
	if err != nil {
		return nil, err
	}
	return openCompressed(inner, comp, dek, label, nonce, size)
}

// compressedLabel is the key label of the encryption stream below a
// compressed stream of label.
func compressedLabel(label string) string { return label + " s2" }

// compMACKey derives the key of a stream's compRecord MAC. The caller must
// kms.Zero it.
func compMACKey(dek []byte, label string) []byte {
	return stream.DeriveKey(dek, label+" s2 index")
}

func (r *compRecord) mac(key, nonce []byte, size int64) []byte {
	h := hmac.New(sha256.New, key)
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(size))
	binary.BigEndian.PutUint64(b[8:], uint64(r.Size))
	h.Write(nonce) // fixed length (stream.NonceBaseSize)
	h.Write(b[:])
	h.Write(r.Index)
	return h.Sum(nil)
}

// compressTransform is the Transform of an S2-compressed stream: its
// plaintext is compressed and the compressed stream goes through inner (the
// encryption stream). All its offsets and sizes are plaintext; it maps them
// to the compressed stream through the S2 index.
type compressTransform struct {
	inner Transform
	// Writing: the MAC key and the inner stream's nonce base.
	macKey, nonce []byte
	// Reading: the verified record and its loaded index.
	rec *compRecord
	idx *s2.Index
}

// newCompressor wraps inner (the encryption stream of label, with nonce
// base nonce, keyed from dek) in compression for one write: its single
// encoder's record is read with encoderComp after Close.
func newCompressor(inner Transform, dek []byte, label string, nonce []byte) Transform {
	return &compressTransform{inner: inner, macKey: compMACKey(dek, label), nonce: nonce}
}

// openCompressed wraps inner (the decrypting stream) in decompression of a
// stream of size plaintext bytes recorded with rec, once rec's MAC and
// consistency are verified (ErrCorruption otherwise).
func openCompressed(inner Transform, rec *compRecord, dek []byte, label string, nonce []byte, size int64) (Transform, error) {
	key := compMACKey(dek, label)
	ok := hmac.Equal(rec.mac(key, nonce, size), rec.MAC)
	kms.Zero(key)
	if !ok {
		return nil, fmt.Errorf("%w: compression record fails its MAC", ErrCorruption)
	}
	idx := new(s2.Index)
	if _, err := idx.Load(s2.RestoreIndexHeaders(rec.Index)); err != nil {
		return nil, fmt.Errorf("%w: compression index: %v", ErrCorruption, err)
	}
	if idx.TotalUncompressed != size || idx.TotalCompressed != rec.Size {
		return nil, fmt.Errorf("%w: compression index disagrees with the recorded sizes", ErrCorruption)
	}
	return &compressTransform{inner: inner, rec: rec, idx: idx}, nil
}

func (t *compressTransform) NewEncoder(w io.Writer) (io.WriteCloser, error) {
	if t.rec != nil {
		return nil, errors.New("object: compressTransform opened for reading cannot encode")
	}
	iw, err := t.inner.NewEncoder(w)
	if err != nil {
		return nil, err
	}
	enc := &compEncoder{t: t, inner: iw}
	enc.s2 = s2.NewWriter(&enc.counted, s2.WriterConcurrency(1), s2.WriterBlockSize(compressBlockSize))
	enc.counted.w = iw
	return enc, nil
}

// StoredSize is the stored size of the recorded stream (size must be its
// plaintext size); before a stream is written it is unknown: -1.
func (t *compressTransform) StoredSize(size int64) int64 {
	if t.rec == nil {
		return -1
	}
	return t.inner.StoredSize(t.rec.Size)
}

func (t *compressTransform) StoredRange(off, length, size int64) (int64, int64) {
	if t.rec == nil {
		return 0, 0 // not written yet
	}
	cOff, cLen, _, err := t.locate(off, length)
	if err != nil {
		cOff, cLen = 0, t.rec.Size // NewDecoder reports the error
	}
	return t.inner.StoredRange(cOff, cLen, t.rec.Size)
}

func (t *compressTransform) NewDecoder(r io.Reader, off, length, size int64) (io.Reader, error) {
	cOff, cLen, pOff, err := t.locate(off, length)
	if err != nil {
		return nil, err
	}
	inner, err := t.inner.NewDecoder(r, cOff, cLen, t.rec.Size)
	if err != nil {
		return nil, err
	}
	var opts []s2.ReaderOption
	if cOff > 0 {
		opts = append(opts, s2.ReaderIgnoreStreamIdentifier())
	}
	return &compDecoder{r: s2.NewReader(inner, opts...), skip: off - pOff, left: length}, nil
}

// locate maps the plaintext range [off, off+length) to the compressed range
// [cOff, cOff+cLen) of whole S2 blocks that covers it; pOff is the plaintext
// offset at which that compressed range starts.
func (t *compressTransform) locate(off, length int64) (cOff, cLen, pOff int64, err error) {
	if t.rec == nil || off < 0 || length < 0 || off+length > t.idx.TotalUncompressed {
		return 0, 0, 0, fmt.Errorf("%w: range outside the compressed stream", ErrCorruption)
	}
	if cOff, pOff, err = t.idx.Find(off); err != nil {
		return 0, 0, 0, fmt.Errorf("%w: compression index: %v", ErrCorruption, err)
	}
	// The range ends where the block after the one holding its last byte
	// starts, when the index records that block; else at the stream's end.
	cEnd := t.rec.Size
	_, lastStart, err := t.idx.Find(max(off, off+length-1))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: compression index: %v", ErrCorruption, err)
	}
	if next := lastStart + compressBlockSize; next < t.idx.TotalUncompressed {
		if c, u, err := t.idx.Find(next); err == nil && u == next {
			cEnd = c
		}
	}
	if cOff < 0 || cEnd < cOff || cEnd > t.rec.Size || pOff > off {
		return 0, 0, 0, fmt.Errorf("%w: compression index out of order", ErrCorruption)
	}
	return cOff, cEnd - cOff, pOff, nil
}

// compEncoder compresses into the inner encoder and, on Close, records the
// compressed size and the index.
type compEncoder struct {
	t       *compressTransform
	s2      *s2.Writer
	inner   io.WriteCloser
	counted countingWriter
	n       int64 // plaintext bytes written
	rec     *compRecord
}

func (e *compEncoder) Write(p []byte) (int, error) {
	n, err := e.s2.Write(p)
	e.n += int64(n)
	return n, err
}

func (e *compEncoder) Close() error {
	if e.rec != nil {
		return nil
	}
	idx, err := e.s2.CloseIndex()
	if err != nil {
		return err
	}
	if err := e.inner.Close(); err != nil {
		return err
	}
	// The index aliases the writer's 1 MiB buffer: keep a copy.
	rec := &compRecord{Size: e.counted.n, Index: bytes.Clone(s2.RemoveIndexHeaders(idx))}
	if rec.Index == nil {
		return errors.New("object: s2 produced an index without headers")
	}
	rec.MAC = rec.mac(e.t.macKey, e.t.nonce, e.n)
	kms.Zero(e.t.macKey) // a write transform encodes one stream
	e.rec = rec
	return nil
}

// compression returns the stream's record; nil before Close.
func (e *compEncoder) compression() *compRecord { return e.rec }

// encoderComp returns the compression record of a closed encoder, nil when
// the encoder does not compress.
func encoderComp(enc io.WriteCloser) *compRecord {
	if c, ok := enc.(interface{ compression() *compRecord }); ok {
		return c.compression()
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// compDecoder returns length plaintext bytes from an S2 stream after
// skipping skip bytes. A stream that does not decode, or ends early, is
// ErrCorruption: wrong bytes are never returned.
type compDecoder struct {
	r    *s2.Reader
	skip int64
	left int64
}

func (d *compDecoder) Read(p []byte) (int, error) {
	if d.skip > 0 {
		// Read, not Skip: Skip does not check the CRC of what it skips.
		if _, err := io.CopyN(io.Discard, d.r, d.skip); err != nil {
			return 0, compErr(err)
		}
		d.skip = 0
	}
	if d.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.r.Read(p)
	d.left -= int64(n)
	if err == io.EOF && d.left == 0 {
		err = nil
	}
	if err != nil {
		return n, compErr(err)
	}
	return n, nil
}

// compErr maps decompression failures (and a stream ending early) to
// ErrCorruption; errors from below pass unchanged.
func compErr(err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, s2.ErrCorrupt), errors.Is(err, s2.ErrCRC),
		errors.Is(err, s2.ErrTooLarge), errors.Is(err, s2.ErrUnsupported):
		return fmt.Errorf("%w: compressed stream: %v", ErrCorruption, err)
	}
	return err
}
