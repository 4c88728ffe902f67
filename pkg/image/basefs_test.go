package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// tarOf returns a tar of files (name → content; a name ending in "/" is a
// directory), in the order given.
func tarOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(files); i += 2 {
		name, body := files[i], files[i+1]
		hdr := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(body))}
		if name[len(name)-1] == '/' {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstded(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// imageOf stacks blobs as layers, the first at the bottom.
func imageOf(t *testing.T, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func blobLayer(b []byte) v1.Layer { return static.NewLayer(b, types.OCILayer) }

func TestReadBase(t *testing.T) {
	debian := func(t *testing.T) []byte {
		return tarOf(t, "./etc/", "", "./etc/passwd", "root:x:0:0::/root:/bin/sh\n", "./etc/group", "root:x:0:\n", "./tmp/", "", "./usr/bin/true", "ELF")
	}
	tests := []struct {
		name          string
		layers        func(t *testing.T) []v1.Layer
		passwd, group string
		wantNilPasswd bool
	}{
		{"scratch", func(t *testing.T) []v1.Layer { return nil }, "", "", true},
		{"one gzip layer", func(t *testing.T) []v1.Layer { return []v1.Layer{blobLayer(gzipped(t, debian(t)))} },
			"root:x:0:0::/root:/bin/sh\n", "root:x:0:\n", false},
		{"zstd and plain tar layers", func(t *testing.T) []v1.Layer {
			return []v1.Layer{blobLayer(zstded(t, debian(t))), blobLayer(tarOf(t, "etc/passwd", "new\n"))}
		}, "new\n", "root:x:0:\n", false},
		{"a higher layer's passwd wins", func(t *testing.T) []v1.Layer {
			return []v1.Layer{blobLayer(gzipped(t, debian(t))), blobLayer(gzipped(t, tarOf(t, "etc/passwd", "top\n", "etc/group", "topg\n")))}
		}, "top\n", "topg\n", false},
		{"whiteout of passwd", func(t *testing.T) []v1.Layer {
			return []v1.Layer{blobLayer(gzipped(t, debian(t))), blobLayer(gzipped(t, tarOf(t, "etc/.wh.passwd", "")))}
		}, "", "root:x:0:\n", true},
		{"opaque etc keeps its own files only", func(t *testing.T) []v1.Layer {
			return []v1.Layer{blobLayer(gzipped(t, debian(t))), blobLayer(gzipped(t, tarOf(t, "etc/", "", "etc/group", "g\n", "etc/.wh..wh..opq", "")))}
		}, "", "g\n", true},
		{"whiteout of the root", func(t *testing.T) []v1.Layer {
			return []v1.Layer{blobLayer(gzipped(t, debian(t))), blobLayer(gzipped(t, tarOf(t, ".wh..wh..opq", "")))}
		}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBase(imageOf(t, tt.layers(t)...))
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Passwd) != tt.passwd || (got.Passwd == nil) != tt.wantNilPasswd || string(got.Group) != tt.group {
				t.Errorf("got passwd %q (nil %v) group %q; want %q (nil %v) %q",
					got.Passwd, got.Passwd == nil, got.Group, tt.passwd, tt.wantNilPasswd, tt.group)
			}
		})
	}
}

// failingLayer's blob is a valid gzip tar up to its wanted files, then an
// error: readBase must stop before it.
type failingLayer struct {
	v1.Layer
	head []byte
}

func (l failingLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(io.MultiReader(bytes.NewReader(l.head), errReader{})), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read past the wanted files") }

func TestReadBaseStopsEarly(t *testing.T) {
	// A gzip stream flushed after the wanted entries: a reader that stops
	// there never reads the failing rest.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, body string }{{"etc/passwd", "p\n"}, {"etc/group", "g\n"}} {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		if f.body == "" {
			hdr.Typeflag = tar.TypeDir
		}
		tw.WriteHeader(hdr)
		tw.Write([]byte(f.body))
	}
	tw.Flush()
	zw.Flush()
	l := failingLayer{Layer: blobLayer(gzipped(t, tarOf(t, "x", "y"))), head: bytes.Clone(buf.Bytes())}
	got, err := readBase(imageOf(t, l))
	if err != nil {
		t.Fatalf("readBase read past the files it needs: %v", err)
	}
	if string(got.Passwd) != "p\n" || string(got.Group) != "g\n" {
		t.Errorf("got %+v", got)
	}
	// The same layer without its wanted files must fail: the test can tell.
	l.head = nil
	if _, err := readBase(imageOf(t, l)); err == nil {
		t.Error("readBase of a failing blob succeeded")
	}
}
