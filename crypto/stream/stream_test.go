package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

const ps = PackageSize

var roundTripSizes = []int{0, 1, 15, 16, 17, ps - 1, ps, ps + 1, 2*ps - 1, 2 * ps, 2*ps + 1, 3*ps + 12345, 200000}

func TestStoredSize(t *testing.T) {
	for _, c := range []struct{ size, want int64 }{
		{0, 16}, {1, 17}, {ps - 1, ps + 15}, {ps, ps + 16}, {ps + 1, ps + 33},
		{2 * ps, 2*ps + 32}, {MaxSize, MaxSize + MaxPackages*TagSize}, {MaxSize + 1, -1}, {-1, -1},
	} {
		if got := StoredSize(c.size); got != c.want {
			t.Errorf("StoredSize(%d) = %d, want %d", c.size, got, c.want)
		}
	}
}

func TestStoredRange(t *testing.T) {
	const sp = ps + TagSize
	for _, c := range []struct{ off, length, size, so, sl int64 }{
		{0, 0, 0, 0, 16},                       // empty stream: its one empty package
		{0, 1, 1, 0, 17},                       // whole small stream
		{0, 0, 10, 0, 26},                      // zero length still covers a package
		{10, 0, 10, 0, 26},                     // off == size: the final package
		{ps, 0, ps, 0, sp},                     // off == size on a package boundary
		{0, ps, 3 * ps, 0, sp},                 // exactly package 0
		{ps - 1, 2, 3 * ps, 0, 2 * sp},         // straddles 0/1
		{ps, ps, 3 * ps, sp, sp},               // exactly package 1
		{2*ps + 5, 7, 2*ps + 100, 2 * sp, 116}, // inside the short final package
		{1, 2*ps + 99, 2*ps + 100, 0, 2*sp + 116},
		{-1, 1, 10, 0, 0}, {0, -1, 10, 0, 0}, {5, 6, 10, 0, 0}, {11, 0, 10, 0, 0},
		{0, 0, -1, 0, 0}, {0, 0, MaxSize + 1, 0, 0},
	} {
		so, sl := StoredRange(c.off, c.length, c.size)
		if so != c.so || sl != c.sl {
			t.Errorf("StoredRange(%d, %d, %d) = %d, %d, want %d, %d", c.off, c.length, c.size, so, sl, c.so, c.sl)
		}
	}
	if _, err := NewReader(strings.NewReader(""), testParams(SuiteAES256GCM), 5, 6, 10); !errors.Is(err, ErrRange) {
		t.Errorf("NewReader with invalid range: %v, want ErrRange", err)
	}
}

func TestRoundTrip(t *testing.T) {
	rnd := newDetRand(1)
	for _, s := range suites {
		for _, size := range roundTripSizes {
			t.Run(fmt.Sprintf("%v/%d", s, size), func(t *testing.T) {
				p, err := NewParamsSuite(rnd.bytes(KeySize), s)
				if err != nil {
					t.Fatal(err)
				}
				pt := rnd.bytes(size)
				stored := seal(t, p, pt)
				if !bytes.Equal(stored, referenceSeal(t, p, pt)) {
					t.Fatal("Writer differs from reference")
				}
				if bytes.Contains(stored, pt[:min(size, 64)]) && size >= 16 {
					t.Fatal("plaintext visible in stored stream")
				}
				// Writes in awkward chunk sizes give the same bytes.
				for _, chunk := range []int{1, 7, ps - 1, ps, ps + 1, 3 * ps} {
					var out bytes.Buffer
					w, _ := NewWriter(&out, p)
					for rest := pt; len(rest) > 0; {
						n := min(chunk, len(rest))
						if _, err := w.Write(rest[:n]); err != nil {
							t.Fatal(err)
						}
						rest = rest[n:]
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(out.Bytes(), stored) {
						t.Fatalf("chunk %d: output differs", chunk)
					}
				}
				// Whole stream through readers that return little at a time.
				for name, wrap := range map[string]func(io.Reader) io.Reader{
					"plain": func(r io.Reader) io.Reader { return r },
					"one":   iotest.OneByteReader,
					"half":  iotest.HalfReader,
					"err":   iotest.DataErrReader,
				} {
					r, err := NewReader(wrap(bytes.NewReader(stored)), p, 0, int64(size), int64(size))
					if err != nil {
						t.Fatal(err)
					}
					got, err := io.ReadAll(iotest.OneByteReader(r))
					if err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("%s: err %v, got %d bytes, equal %v", name, err, len(got), bytes.Equal(got, pt))
					}
					r, _ = NewReader(wrap(bytes.NewReader(stored)), p, 0, int64(size), int64(size))
					if err := iotest.TestReader(r, pt); err != nil {
						t.Fatalf("%s: iotest.TestReader: %v", name, err)
					}
				}
				var out bytes.Buffer // WriteTo path
				r, _ := NewReader(bytes.NewReader(stored), p, 0, int64(size), int64(size))
				if n, err := io.Copy(&out, r); err != nil || n != int64(size) || !bytes.Equal(out.Bytes(), pt) {
					t.Fatalf("io.Copy: %d, %v", n, err)
				}
			})
		}
	}
}

