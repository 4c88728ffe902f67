package archive

import (
	"archive/tar"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// maxLinkHops bounds how many symlinks resolving one target may follow;
// more means a loop. Linux's own limit is 40.
const maxLinkHops = 40

// seen is what the checker remembers of one accepted path.
type seen struct {
	typ    EntryType
	stream int // which tarball of the archive it came from
}

// checker validates the entries of one archive, across its tarballs, before
// anything is written. It is safe for concurrent use by the goroutines that
// decode the tarballs of a .conda.
type checker struct {
	archive     string
	archiveSize int64
	limits      Limits

	mu      sync.Mutex
	entries map[string]seen   // accepted names, plus their implied parent directories
	links   map[string]string // symlink name → target
	total   int64             // bytes of regular files so far
	count   int
	// rejected is the first entry's rejection, which every later check
	// returns.
	rejected error
}

func newChecker(archive string, archiveSize int64, limits Limits) *checker {
	return &checker{
		archive: archive, archiveSize: archiveSize, limits: limits,
		entries: map[string]seen{}, links: map[string]string{},
	}
}

// reject returns the *Error for entry: kind, then what exactly is wrong.
func (c *checker) reject(entry string, kind error, format string, args ...any) error {
	return &Error{Archive: c.archive, Entry: entry, Err: fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))}
}

