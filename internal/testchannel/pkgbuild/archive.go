package pkgbuild

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/archive"
)

// entryKind is the type of a tar entry.
type entryKind byte

const (
	kindFile entryKind = iota
	kindSymlink
	kindDir
)

// entry is one member of a tarball, with its mode already normalised.
type entry struct {
	name string
	kind entryKind
	mode int64
	data []byte
	link string
}

func sortEntries(es []entry) {
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.name, b.name) })
}

// payloadEntries turns the validated files into tar entries with
// normalised modes: 0755 for executables and directories, 0644 for other
// files, 0777 for symlinks (their mode is never used).
func payloadEntries(t *tree) []entry {
	es := make([]entry, 0, len(t.files))
	for _, f := range t.files {
		e := entry{name: f.Path, kind: kindFile, mode: 0o644, data: f.Data}
		switch f.Mode.Type() {
		case fs.ModeSymlink:
			e.kind, e.mode, e.link = kindSymlink, 0o777, f.LinkTarget
		case fs.ModeDir:
			e.kind, e.mode = kindDir, 0o755
		default:
			if f.Mode&0o111 != 0 {
				e.mode = 0o755
			}
		}
		es = append(es, e)
	}
	return es
}

// writeArchive writes the package's info and payload entries, all with
// mtime, in format f with archive.Write: info/ first, zstd at its default
// level (3) with one goroutine, bzip2 at its best.
func writeArchive(w io.Writer, f Format, dist string, info, payload []entry, mtime time.Time) error {
	format, opts := archive.FormatConda, archive.CreateOptions{Level: 3, Threads: 1}
	if f == FormatTarBz2 {
		format, opts = archive.FormatTarBz2, archive.CreateOptions{Level: 9}
	}
	walk := func(fn archive.WalkFunc) error {
		for _, e := range slices.Concat(info, payload) {
			h := &archive.Header{Name: e.name, Mode: fs.FileMode(e.mode), ModTime: mtime}
			switch e.kind {
			case kindFile:
				h.Type, h.Size = archive.TypeRegular, int64(len(e.data))
			case kindSymlink:
				h.Type, h.Linkname = archive.TypeSymlink, e.link
			case kindDir:
				h.Type = archive.TypeDir
			}
			if err := fn(h, bytes.NewReader(e.data)); err != nil {
				return err
			}
		}
		return nil
	}
	return archive.Write(context.Background(), w, format, dist, walk, opts)
}
