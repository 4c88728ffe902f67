package image

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/condabox/condabox/internal/testregistry"
)

// TestUploaderDuringBuild: layers uploaded while the image is built, and
// the config and SBOM blobs given once it is (Image), are uploaded once —
// Push does not check or upload them again, it puts the manifests — and
// the pushed tag names the image. Rebuilding the same image uploads
// nothing early: the tag's manifest lists every layer and the SBOM is
// there.
func TestUploaderDuringBuild(t *testing.T) {
	reg, host := newCountingRegistry(t)
	ref, err := name.ParseReference(host + "/env/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := extractPackages(t, testEnv("v1"))
	doc := []byte(`{"spdxVersion":"SPDX-2.3"}`)
	buildAndPush := func() (early, push map[string]int, uploaded int) {
		t.Helper()
		reg.reset()
		up := StartUpload(context.Background(), ref, authn.DefaultKeychain, PushOptions{})
		res := build(t, pkgs, Options{LayerWritten: up.Layer})
		up.Image(res.Image, doc)
		done := up.Wait()
		early = reg.reset()
		if _, err := Push(context.Background(), ref, res.Image, doc, PushOptions{Uploader: up}); err != nil {
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
	// The layers, the config, the SBOM's document and empty config.
	blobs := len(build(t, pkgs, Options{}).Layers) + 3
	// Monolithic: a check, a POST and a PUT each, no PATCH; and one POST
	// more, the push permission check's.
	if uploaded != blobs || early["HEAD blobs"] != blobs || early["POST uploads"] != blobs+1 || early["PUT uploads"] != blobs || early["PATCH uploads"] != 0 {
		t.Errorf("during the build: %d blobs uploaded, requests %v; want all %d, three requests each", uploaded, early, blobs)
	}
	// After the build only the manifests: the image's and the SBOM's.
	if push["HEAD blobs"]+push["POST uploads"]+push["PUT uploads"]+push["PATCH uploads"] != 0 || push["PUT manifests"] < 2 {
		t.Errorf("push after the build: %v, want only the manifests put", push)
	}
	// One handshake (GET /v2/) for the whole push: the check, the tag's
	// manifest, the uploads and the manifests share one session.
	if early["GET "] != 1 || push["GET "] != 0 {
		t.Errorf("handshakes: %d while building, %d in the push; want 1 and 0", early["GET "], push["GET "])
	}
	early, push, uploaded = buildAndPush()
	// The SBOM's two blobs are not in the tag's manifest: checked, there.
	if uploaded != 2 || early["POST uploads"] != 1 || early["HEAD blobs"] != 2 || push["POST uploads"]+push["PUT manifests"] != 0 {
		t.Errorf("the same image again: %d uploaded early (%v), push %v; want nothing", uploaded, early, push)
	}
}

// TestUploaderRefused: credentials the registry refuses stop the Uploader
// at its check: Err says so, nothing is uploaded, and Push fails.
func TestUploaderRefused(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{User: "ci", Password: "right"})
	ref, err := name.ParseReference(reg.Host + "/env/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	kc := authn.NewMultiKeychain(staticKeychain{authn.FromConfig(authn.AuthConfig{Username: "ci", Password: "wrong"})})
	up := StartUpload(context.Background(), ref, kc, PushOptions{Remote: []remote.Option{remote.WithAuthFromKeychain(kc)}})
	res := build(t, extractPackages(t, testEnv("v1")), Options{LayerWritten: up.Layer})
	var terr *transport.Error
	if err := up.Err(); !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Err() = %v, want the registry's 401", err)
	}
	up.Image(res.Image, nil)
	if done := up.Wait(); len(done) != 0 {
		t.Errorf("uploaded %d blobs", len(done))
	}
	if _, err := Push(context.Background(), ref, res.Image, nil, PushOptions{Uploader: up}); !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Errorf("Push: %v, want the check's error", err)
	}
	if n := len(reg.Uploads()); n != 0 {
		t.Errorf("%d blobs reached the registry", n)
	}
}

// staticKeychain resolves every resource to its authenticator.
type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

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
	up.Image(res.Image, nil) // the base layers go up (mounted) before Push
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

// TestUploaderStopsWithContext: cancelling the context StartUpload was
// given stops an upload the registry does not answer, instead of Wait
// waiting for it forever.
func TestUploaderStopsWithContext(t *testing.T) {
	putting := make(chan struct{}, 1)
	ended := make(chan struct{}) // the test's end frees a handler still waiting
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			w.Header().Set("Location", "/v2/env/app/blobs/uploads/1")
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/uploads/"):
			io.Copy(io.Discard, r.Body) // read: the server then sees the client go
			select {
			case putting <- struct{}{}:
			default:
			}
			select { // a registry that never answers
			case <-r.Context().Done():
			case <-ended:
			}
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	defer close(ended)
	ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/env/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	layer, err := random.Layer(1024, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	up := StartUpload(ctx, ref, authn.DefaultKeychain, PushOptions{})
	up.Layer(layer)
	select {
	case <-putting:
	case <-time.After(time.Minute):
		t.Fatal("the upload never reached its PUT")
	}
	cancel()
	waited := make(chan map[v1.Hash]bool)
	go func() { waited <- up.Wait() }()
	select {
	case uploaded := <-waited:
		if len(uploaded) != 0 {
			t.Errorf("uploaded %v, want nothing", uploaded)
		}
	case <-time.After(time.Minute):
		t.Fatal("Wait still waits for the upload a minute after the context was cancelled")
	}
}
