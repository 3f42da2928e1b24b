package erasure

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
)

// FormatVersion is the version of the format record this package writes.
const FormatVersion = 1

// Format is the record stored on every drive of a set (format.json on a
// local drive). It binds the drive to its deployment and its position.
type Format struct {
	Version      int      `json:"version"`       // FormatVersion
	DeploymentID string   `json:"deployment_id"` // random UUID shared by all drives of a deployment
	DriveID      string   `json:"drive_id"`      // random UUID of this drive
	Index        int      `json:"index"`         // position of this drive in the set
	Drives       []string `json:"drives"`        // drive ids in set order
	Parity       int      `json:"parity"`        // parity shards per block (m)
	BlockSize    int      `json:"block_size"`    // bytes of object data per block
}

// validate checks the record's internal consistency.
func (f Format) validate() error {
	n := len(f.Drives)
	switch {
	case f.Version != FormatVersion:
		return fmt.Errorf("unsupported format version %d", f.Version)
	case f.DeploymentID == "" || f.DriveID == "":
		return errors.New("empty deployment or drive id")
	case n < minDrives || n > maxDrives:
		return fmt.Errorf("%d drives recorded", n)
	case f.Index < 0 || f.Index >= n || f.Drives[f.Index] != f.DriveID:
		return fmt.Errorf("index %d does not hold drive id %s", f.Index, f.DriveID)
	case f.Parity < 1 || f.Parity > n/2:
		return fmt.Errorf("parity %d invalid for %d drives", f.Parity, n)
	case f.BlockSize < 1:
		return fmt.Errorf("block size %d", f.BlockSize)
	}
	return nil
}

// Drive is one drive of a set: a place for a format record and shard files.
// The interface is narrow so that a drive may later be remote.
// Implementations are safe for concurrent use.
type Drive interface {
	// String returns a human name for messages (the path of a local drive).
	String() string
	// ReadFormat returns the drive's format record, or an error wrapping
	// ErrUnformatted when it has none. Other errors mean the drive could
	// not be read or the record is damaged.
	ReadFormat() (Format, error)
	// WriteFormat stores f atomically (temp file, fsync, rename, fsync of
	// the directory): a crash leaves the old or the new record.
	WriteFormat(f Format) error
	// CreateTemp creates (replacing any previous one) the temporary shard
	// file tmp/<id>. ErrInvalidID for a bad id.
	CreateTemp(id string) (ShardWriter, error)
	// Commit moves tmp/<id> to its committed place, replacing a committed
	// file of the same id. It returns nil if the shard is already
	// committed and no temp exists, and an error wrapping ErrShardNotFound
	// if neither exists. The rename need not be durable when Commit
	// returns: Sync made tmp/<id> durable, a crash keeps the file under one
	// of its two names (a rename is atomic on a journaling file system),
	// readers fall back to tmp/<id>, and start-up recovery commits it
	// again. This saves a directory fsync per drive per write.
	Commit(id string) error
	// Open opens the committed shard file, falling back to the temporary
	// one; an error wrapping ErrShardNotFound if neither exists.
	Open(id string) (ShardReader, error)
	// Remove deletes the committed and the temporary shard file of id; nil
	// if absent.
	Remove(id string) error
	// ListTemp returns the ids of all temporary shard files, sorted.
	ListTemp() ([]string, error)
	// RemoveTemp deletes the temporary shard file of id; nil if absent.
	RemoveTemp(id string) error
	// MetaPath returns the local directory for this drive's metadata
	// replica, or "" if the drive is not local.
	MetaPath() string
}

// ShardWriter writes one temporary shard file.
type ShardWriter interface {
	io.Writer
	// Sync makes the content written so far and the file's directory
	// entry durable. It ends the writing: no Write may follow it.
	Sync() error
	// Close closes the file (it stays in place until committed or removed).
	Close() error
	// Abort closes the file, if still open, and deletes it. Safe to call
	// after Close and more than once.
	Abort()
}

