package erasure

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/reedsolomon"
)

const (
	minDrives = 4
	maxDrives = 16
	// DefaultBlockSize is the block size of a freshly formatted set when
	// Options.BlockSize is 0.
	DefaultBlockSize = 1 << 20
	// hashSize is the size of the bitrot hash preceding every shard piece.
	hashSize = 16
)

// Options configure OpenSet. Parity and BlockSize apply only when a fresh
// set is formatted; an existing set keeps the values in its format records.
type Options struct {
	// Parity is the number of parity shards m (1..n/2); -1 or 0 selects
	// DefaultParity(n).
	Parity int
	// BlockSize is the number of object bytes per erasure block; 0 selects
	// DefaultBlockSize.
	BlockSize int
	// OnCorrupt, if set, is called with an object id when a read found one
	// of its shards missing or corrupt, at most once per reader, from the
	// reader's goroutine. It must not block for long (queue the id for
	// Heal).
	OnCorrupt func(id string)
}

// DefaultParity returns the default parity for a set of n drives: 2 for 4–5
// drives, 3 for 6–7 and 4 for 8–16. It returns 0 for n outside 4..16.
func DefaultParity(n int) int {
	switch {
	case n < minDrives || n > maxDrives:
		return 0
	case n <= 5:
		return 2
	case n <= 7:
		return 3
	default:
		return 4
	}
}

// Set is an erasure set: drives formatted together that store every object
// as k data + m parity shards. A Set is safe for concurrent use.
type Set struct {
	drives       []Drive
	k, m         int
	blockSize    int
	deploymentID string
	replaced     []int
	onCorrupt    func(string)
	enc          reedsolomon.Encoder
	// pieces and blocks pool the readers' buffers (one piece: hash +
	// shard of a full block; one block buffer: the k data pieces of a
	// block, which readers hand out in place), so that GETs do not
	// allocate and clear megabytes per request.
	pieces, blocks bufPool
}

// OpenSet opens the set made of drives (in set order), formatting it when
// every drive is unformatted.
//
// It returns an error wrapping ErrInvalidDriveCount for fewer than 4 or more
// than 16 drives, and wrapping ErrFormatMismatch (naming the drive) when a
// formatted drive belongs to another deployment, another drive list, or
// another position (drives swapped or reordered). An unformatted drive in a
// formatted set (a wiped or replaced drive) is given the format of its
// position and reported by Replaced, so the caller can heal it. It fails
// with an error wrapping ErrWriteQuorum when fewer than WriteQuorum drives
// are readable, and refuses to format blank drives when fewer than
// ReadQuorum drives carry the set's format (the data could not be rebuilt,
// which signals wrong drives rather than failed ones).
func OpenSet(drives []Drive, opts Options) (*Set, error) {
	n := len(drives)
	if n < minDrives || n > maxDrives {
		return nil, fmt.Errorf("%w: got %d", ErrInvalidDriveCount, n)
	}
	formats := make([]Format, n)
	errs := make([]error, n)
	parallel(n, func(i int) { formats[i], errs[i] = drives[i].ReadFormat() })

	var formatted, blank, failed []int
	for i, err := range errs {
		switch {
		case err == nil:
			formatted = append(formatted, i)
		case errors.Is(err, ErrUnformatted):
			blank = append(blank, i)
		default:
			failed = append(failed, i)
		}
	}
	if len(formatted) == 0 {
		if len(failed) > 0 {
			return nil, fmt.Errorf("erasure: cannot format a new set while drives fail: %w", errors.Join(errs...))
		}
		return formatNew(drives, opts)
	}
	ref, err := referenceFormat(drives, formats, formatted)
	if err != nil {
		return nil, err
	}
	s, err := newSet(drives, ref.Parity, ref.BlockSize, ref.DeploymentID, opts.OnCorrupt)
	if err != nil {
		return nil, err
	}
	if len(formatted) < s.ReadQuorum() && len(blank) > 0 {
		return nil, fmt.Errorf("erasure: only %d of %d drives carry deployment %s (need %d); refusing to format %d blank drives: %w",
			len(formatted), n, ref.DeploymentID, s.ReadQuorum(), len(blank), ErrReadQuorum)
	}
	var mu sync.Mutex
	parallel(len(blank), func(j int) {
		i := blank[j]
		f := ref
		f.Index, f.DriveID = i, ref.Drives[i]
		err := drives[i].WriteFormat(f)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs[i] = err
			failed = append(failed, i)
			return
		}
		s.replaced = append(s.replaced, i)
	})
	sort.Ints(s.replaced)
	if online := n - len(failed); online < s.WriteQuorum() {
		return nil, fmt.Errorf("erasure: %d of %d drives online, need %d: %w (%v)",
			online, n, s.WriteQuorum(), ErrWriteQuorum, errors.Join(errs...))
	}
	return s, nil
}

