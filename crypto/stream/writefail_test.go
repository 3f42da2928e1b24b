package stream

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestWriteErrorIsSticky: when the writer fails, the packages WriteTo had
// opened for it are gone, so the Reader must not go on after them as if
// nothing were missing — neither in the middle of the range nor at its end.
func TestWriteErrorIsSticky(t *testing.T) {
	p := testParams(SuiteAES256GCM)
	for _, size := range []int64{10*PackageSize + 5, 2*PackageSize + 5, 4 * PackageSize} {
		stored := seal(t, p, testPlaintext(int(size)))
		for _, src := range []bool{false, true} {
			var in io.Reader = bytes.NewReader(stored)
			if src {
				in = &nextSource{r: in}
			}
			r, err := NewReader(in, p, 0, size, size)
			if err != nil {
				t.Fatal(err)
			}
			gone := errors.New("client gone")
			if _, err := r.(io.WriterTo).WriteTo(&failWriter{err: gone}); !errors.Is(err, gone) {
				t.Fatalf("size %d: WriteTo: %v", size, err)
			}
			rest, err := io.ReadAll(r)
			if !errors.Is(err, gone) || len(rest) != 0 {
				t.Errorf("size %d, source %v: after the failed write, Read gave %d bytes and %v; want the write error", size, src, len(rest), err)
			}
		}
	}
}
