package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// baseFiles are the files of the base image the metadata layer extends.
type baseFiles struct {
	Passwd, Group []byte
}

// The paths readBase looks for, as tar names without a leading slash.
const (
	passwdPath = "etc/passwd"
	groupPath  = "etc/group"
)

// readBase reads /etc/passwd and /etc/group from the base's file system.
// It reads the layers from the top down, as an overlay resolves a path, and
// stops as soon as each path is known (found, or hidden by a whiteout): for
// a base whose last layer added a user that is after that layer, and
// otherwise after the start of the system layer (etc/ comes early in a
// root file system's tar). Flattening the whole image, the simple way,
// means decompressing every byte of the base. (Whether the base has /tmp
// is not asked: see metaEntries.)
func readBase(base v1.Image) (*baseFiles, error) {
	layers, err := base.Layers()
	if err != nil {
		return nil, fmt.Errorf("read base image: %w", err)
	}
	r := baseReader{out: &baseFiles{}, known: map[string]bool{}}
	for i := len(layers) - 1; i >= 0 && !r.done(); i-- {
		if err := r.readLayer(layers[i]); err != nil {
			d, _ := layers[i].Digest()
			return nil, fmt.Errorf("read base image layer %s: %w", d, err)
		}
	}
	return r.out, nil
}

// baseReader resolves the wanted paths over layers read top down.
type baseReader struct {
	out *baseFiles
	// known holds the paths already resolved by a higher layer.
	known map[string]bool
}

var wanted = []string{passwdPath, groupPath}

func (r *baseReader) done() bool { return len(r.known) == len(wanted) }

// readLayer reads one layer's tar, then applies its opaque directories to
// the paths still unknown: lower layers cannot show them.
func (r *baseReader) readLayer(l v1.Layer) error {
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr, closeTar, err := layerTar(rc)
	if err != nil {
		return err
	}
	defer closeTar()
	var opaque []string
	for !r.done() {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case base == ".wh..wh..opq":
			opaque = append(opaque, dir)
		case strings.HasPrefix(base, ".wh."):
			r.hide(path.Join(dir, strings.TrimPrefix(base, ".wh.")))
		default:
			if err := r.see(name, hdr, tr); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
		}
	}
	for _, dir := range opaque {
		r.hide(dir + "/")
	}
	return nil
}

// see records an entry of the layer when it is a wanted file.
func (r *baseReader) see(name string, hdr *tar.Header, tr io.Reader) error {
	var err error
	switch name {
	case passwdPath:
		r.resolve(name, func() { r.out.Passwd, err = readRegular(hdr, tr) })
	case groupPath:
		r.resolve(name, func() { r.out.Group, err = readRegular(hdr, tr) })
	}
	return err
}

// hide marks the wanted paths at or below p (a directory when it ends in
// "/"), and those below a whited-out directory, as absent.
func (r *baseReader) hide(p string) {
	dir := strings.TrimSuffix(p, "/")
	for _, w := range wanted {
		if w == p || dir == "" || strings.HasPrefix(w, dir+"/") {
			r.resolve(w, func() {})
		}
	}
}

// resolve runs set once for a path no higher layer resolved.
func (r *baseReader) resolve(p string, set func()) {
	if !r.known[p] {
		r.known[p] = true
		set()
	}
}

// readRegular reads a regular file's content; another kind (a symlink to
// elsewhere, say) counts as absent: the metadata layer writes a new file.
func readRegular(hdr *tar.Header, tr io.Reader) ([]byte, error) {
	if hdr.Typeflag != tar.TypeReg {
		return nil, nil
	}
	return io.ReadAll(tr)
}

// layerTar returns the tar stream of a compressed layer blob: gzip, zstd
// or plain tar, told apart by their magic numbers.
func layerTar(rc io.Reader) (*tar.Reader, func(), error) {
	br := bufio.NewReaderSize(rc, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return tar.NewReader(zr), func() { zr.Close() }, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return tar.NewReader(zr), zr.Close, nil
	}
	return tar.NewReader(br), func() {}, nil
}
