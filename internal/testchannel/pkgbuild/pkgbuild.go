// Package pkgbuild writes real-format conda packages (.conda and .tar.bz2)
// from a file tree and metadata. Output is deterministic: the same input
// gives the same bytes.
package pkgbuild

import (
	"errors"
	"io"
	"io/fs"

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
	NoLink            bool
}

// Package is everything needed to write one conda package.
type Package struct {
	Record      conda.PackageRecord // becomes info/index.json
	Files       []File
	EntryPoints []string          // noarch python "cmd = module:func" → info/link.json
	RunExports  *conda.RunExports // → info/run_exports.json
	About       map[string]any    // → info/about.json (summary, home, license …)
}

var errTODO = errors.New("pkgbuild: not implemented yet")

// FilesFromDir reads a directory tree into Files (regular files, symlinks,
// empty dirs), sorted by path.
func FilesFromDir(root string) ([]File, error) { return nil, errTODO }

// Write writes the package in format f to w. Same input → same bytes. It
// returns the record completed with fn, size, md5 and sha256 of the archive.
func Write(w io.Writer, p *Package, f Format) (conda.PackageRecord, error) {
	return conda.PackageRecord{}, errTODO
}

// WriteFile writes <dir>/<name>-<version>-<build>.conda|.tar.bz2 atomically
// and returns the completed record.
func WriteFile(dir string, p *Package, f Format) (conda.PackageRecord, error) {
	return conda.PackageRecord{}, errTODO
}
