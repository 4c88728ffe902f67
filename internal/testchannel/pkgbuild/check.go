package pkgbuild

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/condabox/condabox/pkg/conda"
)

// maxLinkHops bounds symlink resolution, like the kernel's ELOOP limit.
const maxLinkHops = 40

// checkRecord rejects records that cannot name a package file or that
// conda could not install.
func checkRecord(p *Package) error {
	r := &p.Record
	for _, f := range []struct{ key, val string }{
		{"name", r.Name}, {"version", r.Version.String()}, {"build", r.Build}, {"subdir", r.Subdir},
	} {
		if f.val == "" {
			return fmt.Errorf("record: %s is empty", f.key)
		}
		// The values make up the file name "<name>-<version>-<build>.conda".
		if strings.ContainsAny(f.val, "/\\\x00 \t\r\n") || strings.HasPrefix(f.val, ".") {
			return fmt.Errorf("record: %s %q is not usable in a file name", f.key, f.val)
		}
	}
	if len(p.EntryPoints) > 0 && r.Noarch != conda.NoarchPython {
		return fmt.Errorf("record: entry points need noarch python, package is noarch %q", r.Noarch)
	}
	for _, ep := range p.EntryPoints {
		cmd, target, ok := strings.Cut(ep, "=")
		mod, fn, ok2 := strings.Cut(strings.TrimSpace(target), ":")
		if !ok || !ok2 || strings.TrimSpace(cmd) == "" || mod == "" || fn == "" {
			return fmt.Errorf("entry point %q: want \"cmd = module:func\"", ep)
		}
	}
	return nil
}

// tree is the validated payload: files sorted by path, indexed for lookups.
type tree struct {
	files  []File
	byPath map[string]*File
}

// checkFiles validates the payload and returns it sorted by path. It rejects
// what could write outside the prefix when extracted (absolute or ".."
// paths, symlinks leaving the prefix, entries below a symlink) and what
// conda cannot represent (duplicates, paths under info/, placeholders on
// non-files).
func checkFiles(in []File) (*tree, error) {
	t := &tree{files: slices.Clone(in), byPath: make(map[string]*File, len(in))}
	slices.SortFunc(t.files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for i := range t.files {
		f := &t.files[i]
		if err := checkFile(f); err != nil {
			return nil, fmt.Errorf("file %q: %w", f.Path, err)
		}
		if _, dup := t.byPath[f.Path]; dup {
			return nil, fmt.Errorf("file %q: duplicate path", f.Path)
		}
		t.byPath[f.Path] = f
	}
	for i := range t.files {
		f := &t.files[i]
		// Extracting a/b after a symlink a would write through the link.
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			if parent, ok := t.byPath[dir]; ok && !parent.Mode.IsDir() {
				return nil, fmt.Errorf("file %q: parent %q is not a directory", f.Path, dir)
			}
		}
		if f.Mode.Type() == fs.ModeSymlink {
			if _, ok := t.resolve(f.Path); !ok {
				return nil, fmt.Errorf("symlink %q -> %q: target leaves the prefix or loops", f.Path, f.LinkTarget)
			}
		}
	}
	return t, nil
}

// checkFile validates one entry on its own.
func checkFile(f *File) error {
	p := f.Path
	switch {
	case p == "" || p == ".":
		return fmt.Errorf("empty path")
	case !utf8.ValidString(p) || !utf8.ValidString(f.LinkTarget) || !utf8.ValidString(f.PrefixPlaceholder):
		// paths.json is JSON: it cannot carry other bytes.
		return fmt.Errorf("path, link target or placeholder is not UTF-8")
	case strings.ContainsAny(p, "\\\x00\r\n"):
		return fmt.Errorf("path has a backslash, NUL or newline")
	case path.IsAbs(p):
		return fmt.Errorf("path is absolute")
	case path.Clean(p) != p:
		return fmt.Errorf("path is not clean (want %q)", path.Clean(p))
	case p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("path leaves the prefix")
	case p == "info" || strings.HasPrefix(p, "info/"):
		return fmt.Errorf("path is inside info/, which holds the package metadata")
	}
	switch f.Mode.Type() {
	case 0:
		if f.LinkTarget != "" {
			return fmt.Errorf("regular file has a link target")
		}
	case fs.ModeSymlink:
		if f.LinkTarget == "" || len(f.Data) > 0 {
			return fmt.Errorf("symlink needs a link target and no data")
		}
		if path.IsAbs(f.LinkTarget) || strings.ContainsAny(f.LinkTarget, "\x00") {
			return fmt.Errorf("symlink target %q is absolute or has NUL", f.LinkTarget)
		}
	case fs.ModeDir:
		if f.LinkTarget != "" || len(f.Data) > 0 {
			return fmt.Errorf("directory has data or a link target")
		}
	default:
		return fmt.Errorf("unsupported file type %v", f.Mode.Type())
	}
	if f.PrefixPlaceholder == "" {
		if f.Binary {
			return fmt.Errorf("binary file mode without a prefix placeholder")
		}
		return nil
	}
	if f.Mode.Type() != 0 {
		return fmt.Errorf("prefix placeholder on a %v, only regular files have one", f.Mode.Type())
	}
	// has_prefix is split like a shell line with quotes stripped, so quotes
	// and newlines cannot be represented.
	if strings.ContainsAny(f.PrefixPlaceholder+p, "\"'\r\n\x00") {
		return fmt.Errorf("prefix placeholder %q or path has a quote or newline", f.PrefixPlaceholder)
	}
	return nil
}

// resolve follows p through the package's symlinks the way the kernel would
// after extraction and returns where it ends, relative to the prefix. ok is
// false when the walk leaves the prefix or does not end (a loop).
func (t *tree) resolve(p string) (string, bool) {
	var done []string
	todo := strings.Split(p, "/")
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", false
			}
			done = done[:len(done)-1]
			continue
		}
		cur := strings.Join(append(done, c), "/")
		if f, ok := t.byPath[cur]; ok && f.Mode.Type() == fs.ModeSymlink {
			if hops++; hops > maxLinkHops || path.IsAbs(f.LinkTarget) {
				return "", false
			}
			// The target is relative to the link's directory, which is done.
			todo = append(strings.Split(f.LinkTarget, "/"), todo...)
			continue
		}
		done = append(done, c)
	}
	return strings.Join(done, "/"), true
}
