package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/install"
)

func TestBuildFileSystem(t *testing.T) {
	pkgs := extractPackages(t, testEnv("v1"))
	epoch := time.Unix(1234, 0)
	full := flatten(t, build(t, pkgs, Options{Epoch: epoch}).Image)
	safe := flatten(t, build(t, pkgs, Options{Prune: PruneSafe, Epoch: epoch}).Image)
	aggressive := flatten(t, build(t, pkgs, Options{Prune: PruneAggressive, Epoch: epoch}).Image)
	site := "opt/conda/lib/python3.11/site-packages/"
	tests := []struct {
		name string
		fs   map[string]fsEntry
		path string
		// want is the content ("" for no check), or "-" for absent.
		want     string
		wantType byte
		wantMode int64
		// pkg is the package whose archive gave a file its mtime; the
		// build's files have the epoch.
		pkg string
	}{
		{"text placeholder replaced", full, "opt/conda/bin/tool", "#!/bin/sh\necho /opt/conda/share\n", tar.TypeReg, 0o755, "tool-1.0-0"},
		{"binary placeholder NUL-padded", full, "opt/conda/lib/libtool.so",
			"ELF\x00/opt/conda/lib" + strings.Repeat("\x00", len(binPH)-len("/opt/conda")) + "\x00tail", tar.TypeReg, 0o755, "tool-1.0-0"},
		{"owner-only file readable by all", full, "opt/conda/lib/python3.11/os.py", "# os\n", tar.TypeReg, 0o644, "python-3.11.9-h_0"},
		{"symlink kept", full, "opt/conda/bin/python3", "", tar.TypeSymlink, 0o777, ""},
		{"noarch python mapped", full, site + "greet/__init__.py", "def main(): print('hi')\n", tar.TypeReg, 0o644, "greet-2.0-pyh_0"},
		{"entry point generated", full, "opt/conda/bin/greet", "", tar.TypeReg, 0o755, ""},
		{"clobber: the package linked last wins", full, "opt/conda/etc/clobbered", "from tool", tar.TypeReg, 0o644, "tool-1.0-0"},
		{"conda-meta record", full, "opt/conda/conda-meta/tool-1.0-0.json", "", tar.TypeReg, 0o644, ""},
		{"conda-meta history", full, "opt/conda/conda-meta/history", "", tar.TypeReg, 0o644, ""},
		{"/tmp world-writable", full, "tmp", "", tar.TypeDir, 0o1777, ""},
		{"home owned by the user", full, "home/mambauser", "", tar.TypeDir, 0o755, ""},
		{"passwd created", full, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nmambauser:x:57439:57439::/home/mambauser:/bin/sh\n", tar.TypeReg, 0o644, ""},
		{"group created", full, "etc/group", "root:x:0:\nmambauser:x:57439:\n", tar.TypeReg, 0o644, ""},
		{"static lib kept without prune", full, "opt/conda/lib/libpython3.11.a", "static", tar.TypeReg, 0o644, "python-3.11.9-h_0"},
		{"safe prune drops static libs", safe, "opt/conda/lib/libpython3.11.a", "-", 0, 0, ""},
		{"safe prune drops man pages", safe, "opt/conda/share/man/man1/python.1", "-", 0, 0, ""},
		{"safe prune keeps headers", safe, "opt/conda/include/python3.11/Python.h", "/* h */", tar.TypeReg, 0o644, "python-3.11.9-h_0"},
		{"aggressive prune drops headers", aggressive, "opt/conda/include/python3.11/Python.h", "-", 0, 0, ""},
		{"aggressive prune drops tests", aggressive, site + "greet/tests/test_greet.py", "-", 0, 0, ""},
		{"aggressive prune drops conda-meta", aggressive, "opt/conda/conda-meta/history", "-", 0, 0, ""},
		{"aggressive prune keeps code", aggressive, site + "greet/__init__.py", "def main(): print('hi')\n", tar.TypeReg, 0o644, "greet-2.0-pyh_0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := tt.fs[tt.path]
			if tt.want == "-" {
				if ok {
					t.Fatalf("%s is in the image", tt.path)
				}
				return
			}
			if !ok {
				t.Fatalf("%s is not in the image", tt.path)
			}
			if tt.want != "" && e.data != tt.want {
				t.Errorf("content %q, want %q", e.data, tt.want)
			}
			if e.hdr.Typeflag != tt.wantType || e.hdr.Mode != tt.wantMode {
				t.Errorf("type %c mode %o, want %c %o", e.hdr.Typeflag, e.hdr.Mode, tt.wantType, tt.wantMode)
			}
			wantUID := 0
			if tt.path == "home/mambauser" {
				wantUID = 57439
			}
			if e.hdr.Uid != wantUID || e.hdr.Gid != wantUID {
				t.Errorf("owner %d:%d, want %d", e.hdr.Uid, e.hdr.Gid, wantUID)
			}
			want := epoch
			if tt.pkg != "" {
				want = archiveMtime(t, pkgs, tt.pkg)
			}
			if !e.hdr.ModTime.Equal(want) {
				t.Errorf("mtime %s, want %s (package %q)", e.hdr.ModTime, want, tt.pkg)
			}
		})
	}
	if ep := full["opt/conda/bin/greet"].data; !strings.HasPrefix(ep, "#!/opt/conda/bin/python3.11\n") || !strings.Contains(ep, "from greet import main") {
		t.Errorf("entry point script:\n%s", ep)
	}
}

