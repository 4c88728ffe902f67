package pkgbuild

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/zstd"
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

// zipDate is the fixed MS-DOS date of .conda zip members, 1980-01-01 (the
// earliest it can hold; time of day 0), so archives do not depend on the
// clock. CreateRaw ignores FileHeader.Modified, hence the raw field.
const zipDate = 1<<5 | 1 // bits: year-1980 (7) | month (4) | day (5)

// condaMetadata is the metadata.json member of every .conda file.
const condaMetadata = `{"conda_pkg_format_version": 2}`

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

// writeTar writes entries as a tarball owned by uid/gid 0 with mtime.
func writeTar(w io.Writer, entries []entry, mtime time.Time) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: mtime, Typeflag: tar.TypeReg, Size: int64(len(e.data))}
		switch e.kind {
		case kindSymlink:
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		case kindDir:
			h.Typeflag, h.Name, h.Size = tar.TypeDir, e.name+"/", 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar entry %q: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return fmt.Errorf("tar entry %q: %w", e.name, err)
		}
	}
	return tw.Close()
}

// tarZst returns entries as a zstd-compressed tarball.
func tarZst(entries []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	// One goroutine keeps the output independent of scheduling.
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	if err := writeTar(zw, entries, mtime); err != nil {
		zw.Close()
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeConda writes the .conda format: an uncompressed zip of
// metadata.json, pkg-<dist>.tar.zst and info-<dist>.tar.zst, in the order
// conda-package-handling 2 writes them.
func writeConda(w io.Writer, dist string, info, payload []entry, mtime time.Time) error {
	pkgZst, err := tarZst(payload, mtime)
	if err != nil {
		return fmt.Errorf("pkg-%s.tar.zst: %w", dist, err)
	}
	infoZst, err := tarZst(info, mtime)
	if err != nil {
		return fmt.Errorf("info-%s.tar.zst: %w", dist, err)
	}
	zw := zip.NewWriter(w)
	for _, m := range []struct {
		name string
		data []byte
	}{
		{"metadata.json", []byte(condaMetadata)},
		{"pkg-" + dist + ".tar.zst", pkgZst},
		{"info-" + dist + ".tar.zst", infoZst},
	} {
		h := &zip.FileHeader{
			Name:               m.name,
			Method:             zip.Store,
			ModifiedDate:       zipDate,
			CRC32:              crc32.ChecksumIEEE(m.data),
			CompressedSize64:   uint64(len(m.data)),
			UncompressedSize64: uint64(len(m.data)),
		}
		h.SetMode(0o644)
		// CreateRaw with known sizes writes them in the local header instead
		// of a trailing data descriptor, so streaming readers can unpack
		// members without the central directory.
		mw, err := zw.CreateRaw(h)
		if err != nil {
			return fmt.Errorf("zip member %s: %w", m.name, err)
		}
		if _, err := mw.Write(m.data); err != nil {
			return fmt.Errorf("zip member %s: %w", m.name, err)
		}
	}
	return zw.Close()
}

// writeTarBz2 writes the legacy format: one bzip2 tarball, info/ first so
// readers that only want metadata can stop early.
func writeTarBz2(w io.Writer, info, payload []entry, mtime time.Time) error {
	bw, err := bzip2.NewWriter(w, &bzip2.WriterConfig{Level: bzip2.BestCompression})
	if err != nil {
		return err
	}
	if err := writeTar(bw, slices.Concat(info, payload), mtime); err != nil {
		bw.Close()
		return err
	}
	return bw.Close()
}
