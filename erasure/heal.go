package erasure

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/zeebo/xxh3"
)

// HealResult reports what Heal found and did.
type HealResult struct {
	// Bad lists the drives whose shard file was missing, of the wrong
	// size, unreadable or failed verification in at least one block.
	Bad []int
	// Healed lists the drives whose shard file was rewritten and committed.
	Healed []int
	// Errs holds, for drives in Bad that could not be rewritten, the cause.
	Errs map[int]error
}

// Heal verifies every block of object id (size bytes) on every drive and
// rewrites the shard files that are missing or corrupt: the good shards are
// read, the bad ones rebuilt with Reed-Solomon and written to tmp, then
// committed (renamed over the bad file), so a reader sees either the old or
// the new file. Good shards still in tmp (a Set.Commit that missed the
// drive) are committed too. Heal must not run concurrently with a Writer or
// Delete of the same id; it is meant for committed objects.
//
// It returns an error wrapping ErrReadQuorum (and ErrCorruption when bad
// pieces were found) when fewer than k good shards exist for some block:
// the object cannot be rebuilt. If some bad drives could not be rewritten
// it returns the result with their causes in Errs and a non-nil error
// joining them; healing is idempotent and may be retried.
func (s *Set) Heal(id string, size int64) (HealResult, error) {
	var res HealResult
	if err := validID(id); err != nil {
		return res, err
	}
	if size < 0 {
		return res, fmt.Errorf("%w: negative size %d", ErrInvalidRange, size)
	}
	n := len(s.drives)
	f := s.openShards(id, size)
	defer f.close()

	// Pass 1: verify every piece on every drive.
	bad := make([]bool, n)
	nblocks := ceilDiv(size, int64(s.blockSize))
	all := make([]int, 0, n)
	for b := int64(0); b < nblocks; b++ {
		_, shardLen, fileOff := f.geometry(b)
		f.startBlock()
		all = all[:0]
		for i := range n {
			if !f.gone[i] {
				all = append(all, i)
			}
		}
		f.read(all, fileOff, shardLen)
		for i := range n {
			bad[i] = bad[i] || !f.good[i]
		}
		if got := n - count(bad); got < s.k {
			return res, f.quorumErr(b, got)
		}
	}
	for i := range n {
		if bad[i] || f.gone[i] {
			bad[i] = true
			res.Bad = append(res.Bad, i)
		}
	}
	// Good shards left in tmp (a Set.Commit that missed the drive) are
	// committed; best effort, Open reads them from tmp anyway.
	parallel(n, func(i int) {
		if !bad[i] {
			s.drives[i].Commit(id)
		}
	})
	if len(res.Bad) == 0 {
		return res, nil
	}
	if n-len(res.Bad) < s.k {
		return res, f.quorumErr(0, n-len(res.Bad))
	}

	// Pass 2: rebuild the bad shards from the good ones.
	res.Errs = map[int]error{}
	writers := make([]ShardWriter, n)
	var mu sync.Mutex
	fail := func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := res.Errs[i]; !ok {
			res.Errs[i] = err
		}
		if writers[i] != nil {
			writers[i].Abort()
			writers[i] = nil
		}
	}
	parallel(len(res.Bad), func(j int) {
		i := res.Bad[j]
		w, err := s.drives[i].CreateTemp(id)
		mu.Lock()
		writers[i] = w
		mu.Unlock()
		if err != nil {
			fail(i, err)
		}
	})
	defer func() {
		for _, w := range writers {
			if w != nil {
				w.Abort()
			}
		}
	}()
	tried := make([]bool, n)
	for b := int64(0); b < nblocks; b++ {
		_, shardLen, _ := f.geometry(b)
		f.startBlock()
		copy(tried, bad) // never read the drives being healed
		if err := f.fill(b, tried); err != nil {
			return res, err
		}
		f.prepareMissing(shardLen)
		required := make([]bool, n)
		for i := range n {
			required[i] = writers[i] != nil
		}
		if err := s.enc.ReconstructSome(f.shards, required); err != nil {
			return res, fmt.Errorf("erasure: heal %s block %d: %w", id, b, err)
		}
		parallel(n, func(i int) {
			if !required[i] {
				return
			}
			piece := f.bufs[i][:hashSize+shardLen]
			copy(piece[hashSize:], f.shards[i]) // no-op unless RS reallocated
			h := xxh3.Hash128(piece[hashSize:]).Bytes()
			copy(piece, h[:])
			if _, err := writers[i].Write(piece); err != nil {
				fail(i, err)
			}
		})
	}
	parallel(n, func(i int) {
		w := writers[i]
		if w == nil {
			return
		}
		err := w.Sync()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = s.drives[i].Commit(id)
		}
		if err != nil {
			fail(i, err)
			return
		}
		mu.Lock()
		writers[i] = nil
		res.Healed = append(res.Healed, i)
		mu.Unlock()
	})
	sort.Ints(res.Healed)
	if len(res.Errs) == 0 {
		res.Errs = nil
		return res, nil
	}
	errs := make([]error, 0, len(res.Errs))
	for i, err := range res.Errs {
		errs = append(errs, fmt.Errorf("drive %d (%s): %w", i, s.drives[i], err))
	}
	return res, fmt.Errorf("erasure: heal %s incomplete: %w", id, errors.Join(errs...))
}

func count(b []bool) int {
	c := 0
	for _, v := range b {
		if v {
			c++
		}
	}
	return c
}
