package image

import (
	"context"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dockerBase returns a Docker-format image of one gzip layer holding
// etc/passwd.
func dockerBase(t *testing.T) v1.Image {
	t.Helper()
	img, err := mutate.Append(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.DockerManifestSchema2), types.DockerConfigJSON),
		mutate.Addendum{Layer: blobLayer(gzipped(t, tarOf(t, "etc/passwd", "root:x:0:0::/root:/bin/sh\n"))), MediaType: types.DockerLayer})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestBuildCompression(t *testing.T) {
	pkgs := extractPackages(t, testEnv("v1"))
	base := dockerBase(t)
	baseLayers, err := base.Layers()
	if err != nil {
		t.Fatal(err)
	}
	baseDigest, _ := baseLayers[0].Digest()
	tests := []struct {
		name          string
		c             Compression
		manifest      types.MediaType
		baseLayer     types.MediaType
		newLayer      types.MediaType
		magic0, magic byte
	}{
		{"gzip keeps the Docker format", Gzip, types.DockerManifestSchema2, types.DockerLayer, types.DockerLayer, 0x1f, 0x8b},
		{"zstd rewrites the base as OCI", Zstd, types.OCIManifestSchema1, types.OCILayer, types.OCILayerZStd, 0x28, 0xb5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Build(context.Background(), base, pkgs, Options{Compression: tt.c, WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			again, err := Build(context.Background(), base, pkgs, Options{Compression: tt.c, WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if digest(t, res.Image) != digest(t, again.Image) {
				t.Errorf("two builds: %s and %s", digest(t, res.Image), digest(t, again.Image))
			}
			m, err := res.Image.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != tt.manifest || m.Layers[0].MediaType != tt.baseLayer || m.Layers[0].Digest != baseDigest {
				t.Errorf("manifest %s, base layer %s %s; want %s, %s %s", m.MediaType, m.Layers[0].MediaType, m.Layers[0].Digest, tt.manifest, tt.baseLayer, baseDigest)
			}
			layers, err := res.Image.Layers()
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range m.Layers[1:] {
				if l.MediaType != tt.newLayer {
					t.Errorf("layer %d: media type %s, want %s", i+1, l.MediaType, tt.newLayer)
				}
				rc, err := layers[i+1].Compressed()
				if err != nil {
					t.Fatal(err)
				}
				head := make([]byte, 2)
				_, err = rc.Read(head)
				rc.Close()
				if err != nil || head[0] != tt.magic0 || head[1] != tt.magic {
					t.Errorf("layer %d starts with % x, want %x %x", i+1, head, tt.magic0, tt.magic)
				}
			}
			// Engines read the file system through the layers' media types.
			fsys := flatten(t, res.Image)
			if fsys["opt/conda/bin/tool"].data != "#!/bin/sh\necho /opt/conda/share\n" || fsys["etc/passwd"].data == "" {
				t.Errorf("file system of the %s image: tool %q, passwd %q", tt.c, fsys["opt/conda/bin/tool"].data, fsys["etc/passwd"].data)
			}
			cf, err := res.Image.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if len(cf.RootFS.DiffIDs) != len(m.Layers) {
				t.Errorf("%d diff IDs for %d layers", len(cf.RootFS.DiffIDs), len(m.Layers))
			}
		})
	}
}

func TestParseCompression(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Compression
		ok   bool
	}{{"", Gzip, true}, {"gzip", Gzip, true}, {"zstd", Zstd, true}, {"xz", "", false}} {
		got, err := ParseCompression(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseCompression(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// A compression level changes the layers' bytes but not their content
// (diff IDs); a bigger level gives smaller layers; each level has its own
// layer cache entries; a level out of range is refused.
func TestBuildCompressionLevel(t *testing.T) {
	pkgs := extractPackages(t, testEnv("v1"))
	cache := t.TempDir()
	type built struct {
		digest  string
		diffIDs []v1.Hash
		size    int64
	}
	build := func(c Compression, level int) built {
		t.Helper()
		res, err := Build(t.Context(), empty.Image, pkgs, Options{Compression: c, CompressionLevel: level, WorkDir: t.TempDir(), LayerCache: cache, smallPackage: -1})
		if err != nil {
			t.Fatal(err)
		}
		cf, err := res.Image.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		var size int64
		for _, l := range res.Layers {
			size += l.Size
		}
		return built{digest(t, res.Image), cf.RootFS.DiffIDs, size}
	}
	for _, c := range []struct {
		c         Compression
		fast, max int
	}{{Gzip, 1, 9}, {Zstd, 1, 19}} {
		t.Run(string(c.c), func(t *testing.T) {
			def, fast, max := build(c.c, 0), build(c.c, c.fast), build(c.c, c.max)
			if again := build(c.c, c.fast); again.digest != fast.digest {
				t.Errorf("level %d from the cache: %s, built: %s", c.fast, again.digest, fast.digest)
			}
			if def.digest == fast.digest || fast.digest == max.digest {
				t.Errorf("digests default %s, level %d %s, level %d %s: want three", def.digest, c.fast, fast.digest, c.max, max.digest)
			}
			if !slices.Equal(def.diffIDs, fast.diffIDs) || !slices.Equal(def.diffIDs, max.diffIDs) {
				t.Errorf("diff IDs differ between levels")
			}
			if fast.size <= max.size {
				t.Errorf("layers: %d bytes at level %d, %d at level %d", fast.size, c.fast, max.size, c.max)
			}
		})
	}
	for _, bad := range []struct {
		c     Compression
		level int
	}{{Gzip, 10}, {Gzip, -1}, {Zstd, 23}} {
		_, err := Build(t.Context(), empty.Image, pkgs, Options{Compression: bad.c, CompressionLevel: bad.level, WorkDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "compression level") {
			t.Errorf("%s level %d: error %v", bad.c, bad.level, err)
		}
	}
}
