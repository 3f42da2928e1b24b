package erasure

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// testEnv is a set of local drives in temp dirs, each behind a FaultFS.
type testEnv struct {
	dirs    []string
	faults  []*FaultFS
	drives  []Drive
	corrupt atomic.Int64 // OnCorrupt calls
}

func newEnv(t testing.TB, n int) *testEnv {
	t.Helper()
	e := &testEnv{}
	base := t.TempDir()
	for i := range n {
		dir := filepath.Join(base, "d"+string(rune('a'+i)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		e.dirs = append(e.dirs, dir)
	}
	e.rebuild()
	return e
}

// rebuild recreates the FaultFS and Drive values from e.dirs (after the
// test reordered or replaced dirs).
func (e *testEnv) rebuild() {
	e.faults, e.drives = nil, nil
	for _, dir := range e.dirs {
		ffs := NewFaultFS(DirFS(dir))
		e.faults = append(e.faults, ffs)
		e.drives = append(e.drives, NewLocalDrive(ffs, dir))
	}
}

func (e *testEnv) open(t testing.TB, opts Options) *Set {
	t.Helper()
	if opts.OnCorrupt == nil {
		opts.OnCorrupt = func(string) { e.corrupt.Add(1) }
	}
	s, err := OpenSet(e.drives, opts)
	if err != nil {
		t.Fatalf("OpenSet: %v", err)
	}
	return s
}

// shardPath returns the committed shard file of id on drive i.
func (e *testEnv) shardPath(i int, id string) string {
	return filepath.Join(e.dirs[i], "objects", id[:2], id)
}

// flipByte flips one byte of drive i's committed shard of id at off.
func (e *testEnv) flipByte(t testing.TB, i int, id string, off int64) {
	t.Helper()
	f, err := os.OpenFile(e.shardPath(i, id), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	return b
}

// put writes and commits an object, writing in uneven chunks.
func put(t testing.TB, s *Set, id string, data []byte, rng *rand.Rand) {
	t.Helper()
	w, err := s.NewWriter(id)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	for p := data; len(p) > 0; {
		c := min(len(p), 1+rng.Intn(3*s.BlockSize()/2+1))
		if _, err := w.Write(p[:c]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		p = p[c:]
	}
	n, err := w.Close()
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Close = %d, %v; want %d", n, err, len(data))
	}
	if err := s.Commit(id); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// get reads [off, off+length) of an object; on error it returns the bytes
// read before the error.
func get(s *Set, id string, size, off, length int64) ([]byte, error) {
	r, err := s.NewReader(id, size, off, length)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// Small reads exercise the block-boundary logic of Read.
	var out bytes.Buffer
	buf := make([]byte, 7919)
	for {
		n, err := r.Read(buf)
		out.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
	}
}

// checkRead asserts that the range reads back exactly.
func checkRead(t testing.TB, s *Set, id string, data []byte, off, length int64) {
	t.Helper()
	got, err := get(s, id, int64(len(data)), off, length)
	if err != nil {
		t.Fatalf("read %s [%d,+%d) of %d: %v", id, off, length, len(data), err)
	}
	if !bytes.Equal(got, data[off:off+length]) {
		t.Fatalf("read %s [%d,+%d) of %d: wrong bytes", id, off, length, len(data))
	}
}

// tempFiles counts the files left in the drives' tmp dirs.
func (e *testEnv) tempFiles(t testing.TB) int {
	t.Helper()
	c := 0
	for _, dir := range e.dirs {
		ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		c += len(ents)
	}
	return c
}
