package bench

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// slot is one prepared object.
type slot struct {
	key     string
	size    int64
	readers int32 // GET/HEAD in flight
}

// pool is the set of prepared objects the get, mixed, list and delete
// workloads work on. For mixed it tracks which objects exist, so that a
// GET never races a DELETE or an overwrite of the same key: readers share
// a present object, writers (PUT, DELETE) take it out of the present set
// while they run.
type pool struct {
	mu      sync.Mutex
	slots   []slot
	present []int32 // indices of existing, not exclusively held objects
	pos     []int32 // index into present, or -1
	absent  []int32 // indices of deleted objects, ready to be refilled
}

func newPool(n int) *pool {
	p := &pool{slots: make([]slot, n), present: make([]int32, n), pos: make([]int32, n)}
	for i := range n {
		p.present[i], p.pos[i] = int32(i), int32(i)
	}
	return p
}

func (p *pool) removePresent(i int32) {
	j := p.pos[i]
	last := p.present[len(p.present)-1]
	p.present[j], p.pos[last] = last, j
	p.present = p.present[:len(p.present)-1]
	p.pos[i] = -1
}

func (p *pool) addPresent(i int32) {
	p.pos[i] = int32(len(p.present))
	p.present = append(p.present, i)
}

// acquireRead picks a random existing object for GET or HEAD.
func (p *pool) acquireRead(w *worker) (i int32, key string, size int64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.present) == 0 {
		return -1, "", 0, false
	}
	i = p.present[w.rng.IntN(len(p.present))]
	s := &p.slots[i]
	s.readers++
	return i, s.key, s.size, true
}

func (p *pool) releaseRead(i int32) {
	p.mu.Lock()
	p.slots[i].readers--
	p.mu.Unlock()
}

// acquireWrite takes an object out of the present set for exclusive use:
// an absent one when refill is set and one exists, else a present one
// with no readers. ok is false when none is free.
func (p *pool) acquireWrite(w *worker, refill bool) (int32, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if refill && len(p.absent) > 0 {
		k := w.rng.IntN(len(p.absent))
		i := p.absent[k]
		p.absent[k] = p.absent[len(p.absent)-1]
		p.absent = p.absent[:len(p.absent)-1]
		return i, true
	}
	for range 8 {
		if len(p.present) == 0 {
			break
		}
		i := p.present[w.rng.IntN(len(p.present))]
		if p.slots[i].readers == 0 {
			p.removePresent(i)
			return i, true
		}
	}
	return -1, false
}

// releaseWrite returns an exclusively held object: present when it now
// exists, absent otherwise (a failed write leaves the state unknown, so it
// is treated as absent and refilled later).
func (p *pool) releaseWrite(i int32, exists bool, size int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if exists {
		p.slots[i].size = size
		p.addPresent(i)
	} else {
		p.absent = append(p.absent, i)
	}
}

func (st *runState) pickSize(w *worker) int64 {
	if len(st.sizes) == 1 {
		return st.sizes[0]
	}
	return st.sizes[w.rng.IntN(len(st.sizes))]
}

// newKey returns a key unique to this run and worker.
func (st *runState) newKey(w *worker, kind string) string {
	w.seq++
	return st.prefix + kind + "/" + strconv.Itoa(w.id) + "/" + strconv.FormatInt(w.seq, 10)
}

func (st *runState) stepPut(w *worker, _ int64) {
	key, size := st.newKey(w, "put"), st.pickSize(w)
	t := time.Now()
	n, err := w.conn.putObject(st.payload, key, size)
	w.record(opPut, time.Since(t), n, err)
}

func (st *runState) stepGet(w *worker, _ int64) {
	s := &st.pool.slots[w.rng.IntN(len(st.pool.slots))]
	t := time.Now()
	n, err := w.conn.getObject(s.key, s.size)
	w.record(opGet, time.Since(t), n, err)
}

