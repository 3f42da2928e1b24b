package object

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/cofferstore/coffer/metadata"
)

// getWriteTo reads an object through its reader's WriteTo, the path
// fasthttp takes for every GET body.
func getWriteTo(t *testing.T, e *Engine, bucket, key string, opts GetOptions) ([]byte, error) {
	t.Helper()
	_, rc, err := e.GetObject(ctx, bucket, key, opts)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	wt, ok := rc.(io.WriterTo)
	if !ok {
		t.Fatalf("%T is not a WriterTo", rc)
	}
	var out bytes.Buffer
	_, err = wt.WriteTo(&out)
	return out.Bytes(), err
}

// TestGetWriteTo reads single-part and multipart objects, whole and in
// ranges that cross packages, blocks and parts, through WriteTo, and checks
// that a corrupt package stops the copy with ErrCorruption after only
// verified bytes.
func TestGetWriteTo(t *testing.T) {
	e := newEngine(t)
	e.MakeBucket(ctx, "wto", MakeBucketOptions{})
	big := randBytes(3, 3<<20+12345)
	mustPut(t, e, "wto", "big", big)
	p1, p2, p3 := randBytes(4, MinPartSize), randBytes(5, MinPartSize+777), randBytes(6, 1000)
	putMultipart(t, e, "wto", "multi", PutOptions{}, p1, p2, p3)
	multi := append(append(append([]byte{}, p1...), p2...), p3...)
	for _, c := range []struct {
		key  string
		data []byte
	}{{"big", big}, {"multi", multi}} {
		for _, rg := range [][2]int64{{0, -1}, {1, 1}, {65535, 70000}, {1<<20 - 3, 1<<20 + 5}, {int64(len(c.data)) - 1, int64(len(c.data)) - 1}, {MinPartSize - 10, MinPartSize + 10}} {
			if rg[1] >= int64(len(c.data)) {
				continue
			}
			opts := GetOptions{}
			want := c.data
			if rg[1] >= 0 {
				opts.Range = &Range{Start: rg[0], End: rg[1]}
				want = c.data[rg[0] : rg[1]+1]
			}
			got, err := getWriteTo(t, e, "wto", c.key, opts)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s %v: err %v, %d bytes, equal %v", c.key, rg, err, len(got), bytes.Equal(got, want))
			}
		}
	}
	// A corrupt second package of an inline object: the first package may be
	// written, then the copy must fail with ErrCorruption.
	small := randBytes(7, 100<<10)
	mustPut(t, e, "wto", "inl", small)
	v, _ := e.resolve("wto", "inl", "")
	if !v.Inline {
		t.Fatal("not inline")
	}
	v.data[len(v.data)-40] ^= 1
	b := metadata.NewBatch()
	b.Set(versionKey("wto", "inl", v.VSort), v.encode(true))
	b.Set(latestKey("wto", "inl"), v.encode(false))
	if err := e.meta.Apply(b); err != nil {
		t.Fatal(err)
	}
	got, err := getWriteTo(t, e, "wto", "inl", GetOptions{})
	if !errors.Is(err, ErrCorruption) || !bytes.Equal(got, small[:len(got)]) || len(got) > 64<<10 {
		t.Fatalf("corrupt inline: %d bytes, err %v", len(got), err)
	}
}
