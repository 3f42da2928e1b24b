package erasure

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/zeebo/xxh3"
)

// shardFiles holds the open shard files of one object on all drives and
// reads and verifies block pieces from them. It is the common core of the
// reader and of Heal.
type shardFiles struct {
	s    *Set
	id   string
	size int64

	files   []ShardReader // per drive; nil if unavailable
	gone    []bool        // drive unusable for the rest of this operation
	damaged bool          // some shard was missing, short, or failed verification
	corrupt bool          // some shard was present but failed verification
	errs    []error       // per drive: why it is gone

	bufs   [][]byte // per drive piece buffer: hash + shard
	block  []byte   // when set, the data drives' pieces of the current block live here
	shards [][]byte // per drive shard view of bufs (len 0 = not available)
	good   []bool   // per drive: piece of the current block verified
}

// openShards opens the object's shard file on every drive concurrently and
// checks its size.
func (s *Set) openShards(id string, size int64) *shardFiles {
	n := len(s.drives)
	f := &shardFiles{
		s: s, id: id, size: size,
		files: make([]ShardReader, n), gone: make([]bool, n), errs: make([]error, n),
		bufs: make([][]byte, n), shards: make([][]byte, n), good: make([]bool, n),
	}
	want := ShardSize(size, s.blockSize, s.k)
	var mu sync.Mutex
	parallel(n, func(i int) {
		r, err := s.drives[i].Open(id)
		if err == nil && r.Size() != want {
			err = fmt.Errorf("erasure: shard %s on %s has %d bytes, want %d: %w", id, s.drives[i], r.Size(), want, ErrCorruption)
			r.Close()
		}
		if err != nil {
			mu.Lock()
			f.gone[i], f.errs[i], f.damaged = true, err, true
			if errors.Is(err, ErrCorruption) {
				f.corrupt = true
			}
			mu.Unlock()
			return
		}
		f.files[i] = r
	})
	return f
}

// available returns the number of drives not gone.
func (f *shardFiles) available() int {
	c := 0
	for _, g := range f.gone {
		if !g {
			c++
		}
	}
	return c
}

// close closes the files and returns the piece buffers to the set's pool:
// no slice of them may be used afterwards.
func (f *shardFiles) close() {
	for i, r := range f.files {
		if r != nil {
			r.Close()
			f.files[i] = nil
		}
	}
	for i, b := range f.bufs {
		if b != nil {
			f.s.pieces.put(b)
			f.bufs[i], f.shards[i] = nil, nil
		}
	}
}

// piece returns the piece buffer of drive i, of length n: the drive's slot in
// f.block for a data drive while a block buffer is set (so a reader's output
// needs no assembling copy), else f.bufs[i] from the set's pool.
func (f *shardFiles) piece(i, n int) []byte {
	if i < f.s.k && f.block != nil {
		ps := f.s.pieces.size
		return f.block[i*ps : i*ps+n : (i+1)*ps]
	}
	if f.bufs[i] == nil {
		f.bufs[i] = f.s.pieces.get()
	}
	f.bufs[i] = f.bufs[i][:n]
	return f.bufs[i]
}

// geometry returns, for block b, its length, the shard piece length and the
// piece's offset in every shard file.
func (f *shardFiles) geometry(b int64) (blockLen int64, shardLen int, fileOff int64) {
	bs, k := int64(f.s.blockSize), int64(f.s.k)
	blockLen = min(bs, f.size-b*bs)
	shardLen = int(ceilDiv(blockLen, k))
	fileOff = b * (hashSize + ceilDiv(bs, k))
	return
}

// startBlock forgets the pieces of the previous block.
func (f *shardFiles) startBlock() {
	for i := range f.good {
		f.good[i] = false
		f.shards[i] = nil
	}
}

