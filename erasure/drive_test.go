package erasure

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// testDrive is the conformance suite every Drive implementation must pass.
func testDrive(t *testing.T, d Drive) {
	if _, err := d.ReadFormat(); !errors.Is(err, ErrUnformatted) {
		t.Fatalf("blank ReadFormat: %v", err)
	}
	f := Format{Version: 1, DeploymentID: "dep", DriveID: "d1", Index: 1, Drives: []string{"d0", "d1", "d2", "d3"}, Parity: 2, BlockSize: 64}
	must(t, d.WriteFormat(f))
	f.Parity = 1
	must(t, d.WriteFormat(f)) // overwrite
	if got, err := d.ReadFormat(); err != nil || got.Parity != 1 || got.DriveID != "d1" {
		t.Fatalf("ReadFormat = %+v, %v", got, err)
	}

	if _, err := d.Open("nope"); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("Open missing: %v", err)
	}
	if err := d.Commit("nope"); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("Commit missing: %v", err)
	}
	must(t, d.Remove("nope"))
	must(t, d.RemoveTemp("nope"))

	write := func(id, content string) {
		w, err := d.CreateTemp(id)
		must(t, err)
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
		must(t, w.Sync())
		must(t, w.Close())
	}
	read := func(id string) string {
		r, err := d.Open(id)
		must(t, err)
		defer r.Close()
		buf := make([]byte, r.Size())
		if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		return string(buf)
	}
	write("ab1", "first")
	write("ab2", "second")
	if ids, err := d.ListTemp(); err != nil || !slices.Equal(ids, []string{"ab1", "ab2"}) {
		t.Fatalf("ListTemp = %v, %v", ids, err)
	}
	if got := read("ab1"); got != "first" { // from tmp
		t.Fatalf("read tmp = %q", got)
	}
	must(t, d.Commit("ab1"))
	must(t, d.Commit("ab1")) // already committed
	if got := read("ab1"); got != "first" {
		t.Fatalf("read committed = %q", got)
	}
	write("ab1", "replaced") // heal: new temp, commit over the old file
	if got := read("ab1"); got != "first" {
		t.Fatalf("committed file must win over temp, got %q", got)
	}
	must(t, d.Commit("ab1"))
	if got := read("ab1"); got != "replaced" {
		t.Fatalf("after recommit = %q", got)
	}
	w, err := d.CreateTemp("ab3")
	must(t, err)
	w.Write([]byte("x"))
	w.Abort()
	w.Abort()
	must(t, d.RemoveTemp("ab2"))
	if ids, err := d.ListTemp(); err != nil || len(ids) != 0 {
		t.Fatalf("ListTemp = %v, %v", ids, err)
	}
	must(t, d.Remove("ab1"))
	if _, err := d.Open("ab1"); !errors.Is(err, ErrShardNotFound) {
		t.Fatalf("Open removed: %v", err)
	}
	if _, err := d.CreateTemp("../x"); !errors.Is(err, ErrInvalidID) {
		t.Fatalf("CreateTemp(../x): %v", err)
	}
}

func TestLocalDrive(t *testing.T) {
	root := t.TempDir()
	testDrive(t, NewLocalDrive(DirFS(root), root))
	// Layout on disk.
	d := NewLocalDrive(DirFS(root), root)
	w, err := d.CreateTemp("xyz")
	must(t, err)
	must(t, w.Close())
	if _, err := os.Stat(filepath.Join(root, "tmp", "xyz")); err != nil {
		t.Fatal(err)
	}
	must(t, d.Commit("xyz"))
	for _, p := range []string{"format.json", "objects/xy/xyz"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "format.json.tmp")); !os.IsNotExist(err) {
		t.Fatal("format temp file left behind")
	}
}

func TestMemDriveConformance(t *testing.T) { testDrive(t, newMemDrive("mem", false)) }

func TestWriteFormatAtomic(t *testing.T) {
	root := t.TempDir()
	ffs := NewFaultFS(DirFS(root))
	d := NewLocalDrive(ffs, root)
	f := Format{Version: 1, DeploymentID: "dep", DriveID: "d0", Drives: []string{"d0", "d1", "d2", "d3"}, Parity: 2, BlockSize: 64}
	must(t, d.WriteFormat(f))
	for _, fault := range []func(){
		func() { ffs.SetENOSPCAfter(10) },
		func() { ffs.SetSyncError(errors.New("EIO")) },
		func() { ffs.SetInject(injectOn(OpRename, "format")) },
	} {
		ffs.Reset()
		fault()
		g := f
		g.Parity = 1
		if err := d.WriteFormat(g); err == nil {
			t.Fatal("WriteFormat succeeded under a fault")
		}
		ffs.Reset()
		if got, err := d.ReadFormat(); err != nil || got.Parity != 2 {
			t.Fatalf("after failed WriteFormat: %+v, %v", got, err)
		}
	}
	must(t, os.WriteFile(filepath.Join(root, "format.json"), []byte("{garbage"), 0o644))
	if _, err := d.ReadFormat(); err == nil || errors.Is(err, ErrUnformatted) {
		t.Fatalf("damaged format: %v", err)
	}
}
