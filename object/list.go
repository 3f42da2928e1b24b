package object

import (
	"bytes"
	"context"
	"strings"
)

// MaxListKeys is the most entries one listing page returns.
const MaxListKeys = 1000

func clampMax(n int) int {
	if n <= 0 || n > MaxListKeys {
		return MaxListKeys
	}
	return n
}

// walker performs an S3-style listing over one metadata table: keys of one
// bucket, filtered by prefix, rolled up into common prefixes at the
// delimiter. It is an index scan: after a common prefix it seeks past every
// key under it, so a page costs O(entries returned), not O(keys stored).
type walker struct {
	e         *Engine
	tag       byte
	bucket    string
	prefix    string
	delimiter string
	max       int
	// emit is called per stored entry: name is the object key, rest the
	// metadata key bytes after it. With dry set it only reports whether the
	// entry would be listed (e.g. delete markers are not, in ListObjects).
	emit func(name string, rest, value []byte, dry bool) (bool, error)

	prefixes  []string
	count     int
	truncated bool
	last      string // last key or common prefix listed
}

// run lists entries after seekAfter (nil = from the start); marker is the
// key marker, used to drop common prefixes already returned.
func (w *walker) run(marker string, seekAfter []byte) (err error) {
	base := objPrefix(w.tag, w.bucket, "")
	lower := objPrefix(w.tag, w.bucket, w.prefix)
	upper := prefixEnd(lower)
	if w.prefix == "" {
		// The end of this bucket's range: tag, bucket, 0x01.
		upper = append(bytes.Clone(base[:len(base)-1]), 1)
	}
	it, err := w.e.meta.NewIter(lower, upper)
	if err != nil {
		return mapErr(err)
	}
	defer func() {
		// I/O errors surface at Close: a listing is only complete then.
		if cerr := it.Close(); err == nil {
			err = mapErr(cerr)
		}
	}()
	var ok bool
	if seekAfter != nil && bytes.Compare(seekAfter, lower) > 0 {
		ok = it.SeekGE(seekAfter)
	} else {
		ok = it.First()
	}
	for ok {
		rest := it.Key()[len(base):]
		name := rest
		if i := bytes.IndexByte(rest, 0); i >= 0 {
			name, rest = rest[:i], rest[i:]
		} else {
			rest = nil
		}
		if w.delimiter != "" {
			after := string(name[len(w.prefix):])
			if i := strings.Index(after, w.delimiter); i >= 0 {
				cp := w.prefix + after[:i+len(w.delimiter)]
				if cp > marker {
					if w.count >= w.max {
						w.truncated = true
						return nil
					}
					w.prefixes = append(w.prefixes, cp)
					w.count++
					w.last = cp
				}
				ok = it.SeekGE(prefixEnd(objPrefix(w.tag, w.bucket, cp)))
				continue
			}
		}
		listed, err := w.emit(string(name), rest, it.Value(), w.count >= w.max)
		if err != nil {
			return err
		}
		if listed {
			if w.count >= w.max {
				w.truncated = true
				return nil
			}
			w.count++
			w.last = string(name)
		}
		ok = it.Next()
	}
	return nil
}

// ListObjects implements Layer.
func (e *Engine) ListObjects(_ context.Context, bucket string, opts ListOptions) (ListResult, error) {
	brec, err := e.bucket(bucket)
	if err != nil {
		return ListResult{}, err
	}
	var res ListResult
	w := &walker{e: e, tag: tagLatest, bucket: bucket, prefix: opts.Prefix, delimiter: opts.Delimiter, max: clampMax(opts.MaxKeys)}
	w.emit = func(name string, _, value []byte, dry bool) (bool, error) {
		v, err := decodeVersion(value)
		if err != nil {
			return false, err
		}
		if v.DeleteMarker {
			return false, nil
		}
		if !dry {
			oi := v.info(bucket, name, brec.Versioning != "")
			oi.IsLatest = true
			res.Objects = append(res.Objects, oi)
		}
		return true, nil
	}
	var seek []byte
	if opts.Marker != "" {
		seek = append(objPrefix(tagLatest, bucket, opts.Marker), 0)
	}
	if err := w.run(opts.Marker, seek); err != nil {
		return ListResult{}, err
	}
	res.CommonPrefixes, res.IsTruncated = w.prefixes, w.truncated
	if w.truncated {
		res.NextMarker = w.last
	}
	return res, nil
}

// ListObjectVersions implements Layer.
func (e *Engine) ListObjectVersions(_ context.Context, bucket string, opts ListVersionsOptions) (ListVersionsResult, error) {
	brec, err := e.bucket(bucket)
	if err != nil {
		return ListVersionsResult{}, err
	}
	var res ListVersionsResult
	var seek []byte
	midKey := ""
	if opts.KeyMarker != "" {
		switch opts.VersionIDMarker {
		case "":
			seek = append(objPrefix(tagVersion, bucket, opts.KeyMarker), 1)
		default:
			vs, err := e.markerSort(bucket, opts.KeyMarker, opts.VersionIDMarker)
			if err != nil {
				return ListVersionsResult{}, err
			}
			seek = append(versionKey(bucket, opts.KeyMarker, vs), 0)
			midKey = opts.KeyMarker
		}
	}
	lastKey, lastVersion := midKey, ""
	w := &walker{e: e, tag: tagVersion, bucket: bucket, prefix: opts.Prefix, delimiter: opts.Delimiter, max: clampMax(opts.MaxKeys)}
	w.emit = func(name string, _, value []byte, dry bool) (bool, error) {
		if dry {
			return true, nil
		}
		v, err := decodeVersion(value)
		if err != nil {
			return false, err
		}
		oi := v.info(bucket, name, true)
		if brec.Versioning == "" {
			oi.VersionID = NullVersionID
		}
		oi.IsLatest = name != lastKey
		lastKey, lastVersion = name, oi.VersionID
		res.Versions = append(res.Versions, oi)
		return true, nil
	}
	if err := w.run(opts.KeyMarker, seek); err != nil {
		return ListVersionsResult{}, err
	}
	res.CommonPrefixes, res.IsTruncated = w.prefixes, w.truncated
	if w.truncated {
		res.NextKeyMarker = w.last
		if w.last == lastKey {
			res.NextVersionIDMarker = lastVersion
		}
	}
	return res, nil
}

// markerSort resolves a version-id-marker to its sort key.
func (e *Engine) markerSort(bucket, key, id string) ([]byte, error) {
	if id == NullVersionID {
		vs, err := e.meta.Get(nullKey(bucket, key))
		if err != nil {
			return nil, ErrMalformedRequest
		}
		return vs, nil
	}
	vs, err := parseVersionID(id)
	if err != nil {
		return nil, ErrMalformedRequest
	}
	return vs, nil
}
