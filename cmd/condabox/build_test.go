package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/internal/testchannel/realistic"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/internal/testimage"
	"github.com/condabox/condabox/internal/testregistry"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/image"
	"github.com/condabox/condabox/pkg/image/sbom"
)

// imageChannel writes a channel of two real small packages: hello (a script
// with a text prefix placeholder) and greeting (noarch data with an
// env_vars.d file).
func imageChannel(t *testing.T) string {
	t.Helper()
	return writeChannel(t, imagePackages())
}

// imagePackages are imageChannel's packages.
func imagePackages() []*pkgbuild.Package {
	return []*pkgbuild.Package{
		{Record: conda.PackageRecord{Name: "hello", Version: conda.MustParseVersion("1.0"), Build: "0", Subdir: "linux-64",
			Depends: []string{"greeting"}, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "bin/hello", Mode: 0o755, PrefixPlaceholder: "/opt/anaconda1anaconda2anaconda3",
				Data: []byte("#!/bin/sh\ncat /opt/anaconda1anaconda2anaconda3/share/greeting.txt\n")}}},
		{Record: conda.PackageRecord{Name: "hello", Version: conda.MustParseVersion("1.0"), Build: "0", Subdir: "linux-aarch64",
			Depends: []string{"greeting"}, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "bin/hello", Mode: 0o755, Data: []byte("#!/bin/sh\necho aarch64\n")}}},
		{Record: conda.PackageRecord{Name: "greeting", Version: conda.MustParseVersion("1.0"), Build: "0", Subdir: "noarch",
			Noarch: conda.NoarchGeneric, License: "Apache 2.0", Timestamp: 1690000000000},
			Files: []pkgbuild.File{
				{Path: "share/greeting.txt", Mode: 0o644, Data: []byte("hello\n")},
				{Path: "etc/conda/env_vars.d/greeting.json", Mode: 0o644, Data: []byte(`{"GREETING": "hello"}`)},
			}},
	}
}

