package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// distSteps is how many distinct sizes a size range is quantized to. Every
// distinct size needs its own payload hash; quantizing keeps that set small
// and lets one pass over the payload buffer hash all of them.
const distSteps = 64

// ParseSize parses a byte count such as "4096", "4KiB", "1MiB", "64MiB",
// "1GiB", "10KB" or "1.5MiB". Binary suffixes (KiB, MiB, GiB, TiB; also
// the short forms K, M, G, T) are powers of 1024; decimal suffixes (KB, MB,
// GB, TB) are powers of 1000; suffixes are case-insensitive. The result is
// never negative.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("size %q: no number", s)
	}
	var mult float64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "ki", "kib":
		mult = 1 << 10
	case "m", "mi", "mib":
		mult = 1 << 20
	case "g", "gi", "gib":
		mult = 1 << 30
	case "t", "ti", "tib":
		mult = 1 << 40
	case "kb":
		mult = 1e3
	case "mb":
		mult = 1e6
	case "gb":
		mult = 1e9
	case "tb":
		mult = 1e12
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q", s, unit)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	v := f * mult
	if v < 0 || v > 1<<50 {
		return 0, fmt.Errorf("size %q: out of range", s)
	}
	return int64(v), nil
}

// FormatSize renders n bytes with the largest binary unit that divides it
// exactly (so "4KiB" round-trips), or as a plain byte count.
func FormatSize(n int64) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// SizeDist is an object-size distribution: a fixed size (Min == Max) or a
// uniform choice over [Min, Max]. A range is quantized to at most 64
// evenly spaced sizes (Min and Max included) so that payload hashes can be
// computed once, up front.
type SizeDist struct {
	Min, Max int64
}

// ParseSizeDist parses "SIZE" (fixed) or "MIN-MAX" (uniform), for example
// "4KiB" or "4KiB-1MiB". MIN must not exceed MAX.
func ParseSizeDist(s string) (SizeDist, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := ParseSize(lo)
	if err != nil {
		return SizeDist{}, err
	}
	if !isRange {
		return SizeDist{Min: a, Max: a}, nil
	}
	b, err := ParseSize(hi)
	if err != nil {
		return SizeDist{}, err
	}
	if a > b {
		return SizeDist{}, fmt.Errorf("size range %q: minimum exceeds maximum", s)
	}
	return SizeDist{Min: a, Max: b}, nil
}

// String renders the distribution the way ParseSizeDist reads it.
func (d SizeDist) String() string {
	if d.Min == d.Max {
		return FormatSize(d.Min)
	}
	return FormatSize(d.Min) + "-" + FormatSize(d.Max)
}

// Sizes lists the distinct sizes the distribution draws from, ascending.
func (d SizeDist) Sizes() []int64 {
	if d.Min == d.Max {
		return []int64{d.Min}
	}
	steps := int64(distSteps)
	if d.Max-d.Min+1 < steps {
		steps = d.Max - d.Min + 1
	}
	out := make([]int64, 0, steps)
	for i := int64(0); i < steps; i++ {
		v := d.Min + (d.Max-d.Min)*i/(steps-1)
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}

// Mix is the operation ratio of the mixed workload, in percent-like
// weights (they need not add up to 100).
type Mix struct {
	Get, Head, Put, Delete int
}

// DefaultMix is the mix used when --mix is not given: 45/30/15/10.
var DefaultMix = Mix{Get: 45, Head: 30, Put: 15, Delete: 10}

// ParseMix parses "get=45,head=30,put=15,delete=10". Unnamed operations
// get weight 0; at least one weight must be positive and none negative.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return Mix{}, fmt.Errorf("mix %q: %q is not op=weight", s, part)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 {
			return Mix{}, fmt.Errorf("mix %q: bad weight %q", s, val)
		}
		if seen[name] {
			return Mix{}, fmt.Errorf("mix %q: %s given twice", s, name)
		}
		seen[name] = true
		switch name {
		case "get":
			m.Get = w
		case "head":
			m.Head = w
		case "put":
			m.Put = w
		case "delete":
			m.Delete = w
		default:
			return Mix{}, fmt.Errorf("mix %q: unknown operation %q (want get, head, put, delete)", s, name)
		}
	}
	if m.total() == 0 {
		return Mix{}, errors.New("mix: all weights are zero")
	}
	return m, nil
}

// String renders the mix the way ParseMix reads it.
func (m Mix) String() string {
	return fmt.Sprintf("get=%d,head=%d,put=%d,delete=%d", m.Get, m.Head, m.Put, m.Delete)
}

func (m Mix) total() int { return m.Get + m.Head + m.Put + m.Delete }

// pick maps a uniform draw in [0, total) to an operation.
func (m Mix) pick(r int) opKind {
	switch {
	case r < m.Get:
		return opGet
	case r < m.Get+m.Head:
		return opHead
	case r < m.Get+m.Head+m.Put:
		return opPut
	default:
		return opDelete
	}
}

// payload is the shared random data every request body is sliced from,
// with the hex SHA-256 of each prefix length a run will send. It is
// immutable after newPayload and shared by all workers.
type payload struct {
	buf    []byte
	sizes  []int64 // ascending, distinct
	hashes map[int64]string
}

// newPayload fills a buffer of the largest size with pseudo-random bytes
// and hashes every needed prefix in a single pass (hash.Hash.Sum does not
// disturb the running state).
func newPayload(seed uint64, sizes []int64) *payload {
	sizes = slices.Clone(sizes)
	sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })
	sizes = slices.Compact(sizes)
	var maxSize int64
	if len(sizes) > 0 {
		maxSize = sizes[len(sizes)-1]
	}
	p := &payload{buf: make([]byte, maxSize), sizes: sizes, hashes: make(map[int64]string, len(sizes))}
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	_, _ = rng.Read(p.buf)
	h := sha256.New()
	var off int64
	for _, n := range sizes {
		h.Write(p.buf[off:n])
		off = n
		p.hashes[n] = hex.EncodeToString(h.Sum(nil))
	}
	return p
}

// body returns the first n bytes of the payload and their hex SHA-256.
// n must be one of the sizes the payload was built for.
func (p *payload) body(n int64) ([]byte, string) {
	h, ok := p.hashes[n]
	if !ok {
		panic(fmt.Sprintf("bench: payload has no hash for size %d", n))
	}
	return p.buf[:n], h
}
