package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Files is a package archive read into memory: every entry, checked as
// Extract checks them, with the bytes of its regular files. It is a
// read-only file system rooted at the package root — fs.FS, fs.StatFS,
// fs.ReadFileFS, fs.ReadDirFS and fs.ReadLinkFS — so that a consumer can
// read a package as it would read its extracted folder without one being
// written (the image builder copies package files into tar layers). A
// hardlink reads as the file it names; directories an archive leaves
// implicit exist.
type Files struct {
	archive string
	entries map[string]*memEntry
	order   []string // Names in the order the walk gave them (parents first)
	size    int64
}

// memEntry is one entry of Files.
type memEntry struct {
	hdr  Header
	data []byte
	kids []string // a directory's children's base names, sorted
}

// Load reads the package archive at path into memory with DefaultLimits.
// See Extractor.Load.
func Load(ctx context.Context, path string) (*Files, error) {
	return DefaultExtractor.Load(ctx, path)
}

// Load reads the whole package archive at path into memory, checked against
// x.Limits as Extract checks it: a rejected archive gives the same *Error
// and no Files.
func (x Extractor) Load(ctx context.Context, archive string) (*Files, error) {
	m := &Files{archive: archive, entries: map[string]*memEntry{".": {hdr: Header{Name: ".", Type: TypeDir, Mode: 0o755}}}}
	var mu sync.Mutex
	err := x.walk(ctx, archive, false, true, func(h *Header, r io.Reader) error {
		var data []byte
		if h.Type == TypeRegular {
			data = make([]byte, h.Size)
			if _, err := io.ReadFull(r, data); err != nil {
				return &Error{Archive: archive, Entry: h.Name, Err: err}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		m.add(h, data)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// A hardlink reads as its file: the checker saw that it names an
	// earlier regular file of the package.
	for _, e := range m.entries {
		if e.hdr.Type == TypeHardlink {
			if t, ok := m.entries[e.hdr.Linkname]; ok && t.hdr.Type == TypeRegular {
				e.data = t.data
				e.hdr.Size = t.hdr.Size
			}
		}
	}
	for _, e := range m.entries {
		slices.Sort(e.kids)
	}
	return m, nil
}

// add records h and the directories above it.
func (m *Files) add(h *Header, data []byte) {
	if e, ok := m.entries[h.Name]; ok && e.hdr.Type == TypeDir && h.Type == TypeDir {
		e.hdr = *h // an implicit directory met its own entry
		return
	}
	m.entries[h.Name] = &memEntry{hdr: *h, data: data}
	m.order = append(m.order, h.Name)
	m.size += int64(len(data))
	name := h.Name
	for name != "." {
		parent := path.Dir(name)
		p, ok := m.entries[parent]
		if !ok {
			p = &memEntry{hdr: Header{Name: parent, Type: TypeDir, Mode: 0o755, ModTime: h.ModTime}}
			m.entries[parent] = p
		}
		base := path.Base(name)
		if slices.Contains(p.kids, base) {
			return // the parents above are known already
		}
		p.kids = append(p.kids, base)
		name = parent
	}
}

// Archive is the archive the files were read from.
func (m *Files) Archive() string { return m.archive }

// Size is the byte count of the regular files.
func (m *Files) Size() int64 { return m.size }

// Content returns the bytes of the regular file name (symlinks followed)
// without copying them: the caller must not modify them.
func (m *Files) Content(name string) ([]byte, error) {
	e, err := m.resolve("content", name, true)
	if err != nil {
		return nil, err
	}
	if e.hdr.Type == TypeDir {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return e.data, nil
}

// ReadFile returns a copy of the bytes of the regular file name.
func (m *Files) ReadFile(name string) ([]byte, error) {
	b, err := m.Content(name)
	return slices.Clone(b), err
}

// Stat describes name, following symlinks.
func (m *Files) Stat(name string) (fs.FileInfo, error) {
	e, err := m.resolve("stat", name, true)
	if err != nil {
		return nil, err
	}
	return e.info(), nil
}

// Lstat describes name without following a final symlink.
func (m *Files) Lstat(name string) (fs.FileInfo, error) {
	e, err := m.resolve("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return e.info(), nil
}

// ReadLink returns the target of the symlink name.
func (m *Files) ReadLink(name string) (string, error) {
	e, err := m.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	if e.hdr.Type != TypeSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.New("not a symlink")}
	}
	return e.hdr.Linkname, nil
}

// ReadDir lists the directory name, sorted by name.
func (m *Files) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := m.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if e.hdr.Type != TypeDir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	out := make([]fs.DirEntry, 0, len(e.kids))
	for _, k := range e.kids {
		child := m.entries[path.Join(e.hdr.Name, k)]
		out = append(out, fs.FileInfoToDirEntry(child.info()))
	}
	return out, nil
}

// Open opens name for reading.
func (m *Files) Open(name string) (fs.File, error) {
	e, err := m.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	return &memFile{m: m, e: e, r: bytes.NewReader(e.data)}, nil
}

// resolve finds name's entry, following symlinks in its directories and,
// with follow, in its last element.
func (m *Files) resolve(op, name string, follow bool) (*memEntry, error) {
	if !validName(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	cur := "."
	rest := strings.Split(name, "/")
	if name == "." {
		rest = nil
	}
	for hops := 0; len(rest) > 0; {
		next := path.Join(cur, rest[0])
		rest = rest[1:]
		e, ok := m.entries[next]
		if !ok {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		if e.hdr.Type == TypeSymlink && (len(rest) > 0 || follow) {
			if hops++; hops > 40 {
				return nil, &fs.PathError{Op: op, Path: name, Err: errors.New("too many levels of symbolic links")}
			}
			target := path.Join(path.Dir(next), e.hdr.Linkname)
			if !validName(target) {
				return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
			}
			cur = "."
			if target != "." {
				rest = append(strings.Split(target, "/"), rest...)
			}
			continue
		}
		cur = next
	}
	return m.entries[cur], nil
}

// validName is fs.ValidPath without its UTF-8 rule: an archive's names are
// bytes, as on Linux, and one Extract writes must be readable here too.
func validName(name string) bool {
	if name == "." {
		return true
	}
	return name != "" && !strings.HasPrefix(name, "/") && path.Clean(name) == name &&
		name != ".." && !strings.HasPrefix(name, "../")
}

// Extract writes the files into dest as Extractor.Extract writes an
// archive: into a fresh directory beside dest, renamed to dest once whole.
func (m *Files) Extract(dest string) error {
	return m.ExtractSome(dest, func(string) bool { return true })
}

// ExtractSome is Extract for the entries keep accepts, as
// Extractor.ExtractSome.
func (m *Files) ExtractSome(dest string, keep func(name string) bool) error {
	return intoFreshDir(dest, func(tmp string) error {
		write := writer{archive: m.archive, root: tmp}.some(keep)
		for _, name := range m.order {
			e := m.entries[name]
			h := e.hdr
			if h.Type == TypeHardlink {
				h.Size = 0
			}
			if err := write(&h, bytes.NewReader(e.data)); err != nil {
				return err
			}
		}
		return nil
	})
}

// info describes an entry as fs.FileInfo.
func (e *memEntry) info() fs.FileInfo { return memInfo{e} }

type memInfo struct{ e *memEntry }

func (i memInfo) Name() string { return path.Base(i.e.hdr.Name) }
func (i memInfo) Size() int64  { return int64(len(i.e.data)) }
func (i memInfo) Mode() fs.FileMode {
	switch i.e.hdr.Type {
	case TypeDir:
		return fs.ModeDir | i.e.hdr.Mode
	case TypeSymlink:
		return fs.ModeSymlink | 0o777
	}
	return i.e.hdr.Mode
}
func (i memInfo) ModTime() time.Time { return i.e.hdr.ModTime }
func (i memInfo) IsDir() bool        { return i.e.hdr.Type == TypeDir }
func (i memInfo) Sys() any           { return nil }

// memFile is an open entry of Files.
type memFile struct {
	m   *Files
	e   *memEntry
	r   *bytes.Reader
	dir int // entries ReadDir returned so far
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.e.info(), nil }
func (f *memFile) Close() error               { return nil }
func (f *memFile) Read(p []byte) (int, error) {
	if f.e.hdr.Type == TypeDir {
		return 0, &fs.PathError{Op: "read", Path: f.e.hdr.Name, Err: errors.New("is a directory")}
	}
	return f.r.Read(p)
}

// ReadDir makes a directory's memFile an fs.ReadDirFile.
func (f *memFile) ReadDir(n int) ([]fs.DirEntry, error) {
	all, err := f.m.ReadDir(f.e.hdr.Name)
	if err != nil {
		return nil, err
	}
	all = all[f.dir:]
	if n > 0 && len(all) == 0 {
		return nil, io.EOF
	}
	if n > 0 && len(all) > n {
		all = all[:n]
	}
	f.dir += len(all)
	return all, nil
}