// archiveMtime is the mtime the archive of the package dist gave its files
// (pkgbuild gives all one), as extraction kept it.
func archiveMtime(t *testing.T, pkgs []*install.Package, dist string) time.Time {
	t.Helper()
	for _, p := range pkgs {
		if p.Record.Dist() == dist {
			st, err := os.Stat(filepath.Join(p.Dir, "info", "index.json"))
			if err != nil {
				t.Fatal(err)
			}
			return st.ModTime()
		}
	}
	t.Fatalf("no package %s", dist)
	return time.Time{}
}

func TestBuildCondaMetaMatchesImage(t *testing.T) {
	fsys := flatten(t, build(t, extractPackages(t, testEnv("v1")), Options{Prune: PruneSafe}).Image)
	for _, dist := range []string{"python-3.11.9-h_0", "tool-1.0-0", "greet-2.0-pyh_0"} {
		var r install.PrefixRecord
		if err := json.Unmarshal([]byte(fsys["opt/conda/conda-meta/"+dist+".json"].data), &r); err != nil {
			t.Fatalf("%s: %v", dist, err)
		}
		if len(r.Files) == 0 {
			t.Errorf("%s: record lists no files", dist)
		}
		for _, f := range r.Files {
			if _, ok := fsys["opt/conda/"+f]; !ok {
				t.Errorf("%s: record lists %s, which the image lacks", dist, f)
			}
		}
		if dist == "python-3.11.9-h_0" && slices.Contains(r.Files, "etc/clobbered") {
			t.Errorf("python's record lists etc/clobbered, which tool replaced")
		}
	}
}

func TestBuildConfig(t *testing.T) {
	res := build(t, extractPackages(t, testEnv("v1")), Options{
		Entrypoint: []string{"python3"}, Cmd: []string{"-V"}, Env: []string{"EXTRA=1", "LANG=de_DE.UTF-8"},
		Labels: map[string]string{"team": "data"}, Epoch: time.Unix(1700000000, 0),
	})
	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := []string{
		"CONDA_DEFAULT_ENV=base", "CONDA_PREFIX=/opt/conda", "CONDA_SHLVL=1", "EXTRA=1",
		"LANG=de_DE.UTF-8", "LC_ALL=C.UTF-8", "MAMBA_ROOT_PREFIX=/opt/conda",
		"PATH=/opt/conda/bin:" + defaultPath, "TOOL_HOME=/opt/conda/share/tool",
	}
	if !slices.Equal(cf.Config.Env, wantEnv) {
		t.Errorf("env\n got %q\nwant %q", cf.Config.Env, wantEnv)
	}
	if cf.Config.User != "mambauser" || cf.Config.WorkingDir != "/home/mambauser" {
		t.Errorf("user %q workdir %q", cf.Config.User, cf.Config.WorkingDir)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{"python3"}) || !slices.Equal(cf.Config.Cmd, []string{"-V"}) {
		t.Errorf("entrypoint %q cmd %q", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	if cf.Config.Labels["team"] != "data" || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("labels %v platform %s/%s", cf.Config.Labels, cf.OS, cf.Architecture)
	}
	if !cf.Created.Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("created %s", cf.Created)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "activate.d/tool.sh line 2") {
		t.Errorf("warnings %q, want one for the if line", res.Warnings)
	}
	m, err := res.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Annotations["org.opencontainers.image.created"] != "2023-11-14T22:13:20Z" {
		t.Errorf("annotations %v", m.Annotations)
	}
}

