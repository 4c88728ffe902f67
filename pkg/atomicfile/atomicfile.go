// Package atomicfile writes files and folders whole or not at all: the content goes to
// a temporary file in the target's directory, which is renamed over the
// target only when it is complete, so a reader (another process sharing a
// cache or a channel folder) sees the old file or the whole new one, never a
// part. On any error the temporary file is removed and the target is left
// as it was. No fsync is done: this protects readers and process crashes,
// not power loss (pkg/install's journal does its own syncing).
//
// ReplaceDir does the same for a directory tree (an OCI image layout):
// built in a stage beside it, swapped in whole.
package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write creates or replaces path, with permission perm, with what write
// writes.
func Write(path string, perm fs.FileMode, write func(io.Writer) error) error {
	s, err := Stage(path, perm, write)
	if err != nil {
		return err
	}
	return s.Commit()
}

// Staged is a file written whole beside its target and not yet in its
// place: for outputs that must appear together or not at all (an image
// and its SBOM).
type Staged struct {
	tmp, path string
}

// Stage writes what write writes to a temporary file beside path, with
// permission perm; path is untouched until Commit.
func Stage(path string, perm fs.FileMode, write func(io.Writer) error) (*Staged, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return nil, err
	}
	err = f.Chmod(perm) // CreateTemp makes 0600 files
	if err == nil {
		err = write(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return &Staged{tmp: f.Name(), path: path}, nil
}

// Commit puts the file in its place, replacing what was there.
func (s *Staged) Commit() error {
	err := os.Rename(s.tmp, s.path)
	if err != nil {
		os.Remove(s.tmp)
	}
	return err
}

// Abort removes the file: its target stays as it was.
func (s *Staged) Abort() { os.Remove(s.tmp) }

// WriteFile creates or replaces path with data and permission perm.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
