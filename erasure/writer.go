package erasure

import (
	"errors"
	"fmt"
	"sync"

	"github.com/zeebo/xxh3"
)

// errClosed is returned by Writer methods after Close or Abort.
var errClosed = errors.New("erasure: writer closed")

// Writer streams one object into temporary shard files on the set's drives.
// It is created by Set.NewWriter and is not safe for concurrent use.
//
// Memory use is one input block plus two blocks of shard pieces (the block
// being encoded and the block being written), independent of object size.
type Writer struct {
	s   *Set
	id  string
	sw  []ShardWriter // per drive; nil once the drive is dropped
	err []error       // per drive: why it was dropped (or the in-flight write error)

	buf      []byte            // pending input, < BlockSize bytes
	bufs     [2][][]byte       // double-buffered pieces: [set][drive] = hash + shard
	cur      int               // which of bufs to fill next
	inflight *sync.WaitGroup   // writes of the other buffer set, or nil
	wgs      [2]sync.WaitGroup // one per buffer set
	shards   [][]byte          // scratch: shard views into bufs[cur]

	total  int64
	sticky error // first fatal error; the writer is unusable after it
	done   bool  // Close or Abort called
}

// NewWriter starts writing object id: it creates tmp/<id> on every drive.
// Drives that fail are dropped; if fewer than WriteQuorum remain it removes
// the temps it created and returns an error wrapping ErrWriteQuorum. It
// returns ErrInvalidID (wrapped) for an unusable id.
func (s *Set) NewWriter(id string) (*Writer, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	n := len(s.drives)
	w := &Writer{s: s, id: id, sw: make([]ShardWriter, n), err: make([]error, n), shards: make([][]byte, n)}
	parallel(n, func(i int) { w.sw[i], w.err[i] = s.drives[i].CreateTemp(id) })
	if err := w.checkQuorum(); err != nil {
		return nil, err
	}
	return w, nil
}

// live returns the number of drives still written to.
func (w *Writer) live() int {
	c := 0
	for _, sw := range w.sw {
		if sw != nil {
			c++
		}
	}
	return c
}

// checkQuorum drops (aborts) drives with an error and fails the writer,
// removing every temp, when fewer than WriteQuorum drives remain. No write
// may be in flight.
func (w *Writer) checkQuorum() error {
	for i, sw := range w.sw {
		if w.err[i] != nil && sw != nil {
			sw.Abort()
			w.sw[i] = nil
		}
	}
	if live := w.live(); live < w.s.WriteQuorum() {
		w.sticky = fmt.Errorf("erasure: write %s: %d of %d drives left, need %d: %w (%w)",
			w.id, live, len(w.sw), w.s.WriteQuorum(), ErrWriteQuorum, errors.Join(w.err...))
		w.abortAll()
		return w.sticky
	}
	return nil
}

func (w *Writer) abortAll() {
	w.wait()
	for i, sw := range w.sw {
		if sw != nil {
			sw.Abort()
			w.sw[i] = nil
		}
	}
	w.release()
}

// release returns the writer's buffers to the set's free lists. No write
// may be in flight.
func (w *Writer) release() {
	for c := range w.bufs {
		for _, b := range w.bufs[c] {
			w.s.pieces.put(b)
		}
		w.bufs[c] = nil
	}
	w.s.blocks.put(w.buf)
	w.buf = nil
}

func (w *Writer) wait() {
	if w.inflight != nil {
		w.inflight.Wait()
		w.inflight = nil
	}
}

