package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"
)

// Format is a conda package archive format, told by the file name.
type Format int

const (
	// FormatConda is the zip of zstd tarballs (.conda).
	FormatConda Format = iota + 1
	// FormatTarBz2 is the legacy bzip2 tarball (.tar.bz2).
	FormatTarBz2
)

// FormatOf returns the format of the archive file name, or an error naming
// it when it ends neither in .conda nor in .tar.bz2.
func FormatOf(name string) (Format, error) {
	switch {
	case strings.HasSuffix(name, ".conda"):
		return FormatConda, nil
	case strings.HasSuffix(name, ".tar.bz2"):
		return FormatTarBz2, nil
	}
	return 0, fmt.Errorf("archive %q: not a conda package (want .conda or .tar.bz2)", name)
}

// Dist returns the file name without its .conda or .tar.bz2 extension:
// the name of the extracted folder in a package cache.
func Dist(name string) string {
	name = strings.TrimSuffix(name, ".conda")
	return strings.TrimSuffix(name, ".tar.bz2")
}

// EntryType is the kind of an archive entry. Other tar types are rejected.
type EntryType uint8

// The entry types of a conda package.
const (
	TypeRegular EntryType = iota + 1
	TypeDir
	TypeSymlink
	// TypeHardlink is a second name for an earlier regular file of the package.
	TypeHardlink
)

// String names the type as error messages do: "file", "symlink" ...
func (t EntryType) String() string {
	switch t {
	case TypeRegular:
		return "file"
	case TypeDir:
		return "directory"
	case TypeSymlink:
		return "symlink"
	case TypeHardlink:
		return "hardlink"
	}
	return fmt.Sprintf("EntryType(%d)", t)
}

// Header describes one checked entry of a package.
type Header struct {
	// Name is relative to the package root, slash-separated and clean:
	// "info/index.json", "bin/jq" (a stored "./bin/jq" becomes "bin/jq").
	Name string
	Type EntryType
	// Mode holds the permission bits only.
	Mode fs.FileMode
	// Size is the byte count of a regular file; 0 for the other types.
	Size int64
	// Linkname is a symlink's target as stored (relative, inside the
	// package), or the package-relative Name of a hardlink's file.
	Linkname string
	ModTime  time.Time // as stored; Extract gives regular files this time
}

// WalkFunc receives each entry of a package. r yields the Size bytes of a
// regular file and nothing for other types; it is valid only until the
// function returns. Returning fs.SkipAll stops the walk without error;
// any other error stops it and is returned.
type WalkFunc func(hdr *Header, r io.Reader) error

// Limits bound what an archive may expand to, against zip bombs.
// A zero field means no bound of that kind.
type Limits struct {
	// MaxEntrySize bounds the size of one file.
	MaxEntrySize int64
	// MaxTotalSize bounds the sum of the sizes of all files.
	MaxTotalSize int64
	// MaxRatio bounds total size / archive file size, once the total
	// exceeds RatioFloor (small packages of zeros are harmless).
	MaxRatio   int64
	RatioFloor int64
	// MaxEntries bounds the number of entries.
	MaxEntries int
}

// DefaultLimits fit every real conda-forge package (the largest, CUDA and
// MKL libraries, expand to a few GiB at ratios below 20) with a wide margin.
var DefaultLimits = Limits{
	MaxEntrySize: 16 << 30,
	MaxTotalSize: 64 << 30,
	MaxRatio:     200,
	RatioFloor:   256 << 20,
	MaxEntries:   1 << 20,
}

// Extractor reads and extracts archives within Limits. The zero Extractor
// has no limits; use DefaultExtractor or set Limits.
type Extractor struct {
	Limits Limits
}

// DefaultExtractor is the Extractor of the package-level functions.
var DefaultExtractor = Extractor{Limits: DefaultLimits}

// Extract extracts the package archive at path into dest with DefaultLimits.
// See Extractor.Extract.
func Extract(ctx context.Context, path, dest string) error {
	return DefaultExtractor.Extract(ctx, path, dest)
}

// ExtractSome extracts the entries of the package archive at path that
// keep accepts into dest, with DefaultLimits. See Extractor.ExtractSome.
func ExtractSome(ctx context.Context, path, dest string, keep func(name string) bool) error {
	return DefaultExtractor.ExtractSome(ctx, path, dest, keep)
}

// ExtractInfo extracts only the info/ entries of the package archive at
// path into dest, with DefaultLimits.
func ExtractInfo(ctx context.Context, path, dest string) error {
	return DefaultExtractor.ExtractInfo(ctx, path, dest)
}

// ReadInfo returns the info/ files of the package archive at path, keyed by
// Name ("info/index.json"), with DefaultLimits.
func ReadInfo(ctx context.Context, path string) (map[string][]byte, error) {
	return DefaultExtractor.ReadInfo(ctx, path)
}

// Walk streams the entries of the package archive at path to fn, with
// DefaultLimits. See Extractor.Walk.
func Walk(ctx context.Context, path string, fn WalkFunc) error {
	return DefaultExtractor.Walk(ctx, path, fn)
}

// Kinds of rejection, wrapped by *Error so callers can test with errors.Is.
var (
	ErrUnsafePath  = errors.New("unsafe path")
	ErrLinkEscape  = errors.New("link points outside the package")
	ErrSpecialFile = errors.New("unsupported entry type")
	ErrTooLarge    = errors.New("too large")
	ErrDuplicate   = errors.New("duplicate entry")
	ErrCorrupt     = errors.New("corrupt archive")
)

// Rejected reports whether err says the archive itself is bad (one of the
// Err* kinds), as opposed to a failure around it: a full disk, a missing
// file, a cancelled context.
func Rejected(err error) bool {
	for _, kind := range []error{ErrUnsafePath, ErrLinkEscape, ErrSpecialFile, ErrTooLarge, ErrDuplicate, ErrCorrupt} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}

// Error is a failure to read or extract one archive: it names the archive,
// the entry when one is at fault, and what is wrong.
type Error struct {
	Archive string
	Entry   string // "" when the archive as a whole is at fault
	Err     error
}

// Error formats as `archive <path>: entry "<name>": <what is wrong>`.
func (e *Error) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("archive %s: %v", e.Archive, e.Err)
	}
	return fmt.Sprintf("archive %s: entry %q: %v", e.Archive, e.Entry, e.Err)
}

// Unwrap returns the cause, one of the Err* kinds for a rejection.
func (e *Error) Unwrap() error { return e.Err }
