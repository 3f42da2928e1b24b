package object

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/cofferstore/coffer/metadata"
)

// compressAll compresses text of any size (so that tiny and empty objects
// take the compressed path too).
var compressAll = CompressConfig{Enabled: true, MinSize: -1}

func newCompEngine(t testing.TB, c CompressConfig) *Engine {
	t.Helper()
	e, err := Open(Config{Drives: drivePaths(t, 4), MasterKey: testMasterKey, Compress: c})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// textBytes returns n bytes of log-like text: compressible (about 3:1 with
// S2), not trivially so.
func textBytes(seed int64, n int) []byte {
	rng := rand.New(rand.NewSource(seed))
	verbs := []string{"GET", "PUT", "HEAD", "DELETE", "POST"}
	var b bytes.Buffer
	b.Grow(n + 200)
	for b.Len() < n {
		fmt.Fprintf(&b, "2026-03-%02dT%02d:%02d:%02d.%03dZ host-%03d %s /bucket-%d/object/%08x status=%d bytes=%d\n",
			1+rng.Intn(28), rng.Intn(24), rng.Intn(60), rng.Intn(60), rng.Intn(1000), rng.Intn(40),
			verbs[rng.Intn(len(verbs))], rng.Intn(8), rng.Uint32(), 200+rng.Intn(4)*100, rng.Intn(1<<20))
	}
	return b.Bytes()[:n]
}

func putText(t *testing.T, e *Engine, bucket, key string, data []byte, opts PutOptions) ObjectInfo {
	t.Helper()
	if opts.ContentType == "" {
		opts.ContentType = "text/plain; charset=utf-8"
	}
	oi, err := e.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return oi
}

// checkRanges compares the whole object and random ranges (including ones
// at block and part edges) with data.
func checkRanges(t *testing.T, e *Engine, bucket, key string, data []byte, opts GetOptions, rng *rand.Rand) {
	t.Helper()
	if got := mustGet(t, e, bucket, key, opts); !bytes.Equal(got, data) {
		t.Fatalf("%s: whole object differs (%d bytes, want %d)", key, len(got), len(data))
	}
	n := int64(len(data))
	if n == 0 {
		return
	}
	var ranges [][2]int64
	for _, edge := range []int64{0, 1, compressBlockSize - 1, compressBlockSize, compressBlockSize + 1, MinPartSize - 1, MinPartSize, n - 1} {
		if edge >= 0 && edge < n {
			ranges = append(ranges, [2]int64{edge, min(n-1, edge+rng.Int63n(3))}, [2]int64{edge, n - 1})
		}
	}
	for range 24 {
		a := rng.Int63n(n)
		b := a + rng.Int63n(min(n-a, 3<<20))
		ranges = append(ranges, [2]int64{a, b})
	}
	for _, r := range ranges {
		o := opts
		o.Range = &Range{Start: r[0], End: r[1]}
		if got := mustGet(t, e, bucket, key, o); !bytes.Equal(got, data[r[0]:r[1]+1]) {
			t.Fatalf("%s: range %d-%d differs", key, r[0], r[1])
		}
	}
}

func TestCompressRoundTrip(t *testing.T) {
	e := newCompEngine(t, compressAll)
	e.MakeBucket(ctx, "cmp", MakeBucketOptions{})
	rng := rand.New(rand.NewSource(1))
	ck := bytes.Repeat([]byte{3}, 32)
	for _, n := range []int{0, 1, 4 << 10, 100 << 10, 200 << 10, 3 << 20} {
		for kind, data := range map[string][]byte{"text": textBytes(int64(n), n), "random": randBytes(int64(n), n)} {
			key := fmt.Sprintf("%s-%d", kind, n)
			oi := putText(t, e, "cmp", key, data, PutOptions{ChecksumAlgorithm: ChecksumCRC32C})
			sum := md5.Sum(data)
			if oi.Size != int64(n) || oi.ETag != hex.EncodeToString(sum[:]) {
				t.Fatalf("%s: size %d etag %s", key, oi.Size, oi.ETag)
			}
			v, _ := e.resolve("cmp", key, "")
			if v.Comp == nil {
				t.Fatalf("%s: not compressed", key)
			}
			if inline := int64(n) <= e.inline; v.Inline != inline {
				t.Fatalf("%s: inline %v", key, v.Inline)
			}
			checkRanges(t, e, "cmp", key, data, GetOptions{}, rng)

			// The same bytes stored uncompressed report the same size, ETag
			// and checksum.
			plain, err := e.PutObject(ctx, "cmp", key+"-plain", bytes.NewReader(data), int64(n), PutOptions{ContentType: "application/octet-stream", ChecksumAlgorithm: ChecksumCRC32C})
			if err != nil {
				t.Fatal(err)
			}
			if pv, _ := e.resolve("cmp", key+"-plain", ""); pv.Comp != nil {
				t.Fatalf("%s: octet-stream was compressed", key)
			}
			if plain.Size != oi.Size || plain.ETag != oi.ETag || plain.Checksums[ChecksumCRC32C] != oi.Checksums[ChecksumCRC32C] {
				t.Fatalf("%s: compressed %+v vs plain %+v", key, oi, plain)
			}
			head, err := e.HeadObject(ctx, "cmp", key, GetOptions{})
			if err != nil || head.Size != oi.Size || head.ETag != oi.ETag {
				t.Fatalf("%s: head %v %+v", key, err, head)
			}
		}
	}
	// Unknown size (streamed body), SSE-C, and a copy into a compressed
	// destination.
	data := textBytes(9, 2<<20+17)
	if _, err := e.PutObject(ctx, "cmp", "stream", bytes.NewReader(data), -1, PutOptions{ContentType: "application/json"}); err != nil {
		t.Fatal(err)
	}
	checkRanges(t, e, "cmp", "stream", data, GetOptions{}, rng)
	putText(t, e, "cmp", "ssec", data, PutOptions{SSE: SSE{Mode: SSEC, CustomerKey: ck}})
	checkRanges(t, e, "cmp", "ssec", data, GetOptions{CustomerKey: ck}, rng)
	if _, err := e.CopyObject(ctx, CopySource{Bucket: "cmp", Key: "ssec", CustomerKey: ck}, "cmp", "copy", PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.resolve("cmp", "copy", ""); v.Comp == nil {
		t.Fatal("copy of a text object was not compressed")
	}
	checkRanges(t, e, "cmp", "copy", data, GetOptions{}, rng)
}

// putMultipart uploads parts and completes the upload.
func putMultipart(t *testing.T, e *Engine, bucket, key string, opts PutOptions, parts ...[]byte) ObjectInfo {
	t.Helper()
	id, err := e.NewMultipartUpload(ctx, bucket, key, opts)
	if err != nil {
		t.Fatal(err)
	}
	var list []CompletePart
	for i, p := range parts {
		pi, err := e.PutObjectPart(ctx, bucket, key, id, i+1, bytes.NewReader(p), int64(len(p)), PartOptions{CustomerKey: opts.SSE.CustomerKey})
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, CompletePart{Number: i + 1, ETag: pi.ETag})
	}
	oi, err := e.CompleteMultipartUpload(ctx, bucket, key, id, list, CompleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return oi
}

func TestCompressMultipart(t *testing.T) {
	e := newCompEngine(t, CompressConfig{Enabled: true})
	e.MakeBucket(ctx, "cmp", MakeBucketOptions{})
	rng := rand.New(rand.NewSource(2))
	sizes := []int{MinPartSize, MinPartSize + 123, 7 << 20, 3<<20 - 5} // 20 MiB
	for _, kind := range []string{"text", "random"} {
		var parts [][]byte
		var all []byte
		for i, n := range sizes {
			p := textBytes(int64(10+i), n)
			if kind == "random" {
				p = randBytes(int64(10+i), n)
			}
			parts = append(parts, p)
			all = append(all, p...)
		}
		key := "mp-" + kind
		oi := putMultipart(t, e, "cmp", key, PutOptions{ContentType: "text/csv"}, parts...)
		if oi.Size != int64(len(all)) {
			t.Fatalf("%s: size %d", key, oi.Size)
		}
		v, _ := e.resolve("cmp", key, "")
		for _, p := range v.Parts {
			if p.Comp == nil {
				t.Fatalf("%s: part %d not compressed", key, p.Number)
			}
		}
		checkRanges(t, e, "cmp", key, all, GetOptions{}, rng)
		off := int64(0)
		for i, p := range parts {
			if got := mustGet(t, e, "cmp", key, GetOptions{PartNumber: i + 1}); !bytes.Equal(got, p) {
				t.Fatalf("%s: part %d differs", key, i+1)
			}
			// A range across the boundary into the next part.
			if i+1 < len(parts) {
				end := off + int64(len(p)) + 1000
				r := &Range{Start: off + int64(len(p)) - 1000, End: end}
				if got := mustGet(t, e, "cmp", key, GetOptions{Range: r}); !bytes.Equal(got, all[r.Start:end+1]) {
					t.Fatalf("%s: range across parts %d/%d differs", key, i+1, i+2)
				}
			}
			off += int64(len(p))
		}
	}
	// The decision is the upload's: a binary upload stays uncompressed.
	p := textBytes(5, MinPartSize)
	putMultipart(t, e, "cmp", "mp-bin", PutOptions{ContentType: "application/zip"}, p, p[:10])
	v, _ := e.resolve("cmp", "mp-bin", "")
	for _, p := range v.Parts {
		if p.Comp != nil {
			t.Fatalf("part %d of an application/zip upload was compressed", p.Number)
		}
	}
}

// TestCompressionHappened checks that repetitive text really is stored
// smaller, inline, erasure-coded and in parts.
func TestCompressionHappened(t *testing.T) {
	e := newCompEngine(t, CompressConfig{Enabled: true})
	e.MakeBucket(ctx, "cmp", MakeBucketOptions{})
	line := []byte("2026-03-01T00:00:00Z INFO request served bucket=photos status=200\n")
	text := bytes.Repeat(line, (8<<20)/len(line))
	putText(t, e, "cmp", "big", text, PutOptions{})
	putText(t, e, "cmp", "small", text[:100<<10], PutOptions{})
	putMultipart(t, e, "cmp", "mp", PutOptions{ContentType: "text/plain"}, text[:MinPartSize], text[:1<<20])
	big, _ := e.resolve("cmp", "big", "")
	small, _ := e.resolve("cmp", "small", "")
	mp, _ := e.resolve("cmp", "mp", "")
	t.Logf("8 MiB: stored %d bytes (compressed %d, index %d bytes); 100 KiB inline: %d bytes; part 1: %d bytes",
		big.StoredSize, big.Comp.Size, len(big.Comp.Index), len(small.data), mp.Parts[0].StoredSize)
	if big.StoredSize > int64(len(text))/10 {
		t.Errorf("8 MiB of repeated text stored as %d bytes", big.StoredSize)
	}
	if !small.Inline || len(small.data) > (100<<10)/10 {
		t.Errorf("100 KiB of repeated text inline as %d bytes", len(small.data))
	}
	if mp.Parts[0].StoredSize > MinPartSize/10 {
		t.Errorf("5 MiB part stored as %d bytes", mp.Parts[0].StoredSize)
	}
	// Incompressible data costs only S2's framing.
	rnd := randBytes(4, 3<<20)
	putText(t, e, "cmp", "rnd", rnd, PutOptions{})
	v, _ := e.resolve("cmp", "rnd", "")
	if v.Comp == nil || v.Comp.Size > int64(len(rnd))+64 {
		t.Errorf("3 MiB random: compressed to %+v", v.Comp)
	}
}

func TestCompressPolicy(t *testing.T) {
	def := newCompressPolicy(CompressConfig{Enabled: true})
	custom := newCompressPolicy(CompressConfig{Enabled: true, ContentTypes: []string{" Application/X-Custom ", ""}, MinSize: 100})
	off := newCompressPolicy(CompressConfig{ContentTypes: []string{"text/"}})
	for _, c := range []struct {
		p      compressPolicy
		size   int64
		ct, ce string
		want   bool
		name   string
	}{
		{def, 1 << 20, "text/plain", "", true, "text"},
		{def, 1 << 20, "Text/HTML; charset=UTF-8", "", true, "parameters and case"},
		{def, 1 << 20, "application/json", "identity", true, "json"},
		{def, 1 << 20, "application/xml", "aws-chunked", true, "xml, aws-chunked"},
		{def, -1, "application/javascript", "", true, "unknown size"},
		{def, 4 << 10, "text/css", "", true, "at the minimum"},
		{def, 4<<10 - 1, "text/css", "", false, "below the minimum"},
		{def, 1 << 20, "text/plain", "gzip", false, "already encoded"},
		{def, 1 << 20, "text/plain", "aws-chunked, br", false, "already encoded, listed"},
		{def, 1 << 20, "application/octet-stream", "", false, "binary"},
		{def, 1 << 20, "image/png", "", false, "image"},
		{def, 1 << 20, "", "", false, "no type"},
		{custom, 100, "application/x-custom-log", "", true, "custom prefix"},
		{custom, 1 << 20, "text/plain", "", false, "not in the custom list"},
		{custom, 99, "application/x-custom", "", false, "below the custom minimum"},
		{off, 1 << 20, "text/plain", "", false, "disabled"},
	} {
		if got := c.p.wants(c.size, c.ct, c.ce); got != c.want {
			t.Errorf("%s: wants(%d, %q, %q) = %v", c.name, c.size, c.ct, c.ce, got)
		}
	}

	// End to end: a type outside the list, a small object and a disabled
	// engine all store uncompressed.
	e := newCompEngine(t, CompressConfig{Enabled: true, ContentTypes: []string{"application/json"}})
	e.MakeBucket(ctx, "cmp", MakeBucketOptions{})
	text := textBytes(1, 1<<20)
	putText(t, e, "cmp", "text", text, PutOptions{ContentType: "text/plain"})
	putText(t, e, "cmp", "tiny", text[:100], PutOptions{ContentType: "application/json"})
	putText(t, e, "cmp", "json", text, PutOptions{ContentType: "application/json"})
	for key, want := range map[string]bool{"text": false, "tiny": false, "json": true} {
		if v, _ := e.resolve("cmp", key, ""); (v.Comp != nil) != want {
			t.Errorf("%s: compressed %v, want %v", key, v.Comp != nil, want)
		}
	}
	d := newEngine(t)
	d.MakeBucket(ctx, "cmp", MakeBucketOptions{})
	putText(t, d, "cmp", "text", text, PutOptions{})
	if v, _ := d.resolve("cmp", "text", ""); v.Comp != nil {
		t.Error("compressed with compression disabled")
	}
}

// rewriteVersion applies fn to the current version of key and stores it
// back, as a tamperer with write access to the metadata would.
func rewriteVersion(t *testing.T, e *Engine, bucket, key string, fn func(v *versionRecord)) {
	t.Helper()
	v, err := e.resolve(bucket, key, "")
	if err != nil {
		t.Fatal(err)
	}
	fn(v)
	b := metadata.NewBatch()
	b.Set(versionKey(bucket, key, v.VSort), v.encode(true))
	b.Set(latestKey(bucket, key), v.encode(false))
	if err := e.meta.Apply(b); err != nil {
		t.Fatal(err)
	}
}

// readOrCorrupt reads key (whole and a few ranges): each read returns the
// right bytes or fails with ErrCorruption; wrong bytes and other errors
// fail the test. It returns how many reads failed.
func readOrCorrupt(t *testing.T, e *Engine, bucket, key string, data []byte) int {
	t.Helper()
	n := int64(len(data))
	failed := 0
	for _, r := range []*Range{nil, {Start: 0, End: 0}, {Start: n / 3, End: n/3 + 100}, {Start: n - 10, End: n - 1}, {Start: n / 2, End: n - 1}} {
		want := data
		if r != nil {
			want = data[r.Start : r.End+1]
		}
		_, rc, err := e.GetObject(ctx, bucket, key, GetOptions{Range: r})
		var got []byte
		if err == nil {
			got, err = readAllClose(rc)
		}
		switch {
		case errors.Is(err, ErrCorruption):
			failed++
		case err != nil:
			t.Fatalf("%s %+v: unexpected error %v", key, r, err)
		case !bytes.Equal(got, want):
			t.Fatalf("%s %+v: wrong bytes returned", key, r)
		}
	}
	return failed
}

// TestCompressTamper alters the compression records in metadata: the
// index (every byte), the compressed size, the MAC, the record's presence,
// and moves records between parts. Every read fails with ErrCorruption or
// returns the right bytes, never wrong bytes; in fact every altered record
// is caught by its MAC or by the encryption stream.
func TestCompressTamper(t *testing.T) {
	e := newCompEngine(t, CompressConfig{Enabled: true})
	e.MakeBucket(ctx, "cmp", MakeBucketOptions{})
	objects := map[string][]byte{"inline": textBytes(1, 60<<10), "single": textBytes(2, 3<<20+99), "random": randBytes(3, 2<<20)}
	for key, data := range objects {
		putText(t, e, "cmp", key, data, PutOptions{})
	}
	p1, p2 := textBytes(4, MinPartSize), textBytes(5, 3<<20)
	mp := append(append([]byte{}, p1...), p2...)
	putMultipart(t, e, "cmp", "mp", PutOptions{ContentType: "text/plain"}, p1, p2)

	type tamper struct {
		name string
		fn   func(c *compRecord) bool // false: not applicable
	}
	tampers := []tamper{
		{"size+1", func(c *compRecord) bool { c.Size++; return true }},
		{"size-1", func(c *compRecord) bool { c.Size--; return true }},
		{"mac", func(c *compRecord) bool { c.MAC[0] ^= 1; return true }},
		{"no mac", func(c *compRecord) bool { c.MAC = nil; return true }},
		{"no index", func(c *compRecord) bool { c.Index = nil; return true }},
	}
	v, _ := e.resolve("cmp", "single", "")
	for i := range v.Comp.Index {
		for _, bit := range []byte{0x01, 0x80} {
			tampers = append(tampers, tamper{fmt.Sprintf("index[%d]^%#x", i, bit), func(c *compRecord) bool {
				if i >= len(c.Index) {
					return false
				}
				c.Index[i] ^= bit
				return true
			}})
		}
	}
	// apply tampers with a copy of *rec and returns a restore function.
	apply := func(rec **compRecord, fn func(c *compRecord) bool) bool {
		c := **rec
		c.Index, c.MAC = bytes.Clone(c.Index), bytes.Clone(c.MAC)
		if !fn(&c) {
			return false
		}
		*rec = &c
		return true
	}
	for _, tc := range tampers {
		for key, data := range objects {
			v, _ := e.resolve("cmp", key, "")
			saved := v.Comp
			applied := false
			rewriteVersion(t, e, "cmp", key, func(v *versionRecord) { applied = apply(&v.Comp, tc.fn) })
			if !applied {
				continue
			}
			if failed := readOrCorrupt(t, e, "cmp", key, data); failed != 5 {
				t.Errorf("%s %s: %d of 5 reads failed", tc.name, key, failed)
			}
			rewriteVersion(t, e, "cmp", key, func(v *versionRecord) { v.Comp = saved })
		}
		v, _ := e.resolve("cmp", "mp", "")
		saved := v.Parts[0].Comp
		applied := false
		rewriteVersion(t, e, "cmp", "mp", func(v *versionRecord) { applied = apply(&v.Parts[0].Comp, tc.fn) })
		if applied {
			if failed := readOrCorrupt(t, e, "cmp", "mp", mp); failed == 0 {
				t.Errorf("%s mp: tampering went unnoticed", tc.name)
			}
			rewriteVersion(t, e, "cmp", "mp", func(v *versionRecord) { v.Parts[0].Comp = saved })
		}
	}
	for key, data := range objects {
		if failed := readOrCorrupt(t, e, "cmp", key, data); failed != 0 {
			t.Fatalf("%s: restored record does not read", key)
		}
	}
	if failed := readOrCorrupt(t, e, "cmp", "mp", mp); failed != 0 {
		t.Fatal("mp: restored record does not read")
	}

	// Dropping the record makes the reader take the compressed stream for
	// plaintext: its size disagrees with the encryption stream.
	rewriteVersion(t, e, "cmp", "single", func(v *versionRecord) { v.Comp = nil })
	if failed := readOrCorrupt(t, e, "cmp", "single", objects["single"]); failed != 5 {
		t.Errorf("record dropped: %d of 5 reads failed", failed)
	}
	// Records swapped between the parts of one upload (same data key)
	// fail their MAC (the key is per part).
	rewriteVersion(t, e, "cmp", "mp", func(v *versionRecord) { v.Parts[0].Comp, v.Parts[1].Comp = v.Parts[1].Comp, v.Parts[0].Comp })
	if failed := readOrCorrupt(t, e, "cmp", "mp", mp); failed == 0 {
		t.Error("swapped part records went unnoticed")
	}
	// The record of an earlier upload of the same part number (same key,
	// same label, same size) fails its MAC: it binds the stream's nonce.
	id, _ := e.NewMultipartUpload(ctx, "cmp", "re", PutOptions{ContentType: "text/plain"})
	if _, err := e.PutObjectPart(ctx, "cmp", "re", id, 1, bytes.NewReader(p2), int64(len(p2)), PartOptions{}); err != nil {
		t.Fatal(err)
	}
	raw, err := e.meta.Get(partKey(id, 1))
	if err != nil {
		t.Fatal(err)
	}
	var first partRecord
	if err := jsonUnmarshal(raw, &first); err != nil {
		t.Fatal(err)
	}
	again := textBytes(6, len(p2))
	pi, err := e.PutObjectPart(ctx, "cmp", "re", id, 1, bytes.NewReader(again), int64(len(again)), PartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CompleteMultipartUpload(ctx, "cmp", "re", id, []CompletePart{{Number: 1, ETag: pi.ETag}}, CompleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rewriteVersion(t, e, "cmp", "re", func(v *versionRecord) { v.Parts[0].Comp = first.Comp })
	if failed := readOrCorrupt(t, e, "cmp", "re", again); failed != 5 {
		t.Errorf("record of a replaced part: %d of 5 reads failed", failed)
	}
}

// TestCompressedStreamCorruption feeds damaged S2 streams to the decoder
// (under the identity transform, so nothing authenticates them): a
// decompression failure or a short stream is ErrCorruption.
func TestCompressedStreamCorruption(t *testing.T) {
	data := textBytes(7, 3<<20)
	dek := bytes.Repeat([]byte{5}, 32)
	nonce := make([]byte, 8)
	var buf bytes.Buffer
	enc, err := newCompressor(identity{}, dek, objectLabel, nonce).NewEncoder(&buf)
	if err != nil {
		t.Fatal(err)
	}
	enc.Write(data)
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	rec := encoderComp(enc)
	if rec == nil || rec.Size != int64(buf.Len()) {
		t.Fatalf("record %+v for %d bytes", rec, buf.Len())
	}
	tf, err := openCompressed(identity{}, rec, dek, objectLabel, nonce, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(stored []byte, off, length int64) ([]byte, error) {
		so, sl := tf.StoredRange(off, length, int64(len(data)))
		if so+sl > int64(len(stored)) {
			sl = int64(len(stored)) - so
		}
		r, err := tf.NewDecoder(bytes.NewReader(stored[so:so+sl]), off, length, int64(len(data)))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	}
	// Intact: ranges read only the blocks they need.
	if got, err := read(buf.Bytes(), 0, int64(len(data))); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("intact: %v", err)
	}
	off, length := int64(compressBlockSize+10), int64(100)
	if so, sl := tf.StoredRange(off, length, int64(len(data))); so == 0 || sl >= rec.Size/2 {
		t.Errorf("range %d+%d reads stored %d+%d of %d", off, length, so, sl, rec.Size)
	}
	if got, err := read(buf.Bytes(), off, length); err != nil || !bytes.Equal(got, data[off:off+length]) {
		t.Fatalf("intact range: %v", err)
	}
	for _, pos := range []int{20, buf.Len() / 2, buf.Len() - 3} {
		bad := bytes.Clone(buf.Bytes())
		bad[pos] ^= 0x40
		if got, err := read(bad, 0, int64(len(data))); !errors.Is(err, ErrCorruption) {
			t.Errorf("byte %d flipped: err %v, equal %v", pos, err, bytes.Equal(got, data))
		}
	}
	if _, err := read(buf.Bytes()[:buf.Len()-1000], 0, int64(len(data))); !errors.Is(err, ErrCorruption) {
		t.Errorf("truncated: %v", err)
	}
	// A record of the wrong size or a wrong key never opens.
	if _, err := openCompressed(identity{}, rec, dek, objectLabel, nonce, int64(len(data))+1); !errors.Is(err, ErrCorruption) {
		t.Errorf("wrong plaintext size: %v", err)
	}
	if _, err := openCompressed(identity{}, rec, dek, partLabel(1), nonce, int64(len(data))); !errors.Is(err, ErrCorruption) {
		t.Errorf("wrong label: %v", err)
	}
}

// TestCompressIndexSize bounds the S2 index kept in metadata: at most 4
// bytes per MiB of plaintext (plus a few bytes), with block sizes that
// vary as much as they can (random and text blocks alternating).
func TestCompressIndexSize(t *testing.T) {
	const mib = 64
	text, rnd := textBytes(1, 1<<20), randBytes(1, 1<<20)
	w := s2.NewWriter(io.Discard, s2.WriterConcurrency(1), s2.WriterBlockSize(compressBlockSize))
	for i := range mib {
		block := text
		if i%3 == 0 {
			block = rnd
		}
		w.Write(block)
	}
	idx, err := w.CloseIndex()
	if err != nil {
		t.Fatal(err)
	}
	n := len(s2.RemoveIndexHeaders(idx))
	t.Logf("index of %d MiB: %d bytes (%.2f per MiB)", mib, n, float64(n)/mib)
	if n > 4*mib+16 {
		t.Errorf("index of %d MiB is %d bytes", mib, n)
	}
}

// BenchmarkCompress64M measures PUT and GET of a compressible 64 MiB text
// object through the whole object layer with compression on and off.
//
//	go test -run XXX -bench Compress64M -benchtime 5x ./object/
func BenchmarkCompress64M(b *testing.B) {
	const size = 64 << 20
	data := textBytes(1, size)
	for _, mode := range []struct {
		name string
		on   bool
	}{{"off", false}, {"on", true}} {
		e := newCompEngine(b, CompressConfig{Enabled: mode.on})
		e.MakeBucket(ctx, "bench", MakeBucketOptions{})
		opts := PutOptions{ContentType: "text/plain"}
		b.Run("put/"+mode.name, func(b *testing.B) {
			b.SetBytes(size)
			for i := 0; i < b.N; i++ {
				if _, err := e.PutObject(ctx, "bench", "put", bytes.NewReader(data), size, opts); err != nil {
					b.Fatal(err)
				}
			}
			v, _ := e.resolve("bench", "put", "")
			b.ReportMetric(float64(v.StoredSize)/size, "stored/plain")
		})
		if _, err := e.PutObject(ctx, "bench", "k", bytes.NewReader(data), size, opts); err != nil {
			b.Fatal(err)
		}
		b.Run("get/"+mode.name, func(b *testing.B) {
			b.SetBytes(size)
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

// BenchmarkCompressIndex5G reports the size of the S2 index of a 5 GiB
// stream (the largest single PUT or part) as kept in metadata.
//
//	go test -run XXX -bench CompressIndex5G -benchtime 1x ./object/
func BenchmarkCompressIndex5G(b *testing.B) {
	text, rnd := textBytes(1, 1<<20), randBytes(1, 1<<20)
	for i := 0; i < b.N; i++ {
		w := s2.NewWriter(io.Discard, s2.WriterConcurrency(1), s2.WriterBlockSize(compressBlockSize))
		for j := range MaxObjectSize >> 20 {
			block := text
			if j%3 == 0 {
				block = rnd
			}
			w.Write(block)
		}
		idx, err := w.CloseIndex()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(s2.RemoveIndexHeaders(idx))), "index-bytes")
	}
}
