package object

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cofferstore/coffer/crypto/kms"
	"github.com/cofferstore/coffer/metadata"
)

// latest returns the current version record of key (without inline data),
// ErrNoSuchKey if there is none.
func (e *Engine) latest(bucket, key string) (*versionRecord, error) {
	raw, err := e.meta.Get(latestKey(bucket, key))
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, ErrNoSuchKey
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return decodeVersion(raw)
}

// versionBySort returns the full record of one version.
func (e *Engine) versionBySort(bucket, key string, vsort []byte) (*versionRecord, error) {
	raw, err := e.meta.Get(versionKey(bucket, key, vsort))
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, ErrNoSuchVersion
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return decodeVersion(raw)
}

// nullVersion returns the key's null version, ErrNoSuchVersion if none.
func (e *Engine) nullVersion(bucket, key string) (*versionRecord, error) {
	vs, err := e.meta.Get(nullKey(bucket, key))
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, ErrNoSuchVersion
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return e.versionBySort(bucket, key, vs)
}

// resolve returns the full record addressed by versionID ("" = current).
func (e *Engine) resolve(bucket, key, versionID string) (*versionRecord, error) {
	switch versionID {
	case "":
		cur, err := e.latest(bucket, key)
		if err != nil {
			return nil, err
		}
		if cur.DeleteMarker || !cur.Inline {
			return cur, nil
		}
		return e.versionBySort(bucket, key, cur.VSort) // inline data lives in V
	case NullVersionID:
		return e.nullVersion(bucket, key)
	}
	vs, err := parseVersionID(versionID)
	if err != nil {
		return nil, err
	}
	return e.versionBySort(bucket, key, vs)
}

// info converts a record to ObjectInfo. versioned says whether the bucket
// has ever had versioning configured (else version ids are not reported).
func (v *versionRecord) info(bucket, key string, versioned bool) ObjectInfo {
	oi := ObjectInfo{
		Bucket: bucket, Key: key, DeleteMarker: v.DeleteMarker, Size: v.Size,
		ModTime: time.Unix(0, v.ModTime).UTC(), ETag: v.ETag,
		ContentType: v.ContentType, ContentEncoding: v.ContentEnc,
		ContentDisposition: v.ContentDisp, ContentLanguage: v.ContentLang,
		CacheControl: v.CacheControl, Expires: v.Expires, UserMeta: v.UserMeta,
		Tags: v.Tags, ACL: v.ACL, StorageClass: v.StorageClass, Owner: v.Owner,
		Checksums: v.Checksums, Encryption: v.Enc.info(), Lock: v.Lock,
	}
	if oi.StorageClass == "" {
		oi.StorageClass = "STANDARD"
	}
	if versioned {
		oi.VersionID = v.versionID()
	}
	if len(v.Parts) > 0 {
		oi.PartsCount = len(v.Parts)
		for _, p := range v.Parts {
			oi.Parts = append(oi.Parts, ObjectPart{Number: p.Number, Size: p.Size, ETag: p.ETag, Checksums: p.Checksums})
		}
	}
	return oi
}

// lookup resolves a version for reading and fills IsLatest.
func (e *Engine) lookup(bucket, key, versionID string) (*versionRecord, ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, ObjectInfo{}, ErrNoSuchKey
	}
	brec, err := e.bucket(bucket)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	v, err := e.resolve(bucket, key, versionID)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	if err := e.openVersion(context.Background(), v, bucket, key); err != nil {
		return nil, ObjectInfo{}, err
	}
	info := v.info(bucket, key, brec.Versioning != "")
	if versionID == "" {
		info.IsLatest = true
	} else if cur, err := e.latest(bucket, key); err == nil {
		info.IsLatest = bytes.Equal(cur.VSort, v.VSort)
	}
	if v.DeleteMarker {
		if versionID != "" {
			return nil, info, ErrMethodNotAllowed
		}
		return nil, info, ErrNoSuchKey
	}
	return v, info, nil
}

// HeadObject implements Layer.
func (e *Engine) HeadObject(_ context.Context, bucket, key string, opts GetOptions) (ObjectInfo, error) {
	v, info, err := e.lookup(bucket, key, opts.VersionID)
	if err != nil {
		return info, err
	}
	if !opts.MetadataOnly {
		if err := checkCustomerKey(v.Enc, opts.CustomerKey); err != nil {
			return info, err
		}
	}
	if opts.PartNumber > 0 {
		if _, _, err := partRange(v, opts.PartNumber); err != nil {
			return info, err
		}
	}
	return info, nil
}

// partRange returns the plaintext byte range of part n.
func partRange(v *versionRecord, n int) (off, length int64, err error) {
	if len(v.Parts) == 0 {
		if n != 1 {
			return 0, 0, ErrInvalidPartNumber
		}
		return 0, v.Size, nil
	}
	for _, p := range v.Parts {
		if p.Number == n {
			return off, p.Size, nil
		}
		off += p.Size
	}
	return 0, 0, ErrInvalidPartNumber
}

