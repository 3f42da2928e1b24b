package erasure

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FS is the file system a local drive performs all its I/O through, so that
// tests can inject faults (see FaultFS). Names are slash-separated and
// relative to the FS root; "." is the root itself. Errors follow package os
// conventions: a missing file satisfies errors.Is(err, fs.ErrNotExist).
type FS interface {
	// OpenFile opens name like os.OpenFile.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Rename atomically renames oldname to newname, replacing newname.
	Rename(oldname, newname string) error
	// Remove removes a file or empty directory.
	Remove(name string) error
	// RemoveAll removes name and everything below it; nil if absent.
	RemoveAll(name string) error
	// MkdirAll creates a directory and its parents; nil if it exists.
	MkdirAll(name string, perm os.FileMode) error
	// ReadDir lists a directory sorted by name.
	ReadDir(name string) ([]os.DirEntry, error)
	// Stat describes a file.
	Stat(name string) (os.FileInfo, error)
	// SyncDir fsyncs a directory, making entries created, renamed or
	// removed in it durable.
	SyncDir(name string) error
}

// File is an open file of an FS. *os.File implements it.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Closer
	// Sync fsyncs the file's content.
	Sync() error
	// Stat describes the open file.
	Stat() (os.FileInfo, error)
	// Truncate changes the file's size.
	Truncate(size int64) error
}

// DirFS returns the operating system's file system rooted at directory
// root. Names that are not local (absolute, or escaping the root with "..")
// are rejected with an error wrapping os.ErrInvalid.
func DirFS(root string) FS { return dirFS{root: root} }

type dirFS struct{ root string }

func (d dirFS) path(name string) (string, error) {
	p := filepath.FromSlash(name)
	if name != "." && !filepath.IsLocal(p) {
		return "", fmt.Errorf("erasure: non-local name %q: %w", name, os.ErrInvalid)
	}
	return filepath.Join(d.root, p), nil
}

func (d dirFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (d dirFS) Rename(oldname, newname string) error {
	op, err := d.path(oldname)
	if err != nil {
		return err
	}
	np, err := d.path(newname)
	if err != nil {
		return err
	}
	return os.Rename(op, np)
}

func (d dirFS) Remove(name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

func (d dirFS) RemoveAll(name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	return os.RemoveAll(p)
}

func (d dirFS) MkdirAll(name string, perm os.FileMode) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	return os.MkdirAll(p, perm)
}

func (d dirFS) ReadDir(name string) ([]os.DirEntry, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	return os.ReadDir(p)
}

func (d dirFS) Stat(name string) (os.FileInfo, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	return os.Stat(p)
}

func (d dirFS) SyncDir(name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