func TestRanges(t *testing.T) {
	rnd := newDetRand(2)
	for _, s := range suites {
		for _, size := range []int64{0, 1, 100, ps, ps + 1, 3*ps + 777, 5 * ps} {
			p := testParams(s)
			pt := rnd.bytes(int(size))
			stored := seal(t, p, pt)
			check := func(off, length int64) {
				t.Helper()
				for _, m := range readModes {
					got, err := openWith(m, p, stored, off, length, size)
					if err != nil || !bytes.Equal(got, pt[off:off+length]) {
						t.Fatalf("%v %s size %d range [%d,+%d): err %v, equal %v", s, m.name, size, off, length, err, bytes.Equal(got, pt[off:off+length]))
					}
				}
			}
			edges := []int64{0, 1, ps - 1, ps, ps + 1, 2*ps - 1, 2 * ps, size - 1, size}
			for _, a := range edges {
				for _, b := range edges {
					if a >= 0 && a <= b && b <= size {
						check(a, b-a)
					}
				}
			}
			for range 200 {
				off := rnd.Int63n(size + 1)
				check(off, rnd.Int63n(size-off+1))
			}
		}
	}
}

func TestParams(t *testing.T) {
	key := seq(1, KeySize)
	p1, err := NewParams(key)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Suite != DefaultSuite() || !p1.Suite.Available() {
		t.Errorf("suite %v, default %v", p1.Suite, DefaultSuite())
	}
	p2, _ := NewParams(key)
	if p1.NonceBase == p2.NonceBase {
		t.Error("two NewParams share a NonceBase")
	}
	for _, bad := range [][]byte{nil, make([]byte, 16), make([]byte, 33)} {
		if _, err := NewParams(bad); !errors.Is(err, ErrParams) {
			t.Errorf("key of %d bytes: %v, want ErrParams", len(bad), err)
		}
	}
	for _, s := range []Suite{0, 3, 255} {
		if _, err := NewParamsSuite(key, s); !errors.Is(err, ErrParams) {
			t.Errorf("suite %v: %v, want ErrParams", s, err)
		}
		if _, err := NewWriter(io.Discard, Params{Suite: s, Key: key}); !errors.Is(err, ErrParams) {
			t.Errorf("NewWriter suite %v: %v, want ErrParams", s, err)
		}
		if _, err := NewReader(strings.NewReader(""), Params{Suite: s, Key: key}, 0, 0, 0); !errors.Is(err, ErrParams) {
			t.Errorf("NewReader suite %v: %v, want ErrParams", s, err)
		}
	}
	// Formatting never shows the key.
	p := Params{Suite: SuiteAES256GCM, Key: bytes.Repeat([]byte{0xab}, KeySize)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		out := fmt.Sprintf(verb, p) + fmt.Sprintf(verb, &p)
		if strings.Contains(strings.ToLower(out), "abab") || strings.Contains(out, "171 171") || strings.Contains(out, "253") {
			t.Errorf("%s prints key material: %s", verb, out)
		}
	}
	// Wipe zeroes the caller's key; writers made before keep working.
	var out bytes.Buffer
	w, _ := NewWriter(&out, p)
	k := p.Key
	p.Wipe()
	if p.Key != nil || !bytes.Equal(k, make([]byte, KeySize)) {
		t.Error("Wipe left key bytes")
	}
	w.Write([]byte("after wipe"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p.Key = bytes.Repeat([]byte{0xab}, KeySize)
	if got, err := open(p, out.Bytes(), 0, 10, 10); err != nil || string(got) != "after wipe" {
		t.Errorf("after Wipe: %q, %v", got, err)
	}
}

func TestDeriveKey(t *testing.T) {
	a, b := DeriveKey(testKey, "coffer part 1"), DeriveKey(testKey, "coffer part 2")
	if len(a) != KeySize || bytes.Equal(a, b) {
		t.Error("derived keys must be 32 bytes and differ per label")
	}
	defer func() {
		if recover() == nil {
			t.Error("DeriveKey accepted a short data key")
		}
	}()
	DeriveKey(make([]byte, 15), "coffer object")
}

type failWriter struct {
	n   int // bytes accepted before failing
	err error
	max int // when > 0, accept at most max bytes per call without error (short write)
}

func (f *failWriter) Write(p []byte) (int, error) {
	if f.max > 0 && len(p) > f.max {
		return f.max, nil
	}
	if len(p) > f.n {
		return 0, f.err
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	p := testParams(SuiteAES256GCM)
	boom := errors.New("disk full")
	w, _ := NewWriter(&failWriter{n: ps + TagSize, err: boom}, p)
	if _, err := w.Write(make([]byte, 2*ps+1)); !errors.Is(err, boom) {
		t.Errorf("Write: %v, want %v", err, boom)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, boom) {
		t.Errorf("sticky Write: %v", err)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Errorf("Close: %v", err)
	}
	w, _ = NewWriter(&failWriter{max: 10}, p)
	w.Write([]byte("hello"))
	if err := w.Close(); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("short write: %v", err)
	}
	w, _ = NewWriter(io.Discard, p)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

func TestWriterTooLarge(t *testing.T) {
	wc, _ := NewWriter(io.Discard, testParams(SuiteAES256GCM))
	w := wc.(*Writer)
	w.next = MaxPackages - 1 // as if 128 TiB minus one package had been written
	if _, err := w.Write(make([]byte, ps)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil { // the last allowed package, final
		t.Fatalf("Close at the limit: %v", err)
	}
	wc, _ = NewWriter(io.Discard, testParams(SuiteAES256GCM))
	w = wc.(*Writer)
	w.next = MaxPackages - 1
	if _, err := w.Write(make([]byte, ps+1)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Close past the limit: %v, want ErrTooLarge", err)
	}
}

func TestReaderIOError(t *testing.T) {
	p := testParams(SuiteAES256GCM)
	stored := seal(t, p, make([]byte, 3*ps))
	boom := errors.New("drive gone")
	r, _ := NewReader(io.MultiReader(bytes.NewReader(stored[:ps+TagSize+5]), iotest.ErrReader(boom)), p, 0, 3*ps, 3*ps)
	got, err := io.ReadAll(r)
	if !errors.Is(err, boom) || errors.Is(err, ErrAuth) {
		t.Errorf("err %v: want the I/O error, not ErrAuth", err)
	}
	if len(got) != ps {
		t.Errorf("got %d bytes before the failure, want the one verified package (%d)", len(got), ps)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, boom) {
		t.Errorf("error not sticky: %v", err)
	}
}

// badSource returns one byte fewer than asked, without an error.
type badSource struct{ io.Reader }

func (b badSource) Next(n int) ([]byte, error) { return make([]byte, n-1), nil }

func TestWriteRunsErrors(t *testing.T) {
	p := testParams(SuiteAES256GCM)
	const size = 3*PackageSize + 5
	stored := seal(t, p, testPlaintext(size))
	newR := func(in io.Reader) *Reader {
		r, err := NewReader(in, p, 0, size, size)
		if err != nil {
			t.Fatal(err)
		}
		return r.(*Reader)
	}
	if _, err := newR(bytes.NewReader(stored)).WriteRuns(io.Discard, make([]byte, PackageSize)); err == nil {
		t.Error("a run buffer smaller than a package was accepted")
	}
	errDisk := errors.New("disk full")
	if n, err := newR(bytes.NewReader(stored)).WriteTo(&failWriter{err: errDisk}); !errors.Is(err, errDisk) || n != 0 {
		t.Errorf("failing writer: %d, %v", n, err)
	}
	if _, err := newR(bytes.NewReader(stored)).WriteTo(&failWriter{max: 100}); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("short writer: %v", err)
	}
	var out bytes.Buffer
	if _, err := newR(badSource{bytes.NewReader(stored)}).WriteTo(&out); err == nil || errors.Is(err, ErrAuth) || out.Len() != 0 {
		t.Errorf("source returning too few bytes: %d bytes, %v", out.Len(), err)
	}
}