// ShardReader reads one shard file.
type ShardReader interface {
	io.ReaderAt
	io.Closer
	// Size returns the file's size in bytes when it was opened.
	Size() int64
}

// Paths of a local drive, relative to its root.
const (
	formatFile    = "format.json"
	formatTmpFile = "format.json.tmp"
	tmpDir        = "tmp"
	objectsDir    = "objects"
	metaDir       = "meta"
)

// NewLocalDrive returns a Drive whose files live in fsys, which must be
// rooted at directory root; root is used for String and MetaPath only.
//
// Layout (names relative to root):
//
//	format.json            format record (JSON)
//	meta/                  metadata replica (MetaPath)
//	tmp/<id>               shard files being written
//	objects/<id[:2]>/<id>  committed shard files
//
// Temporary shard files are written with O_DIRECT (see direct.go) unless
// BufferedWrites is given or the file system refuses it.
func NewLocalDrive(fsys FS, root string, opts ...DriveOption) Drive {
	d := &localDrive{fs: fsys, root: root}
	for _, o := range opts {
		o(d)
	}
	return d
}

// DriveOption configures a local drive.
type DriveOption func(*localDrive)

// BufferedWrites makes the drive write shard files through the page cache
// instead of with O_DIRECT.
func BufferedWrites() DriveOption { return func(d *localDrive) { d.noDirect.Store(true) } }

type localDrive struct {
	fs   FS
	root string
	// noDirect is set by BufferedWrites, or once the file system refused
	// O_DIRECT.
	noDirect atomic.Bool
}

func (d *localDrive) String() string { return d.root }

func (d *localDrive) MetaPath() string { return filepath.Join(d.root, metaDir) }

func (d *localDrive) ReadFormat() (Format, error) {
	var f Format
	file, err := d.fs.OpenFile(formatFile, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return f, fmt.Errorf("%s: %w", d.root, ErrUnformatted)
	}
	if err != nil {
		return f, fmt.Errorf("erasure: read format of %s: %w", d.root, err)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, 1<<20))
	if err != nil {
		return f, fmt.Errorf("erasure: read format of %s: %w", d.root, err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("erasure: damaged format record on %s: %w", d.root, err)
	}
	if err := f.validate(); err != nil {
		return f, fmt.Errorf("erasure: invalid format record on %s: %v", d.root, err)
	}
	return f, nil
}

func (d *localDrive) WriteFormat(f Format) (err error) {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("erasure: write format of %s: %w", d.root, err)
		}
	}()
	file, err := d.fs.OpenFile(formatTmpFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err = file.Write(append(data, '\n')); err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.fs.Remove(formatTmpFile)
		return err
	}
	if err = d.fs.Rename(formatTmpFile, formatFile); err != nil {
		return err
	}
	return d.fs.SyncDir(".")
}

// validID reports whether id is usable as a shard file name.
func validID(id string) error {
	if len(id) < 2 || len(id) > 255 || id[0] == '.' {
		return fmt.Errorf("%w: %q", ErrInvalidID, id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q", ErrInvalidID, id)
		}
	}
	return nil
}

func tmpPath(id string) string    { return tmpDir + "/" + id }
func objectDir(id string) string  { return objectsDir + "/" + id[:2] }
func objectPath(id string) string { return objectDir(id) + "/" + id }

func (d *localDrive) CreateTemp(id string) (ShardWriter, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	if err := d.fs.MkdirAll(tmpDir, 0o755); err != nil {
		return nil, fmt.Errorf("erasure: %s: %w", d.root, err)
	}
	// Unlink any previous temp instead of truncating it, so that a reader
	// that has it open keeps a consistent (old) file.
	if err := d.fs.Remove(tmpPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("erasure: %s: %w", d.root, err)
	}
	const flag = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if oDirect != 0 && !d.noDirect.Load() {
		f, err := d.fs.OpenFile(tmpPath(id), flag|oDirect, 0o644)
		if err == nil {
			return &localShardWriter{d: d, id: id, f: f, direct: newDirectWriter(f)}, nil
		}
		if !directUnsupported(err) {
			return nil, fmt.Errorf("erasure: %s: %w", d.root, err)
		}
		d.noDirect.Store(true) // the file system cannot: buffered from now on
		d.fs.Remove(tmpPath(id))
	}
	f, err := d.fs.OpenFile(tmpPath(id), flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("erasure: %s: %w", d.root, err)
	}
	return &localShardWriter{d: d, id: id, f: f}, nil
}