func TestBuildReproducible(t *testing.T) {
	first := digest(t, build(t, extractPackages(t, testEnv("v1")), Options{}).Image)
	// Other package folders, other work dir, same content: same digest.
	if again := digest(t, build(t, extractPackages(t, testEnv("v1")), Options{}).Image); again != first {
		t.Errorf("same inputs, digests %s and %s", first, again)
	}
	if other := digest(t, build(t, extractPackages(t, testEnv("v1")), Options{Epoch: time.Unix(1, 0)}).Image); other == first {
		t.Errorf("another epoch gave the same digest %s", first)
	}
}

func TestBuildTimesFromPackages(t *testing.T) {
	pkgs := extractPackages(t, testEnv("v1"))
	fsys := flatten(t, build(t, pkgs, Options{}).Image)
	python := pkgs[0].Record.Time().UTC()
	tests := []struct {
		path string
		want time.Time
	}{
		{"opt/conda/bin/python3.11", python},     // python's layer: its timestamp
		{"opt/conda/bin/tool", time.Unix(0, 0)},  // tool has none
		{"opt/conda/conda-meta/history", python}, // metadata: the newest
	}
	for _, tt := range tests {
		if got := fsys[tt.path].hdr.ModTime; !got.Equal(tt.want) {
			t.Errorf("%s: mtime %s, want %s", tt.path, got, tt.want)
		}
	}
}

// A new python build (new content, newer timestamp) changes python's layer
// and the metadata layer only.
func TestBuildChangedPackageChangesOnlyItsLayer(t *testing.T) {
	tests := []struct {
		name  string
		small int64
		want  []string
	}{
		// python's layer, and the metadata layer (its conda-meta record).
		{"a layer per package", -1, []string{"python-3.11.9-h_0", ""}},
		// The test packages are small: python shares its layer with
		// tool (same smallBucket), greet's is not new.
		{"small packages share layers", 0, []string{"python-3.11.9-h_0,tool-1.0-0", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := build(t, extractPackages(t, testEnv("v1")), Options{smallPackage: tt.small})
			after := build(t, extractPackages(t, testEnv("v2")), Options{smallPackage: tt.small}) // python's binary changed
			old := map[string]bool{}
			for _, l := range before.Layers {
				old[l.Digest] = true
			}
			var changed []string
			for _, l := range after.Layers {
				if !old[l.Digest] {
					changed = append(changed, strings.Join(l.Packages, ","))
				}
			}
			if !slices.Equal(changed, tt.want) {
				t.Errorf("new layers hold %q, want %q", changed, tt.want)
			}
		})
	}
}

func TestBuildLayersBounded(t *testing.T) {
	pkgs := extractPackages(t, testEnv("v1"))
	tests := []struct {
		max        int
		wantLayers int
	}{{1, 2}, {2, 3}, {3, 4}, {10, 4}}
	for _, tt := range tests {
		var told []string
		res := build(t, pkgs, Options{MaxLayers: tt.max, smallPackage: -1, Progress: func(l LayerReport) { told = append(told, l.Digest) }})
		if len(res.Layers) != tt.wantLayers {
			t.Errorf("max %d: %d layers, want %d", tt.max, len(res.Layers), tt.wantLayers)
		}
		if len(told) != len(res.Layers)-1 {
			t.Errorf("max %d: progress told of %d layers, want the %d package layers", tt.max, len(told), len(res.Layers)-1)
		}
		fsys := flatten(t, res.Image)
		if fsys["opt/conda/etc/clobbered"].data != "from tool" {
			t.Errorf("max %d: clobbered file holds %q", tt.max, fsys["opt/conda/etc/clobbered"].data)
		}
	}
}

