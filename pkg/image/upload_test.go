package image

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/condabox/condabox/internal/testregistry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestUploaderDuringBuild: layers uploaded while the image is built are
// uploaded once — Push does not check or upload them again — and the pushed
// tag names the image. Rebuilding the same image uploads nothing early:
// the tag's manifest lists every layer.
func TestUploaderDuringBuild(t *testing.T) {
	reg, host := newCountingRegistry(t)
	ref, err := name.ParseReference(host + "/env/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := extractPackages(t, testEnv("v1"))
	buildAndPush := func() (early, push map[string]int, uploaded int) {
		t.Helper()
		reg.reset()
		up := StartUpload(context.Background(), ref, authn.DefaultKeychain, PushOptions{})
		res := build(t, pkgs, Options{LayerWritten: up.Layer})
		done := up.Wait()
		early = reg.reset()
		if _, err := Push(context.Background(), ref, res.Image, nil, PushOptions{Uploader: up}); err != nil {
			t.Fatal(err)
		}
		push = reg.reset()
		pulled, err := remote.Image(ref)
		if err != nil {
			t.Fatal(err)
		}
		if digest(t, pulled) != digest(t, res.Image) {
			t.Errorf("the tag names %s, want %s", digest(t, pulled), digest(t, res.Image))
		}
		return early, push, len(done)
	}
	early, push, uploaded := buildAndPush()
	layers := len(build(t, pkgs, Options{}).Layers)
	// Monolithic: a check, a POST and a PUT each, no PATCH.
	if uploaded != layers || early["HEAD blobs"] != layers || early["POST uploads"] != layers || early["PUT uploads"] != layers || early["PATCH uploads"] != 0 {
		t.Errorf("during the build: %d layers uploaded, requests %v; want all %d, three requests each", uploaded, early, layers)
	}
	// After the build only the config, the Uploader's way.
	if push["HEAD blobs"] != 1 || push["POST uploads"] != 1 || push["PUT uploads"] != 1 || push["PATCH uploads"] != 0 {
		t.Errorf("push after the build: %v, want only the config's check, POST and PUT", push)
	}
	early, push, uploaded = buildAndPush()
	if uploaded != 0 || early["POST uploads"]+early["HEAD blobs"] != 0 || push["POST uploads"]+push["PUT manifests"] != 0 {
		t.Errorf("the same image again: %d uploaded early (%v), push %v; want nothing", uploaded, early, push)
	}
}

// TestUploaderMountsBaseLayers: pushed with an Uploader to Debian's
// docker-registry (whose blobs belong to repositories, unlike the
// in-memory registry's), the layers of a base from another repository of
// the same registry are mounted, not sent again: only the build's own
// blobs are uploaded.
func TestUploaderMountsBaseLayers(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{})
	baseRef, err := name.ParseReference(reg.Host + "/base/img:1")
	if err != nil {
		t.Fatal(err)
	}
	baseImg, err := random.Image(4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(baseRef, baseImg); err != nil {
		t.Fatal(err)
	}
	base, err := remote.Image(baseRef)
	if err != nil {
		t.Fatal(err)
	}
	baseLayers := map[string]bool{}
	ls, _ := baseImg.Layers()
	for _, l := range ls {
		d, _ := l.Digest()
		baseLayers[d.String()] = true
	}
	ref, err := name.ParseReference(reg.Host + "/env/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	reg.ResetUploads()
	up := StartUpload(context.Background(), ref, authn.DefaultKeychain, PushOptions{})
	res, err := Build(context.Background(), base, extractPackages(t, testEnv("v1")), Options{LayerWritten: up.Layer, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(context.Background(), ref, res.Image, nil, PushOptions{Uploader: up}); err != nil {
		t.Fatal(err)
	}
	uploads := reg.Uploads()
	for _, d := range uploads {
		if baseLayers[d] {
			t.Errorf("base layer %s uploaded again, not mounted", d)
		}
	}
	if want := len(res.Layers) + 1; len(uploads) != want { // the build's layers and the config
		t.Errorf("%d blobs uploaded, want %d: %v", len(uploads), want, uploads)
	}
	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, pulled) != digest(t, res.Image) {
		t.Errorf("the tag names %s, want %s", digest(t, pulled), digest(t, res.Image))
	}
}