// Write encodes p into the shard files, a block at a time. It returns an
// error wrapping ErrWriteQuorum (and removes all temps) once fewer than
// WriteQuorum drives accept writes; failing drives are dropped silently
// while the quorum holds (see Failed).
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errClosed
	}
	if w.sticky != nil {
		return 0, w.sticky
	}
	bs := w.s.blockSize
	written := 0
	for len(p) > 0 {
		if len(w.buf) == 0 && len(p) >= bs {
			// Whole block straight from p: flush copies it into the shards.
			if err := w.flush(p[:bs]); err != nil {
				return written, err
			}
			p, written = p[bs:], written+bs
			w.total += int64(bs)
			continue
		}
		if w.buf == nil {
			w.buf = w.s.blocks.get()
		}
		c := min(bs-len(w.buf), len(p))
		w.buf = append(w.buf, p[:c]...)
		p, written = p[c:], written+c
		w.total += int64(c)
		if len(w.buf) == bs {
			if err := w.flush(w.buf); err != nil {
				return written, err
			}
			w.buf = w.buf[:0]
		}
	}
	return written, nil
}

// flush encodes one block and hands its pieces to the drives. It overlaps
// the encoding of this block with the writes of the previous one.
func (w *Writer) flush(block []byte) error {
	k := w.s.k
	shardLen := int(ceilDiv(int64(len(block)), int64(k)))
	bufs := w.bufs[w.cur]
	if bufs == nil {
		bufs = make([][]byte, len(w.sw))
		w.bufs[w.cur] = bufs
	}
	for i := range bufs {
		if bufs[i] == nil {
			bufs[i] = w.s.pieces.get()
		}
		bufs[i] = bufs[i][:hashSize+shardLen]
		w.shards[i] = bufs[i][hashSize:]
	}
	for i := 0; i < k; i++ {
		lo := min(i*shardLen, len(block))
		hi := min(lo+shardLen, len(block))
		c := copy(w.shards[i], block[lo:hi])
		clear(w.shards[i][c:])
	}
	if err := w.s.enc.Encode(w.shards); err != nil {
		w.sticky = fmt.Errorf("erasure: encode %s: %w", w.id, err)
		w.abortAll()
		return w.sticky
	}
	w.wait()
	if err := w.checkQuorum(); err != nil {
		return err
	}
	wg := &w.wgs[w.cur]
	for i, sw := range w.sw {
		if sw == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			piece := bufs[i]
			h := xxh3.Hash128(piece[hashSize:]).Bytes()
			copy(piece, h[:])
			if _, err := sw.Write(piece); err != nil {
				w.err[i] = err
			}
		}()
	}
	w.inflight = wg
	w.cur ^= 1
	return nil
}

// Close encodes the final partial block, fsyncs every shard file and the
// tmp directory, and closes the files. It returns the number of bytes
// written. If fewer than WriteQuorum drives succeeded it removes all temps
// and returns an error wrapping ErrWriteQuorum. The shards stay in tmp
// until Set.Commit.
func (w *Writer) Close() (int64, error) {
	if w.done {
		return w.total, errClosed
	}
	w.done = true
	if w.sticky != nil {
		return w.total, w.sticky
	}
	if len(w.buf) > 0 {
		if err := w.flush(w.buf); err != nil {
			return w.total, err
		}
	}
	w.wait()
	if err := w.checkQuorum(); err != nil {
		return w.total, err
	}
	parallel(len(w.sw), func(i int) {
		if sw := w.sw[i]; sw != nil {
			err := sw.Sync()
			if cerr := sw.Close(); err == nil {
				err = cerr
			}
			w.err[i] = err
		}
	})
	if err := w.checkQuorum(); err != nil {
		return w.total, err
	}
	w.release()
	return w.total, nil
}

// Abort stops the write and removes the temporary shard files. It may be
// called at any time, also after Close (before Set.Commit) to discard a
// written object; it is a no-op on already committed shards.
func (w *Writer) Abort() {
	w.done = true
	w.abortAll()
	if w.sticky == nil {
		w.sticky = errClosed
	}
}

// Failed returns the indexes of drives dropped from this writer because a
// write, sync or close failed. Their shards are missing and the object
// needs healing once committed.
func (w *Writer) Failed() []int {
	var idx []int
	for i, err := range w.err {
		if err != nil {
			idx = append(idx, i)
		}
	}
	return idx
}