func (st *runState) stepMixed(w *worker, ticket int64) {
	p := st.pool
	op := st.cfg.Mix.pick(w.rng.IntN(st.cfg.Mix.total()))
	if op == opGet || op == opHead {
		i, key, size, ok := p.acquireRead(w)
		if ok {
			t := time.Now()
			var n int64
			var err error
			if op == opGet {
				n, err = w.conn.getObject(key, size)
			} else {
				err = w.conn.headObject(key)
			}
			w.record(op, time.Since(t), n, err)
			p.releaseRead(i)
			return
		}
		op = opPut // nothing to read: refill instead
	}
	i, ok := p.acquireWrite(w, op == opPut)
	if !ok {
		// Every object is busy: nothing was done, so give the operation
		// back (an --ops run still performs exactly --ops operations).
		if ticket >= 0 {
			st.claimed.Add(-1)
		}
		runtime.Gosched()
		return
	}
	key := p.slots[i].key
	t := time.Now()
	if op == opDelete {
		err := w.conn.deleteObject(key)
		w.record(opDelete, time.Since(t), 0, err)
		p.releaseWrite(i, false, 0)
		return
	}
	size := st.pickSize(w)
	n, err := w.conn.putObject(st.payload, key, size)
	w.record(opPut, time.Since(t), n, err)
	p.releaseWrite(i, err == nil, size)
}

// listState is a worker's position in its current full listing.
type listState struct {
	token string
	keys  int
}

func (st *runState) stepList(w *worker, _ int64) {
	t := time.Now()
	keys, n, next, err := w.conn.listPage(st.prefix+"obj/", w.list.token)
	lat := time.Since(t)
	if err != nil {
		w.list = listState{}
		w.record(opList, lat, n, err)
		return
	}
	w.list.keys += keys
	w.list.token = next
	if next == "" {
		want := len(st.pool.slots)
		got := w.list.keys
		w.list = listState{}
		if got != want {
			err = &OpError{Op: "ListObjectsV2", Status: 200, Message: fmt.Sprintf("full listing returned %d keys, want %d", got, want)}
		}
	}
	w.record(opList, lat, n, err)
}

func (st *runState) stepDelete(w *worker, ticket int64) {
	if ticket < 0 || ticket >= int64(len(st.pool.slots)) {
		return
	}
	key := st.pool.slots[ticket].key
	t := time.Now()
	err := w.conn.deleteObject(key)
	w.record(opDelete, time.Since(t), 0, err)
}

// partSizes lists every part length multipart uploads of the given object
// sizes produce, so that the payload can hash them up front.
func partSizes(sizes []int64, partSize int64) []int64 {
	out := []int64{}
	for _, s := range sizes {
		if s >= partSize {
			out = append(out, partSize)
		}
		if r := s % partSize; r != 0 || s == 0 {
			out = append(out, r)
		}
	}
	return out
}

func (st *runState) stepMultipart(w *worker, _ int64) {
	key, size := st.newKey(w, "mpu"), st.pickSize(w)
	part := st.cfg.PartSize
	t := time.Now()
	id, err := w.conn.createMultipart(key)
	if err != nil {
		w.record(opMultipart, time.Since(t), 0, err)
		return
	}
	w.etags = w.etags[:0]
	for off, num := int64(0), 1; off < size || num == 1; off, num = off+part, num+1 {
		n := min(part, size-off)
		pt := time.Now()
		etag, err := w.conn.uploadPart(st.payload, key, id, num, n)
		w.record(opPart, time.Since(pt), n, err)
		if err != nil {
			_ = w.conn.abortMultipart(key, id)
			w.record(opMultipart, time.Since(t), 0, err)
			return
		}
		w.etags = append(w.etags, etag)
	}
	err = w.conn.completeMultipart(key, id, w.etags)
	if err != nil {
		_ = w.conn.abortMultipart(key, id)
	}
	w.record(opMultipart, time.Since(t), size, err)
}
