package erasure

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// Operation names passed to a FaultFS injection hook.
const (
	OpOpen      = "open"      // FS.OpenFile
	OpRename    = "rename"    // FS.Rename (name is the old name)
	OpRemove    = "remove"    // FS.Remove
	OpRemoveAll = "removeall" // FS.RemoveAll
	OpMkdirAll  = "mkdirall"  // FS.MkdirAll
	OpReadDir   = "readdir"   // FS.ReadDir
	OpStat      = "stat"      // FS.Stat and File.Stat
	OpSyncDir   = "syncdir"   // FS.SyncDir
	OpRead      = "read"      // File.Read and File.ReadAt
	OpWrite     = "write"     // File.Write
	OpSync      = "sync"      // File.Sync
	OpClose     = "close"     // File.Close
)

// FaultFS wraps an FS and injects faults, for tests. The zero configuration
// injects nothing; configure it with the Set* methods, which are safe to
// call at any time, also while the FS is in use from several goroutines.
// Faults are checked in this order: delay, injection hook, write limit,
// sync error; bitrot applies to the bytes of successful reads.
type FaultFS struct {
	fs FS

	mu         sync.Mutex
	inject     func(op, name string) error
	delay      time.Duration
	limit      int64 // remaining bytes before writes fail; <0 = no limit
	limitErr   error
	syncErr    error
	bitrot     func(name string) bool
	written    int64
	injections int64
}

// NewFaultFS returns a FaultFS around fs that injects nothing yet.
func NewFaultFS(fs FS) *FaultFS { return &FaultFS{fs: fs, limit: -1} }

// SetInject installs a hook called before every operation with the
// operation name (Op* constants) and the file name; a non-nil result is
// returned from the operation instead of performing it. nil removes the
// hook.
func (f *FaultFS) SetInject(fn func(op, name string) error) {
	f.mu.Lock()
	f.inject = fn
	f.mu.Unlock()
}

// SetDelay makes every operation sleep d first (slow drive).
func (f *FaultFS) SetDelay(d time.Duration) {
	f.mu.Lock()
	f.delay = d
	f.mu.Unlock()
}

// SetENOSPCAfter lets n more bytes be written through this FS (all files
// together) and then fails writes with syscall.ENOSPC. The write that
// crosses the limit writes its first bytes up to the limit and then fails
// (a torn write). n < 0 removes the limit.
func (f *FaultFS) SetENOSPCAfter(n int64) { f.SetTornWriteAfter(n, syscall.ENOSPC) }

// SetTornWriteAfter is like SetENOSPCAfter but fails with err (e.g. EIO).
func (f *FaultFS) SetTornWriteAfter(n int64, err error) {
	f.mu.Lock()
	f.limit, f.limitErr = n, err
	f.mu.Unlock()
}

// SetSyncError makes File.Sync and FS.SyncDir fail with err (nil heals).
func (f *FaultFS) SetSyncError(err error) {
	f.mu.Lock()
	f.syncErr = err
	f.mu.Unlock()
}

// SetBitrot makes reads of files for which match returns true flip the
// first byte of every successful read (nil turns bitrot off).
func (f *FaultFS) SetBitrot(match func(name string) bool) {
	f.mu.Lock()
	f.bitrot = match
	f.mu.Unlock()
}

// Reset removes every configured fault (hook, delay, write limit, sync
// error, bitrot); the counters are kept.
func (f *FaultFS) Reset() {
	f.mu.Lock()
	f.inject, f.delay, f.limit, f.limitErr, f.syncErr, f.bitrot = nil, 0, -1, nil, nil, nil
	f.mu.Unlock()
}

// Written returns the number of bytes written through this FS so far.
func (f *FaultFS) Written() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.written
}

// Injections returns how many faults (hook errors, write-limit and sync
// errors) have been injected so far.
func (f *FaultFS) Injections() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injections
}