// writeChannel writes pkgs as .conda files into a new channel folder,
// indexed, and returns it.
func writeChannel(t *testing.T, pkgs []*pkgbuild.Package) string {
	t.Helper()
	dir := t.TempDir()
	var recs []conda.PackageRecord
	for _, p := range pkgs {
		r, err := pkgbuild.WriteFile(mkdir(t, filepath.Join(dir, p.Record.Subdir)), p, pkgbuild.FormatConda)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if err := index.WriteChannel(dir, recs, index.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile writes a test input file and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func decodeBuild(t *testing.T, r result) buildResult {
	t.Helper()
	var out buildResult
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("exit %d, stdout is not JSON: %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
	return out
}

func TestBuildOutputs(t *testing.T) {
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	ch := "file://" + imageChannel(t)
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yml", "channels: ["+ch+"]\ndependencies:\n  - hello\nvariables:\n  FROMFILE: baked\n")
	layoutDir := filepath.Join(dir, "layout")
	args := []string{"build", "--json", "-f", envFile, "--override-channels", "--tag", "example.org/hello:1"}

	first := decodeBuild(t, runCLI(t, append(args, "--output", "oci:"+layoutDir)...))
	second := decodeBuild(t, runCLI(t, append(args, "--output", "oci:"+layoutDir)...))
	if first.Digest == "" || first.Digest != second.Digest {
		t.Errorf("two builds: digests %q and %q", first.Digest, second.Digest)
	}
	// -q: no progress, no size report; the same image.
	quietArgs := slices.Concat(slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--json" }), []string{"-q", "--output", "oci:" + filepath.Join(dir, "quiet")})
	if r := runCLI(t, quietArgs...); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("build -q: exit %d, stdout %q, stderr %q: want nothing", r.code, r.stdout, r.stderr)
	}
	archive := filepath.Join(dir, "hello.tar")
	third := decodeBuild(t, runCLI(t, append(args, "--output", "docker-archive:"+archive)...))
	if third.Images[0].SBOM != archive+".spdx.json" {
		t.Errorf("SBOM at %q", third.Images[0].SBOM)
	}
	if got := len(first.Images[0].Layers); got != 3 { // hello, greeting, metadata
		t.Errorf("%d layers, want 3: %+v", got, first.Images[0].Layers)
	}

	img, err := image.LoadBase(t.Context(), "oci:"+layoutDir, image.LinuxAMD64)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cf.Config.Env, "GREETING=hello") || !slices.Contains(cf.Config.Env, "FROMFILE=baked") || cf.Config.User != "mambauser" {
		t.Errorf("config env %q user %q", cf.Config.Env, cf.Config.User)
	}
	// The variables are in conda-meta/state too, for condabox and conda in
	// the image.
	if state := string(fileInImage(t, img, "opt/conda/conda-meta/state")); !strings.Contains(state, `"FROMFILE": "baked"`) {
		t.Errorf("conda-meta/state: %q", state)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Annotations["org.opencontainers.image.title"] != "hello" || m.Annotations["org.opencontainers.image.version"] != "1" {
		t.Errorf("annotations %v", m.Annotations)
	}
	// Files come from the newest package's timestamp when SOURCE_DATE_EPOCH
	// is unset.
	if cf.Created.Unix() != 1700000000 {
		t.Errorf("created %s", cf.Created)
	}

	var doc sbom.Document
	b, err := os.ReadFile(first.Images[0].SBOM)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range doc.Packages {
		names = append(names, p.Name+" "+p.LicenseDeclared)
	}
	if want := []string{"greeting NOASSERTION", "hello MIT"}; !slices.Equal(names, want) {
		t.Errorf("SBOM packages %q, want %q", names, want)
	}
}

func TestBuildMultiPlatform(t *testing.T) {
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	ch := "file://" + imageChannel(t)
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yml", "channels: ["+ch+"]\ndependencies:\n  - hello\n")
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	tag := strings.TrimPrefix(srv.URL, "http://") + "/hello:1"
	layoutDir := filepath.Join(dir, "layout")
	args := []string{"build", "--json", "-f", envFile, "--override-channels", "--tag", tag, "--platform", "linux/amd64,linux/arm64"}
	written := decodeBuild(t, runCLI(t, append(args, "--output", "oci:"+layoutDir)...))
	pushed := decodeBuild(t, runCLI(t, append(args, "--push")...))
	if written.Digest != pushed.Digest || len(pushed.Images) != 2 {
		t.Fatalf("written %s, pushed %s with %d images", written.Digest, pushed.Digest, len(pushed.Images))
	}
	ref, err := name.ParseReference(tag)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, d := range m.Manifests {
		platforms = append(platforms, d.Platform.String())
		refs, err := remote.Referrers(ref.Context().Digest(d.Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		if rm, err := refs.IndexManifest(); err != nil || len(rm.Manifests) != 1 || rm.Manifests[0].ArtifactType != sbom.MediaType {
			t.Errorf("%s: SBOM referrers %v, %v", d.Platform, rm, err)
		}
	}
	if want := []string{"linux/amd64", "linux/arm64"}; !slices.Equal(platforms, want) {
		t.Errorf("index platforms %q, want %q", platforms, want)
	}
	// The noarch package's layer is the same in both images: pushed once.
	layers := map[string]int{}
	for _, img := range written.Images {
		for _, l := range img.Layers {
			layers[strings.Join(l.Packages, ",")+" "+l.Digest]++
		}
		if _, err := os.Stat(filepath.Join(dir, "layout."+strings.ReplaceAll(img.Platform, "/", "-")+".spdx.json")); err != nil {
			t.Errorf("SBOM of %s: %v", img.Platform, err)
		}
	}
	shared := 0
	for k, n := range layers {
		if n == 2 && strings.HasPrefix(k, "greeting-1.0-0 ") {
			shared++
		}
	}
	if shared != 1 {
		t.Errorf("greeting's layer not shared by both platforms: %v", layers)
	}
}

// TestBuildBadInput checks that bad input fails with one clear error before
// anything is written or pushed.
func TestBuildBadInput(t *testing.T) {
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	ch := "file://" + imageChannel(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "env.yml", "channels: ["+ch+"]\ndependencies:\n  - hello\n")
	badEnv := writeFile(t, dir, "bad.yml", "dependencies:\n  - sel(beos): x\n")
	unsat := writeFile(t, dir, "unsat.yml", "channels: ["+ch+"]\ndependencies:\n  - hello >=2\n")
	named := writeFile(t, dir, "named.yml", "name: tools\nchannels: ["+ch+"]\ndependencies:\n  - hello\n")
	explicit := writeFile(t, dir, "explicit.txt", "@EXPLICIT\n")

	arm, err := random.Image(10, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := arm.ConfigFile()
	cf.OS, cf.Architecture = "linux", "arm64"
	if arm, err = mutate.ConfigFile(arm, cf); err != nil {
		t.Fatal(err)
	}
	armDir := filepath.Join(dir, "arm")
	if err := image.WriteLayout(armDir, arm, "arm"); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "out")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no file", []string{"--tag", "x", "--output", "oci:" + out}, "build needs -f FILE"},
		{"several envs, one unnamed", []string{"-f", named, "-f", good, "--tag", "x", "--output", "oci:" + out}, "-f " + good + ": several environments need a name:"},
		{"several envs, same name", []string{"-f", named, "-f", named, "--tag", "x", "--output", "oci:" + out}, `environment name "tools" given twice`},
		{"several envs, not an env file", []string{"-f", named, "-f", explicit, "--tag", "x", "--output", "oci:" + out}, "-f " + explicit + ": several environments need"},
		{"no tag", []string{"-f", good, "--output", "oci:" + out}, "--tag"},
		{"no output", []string{"-f", good, "--tag", "x"}, "either --push or --output"},
		{"bad output", []string{"-f", good, "--tag", "x", "--output", "dir:" + out}, `--output "dir:`},
		{"bad platform", []string{"-f", good, "--tag", "x", "--output", "oci:" + out, "--platform", "beos/amd64"}, "beos/amd64"},
		{"platform twice", []string{"-f", good, "--tag", "x", "--output", "oci:" + out, "--platform", "linux/amd64,linux/amd64"}, "given twice"},
		{"docker archive of two platforms", []string{"-f", good, "--tag", "x", "--output", "docker-archive:" + out, "--platform", "linux/amd64,linux/arm64"}, "a docker archive holds one platform"},
		{"bad prune", []string{"-f", good, "--tag", "x", "--output", "oci:" + out, "--prune", "all"}, `parse prune "all"`},
		{"bad compression", []string{"-f", good, "--tag", "x", "--output", "oci:" + out, "--compression", "xz"}, `--compression: parse compression "xz": want gzip or zstd`},
		{"bad compression level", []string{"-f", good, "--tag", "x", "--output", "oci:" + out, "--compression-level", "12"}, `--compression-level: compression level 12: gzip takes 1 to 9`},
		{"bad user", []string{"-f", good, "--tag", "x", "--output", "oci:" + out, "--user", "bob"}, `parse user "bob"`},
		{"bad cmd", []string{"-f", good, "--tag", "x", "--output", "oci:" + out, "--cmd", "[1]"}, "--cmd"},
		{"bad env file", []string{"-f", badEnv, "--tag", "x", "--output", "oci:" + out}, `parse environment file "` + badEnv},
		{"unsatisfiable", []string{"-f", unsat, "--tag", "x", "--output", "oci:" + out}, "hello >=2"},
		{"arm64 base", []string{"-f", good, "--tag", "x", "--output", "oci:" + out, "--base", "oci:" + armDir}, "it is for linux/arm64, not linux/amd64"},
		{"unreachable base registry", []string{"-f", good, "--tag", "x", "--output", "oci:" + out, "--base", "127.0.0.1:1/base:1"}, "load base image 127.0.0.1:1/base:1"},
		// The base is read while the environment is solved: its error is
		// the one reported.
		{"unreachable base, unsatisfiable env", []string{"-f", unsat, "--tag", "x", "--output", "oci:" + out, "--base", "127.0.0.1:1/base:1"}, "load base image 127.0.0.1:1/base:1"},
		{"unreachable registry", []string{"-f", good, "--tag", "127.0.0.1:1/x:1", "--push"}, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"build", "--override-channels"}, tt.args...)...)
			if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d\nstdout: %q\nstderr: %q\nwant an error containing %q", r.code, r.stdout, r.stderr, tt.wantErr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("failed build wrote %s", out)
			}
		})
	}
}

