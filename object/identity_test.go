package object

import "io"

// identity stores plaintext as is. It exists only so benchmarks can measure
// what the encryption stage costs; the engine never uses it.
type identity struct{}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func (identity) NewEncoder(w io.Writer) (io.WriteCloser, error) { return nopWriteCloser{w}, nil }
func (identity) StoredSize(size int64) int64                    { return size }
func (identity) StoredRange(off, length, _ int64) (int64, int64) {
	return off, length
}
func (identity) NewDecoder(r io.Reader, _, _, _ int64) (io.Reader, error) { return r, nil }
