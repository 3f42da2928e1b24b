package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// KeyRange is the half-open key range [Start, End). A nil End means "up to,
// excluding, the reserved keys".
type KeyRange struct {
	Start, End []byte
}

// Purger is implemented by stores that can physically erase the bytes of
// deleted and overwritten values (crypto-shredding: a sealed data key MUST
// NOT outlive its deletion on disk).
//
// Purge MUST return nil only when no file of the store (write-ahead log,
// table, or any other file) still holds a value that was deleted or
// overwritten in ranges before Purge was called. It MUST NOT change the
// store's logical contents. Files that the operating system or device may
// still hold after unlink (free blocks) are outside its scope.
type Purger interface {
	Purge(ranges []KeyRange) error
}

// purgeObsoleteWait bounds how long Purge waits for pebble to delete the
// files that the purge made obsolete (iterators open on an older state keep
// them alive until closed).
const purgeObsoleteWait = 30 * time.Second

// shredCleaner deletes obsolete pebble files like pebble.DeleteCleaner
// (del is its Clean method), but it embeds pebble.ArchiveCleaner for the
// marker (NeedsFileContents) that makes pebble stop recycling write-ahead
// logs: a recycled log is overwritten from its start, and the old bytes in
// its tail — possibly sealed data keys of deleted versions — would survive
// the deletion. T is pebble's file type, which pebble does not export under
// a name; newShredCleaner infers it.
type shredCleaner[T any] struct {
	pebble.ArchiveCleaner
	del func(vfs.FS, T, string) error
}

// newShredCleaner returns the cleaner used by every Pebble store.
func newShredCleaner[T any](del func(vfs.FS, T, string) error) shredCleaner[T] {
	return shredCleaner[T]{del: del}
}

// Clean removes the obsolete file (never archives it).
func (c shredCleaner[T]) Clean(fs vfs.FS, fileType T, path string) error {
	return c.del(fs, fileType, path)
}

func (shredCleaner[T]) String() string { return "shred-delete" }

// Purge implements Purger: every memtable overlapping ranges is flushed
// (which retires its write-ahead log), every range is compacted to the
// bottom level so that deleted and shadowed values are dropped, and Purge
// then waits until pebble has deleted the obsolete logs and tables. WAL
// recycling is disabled for every Pebble store (see shredCleaner), so a
// retired log is deleted, never reused.
func (p *Pebble) Purge(ranges []KeyRange) error {
	if err := p.gate.enter(); err != nil {
		return err
	}
	defer p.gate.exit()
	// Every log present now holds only memtables that the flush below
	// retires: each of them must be gone before Purge returns.
	oldLogs, _, err := p.files()
	if err != nil {
		return err
	}
	if err := p.db.Flush(); err != nil {
		return fmt.Errorf("metadata: purge flush: %w", err)
	}
	for _, r := range ranges {
		end := r.End
		if end == nil {
			end = reservedStart
		}
		if len(r.Start) == 0 || bytes.Compare(r.Start, end) >= 0 {
			continue
		}
		if err := p.db.Compact(r.Start, end, false); err != nil {
			return fmt.Errorf("metadata: purge compact: %w", err)
		}
	}
	// pebble deletes obsolete files in the background: wait until no
	// retired log and no table outside the current version remains.
	deadline := time.Now().Add(purgeObsoleteWait)
	for {
		left, err := p.obsoleteLeft(oldLogs)
		if err != nil {
			return err
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("metadata: purge: %d obsolete files still present (open iterators?)", left)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// files lists the numbers of the store's log and table files.
func (p *Pebble) files() (logs, tables map[uint64]bool, err error) {
	names, err := p.fs.List(p.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("metadata: purge: %w", err)
	}
	logs, tables = map[uint64]bool{}, map[uint64]bool{}
	for _, n := range names {
		num, ext, ok := strings.Cut(n, ".")
		x, perr := strconv.ParseUint(num, 10, 64)
		if !ok || perr != nil {
			continue
		}
		switch ext {
		case "log":
			logs[x] = true
		case "sst":
			tables[x] = true
		}
	}
	return logs, tables, nil
}

// obsoleteLeft counts the files of oldLogs still present plus the tables
// on disk that the current version does not reference.
func (p *Pebble) obsoleteLeft(oldLogs map[uint64]bool) (int, error) {
	logs, tables, err := p.files()
	if err != nil {
		return 0, err
	}
	levels, err := p.db.SSTables()
	if err != nil {
		return 0, fmt.Errorf("metadata: purge: %w", err)
	}
	for _, l := range levels {
		for _, t := range l {
			delete(tables, uint64(t.FileNum))
			delete(tables, uint64(t.BackingSSTNum))
		}
	}
	n := len(tables)
	for x := range logs {
		if oldLogs[x] {
			n++
		}
	}
	return n, nil
}

// Purge implements Purger on every replica that is not offline (current
// and stale ones: a stale replica still holds the values on disk). It
// returns an error when a replica is offline or fails to purge, or when a
// replica below does not implement Purger; the caller MUST then treat the
// purge as not done and retry it.
func (r *Replicated) Purge(ranges []KeyRange) error {
	if err := r.gate.enter(); err != nil {
		return err
	}
	defer r.gate.exit()
	var errs []error
	for i, s := range r.replicas {
		if r.state[i].Load() == stateOffline {
			errs = append(errs, fmt.Errorf("replica %d: offline, not purged", i))
			continue
		}
		pu, ok := s.(Purger)
		if !ok {
			errs = append(errs, fmt.Errorf("replica %d: store cannot purge", i))
			continue
		}
		if err := pu.Purge(ranges); err != nil {
			errs = append(errs, fmt.Errorf("replica %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
