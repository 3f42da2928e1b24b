package erasure

import (
	"errors"
	"math/rand"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestHeal(t *testing.T) {
	for _, n := range []int{4, 6, 16} {
		e := newEnv(t, n)
		s := e.open(t, Options{BlockSize: 3000})
		m := s.ParityShards()
		rng := rand.New(rand.NewSource(int64(n)))
		data := randBytes(rng, 4*3000+123)
		put(t, s, "hh", data, rng)
		if res, err := s.Heal("hh", int64(len(data))); err != nil || len(res.Bad)+len(res.Healed) != 0 {
			t.Fatalf("healthy Heal: %+v, %v", res, err)
		}
		// Wipe drive 0's shard, corrupt one byte of the last drive's (a
		// parity shard, which reads never look at).
		must(t, os.Remove(e.shardPath(0, "hh")))
		e.flipByte(t, n-1, "hh", ShardSize(int64(len(data)), 3000, s.DataShards())-1)
		res, err := s.Heal("hh", int64(len(data)))
		if err != nil || !slices.Equal(res.Healed, []int{0, n - 1}) || !slices.Equal(res.Bad, []int{0, n - 1}) {
			t.Fatalf("Heal: %+v, %v", res, err)
		}
		if e.tempFiles(t) != 0 {
			t.Fatal("heal left temp files")
		}
		// Only the healed drives and k-2 others remain: must read exact.
		for _, i := range rng.Perm(n - 2)[:m] {
			must(t, e.drives[i+1].Remove("hh"))
		}
		checkRead(t, s, "hh", data, 0, int64(len(data)))
		checkRead(t, s, "hh", data, 2999, 3002)
	}
}

func TestHealReplacedDrive(t *testing.T) {
	e := newEnv(t, 5)
	s := e.open(t, Options{BlockSize: 1000})
	rng := rand.New(rand.NewSource(5))
	sizes := map[string]int{"a0": 0, "b1": 1, "c2": 2500}
	objs := map[string][]byte{}
	for id, size := range sizes {
		objs[id] = randBytes(rng, size)
		put(t, s, id, objs[id], rng)
	}
	must(t, os.RemoveAll(e.dirs[3]))
	must(t, os.MkdirAll(e.dirs[3], 0o755))
	s = e.open(t, Options{})
	if !slices.Equal(s.Replaced(), []int{3}) {
		t.Fatalf("Replaced = %v", s.Replaced())
	}
	for id, data := range objs {
		res, err := s.Heal(id, int64(len(data)))
		if err != nil || !slices.Equal(res.Healed, []int{3}) {
			t.Fatalf("Heal %s: %+v, %v", id, res, err)
		}
	}
	// Drive 3 now carries its shards: lose two others.
	for id, data := range objs {
		must(t, e.drives[0].Remove(id))
		must(t, e.drives[4].Remove(id))
		checkRead(t, s, id, data, 0, int64(len(data)))
	}
}

func TestHealWriteFailure(t *testing.T) {
	e := newEnv(t, 4)
	s := e.open(t, Options{BlockSize: 1000})
	rng := rand.New(rand.NewSource(9))
	data := randBytes(rng, 5000)
	put(t, s, "hw", data, rng)
	must(t, os.Remove(e.shardPath(1, "hw")))
	e.faults[1].SetENOSPCAfter(100)
	res, err := s.Heal("hw", int64(len(data)))
	if err == nil || res.Errs[1] == nil || len(res.Healed) != 0 {
		t.Fatalf("Heal with ENOSPC: %+v, %v", res, err)
	}
	if e.tempFiles(t) != 0 {
		t.Fatal("failed heal left temp files")
	}
	e.faults[1].SetENOSPCAfter(-1)
	if res, err := s.Heal("hw", int64(len(data))); err != nil || !slices.Equal(res.Healed, []int{1}) {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	// Not reconstructable: more than m shards gone.
	for i := range 3 {
		must(t, e.drives[i].Remove("hw"))
	}
	if _, err := s.Heal("hw", int64(len(data))); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("Heal of lost object: %v", err)
	}
}

func TestFaultFSWrites(t *testing.T) {
	// Failures on up to n-WriteQuorum drives: the write succeeds and reads
	// are exact; one more: ErrWriteQuorum and no temp files.
	faults := map[string]func(f *FaultFS){
		"enospc":    func(f *FaultFS) { f.SetENOSPCAfter(5000) },
		"torn":      func(f *FaultFS) { f.SetTornWriteAfter(777, errors.New("EIO")) },
		"fsync":     func(f *FaultFS) { f.SetSyncError(errors.New("fsync EIO")) },
		"create":    func(f *FaultFS) { f.SetInject(injectOn(OpOpen, "tmp/")) },
		"close":     func(f *FaultFS) { f.SetInject(injectOn(OpClose, "tmp/")) },
		"syncdir":   func(f *FaultFS) { f.SetInject(injectOn(OpSyncDir, "tmp")) },
		"writeonce": func(f *FaultFS) { f.SetInject(injectOn(OpWrite, "tmp/")) },
	}
	for name, fault := range faults {
		for _, n := range []int{4, 5, 8} {
			e := newEnv(t, n)
			s := e.open(t, Options{BlockSize: 2048})
			rng := rand.New(rand.NewSource(int64(n)))
			data := randBytes(rng, 20000)
			tolerated := n - s.WriteQuorum()
			for bad := tolerated; bad <= tolerated+1; bad++ {
				e.clearFaults()
				for _, i := range rng.Perm(n)[:bad] {
					fault(e.faults[i])
				}
				w, err := s.NewWriter("f-" + name)
				if err == nil {
					_, err = w.Write(data)
					if err == nil {
						_, err = w.Close()
					}
				}
				if bad > tolerated {
					if !errors.Is(err, ErrWriteQuorum) {
						t.Fatalf("%s n=%d bad=%d: err %v, want ErrWriteQuorum", name, n, bad, err)
					}
					if c := e.tempFiles(t); c != 0 {
						t.Fatalf("%s n=%d bad=%d: %d temp files left", name, n, bad, c)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s n=%d bad=%d: %v", name, n, bad, err)
				}
				if len(w.Failed()) != bad {
					t.Fatalf("%s: Failed = %v, want %d drives", name, w.Failed(), bad)
				}
				e.clearFaults()
				must(t, s.Commit("f-"+name))
				checkRead(t, s, "f-"+name, data, 0, int64(len(data)))
				if res, err := s.Heal("f-"+name, int64(len(data))); err != nil || len(res.Healed) != bad {
					t.Fatalf("%s: Heal %+v, %v", name, res, err)
				}
			}
		}
	}
}

func injectOn(op, prefix string) func(string, string) error {
	return func(o, name string) error {
		if o == op && strings.HasPrefix(name, prefix) {
			return errors.New("injected " + op)
		}
		return nil
	}
}

func TestHealCommitsLeftoverTemp(t *testing.T) {
	e := newEnv(t, 4)
	s := e.open(t, Options{BlockSize: 1000})
	rng := rand.New(rand.NewSource(2))
	data := randBytes(rng, 2500)
	w, err := s.NewWriter("lt")
	must(t, err)
	w.Write(data)
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	must(t, e.drives[0].Commit("lt")) // Set.Commit reached only drive 0
	checkRead(t, s, "lt", data, 0, 2500)
	if res, err := s.Heal("lt", 2500); err != nil || len(res.Bad) != 0 {
		t.Fatalf("Heal: %+v, %v", res, err)
	}
	if e.tempFiles(t) != 0 {
		t.Fatal("Heal did not commit leftover temps")
	}
	checkRead(t, s, "lt", data, 0, 2500)
}
