package erasure

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{4, 5, 6, 8, 16} {
		for _, bs := range []int{100_003, DefaultBlockSize} {
			t.Run(fmt.Sprintf("drives=%d/bs=%d", n, bs), func(t *testing.T) {
				if bs == DefaultBlockSize && n != 4 && n != 16 && testing.Short() {
					t.Skip("short")
				}
				e := newEnv(t, n)
				s := e.open(t, Options{BlockSize: bs})
				k := s.DataShards()
				rng := rand.New(rand.NewSource(int64(n*bs + 1)))
				for j, size := range []int{0, 1, k - 1, bs - 1, bs, bs + 1, 7 * bs / 2} {
					id := fmt.Sprintf("obj-%d", j)
					data := randBytes(rng, size)
					put(t, s, id, data, rng)
					for i := range n {
						st, err := os.Stat(e.shardPath(i, id))
						if err != nil || st.Size() != ShardSize(int64(size), bs, k) {
							t.Fatalf("size %d: shard %d: %v, %v", size, i, st, err)
						}
					}
					checkRead(t, s, id, data, 0, int64(size))
					for range 8 {
						off := rng.Int63n(int64(size) + 1)
						length := rng.Int63n(int64(size) - off + 1)
						checkRead(t, s, id, data, off, length)
					}
					if size > 0 {
						checkRead(t, s, id, data, int64(size-1), 1)
					}
				}
				if got := e.corrupt.Load(); got != 0 {
					t.Fatalf("OnCorrupt called %d times on healthy drives", got)
				}
				if e.tempFiles(t) != 0 {
					t.Fatal("temp files left after commit")
				}
			})
		}
	}
}

func TestReadBeforeCommit(t *testing.T) {
	e := newEnv(t, 4)
	s := e.open(t, Options{BlockSize: 4096})
	rng := rand.New(rand.NewSource(1))
	data := randBytes(rng, 10000)
	w, err := s.NewWriter("uncommitted")
	must(t, err)
	w.Write(data)
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkRead(t, s, "uncommitted", data, 0, int64(len(data))) // served from tmp
	if ids, err := s.ListTemp(); err != nil || len(ids) != 1 || ids[0] != "uncommitted" {
		t.Fatalf("ListTemp = %v, %v", ids, err)
	}
	must(t, s.Commit("uncommitted"))
	must(t, s.Commit("uncommitted")) // idempotent
	checkRead(t, s, "uncommitted", data, 100, 5000)
	if ids, _ := s.ListTemp(); len(ids) != 0 {
		t.Fatalf("ListTemp after commit = %v", ids)
	}
	must(t, s.Delete("uncommitted"))
	must(t, s.Delete("uncommitted")) // absent is fine
	if _, err := get(s, "uncommitted", int64(len(data)), 0, 1); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("read deleted: %v", err)
	}
	if err := s.Commit("uncommitted"); !errors.Is(err, ErrWriteQuorum) {
		t.Fatalf("commit of nothing: %v", err)
	}
}

func TestAbortAndRemoveTemp(t *testing.T) {
	e := newEnv(t, 4)
	s := e.open(t, Options{BlockSize: 4096})
	w, err := s.NewWriter("aborted")
	must(t, err)
	w.Write(make([]byte, 10000))
	w.Abort()
	if _, err := w.Write([]byte{1}); err == nil {
		t.Fatal("write after abort succeeded")
	}
	if e.tempFiles(t) != 0 {
		t.Fatal("abort left temp files")
	}
	w, _ = s.NewWriter("stale")
	w.Write(make([]byte, 5))
	w.Close()
	must(t, s.RemoveTemp("stale"))
	if e.tempFiles(t) != 0 {
		t.Fatal("RemoveTemp left temp files")
	}
}

func TestInvalidArgs(t *testing.T) {
	e := newEnv(t, 4)
	s := e.open(t, Options{BlockSize: 4096})
	for _, id := range []string{"", "a", "../etc", "a/b", ".hidden", "sp ace"} {
		if _, err := s.NewWriter(id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("NewWriter(%q): %v", id, err)
		}
	}
	for _, r := range [][3]int64{{10, -1, 1}, {10, 0, 11}, {10, 11, 0}, {10, 5, 6}} {
		if _, err := s.NewReader("abc", r[0], r[1], r[2]); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("NewReader(size %d, %d, %d): %v", r[0], r[1], r[2], err)
		}
	}
	rd, err := s.NewReader("missing", 10, 10, 0) // empty range: no I/O
	must(t, err)
	if n, err := rd.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Fatalf("empty range Read = %d, %v", n, err)
	}
	rd.Close()
}

func TestReaderCloseEarly(t *testing.T) {
	e := newEnv(t, 4)
	s := e.open(t, Options{BlockSize: 1024})
	rng := rand.New(rand.NewSource(4))
	data := randBytes(rng, 20*1024)
	put(t, s, "early", data, rng)
	before := runtime.NumGoroutine()
	for range 10 {
		r, err := s.NewReader("early", int64(len(data)), 0, int64(len(data)))
		must(t, err)
		buf := make([]byte, 1500)
		if _, err := io.ReadFull(r, buf); err != nil || !bytes.Equal(buf, data[:1500]) {
			t.Fatalf("ReadFull: %v", err)
		}
		must(t, r.Close())
		if _, err := r.Read(buf); err == nil || err == io.EOF {
			t.Fatalf("Read after Close: %v", err)
		}
	}
	for i := 0; runtime.NumGoroutine() > before && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("goroutines leaked: %d > %d", n, before)
	}
}

// TestReaderNext drains random ranges with a random mix of Next (sizes that
// fit in a piece and sizes that straddle pieces and blocks) and Read, over
// healthy shards and with a data drive damaged (pieces rebuilt into the block
// buffer), and checks the bytes and the end-of-range results.
func TestReaderNext(t *testing.T) {
	type nexter interface {
		Next(int) ([]byte, error)
	}
	for _, damaged := range []bool{false, true} {
		e := newEnv(t, 4)
		s := e.open(t, Options{BlockSize: 1024})
		rng := rand.New(rand.NewSource(5))
		data := randBytes(rng, 10*1024+333)
		put(t, s, "next", data, rng)
		if damaged {
			damageDrive(t, e, rng, 0, "next", dmgBitrot) // every piece of drive 0 fails verification
		}
		for range 300 {
			off := rng.Int63n(int64(len(data)))
			length := rng.Int63n(int64(len(data)) - off + 1)
			r, err := s.NewReader("next", int64(len(data)), off, length)
			must(t, err)
			var got []byte
			for {
				var b []byte
				if rng.Intn(3) == 0 {
					buf := make([]byte, 1+rng.Intn(700))
					var n int
					n, err = r.Read(buf)
					b = buf[:n]
				} else {
					b, err = r.(nexter).Next(1 + rng.Intn(1500))
				}
				got = append(got, b...)
				if err == io.ErrUnexpectedEOF {
					if _, err = r.(nexter).Next(1); err != io.EOF {
						t.Fatalf("Next after the short end: %v, want io.EOF", err)
					}
				}
				if err == io.EOF {
					break
				}
				must(t, err)
			}
			if !bytes.Equal(got, data[off:off+length]) {
				t.Fatalf("damaged %v: range [%d,+%d): %d bytes, equal %v", damaged, off, length, len(got), bytes.Equal(got, data[off:off+length]))
			}
			must(t, r.Close())
		}
	}
}
