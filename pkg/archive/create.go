package archive

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/zstd"
)

// Default compression levels of Create, micromamba's: zstd 15 for .conda,
// bzip2 9 for .tar.bz2.
const (
	DefaultCondaLevel  = 15
	DefaultTarBz2Level = 9
)

// CreateOptions say how Write and Create compress.
type CreateOptions struct {
	// Level is the compression level: zstd's 1–22 for .conda, bzip2's 1–9
	// for .tar.bz2; 0 means DefaultCondaLevel or DefaultTarBz2Level.
	Level int
	// Threads bounds the zstd encoder's goroutines (.conda only; bzip2
	// has one); 0 means GOMAXPROCS. The bytes written do not depend on it.
	Threads int
	// TempDir holds Write's spool of a .conda's payload tarball (its size
	// must be known before it is stored); "" is os.TempDir. Create spools
	// beside the archive.
	TempDir string
}

// Zip members of a .conda: metadata.json's fixed content, and the MS-DOS
// date 1980-01-01 (the earliest a zip can hold) of every member, so that an
// archive does not depend on the clock.
const (
	CondaMetadata = `{"conda_pkg_format_version": 2}`
	zipDate       = 1<<5 | 1 // bits: year-1980 (7) | month (4) | day (5)
)

// Create writes a package archive at path from the entries walk hands to
// its function — the same entries Walk yields, so that Walk of one archive
// fed to Create of another converts it (micromamba's `package transmute`),
// and WalkDir of a folder packs it (`package compress`). The format comes
// from path's name, and the inner tarballs of a .conda are named after
// Dist(path). The archive is written to a temporary file beside path and
// renamed into place only when complete: on any error path is unchanged.
func Create(ctx context.Context, path string, walk func(WalkFunc) error, opts CreateOptions) (err error) {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if opts.TempDir == "" {
		opts.TempDir = dir
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".create-")
	if err != nil {
		return fmt.Errorf("archive %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := Write(ctx, bw, format, Dist(filepath.Base(path)), walk, opts); err != nil {
		return fmt.Errorf("archive %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("archive %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp made it private
		return fmt.Errorf("archive %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("archive %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("archive %s: %w", path, err)
	}
	return nil
}

// Write writes a package archive in format to w from the entries walk
// hands to its function (see Create). A .conda holds metadata.json, then
// pkg-<dist>.tar.zst with every entry outside info/, then
// info-<dist>.tar.zst, stored uncompressed with their sizes in the local
// headers, as conda-package-handling writes it; a .tar.bz2 holds the
// entries in the order they come. Entries are owned by uid and gid 0 and
// keep their names, modes, modification times and link targets, so the
// same entries give the same bytes.
func Write(ctx context.Context, w io.Writer, format Format, dist string, walk func(WalkFunc) error, opts CreateOptions) error {
	switch format {
	case FormatConda:
		return createConda(ctx, w, dist, walk, opts)
	case FormatTarBz2:
		return createTarBz2(ctx, w, walk, opts)
	}
	return fmt.Errorf("unknown archive format %d", format)
}

// tarEntry writes one entry with its body to tw.
func tarEntry(tw *tar.Writer, h *Header, r io.Reader) error {
	// No Format: the writer picks USTAR when an entry fits it and PAX for
	// long names, and keeps whole seconds of ModTime, as packages do.
	th := &tar.Header{Name: h.Name, Mode: int64(h.Mode.Perm()), ModTime: h.ModTime}
	switch h.Type {
	case TypeRegular:
		th.Typeflag, th.Size = tar.TypeReg, h.Size
	case TypeDir:
		th.Typeflag, th.Name = tar.TypeDir, h.Name+"/"
	case TypeSymlink:
		th.Typeflag, th.Linkname = tar.TypeSymlink, h.Linkname
	case TypeHardlink:
		th.Typeflag, th.Linkname = tar.TypeLink, h.Linkname
	default:
		return fmt.Errorf("entry %q: cannot store a %s", h.Name, h.Type)
	}
	if err := tw.WriteHeader(th); err != nil {
		return fmt.Errorf("entry %q: %w", h.Name, err)
	}
	if h.Type != TypeRegular {
		return nil
	}
	if n, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("entry %q: %w", h.Name, err)
	} else if n != h.Size {
		return fmt.Errorf("entry %q: %d bytes, want %d", h.Name, n, h.Size)
	}
	return nil
}

// zstdWriter returns a .conda tarball's encoder at level.
func zstdWriter(w io.Writer, level, threads int) (*zstd.Encoder, error) {
	if level < 1 || level > 22 {
		return nil, fmt.Errorf("zstd compression level %d: want 1–22", level)
	}
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)), zstd.WithEncoderConcurrency(threads))
}

