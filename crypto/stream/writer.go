package stream

import (
	"crypto/cipher"
	"io"
)

// Writer seals a stream package by package. It holds one package buffer (PackageSize +
// TagSize bytes) and no key material beyond the AEAD's internal state. A Writer is not safe
// for concurrent use.
type Writer struct {
	w         io.Writer
	aead      cipher.AEAD
	nonceBase [NonceBaseSize]byte
	nonce     [12]byte
	aad       [9]byte
	buf       []byte // pending plaintext, cap PackageSize+TagSize
	next      uint64 // index of the next package to seal
	err       error  // sticky
	closed    bool
}

// NewWriter returns a writer that encrypts everything written to it into w in the stream
// format of p. Full packages are sealed and written to w as soon as it is known that more
// data follows them; Close seals the final package (possibly short or empty) and does not
// close w. The stored size is StoredSize of the bytes written. p.Key is not retained.
func NewWriter(w io.Writer, p Params) (io.WriteCloser, error) {
	aead, err := newAEAD(p)
	if err != nil {
		return nil, err
	}
	return &Writer{
		w:         w,
		aead:      aead,
		nonceBase: p.NonceBase,
		buf:       make([]byte, 0, PackageSize+TagSize),
	}, nil
}

// Write buffers p and seals every package that fills up and is followed by more data.
// Errors from the underlying writer are returned as they are and are sticky; after more
// than MaxSize bytes it fails with ErrTooLarge.
func (sw *Writer) Write(p []byte) (int, error) {
	if sw.err != nil {
		return 0, sw.err
	}
	if sw.closed {
		return 0, ErrClosed
	}
	total := len(p)
	for len(p) > 0 {
		if len(sw.buf) == PackageSize { // more data follows: this package is not final
			if err := sw.seal(sw.buf, false); err != nil {
				return total - len(p), err
			}
			continue
		}
		if len(sw.buf) == 0 && len(p) > PackageSize {
			// A whole non-final package in p: seal it straight into buf, no copy.
			if err := sw.seal(p[:PackageSize], false); err != nil {
				return total - len(p), err
			}
			p = p[PackageSize:]
			continue
		}
		n := copy(sw.buf[len(sw.buf):PackageSize], p)
		sw.buf = sw.buf[:len(sw.buf)+n]
		p = p[n:]
	}
	return total, nil
}

// Close seals and writes the final package. It does not close the underlying writer.
// Calling Close again returns the first call's error.
func (sw *Writer) Close() error {
	if sw.closed {
		return sw.err
	}
	sw.closed = true
	if sw.err != nil {
		return sw.err
	}
	return sw.seal(sw.buf, true)
}

// seal encrypts plaintext (sw.buf itself, or a PackageSize slice of the caller's data) as
// package sw.next into sw.buf and writes it.
func (sw *Writer) seal(plaintext []byte, final bool) error {
	if sw.next >= MaxPackages {
		sw.err = ErrTooLarge
		return sw.err
	}
	nonceAAD(&sw.nonce, &sw.aad, &sw.nonceBase, sw.next, final)
	out := sw.aead.Seal(sw.buf[:0], sw.nonce[:], plaintext, sw.aad[:])
	n, err := sw.w.Write(out)
	if err == nil && n < len(out) {
		err = io.ErrShortWrite
	}
	sw.buf = sw.buf[:0]
	if err != nil {
		sw.err = err
		return err
	}
	sw.next++
	return nil
}
