package image

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLayerCache(t *testing.T) {
	pkgs := extractPackages(t, testEnv("v1"))
	want := digest(t, build(t, pkgs, Options{}).Image)
	cache := t.TempDir()
	first := build(t, pkgs, Options{LayerCache: cache})
	if got := digest(t, first.Image); got != want {
		t.Fatalf("cached build %s, uncached %s", got, want)
	}
	blobs, err := filepath.Glob(filepath.Join(cache, "*.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs) != len(first.Layers) { // the package layers and the metadata layer
		t.Fatalf("%d cached blobs for %d layers", len(blobs), len(first.Layers))
	}
	stamp := map[string]int64{}
	for _, b := range blobs {
		st, err := os.Stat(b)
		if err != nil {
			t.Fatal(err)
		}
		stamp[b] = st.ModTime().UnixNano()
	}
	// A truncated blob is not used: that layer is written again.
	if err := os.Truncate(blobs[0], 10); err != nil {
		t.Fatal(err)
	}
	second := build(t, pkgs, Options{LayerCache: cache})
	if got := digest(t, second.Image); got != want {
		t.Fatalf("build over a damaged cache %s, want %s", got, want)
	}
	for _, b := range blobs[1:] {
		if st, err := os.Stat(b); err != nil || st.ModTime().UnixNano() != stamp[b] {
			t.Errorf("%s was rewritten although it was valid", b)
		}
	}
	if st, err := os.Stat(blobs[0]); err != nil || st.Size() == 10 {
		t.Errorf("truncated blob not replaced: %v", err)
	}
}

func TestLayerKey(t *testing.T) {
	base := []entry{{Name: "opt/conda/bin/x", Type: tar.TypeReg, Mode: 0o755, Size: 3, SHA256: "aa"}}
	key := layerKey(base, time.Unix(0, 0))
	tests := []struct {
		name   string
		change func(e *entry)
		same   bool
	}{
		{"same entries", func(e *entry) {}, true},
		{"other content", func(e *entry) { e.SHA256 = "bb" }, false},
		{"other mode", func(e *entry) { e.Mode = 0o644 }, false},
		{"mode normalised the same", func(e *entry) { e.Mode = 0o700 }, true},
		{"other path", func(e *entry) { e.Name = "opt/conda/bin/y" }, false},
		{"other source folder", func(e *entry) { e.Source = "/elsewhere/bin/x" }, true},
	}
	for _, tt := range tests {
		e := base[0]
		tt.change(&e)
		if got := layerKey([]entry{e}, time.Unix(0, 0)) == key; got != tt.same {
			t.Errorf("%s: same key = %v, want %v", tt.name, got, tt.same)
		}
	}
	noHash := base[0]
	noHash.SHA256 = ""
	if k := layerKey([]entry{noHash}, time.Unix(0, 0)); k != "" {
		t.Errorf("file without a hash got key %q", k)
	}
}

func TestBaseFilesCache(t *testing.T) {
	pkgs := extractPackages(t, testEnv("v1"))
	base := build(t, pkgs, Options{User: User{"app", 1000, 1000}}).Image
	cache := t.TempDir()
	var digests []string
	for range 2 {
		res, err := Build(context.Background(), base, pkgs, Options{WorkDir: t.TempDir(), LayerCache: cache})
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, digest(t, res.Image))
		if !strings.Contains(flatten(t, res.Image)["etc/passwd"].data, "app:x:1000") {
			t.Error("the base's user is missing from passwd")
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("digests %q", digests)
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "base-*.json")); len(m) != 1 {
		t.Errorf("base cache files %q, want 1", m)
	}
}
