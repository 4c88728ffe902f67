package image

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/condabox/condabox/pkg/image/sbom"
)

func TestPushWithSBOMReferrer(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, err := name.ParseReference(host + "/env/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	img := build(t, extractPackages(t, testEnv("v1")), Options{}).Image
	doc := []byte(`{"spdxVersion":"SPDX-2.3"}`)
	sbomDigest, err := Push(context.Background(), ref, img, doc, PushOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, pulled) != digest(t, img) {
		t.Fatalf("pulled %s, pushed %s", digest(t, pulled), digest(t, img))
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(ref.Context().Digest(d.String()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].ArtifactType != sbom.MediaType || m.Manifests[0].Digest != sbomDigest {
		t.Fatalf("referrers %+v, want the SBOM %s", m.Manifests, sbomDigest)
	}
	art, err := remote.Image(ref.Context().Digest(sbomDigest.String()))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := art.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("SBOM artifact layers %d, %v", len(layers), err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); string(got) != string(doc) {
		t.Errorf("SBOM blob %q", got)
	}
}

func TestWriteAndLoadBase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	img := build(t, extractPackages(t, testEnv("v1")), Options{}).Image
	layoutDir := filepath.Join(dir, "layout")
	archive := filepath.Join(dir, "img.tar")
	if err := WriteLayout(layoutDir, img, "app:v1"); err != nil {
		t.Fatal(err)
	}
	// Writing the same tag again replaces the image, not adds one.
	if err := WriteLayout(layoutDir, img, "app:v1"); err != nil {
		t.Fatal(err)
	}
	if err := WriteDockerArchive(archive, img, "example.org/app:v1"); err != nil {
		t.Fatal(err)
	}
	arm, err := random.Image(10, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := arm.ConfigFile()
	cf.OS, cf.Architecture = "linux", "arm64"
	arm, err = mutate.ConfigFile(arm, cf)
	if err != nil {
		t.Fatal(err)
	}
	armDir := filepath.Join(dir, "arm")
	if err := WriteLayout(armDir, arm, "arm:v1"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref     string
		wantErr string
	}{
		{OCIPrefix + layoutDir, ""},
		{DockerArchivePrefix + archive, ""},
		{OCIPrefix + armDir, "it is for linux/arm64, not linux/amd64"},
		{OCIPrefix + filepath.Join(dir, "missing"), "load base image oci:"},
		{DockerArchivePrefix + filepath.Join(dir, "missing.tar"), "missing.tar"},
		{"UPPER/case:tag", "load base image UPPER/case:tag"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := LoadBase(ctx, tt.ref, LinuxAMD64)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// A docker archive keeps config and layers, not the manifest
			// (annotations, media types).
			gotCfg, err1 := got.ConfigName()
			wantCfg, err2 := img.ConfigName()
			if err1 != nil || err2 != nil || gotCfg != wantCfg {
				t.Errorf("loaded config %s, wrote %s (%v, %v)", gotCfg, wantCfg, err1, err2)
			}
		})
	}
}

func TestBuildOnBaseKeepsItsUsers(t *testing.T) {
	base := build(t, extractPackages(t, testEnv("v1")), Options{User: User{"app", 1000, 1000}}).Image
	res, err := Build(context.Background(), base, extractPackages(t, testEnv("v1")), Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	fsys := flatten(t, res.Image)
	want := "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nmambauser:x:57439:57439::/home/mambauser:/bin/sh\n"
	if got := fsys["etc/passwd"].data; got != want {
		t.Errorf("passwd\n%s\nwant\n%s", got, want)
	}
	m, err := res.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var baseDigest v1.Hash
	if baseDigest, err = base.Digest(); err != nil {
		t.Fatal(err)
	}
	if m.Annotations["org.opencontainers.image.base.digest"] != baseDigest.String() {
		t.Errorf("base digest annotation %q, want %s", m.Annotations["org.opencontainers.image.base.digest"], baseDigest)
	}
}

// TestWriteOutputsDiskFull writes outputs onto a 1 MiB tmpfs (needs root):
// an image too big for it gives an error naming the output and the full
// disk, and leaves the layout or archive it would replace as it was.
func TestWriteOutputsDiskFull(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	small, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	// A layer of known digest, as a build's are: go-containerregistry
	// writes it under its final name. Random bytes: 2 MiB compressed too.
	noise := make([]byte, 2<<20)
	rand.Read(noise)
	big, err := mutate.AppendLayers(empty.Image, static.NewLayer(noise, types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	dir, archive := filepath.Join(mnt, "layout"), filepath.Join(mnt, "img.tar")
	if err := WriteLayout(dir, small, "small"); err != nil {
		t.Fatal(err)
	}
	if err := WriteDockerArchive(archive, small, "example.org/small:v1"); err != nil {
		t.Fatal(err)
	}
	err = WriteLayout(dir, big, "big")
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "write OCI layout "+dir) {
		t.Fatalf("layout error %v, want ENOSPC naming %s", err, dir)
	}
	err = WriteDockerArchive(archive, big, "example.org/big:v1")
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "write docker archive "+archive) {
		t.Fatalf("archive error %v, want ENOSPC naming %s", err, archive)
	}
	// The layout still holds the small image, whole, and only it.
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 || m.Manifests[0].Annotations[refNameAnnotation] != "small" {
		t.Fatalf("layout index %+v, %v; want the small image alone", m, err)
	}
	got, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(got); err != nil {
		t.Errorf("the small image in the layout: %v", err)
	}
	// Every blob is whole: no part of the big image's under its name.
	blobs, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blobs {
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", b.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256Hex(data); sum != b.Name() {
			t.Errorf("blob %s holds %d bytes of sha256 %s: half-written", b.Name(), len(data), sum)
		}
	}
	// The archive is still the small image's.
	loaded, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(loaded); err != nil {
		t.Errorf("the small image's archive: %v", err)
	}
	if a, b := digestOf(t, loaded), digestOf(t, small); a != b {
		t.Errorf("archive holds %s, want the small image %s", a, b)
	}
	// Nothing else is left on the disk: no stage, no temporary archive.
	entries, err := os.ReadDir(mnt)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "img.tar layout" {
		t.Errorf("left on the disk: %v, want img.tar and layout", names)
	}
}

func digestOf(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
