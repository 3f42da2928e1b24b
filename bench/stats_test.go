package bench

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the nearest-rank quantile of sorted samples.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dist := range []struct {
		name string
		gen  func() int64
	}{
		{"small-exact", func() int64 { return rng.Int64N(256) }},
		{"uniform-ms", func() int64 { return 100_000 + rng.Int64N(10_000_000) }},
		{"lognormal", func() int64 { return int64(math.Exp(rng.NormFloat64()*1.5 + 14)) }},
	} {
		t.Run(dist.name, func(t *testing.T) {
			var h histogram
			samples := make([]int64, 50_000)
			for i := range samples {
				samples[i] = dist.gen()
				h.record(time.Duration(samples[i]))
			}
			slices.Sort(samples)
			for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999} {
				want := exactQuantile(samples, q)
				got := h.quantile(q)
				if rel := math.Abs(float64(got-want)) / float64(max(want, 1)); rel > 0.005 && got != want {
					t.Errorf("q%.3f: got %d, want %d (rel err %.4f)", q, got, want, rel)
				}
			}
			if h.quantile(1) != samples[len(samples)-1] || h.min != samples[0] || h.n != uint64(len(samples)) {
				t.Errorf("max/min/n: %d %d %d", h.quantile(1), h.min, h.n)
			}
		})
	}
}

func TestHistogramSmallCounts(t *testing.T) {
	var h histogram
	if h.quantile(0.5) != 0 {
		t.Fatal("empty histogram has a median")
	}
	for _, v := range []int64{10, 20, 30, 40} {
		h.record(time.Duration(v))
	}
	// Nearest rank: p50 of 4 samples is the 2nd, p90 and p99 the 4th.
	if h.quantile(0.5) != 20 || h.quantile(0.9) != 40 || h.quantile(0.99) != 40 || h.quantile(0.25) != 10 {
		t.Fatalf("p25 %d p50 %d p90 %d p99 %d", h.quantile(0.25), h.quantile(0.5), h.quantile(0.9), h.quantile(0.99))
	}
	h.record(-5)              // clamped to 0
	h.record(100 * time.Hour) // clamped to maxTracked
	if h.min != 0 || h.max != maxTracked {
		t.Fatalf("clamping: min %d max %d", h.min, h.max)
	}
}

func TestBucketsContiguous(t *testing.T) {
	prevLow, prevWidth := bucketRange(0)
	for i := 1; i < numBuckets; i++ {
		low, width := bucketRange(i)
		if low != prevLow+prevWidth {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, low, prevLow+prevWidth)
		}
		if bucketOf(low) != i || bucketOf(low+width-1) != i {
			t.Fatalf("bucket %d: bucketOf(%d)=%d bucketOf(%d)=%d", i, low, bucketOf(low), low+width-1, bucketOf(low+width-1))
		}
		prevLow, prevWidth = low, width
	}
	if bucketOf(maxTracked) != numBuckets-1 {
		t.Fatalf("maxTracked lands in bucket %d of %d", bucketOf(maxTracked), numBuckets)
	}
}

func TestMergeStats(t *testing.T) {
	var a, b, all opStats
	for i := range 1000 {
		d := time.Duration(i+1) * time.Microsecond
		all.hist.record(d)
		if i%3 == 0 {
			a.hist.record(d)
		} else {
			b.hist.record(d)
		}
	}
	for i := range 8 {
		a.addError(errors.New("boom"))
		b.addError(errors.New(string(rune('a' + i))))
	}
	var m opStats
	m.merge(&a)
	m.merge(&b)
	for _, q := range []float64{0.5, 0.9, 0.99, 1} {
		if m.hist.quantile(q) != all.hist.quantile(q) {
			t.Errorf("q%v: merged %d, direct %d", q, m.hist.quantile(q), all.hist.quantile(q))
		}
	}
	if m.errors != 16 || len(m.errSamples) != maxErrShown || m.errSamples[0] != "boom" || m.errSamples[1] != "a" {
		t.Fatalf("errors %d samples %q", m.errors, m.errSamples)
	}
}
