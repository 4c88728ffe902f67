package install

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// pkgFiles is where a package's own files are read from: its extracted
// folder, or an fs.FS holding them (an archive read into memory by
// archive.Load, for ImageFiles). Names are package-relative and
// slash-separated ("info/paths.json").
type pkgFiles struct {
	dir  string // the extracted folder; "" when fsys holds the files
	fsys fs.FS
}

// folder reads the extracted package folder dir.
func folder(dir string) pkgFiles { return pkgFiles{dir: dir} }

// filesOf returns where p's files are: Dir when it has one, else FS.
func filesOf(p *Package) (pkgFiles, error) {
	switch {
	case p.Dir != "":
		return folder(p.Dir), nil
	case p.FS != nil:
		return pkgFiles{fsys: p.FS}, nil
	}
	return pkgFiles{}, fmt.Errorf("package %s: neither an extracted folder nor its files", p.Record.Dist())
}

// String names the package in errors: its folder, or its archive when the
// file system knows it.
func (s pkgFiles) String() string {
	if s.dir != "" {
		return s.dir
	}
	if a, ok := s.fsys.(interface{ Archive() string }); ok {
		return a.Archive()
	}
	return "(in memory)"
}

// path is name's path on disk, "" when the files are not on disk.
func (s pkgFiles) path(name string) string {
	if s.dir == "" {
		return ""
	}
	return filepath.Join(s.dir, filepath.FromSlash(name))
}

// where names name in errors.
func (s pkgFiles) where(name string) string {
	if s.dir != "" {
		return s.path(name)
	}
	return s.String() + ": " + name
}

func (s pkgFiles) readFile(name string) ([]byte, error) {
	if s.dir != "" {
		return os.ReadFile(s.path(name))
	}
	return fs.ReadFile(s.fsys, name)
}

// content is readFile without a copy where the file system can give one
// (archive.Files): the caller must not modify the bytes.
func (s pkgFiles) content(name string) ([]byte, error) {
	if c, ok := s.fsys.(interface{ Content(string) ([]byte, error) }); ok && s.dir == "" {
		return c.Content(name)
	}
	return s.readFile(name)
}

func (s pkgFiles) stat(name string) (fs.FileInfo, error) {
	if s.dir != "" {
		return os.Stat(s.path(name))
	}
	return fs.Stat(s.fsys, name)
}

func (s pkgFiles) lstat(name string) (fs.FileInfo, error) {
	if s.dir != "" {
		return os.Lstat(s.path(name))
	}
	return fs.Lstat(s.fsys, name)
}

func (s pkgFiles) readLink(name string) (string, error) {
	if s.dir != "" {
		return os.Readlink(s.path(name))
	}
	return fs.ReadLink(s.fsys, name)
}

// readJSON decodes the package file name into v, as readJSON does a file.
func (s pkgFiles) readJSON(name string, v any) error {
	if s.dir != "" {
		return readJSON(s.path(name), v)
	}
	b, err := s.readFile(name)
	if err != nil {
		return err
	}
	return decodeJSON(b, s.where(name), v)
}

// readLines returns the non-empty lines of the package text file name.
func (s pkgFiles) readLines(name string) ([]string, error) {
	b, err := s.readFile(name)
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", s.where(name), err)
	}
	return out, nil
}

// sha256 hashes the package file name.
func (s pkgFiles) sha256(name string) (string, error) {
	if s.dir != "" {
		return fileSHA256(s.path(name))
	}
	b, err := s.content(name)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