func (d *localDrive) Commit(id string) error {
	if err := validID(id); err != nil {
		return err
	}
	if _, err := d.fs.Stat(objectDir(id)); errors.Is(err, fs.ErrNotExist) {
		// New prefix directory: make its entry durable too.
		err = d.fs.MkdirAll(objectDir(id), 0o755)
		if err == nil {
			err = d.fs.SyncDir(objectsDir)
		}
		if err == nil {
			err = d.fs.SyncDir(".")
		}
		if err != nil {
			return fmt.Errorf("erasure: %s: %w", d.root, err)
		}
	}
	err := d.fs.Rename(tmpPath(id), objectPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := d.fs.Stat(objectPath(id)); serr == nil {
			return nil // already committed
		}
		return fmt.Errorf("erasure: commit %s on %s: %w", id, d.root, ErrShardNotFound)
	}
	if err != nil {
		return fmt.Errorf("erasure: commit %s on %s: %w", id, d.root, err)
	}
	// No directory fsync: see the Drive.Commit contract.
	return nil
}

func (d *localDrive) Open(id string) (ShardReader, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	f, err := d.fs.OpenFile(objectPath(id), os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = d.fs.OpenFile(tmpPath(id), os.O_RDONLY, 0)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("erasure: %s on %s: %w", id, d.root, ErrShardNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("erasure: open %s on %s: %w", id, d.root, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("erasure: open %s on %s: %w", id, d.root, err)
	}
	return &localShardReader{File: f, size: st.Size()}, nil
}

func (d *localDrive) Remove(id string) error {
	if err := validID(id); err != nil {
		return err
	}
	err1 := d.fs.Remove(objectPath(id))
	if errors.Is(err1, fs.ErrNotExist) {
		err1 = nil
	}
	err2 := d.fs.Remove(tmpPath(id))
	if errors.Is(err2, fs.ErrNotExist) {
		err2 = nil
	}
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("erasure: remove %s on %s: %w", id, d.root, err)
	}
	return nil
}

func (d *localDrive) ListTemp() ([]string, error) {
	ents, err := d.fs.ReadDir(tmpDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("erasure: list temp on %s: %w", d.root, err)
	}
	ids := make([]string, 0, len(ents))
	for _, e := range ents {
		if !e.IsDir() && validID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func (d *localDrive) RemoveTemp(id string) error {
	if err := validID(id); err != nil {
		return err
	}
	if err := d.fs.Remove(tmpPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("erasure: remove temp %s on %s: %w", id, d.root, err)
	}
	return nil
}

type localShardWriter struct {
	d      *localDrive
	id     string
	f      File
	direct *directWriter // non-nil when f was opened with O_DIRECT
	closed bool
}

func (w *localShardWriter) Write(p []byte) (int, error) {
	if w.direct != nil {
		return w.direct.Write(p)
	}
	return w.f.Write(p)
}

func (w *localShardWriter) Sync() error {
	if w.direct != nil {
		if err := w.direct.finish(); err != nil {
			return err
		}
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	return w.d.fs.SyncDir(tmpDir)
}

func (w *localShardWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.direct != nil {
		w.direct.release()
	}
	return w.f.Close()
}

func (w *localShardWriter) Abort() {
	w.Close()
	w.d.fs.Remove(tmpPath(w.id))
}

type localShardReader struct {
	File
	size int64
}

func (r *localShardReader) Size() int64 { return r.size }
