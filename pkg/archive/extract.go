package archive

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// copyBufs holds the buffers files are written with; large buffers mean
// fewer write calls for the big libraries of a package.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// Extract extracts the package archive at path into the directory dest
// (conda's <pkgs_dir>/<dist>). It writes into a fresh directory beside dest
// and renames it to dest only when every entry is written, replacing what
// dest held; on any error nothing is left behind and dest is unchanged.
// Files keep their permission bits (setuid and the like are dropped) and
// modification times, which Python's .pyc validation compares.
func (x Extractor) Extract(ctx context.Context, path, dest string) error {
	return x.extract(ctx, path, dest, false)
}

// ExtractInfo is Extract for the info/ entries only.
func (x Extractor) ExtractInfo(ctx context.Context, path, dest string) error {
	return x.extract(ctx, path, dest, true)
}

// ExtractSome is Extract for the entries keep accepts, by package-relative
// name ("lib/libz.so.1"); the folders holding them are created. A hard
// link is kept only when keep accepts its target too.
func (x Extractor) ExtractSome(ctx context.Context, path, dest string, keep func(name string) bool) error {
	return intoFreshDir(dest, func(tmp string) error {
		w := writer{archive: path, root: tmp}
		return x.walk(ctx, path, false, true, w.some(keep))
	})
}

// extract extracts into a fresh temporary directory beside dest, then
// renames it to dest.
func (x Extractor) extract(ctx context.Context, path, dest string, infoOnly bool) error {
	return intoFreshDir(dest, func(tmp string) error {
		w := writer{archive: path, root: tmp}
		return x.walk(ctx, path, infoOnly, true, w.write)
	})
}

// intoFreshDir has write fill a fresh directory beside dest, then renames
// it to dest; when write fails, nothing is left behind and dest is
// unchanged.
func intoFreshDir(dest string, write func(tmp string) error) (err error) {
	tmp, err := os.MkdirTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".extract-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp made it private
		return err
	}
	return replaceDir(tmp, dest)
}

// replaceDir renames dir to dest, first moving aside a dest that exists
// (rename cannot replace a non-empty directory) and removing it after.
func replaceDir(dir, dest string) error {
	if err := os.Rename(dir, dest); err == nil {
		return nil
	}
	old := dir + ".old"
	if err := os.Rename(dest, old); err != nil {
		return err
	}
	if err := os.Rename(dir, dest); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// writer writes checked entries below root. Entries never repeat and never
// lie below a symlink (the checker saw to it), so plain creates are safe.
type writer struct {
	archive string
	root    string
}

func (w writer) write(h *Header, r io.Reader) error {
	p := filepath.Join(w.root, filepath.FromSlash(h.Name))
	if err := w.writeEntry(p, h, r); err != nil {
		return &Error{Archive: w.archive, Entry: h.Name, Err: err}
	}
	return nil
}

// some returns w.write for the entries keep accepts.
func (w writer) some(keep func(name string) bool) WalkFunc {
	return func(h *Header, r io.Reader) error {
		if !keep(h.Name) || h.Type == TypeHardlink && !keep(h.Linkname) {
			return nil
		}
		return w.write(h, r)
	}
}

func (w writer) writeEntry(p string, h *Header, r io.Reader) error {
	if h.Type == TypeDir {
		// Owner rwx so that the entries below can be written.
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		return os.Chmod(p, h.Mode|0o700)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	switch h.Type {
	case TypeSymlink:
		return os.Symlink(h.Linkname, p)
	case TypeHardlink:
		return os.Link(filepath.Join(w.root, filepath.FromSlash(h.Linkname)), p)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, h.Mode)
	if err != nil {
		return err
	}
	buf := copyBufs.Get().(*[]byte)
	// Hiding (*os.File).ReadFrom makes io.CopyBuffer use buf: ReadFrom
	// would fall back to 32 KiB copies from a tar stream.
	_, err = io.CopyBuffer(struct{ io.Writer }{f}, r, *buf)
	copyBufs.Put(buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Chtimes(p, h.ModTime, h.ModTime)
}
