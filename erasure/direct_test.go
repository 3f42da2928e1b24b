package erasure

import (
	"bytes"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
)

// TestDirectShardWrites writes shard files of awkward lengths through a
// local drive and reads them back byte for byte: the aligned staging, the
// padded tail and the final truncate must leave exactly what was written.
func TestDirectShardWrites(t *testing.T) {
	root := t.TempDir()
	d := NewLocalDrive(DirFS(root), root).(*localDrive)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 16, directAlign - 1, directAlign, directAlign + 1,
		directChunk - 1, directChunk, directChunk + 17, 3*directChunk + 524304} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		id := "0123456789abcdef0123456789abcdef"
		w, err := d.CreateTemp(id)
		if err != nil {
			t.Fatal(err)
		}
		// Writes of the sizes the erasure writer uses (hash || piece) and
		// odd ones.
		for p := data; len(p) > 0; {
			n := min(len(p), 1+rng.IntN(600<<10))
			if _, err := w.Write(p[:n]); err != nil {
				t.Fatalf("size %d: write: %v", size, err)
			}
			p = p[n:]
		}
		if err := w.Sync(); err != nil {
			t.Fatalf("size %d: sync: %v", size, err)
		}
		if _, err := w.Write([]byte{1}); err == nil && w.(*localShardWriter).direct != nil {
			t.Fatalf("size %d: a write after Sync was accepted", size)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(root + "/" + tmpPath(id))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, differing content", size, len(got))
		}
	}
	if oDirect != 0 && d.noDirect.Load() {
		t.Logf("the file system under %s refused O_DIRECT: buffered fallback tested instead", root)
	}
}

// refuseDirectFS is a DirFS whose OpenFile refuses O_DIRECT as tmpfs does.
type refuseDirectFS struct{ FS }

func (f refuseDirectFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if oDirect != 0 && flag&oDirect != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EINVAL}
	}
	return f.FS.OpenFile(name, flag, perm)
}

// TestDirectFallback checks that a drive whose file system refuses
// O_DIRECT writes buffered, correctly, and stops asking.
func TestDirectFallback(t *testing.T) {
	root := t.TempDir()
	d := NewLocalDrive(refuseDirectFS{DirFS(root)}, root).(*localDrive)
	for range 2 {
		w, err := d.CreateTemp("0123456789abcdef0123456789abcdef")
		if err != nil {
			t.Fatal(err)
		}
		if w.(*localShardWriter).direct != nil {
			t.Fatal("direct writer on a file system that refuses O_DIRECT")
		}
		if _, err := w.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	if oDirect != 0 && !d.noDirect.Load() {
		t.Fatal("the drive did not remember that O_DIRECT is refused")
	}
	if got, _ := os.ReadFile(root + "/" + tmpPath("0123456789abcdef0123456789abcdef")); string(got) != "hello" {
		t.Fatalf("read back %q", got)
	}
}
