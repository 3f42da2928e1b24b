package stream

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// Reader opens the packages of a stored range and returns the requested plaintext. Read
// uses one package buffer (PackageSize + TagSize bytes); WriteTo and WriteRuns use a run
// buffer of several packages instead. A Reader is not safe for concurrent use.
type Reader struct {
	r         io.Reader
	src       PackageSource // r, when it is one
	aead      cipher.AEAD
	nonceBase [NonceBaseSize]byte
	nonce     [12]byte
	aad       [9]byte
	buf       []byte // Read's package buffer, opened in place; allocated on first use
	plain     []byte // verified plaintext not yet returned (a slice of buf)
	next      int64  // index of the next package to open
	last      int64  // index of the last package of the range
	final     int64  // index of the stream's final package
	finalLen  int    // plaintext length of the final package
	skip      int    // plaintext bytes to drop from the first package
	remaining int64  // plaintext bytes of the range not yet placed in plain
	err       error  // sticky; io.EOF at the end
}

// PackageSource is a reader that can also hand out its next n bytes without copying them,
// as a slice valid until its next call or its Close (the erasure reader does, from its
// block buffers). At the end it returns what is left with io.ErrUnexpectedEOF, or nothing
// with io.EOF. A Reader over a PackageSource decrypts each package straight from the
// source's buffer into its own, instead of copying it in first and opening it in place.
type PackageSource interface {
	io.Reader
	Next(n int) ([]byte, error)
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
	src, _ := r.(PackageSource)
	return &Reader{
		r:         r,
		src:       src,
		aead:      aead,
		nonceBase: p.NonceBase,
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

// RunPackages is how many packages WriteTo opens into one contiguous run of plaintext
// before writing it. A run larger than a buffered writer's buffer (fasthttp's is 64 KiB)
// goes to the connection without first being copied into that buffer.
const RunPackages = 4

// RunBufferSize is the size of the run buffer WriteRuns wants: RunPackages packages plus
// room for the last one's tag.
const RunBufferSize = RunPackages*PackageSize + TagSize

// WriteTo implements io.WriterTo with a run buffer allocated for the call (see WriteRuns).
func (sr *Reader) WriteTo(w io.Writer) (int64, error) {
	return sr.WriteRuns(w, make([]byte, RunBufferSize))
}

// WriteRuns writes the rest of the range's plaintext to w, like WriteTo, using run (at
// least PackageSize+TagSize bytes; RunBufferSize for full runs) as its buffer, so that a
// caller can pool run buffers. Package i of a run is read into run at i*PackageSize and
// opened in place there, over the tag of package i-1 (verified already), or decrypted there
// from a PackageSource, so the verified plaintext of the run is contiguous and is written
// with one call, without a copy. Only packages whose tags verified are ever written; run
// holds plaintext afterwards.
func (sr *Reader) WriteRuns(w io.Writer, run []byte) (int64, error) {
	var total int64
	write := func(p []byte) error {
		n, err := w.Write(p)
		total += int64(n)
		if err == nil && n < len(p) {
			err = io.ErrShortWrite
		}
		if err != nil && (sr.err == nil || sr.err == io.EOF) {
			// The packages of p are opened and gone: the Reader cannot
			// resume after them, so the failure is sticky (also when the
			// end was already reached), never a silent gap.
			sr.err = fmt.Errorf("stream: writing plaintext: %w", err)
		}
		return err
	}
	if len(sr.plain) > 0 { // left by an earlier Read
		err := write(sr.plain)
		sr.plain = nil
		if err != nil {
			return total, err
		}
	}
	if len(run) < PackageSize+TagSize {
		return total, fmt.Errorf("stream: run buffer of %d bytes, want at least %d", len(run), PackageSize+TagSize)
	}
	perRun := (len(run) - TagSize) / PackageSize
	for sr.err == nil {
		lo, hi := -1, 0
		for i := 0; i < perRun; i++ {
			if sr.next > sr.last {
				sr.err = sr.checkEnd()
				break
			}
			pl, ph, ok := sr.open(run[i*PackageSize:])
			if !ok {
				break
			}
			if lo < 0 {
				lo = i*PackageSize + pl // only a range's first package skips bytes
			}
			hi = i*PackageSize + ph
			if ph < PackageSize {
				break // the range's last package
			}
		}
		if lo >= 0 && hi > lo {
			if err := write(run[lo:hi]); err != nil {
				return total, err
			}
		}
	}
	if sr.err == io.EOF {
		return total, nil
	}
	return total, sr.err
}

// fill opens the next package into sr.plain, or sets sr.err (io.EOF after the range).
func (sr *Reader) fill() {
	if sr.next > sr.last {
		sr.err = sr.checkEnd()
		return
	}
	if sr.buf == nil {
		sr.buf = make([]byte, PackageSize+TagSize)
	}
	if lo, hi, ok := sr.open(sr.buf); ok {
		sr.plain = sr.buf[lo:hi]
	}
}

// open reads package sr.next into buf (at least PackageSize+TagSize bytes) and opens it in
// place, or decrypts it into buf straight from a PackageSource, and returns where the
// range's plaintext lies in buf, buf[lo:hi]. On failure it sets sr.err and returns ok
// false.
func (sr *Reader) open(buf []byte) (lo, hi int, ok bool) {
	i := sr.next
	plen, final := PackageSize, i == sr.final
	if final {
		plen = sr.finalLen
	}
	var stored, dst []byte
	var err error
	if sr.src != nil {
		stored, err = sr.src.Next(plen + TagSize)
		if err == nil && len(stored) != plen+TagSize {
			err = fmt.Errorf("source returned %d bytes, want %d", len(stored), plen+TagSize)
		}
		dst = buf[:0] // out of place: stored is the source's buffer
	} else {
		stored = buf[:plen+TagSize]
		_, err = io.ReadFull(sr.r, stored)
		dst = stored[:0] // in place
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			sr.err = fmt.Errorf("%w: package %d truncated", ErrAuth, i)
		} else {
			sr.err = fmt.Errorf("stream: reading package %d: %w", i, err)
		}
		return 0, 0, false
	}
	nonceAAD(&sr.nonce, &sr.aad, &sr.nonceBase, uint64(i), final)
	pt, err := sr.aead.Open(dst, sr.nonce[:], stored, sr.aad[:])
	if err != nil {
		sr.err = fmt.Errorf("%w: package %d", ErrAuth, i)
		return 0, 0, false
	}
	sr.next++
	lo, hi = sr.skip, len(pt)
	sr.skip = 0
	if int64(hi-lo) > sr.remaining {
		hi = lo + int(sr.remaining)
	}
	sr.remaining -= int64(hi - lo)
	return lo, hi, true
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
