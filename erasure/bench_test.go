package erasure

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"testing"
)

// TestMemDrive runs a round trip and a reconstruction over memDrive, so
// the benchmark's drive is known to be correct.
func TestMemDrive(t *testing.T) {
	s, mems := memSet(t, 4, false)
	rng := rand.New(rand.NewSource(1))
	data := randBytes(rng, 3*DefaultBlockSize+17)
	put(t, s, "mm", data, rng)
	mems[0].Remove("mm")
	checkRead(t, s, "mm", data, 0, int64(len(data)))
	checkRead(t, s, "mm", data, DefaultBlockSize-3, 9)
	if _, err := get(s, "mm", int64(len(data)), 0, 1); err != nil {
		t.Fatal(err)
	}
	mems[1].Remove("mm")
	mems[2].Remove("mm")
	if _, err := s.NewReader("mm", int64(len(data)), 0, 1); !errors.Is(err, ErrReadQuorum) {
		t.Fatalf("err = %v", err)
	}
}

const benchObject = 16 << 20

// BenchmarkEncode: Writer throughput (split, Reed-Solomon 2+2, xxh3) into
// in-memory drives that discard the shards, 1 MiB blocks.
func BenchmarkEncode(b *testing.B) {
	s, _ := memSet(b, 4, true)
	data := randBytes(rand.New(rand.NewSource(1)), DefaultBlockSize)
	b.SetBytes(benchObject)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := s.NewWriter("bench")
		if err != nil {
			b.Fatal(err)
		}
		for range benchObject / DefaultBlockSize {
			w.Write(data)
		}
		if _, err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode: Reader throughput of the reconstruct path (data shard 0
// missing, every block rebuilt from parity), in memory, 2+2, 1 MiB blocks.
func BenchmarkDecode(b *testing.B) {
	for _, missing := range []bool{false, true} {
		b.Run(fmt.Sprintf("reconstruct=%v", missing), func(b *testing.B) {
			s, mems := memSet(b, 4, false)
			rng := rand.New(rand.NewSource(1))
			put(b, s, "bench", randBytes(rng, benchObject), rng)
			if missing {
				mems[0].Remove("bench")
			}
			buf := make([]byte, 256<<10)
			b.SetBytes(benchObject)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := s.NewReader("bench", benchObject, 0, benchObject)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.CopyBuffer(io.Discard, onlyReader{r}, buf); err != nil || n != benchObject {
					b.Fatal(n, err)
				}
				r.Close()
			}
		})
	}
}

type onlyReader struct{ io.Reader }

// BenchmarkWriter: write + fsync + commit of 1 MiB and 64 MiB objects to
// four local drives (2+2) in temp dirs.
func BenchmarkWriter(b *testing.B) {
	for _, size := range []int{1 << 20, 64 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			e := newEnv(b, 4)
			s := e.open(b, Options{})
			data := randBytes(rand.New(rand.NewSource(1)), size)
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := fmt.Sprintf("w%d", i)
				w, err := s.NewWriter(id)
				if err != nil {
					b.Fatal(err)
				}
				for p := data; len(p) > 0; p = p[min(len(p), 1<<20):] {
					w.Write(p[:min(len(p), 1<<20)])
				}
				if _, err := w.Close(); err != nil {
					b.Fatal(err)
				}
				if err := s.Commit(id); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Delete(id)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkReader: full reads of 1 MiB and 64 MiB objects from four local
// drives (2+2) in temp dirs (page cache warm).
func BenchmarkReader(b *testing.B) {
	for _, size := range []int{1 << 20, 64 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			e := newEnv(b, 4)
			s := e.open(b, Options{})
			rng := rand.New(rand.NewSource(1))
			put(b, s, "rd", randBytes(rng, size), rng)
			buf := make([]byte, 256<<10)
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := s.NewReader("rd", int64(size), 0, int64(size))
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.CopyBuffer(io.Discard, onlyReader{r}, buf); err != nil || n != int64(size) {
					b.Fatal(n, err)
				}
				r.Close()
			}
		})
	}
}

func sizeName(n int) string { return fmt.Sprintf("%dMiB", n>>20) }
