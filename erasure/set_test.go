package erasure

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultParity(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{3, 0}, {4, 2}, {5, 2}, {6, 3}, {7, 3}, {8, 4}, {12, 4}, {16, 4}, {17, 0},
	} {
		if got := DefaultParity(tc.n); got != tc.want {
			t.Errorf("DefaultParity(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestQuorums(t *testing.T) {
	for _, tc := range []struct{ n, parity, k, wq int }{
		{4, 0, 2, 3}, {5, 0, 3, 3}, {6, 0, 3, 4}, {8, 0, 4, 5}, {16, 0, 12, 12}, {8, 2, 6, 6}, {4, 1, 3, 3},
	} {
		s := newEnv(t, tc.n).open(t, Options{Parity: tc.parity, BlockSize: 4096})
		if s.DataShards() != tc.k || s.ParityShards() != tc.n-tc.k || s.WriteQuorum() != tc.wq || s.ReadQuorum() != tc.k {
			t.Errorf("n=%d parity=%d: k=%d m=%d wq=%d rq=%d; want k=%d wq=%d", tc.n, tc.parity,
				s.DataShards(), s.ParityShards(), s.WriteQuorum(), s.ReadQuorum(), tc.k, tc.wq)
		}
	}
}

func TestInvalidDriveCount(t *testing.T) {
	for _, n := range []int{0, 3, 17} {
		var drives []Drive
		for range n {
			drives = append(drives, NewLocalDrive(DirFS(t.TempDir()), "x"))
		}
		if _, err := OpenSet(drives, Options{}); !errors.Is(err, ErrInvalidDriveCount) {
			t.Errorf("%d drives: err = %v, want ErrInvalidDriveCount", n, err)
		}
	}
	e := newEnv(t, 4)
	if _, err := OpenSet(e.drives, Options{Parity: 3}); err == nil {
		t.Error("parity 3 of 4 drives accepted")
	}
}

func TestFormatCreateAndReopen(t *testing.T) {
	e := newEnv(t, 6)
	s := e.open(t, Options{Parity: 2, BlockSize: 8192})
	if s.DataShards() != 4 || s.BlockSize() != 8192 || len(s.Replaced()) != 0 {
		t.Fatalf("k=%d bs=%d replaced=%v", s.DataShards(), s.BlockSize(), s.Replaced())
	}
	var ids []string
	for i, dir := range e.dirs {
		data, err := os.ReadFile(filepath.Join(dir, "format.json"))
		if err != nil {
			t.Fatal(err)
		}
		var f Format
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		if f.Version != 1 || f.DeploymentID != s.DeploymentID() || f.Index != i || len(f.Drives) != 6 ||
			f.Drives[i] != f.DriveID || f.Parity != 2 || f.BlockSize != 8192 {
			t.Fatalf("drive %d format %+v", i, f)
		}
		if len(f.DeploymentID) != 36 || len(f.DriveID) != 36 {
			t.Fatalf("ids are not UUIDs: %+v", f)
		}
		ids = append(ids, f.DriveID)
		if got, err := e.drives[i].ReadFormat(); err != nil || got.DriveID != f.DriveID {
			t.Fatalf("ReadFormat = %+v, %v", got, err)
		}
	}
	if ids[0] == ids[1] {
		t.Fatal("drive ids not unique")
	}
	// Options are ignored for an existing set.
	e.rebuild()
	s2 := e.open(t, Options{Parity: 3, BlockSize: 1 << 20})
	if s2.DeploymentID() != s.DeploymentID() || s2.ParityShards() != 2 || s2.BlockSize() != 8192 {
		t.Fatalf("reopen: deployment %s parity %d bs %d", s2.DeploymentID(), s2.ParityShards(), s2.BlockSize())
	}
	if got := e.drives[0].MetaPath(); got != filepath.Join(e.dirs[0], "meta") {
		t.Fatalf("MetaPath = %q", got)
	}
	if _, err := NewLocalDrive(DirFS(t.TempDir()), "x").ReadFormat(); !errors.Is(err, ErrUnformatted) {
		t.Fatalf("blank ReadFormat: %v", err)
	}
}

func TestFormatMismatchSwapped(t *testing.T) {
	e := newEnv(t, 5)
	e.open(t, Options{})
	// Swap the directories of drives 1 and 3.
	tmp := e.dirs[1] + ".x"
	must(t, os.Rename(e.dirs[1], tmp))
	must(t, os.Rename(e.dirs[3], e.dirs[1]))
	must(t, os.Rename(tmp, e.dirs[3]))
	e.rebuild()
	_, err := OpenSet(e.drives, Options{})
	if !errors.Is(err, ErrFormatMismatch) || !strings.Contains(err.Error(), e.dirs[1]) {
		t.Fatalf("err = %v, want ErrFormatMismatch naming %s", err, e.dirs[1])
	}
	// Reordered drive list.
	e.dirs[1], e.dirs[3] = e.dirs[3], e.dirs[1]
	e.rebuild()
	e.open(t, Options{})
	e.dirs[0], e.dirs[4] = e.dirs[4], e.dirs[0]
	e.rebuild()
	if _, err := OpenSet(e.drives, Options{}); !errors.Is(err, ErrFormatMismatch) {
		t.Fatalf("reordered: err = %v", err)
	}
}

func TestFormatMismatchDeployments(t *testing.T) {
	a, b := newEnv(t, 4), newEnv(t, 4)
	a.open(t, Options{})
	b.open(t, Options{})
	mixed := append([]Drive{}, a.drives...)
	mixed[2] = b.drives[2]
	_, err := OpenSet(mixed, Options{})
	if !errors.Is(err, ErrFormatMismatch) || !strings.Contains(err.Error(), b.dirs[2]) {
		t.Fatalf("err = %v, want ErrFormatMismatch naming %s", err, b.dirs[2])
	}
	// A drive list of another size.
	c := newEnv(t, 5)
	c.open(t, Options{})
	if _, err := OpenSet(c.drives[:4], Options{}); !errors.Is(err, ErrFormatMismatch) {
		t.Fatalf("short list: err = %v", err)
	}
}

func TestWipedDriveReformatted(t *testing.T) {
	e := newEnv(t, 6)
	s := e.open(t, Options{})
	f2, _ := e.drives[2].ReadFormat()
	must(t, os.RemoveAll(e.dirs[2]))
	must(t, os.MkdirAll(e.dirs[2], 0o755))
	s2 := e.open(t, Options{})
	if got := s2.Replaced(); len(got) != 1 || got[0] != 2 || s2.DeploymentID() != s.DeploymentID() {
		t.Fatalf("Replaced = %v", got)
	}
	g, err := e.drives[2].ReadFormat()
	if err != nil || g.DriveID != f2.DriveID || g.Index != 2 || g.DeploymentID != s.DeploymentID() {
		t.Fatalf("rewritten format %+v, %v; want drive id %s", g, err, f2.DriveID)
	}
	if s3 := e.open(t, Options{}); len(s3.Replaced()) != 0 {
		t.Fatalf("Replaced after reformat = %v", s3.Replaced())
	}
}

func TestOpenSetQuorum(t *testing.T) {
	e := newEnv(t, 4)
	e.open(t, Options{})
	// Two unreadable drives of 2+2: below write quorum (3).
	for _, i := range []int{0, 1} {
		e.faults[i].SetInject(func(op, name string) error { return errors.New("dead") })
	}
	if _, err := OpenSet(e.drives, Options{}); !errors.Is(err, ErrWriteQuorum) {
		t.Fatalf("err = %v, want ErrWriteQuorum", err)
	}
	e.faults[1].SetInject(nil)
	e.open(t, Options{}) // one dead drive is fine
	// Three blank drives and one formatted: refuse to format.
	e.faults[0].SetInject(nil)
	for _, i := range []int{0, 1, 2} {
		must(t, os.Remove(filepath.Join(e.dirs[i], "format.json")))
	}
	if _, err := OpenSet(e.drives, Options{}); err == nil {
		t.Fatal("formatted 3 blank drives next to one formatted drive")
	}
	// A new set with a failing drive is refused.
	f := newEnv(t, 4)
	f.faults[3].SetInject(func(op, name string) error { return errors.New("dead") })
	if _, err := OpenSet(f.drives, Options{}); err == nil {
		t.Fatal("formatted a new set with a dead drive")
	}
}

func TestShardSize(t *testing.T) {
	for _, tc := range []struct {
		size  int64
		bs, k int
		want  int64
	}{
		{0, 1024, 2, 0},
		{1, 1024, 2, 17},
		{1024, 1024, 2, 16 + 512},
		{1025, 1024, 3, 16 + 342 + 16 + 1},
		{3584, 1024, 4, 3*(16+256) + 16 + 128},
	} {
		if got := ShardSize(tc.size, tc.bs, tc.k); got != tc.want {
			t.Errorf("ShardSize(%d, %d, %d) = %d, want %d", tc.size, tc.bs, tc.k, got, tc.want)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