// referenceFormat picks the format agreed by most formatted drives and
// checks every formatted drive against it.
func referenceFormat(drives []Drive, formats []Format, formatted []int) (Format, error) {
	key := func(f Format) string {
		return fmt.Sprintf("%s|%s|%d|%d", f.DeploymentID, strings.Join(f.Drives, ","), f.Parity, f.BlockSize)
	}
	count := map[string]int{}
	best := -1
	for _, i := range formatted {
		c := count[key(formats[i])] + 1
		count[key(formats[i])] = c
		if best < 0 || c > count[key(formats[best])] {
			best = i
		}
	}
	ref := formats[best]
	ref.Index, ref.DriveID = 0, ""
	if len(ref.Drives) != len(drives) {
		return ref, fmt.Errorf("%w: the format on %s records %d drives, but %d were given",
			ErrFormatMismatch, drives[best], len(ref.Drives), len(drives))
	}
	for _, i := range formatted {
		f := formats[i]
		switch {
		case f.DeploymentID != ref.DeploymentID:
			return ref, fmt.Errorf("%w: drive %d (%s) belongs to deployment %s, the set is deployment %s",
				ErrFormatMismatch, i, drives[i], f.DeploymentID, ref.DeploymentID)
		case key(f) != key(ref):
			return ref, fmt.Errorf("%w: drive %d (%s) records a different drive list, parity or block size than the set",
				ErrFormatMismatch, i, drives[i])
		case f.Index != i || f.DriveID != ref.Drives[i]:
			return ref, fmt.Errorf("%w: drive %d (%s) is drive id %s formatted for position %d (drives swapped or reordered?)",
				ErrFormatMismatch, i, drives[i], f.DriveID, f.Index)
		}
	}
	return ref, nil
}