// TestBuildOutputDiskFull writes a build's outputs onto a full disk (a
// small tmpfs; needs root): exit 1 with an error naming the output and the
// full disk, and nothing left where the output, its SBOM or a stage of it
// would be.
func TestBuildOutputDiskFull(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	env := writeFile(t, t.TempDir(), "env.yml", "channels: [file://"+imageChannel(t)+"]\ndependencies:\n  - hello\n")
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	for _, output := range []string{"oci:" + filepath.Join(mnt, "layout"), "docker-archive:" + filepath.Join(mnt, "img.tar")} {
		t.Run(output, func(t *testing.T) {
			r := runCLI(t, "build", "--override-channels", "-f", env, "--tag", "example.org/hello:1", "--output", output)
			path := output[strings.Index(output, ":")+1:]
			if r.code != 1 || !strings.Contains(r.stderr, path) || !strings.Contains(r.stderr, "no space left on device") {
				t.Fatalf("exit %d\nstderr: %q\nwant exit 1 and an error naming %s and the full disk", r.code, r.stderr, path)
			}
			if entries, err := os.ReadDir(mnt); err != nil || len(entries) != 0 {
				t.Errorf("left on the full disk: %v (%v)", entries, err)
			}
		})
	}
}

// TestBuildReusesPushedLayers rebuilds with empty caches, as a CI runner
// does, pushing to the tag of an earlier build: the layers the tag's image
// has are taken from the registry (not written or uploaded again), and the
// image is the one a full build gives, digest for digest.
func TestBuildReusesPushedLayers(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{})
	payload := func(seed byte) []byte { // 1.5 MiB: a layer of its own
		b := make([]byte, 3<<19)
		for i := range b {
			b[i] = byte(i*int(seed)) ^ byte(i>>9)
		}
		return b
	}
	var pkgs []*pkgbuild.Package
	for _, p := range []struct {
		name, version string
		seed          byte
	}{{"big", "1.0", 3}, {"big", "2.0", 5}, {"other", "1.0", 7}} {
		pkgs = append(pkgs, &pkgbuild.Package{Record: conda.PackageRecord{Name: p.name, Version: conda.MustParseVersion(p.version), Build: "0",
			Subdir: "noarch", Noarch: conda.NoarchGeneric, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "share/" + p.name + ".bin", Mode: 0o644, Data: payload(p.seed)}}})
	}
	pkgs = append(pkgs, imagePackages()...)
	ch := "file://" + writeChannel(t, pkgs)
	dir := t.TempDir()
	envFile := func(big string) string {
		return writeFile(t, dir, "env-"+big+".yml", "channels: ["+ch+"]\ndependencies: [big ="+big+", other, hello]\n")
	}
	// build runs condabox build --push with empty caches (a fresh HOME).
	build := func(env, tag string, extra ...string) buildResult {
		t.Helper()
		home := isolate(t)
		t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
		t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
		r := runCLI(t, append([]string{"build", "--override-channels", "-f", env, "--tag", reg.Host + "/" + tag, "--push", "--json"}, extra...)...)
		if r.code != 0 {
			t.Fatalf("build %s: exit %d\nstderr: %s", tag, r.code, r.stderr)
		}
		var res buildResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		return res
	}
	reused := func(res buildResult) (names []string) {
		for _, l := range res.Images[0].Layers {
			if l.Reused {
				names = append(names, strings.Join(l.Packages, " "))
			}
		}
		return names
	}

	first := build(envFile("1.0"), "app:latest")
	if got := reused(first); got != nil {
		t.Errorf("first build reused %q from an empty repository", got)
	}
	// The same environment again, empty caches: every layer is the
	// registry's, nothing is uploaded but the manifests.
	reg.ResetUploads()
	again := build(envFile("1.0"), "app:latest")
	if again.Digest != first.Digest {
		t.Errorf("rebuild digest %s, want the first build's %s", again.Digest, first.Digest)
	}
	if got, layers := reused(again), len(again.Images[0].Layers); len(got) != layers {
		t.Errorf("rebuild reused %q, want all %d layers", got, layers)
	}
	if up := reg.Uploads(); len(up) != 0 {
		t.Errorf("rebuild uploaded %d blobs (%v), want none", len(up), up)
	}
	// One package changed: its layer and the metadata layer are written,
	// the others reused; the image is the one a build without reuse gives.
	changed := build(envFile("2.0"), "app:latest")
	full := build(envFile("2.0"), "app:latest", "--reuse-pushed-layers=false") // the same tag: the same annotations
	if changed.Digest != full.Digest {
		t.Errorf("rebuild with reused layers %s, full build %s: want the same image", changed.Digest, full.Digest)
	}
	var written []string
	for _, l := range changed.Images[0].Layers {
		if !l.Reused {
			written = append(written, strings.Join(l.Packages, " "))
		}
	}
	if len(written) != 2 || !strings.HasPrefix(written[0], "big-2.0-") || written[1] != "" {
		t.Errorf("after big 1.0 → 2.0 the build wrote the layers %q, want big's and the metadata layer", written)
	}
	if got := reused(full); got != nil {
		t.Errorf("--reuse-pushed-layers=false reused %q", got)
	}
}

