package image

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// countingRegistry is an in-memory registry that counts requests by
// "METHOD kind" (kind: blobs, uploads, manifests).
type countingRegistry struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *countingRegistry) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.counts
	c.counts = map[string]int{}
	return out
}

func newCountingRegistry(t *testing.T) (*countingRegistry, string) {
	c := &countingRegistry{counts: map[string]int{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(r.URL.Path, "/")
		kind := ""
		for _, k := range []string{"blobs", "uploads", "manifests", "referrers"} {
			for _, p := range parts {
				if p == k {
					kind = k
				}
			}
		}
		c.mu.Lock()
		c.counts[r.Method+" "+kind]++
		c.mu.Unlock()
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return c, strings.TrimPrefix(srv.URL, "http://")
}

func TestPushUploadsOnlyWhatChanged(t *testing.T) {
	reg, host := newCountingRegistry(t)
	ref, err := name.ParseReference(host + "/env/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	v1img := build(t, extractPackages(t, testEnv("v1")), Options{}).Image
	v2img := build(t, extractPackages(t, testEnv("v2")), Options{}).Image
	doc := []byte(`{"spdxVersion":"SPDX-2.3"}`)
	layers, err := v1img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var events []BlobPushed
	push := func(img v1.Image) map[string]int {
		t.Helper()
		reg.reset()
		events = nil
		if _, err := Push(context.Background(), ref, img, doc, PushOptions{Progress: func(b BlobPushed) { events = append(events, b) }}); err != nil {
			t.Fatal(err)
		}
		return reg.reset()
	}
	// First push: every layer and the config are new.
	first := push(v1img)
	// The layers, the config and the SBOM's two blobs (its document and
	// the empty config).
	if want := len(layers) + 1 + 2; len(events) != want || events[len(events)-1].Done != want || events[len(events)-1].Total != want {
		t.Errorf("first push: progress %+v, want %d blobs", events, want)
	}
	if first["PUT manifests"] < 2 || first["GET "] > 3 { // the image and the SBOM (+ a referrers fallback tag); a few pings, not one per blob
		t.Errorf("first push: %v", first)
	}
	// The same image again: nothing is uploaded or checked blob by blob.
	again := push(v1img)
	if again["POST uploads"]+again["PUT uploads"]+again["HEAD blobs"]+again["PUT manifests"] != 0 || len(events) != 0 {
		t.Errorf("pushing the same image again: %v, progress %+v", again, events)
	}
	// One package changed: its layer, the metadata layer and the config
	// are new; the blobs of the tagged image are not asked for.
	changed := push(v2img)
	newBlobs := 0
	v2layers, _ := v2img.Layers()
	for i, l := range v2layers {
		d1, _ := layers[i].Digest()
		d2, _ := l.Digest()
		if d1 != d2 {
			newBlobs++
		}
	}
	newBlobs++ // the config
	// HEAD: the new blobs and the two of the new SBOM manifest, which has
	// the same content but another subject.
	if changed["HEAD blobs"] != newBlobs+2 || changed["POST uploads"] != newBlobs || len(events) != newBlobs+2 {
		t.Errorf("after one package changed, %d new blobs: %v, progress %+v", newBlobs, changed, events)
	}
	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, pulled) != digest(t, v2img) {
		t.Errorf("the tag names %s, want %s", digest(t, pulled), digest(t, v2img))
	}
}

// TestReusableLayers: the layers Build added are found by the id their
// history gives them, with their blob and diff ID; a base's layers, which
// condabox did not write, and the layers of another compression are not.
func TestReusableLayers(t *testing.T) {
	pkgs := extractPackages(t, testEnv("v1"))
	img := build(t, pkgs, Options{}).Image
	base, err := random.Image(100, 2)
	if err != nil {
		t.Fatal(err)
	}
	onBase, err := Build(context.Background(), base, pkgs, Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	zstdImg := build(t, pkgs, Options{Compression: Zstd}).Image
	for _, tc := range []struct {
		name string
		img  v1.Image
	}{{"scratch", img}, {"on a base", onBase.Image}} {
		t.Run(tc.name, func(t *testing.T) {
			got := reusableLayers(tc.img)
			m, _ := tc.img.Manifest()
			cf, _ := tc.img.ConfigFile()
			added := len(onBase.Layers) // the same packages: as many added layers
			if len(got) != added {
				t.Fatalf("%d reusable layers, want the %d Build added", len(got), added)
			}
			first := len(m.Layers) - added
			for i := first; i < len(m.Layers); i++ {
				id := cf.History[len(cf.History)-len(m.Layers)+i].Comment
				r, ok := got[id]
				if !ok || r.blob.Digest != m.Layers[i].Digest || r.blob.Size != m.Layers[i].Size || r.diffID != cf.RootFS.DiffIDs[i] {
					t.Errorf("layer %d (%q): found %v %+v, want its blob and diff ID", i, id, ok, r)
				}
			}
			// The zstd build's layers have other ids: none of them is here.
			zcf, _ := zstdImg.ConfigFile()
			for _, h := range zcf.History {
				if _, ok := got[h.Comment]; ok {
					t.Errorf("a zstd layer (%q) found among gzip ones", h.Comment)
				}
			}
		})
	}
	if got := reusableLayers(base); got != nil {
		t.Errorf("an image condabox did not build: %d reusable layers", len(got))
	}
}