// formatNew formats all drives as a fresh deployment.
func formatNew(drives []Drive, opts Options) (*Set, error) {
	n := len(drives)
	m := opts.Parity
	if m <= 0 {
		m = DefaultParity(n)
	}
	bs := opts.BlockSize
	if bs == 0 {
		bs = DefaultBlockSize
	}
	if m > n/2 {
		return nil, fmt.Errorf("erasure: parity %d too large for %d drives (max %d)", m, n, n/2)
	}
	if bs < 0 {
		return nil, fmt.Errorf("erasure: invalid block size %d", bs)
	}
	f := Format{Version: FormatVersion, DeploymentID: newUUID(), Parity: m, BlockSize: bs}
	for range drives {
		f.Drives = append(f.Drives, newUUID())
	}
	s, err := newSet(drives, m, bs, f.DeploymentID, opts.OnCorrupt)
	if err != nil {
		return nil, err
	}
	errs := make([]error, n)
	parallel(n, func(i int) {
		g := f
		g.Index, g.DriveID = i, f.Drives[i]
		errs[i] = drives[i].WriteFormat(g)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("erasure: formatting new set: %w", err)
	}
	return s, nil
}

func newSet(drives []Drive, m, blockSize int, deploymentID string, onCorrupt func(string)) (*Set, error) {
	k := len(drives) - m
	enc, err := reedsolomon.New(k, m)
	if err != nil {
		return nil, fmt.Errorf("erasure: %d+%d: %w", k, m, err)
	}
	return &Set{
		drives:       append([]Drive(nil), drives...),
		k:            k,
		m:            m,
		blockSize:    blockSize,
		deploymentID: deploymentID,
		onCorrupt:    onCorrupt,
		enc:          enc,
		pieces:       newBufPool(hashSize + int(ceilDiv(int64(blockSize), int64(k)))),
		blocks:       newBufPool(k * (hashSize + int(ceilDiv(int64(blockSize), int64(k))))),
	}, nil
}

// bufPool is a bounded free list of byte slices of one capacity. Unlike a
// sync.Pool it survives garbage collections, which a busy server runs
// often enough to empty a sync.Pool between requests; it retains at most
// poolBytes of idle buffers.
type bufPool struct {
	size int
	free chan []byte
}

// poolBytes bounds the idle memory one bufPool keeps.
const poolBytes = 32 << 20

func newBufPool(size int) bufPool {
	return bufPool{size: size, free: make(chan []byte, max(poolBytes/size, 1))}
}

// get returns a slice of length 0 and capacity size (contents undefined).
func (b *bufPool) get() []byte {
	select {
	case buf := <-b.free:
		return buf[:0]
	default:
		return make([]byte, 0, b.size)
	}
}

// put returns buf to the pool; slices of another capacity are dropped, and
// so is buf when the pool is full. The caller MUST NOT use buf (or any
// slice of it) afterwards.
func (b *bufPool) put(buf []byte) {
	if cap(buf) != b.size {
		return
	}
	select {
	case b.free <- buf:
	default:
	}
}

// newUUID returns a random (version 4) UUID from crypto/rand.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// parallel runs fn(0..n-1) concurrently and waits for all.
func parallel(n int, fn func(i int)) {
	if n == 1 {
		fn(0) // common on the read path: no goroutine needed
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}

// DataShards returns k, the number of data shards per block.
func (s *Set) DataShards() int { return s.k }

// ParityShards returns m, the number of parity shards per block.
func (s *Set) ParityShards() int { return s.m }

// BlockSize returns the number of object bytes per block.
func (s *Set) BlockSize() int { return s.blockSize }

// Drives returns the set's drives in set order (a copy of the slice).
func (s *Set) Drives() []Drive { return append([]Drive(nil), s.drives...) }

// DeploymentID returns the deployment id recorded in the format records.
func (s *Set) DeploymentID() string { return s.deploymentID }

// Replaced returns the indexes of drives that OpenSet found unformatted in
// an existing set and formatted; they hold no shards and need healing.
func (s *Set) Replaced() []int { return append([]int(nil), s.replaced...) }

// WriteQuorum returns how many drives must accept a write: k, or k+1 when
// k == m (so that two disjoint quorums cannot exist).
func (s *Set) WriteQuorum() int {
	if s.k == s.m {
		return s.k + 1
	}
	return s.k
}

// ReadQuorum returns how many good shards a read needs: k.
func (s *Set) ReadQuorum() int { return s.k }

// ShardSize returns the size in bytes of each shard file (hashes included)
// of an object of size bytes stored with the given block size and k data
// shards.
func ShardSize(size int64, blockSize, k int) int64 {
	bs := int64(blockSize)
	full, rem := size/bs, size%bs
	n := full * (hashSize + ceilDiv(bs, int64(k)))
	if rem > 0 {
		n += hashSize + ceilDiv(rem, int64(k))
	}
	return n
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// quorumOp runs op on every drive concurrently and returns nil when at
// least WriteQuorum succeeded, else an error wrapping ErrWriteQuorum and
// the drives' errors.
func (s *Set) quorumOp(what, id string, op func(d Drive) error) error {
	errs := make([]error, len(s.drives))
	parallel(len(s.drives), func(i int) { errs[i] = op(s.drives[i]) })
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	if ok < s.WriteQuorum() {
		return fmt.Errorf("erasure: %s %s: %d of %d drives succeeded, need %d: %w (%w)",
			what, id, ok, len(s.drives), s.WriteQuorum(), ErrWriteQuorum, errors.Join(errs...))
	}
	return nil
}

// Commit moves the object's shard files from tmp to their committed place
// on every drive. It returns an error wrapping ErrWriteQuorum only when
// fewer than WriteQuorum drives committed; drives that failed keep (or
// lack) their shard and are repaired by Heal.
func (s *Set) Commit(id string) error {
	if err := validID(id); err != nil {
		return err
	}
	return s.quorumOp("commit", id, func(d Drive) error { return d.Commit(id) })
}

// Delete removes the object's shard files (committed and temporary) from
// every drive. It returns an error wrapping ErrWriteQuorum only when fewer
// than WriteQuorum drives succeeded.
func (s *Set) Delete(id string) error {
	if err := validID(id); err != nil {
		return err
	}
	return s.quorumOp("delete", id, func(d Drive) error { return d.Remove(id) })
}

// ListTemp returns the sorted union of temporary shard ids over all drives.
// Drives that cannot be listed are skipped; the error is non-nil only when
// no drive could be listed. Note that an object whose metadata is
// committed but whose Set.Commit has not run yet also appears here.
func (s *Set) ListTemp() ([]string, error) {
	lists := make([][]string, len(s.drives))
	errs := make([]error, len(s.drives))
	parallel(len(s.drives), func(i int) { lists[i], errs[i] = s.drives[i].ListTemp() })
	seen := map[string]bool{}
	var ids []string
	ok := false
	for i, l := range lists {
		if errs[i] != nil {
			continue
		}
		ok = true
		for _, id := range l {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if !ok {
		return nil, fmt.Errorf("erasure: list temp: %w", errors.Join(errs...))
	}
	sort.Strings(ids)
	return ids, nil
}

// RemoveTemp removes the temporary shard file of id from every drive. It
// returns the joined errors of the drives that failed (nil if none).
func (s *Set) RemoveTemp(id string) error {
	if err := validID(id); err != nil {
		return err
	}
	errs := make([]error, len(s.drives))
	parallel(len(s.drives), func(i int) { errs[i] = s.drives[i].RemoveTemp(id) })
	return errors.Join(errs...)
}