// GetObject implements Layer.
func (e *Engine) GetObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, io.ReadCloser, error) {
	v, info, err := e.lookup(bucket, key, opts.VersionID)
	if err != nil {
		return info, nil, err
	}
	if err := checkCustomerKey(v.Enc, opts.CustomerKey); err != nil {
		return info, nil, err
	}
	off, length := int64(0), v.Size
	if opts.PartNumber > 0 {
		if off, length, err = partRange(v, opts.PartNumber); err != nil {
			return info, nil, err
		}
	}
	if opts.Range != nil {
		if off, length, err = opts.Range.Resolve(v.Size); err != nil {
			return info, nil, err
		}
	}
	rc, err := e.open(ctx, v, bucket, key, opts.CustomerKey, off, length)
	return info, rc, err
}

// open returns a reader over [off, off+length) of a version's plaintext,
// decrypting with the version's data key (ck is its SSE-C key, if any).
func (e *Engine) open(ctx context.Context, v *versionRecord, bucket, key string, ck []byte, off, length int64) (io.ReadCloser, error) {
	dek, err := e.openDataKey(ctx, v.Enc, ck, DefaultTenant, bucket, key)
	if err != nil {
		return nil, err
	}
	defer kms.Zero(dek)
	if length == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	if v.Inline || v.DataID != "" {
		tf, err := openDataStream(dek, objectLabel, v.Enc.Suite, v.Enc.Nonce, v.Comp, v.Size)
		if err != nil {
			return nil, err
		}
		if v.DataID != "" {
			return e.openData(tf, v.DataID, v.StoredSize, v.Size, off, length)
		}
		so, sl := tf.StoredRange(off, length, v.Size)
		if so+sl > int64(len(v.data)) {
			return nil, fmt.Errorf("%w: inline data shorter than recorded", ErrCorruption)
		}
		r, err := tf.NewDecoder(bytes.NewReader(v.data[so:so+sl]), off, length, v.Size)
		if err != nil {
			return nil, mapErr(err)
		}
		return io.NopCloser(r), nil
	}
	// Multipart: derive each overlapping part's key now (so the data key
	// can be zeroed), open the parts lazily, in order.
	var segs []func() (io.ReadCloser, error)
	pos := int64(0)
	for _, p := range v.Parts {
		pStart, pEnd := pos, pos+p.Size
		pos = pEnd
		if pEnd <= off || pStart >= off+length || p.Size == 0 {
			continue
		}
		tf, err := openDataStream(dek, partLabel(p.Number), p.Suite, p.Nonce, p.Comp, p.Size)
		if err != nil {
			return nil, err
		}
		so := max(off, pStart) - pStart
		sl := min(off+length, pEnd) - pStart - so
		p := p
		segs = append(segs, func() (io.ReadCloser, error) {
			return e.openData(tf, p.DataID, p.StoredSize, p.Size, so, sl)
		})
	}
	return &chainReader{segs: segs}, nil
}

// openData reads a plaintext range of one shard set through transform tf.
func (e *Engine) openData(tf Transform, id string, storedSize, size, off, length int64) (io.ReadCloser, error) {
	so, sl := tf.StoredRange(off, length, size)
	if so+sl > storedSize {
		return nil, fmt.Errorf("%w: data shorter than recorded", ErrCorruption)
	}
	rc, err := e.set.NewReader(id, storedSize, so, sl)
	if err != nil {
		return nil, mapErr(err)
	}
	r, err := tf.NewDecoder(rc, off, length, size)
	if err != nil {
		rc.Close()
		return nil, mapErr(err)
	}
	return &readCloser{Reader: errMapReader{r}, Closer: rc}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// WriteTo passes the inner reader's WriteTo through (see authErrReader).
func (rc *readCloser) WriteTo(w io.Writer) (int64, error) { return io.Copy(w, rc.Reader) }

// errMapReader maps lower-layer errors met mid-stream to object sentinels.
type errMapReader struct{ r io.Reader }

func (m errMapReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		err = mapErr(err)
	}
	return n, err
}

// WriteTo passes the inner reader's WriteTo through; mapErr leaves the
// writer's (connection's) errors as they are.
func (m errMapReader) WriteTo(w io.Writer) (int64, error) {
	n, err := io.Copy(w, m.r)
	return n, mapErr(err)
}

// chainReader reads segments one after another, opening each on demand so
// that at most one part's reader is open at a time.
type chainReader struct {
	segs []func() (io.ReadCloser, error)
	cur  io.ReadCloser
}

// open makes c.cur the current segment's reader, opening the next segment
// when needed; io.EOF when none is left.
func (c *chainReader) open() error {
	if c.cur != nil {
		return nil
	}
	if len(c.segs) == 0 {
		return io.EOF
	}
	rc, err := c.segs[0]()
	if err != nil {
		return err
	}
	c.cur, c.segs = rc, c.segs[1:]
	return nil
}

func (c *chainReader) Read(p []byte) (int, error) {
	for {
		if err := c.open(); err != nil {
			return 0, err
		}
		n, err := c.cur.Read(p)
		if err == io.EOF {
			c.cur.Close()
			c.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// WriteTo writes the segments in order, each through its own WriteTo.
func (c *chainReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if err := c.open(); err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
		n, err := io.Copy(w, c.cur)
		total += n
		if err != nil {
			return total, err
		}
		c.cur.Close()
		c.cur = nil
	}
}

func (c *chainReader) Close() error {
	if c.cur != nil {
		return c.cur.Close()
	}
	return nil
}

// VersionIDString formats a raw vsort as a version id.
func versionIDString(vs []byte) string { return hex.EncodeToString(vs) }