// cleanName turns a stored tar name into a package-relative one: "./"
// prefixes and a directory's trailing slash go, and an absolute path or a
// ".." component is an error. The archive's root itself ("./") gives "".
func cleanName(raw string) (string, error) {
	if strings.HasPrefix(raw, "/") {
		return "", fmt.Errorf("absolute path")
	}
	parts := strings.Split(raw, "/")
	kept := parts[:0]
	for _, p := range parts {
		switch p {
		case "..":
			return "", fmt.Errorf("%q component", "..")
		case "", ".":
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "/"), nil
}

// check validates one tar header read from tarball stream and records it.
// It returns nil, nil for entries to skip silently: the archive root and a
// repeated directory.
func (c *checker) check(th *tar.Header, stream int) (*Header, error) {
	name, err := cleanName(th.Name)
	if err != nil {
		return nil, c.reject(th.Name, ErrUnsafePath, "%v", err)
	}
	h := &Header{Name: name, Mode: fs.FileMode(th.Mode) & fs.ModePerm, ModTime: th.ModTime}
	switch th.Typeflag {
	case tar.TypeReg: // archive/tar reports old-style TypeRegA entries as TypeReg
		h.Type, h.Size = TypeRegular, th.Size
	case tar.TypeDir:
		h.Type = TypeDir
	case tar.TypeSymlink:
		h.Type, h.Linkname = TypeSymlink, th.Linkname
	case tar.TypeLink:
		h.Type = TypeHardlink
	case tar.TypeChar:
		return nil, c.reject(th.Name, ErrSpecialFile, "character device")
	case tar.TypeBlock:
		return nil, c.reject(th.Name, ErrSpecialFile, "block device")
	case tar.TypeFifo:
		return nil, c.reject(th.Name, ErrSpecialFile, "fifo")
	default:
		return nil, c.reject(th.Name, ErrSpecialFile, "tar type %q", th.Typeflag)
	}
	if name == "" {
		if h.Type == TypeDir {
			return nil, nil
		}
		return nil, c.reject(th.Name, ErrUnsafePath, "empty name for a %s", h.Type)
	}
	if th.Size < 0 {
		return nil, c.reject(th.Name, ErrCorrupt, "negative size %d", th.Size)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rejected != nil {
		// The other tarball's entry was rejected first: one archive, one
		// error, whichever goroutine returns it.
		return nil, c.rejected
	}
	h, err = c.checkEntry(th, h, name, stream)
	if err != nil {
		c.rejected = err
	}
	return h, err
}

// checkEntry is check's part under c.mu.
func (c *checker) checkEntry(th *tar.Header, h *Header, name string, stream int) (*Header, error) {
	if err := c.checkPlace(th.Name, h, stream); err != nil {
		return nil, err
	}
	if prev, ok := c.entries[name]; ok && prev.typ == TypeDir && h.Type == TypeDir {
		return nil, nil
	}
	if err := c.checkBounds(th.Name, h); err != nil {
		return nil, err
	}
	switch h.Type {
	case TypeSymlink:
		if err := c.checkSymlink(th.Name, name, h.Linkname); err != nil {
			return nil, err
		}
		c.links[name] = h.Linkname
	case TypeHardlink:
		target, err := cleanName(th.Linkname)
		if err != nil || target == "" {
			return nil, c.reject(th.Name, ErrLinkEscape, "hardlink to %q", th.Linkname)
		}
		if prev, ok := c.entries[target]; !ok || prev.typ != TypeRegular && prev.typ != TypeHardlink || prev.stream != stream {
			return nil, c.reject(th.Name, ErrLinkEscape, "hardlink to %q, which is not an earlier file of the same tarball", th.Linkname)
		}
		h.Linkname = target
	}
	c.record(name, h.Type, stream)
	return h, nil
}

// checkPlace rejects a name that was already taken, except a repeated
// directory, or that lies below a file or symlink of the package: writing
// through a symlink could land anywhere.
func (c *checker) checkPlace(raw string, h *Header, stream int) error {
	if prev, ok := c.entries[h.Name]; ok && !(prev.typ == TypeDir && h.Type == TypeDir) {
		return c.reject(raw, ErrDuplicate, "%s %q already in the archive as a %s", h.Type, h.Name, prev.typ)
	}
	for dir := path.Dir(h.Name); dir != "."; dir = path.Dir(dir) {
		if prev, ok := c.entries[dir]; ok && prev.typ != TypeDir {
			return c.reject(raw, ErrUnsafePath, "below the %s %q", prev.typ, dir)
		}
	}
	return nil
}

// checkBounds applies Limits to the entry count and the bytes so far.
func (c *checker) checkBounds(raw string, h *Header) error {
	l := c.limits
	c.count++
	if l.MaxEntries > 0 && c.count > l.MaxEntries {
		return c.reject(raw, ErrTooLarge, "more than %d entries", l.MaxEntries)
	}
	if l.MaxEntrySize > 0 && h.Size > l.MaxEntrySize {
		return c.reject(raw, ErrTooLarge, "%d bytes, limit %d", h.Size, l.MaxEntrySize)
	}
	c.total += h.Size
	if l.MaxTotalSize > 0 && c.total > l.MaxTotalSize {
		return c.reject(raw, ErrTooLarge, "package expands to more than %d bytes", l.MaxTotalSize)
	}
	if l.MaxRatio > 0 && c.total > l.RatioFloor && c.total/max(c.archiveSize, 1) > l.MaxRatio {
		return c.reject(raw, ErrTooLarge, "package expands to %d bytes from %d, more than %d times", c.total, c.archiveSize, l.MaxRatio)
	}
	return nil
}

// checkSymlink rejects a symlink whose target is absolute or, following the
// package's symlinks known so far, leads outside the package.
func (c *checker) checkSymlink(raw, name, target string) error {
	if target == "" || strings.HasPrefix(target, "/") {
		return c.reject(raw, ErrLinkEscape, "symlink to %q", target)
	}
	if !c.inside(name, target) {
		return c.reject(raw, ErrLinkEscape, "symlink to %q leads outside the package (or loops)", target)
	}
	return nil
}

// inside reports whether target, read from the symlink name, resolves
// within the package, following the symlinks recorded so far.
func (c *checker) inside(name, target string) bool {
	// cur holds resolved components; the link's parents are real
	// directories (checkPlace), so its own directory starts resolved.
	var cur []string
	if dir := path.Dir(name); dir != "." {
		cur = strings.Split(dir, "/")
	}
	todo := strings.Split(target, "/")
	for hops := 0; len(todo) > 0; {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return false
			}
			cur = cur[:len(cur)-1]
			continue
		}
		cur = append(cur, part)
		if t, ok := c.links[strings.Join(cur, "/")]; ok {
			if hops++; hops > maxLinkHops || strings.HasPrefix(t, "/") {
				return false
			}
			cur = cur[:len(cur)-1]
			todo = append(strings.Split(t, "/"), todo...)
		}
	}
	return true
}

// record remembers an accepted name and the directories it implies, so a
// later entry cannot turn one of them into a file or symlink.
func (c *checker) record(name string, typ EntryType, stream int) {
	c.entries[name] = seen{typ, stream}
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if _, ok := c.entries[dir]; ok {
			break
		}
		c.entries[dir] = seen{TypeDir, stream}
	}
}

// finish checks every symlink again with all of them known: one added later
// can make an earlier target leave the package.
func (c *checker) finish() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, target := range c.links {
		if !c.inside(name, target) {
			return c.reject(name, ErrLinkEscape, "symlink to %q leads outside the package (or loops)", target)
		}
	}
	return nil
}
