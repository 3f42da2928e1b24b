package metadata

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkApplyParallel measures synced Apply throughput of a Replicated
// over 4 pebble replicas with 16 concurrent writers of 4 KiB values.
func BenchmarkApplyParallel(b *testing.B) {
	base := b.TempDir()
	var stores []Store
	for i := range 4 {
		stores = append(stores, openPebble(b, filepath.Join(base, fmt.Sprint(i))))
	}
	r, err := NewReplicated(stores, 3)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	benchApplyParallel(b, r)
}

// BenchmarkApplyParallelPebble is the same load on a single *Pebble, for
// comparison.
func BenchmarkApplyParallelPebble(b *testing.B) {
	p := openPebble(b, b.TempDir())
	defer p.Close()
	benchApplyParallel(b, p)
}

func benchApplyParallel(b *testing.B, s Store) {
	value := make([]byte, 4096)
	var ctr atomic.Int64
	b.SetParallelism((16 + testingProcs() - 1) / testingProcs())
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		batch := NewBatch()
		for pb.Next() {
			batch.Reset()
			batch.Set(fmt.Appendf(nil, "o/bucket\x00obj%09d", ctr.Add(1)), value)
			if err := s.Apply(batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "applies/s")
}

// BenchmarkIterate1M loads 1,000,000 keys of one prefix into a *Pebble and
// measures a seek to a random key followed by iterating 1,000 keys.
func BenchmarkIterate1M(b *testing.B) {
	const total, span = 1_000_000, 1000
	p := openPebble(b, b.TempDir())
	defer p.Close()
	start := time.Now()
	value := make([]byte, 200)
	batch := NewBatch()
	for i := range total {
		batch.Set(fmt.Appendf(nil, "o/bucket\x00prefix/obj%07d", i), value)
		if batch.Len() == 10_000 {
			if err := p.applyNoSync(batch); err != nil {
				b.Fatal(err)
			}
			batch.Reset()
		}
	}
	if err := p.Apply(batch); err != nil { // syncs the WAL for all of it
		b.Fatal(err)
	}
	if err := p.db.Flush(); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d keys in %v", total, time.Since(start))

	// The loading above runs once: a benchmark with sub-benchmarks is not
	// re-run to calibrate b.N.
	b.Run("seek+1000", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		lower, upper := []byte("o/bucket\x00prefix/"), []byte("o/bucket\x00prefix0")
		keys := 0
		for range b.N {
			it, err := p.NewIter(lower, upper)
			if err != nil {
				b.Fatal(err)
			}
			seek := fmt.Appendf(nil, "o/bucket\x00prefix/obj%07d", rng.IntN(total-span))
			n := 0
			for ok := it.SeekGE(seek); ok && n < span; ok = it.Next() {
				n++
			}
			if err := it.Close(); err != nil {
				b.Fatal(err)
			}
			if n != span {
				b.Fatalf("iterated %d keys, want %d", n, span)
			}
			keys += n
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(keys), "ns/key")
	})
}

// testingProcs returns GOMAXPROCS, which RunParallel multiplies by the
// parallelism.
func testingProcs() int { return runtime.GOMAXPROCS(0) }