// TestBuildWrongCredentials pushes with a docker config.json holding a
// wrong password: a clear error, and no blob reaches the registry.
func TestBuildWrongCredentials(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{User: "ci", Password: "right"})
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	writeFile(t, dir, "config.json", `{"auths": {"`+reg.Host+`": {"username": "ci", "password": "wrong"}}}`)
	env := writeFile(t, dir, "env.yml", "channels: [file://"+imageChannel(t)+"]\ndependencies:\n  - hello\n")
	r := runCLI(t, "build", "--override-channels", "-f", env, "--tag", reg.Host+"/x:1", "--push")
	want := "credentials (docker config.json or its credential helper) refused"
	if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d\nstdout: %q\nstderr: %q\nwant an error containing %q", r.code, r.stdout, r.stderr, want)
	}
	if n := len(reg.Uploads()); n != 0 {
		t.Errorf("failed build uploaded %d blobs", n)
	}
}

// TestBuildRealisticPodman is the proof of issue 7: python, requests and jq
// from the realistic channel (Debian binaries as conda packages) built onto
// a Debian 12 base from mmdebstrap, pushed to a real registry, pulled and
// run by podman.
func TestBuildRealisticPodman(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the realistic channel and a Debian base")
	}
	podman := testimage.Podman(t)
	if err := realistic.CheckTools(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	srv := serve(t, realisticChannel(t), server.Options{})
	reg := testregistry.Start(t, testregistry.Options{})
	baseRef, err := name.ParseReference(reg.Host + "/debian:12")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(baseRef, testimage.DebianBase(t, ctx)); err != nil {
		t.Fatal(err)
	}

	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	// An epoch older than the packages: the files the build makes take it,
	// package files keep their own mtimes (python's .pyc checks need them).
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dir := t.TempDir()
	build := func(edgeVersion string) buildResult {
		env := writeFile(t, dir, "env.yml", "channels: ["+srv.URL()+"]\ndependencies:\n  - python\n  - requests\n  - jq\n  - edge-versions ="+edgeVersion+"\n")
		reg.ResetUploads()
		r := runCLI(t, "build", "--json", "-f", env, "--override-channels", "--base", baseRef.String(), "--tag", reg.Host+"/env:v1", "--push")
		if r.code != 0 {
			t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
		}
		return decodeBuild(t, r)
	}
	first := build("1.0.0")
	img := reg.Host + "/env:v1"
	if out, err := podman("pull", "--tls-verify=false", img); err != nil {
		t.Fatalf("podman pull: %v\n%s", err, out)
	}
	t.Cleanup(func() { podman("rmi", "-f", img) })

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"requests imports", []string{"python3", "-c", "import requests, sys; print(sys.prefix)"}, "/opt/conda"},
		{"jq runs", []string{"jq", "--version"}, "jq-1."},
		{"default user", []string{"whoami"}, "mambauser"},
		{"any uid runs the env", []string{"--user", "1001", "python3", "-c", "import requests; print('ok')"}, "ok"},
		{"baked env var", []string{"sh", "-c", "echo $CONDA_PREFIX $CONDA_DEFAULT_ENV"}, "/opt/conda base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"run", "--rm"}
			cmd := tt.args
			if cmd[0] == "--user" {
				args, cmd = append(args, cmd[:2]...), cmd[2:]
			}
			out, err := podman(append(append(args, img), cmd...)...)
			if err != nil || !strings.Contains(out, tt.want) {
				t.Errorf("podman %v: %v\n%s\nwant %q", cmd, err, out, tt.want)
			}
		})
	}
	// The packages' timestamp-checked .pyc (python's standard library)
	// are valid in the image: package files keep their archives' mtimes,
	// whatever SOURCE_DATE_EPOCH says.
	if out, err := podman("run", "--rm", img, "python3", "-v", "-c", "import json, email.parser"); err != nil ||
		!strings.Contains(out, "code object from '/opt/conda/lib/python3.11/json/__pycache__/") || strings.Contains(out, "bytecode is stale") {
		t.Errorf("python3 -v: the standard library's .pyc are not used: %v\n%s", err, out)
	}
	cid, err := podman("run", "-d", "--rm", img, "sleep", "60")
	if err != nil {
		t.Fatalf("podman run -d: %v\n%s", err, cid)
	}
	cid = strings.TrimSpace(cid)
	defer podman("rm", "-f", cid)
	if out, err := podman("exec", cid, "python3", "-c", "import requests, sys; print(sys.executable)"); err != nil || !strings.Contains(out, "/opt/conda/bin/python3") {
		t.Errorf("podman exec: %v\n%s", err, out)
	}

	// Same lock, same digest, nothing uploaded again.
	again := build("1.0.0")
	if again.Digest != first.Digest {
		t.Errorf("rebuild: digest %s, first %s", again.Digest, first.Digest)
	}
	if n := len(reg.Uploads()); n != 0 {
		t.Errorf("rebuild uploaded %d blobs: %v", n, reg.Uploads())
	}
	// One package changed: its layer, the metadata layer and the config
	// are uploaded (the manifest is not a blob), plus the SBOM blob.
	changed := build("2.0.0")
	old := map[string]bool{}
	for _, l := range first.Images[0].Layers {
		old[l.Digest] = true
	}
	var newLayers []string
	for _, l := range changed.Images[0].Layers {
		if !old[l.Digest] {
			newLayers = append(newLayers, strings.Join(l.Packages, ","))
		}
	}
	// edge-versions is small: its layer is shared with other small
	// packages (whose bytes did not change).
	if len(newLayers) != 2 || !strings.Contains(newLayers[0], "edge-versions-2.0.0") {
		t.Errorf("new layers %q, want edge-versions' and the metadata layer", newLayers)
	}
	if n := len(reg.Uploads()); n != 4 {
		t.Errorf("one-package rebuild uploaded %d blobs, want 4 (2 layers, config, SBOM): %v", n, reg.Uploads())
	}
	t.Logf("first build: %d layers, %d bytes; one-package rebuild uploaded %d blobs", len(first.Images[0].Layers), first.Images[0].Size, len(reg.Uploads()))

	// zstd layers on the Docker-format base: an OCI image podman runs.
	zstdImg := reg.Host + "/env:zstd"
	env := writeFile(t, dir, "env.yml", "channels: ["+srv.URL()+"]\ndependencies:\n  - python\n  - requests\n")
	if r := runCLI(t, "build", "-f", env, "--override-channels", "--base", baseRef.String(), "--tag", zstdImg, "--push", "--compression", "zstd"); r.code != 0 {
		t.Fatalf("zstd build: exit %d\n%s", r.code, r.stderr)
	}
	t.Cleanup(func() { podman("rmi", "-f", zstdImg) })
	if out, err := podman("pull", "--tls-verify=false", zstdImg); err != nil {
		t.Fatalf("podman pull of the zstd image: %v\n%s", err, out)
	}
	if out, err := podman("run", "--rm", zstdImg, "python3", "-c", "import requests; print('zstd ok')"); err != nil || !strings.Contains(out, "zstd ok") {
		t.Errorf("zstd image: %v\n%s", err, out)
	}
}

