package erasure

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// damage kinds applied to one drive's shard of an object.
const (
	dmgRemove    = iota // shard file deleted
	dmgFlip             // one byte flipped on disk (hash or data)
	dmgTruncate         // file cut short
	dmgBitrot           // every read of the file returns a flipped byte (FaultFS)
	dmgReadError        // every read of the file fails (FaultFS)
	dmgKinds
)

// damageDrive damages drive i's shard of id and returns whether the damage
// is detectable by any full read (a flip in a piece that the read does not
// use, e.g. in a parity shard, is only found by Heal).
func damageDrive(t *testing.T, e *testEnv, rng *rand.Rand, i int, id string, kind int) {
	t.Helper()
	path := e.shardPath(i, id)
	switch kind {
	case dmgRemove:
		must(t, os.Remove(path))
	case dmgFlip:
		st, err := os.Stat(path)
		must(t, err)
		if st.Size() == 0 {
			must(t, os.Remove(path))
			return
		}
		e.flipByte(t, i, id, rng.Int63n(st.Size()))
	case dmgTruncate:
		st, err := os.Stat(path)
		must(t, err)
		must(t, os.Truncate(path, st.Size()/2))
		if st.Size() == 0 {
			must(t, os.Remove(path))
		}
	case dmgBitrot:
		e.faults[i].SetBitrot(func(name string) bool { return strings.HasSuffix(name, id) })
	case dmgReadError:
		e.faults[i].SetInject(func(op, name string) error {
			if op == OpRead && strings.HasSuffix(name, id) {
				return errors.New("EIO")
			}
			return nil
		})
	}
}

func (e *testEnv) clearFaults() {
	for _, f := range e.faults {
		f.Reset()
	}
}

// TestRandomFailures damages up to m drives (reads are byte-exact) and more
// than m drives (reads fail or are byte-exact; never wrong bytes).
func TestRandomFailures(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	for seed := range seeds {
		rng := rand.New(rand.NewSource(int64(seed)))
		n := []int{4, 5, 6, 8, 16}[rng.Intn(5)]
		bs := 1024 + rng.Intn(8192)
		t.Run(fmt.Sprintf("seed=%d/n=%d/bs=%d", seed, n, bs), func(t *testing.T) {
			e := newEnv(t, n)
			s := e.open(t, Options{BlockSize: bs})
			m := s.ParityShards()
			size := rng.Intn(5 * bs)
			data := randBytes(rng, size)
			put(t, s, "obj", data, rng)

			over := rng.Intn(3) == 0
			nbad := rng.Intn(m + 1)
			if over {
				nbad = m + 1 + rng.Intn(n-m)
			}
			before := e.corrupt.Load()
			visible := false // damage a full read must notice
			for _, i := range rng.Perm(n)[:nbad] {
				kind := rng.Intn(dmgKinds)
				damageDrive(t, e, rng, i, "obj", kind)
				// Missing or short files are seen when opened; bad
				// content only when the piece is read (data shards).
				switch {
				case kind == dmgRemove || kind == dmgTruncate || (kind == dmgFlip && size == 0):
					visible = true
				case size > 0 && i < s.DataShards():
					visible = true
				}
			}
			got, err := get(s, "obj", int64(size), 0, int64(size))
			if !bytes.Equal(got, data[:len(got)]) {
				t.Fatalf("%d bad drives: wrong bytes returned", nbad)
			}
			switch {
			case !over && err != nil:
				t.Fatalf("%d bad drives (m=%d): %v", nbad, m, err)
			case !over && len(got) != size:
				t.Fatalf("short read %d of %d", len(got), size)
			case over && err == nil && len(got) != size:
				t.Fatalf("short read without error")
			case err != nil && !errors.Is(err, ErrReadQuorum):
				t.Fatalf("error %v does not wrap ErrReadQuorum", err)
			}
			if visible && e.corrupt.Load() == before {
				t.Fatalf("OnCorrupt not called")
			}
			for range 5 {
				off := rng.Int63n(int64(size) + 1)
				length := rng.Int63n(int64(size) - off + 1)
				got, err := get(s, "obj", int64(size), off, length)
				if !bytes.Equal(got, data[off:off+int64(len(got))]) {
					t.Fatalf("range [%d,+%d): wrong bytes", off, length)
				}
				if !over && (err != nil || int64(len(got)) != length) {
					t.Fatalf("range [%d,+%d): %d bytes, %v", off, length, len(got), err)
				}
			}
			if over {
				return
			}
			// Heal repairs everything; then any m drives may go.
			e.clearFaults()
			if _, err := s.Heal("obj", int64(size)); err != nil {
				t.Fatalf("Heal: %v", err)
			}
			if res, err := s.Heal("obj", int64(size)); err != nil || len(res.Bad) != 0 {
				t.Fatalf("second Heal: %+v, %v", res, err)
			}
			for _, i := range rng.Perm(n)[:m] {
				must(t, e.drives[i].Remove("obj"))
			}
			checkRead(t, s, "obj", data, 0, int64(size))
		})
	}
}

// TestTooManyCorrupt: every piece of m+1 drives rots; reads fail with
// ErrReadQuorum and ErrCorruption and return no byte of a damaged block.
func TestTooManyCorrupt(t *testing.T) {
	for _, n := range []int{4, 8} {
		e := newEnv(t, n)
		s := e.open(t, Options{BlockSize: 4096})
		rng := rand.New(rand.NewSource(int64(n)))
		data := randBytes(rng, 3*4096+5)
		put(t, s, "rot", data, rng)
		for i := range s.ParityShards() + 1 {
			e.faults[i].SetBitrot(func(string) bool { return true })
		}
		got, err := get(s, "rot", int64(len(data)), 0, int64(len(data)))
		if !errors.Is(err, ErrReadQuorum) || !errors.Is(err, ErrCorruption) || len(got) != 0 {
			t.Fatalf("n=%d: %d bytes, err %v", n, len(got), err)
		}
		if _, err := s.Heal("rot", int64(len(data))); !errors.Is(err, ErrReadQuorum) || !errors.Is(err, ErrCorruption) {
			t.Fatalf("Heal: %v", err)
		}
		// Missing (not corrupt) files: ErrReadQuorum without ErrCorruption.
		e.clearFaults()
		for i := range s.ParityShards() + 1 {
			must(t, e.drives[i].Remove("rot"))
		}
		if _, err := s.NewReader("rot", int64(len(data)), 0, 1); !errors.Is(err, ErrReadQuorum) || errors.Is(err, ErrCorruption) {
			t.Fatalf("missing: %v", err)
		}
	}
}
