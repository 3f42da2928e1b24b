package erasure

import (
	"errors"
	"sync"
	"syscall"
	"unsafe"
)

// Direct I/O. Sustained shard writes through the page cache cost the
// kernel far more CPU than the copy itself (page allocation, reclaim and
// dirty-page accounting: measured 2.65 CPU-ms per MiB against 0.16 with
// O_DIRECT on this project's test machine, docs/benchmarks.md), and the
// cached pages of freshly written shards are rarely read back soon. So a
// local drive opens temporary shard files with O_DIRECT where the file
// system supports it, and falls back to buffered writes where it does not
// (tmpfs, some overlay file systems, non-Linux systems).
//
// O_DIRECT needs the buffer address, the length and the file offset
// aligned to the device's logical block size. A shard file is a sequence
// of `hash || piece` records whose lengths are not aligned, so the writer
// stages them in an aligned buffer and writes whole aligned chunks; the
// final partial chunk is zero-padded to the alignment and the file is then
// truncated to its exact length before the fsync.

// directAlign is the alignment used for O_DIRECT buffers, lengths and
// offsets: 4096 covers 512-byte and 4 KiB logical-block devices.
const directAlign = 4096

// directChunk is the size of the aligned staging buffer of one shard
// writer (a multiple of directAlign).
const directChunk = 1 << 20

// directBufs pools aligned staging buffers so that concurrent uploads
// reuse them instead of allocating 1 MiB per drive per upload.
var directBufs = sync.Pool{New: func() any {
	b := alignedBuffer(directChunk)
	return &b
}}

// alignedBuffer returns a zeroed slice of length n whose first byte is
// directAlign-aligned.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	off := int(uintptr(unsafe.Pointer(&b[0])) & (directAlign - 1))
	if off != 0 {
		off = directAlign - off
	}
	return b[off : off+n : off+n]
}

// directUnsupported reports whether an open with O_DIRECT failed because
// the file system does not support it (rather than for another reason).
func directUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP)
}

// directWriter stages writes to a file opened with O_DIRECT in an aligned
// buffer. It is not safe for concurrent use.
type directWriter struct {
	f   File
	buf *[]byte // pooled staging buffer; nil after release
	n   int     // bytes staged in *buf
	off int64   // bytes written to f (always aligned before finish)
	// finished is set by finish: the file has its final length and
	// takes no more writes.
	finished bool
}

func newDirectWriter(f File) *directWriter {
	return &directWriter{f: f, buf: directBufs.Get().(*[]byte)}
}

// Write stages p and writes every full aligned chunk.
func (w *directWriter) Write(p []byte) (int, error) {
	if w.buf == nil || w.finished {
		return 0, errClosed
	}
	written := 0
	for len(p) > 0 {
		c := copy((*w.buf)[w.n:], p)
		w.n += c
		p = p[c:]
		written += c
		if w.n == len(*w.buf) {
			if err := w.writeOut(w.n); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

// writeOut writes the first n staged bytes (n aligned) to the file.
func (w *directWriter) writeOut(n int) error {
	m, err := w.f.Write((*w.buf)[:n])
	w.off += int64(m)
	if err == nil && m != n {
		err = errors.New("erasure: short direct write")
	}
	if err != nil {
		return err
	}
	w.n = copy(*w.buf, (*w.buf)[n:w.n])
	return nil
}

// finish writes the staged tail, zero-padded to the alignment, and
// truncates the file to the exact number of bytes written.
func (w *directWriter) finish() error {
	if w.buf == nil {
		return errClosed
	}
	if w.finished {
		return nil
	}
	w.finished = true
	if w.n == 0 {
		return nil
	}
	size := w.off + int64(w.n)
	padded := (w.n + directAlign - 1) &^ (directAlign - 1)
	clear((*w.buf)[w.n:padded])
	w.n = padded
	if err := w.writeOut(padded); err != nil {
		return err
	}
	if err := w.f.Truncate(size); err != nil {
		return err
	}
	w.off = size
	return nil
}

// release returns the staging buffer to the pool.
func (w *directWriter) release() {
	if w.buf != nil {
		directBufs.Put(w.buf)
		w.buf = nil
	}
}