// staticHello is a program that needs nothing from its image: built
// statically, packaged and run on scratch.
const staticHello = `package main

import (
	"fmt"
	"os"
)

func main() {
	f, err := os.CreateTemp("", "x")
	if err != nil {
		fmt.Println("no writable temp dir:", err)
		os.Exit(1)
	}
	f.Close()
	fmt.Printf("static uid=%d prefix=%s home=%s\n", os.Getuid(), os.Getenv("CONDA_PREFIX"), os.Getenv("HOME"))
}
`

// TestBuildScratchPodman builds an environment of one static binary onto
// scratch, pushes it to a real registry and runs it with podman, as the
// default user and as another uid.
func TestBuildScratchPodman(t *testing.T) {
	podman := testimage.Podman(t)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the static program")
	}
	reg := testregistry.Start(t, testregistry.Options{})
	src := t.TempDir()
	writeFile(t, src, "go.mod", "module statichello\n\ngo 1.22\n")
	writeFile(t, src, "main.go", staticHello)
	bin := filepath.Join(src, "statichello")
	cmd := exec.Command(goTool, "build", "-trimpath", "-o", bin, ".")
	cmd.Dir, cmd.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ch := t.TempDir()
	rec, err := pkgbuild.WriteFile(mkdir(t, filepath.Join(ch, "linux-64")), &pkgbuild.Package{
		Record: conda.PackageRecord{Name: "statichello", Version: conda.MustParseVersion("1.0"), Build: "0", Subdir: "linux-64", License: "MIT"},
		Files:  []pkgbuild.File{{Path: "bin/statichello", Mode: 0o755, Data: data}},
	}, pkgbuild.FormatConda)
	if err != nil {
		t.Fatal(err)
	}
	if err := index.WriteChannel(ch, []conda.PackageRecord{rec}, index.Options{}); err != nil {
		t.Fatal(err)
	}
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	env := writeFile(t, t.TempDir(), "env.yml", "channels: [file://"+ch+"]\ndependencies: [statichello]\n")
	img := reg.Host + "/static:1"
	r := runCLI(t, "build", "-f", env, "--override-channels", "--base", "scratch", "--tag", img, "--push", "--entrypoint", "statichello")
	if r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
	}
	if out, err := podman("pull", "--tls-verify=false", img); err != nil {
		t.Fatalf("podman pull: %v\n%s", err, out)
	}
	t.Cleanup(func() { podman("rmi", "-f", img) })
	for _, tt := range []struct{ user, want string }{
		{"", "static uid=57439 prefix=/opt/conda home=/home/mambauser"},
		{"1001", "static uid=1001 prefix=/opt/conda"},
	} {
		args := []string{"run", "--rm"}
		if tt.user != "" {
			args = append(args, "--user", tt.user)
		}
		out, err := podman(append(args, img)...)
		if err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("podman run --user %q: %v\n%s\nwant %q", tt.user, err, out, tt.want)
		}
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBuildWithoutArchives: a rebuild whose layers are cached needs no
// package archive — after `clean --tarballs` it downloads none and gives
// the same image — and a build never extracts packages into the cache.
func TestBuildWithoutArchives(t *testing.T) {
	home, build := helloBuilder(t)
	pkgs := filepath.Join(home, "pkgs")
	entries := func() (archives, folders []string) {
		t.Helper()
		es, err := os.ReadDir(pkgs)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			switch {
			case strings.HasSuffix(e.Name(), ".conda") || strings.HasSuffix(e.Name(), ".tar.bz2"):
				archives = append(archives, e.Name())
			case e.IsDir() && e.Name() != "cache":
				folders = append(folders, e.Name())
			}
		}
		return archives, folders
	}
	first := build()
	archives, folders := entries()
	if len(archives) == 0 || len(folders) != 0 {
		t.Fatalf("after a cold build: archives %q, folders %q; want archives only", archives, folders)
	}
	if r := runCLI(t, "clean", "--tarballs"); r.code != 0 {
		t.Fatalf("clean --tarballs: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if again := build(); again != first {
		t.Errorf("rebuild: digest %s, want %s", again, first)
	}
	if archives, _ := entries(); len(archives) != 0 {
		t.Errorf("a rebuild with every layer cached downloaded %q", archives)
	}
	// Without the layer cache the archives are needed again: downloaded.
	if r := runCLI(t, "clean", "--build-cache"); r.code != 0 {
		t.Fatalf("clean --build-cache: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if again := build(); again != first {
		t.Errorf("build without caches: digest %s, want %s", again, first)
	}
	if archives, _ := entries(); len(archives) == 0 {
		t.Error("a build without the layer cache downloaded no archive")
	}
}

// helloBuilder isolates the test with its package cache in HOME/pkgs and
// build's layer cache below HOME/cache, and returns HOME and a function
// building imageChannel's hello into a fresh OCI layout, returning the
// image digest.
func helloBuilder(t *testing.T) (home string, build func() string) {
	t.Helper()
	home = isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	envFile := writeFile(t, t.TempDir(), "env.yml", "channels: [file://"+imageChannel(t)+"]\ndependencies:\n  - hello\n")
	return home, func() string {
		t.Helper()
		r := runCLI(t, "build", "--json", "-f", envFile, "--override-channels", "--tag", "example.org/hello:1", "--output", "oci:"+filepath.Join(t.TempDir(), "layout"))
		if r.code != 0 {
			t.Fatalf("build: exit %d\nstderr: %s", r.code, r.stderr)
		}
		return decodeBuild(t, r).Digest
	}
}

// TestBuildVirtualPackages: CONDA_OVERRIDE_GLIBC and CONDA_OVERRIDE_CUDA
// set the virtual packages an image is solved with, as for create: an image
// for an older base, or with CUDA builds on a machine without a GPU.
func TestBuildVirtualPackages(t *testing.T) {
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	pkg := func(name, version string, depends ...string) *pkgbuild.Package {
		return &pkgbuild.Package{Record: conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: "0", Subdir: "linux-64",
			Depends: depends, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "share/" + name + ".txt", Mode: 0o644, Data: []byte(version)}}}
	}
	ch := "file://" + writeChannel(t, []*pkgbuild.Package{
		pkg("tool", "1.0", "__glibc >=2.17"), pkg("tool", "2.0", "__glibc >=2.30"),
		pkg("gpu", "0.9"), pkg("gpu", "1.0", "__cuda >=11"),
	})
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yml", "channels: ["+ch+"]\ndependencies: [tool, gpu]\n")
	for _, tc := range []struct {
		glibc, cuda string
		want        []string
	}{
		{"2.28", "", []string{"gpu-0.9-0", "tool-1.0-0"}}, // "": no __cuda
		{"2.31", "12.2", []string{"gpu-1.0-0", "tool-2.0-0"}},
	} {
		t.Setenv("CONDA_OVERRIDE_GLIBC", tc.glibc)
		t.Setenv("CONDA_OVERRIDE_CUDA", tc.cuda)
		out := decodeBuild(t, runCLI(t, "build", "--json", "-f", envFile, "--override-channels", "--base", "scratch", "--tag", "example.org/vp:1",
			"--output", "oci:"+filepath.Join(dir, "oci-"+tc.glibc)))
		var got []string
		for _, p := range out.Images[0].Packages {
			got = append(got, p.Dist)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("glibc %q cuda %q: packages %q, want %q", tc.glibc, tc.cuda, got, tc.want)
		}
	}
}
