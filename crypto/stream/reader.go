package stream

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// Reader opens the packages of a stored range and returns the requested plaintext. It holds
// one package buffer (PackageSize + TagSize bytes). A Reader is not safe for concurrent use.
type Reader struct {
	r         io.Reader
	aead      cipher.AEAD
	nonceBase [NonceBaseSize]byte
	nonce     [12]byte
	aad       [9]byte
	buf       []byte // one stored package; opened in place
	plain     []byte // verified plaintext not yet returned (a slice of buf)
	next      int64  // index of the next package to open
	last      int64  // index of the last package of the range
	final     int64  // index of the stream's final package
	finalLen  int    // plaintext length of the final package
	skip      int    // plaintext bytes to drop from the first package
	remaining int64  // plaintext bytes of the range not yet placed in plain
	err       error  // sticky; io.EOF at the end
}

// NewReader returns a reader of the plaintext range [off, off+length) of a stream of size
// plaintext bytes sealed with p. r MUST yield exactly the stored bytes of
// StoredRange(off, length, size), starting at storedOff.
//
// Every package is verified before any of its bytes are returned. A tag that does not
// verify, a package cut short, a missing package, the final flag in the wrong place (which
// also catches a wrong size) and bytes after the range's last package all fail with an
// error wrapping ErrAuth. Other errors from r are returned wrapped, not as ErrAuth, so that
// callers can tell an I/O failure from corruption. Errors are sticky.
//
// NewReader returns an error wrapping ErrRange for an invalid range, and one wrapping
// ErrParams for invalid Params. p.Key is not retained.
func NewReader(r io.Reader, p Params, off, length, size int64) (io.Reader, error) {
	first, last, ok := packageRange(off, length, size)
	if !ok {
		return nil, fmt.Errorf("%w: off %d length %d size %d", ErrRange, off, length, size)
	}
	aead, err := newAEAD(p)
	if err != nil {
		return nil, err
	}
	n := packages(size)
	return &Reader{
		r:         r,
		aead:      aead,
		nonceBase: p.NonceBase,
		buf:       make([]byte, PackageSize+TagSize),
		next:      first,
		last:      last,
		final:     n - 1,
		finalLen:  int(size - (n-1)*PackageSize),
		skip:      int(off - first*PackageSize),
		remaining: length,
	}, nil
}

// Read implements io.Reader.
func (sr *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(sr.plain) == 0 {
		if sr.err != nil {
			return 0, sr.err
		}
		sr.fill()
	}
	n := copy(p, sr.plain)
	sr.plain = sr.plain[n:]
	return n, nil
}

// WriteTo implements io.WriterTo, so io.Copy writes verified packages straight from the
// Reader's buffer.
func (sr *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(sr.plain) > 0 {
			n, err := w.Write(sr.plain)
			total += int64(n)
			sr.plain = sr.plain[n:]
			if err == nil && len(sr.plain) > 0 {
				err = io.ErrShortWrite
			}
			if err != nil {
				return total, err
			}
		}
		if sr.err == io.EOF {
			return total, nil
		}
		if sr.err != nil {
			return total, sr.err
		}
		sr.fill()
	}
}

// fill opens the next package into sr.plain, or sets sr.err (io.EOF after the range).
func (sr *Reader) fill() {
	if sr.next > sr.last {
		sr.err = sr.checkEnd()
		return
	}
	i := sr.next
	plen, final := PackageSize, i == sr.final
	if final {
		plen = sr.finalLen
	}
	stored := sr.buf[:plen+TagSize]
	if _, err := io.ReadFull(sr.r, stored); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			sr.err = fmt.Errorf("%w: package %d truncated", ErrAuth, i)
		} else {
			sr.err = fmt.Errorf("stream: reading package %d: %w", i, err)
		}
		return
	}
	nonceAAD(&sr.nonce, &sr.aad, &sr.nonceBase, uint64(i), final)
	pt, err := sr.aead.Open(stored[:0], sr.nonce[:], stored, sr.aad[:])
	if err != nil {
		sr.err = fmt.Errorf("%w: package %d", ErrAuth, i)
		return
	}
	sr.next++
	pt = pt[sr.skip:]
	sr.skip = 0
	if int64(len(pt)) > sr.remaining {
		pt = pt[:sr.remaining]
	}
	sr.remaining -= int64(len(pt))
	sr.plain = pt
}

// checkEnd verifies that r has nothing after the range's last package.
func (sr *Reader) checkEnd() error {
	var one [1]byte
	_, err := io.ReadFull(sr.r, one[:])
	switch {
	case err == nil:
		return fmt.Errorf("%w: data after package %d", ErrAuth, sr.last)
	case errors.Is(err, io.EOF):
		return io.EOF
	default:
		return fmt.Errorf("stream: reading after package %d: %w", sr.last, err)
	}
}
