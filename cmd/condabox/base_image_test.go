package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/condabox/condabox/internal/testchannel/realistic"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/internal/testimage"
)

// TestBaseImagePodman builds images/base with podman on the local Debian
// base, then an image FROM it whose RUN lines install environments from
// the realistic channel with condabox, and runs it: condabox is the
// micromamba-docker-style ENTRYPOINT and SHELL (ENV_NAME,
// MAMBA_SKIP_ACTIVATE, MAMBA_DOCKERFILE_ACTIVATE, activate.d, any uid).
func TestBaseImagePodman(t *testing.T) {
	if testing.Short() {
		t.Skip("builds condabox, the realistic channel, a Debian base and three images")
	}
	podman := testimage.Podman(t)
	if err := realistic.CheckTools(); err != nil {
		t.Skip(err)
	}
	srv := serve(t, realisticChannel(t), server.Options{})
	const (
		debian = "localhost/condabox-basetest-debian:12"
		base   = "localhost/condabox-basetest-base:test"
		img    = "localhost/condabox-basetest-env:test"
	)
	dir := t.TempDir()
	ref, err := name.ParseReference(debian)
	if err != nil {
		t.Fatal(err)
	}
	debianTar := filepath.Join(dir, "debian.tar")
	if err := tarball.WriteToFile(debianTar, ref, testimage.DebianBase(t, context.Background())); err != nil {
		t.Fatal(err)
	}
	if out, err := podman("load", "-i", debianTar); err != nil {
		t.Fatalf("podman load: %v\n%s", err, out)
	}
	t.Cleanup(func() { podman("rmi", "-f", img, base, debian) })

	// images/base as it is, with the static condabox beside its Containerfile.
	baseCtx := mkdir(t, filepath.Join(dir, "base"))
	containerfile, err := os.ReadFile(filepath.Join("..", "..", "images", "base", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, baseCtx, "Containerfile", string(containerfile))
	for _, script := range []string{"_dockerfile_shell.sh", "_activate_current_env.sh", "_entrypoint.sh"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "images", "base", script))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(baseCtx, script), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(staticCondabox(t), filepath.Join(baseCtx, "condabox")); err != nil {
		t.Fatal(err)
	}
	// --no-cache: podman's layer cache is shared with other tests and
	// engineers, whose removals can leave it pointing at missing layers.
	build := func(tag, ctxDir string, args ...string) (string, error) {
		return podman(append(append([]string{"build", "--no-cache", "--format", "docker", "--network", "host", "--pull=never", "-t", tag}, args...), ctxDir)...)
	}
	// CA_CERTIFICATES=0: the channel is plain http on loopback, no apt needed.
	if out, err := build(base, baseCtx, "--build-arg", "BASE_IMAGE="+debian, "--build-arg", "CA_CERTIFICATES=0"); err != nil {
		t.Fatalf("podman build images/base: %v\n%s", err, out)
	}

	// edge-activate has an activate.d script exporting
	// EDGE_ACTIVATE_PREFIX="$CONDA_PREFIX": only sourcing it sets that.
	envCtx := mkdir(t, filepath.Join(dir, "env"))
	writeFile(t, envCtx, "env.yml", "channels: ["+srv.URL()+"]\ndependencies:\n  - python\n  - requests\n  - edge-activate\n")
	writeFile(t, envCtx, "Containerfile", `FROM `+base+`
COPY --chown=$MAMBA_USER:$MAMBA_USER env.yml /tmp/env.yml
RUN condabox install -y -n base --override-channels -f /tmp/env.yml
# A Dockerfile written for mambaorg/micromamba calls micromamba.
RUN micromamba create -y -n tools --override-channels -c `+srv.URL()+` jq && /bin/micromamba env list | grep -q tools
# micromamba-docker's recipe ends with clean --all: no archive and no index
# cache are left, and the environments still work (next lines).
RUN condabox clean --all --yes && ! ls /opt/conda/pkgs/*.conda && test -z "$(ls -A /opt/conda/pkgs/cache)"
ARG MAMBA_DOCKERFILE_ACTIVATE=1
RUN python -c 'import requests' && test "$EDGE_ACTIVATE_PREFIX" = /opt/conda
ARG DOCKERFILE_UMASK=0077
RUN touch /tmp/umask-probe && test "$(stat -c %a /tmp/umask-probe)" = 600
`)
	if out, err := build(img, envCtx); err != nil {
		t.Fatalf("podman build FROM the base image: %v\n%s", err, out)
	}

	// Without MAMBA_DOCKERFILE_ACTIVATE (an ARG does not reach images built
	// FROM this one) RUN lines are not activated.
	plainCtx := mkdir(t, filepath.Join(dir, "plain"))
	writeFile(t, plainCtx, "Containerfile", "FROM "+img+"\nRUN python -c 'import requests'\n")
	if out, err := build("localhost/condabox-basetest-plain:test", plainCtx); err == nil || !strings.Contains(out, "python: command not found") {
		podman("rmi", "-f", "localhost/condabox-basetest-plain:test")
		t.Errorf("RUN python without MAMBA_DOCKERFILE_ACTIVATE: %v, want python not found\n%s", err, out)
	}

	tests := []containerRun{
		{"base activated by default", nil, []string{"python", "-c", "import requests, sys; print(sys.prefix)"}, "/opt/conda", 0},
		{"activate.d and env_vars.d", nil, []string{"sh", "-c", "echo $EDGE_ACTIVATE_PREFIX $EDGE_ACTIVATE_VAR $CONDA_DEFAULT_ENV"}, "/opt/conda set-by-env-vars-d base", 0},
		{"ENV_NAME=tools", []string{"-e", "ENV_NAME=tools"}, []string{"sh", "-c", "echo $CONDA_PREFIX; jq --version; command -v python || echo no python"}, "/opt/conda/envs/tools\njq-1.", 0},
		{"ENV_NAME of no environment", []string{"-e", "ENV_NAME=nope"}, []string{"true"}, `ENV_NAME="nope": no conda environment at /opt/conda/envs/nope`, 1},
		{"MAMBA_SKIP_ACTIVATE=1", []string{"-e", "MAMBA_SKIP_ACTIVATE=1"}, []string{"sh", "-c", "echo prefix=${CONDA_PREFIX:-none}; command -v python || echo no python"}, "prefix=none\nno python", 0},
		{"default user", nil, []string{"id", "-u"}, "57439", 0},
		{"any uid", []string{"--user", "1001"}, []string{"python", "-c", "import os, requests; print(os.getuid())"}, "1001", 0},
		{"any uid writes the root prefix", []string{"--user", "1001"}, []string{"sh", "-c", "touch /opt/conda/conda-meta/x && echo writable"}, "writable", 0},
		{"exit code passes through", nil, []string{"python", "-c", "raise SystemExit(7)"}, "", 7},
		{"command is the container's process", nil, []string{"sh", "-c", "echo pid=$$"}, "pid=1", 0},
		{"micromamba-docker's entrypoint path", []string{"--entrypoint", "/usr/local/bin/_entrypoint.sh", "-e", "ENV_NAME=tools"}, []string{"sh", "-c", "echo $CONDA_PREFIX"}, "/opt/conda/envs/tools", 0},
	}
	checkContainerRuns(t, podman, img, tests)

	// podman exec bypasses the entrypoint: a shell activates itself with
	// condabox shell-activate, and a plain command is left alone.
	idle, err := podman("run", "-d", img, "sleep", "120")
	if err != nil {
		t.Fatalf("podman run -d: %v\n%s", err, idle)
	}
	idle = strings.TrimSpace(idle)
	defer podman("rm", "-f", idle)
	for _, shell := range [][]string{
		{"bash", "-c", `eval "$(condabox shell-activate)"; echo prefix=$CONDA_PREFIX script=$EDGE_ACTIVATE_PREFIX; command -v python`},
		{"sh", "-c", `eval "$(condabox shell-activate)"; echo prefix=$CONDA_PREFIX script=$EDGE_ACTIVATE_PREFIX; command -v python`},
	} {
		if out, err := podman(append([]string{"exec", idle}, shell...)...); err != nil ||
			!strings.Contains(out, "prefix=/opt/conda script=/opt/conda\n/opt/conda/bin/python") {
			t.Errorf("podman exec %q: not activated: %v\n%s", shell, err, out)
		}
	}
	if out, err := podman("exec", idle, "sh", "-c", "echo prefix=${CONDA_PREFIX:-none}"); err != nil || !strings.Contains(out, "prefix=none") {
		t.Errorf("podman exec sh -c: %v\n%s, want no activation", err, out)
	}

	// Interactive bash (podman exec -it CTR bash; -i without a terminal
	// here) is activated by the bashrc files for every user, with the
	// condabox shell function and the prompt; `podman run IMAGE bash -i`
	// too, on top of the entrypoint's activation (a reactivation: level 1).
	const probe = `case $PS1 in "${CONDA_PROMPT_MODIFIER:-none}"*) p=$CONDA_PROMPT_MODIFIER ;; *) p=none ;; esac
echo "prefix=${CONDA_PREFIX:-none} script=${EDGE_ACTIVATE_PREFIX:-none} level=${CONDA_SHLVL:-none} prompt=$p"; command -v python || echo no python`
	activated := "prefix=/opt/conda script=/opt/conda level=1 prompt=(base) \n/opt/conda/bin/python"
	interactive := []struct {
		name string
		args []string
		want string
	}{
		{"exec bash -i", []string{"exec", idle, "bash", "-ic", probe}, activated},
		{"exec bash -i as root", []string{"exec", "--user", "root", idle, "bash", "-ic", probe}, activated},
		{"exec bash -i as any uid", []string{"exec", "--user", "1001", idle, "bash", "-ic", probe}, activated},
		{"exec bash -i, MAMBA_SKIP_ACTIVATE=1", []string{"exec", "-e", "MAMBA_SKIP_ACTIVATE=1", idle, "bash", "-ic", probe}, "prefix=none script=none level=0 prompt=none\nno python"},
		{"exec bash -i, ENV_NAME=tools", []string{"exec", "-e", "ENV_NAME=tools", idle, "bash", "-ic", probe}, "prefix=/opt/conda/envs/tools script=none level=1 prompt=(tools) \nno python"},
		{"run bash -i", []string{"run", "--rm", img, "bash", "-ic", probe}, activated},
		{"condabox activate another", []string{"exec", idle, "bash", "-ic", `condabox activate tools && echo "$CONDA_DEFAULT_ENV $CONDA_SHLVL $(command -v jq)"; condabox deactivate && echo "$CONDA_DEFAULT_ENV $CONDA_SHLVL $(command -v python)"`},
			"tools 2 /opt/conda/envs/tools/bin/jq\nbase 1 /opt/conda/bin/python"},
		{"micromamba activate another", []string{"exec", idle, "bash", "-ic", `micromamba activate tools && echo "$CONDA_DEFAULT_ENV $(command -v jq)"`},
			"tools /opt/conda/envs/tools/bin/jq"},
	}
	for _, tt := range interactive {
		if out, err := podman(tt.args...); err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("%s: podman %q: %v\n%s\nwant %q", tt.name, tt.args, err, out, tt.want)
		}
	}

	// podman stop's SIGTERM reaches the command itself, through the
	// entrypoint and the shell that sourced activate.d.
	cid, err := podman("run", "-d", img, "python", "-c",
		"import signal, time; signal.signal(signal.SIGTERM, lambda *_: exit(5)); print('ready', flush=True); time.sleep(120)")
	if err != nil {
		t.Fatalf("podman run -d: %v\n%s", err, cid)
	}
	cid = strings.TrimSpace(cid)
	defer podman("rm", "-f", cid)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if out, _ := podman("logs", cid); strings.Contains(out, "ready") {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the command did not start within a minute:\n%s", out)
		}
	}
	if out, err := podman("stop", "-t", "60", cid); err != nil {
		t.Fatalf("podman stop: %v\n%s", err, out)
	}
	if out, err := podman("inspect", "-f", "{{.State.ExitCode}}", cid); err != nil || strings.TrimSpace(out) != "5" {
		t.Errorf("exit code after SIGTERM: %q (%v), want 5 from the command's handler", out, err)
	}
}
