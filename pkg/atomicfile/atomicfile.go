// Package atomicfile writes files whole or not at all: the content goes to
// a temporary file in the target's directory, which is renamed over the
// target only when it is complete, so a reader (another process sharing a
// cache or a channel folder) sees the old file or the whole new one, never a
// part. On any error the temporary file is removed and the target is left
// as it was. No fsync is done: this protects readers and process crashes,
// not power loss (pkg/install's journal does its own syncing).
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
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	err = f.Chmod(perm) // CreateTemp makes 0600 files
	if err == nil {
		err = write(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// WriteFile creates or replaces path with data and permission perm.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
