// Package pkgbuild writes real-format conda packages (.conda and .tar.bz2)
// from a file tree and metadata. Output is deterministic: the same input
// gives the same bytes.
package pkgbuild

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/conda"
)

// Format is a conda package archive format.
type Format int

const (
	// FormatConda is the zip-of-zstd-tarballs format (.conda, format version 2).
	FormatConda Format = iota
	// FormatTarBz2 is the legacy single bzip2 tarball (.tar.bz2).
	FormatTarBz2
)

// File is one entry of a package's payload.
type File struct {
	Path              string      // relative to the prefix, slash-separated, e.g. "bin/jq"
	Mode              fs.FileMode // permission bits, plus fs.ModeSymlink or fs.ModeDir for those
	Data              []byte      // regular files
	LinkTarget        string      // symlinks
	PrefixPlaceholder string      // non-empty: file has a prefix placeholder (has_prefix + paths.json)
	Binary            bool        // placeholder file_mode "binary" (else "text")
	NoLink            bool        // paths.json no_link: conda copies the file instead of linking it
}

// Package is everything needed to write one conda package.
type Package struct {
	Record      conda.PackageRecord // becomes info/index.json
	Files       []File
	EntryPoints []string          // noarch python "cmd = module:func" → info/link.json
	RunExports  *conda.RunExports // → info/run_exports.json
	About       map[string]any    // → info/about.json (summary, home, license …)
}

// ModTime is the modification time Write gives every entry of the
// package's archives: the record's timestamp to the second, or the Unix
// epoch without one. Entries carry the build time, so the archive depends
// only on the record; installers keep it, so files the package generates
// from its own (a python's .pyc) can be built to match.
func (p *Package) ModTime() time.Time {
	if ts := p.Record.Time(); !ts.IsZero() {
		return ts.Truncate(time.Second)
	}
	return time.Unix(0, 0).UTC()
}

// Extension returns the file name extension of f: ".conda" or ".tar.bz2".
func (f Format) Extension() string {
	if f == FormatTarBz2 {
		return ".tar.bz2"
	}
	return ".conda"
}

// FilesFromDir reads a directory tree into Files (regular files, symlinks,
// empty dirs), sorted by path. Placeholders and no_link are left for the
// caller to set.
func FilesFromDir(root string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := File{Path: filepath.ToSlash(rel), Mode: info.Mode()}
		switch info.Mode().Type() {
		case 0:
			f.Data, err = os.ReadFile(p)
		case fs.ModeSymlink:
			f.LinkTarget, err = os.Readlink(p)
		case fs.ModeDir:
			// Only empty directories are entries; others are implied by
			// their contents, as in conda packages.
			var ents []fs.DirEntry
			if ents, err = os.ReadDir(p); err == nil && len(ents) > 0 {
				return nil
			}
		default:
			return fmt.Errorf("%s: unsupported file type %v", p, info.Mode().Type())
		}
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read package tree %s: %w", root, err)
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// Write writes the package in format f to w. Same input → same bytes. It
// returns the record completed with fn, size, md5 and sha256 of the archive.
func Write(w io.Writer, p *Package, f Format) (conda.PackageRecord, error) {
	dist := p.Record.Dist()
	if f != FormatConda && f != FormatTarBz2 {
		return conda.PackageRecord{}, fmt.Errorf("write package %s: unknown format %d", dist, f)
	}
	if err := checkRecord(p); err != nil {
		return conda.PackageRecord{}, fmt.Errorf("write package %s: %w", dist, err)
	}
	t, err := checkFiles(p.Files)
	if err != nil {
		return conda.PackageRecord{}, fmt.Errorf("write package %s: %w", dist, err)
	}
	info, err := infoEntries(p, t)
	if err != nil {
		return conda.PackageRecord{}, fmt.Errorf("write package %s: %w", dist, err)
	}
	mtime := p.ModTime()

	md5h, sha := md5.New(), sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, md5h, sha)}
	if err := writeArchive(cw, f, dist, info, payloadEntries(t), mtime); err != nil {
		return conda.PackageRecord{}, fmt.Errorf("write package %s%s: %w", dist, f.Extension(), err)
	}

	rec := p.Record
	rec.FileName = dist + f.Extension()
	rec.Size = cw.n
	rec.MD5 = hex.EncodeToString(md5h.Sum(nil))
	rec.SHA256 = hex.EncodeToString(sha.Sum(nil))
	return rec, nil
}

// WriteFile writes <dir>/<name>-<version>-<build>.conda|.tar.bz2 atomically
// and returns the completed record.
func WriteFile(dir string, p *Package, f Format) (conda.PackageRecord, error) {
	tmp, err := os.CreateTemp(dir, ".pkgbuild-*")
	if err != nil {
		return conda.PackageRecord{}, fmt.Errorf("write package %s: %w", p.Record.Dist(), err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	rec, err := Write(tmp, p, f)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write package %s: %w", p.Record.Dist(), cerr)
	}
	if err != nil {
		return conda.PackageRecord{}, err
	}
	// CreateTemp makes 0600 files; packages are meant to be served and read.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return conda.PackageRecord{}, fmt.Errorf("write package %s: %w", rec.FileName, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, rec.FileName)); err != nil {
		return conda.PackageRecord{}, fmt.Errorf("write package %s: %w", rec.FileName, err)
	}
	return rec, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
