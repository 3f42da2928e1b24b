package erasure

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestDirFS(t *testing.T) {
	root := t.TempDir()
	fsys := DirFS(root)
	must(t, fsys.MkdirAll("a/b", 0o755))
	f, err := fsys.OpenFile("a/b/c", os.O_CREATE|os.O_WRONLY, 0o644)
	must(t, err)
	f.Write([]byte("hello"))
	must(t, f.Sync())
	must(t, f.Close())
	must(t, fsys.SyncDir("a/b"))
	must(t, fsys.SyncDir("."))
	must(t, fsys.Rename("a/b/c", "a/d"))
	if st, err := fsys.Stat("a/d"); err != nil || st.Size() != 5 {
		t.Fatalf("Stat = %v, %v", st, err)
	}
	if ents, err := fsys.ReadDir("a"); err != nil || len(ents) != 2 {
		t.Fatalf("ReadDir = %v, %v", ents, err)
	}
	for _, bad := range []string{"../x", "/etc/passwd", "a/../../x"} {
		if _, err := fsys.OpenFile(bad, os.O_RDONLY, 0); !errors.Is(err, os.ErrInvalid) {
			t.Errorf("OpenFile(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	must(t, fsys.Remove("a/d"))
	must(t, fsys.RemoveAll("a"))
	if _, err := os.Stat(filepath.Join(root, "a")); !os.IsNotExist(err) {
		t.Fatal("RemoveAll left a")
	}
}

func TestFaultFS(t *testing.T) {
	ffs := NewFaultFS(DirFS(t.TempDir()))
	f, err := ffs.OpenFile("x", os.O_CREATE|os.O_RDWR, 0o644)
	must(t, err)
	defer f.Close()

	// Torn write: ENOSPC after 10 bytes writes the first 10 of 16.
	ffs.SetENOSPCAfter(10)
	n, err := f.Write(bytes.Repeat([]byte{'a'}, 16))
	if n != 10 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if n, err := f.Write([]byte{1}); n != 0 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Write after limit = %d, %v", n, err)
	}
	ffs.SetENOSPCAfter(-1)
	if _, err := f.Write([]byte("b")); err != nil || ffs.Written() != 11 {
		t.Fatalf("Write = %v, written %d", err, ffs.Written())
	}

	// Sync errors.
	ffs.SetSyncError(syscall.EIO)
	if err := f.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Sync = %v", err)
	}
	if err := ffs.SyncDir("."); !errors.Is(err, syscall.EIO) {
		t.Fatalf("SyncDir = %v", err)
	}
	ffs.SetSyncError(nil)
	must(t, f.Sync())

	// Bitrot flips the first byte of reads.
	ffs.SetBitrot(func(name string) bool { return name == "x" })
	buf := make([]byte, 2)
	if _, err := f.ReadAt(buf, 9); err != nil || buf[0] != 'a'^0xff || buf[1] != 'b' {
		t.Fatalf("ReadAt = %q, %v", buf, err)
	}
	ffs.SetBitrot(nil)

	// Injection hook per op and name.
	ffs.SetInject(func(op, name string) error {
		if op == OpRename && name == "x" {
			return syscall.EROFS
		}
		return nil
	})
	if err := ffs.Rename("x", "y"); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("Rename = %v", err)
	}
	if ffs.Injections() != 5 {
		t.Fatalf("Injections = %d, want 5", ffs.Injections())
	}

	// Delay.
	ffs.Reset()
	ffs.SetDelay(20 * time.Millisecond)
	start := time.Now()
	ffs.Stat("x")
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("no delay")
	}
}

func TestSlowDriveAndOnCorruptOnce(t *testing.T) {
	e := newEnv(t, 4)
	s := e.open(t, Options{BlockSize: 1024})
	rng := rand.New(rand.NewSource(3))
	data := randBytes(rng, 10*1024)
	e.faults[2].SetDelay(time.Millisecond)
	put(t, s, "slow", data, rng)
	e.faults[2].Reset()
	// Every block of data drive 0 rots: one OnCorrupt call per reader.
	e.faults[0].SetBitrot(func(string) bool { return true })
	r, err := s.NewReader("slow", int64(len(data)), 0, int64(len(data)))
	must(t, err)
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %v", err)
	}
	if c := e.corrupt.Load(); c != 1 {
		t.Fatalf("OnCorrupt called %d times, want 1", c)
	}
}

// TestConcurrent runs writers and readers in parallel (for -race).
func TestConcurrent(t *testing.T) {
	e := newEnv(t, 6)
	s := e.open(t, Options{BlockSize: 4096})
	done := make(chan error)
	for g := range 4 {
		go func() {
			rng := rand.New(rand.NewSource(int64(g)))
			id := "c" + string(rune('a'+g))
			data := randBytes(rng, 50000)
			w, err := s.NewWriter(id)
			if err == nil {
				w.Write(data)
				_, err = w.Close()
			}
			if err == nil {
				err = s.Commit(id)
			}
			if err == nil {
				var got []byte
				got, err = get(s, id, int64(len(data)), 0, int64(len(data)))
				if err == nil && !bytes.Equal(got, data) {
					err = errors.New("wrong bytes")
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
