package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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

	tests := []struct {
		name  string
		flags []string // podman run's
		cmd   []string
		want  string
		code  int
	}{
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
	for _, tt := range tests {
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
