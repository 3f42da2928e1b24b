package object

import "io"

// Transform is the stage between the client's byte stream and the erasure
// encoder. The encryption issue inserts compression and chunked AEAD here;
// for now the only implementation is identity.
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

// identity is the Transform that stores plaintext as is.
type identity struct{}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func (identity) NewEncoder(w io.Writer) (io.WriteCloser, error) { return nopWriteCloser{w}, nil }
func (identity) StoredSize(size int64) int64                    { return size }
func (identity) StoredRange(off, length, _ int64) (int64, int64) {
	return off, length
}
func (identity) NewDecoder(r io.Reader, _, _, _ int64) (io.Reader, error) { return r, nil }
