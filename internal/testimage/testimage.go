// Package testimage gives tests a real container engine and a real base
// image: podman (with runc) configured for these machines, and a Debian 12
// minbase root file system built with mmdebstrap from Debian's mirror.
package testimage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gofrs/flock"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// ContainersConf is podman's configuration on these machines: crun and the
// default ulimits (nofile above the container's hard limit) fail, runc and
// cgroupfs work.
const ContainersConf = `# Written by condabox's test setup (internal/testimage): crun and the default
# ulimits fail on these machines.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
`

const containersConfPath = "/etc/containers/containers.conf"

// Podman makes podman usable and returns a function running it: the
// command's combined output and error. It skips the test without root,
// podman or runc (Debian packages podman and runc).
func Podman(t testing.TB) func(args ...string) (string, error) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("podman tests run rootful: need root")
	}
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install podman runc)", tool)
		}
	}
	if b, err := os.ReadFile(containersConfPath); err != nil || string(b) != ContainersConf {
		if err := os.MkdirAll(filepath.Dir(containersConfPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(containersConfPath, []byte(ContainersConf), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := exec.Command("podman", args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
}

// CacheDir keeps the Debian root file system between test runs.
func CacheDir() string {
	if d := os.Getenv("CONDABOX_TEST_CACHE"); d != "" {
		return filepath.Join(d, "testimage")
	}
	return filepath.Join(os.TempDir(), "condabox-testimage-cache")
}

// ErrNoMmdebstrap is returned by BuildDebianRootfs when mmdebstrap is missing.
var ErrNoMmdebstrap = errors.New("mmdebstrap is not installed (apt-get install mmdebstrap): the Debian base is built with it")

// BuildDebianRootfs returns a tarball of a Debian 12 (bookworm) minbase root
// file system, built with mmdebstrap on first use (about 2 minutes) and cached
// in CacheDir; mmdebstrap's output goes to log. Concurrent callers — test
// binaries of several packages run at once — share one build: a file lock
// serialises them, the cache is checked again under the lock, and the tarball
// is written under a unique name and renamed into place.
func BuildDebianRootfs(ctx context.Context, log io.Writer) (string, error) {
	dir := CacheDir()
	out := filepath.Join(dir, "bookworm-minbase.tar")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return "", ErrNoMmdebstrap
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock := flock.New(out + ".lock")
	if err := lock.Lock(); err != nil {
		return "", fmt.Errorf("lock %s: %w", out, err)
	}
	defer lock.Unlock()
	if _, err := os.Stat(out); err == nil {
		return out, nil // another process built it while we waited
	}
	work, err := os.MkdirTemp(dir, "rootfs-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	tmp := filepath.Join(work, "rootfs.tar") // mmdebstrap picks the format from the name
	cmd := exec.CommandContext(ctx, "mmdebstrap", "--variant=minbase", "--quiet", "bookworm", tmp)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("mmdebstrap: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

// DebianRootfs is BuildDebianRootfs for tests: it skips without root or
// mmdebstrap and fails the test on other errors, with mmdebstrap's output.
func DebianRootfs(t testing.TB, ctx context.Context) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(CacheDir(), "bookworm-minbase.tar")); err != nil && os.Getuid() != 0 {
		t.Skip("mmdebstrap needs root here")
	}
	var log bytes.Buffer
	out, err := BuildDebianRootfs(ctx, &log)
	switch {
	case errors.Is(err, ErrNoMmdebstrap):
		t.Skip(err)
	case err != nil:
		t.Fatalf("%v\n%s", err, log.Bytes())
	}
	return out
}

// DebianBase returns the Debian root file system as a one-layer
// linux/amd64 image running bash.
func DebianBase(t testing.TB, ctx context.Context) v1.Image {
	t.Helper()
	layer, err := tarball.LayerFromFile(DebianRootfs(t, ctx))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.Cmd = []string{"bash"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}
