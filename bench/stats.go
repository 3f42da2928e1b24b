package bench

import (
	"math"
	"math/bits"
	"time"
)

// opKind is an operation type the generator reports on.
type opKind int

// Operation types, in report order.
const (
	opPut opKind = iota
	opGet
	opHead
	opDelete
	opList
	opMultipart
	opPart
	numOps
)

var opNames = [numOps]string{"put", "get", "head", "delete", "list", "multipart", "part"}

func (k opKind) String() string { return opNames[k] }

// The latency histogram is log-linear (HDR-like): values below 256 ns are
// exact, and every power of two above is split into 128 equal buckets, so
// a reported percentile is within 0.4% of a true sample value. Memory is
// fixed (about 36 KiB), recording is O(1) without allocation, and
// histograms merge by addition.
const (
	subBits     = 7
	subCount    = 1 << subBits
	maxTracked  = 1<<41 - 1 // ~36 minutes in nanoseconds; larger values are clamped
	numBuckets  = (41-subBits)*subCount + subCount
	maxErrShown = 5
)

// histogram records latencies in nanoseconds.
type histogram struct {
	counts   []uint64
	n        uint64
	sum      float64
	min, max int64
}

func bucketOf(v uint64) int {
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1
	return shift*subCount + int(v>>uint(shift))
}

// bucketRange returns the lowest value of bucket i and its width.
func bucketRange(i int) (low, width uint64) {
	if i < 2*subCount {
		return uint64(i), 1
	}
	shift := i/subCount - 1
	return uint64(i-shift*subCount) << uint(shift), 1 << uint(shift)
}

func (h *histogram) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if v > maxTracked {
		v = maxTracked
	}
	if h.counts == nil {
		h.counts = make([]uint64, numBuckets)
	}
	h.counts[bucketOf(uint64(v))]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, numBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// quantile returns the q-quantile (0 < q <= 1) in nanoseconds: the
// midpoint of the bucket holding the ceil(q*n)-th smallest sample, clamped
// to the exact minimum and maximum. It returns 0 for an empty histogram.
func (h *histogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := bucketRange(i)
			v := int64(low + (width-1)/2)
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}

// opStats accumulates one operation type for one worker (or, merged, for
// the whole run). Only successful operations enter the histogram and the
// byte count.
type opStats struct {
	hist       histogram
	bytes      int64
	errors     int64
	errSamples []string
}

func (s *opStats) addError(err error) {
	s.errors++
	if len(s.errSamples) < maxErrShown {
		s.errSamples = append(s.errSamples, err.Error())
	}
}

func (s *opStats) merge(o *opStats) {
	s.hist.merge(&o.hist)
	s.bytes += o.bytes
	s.errors += o.errors
	for _, e := range o.errSamples {
		if len(s.errSamples) >= maxErrShown {
			break
		}
		dup := false
		for _, have := range s.errSamples {
			dup = dup || have == e
		}
		if !dup {
			s.errSamples = append(s.errSamples, e)
		}
	}
}
