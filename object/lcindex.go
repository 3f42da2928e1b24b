package object

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/cofferstore/coffer/metadata"
)

// The lifecycle indexes (see docs/on-disk-format.md). They are written in
// the same metadata batch as the change they index, so the scheduler finds
// due items without walking the namespace:
//
//	A<bucket>\0<mtime BE8><key>\0<vsort>        every version, by modification time
//	O<bucket>\0<since BE8><key>\0<vsort>        noncurrent versions, by when they stopped being current
//	M<bucket>\0<initiated BE8><key>\0<uploadID> multipart uploads, by initiation time
//	Z...                                        lifecycle scheduler state (lifecycle.go)
//
// A entries are exact: putVersion adds one, removeVersion deletes it. O
// entries are added when a newer version (or delete marker) supersedes the
// current one and removed when the version becomes current again
// (fixLatest); an O entry whose version has gone is a stale hint that the
// scheduler drops when it meets it. M entries are exact.
const (
	tagAge        = 'A'
	tagNoncurrent = 'O'
	tagUploadAge  = 'M'
	tagLifecycle  = 'Z'
)

// indexMigrationKey records that the lifecycle indexes were built for data
// written before they existed (one scan at the first start).
func indexMigrationKey() []byte {
	return []byte{tagLifecycle, 'm', 'i', 'g', 'r', 'a', 't', 'e', 'd', '1'}
}

func beTime(ns int64) []byte {
	if ns < 0 {
		ns = 0
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ns))
	return b[:]
}

// timeIndexKey is tag bucket \0 BE8(ns) key \0 suffix.
func timeIndexKey(tag byte, bucket string, ns int64, key string, suffix []byte) []byte {
	b := make([]byte, 0, 3+len(bucket)+8+len(key)+len(suffix))
	b = append(b, tag)
	b = append(b, bucket...)
	b = append(b, 0)
	b = append(b, beTime(ns)...)
	b = append(b, key...)
	b = append(b, 0)
	return append(b, suffix...)
}

// timeIndexBound is the first key of a bucket's time index after time ns
// (exclusive bound for "everything at or before ns").
func timeIndexBound(tag byte, bucket string, ns int64) []byte {
	b := append([]byte{tag}, bucket...)
	b = append(b, 0)
	if ns == math.MaxInt64 {
		return prefixEnd(b)
	}
	return append(b, beTime(ns+1)...)
}

// indexEntry is a decoded time-index key.
type indexEntry struct {
	at     int64
	key    string
	suffix []byte // vsort (A, O) or upload id (M)
}

// parseIndexKey decodes a time-index key of a bucket; the suffix is a vsort
// (fixed length, may hold 0 bytes) for A and O, an upload id for M.
func parseIndexKey(k []byte, bucket string) (indexEntry, error) {
	rest := k[1+len(bucket)+1:]
	if len(rest) < 9 {
		return indexEntry{}, errBadRecord
	}
	at := int64(binary.BigEndian.Uint64(rest[:8]))
	rest = rest[8:]
	var key, suf []byte
	if k[0] == tagUploadAge {
		i := bytes.LastIndexByte(rest, 0)
		if i < 0 {
			return indexEntry{}, errBadRecord
		}
		key, suf = rest[:i], rest[i+1:]
	} else {
		if len(rest) < vsortLen+1 || rest[len(rest)-vsortLen-1] != 0 {
			return indexEntry{}, errBadRecord
		}
		key, suf = rest[:len(rest)-vsortLen-1], rest[len(rest)-vsortLen:]
	}
	return indexEntry{at: at, key: string(key), suffix: bytes.Clone(suf)}, nil
}

// vsortTime is the creation time encoded in a vsort (see newVSort).
func vsortTime(vsort []byte) int64 {
	return int64(math.MaxUint64 - binary.BigEndian.Uint64(vsort[:8]))
}

func ageKey(bucket, key string, v *versionRecord) []byte {
	return timeIndexKey(tagAge, bucket, v.ModTime, key, v.VSort)
}

func noncurrentKey(bucket, key string, since int64, vsort []byte) []byte {
	return timeIndexKey(tagNoncurrent, bucket, since, key, vsort)
}

func uploadAgeKey(up *uploadRecord) []byte {
	return timeIndexKey(tagUploadAge, up.Bucket, up.Initiated, up.Key, []byte(up.ID))
}

// demoteLatest adds to b the noncurrent index entry of the key's current
// version, which newer supersedes, unless it is the version gone (being
// removed in the same batch). Called by every path that writes a new
// current version or delete marker.
func (e *Engine) demoteLatest(b *metadata.Batch, bucket, key string, newer []byte, gone *versionRecord) error {
	cur, err := e.latest(bucket, key)
	if errors.Is(err, ErrNoSuchKey) {
		return nil
	}
	if err != nil {
		return err
	}
	if bytes.Equal(cur.VSort, newer) || (gone != nil && bytes.Equal(cur.VSort, gone.VSort)) {
		return nil
	}
	b.Set(noncurrentKey(bucket, key, vsortTime(newer), cur.VSort), nil)
	return nil
}

// migrateLifecycleIndexes builds the A, O and M entries of data written
// before the indexes existed. It runs once (recorded under
// indexMigrationKey); a crash part-way repeats it, which is harmless since
// every entry it writes is idempotent.
func (e *Engine) migrateLifecycleIndexes() error {
	if _, err := e.meta.Get(indexMigrationKey()); err == nil {
		return nil
	} else if !errors.Is(err, metadata.ErrNotFound) {
		return mapErr(err)
	}
	b := metadata.NewBatch()
	n := 0
	flush := func(force bool) error {
		if n == 0 || (!force && n < 1000) {
			return nil
		}
		err := e.meta.Apply(b)
		b, n = metadata.NewBatch(), 0
		return mapErr(err)
	}
	var prevKey []byte // tag bucket \0 key of the previous version
	var prevSort []byte
	err := e.scan([]byte{tagVersion}, []byte{tagVersion + 1}, func(k, val []byte) error {
		if len(k) < vsortLen+3 {
			return nil
		}
		obj := k[:len(k)-vsortLen-1]
		vsort := k[len(k)-vsortLen:]
		i := bytes.IndexByte(obj, 0)
		if i < 0 {
			return nil
		}
		bucket, key := string(obj[1:i]), string(obj[i+1:])
		v, err := decodeVersion(val)
		if err != nil {
			e.log.Warn("lifecycle index migration: undecodable version", "bucket", bucket, "key", key, "err", err)
			return nil
		}
		b.Set(ageKey(bucket, key, v), nil)
		n++
		if bytes.Equal(obj, prevKey) {
			// Versions sort newest first: this one was superseded by the
			// previous (newer) one.
			b.Set(noncurrentKey(bucket, key, vsortTime(prevSort), vsort), nil)
			n++
		}
		prevKey, prevSort = bytes.Clone(obj), bytes.Clone(vsort)
		return flush(false)
	})
	if err != nil {
		return err
	}
	err = e.scan([]byte{tagUpload}, []byte{tagUpload + 1}, func(_, val []byte) error {
		var up uploadRecord
		if jsonUnmarshal(val, &up) != nil {
			return nil
		}
		b.Set(uploadAgeKey(&up), nil)
		n++
		return flush(false)
	})
	if err != nil {
		return err
	}
	b.Set(indexMigrationKey(), []byte(time.Now().UTC().Format(time.RFC3339)))
	n++
	return flush(true)
}
