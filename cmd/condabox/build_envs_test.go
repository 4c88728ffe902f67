package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/condabox/condabox/internal/testchannel/realistic"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/internal/testimage"
	"github.com/condabox/condabox/pkg/image"
)

// staticCondabox builds this command as the static binary an image of
// several environments needs for its entrypoint (the test binary is not
// condabox).
func staticCondabox(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "condabox")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// containerRun is one `podman run` of an image and what it must print.
type containerRun struct {
	name  string
	flags []string // podman run's
	cmd   []string
	want  string // in the output
	code  int    // the exit code
}

// checkContainerRuns runs each case as `podman run --rm FLAGS IMG CMD...`
// in a subtest and checks its output and exit code.
func checkContainerRuns(t *testing.T, podman func(args ...string) (string, error), img string, runs []containerRun) {
	t.Helper()
	for _, tt := range runs {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append(append([]string{"run", "--rm"}, tt.flags...), img), tt.cmd...)
			out, err := podman(args...)
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("podman %v: exit %d, want %d\n%s\nwant %q", args, code, tt.code, out, tt.want)
			}
		})
	}
}

// TestBuildEnvsPodman builds an image of two environments on Debian with
// the static condabox and runs it with podman: ENV_NAME chooses the
// environment, MAMBA_SKIP_ACTIVATE skips activation, any uid runs both, and
// the command's exit code is the container's.
func TestBuildEnvsPodman(t *testing.T) {
	if testing.Short() {
		t.Skip("builds condabox, the realistic channel and a Debian base")
	}
	podman := testimage.Podman(t)
	if err := realistic.CheckTools(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	srv := serve(t, realisticChannel(t), server.Options{})
	dir := t.TempDir()
	baseDir := filepath.Join(dir, "debian")
	if err := image.WriteLayout(baseDir, testimage.DebianBase(t, ctx), "12"); err != nil {
		t.Fatal(err)
	}
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	// tools comes first: base is the default wherever it is.
	tools := writeFile(t, dir, "tools.yml", "name: tools\nchannels: ["+srv.URL()+"]\ndependencies:\n  - jq\n")
	base := writeFile(t, dir, "base.yml", "name: base\nchannels: ["+srv.URL()+"]\ndependencies:\n  - python\n  - requests\n")
	archive := filepath.Join(dir, "image.tar")
	const img = "localhost/condabox-envs:test"
	build := exec.Command(staticCondabox(t), "build", "-f", tools, "-f", base, "--override-channels",
		"--base", "oci:"+baseDir, "--tag", img, "--output", "docker-archive:"+archive)
	out, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("condabox build: %v\n%s", err, out)
	}
	t.Logf("condabox build:\n%s", out) // the layers and size report
	if out, err := podman("load", "-i", archive); err != nil {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	t.Cleanup(func() { podman("rmi", "-f", img) })

	tests := []containerRun{
		{"base by default", nil, []string{"python3", "-c", "import requests, sys; print(sys.prefix)"}, "/opt/conda", 0},
		{"ENV_NAME=base", []string{"-e", "ENV_NAME=base"}, []string{"sh", "-c", "echo $CONDA_DEFAULT_ENV $CONDA_PREFIX"}, "base /opt/conda", 0},
		{"ENV_NAME=tools", []string{"-e", "ENV_NAME=tools"}, []string{"jq", "--version"}, "jq-1.", 0},
		{"no python in tools", []string{"-e", "ENV_NAME=tools"}, []string{"sh", "-c", "echo $CONDA_PREFIX; command -v python3 || echo no python"}, "/opt/conda/envs/tools\nno python", 0},
		{"unknown ENV_NAME", []string{"-e", "ENV_NAME=nope"}, []string{"true"}, `ENV_NAME="nope": no such environment in this image (it has tools, base)`, 1},
		{"MAMBA_SKIP_ACTIVATE=1", []string{"-e", "MAMBA_SKIP_ACTIVATE=1"}, []string{"sh", "-c", "echo prefix=${CONDA_PREFIX:-none}; command -v python3 || echo no python"}, "prefix=none\nno python", 0},
		{"any uid, base", []string{"--user", "1001"}, []string{"python3", "-c", "import requests; print('ok')"}, "ok", 0},
		{"any uid, tools", []string{"--user", "1001", "-e", "ENV_NAME=tools"}, []string{"jq", "--version"}, "jq-1.", 0},
		{"exit code passes through", nil, []string{"python3", "-c", "raise SystemExit(7)"}, "", 7},
		{"command is the container's process", nil, []string{"sh", "-c", "echo pid=$$"}, "pid=1", 0},
	}
	checkContainerRuns(t, podman, img, tests)
	cid, err := podman("run", "-d", "--rm", img, "sleep", "60")
	if err != nil {
		t.Fatalf("podman run -d: %v\n%s", err, cid)
	}
	cid = strings.TrimSpace(cid)
	defer podman("rm", "-f", cid)
	// The config activates nothing: exec goes through the entrypoint.
	if out, err := podman("exec", "-e", "ENV_NAME=tools", cid, "condabox", "entrypoint", "jq", "--version"); err != nil || !strings.Contains(out, "jq-1.") {
		t.Errorf("podman exec condabox entrypoint jq: %v\n%s", err, out)
	}
}

// goBinary compiles an empty Go program for linux/arch as a static binary:
// a real condabox stand-in for a platform this host cannot run.
func goBinary(t *testing.T, arch string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "condabox-"+arch)
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for %s: %v\n%s", arch, err, out)
	}
	return bin
}

