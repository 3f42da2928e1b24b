package object

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	sha256 "github.com/minio/sha256-simd"
)

// crc64NVME is the CRC-64/NVME table (reflected polynomial 0x9a6c9329ac4bc9b5,
// init and xorout all ones, as hash/crc64 applies them).
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

// newChecksum returns a hash for an S3 checksum algorithm, or an error for an
// unknown name.
func newChecksum(alg string) (hash.Hash, error) {
	switch alg {
	case ChecksumCRC32:
		return crc32.NewIEEE(), nil
	case ChecksumCRC32C:
		return crc32.New(crc32cTable), nil
	case ChecksumCRC64NVME:
		return crc64.New(crc64NVMETable), nil
	case ChecksumSHA1:
		return sha1.New(), nil
	case ChecksumSHA256:
		return sha256.New(), nil
	}
	return nil, fmt.Errorf("%w: unknown checksum algorithm %q", ErrMalformedRequest, alg)
}

// hashingReader computes the MD5 (for the ETag), and optionally the SHA-256
// and one additional checksum, of everything read through it, and counts
// bytes. It never buffers.
type hashingReader struct {
	r      io.Reader
	n      int64
	limit  int64 // expected size, -1 = unknown
	md5    hash.Hash
	sha256 hash.Hash
	extra  hash.Hash
	// deferred: Read only counts; the caller hashes with sum (see
	// copyHashed, which hashes on a second core while the data is encoded).
	deferred bool
}

// sum adds p to every digest.
func (h *hashingReader) sum(p []byte) {
	h.md5.Write(p)
	if h.sha256 != nil {
		h.sha256.Write(p)
	}
	if h.extra != nil {
		h.extra.Write(p)
	}
}

func newHashingReader(r io.Reader, size int64, wantSHA256 bool, alg string) (*hashingReader, error) {
	h := &hashingReader{r: r, limit: size, md5: md5.New()}
	if wantSHA256 {
		h.sha256 = sha256.New()
	}
	if alg != "" {
		x, err := newChecksum(alg)
		if err != nil {
			return nil, err
		}
		h.extra = x
	}
	return h, nil
}

func (h *hashingReader) Read(p []byte) (int, error) {
	if h.limit >= 0 {
		if rem := h.limit - h.n; rem <= 0 {
			// Declared size reached: the body must end here. Read on to
			// the underlying EOF so that a chunked decoder consumes (and
			// verifies) its trailers, and refuse a body that is longer.
			var one [1]byte
			n, err := h.r.Read(one[:])
			if n > 0 {
				return 0, ErrIncompleteBody
			}
			if err == nil {
				n, err = h.r.Read(one[:])
				if n > 0 || err == nil {
					return 0, ErrIncompleteBody
				}
			}
			if err != io.EOF {
				return 0, err
			}
			return 0, io.EOF
		} else if int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	n, err := h.r.Read(p)
	if n > 0 {
		if !h.deferred {
			h.sum(p[:n])
		}
		h.n += int64(n)
	}
	if err == io.EOF && h.limit >= 0 && h.n < h.limit {
		err = ErrIncompleteBody
	}
	return n, err
}

// verify checks the digests once the body has been consumed and returns the
// MD5 and the additional checksum (base64; "" when none was requested).
func (h *hashingReader) verify(expectMD5, expectSHA256 []byte, alg, expect string, trailing func() string) (md5sum []byte, checksum string, err error) {
	if h.limit >= 0 && h.n != h.limit {
		return nil, "", ErrIncompleteBody
	}
	md5sum = h.md5.Sum(nil)
	if expectMD5 != nil && subtle.ConstantTimeCompare(md5sum, expectMD5) != 1 {
		return nil, "", ErrBadDigest
	}
	if expectSHA256 != nil && subtle.ConstantTimeCompare(h.sha256.Sum(nil), expectSHA256) != 1 {
		return nil, "", ErrSHA256Mismatch
	}
	if h.extra != nil {
		checksum = base64.StdEncoding.EncodeToString(h.extra.Sum(nil))
		if expect == "" && trailing != nil {
			expect = trailing()
		}
		if expect != "" && subtle.ConstantTimeCompare([]byte(expect), []byte(checksum)) != 1 {
			return nil, "", fmt.Errorf("%w: %s", ErrChecksumMismatch, alg)
		}
	}
	return md5sum, checksum, nil
}

// compositeChecksum computes S3's checksum of checksums for a multipart
// object: the algorithm applied to the concatenated raw part checksums,
// suffixed with "-N". ok is false when a part lacks the checksum or the
// algorithm has no composite form (CRC64NVME is full-object only in S3).
func compositeChecksum(alg string, parts []partRecord) (string, bool) {
	if alg == ChecksumCRC64NVME {
		return "", false
	}
	h, err := newChecksum(alg)
	if err != nil {
		return "", false
	}
	for _, p := range parts {
		raw, err := base64.StdEncoding.DecodeString(p.Checksums[alg])
		if err != nil || len(raw) == 0 {
			return "", false
		}
		h.Write(raw)
	}
	return fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts)), true
}

// multipartETag is S3's ETag of a multipart object: the MD5 of the
// concatenated binary part MD5s, suffixed with "-N".
func multipartETag(parts []partRecord) (string, error) {
	h := md5.New()
	for _, p := range parts {
		raw, err := hex.DecodeString(p.ETag)
		if err != nil || len(raw) != md5.Size {
			return "", fmt.Errorf("%w: part %d etag", errBadRecord, p.Number)
		}
		h.Write(raw)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(parts)), nil
}

// copyChunk is the unit of copyHashed's pipeline.
const copyChunk = 1 << 20

// copyHashed copies h's remaining body to dst while a second goroutine
// computes h's digests over the same bytes, so that a single upload's MD5
// (S3's ETag, inherently sequential) runs beside encryption and erasure
// coding instead of before them. Two buffers alternate; a buffer is reused
// only after both its hash and its write finished.
func copyHashed(dst io.Writer, h *hashingReader) error {
	h.deferred = true
	defer func() { h.deferred = false }()
	work := make(chan []byte)
	done := make(chan struct{})
	go func() {
		for b := range work {
			h.sum(b)
			done <- struct{}{}
		}
	}()
	defer close(work)
	bufs := [2][]byte{make([]byte, copyChunk), make([]byte, copyChunk)}
	inflight := false
	for i := 0; ; i ^= 1 {
		n, rerr := io.ReadFull(h, bufs[i])
		if n > 0 {
			if inflight {
				<-done // the previous chunk's hash: keeps one hash in flight
			}
			work <- bufs[i][:n]
			inflight = true
			if _, err := dst.Write(bufs[i][:n]); err != nil {
				<-done
				return err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			if inflight {
				<-done
			}
			return nil
		}
		if rerr != nil {
			if inflight {
				<-done
			}
			return rerr
		}
	}
}
