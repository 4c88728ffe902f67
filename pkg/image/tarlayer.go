package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"sort"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

// entry is one file, directory or symlink of a layer. Name is the path in the
// image without the leading slash ("opt/conda/bin/jq").
type entry struct {
	Name     string
	Type     byte // tar.TypeReg, tar.TypeDir or tar.TypeSymlink
	Mode     int64
	UID, GID int
	Linkname string
	Size     int64
	// Source is the file holding a regular entry's bytes, or "" when Data
	// holds them.
	Source string
	Data   []byte
	// SHA256 is the content's hash when known; the layer cache keys on it.
	SHA256 string
	// ModTime is a package file's own mtime (seconds); zero means the
	// layer's epoch. Package files keep theirs: python checks the mtime a
	// timestamp-based .pyc records against its source's, and packages ship
	// such .pyc files (conda-forge's python its whole standard library).
	// They are reproducible already: the package archive fixes them.
	ModTime time.Time
}

// content opens a regular entry's bytes.
func (e *entry) content() (io.ReadCloser, error) {
	if e.Source == "" {
		return io.NopCloser(bytes.NewReader(e.Data)), nil
	}
	return os.Open(e.Source)
}

// normalMode makes a mode readable by any uid: files owned by root must stay
// usable by whatever --user runs the image, and nobody but root may write.
// Only directories the builder makes itself (a home, /tmp) keep their own.
func normalMode(e *entry) int64 {
	switch e.Type {
	case tar.TypeDir:
		if e.Mode != 0 {
			return e.Mode
		}
		return 0o755
	case tar.TypeSymlink:
		return 0o777
	}
	m := e.Mode&0o755 | 0o444
	if m&0o111 != 0 {
		m |= 0o111
	}
	return m
}

// sortEntries sorts entries by name, keeps the last of equal names (a later
// package's file replaces an earlier one's, as when linking) and adds the
// missing parent directories, so that a layer is the same whatever order its
// entries were found in.
func sortEntries(entries []entry) []entry {
	byName := make(map[string]entry, len(entries))
	for _, e := range entries {
		byName[e.Name] = e
		for dir := path.Dir(e.Name); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if _, ok := byName[dir]; !ok {
				byName[dir] = entry{Name: dir, Type: tar.TypeDir}
			}
		}
	}
	out := make([]entry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// gzipLevel and zstdLevel are the default levels (podman's; Options.
// CompressionLevel changes them), gzipBlock is fixed: another level or block
// size gives other bytes, another digest.
const (
	gzipLevel = pgzip.DefaultCompression
	zstdLevel = zstd.SpeedDefault
	// gzipBlock is the input each gzip member block holds: pgzip deflates
	// the blocks of one layer on all cores (the biggest layer is the end of
	// a cold build), each with the previous block's tail as dictionary, so
	// the bytes depend on the block size and level only, not on the CPUs.
	gzipBlock = 1 << 20
)

// gzipJobs is how many blocks of one layer are deflated at once.
var gzipJobs = max(2, runtime.NumCPU())

// writeLayer writes entries (sorted with sortEntries) as a compressed tar
// to a new file in dir and returns it as a layer. Every mtime is epoch but
// package files' own (entry.ModTime), owners are numeric only (no user
// names), the gzip header carries no name or time and the zstd encoder
// runs single-threaded, so the same entries give the same digest.
func writeLayer(ctx context.Context, dir string, entries []entry, epoch time.Time, c codec) (*fileLayer, error) {
	f, err := os.CreateTemp(dir, "layer-*.tar"+c.ext())
	if err != nil {
		return nil, fmt.Errorf("create layer file: %w", err)
	}
	l := &fileLayer{path: f.Name(), codec: c, mediaType: c.ociMediaType()}
	err = l.write(ctx, f, entries, epoch)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("write layer %s: %w", f.Name(), err)
	}
	return l, nil
}

