package erasure

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
	"testing"
)

// memDrive is an in-memory Drive for benchmarks and tests. With discard
// set it drops everything written (pure encode benchmarks).
type memDrive struct {
	name    string
	discard bool

	mu      sync.Mutex
	format  *Format
	tmp     map[string]*bytes.Buffer
	objects map[string][]byte
}

func newMemDrive(name string, discard bool) *memDrive {
	return &memDrive{name: name, discard: discard, tmp: map[string]*bytes.Buffer{}, objects: map[string][]byte{}}
}

func (d *memDrive) String() string   { return d.name }
func (d *memDrive) MetaPath() string { return "" }

func (d *memDrive) ReadFormat() (Format, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.format == nil {
		return Format{}, ErrUnformatted
	}
	return *d.format, nil
}

func (d *memDrive) WriteFormat(f Format) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.format = &f
	return nil
}

func (d *memDrive) CreateTemp(id string) (ShardWriter, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	if d.discard {
		return discardWriter{}, nil
	}
	buf := new(bytes.Buffer)
	d.mu.Lock()
	d.tmp[id] = buf
	d.mu.Unlock()
	return &memWriter{d: d, id: id, buf: buf}, nil
}

func (d *memDrive) Commit(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.tmp[id]; ok {
		d.objects[id] = b.Bytes()
		delete(d.tmp, id)
		return nil
	}
	if _, ok := d.objects[id]; ok {
		return nil
	}
	return ErrShardNotFound
}

func (d *memDrive) Open(id string) (ShardReader, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.objects[id]; ok {
		return memReader{bytes.NewReader(b)}, nil
	}
	if b, ok := d.tmp[id]; ok {
		return memReader{bytes.NewReader(bytes.Clone(b.Bytes()))}, nil
	}
	return nil, ErrShardNotFound
}

func (d *memDrive) Remove(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.objects, id)
	delete(d.tmp, id)
	return nil
}

func (d *memDrive) ListTemp() ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for id := range d.tmp {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

func (d *memDrive) RemoveTemp(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.tmp, id)
	return nil
}

type memWriter struct {
	d   *memDrive
	id  string
	buf *bytes.Buffer
}

func (w *memWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }
func (w *memWriter) Sync() error                 { return nil }
func (w *memWriter) Close() error                { return nil }
func (w *memWriter) Abort()                      { w.d.RemoveTemp(w.id) }

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) Sync() error                 { return nil }
func (discardWriter) Close() error                { return nil }
func (discardWriter) Abort()                      {}

type memReader struct{ *bytes.Reader }

func (r memReader) Close() error { return nil }

func memSet(tb testing.TB, n int, discard bool) (*Set, []*memDrive) {
	var drives []Drive
	var mems []*memDrive
	for i := range n {
		d := newMemDrive(fmt.Sprintf("mem%d", i), discard)
		drives, mems = append(drives, d), append(mems, d)
	}
	s, err := OpenSet(drives, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return s, mems
}
