package object

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"sync/atomic"
	"testing"

	"github.com/cofferstore/coffer/metadata"
)

// Object-layer benchmarks on 4 temporary drives (2+2). Run with
//
//	go test -run XXX -bench . -benchtime 3s ./object/
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20, 64 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			e := newEngine(b)
			e.MakeBucket(ctx, "bench", MakeBucketOptions{})
			data := randBytes(1, size)
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := e.PutObject(ctx, "bench", fmt.Sprintf("k%d", i), bytes.NewReader(data), int64(size), PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPutParallel4K runs 16 concurrent 4 KiB writers (group commit).
func BenchmarkPutParallel4K(b *testing.B) {
	e := newEngine(b)
	e.MakeBucket(ctx, "bench", MakeBucketOptions{})
	data := randBytes(1, 4<<10)
	var n atomic.Int64
	b.SetBytes(int64(len(data)))
	b.SetParallelism(8) // 8 x GOMAXPROCS(2) = 16 writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("k%d", n.Add(1))
			if _, err := e.PutObject(ctx, "bench", k, bytes.NewReader(data), int64(len(data)), PutOptions{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

func BenchmarkGet(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20, 64 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			e := newEngine(b)
			e.MakeBucket(ctx, "bench", MakeBucketOptions{})
			data := randBytes(1, size)
			if _, err := e.PutObject(ctx, "bench", "k", bytes.NewReader(data), int64(size), PutOptions{}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, rc, err := e.GetObject(ctx, "bench", "k", GetOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		})
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	default:
		return fmt.Sprintf("%dKiB", n>>10)
	}
}

// BenchmarkList1M lists pages of 1,000 keys from random markers in a bucket
// holding 1,000,000 objects under one prefix. The objects' metadata is bulk
// loaded (records identical to what PutObject writes for empty objects).
func BenchmarkList1M(b *testing.B) {
	const total = 1_000_000
	e := newEngine(b)
	e.MakeBucket(ctx, "bench", MakeBucketOptions{})
	batch := metadata.NewBatch()
	for i := 0; i < total; i++ {
		key := fmt.Sprintf("prefix/obj%07d", i)
		v := &versionRecord{VSort: newVSort(e.now()), Null: true, ModTime: e.now().UnixNano(), ETag: "d41d8cd98f00b204e9800998ecf8427e", Inline: true}
		batch.Set(latestKey("bench", key), v.encode(false))
		batch.Set(versionKey("bench", key, v.VSort), v.encode(true))
		batch.Set(nullKey("bench", key), v.VSort)
		if batch.Len() >= 30000 || i == total-1 {
			if err := e.meta.Apply(batch); err != nil {
				b.Fatal(err)
			}
			batch = metadata.NewBatch()
		}
	}
	rng := rand.New(rand.NewSource(1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		marker := fmt.Sprintf("prefix/obj%07d", rng.Intn(total-1000))
		res, err := e.ListObjects(ctx, "bench", ListOptions{Prefix: "prefix/", Marker: marker, MaxKeys: 1000})
		if err != nil || len(res.Objects) != 1000 {
			b.Fatalf("list: %v, %d objects", err, len(res.Objects))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/page")
}

// BenchmarkTransform64M measures what encryption costs on the write and
// read paths of 64 MiB objects: the same store/open pipeline (hashing,
// erasure coding to 4 temp drives, fsync) with the identity transform and
// with the AES-256-GCM stream. Compare the MB/s of the two sub-benchmarks.
func BenchmarkTransform64M(b *testing.B) {
	const size = 64 << 20
	data := randBytes(1, size)
	dek := bytes.Repeat([]byte{9}, 32)
	enc, _, _, err := newStream(dek, objectLabel)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tf   Transform
	}{{"identity", identity{}}, {"aes-gcm", enc}} {
		b.Run("put/"+tc.name, func(b *testing.B) {
			e := newEngine(b)
			b.SetBytes(size)
			for i := 0; i < b.N; i++ {
				s, err := e.store(bytes.NewReader(data), size, digests{}, false, tc.tf)
				if err != nil {
					b.Fatal(err)
				}
				e.discard(s)
			}
		})
		b.Run("get/"+tc.name, func(b *testing.B) {
			e := newEngine(b)
			s, err := e.store(bytes.NewReader(data), size, digests{}, false, tc.tf)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rc, err := e.openData(tc.tf, s.dataID, s.storedSize, size, 0, size)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					b.Fatal(err)
				}
				rc.Close()
			}
		})
	}
}