// TestBuildEnvsMultiPlatform builds an image index of two environments for
// amd64 and arm64, each image with the condabox given for its platform as
// its entrypoint, and checks the flag's errors.
func TestBuildEnvsMultiPlatform(t *testing.T) {
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	ch := "file://" + imageChannel(t)
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yml", "name: a\nchannels: ["+ch+"]\ndependencies:\n  - hello\n")
	b := writeFile(t, dir, "b.yml", "name: b\nchannels: ["+ch+"]\ndependencies:\n  - greeting\n")
	shims := map[string]string{"linux/amd64": goBinary(t, "amd64"), "linux/arm64": goBinary(t, "arm64")}
	layoutDir := filepath.Join(dir, "layout")
	base := []string{"build", "--json", "--override-channels", "-f", a, "-f", b, "--tag", "envs:1", "--platform", "linux/amd64,linux/arm64"}
	res := decodeBuild(t, runCLI(t, append(base, "--output", "oci:"+layoutDir,
		"--shim", "linux/amd64="+shims["linux/amd64"], "--shim", "linux/arm64="+shims["linux/arm64"])...))
	if len(res.Images) != 2 {
		t.Fatalf("%d images, want 2", len(res.Images))
	}
	idx, err := layout.ImageIndexFromPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("layout index: %v %v", m, err)
	}
	inner, err := idx.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := inner.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		img, err := inner.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(shims[d.Platform.String()])
		if err != nil {
			t.Fatalf("platform %s: %v", d.Platform, err)
		}
		got := fileInImage(t, img, strings.TrimPrefix(image.ShimPath, "/"))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %s is not the condabox given for it (%d bytes, want %d)", d.Platform, image.ShimPath, len(got), len(want))
		}
	}

	out := filepath.Join(dir, "out")
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"arm64 without --shim", []string{"--shim", "linux/amd64=" + shims["linux/amd64"]}, "--shim linux/arm64=FILE"},
		{"a binary of another platform", []string{"--shim", "linux/amd64=" + shims["linux/amd64"], "--shim", "linux/arm64=" + shims["linux/amd64"]}, "want EM_AARCH64 for linux/arm64"},
		{"not PLATFORM=FILE", []string{"--shim", "linux/arm64"}, "want PLATFORM=FILE"},
		{"a platform not built", []string{"--shim", "linux/s390x=" + shims["linux/arm64"]}, "not one of --platform's"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, append(append(base, "--output", "oci:"+out), tt.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr %q, want %q", r.code, r.stderr, tt.wantErr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("failed build wrote %s", out)
			}
		})
	}
	r := runCLI(t, "build", "--override-channels", "-f", a, "--tag", "x", "--output", "oci:"+out, "--shim", "linux/amd64="+shims["linux/amd64"])
	if r.code == 0 || !strings.Contains(r.stderr, "only an image of several environments") {
		t.Errorf("--shim with one environment: exit %d, %q", r.code, r.stderr)
	}
}

// fileInImage returns the content of the file at name (no leading slash)
// in img's flattened file system.
func fileInImage(t *testing.T, img v1.Image, name string) []byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the image: %v", name, err)
		}
		if strings.TrimPrefix(hdr.Name, "./") == name {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}
