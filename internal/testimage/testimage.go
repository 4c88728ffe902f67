// Package testimage gives tests a real container engine and a real base
// image: podman (with runc) configured for these machines, and a Debian 12
// minbase root file system built with mmdebstrap from Debian's mirror.
package testimage

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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

// DebianRootfs returns a tarball of a Debian 12 (bookworm) minbase root file
// system, built with mmdebstrap on first use (about 2 minutes) and cached in
// CacheDir. It skips without root or mmdebstrap.
func DebianRootfs(t testing.TB, ctx context.Context) string {
	t.Helper()
	out := filepath.Join(CacheDir(), "bookworm-minbase.tar")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if os.Getuid() != 0 {
		t.Skip("mmdebstrap needs root here")
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("mmdebstrap not installed (apt-get install mmdebstrap)")
	}
	if err := os.MkdirAll(CacheDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := out + ".tmp.tar" // mmdebstrap picks the format from the name
	cmd := exec.CommandContext(ctx, "mmdebstrap", "--variant=minbase", "--quiet", "bookworm", tmp)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("mmdebstrap: %v\n%s", err, b)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
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