// zstdTar is one tarball of a .conda being written.
type zstdTar struct {
	zw *zstd.Encoder
	tw *tar.Writer
}

func newZstdTar(w io.Writer, opts CreateOptions) (*zstdTar, error) {
	zw, err := zstdWriter(w, opts.Level, opts.Threads)
	if err != nil {
		return nil, err
	}
	return &zstdTar{zw: zw, tw: tar.NewWriter(zw)}, nil
}

func (z *zstdTar) close() error {
	if err := z.tw.Close(); err != nil {
		z.zw.Close()
		return err
	}
	return z.zw.Close()
}

func createConda(ctx context.Context, w io.Writer, dist string, walk func(WalkFunc) error, opts CreateOptions) (err error) {
	if opts.Level == 0 {
		opts.Level = DefaultCondaLevel
	}
	spool, err := os.CreateTemp(opts.TempDir, ".pkg-"+dist+".tar.zst-")
	if err != nil {
		return err
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	pkgCRC := crc32.NewIEEE()
	counter := &countWriter{w: io.MultiWriter(spool, pkgCRC)}
	pkgBuf := bufio.NewWriterSize(counter, 256<<10)
	pkg, err := newZstdTar(pkgBuf, opts)
	if err != nil {
		return err
	}
	var info bytes.Buffer
	infoTar, err := newZstdTar(&info, opts)
	if err != nil {
		pkg.close()
		return err
	}
	inInfo := map[string]bool{} // regular files written, by name: in info/?
	err = walk(func(h *Header, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		tw, here := pkg.tw, isInfo(h.Name)
		if here {
			tw = infoTar.tw
		}
		switch h.Type {
		case TypeRegular:
			inInfo[h.Name] = here
		case TypeHardlink:
			if there, ok := inInfo[h.Linkname]; ok && there != here {
				return fmt.Errorf("entry %q: a hard link to %q cannot cross a .conda's info and pkg tarballs", h.Name, h.Linkname)
			}
		}
		return tarEntry(tw, h, r)
	})
	if err != nil {
		pkg.close()
		infoTar.close()
		return err
	}
	if err := pkg.close(); err != nil {
		infoTar.close()
		return err
	}
	if err := infoTar.close(); err != nil {
		return err
	}
	if err := pkgBuf.Flush(); err != nil {
		return err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	members := []struct {
		name string
		r    io.Reader
		crc  uint32
		size int64
	}{
		{"metadata.json", bytes.NewReader([]byte(CondaMetadata)), crc32.ChecksumIEEE([]byte(CondaMetadata)), int64(len(CondaMetadata))},
		{"pkg-" + dist + ".tar.zst", spool, pkgCRC.Sum32(), counter.n},
		{"info-" + dist + ".tar.zst", bytes.NewReader(info.Bytes()), crc32.ChecksumIEEE(info.Bytes()), int64(info.Len())},
	}
	for _, m := range members {
		h := &zip.FileHeader{
			Name:               m.name,
			Method:             zip.Store,
			ModifiedDate:       zipDate,
			CRC32:              m.crc,
			CompressedSize64:   uint64(m.size),
			UncompressedSize64: uint64(m.size),
		}
		h.SetMode(0o644)
		// CreateRaw with known sizes writes them in the local header instead
		// of a trailing data descriptor, so that streaming readers can
		// unpack members without the central directory.
		mw, err := zw.CreateRaw(h)
		if err != nil {
			return fmt.Errorf("zip member %s: %w", m.name, err)
		}
		if _, err := io.Copy(mw, m.r); err != nil {
			return fmt.Errorf("zip member %s: %w", m.name, err)
		}
	}
	return zw.Close()
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func createTarBz2(ctx context.Context, w io.Writer, walk func(WalkFunc) error, opts CreateOptions) error {
	level := opts.Level
	if level == 0 {
		level = DefaultTarBz2Level
	}
	if level < 1 || level > 9 {
		return fmt.Errorf("bzip2 compression level %d: want 1–9", level)
	}
	bw, err := bzip2.NewWriter(w, &bzip2.WriterConfig{Level: level})
	if err != nil {
		return err
	}
	tw := tar.NewWriter(bw)
	err = walk(func(h *Header, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return tarEntry(tw, h, r)
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := bw.Close(); err == nil {
		err = cerr
	}
	return err
}
