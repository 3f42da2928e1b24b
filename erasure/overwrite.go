package erasure

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
)

// ErrOverwriteUnsupported is returned (wrapped) by Set.DeleteOverwrite for a
// drive that cannot overwrite shard files in place.
var ErrOverwriteUnsupported = errors.New("erasure: drive cannot overwrite shard files")

// Overwriter is implemented by drives that can destroy a shard file's
// content before unlinking it (secure delete, requirement R57).
type Overwriter interface {
	// OverwriteRemove overwrites the committed and the temporary shard
	// file of id, over their whole length, with random bytes, fsyncs
	// them, and only then removes them like Drive.Remove. It returns the
	// number of bytes overwritten; absent files are not an error. It MUST
	// NOT unlink a file whose overwrite or fsync failed.
	OverwriteRemove(id string) (int64, error)
}

// overwriteChunk is the size of the random buffer written repeatedly.
const overwriteChunk = 64 << 10

// OverwriteRemove implements Overwriter through the drive's FS.
func (d *localDrive) OverwriteRemove(id string) (int64, error) {
	if err := validID(id); err != nil {
		return 0, err
	}
	var total int64
	for _, p := range []string{objectPath(id), tmpPath(id)} {
		n, err := overwriteFile(d.fs, p)
		total += n
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return total, fmt.Errorf("erasure: overwrite %s on %s: %w", id, d.root, err)
		}
	}
	return total, d.Remove(id)
}

// overwriteFile replaces the content of name with random bytes of the same
// length and fsyncs it.
func overwriteFile(fsys FS, name string) (int64, error) {
	f, err := fsys.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	buf := make([]byte, overwriteChunk)
	var n int64
	for n < st.Size() {
		c := min(int64(len(buf)), st.Size()-n)
		rand.Read(buf[:c])
		w, err := f.Write(buf[:c])
		n += int64(w)
		if err != nil {
			f.Close()
			return n, err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return n, err
	}
	return n, f.Close()
}

// DeleteOverwrite deletes the object's shard files like Delete, but every
// drive first overwrites them with random bytes and fsyncs (Overwriter).
// It returns the bytes overwritten over all drives; it fails like Delete
// when fewer than WriteQuorum drives succeeded, and a drive that does not
// implement Overwriter fails with ErrOverwriteUnsupported (its files are
// left in place, never unlinked without the overwrite).
func (s *Set) DeleteOverwrite(id string) (int64, error) {
	if err := validID(id); err != nil {
		return 0, err
	}
	var total atomic.Int64
	err := s.quorumOp("overwrite", id, func(d Drive) error {
		o, ok := d.(Overwriter)
		if !ok {
			return fmt.Errorf("%w: %s", ErrOverwriteUnsupported, d)
		}
		n, err := o.OverwriteRemove(id)
		total.Add(n)
		return err
	})
	return total.Load(), err
}