func (l *fileLayer) write(ctx context.Context, f *os.File, entries []entry, epoch time.Time) error {
	// The compressors emit a few hundred bytes at a time: unbuffered, that
	// is one write syscall each (75,000 for a small environment).
	bf := bufio.NewWriterSize(f, 256<<10)
	compressed := sha256.New()
	counted := &countWriter{w: io.MultiWriter(bf, compressed)}
	zw, err := l.codec.writer(counted)
	if err != nil {
		return err
	}
	uncompressed := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, uncompressed))
	for i := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeEntry(tw, &entries[i], epoch); err != nil {
			return fmt.Errorf("%s: %w", entries[i].Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bf.Flush(); err != nil {
		return err
	}
	l.digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(compressed.Sum(nil))}
	l.diffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(uncompressed.Sum(nil))}
	l.size = counted.n
	return nil
}

// writeEntry writes one entry in PAX format (long names, exact times).
func writeEntry(tw *tar.Writer, e *entry, epoch time.Time) error {
	hdr := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: normalMode(e), Uid: e.UID, Gid: e.GID,
		Linkname: e.Linkname, ModTime: epoch, Format: tar.FormatPAX}
	if !e.ModTime.IsZero() {
		hdr.ModTime = e.ModTime
	}
	if e.Type == tar.TypeDir {
		hdr.Name += "/"
	}
	if e.Type != tar.TypeReg {
		return tw.WriteHeader(hdr)
	}
	hdr.Size = e.Size
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	r, err := e.content()
	if err != nil {
		return err
	}
	defer r.Close()
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	// Only Read: os.File's WriteTo would try splice first, setting up a pipe
	// per file (four fcntl calls each) to fall back to this same loop.
	n, err := io.CopyBuffer(tw, struct{ io.Reader }{r}, *buf)
	if err == nil && n != e.Size {
		err = fmt.Errorf("size changed while reading: %d bytes, expected %d", n, e.Size)
	}
	return err
}

// copyBuffers hold the buffers file contents are copied into layers with.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileLayer is a compressed layer blob in a file, with its hashes computed
// while it was written (go-containerregistry would otherwise read it twice).
type fileLayer struct {
	path           string
	digest, diffID v1.Hash
	size           int64
	codec          codec
	// mediaType follows the base's manifest: an OCI layer in a Docker
	// manifest is refused by podman and Docker.
	mediaType types.MediaType
	// id names the layer's bytes in the image history (layerID), "" when
	// unknown; reused is true for a blob the registry has (Options.Reuse):
	// path is "" then, the bytes are not here.
	id     string
	reused bool
}

// writer returns the compressing writer of c.
func (c codec) writer(w io.Writer) (io.WriteCloser, error) {
	if c.Compression == Zstd {
		level := zstdLevel
		if c.level != 0 {
			level = zstd.EncoderLevelFromZstd(c.level)
		}
		return zstd.NewWriter(w, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
	}
	level := gzipLevel
	if c.level != 0 {
		level = c.level
	}
	zw, err := pgzip.NewWriterLevel(w, level)
	if err != nil {
		return nil, err
	}
	// No name, and MTIME 0 ("none") as compress/gzip writes for a zero
	// time: pgzip would write the zero time's seconds.
	zw.ModTime = time.Unix(0, 0)
	if err := zw.SetConcurrency(gzipBlock, gzipJobs); err != nil {
		return nil, err
	}
	return zw, nil
}

// ociMediaType is the OCI media type of c's layers.
func (c Compression) ociMediaType() types.MediaType {
	if c == Zstd {
		return types.OCILayerZStd
	}
	return types.OCILayer
}

// ext is the file name extension of c's layer blobs.
func (c Compression) ext() string {
	if c == Zstd {
		return ".zst"
	}
	return ".gz"
}

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error) {
	if l.reused {
		return nil, fmt.Errorf("layer %s was reused from the registry: its bytes are not on this machine", l.digest)
	}
	return os.Open(l.path)
}
func (l *fileLayer) layer() (v1.Layer, error) { return partial.CompressedToLayer(l) }