// before runs the delay and the injection hook for op on name.
func (f *FaultFS) before(op, name string) error {
	f.mu.Lock()
	d, fn := f.delay, f.inject
	f.mu.Unlock()
	if d > 0 {
		time.Sleep(d)
	}
	if fn == nil {
		return nil
	}
	if err := fn(op, name); err != nil {
		f.mu.Lock()
		f.injections++
		f.mu.Unlock()
		return &os.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

// OpenFile implements FS.
func (f *FaultFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if err := f.before(OpOpen, name); err != nil {
		return nil, err
	}
	// Faults are injected through buffered files: a torn write stops at
	// an arbitrary byte, which O_DIRECT would refuse as unaligned. The
	// direct writer's aligned chunks and final truncate work either way.
	file, err := f.fs.OpenFile(name, flag&^oDirect, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{f: file, fs: f, name: name}, nil
}

// Rename implements FS.
func (f *FaultFS) Rename(oldname, newname string) error {
	if err := f.before(OpRename, oldname); err != nil {
		return err
	}
	return f.fs.Rename(oldname, newname)
}

// Remove implements FS.
func (f *FaultFS) Remove(name string) error {
	if err := f.before(OpRemove, name); err != nil {
		return err
	}
	return f.fs.Remove(name)
}

// RemoveAll implements FS.
func (f *FaultFS) RemoveAll(name string) error {
	if err := f.before(OpRemoveAll, name); err != nil {
		return err
	}
	return f.fs.RemoveAll(name)
}

// MkdirAll implements FS.
func (f *FaultFS) MkdirAll(name string, perm os.FileMode) error {
	if err := f.before(OpMkdirAll, name); err != nil {
		return err
	}
	return f.fs.MkdirAll(name, perm)
}

// ReadDir implements FS.
func (f *FaultFS) ReadDir(name string) ([]os.DirEntry, error) {
	if err := f.before(OpReadDir, name); err != nil {
		return nil, err
	}
	return f.fs.ReadDir(name)
}

// Stat implements FS.
func (f *FaultFS) Stat(name string) (os.FileInfo, error) {
	if err := f.before(OpStat, name); err != nil {
		return nil, err
	}
	return f.fs.Stat(name)
}

// SyncDir implements FS.
func (f *FaultFS) SyncDir(name string) error {
	if err := f.before(OpSyncDir, name); err != nil {
		return err
	}
	if err := f.syncFault(OpSyncDir, name); err != nil {
		return err
	}
	return f.fs.SyncDir(name)
}

func (f *FaultFS) syncFault(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.syncErr == nil {
		return nil
	}
	f.injections++
	return &os.PathError{Op: op, Path: name, Err: f.syncErr}
}

// allow reserves up to n bytes of the write limit; it returns how many may
// be written and the error to return after writing them.
func (f *FaultFS) allow(n int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limit < 0 || int64(n) <= f.limit {
		if f.limit >= 0 {
			f.limit -= int64(n)
		}
		return n, nil
	}
	ok := int(f.limit)
	f.limit = 0
	f.injections++
	return ok, f.limitErr
}

func (f *FaultFS) rot(name string, p []byte) {
	f.mu.Lock()
	match := f.bitrot
	f.mu.Unlock()
	if match != nil && len(p) > 0 && match(name) {
		p[0] ^= 0xff
	}
}

type faultFile struct {
	f    File
	fs   *FaultFS
	name string
}

func (ff *faultFile) Read(p []byte) (int, error) {
	if err := ff.fs.before(OpRead, ff.name); err != nil {
		return 0, err
	}
	n, err := ff.f.Read(p)
	ff.fs.rot(ff.name, p[:n])
	return n, err
}

func (ff *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := ff.fs.before(OpRead, ff.name); err != nil {
		return 0, err
	}
	n, err := ff.f.ReadAt(p, off)
	ff.fs.rot(ff.name, p[:n])
	return n, err
}

func (ff *faultFile) Write(p []byte) (int, error) {
	if err := ff.fs.before(OpWrite, ff.name); err != nil {
		return 0, err
	}
	ok, limitErr := ff.fs.allow(len(p))
	n, err := ff.f.Write(p[:ok])
	ff.fs.mu.Lock()
	ff.fs.written += int64(n)
	ff.fs.mu.Unlock()
	if err == nil && limitErr != nil {
		err = &os.PathError{Op: OpWrite, Path: ff.name, Err: limitErr}
	}
	return n, err
}

func (ff *faultFile) Sync() error {
	if err := ff.fs.before(OpSync, ff.name); err != nil {
		return err
	}
	if err := ff.fs.syncFault(OpSync, ff.name); err != nil {
		return err
	}
	return ff.f.Sync()
}

func (ff *faultFile) Close() error {
	if err := ff.fs.before(OpClose, ff.name); err != nil {
		ff.f.Close() // never leak the descriptor
		return err
	}
	return ff.f.Close()
}

func (ff *faultFile) Stat() (os.FileInfo, error) {
	if err := ff.fs.before(OpStat, ff.name); err != nil {
		return nil, err
	}
	return ff.f.Stat()
}

func (ff *faultFile) Truncate(size int64) error {
	if err := ff.fs.before(OpWrite, ff.name); err != nil {
		return err
	}
	return ff.f.Truncate(size)
}

// String describes the FaultFS for test failure messages.
func (f *FaultFS) String() string { return fmt.Sprintf("FaultFS(%v)", f.fs) }
