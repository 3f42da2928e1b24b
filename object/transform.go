package object

import "io"

// Transform is the stage between the client's byte stream and the erasure
// encoder: chunked AEAD encryption (streamTransform, encrypt.go) for every
// stored byte, optionally preceded by S2 compression (compress.go).
//
// A Transform MUST let a range read map plaintext offsets to the stored
// bytes it needs (StoredRange), so that a Range GET reads only the blocks it
// needs.
type Transform interface {
	// NewEncoder wraps w: plaintext written to the result is stored to w
	// transformed. Close flushes the final package; it does not close w.
	NewEncoder(w io.Writer) (io.WriteCloser, error)
	// StoredSize is the stored size of a plaintext of size bytes.
	StoredSize(size int64) int64
	// StoredRange maps the plaintext range [off, off+length) of an object
	// of plaintext size bytes to the stored range that must be read.
	StoredRange(off, length, size int64) (storedOff, storedLength int64)
	// NewDecoder returns the plaintext range [off, off+length) given r,
	// the stored range that StoredRange returned for it.
	NewDecoder(r io.Reader, off, length, size int64) (io.Reader, error)
}