func TestBuildFollowsBaseManifestFormat(t *testing.T) {
	dockerBase, err := random.Image(100, 1) // a Docker schema 2 image
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                  string
		base                  v1.Image
		wantManifest, wantLyr types.MediaType
	}{
		{"scratch becomes OCI", empty.Image, types.OCIManifestSchema1, types.OCILayer},
		{"docker base keeps docker layers", dockerBase, types.DockerManifestSchema2, types.DockerLayer},
	}
	pkgs := extractPackages(t, testEnv("v1"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Build(context.Background(), tt.base, pkgs, Options{WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			m, err := res.Image.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if m.MediaType != tt.wantManifest {
				t.Errorf("manifest %s, want %s", m.MediaType, tt.wantManifest)
			}
			for _, l := range m.Layers {
				if l.MediaType != tt.wantLyr {
					t.Errorf("layer %s is %s, want %s", l.Digest, l.MediaType, tt.wantLyr)
				}
			}
		})
	}
}

// A package depending on __glibc onto scratch is warned about: its programs
// cannot start there. Without that dependency, or onto a base with layers,
// there is no warning.
func TestBuildLibcWarning(t *testing.T) {
	needsLibc := rec("tool", "1.0", "0", "")
	needsLibc.Depends = []string{"__glibc >=2.17,<3.0.a0"}
	files := []pkgbuild.File{{Path: "bin/tool", Mode: 0o755, Data: []byte("#!/bin/sh\n")}}
	withLibc := extractPackages(t, []*pkgbuild.Package{{Record: needsLibc, Files: files}})
	static := extractPackages(t, []*pkgbuild.Package{{Record: rec("static-tool", "1.0", "0", ""), Files: files}})
	layered, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		base v1.Image
		pkgs []*install.Package
		want bool
	}{
		{"__glibc onto scratch", empty.Image, withLibc, true},
		{"no __glibc onto scratch", empty.Image, static, false},
		{"__glibc onto a base with layers", layered, withLibc, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Build(t.Context(), tc.base, tc.pkgs, Options{WorkDir: t.TempDir(), Epoch: time.Unix(1, 0)})
			if err != nil {
				t.Fatal(err)
			}
			got := slices.ContainsFunc(res.Warnings, func(w string) bool {
				return strings.Contains(w, "tool-1.0-0 depends on \"__glibc >=2.17,<3.0.a0\" but the base is scratch")
			})
			if got != tc.want {
				t.Errorf("warnings %q: libc warning %v, want %v", res.Warnings, got, tc.want)
			}
		})
	}
}

// TestBuildWarnsOfPostLinkScripts: a package's post-link script is in the
// image but was not run; the build says so, naming the package. A
// pre-unlink script (nothing unlinks in an image) is no warning.
func TestBuildWarnsOfPostLinkScripts(t *testing.T) {
	pkgs := []*pkgbuild.Package{
		{Record: rec("fonts", "1.0", "0", ""), Files: []pkgbuild.File{
			{Path: "bin/.fonts-post-link.sh", Mode: 0o755, Data: []byte("#!/bin/sh\nfc-cache\n")},
			{Path: "share/fonts/a.ttf", Mode: 0o644, Data: []byte("font")},
		}},
		{Record: rec("quiet", "1.0", "0", ""), Files: []pkgbuild.File{
			{Path: "bin/.quiet-pre-unlink.sh", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
			{Path: "bin/.other-post-link.sh", Mode: 0o755, Data: []byte("#!/bin/sh\n")}, // not its own
		}},
	}
	res := build(t, extractPackages(t, pkgs), Options{})
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "fonts-1.0-0 has a post-link script (opt/conda/bin/.fonts-post-link.sh)") {
		t.Errorf("warnings %q, want one for fonts' post-link script", res.Warnings)
	}
}