// read reads and verifies the pieces of drives idx for the block at fileOff
// concurrently. It returns how many of them verified. A drive whose read
// fails is gone; a piece whose hash mismatches is marked corrupt for this
// block only.
func (f *shardFiles) read(idx []int, fileOff int64, shardLen int) int {
	var mu sync.Mutex
	ok := 0
	parallel(len(idx), func(j int) {
		i := idx[j]
		need := hashSize + shardLen
		buf := f.piece(i, need)
		n, err := f.files[i].ReadAt(buf, fileOff)
		if n == need {
			err = nil
		} else if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		var verr error
		if err == nil {
			h := xxh3.Hash128(buf[hashSize:]).Bytes()
			if [16]byte(buf[:hashSize]) != h {
				verr = fmt.Errorf("erasure: shard %s on %s: bitrot at offset %d: %w", f.id, f.s.drives[i], fileOff, ErrCorruption)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			f.gone[i], f.errs[i], f.damaged = true, err, true
		case verr != nil:
			f.errs[i], f.damaged, f.corrupt = verr, true, true
		default:
			f.good[i] = true
			f.shards[i] = buf[hashSize:]
			ok++
		}
	})
	return ok
}

// fill reads more pieces of the current block, data shards first, until k
// verified pieces are available; tried marks drives already read for this
// block. It returns an error wrapping ErrReadQuorum (and ErrCorruption if
// bad pieces contributed) when that is impossible.
func (f *shardFiles) fill(b int64, tried []bool) error {
	_, shardLen, fileOff := f.geometry(b)
	k := f.s.k
	for {
		have := 0
		for _, g := range f.good {
			if g {
				have++
			}
		}
		if have >= k {
			return nil
		}
		var next []int
		for i := range f.files {
			if len(next) == k-have {
				break
			}
			if !tried[i] && !f.gone[i] {
				next = append(next, i)
				tried[i] = true
			}
		}
		if len(next) == 0 {
			return f.quorumErr(b, have)
		}
		f.read(next, fileOff, shardLen)
	}
}

func (f *shardFiles) quorumErr(b int64, have int) error {
	err := fmt.Errorf("erasure: read %s block %d: %d good shards, need %d: %w (%w)",
		f.id, b, have, f.s.k, ErrReadQuorum, errors.Join(f.errs...))
	if f.corrupt && !errors.Is(err, ErrCorruption) {
		err = fmt.Errorf("%w: %w", ErrCorruption, err)
	}
	return err
}

// prepareMissing gives every shard without a verified piece an empty slice
// with capacity for shardLen bytes, for the Reed-Solomon reconstruction.
func (f *shardFiles) prepareMissing(shardLen int) {
	for i := range f.shards {
		if f.good[i] {
			continue
		}
		f.shards[i] = f.piece(i, hashSize+shardLen)[hashSize:hashSize]
	}
}

// NewReader returns a reader of length bytes of object id starting at off.
// size is the object's total size, known from its metadata. Only the blocks
// covering the range are read; each piece used is verified against its
// hash, and missing or corrupt pieces are rebuilt from the other shards, so
// the reader never returns bytes that failed verification. When any shard
// was found missing or corrupt, Options.OnCorrupt is called once (from
// NewReader or from the reader's prefetch goroutine).
//
// The reader decodes one block ahead of the caller in a goroutine; memory is
// two block buffers (the data pieces of a block, read and verified in place
// and handed to Read without assembling) plus the parity pieces.
//
// Errors (from NewReader or Read): ErrInvalidRange when the range is not
// inside [0, size]; ErrReadQuorum when fewer than k good pieces of a block
// can be read, also matching ErrCorruption when some pieces were present
// but bad. The caller must Close the reader.
func (s *Set) NewReader(id string, size int64, off, length int64) (io.ReadCloser, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	if size < 0 || off < 0 || length < 0 || off > size || length > size-off {
		return nil, fmt.Errorf("%w: [%d, +%d) of %d bytes", ErrInvalidRange, off, length, size)
	}
	r := &reader{off: off, end: off + length, onCorrupt: s.onCorrupt}
	if length == 0 {
		return r, nil
	}
	r.f = s.openShards(id, size)
	r.tried = make([]bool, len(s.drives))
	r.report()
	if have := r.f.available(); have < s.k {
		err := r.f.quorumErr(off/int64(s.blockSize), have)
		r.f.close()
		return nil, err
	}
	r.ready = make(chan chunk)
	r.free = make(chan []byte, 2)
	r.free <- nil
	r.free <- nil
	r.done = make(chan struct{})
	r.exited = make(chan struct{})
	go r.produce()
	return r, nil
}

// chunk is the decoded part of one block (or the error that ended the
// stream): segments of the data shards' pieces in buf, a block buffer.
type chunk struct {
	segs [][]byte
	buf  []byte
	err  error
}

// reader streams a byte range of an object. A producer goroutine decodes
// blocks into one of two buffers while the caller consumes the other.
type reader struct {
	// producer state
	f         *shardFiles
	off, end  int64 // next byte to decode, end of range (object offsets)
	onCorrupt func(string)
	reported  bool
	tried     []bool

	ready  chan chunk    // producer -> consumer
	free   chan []byte   // consumer -> producer (buffers to reuse)
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when the producer returns

	// consumer state
	cur     [][]byte // unread segments of the current chunk
	curBuf  []byte   // the current chunk's buffer, returned to free when used
	scratch []byte   // Next's buffer for bytes that straddle two segments
	err     error
}

// report calls OnCorrupt once, the first time damage is seen.
func (r *reader) report() {
	if !r.reported && r.f.damaged {
		r.reported = true
		if r.onCorrupt != nil {
			r.onCorrupt(r.f.id)
		}
	}
}

// produce decodes the range block by block until the end, an error or
// Close.
func (r *reader) produce() {
	defer close(r.exited)
	for {
		var buf []byte
		select {
		case buf = <-r.free:
		case <-r.done:
			return
		}
		if buf == nil {
			buf = r.f.s.blocks.get()
		}
		c := chunk{err: io.EOF}
		if r.off < r.end {
			c.segs, c.err = r.nextBlock(buf[:cap(buf)])
		}
		if c.err == nil {
			c.buf = buf
		} else {
			r.f.s.blocks.put(buf) // the end or an error: buf is unused
		}
		select {
		case r.ready <- c:
		case <-r.done:
			if c.buf != nil {
				r.f.s.blocks.put(c.buf) // never handed over: still ours
			}
			return
		}
		if c.err != nil {
			return
		}
	}
}

// advance makes r.cur non-empty, taking the next chunk from the producer
// (and handing the used buffer back) when needed, or returns the error that
// ended the stream (io.EOF at the end of the range).
func (r *reader) advance() error {
	if r.f == nil && r.err == nil {
		r.err = io.EOF // empty range
	}
	for len(r.cur) == 0 {
		if r.err != nil {
			return r.err
		}
		if r.curBuf != nil {
			r.free <- r.curBuf // never blocks: at most two buffers exist
			r.curBuf = nil
		}
		c := <-r.ready
		if c.err != nil {
			r.err = c.err
			return c.err
		}
		r.cur, r.curBuf = c.segs, c.buf
		for len(r.cur) > 0 && len(r.cur[0]) == 0 {
			r.cur = r.cur[1:]
		}
	}
	return nil
}

// Next returns the next n bytes of the range without copying them when they
// lie in one shard piece (the common case), else copied into a scratch
// buffer. The slice is valid only until the next call of Next, Read or
// Close. At the end of the range it returns what is left, with
// io.ErrUnexpectedEOF, or nothing with io.EOF; other errors are those of
// Read.
func (r *reader) Next(n int) ([]byte, error) {
	if err := r.advance(); err != nil {
		return nil, err
	}
	if seg := r.cur[0]; len(seg) >= n {
		if r.cur[0] = seg[n:]; len(r.cur[0]) == 0 {
			r.cur = r.cur[1:]
		}
		return seg[:n:n], nil
	}
	if cap(r.scratch) < n {
		r.scratch = make([]byte, n)
	}
	buf := r.scratch[:n]
	got, err := io.ReadFull(r, buf)
	return buf[:got], err
}

// Read implements io.Reader.
func (r *reader) Read(p []byte) (int, error) {
	if err := r.advance(); err != nil {
		return 0, err
	}
	n := 0
	for len(r.cur) > 0 && n < len(p) {
		c := copy(p[n:], r.cur[0])
		n += c
		if r.cur[0] = r.cur[0][c:]; len(r.cur[0]) == 0 {
			r.cur = r.cur[1:]
		}
	}
	return n, nil
}

// nextBlock reads and, if needed, reconstructs the block holding r.off into
// block (a buffer of k pieces) and returns the bytes of the range in it, as
// segments of the data shards.
func (r *reader) nextBlock(block []byte) ([][]byte, error) {
	f := r.f
	f.block = block
	defer func() { f.block = nil }()
	bs := int64(f.s.blockSize)
	b := r.off / bs
	blockLen, shardLen, fileOff := f.geometry(b)
	lo := int(r.off - b*bs)
	hi := int(min(r.end-b*bs, blockLen))
	f.startBlock()
	clear(r.tried)
	// Read only the data shards overlapping [lo, hi) first.
	first, last := lo/shardLen, (hi-1)/shardLen
	var want []int
	for i := first; i <= last; i++ {
		r.tried[i] = true
		if !f.gone[i] {
			want = append(want, i)
		}
	}
	if f.read(want, fileOff, shardLen) < last-first+1 {
		if err := f.fill(b, r.tried); err != nil {
			r.report()
			return nil, err
		}
		f.prepareMissing(shardLen)
		if err := f.s.enc.ReconstructData(f.shards); err != nil {
			r.report()
			return nil, fmt.Errorf("erasure: reconstruct %s block %d: %w", f.id, b, err)
		}
	}
	r.report()
	segs := make([][]byte, 0, last-first+1)
	for i := first; i <= last; i++ {
		s := f.shards[i]
		segs = append(segs, s[max(lo-i*shardLen, 0):min(hi-i*shardLen, shardLen)])
	}
	r.off += int64(hi - lo)
	return segs, nil
}

// Close stops the prefetching and releases the shard files. It always
// returns nil.
func (r *reader) Close() error {
	if r.done != nil {
		close(r.done)
		<-r.exited
		r.done = nil
		r.f.close()
		// The producer is gone: the buffers in free and the consumer's
		// go back to the pool. Read copies out, and a slice Next handed
		// out is valid only until the next call or Close, so no caller
		// may still hold one.
		for {
			select {
			case b := <-r.free:
				r.f.s.blocks.put(b)
				continue
			default:
			}
			break
		}
		r.f.s.blocks.put(r.curBuf)
	}
	r.cur, r.curBuf = nil, nil
	if r.err == nil || r.err == io.EOF {
		r.err = errClosed
	}
	return nil
}
