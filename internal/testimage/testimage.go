// Package testimage gives tests a real container engine and real base
// images: podman (with runc) configured for these machines, and Debian 12
// root file systems built from Debian's packages (see Rootfs).
package testimage

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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
	if err := lockPodman(); err != nil {
		t.Fatalf("podman test lock: %v", err)
	}
	if err := WriteContainersConf(); err != nil {
		t.Fatal(err)
	}
	return func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := exec.Command("podman", args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
}

// WriteContainersConf writes ContainersConf to podman's system
// configuration file unless it holds it already (root only).
func WriteContainersConf() error {
	if b, err := os.ReadFile(containersConfPath); err == nil && string(b) == ContainersConf {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(containersConfPath), 0o755); err != nil {
		return fmt.Errorf("podman configuration: %w", err)
	}
	if err := os.WriteFile(containersConfPath, []byte(ContainersConf), 0o644); err != nil {
		return fmt.Errorf("podman configuration: %w", err)
	}
	return nil
}

// podmanLock is held, once taken, until the test process exits: podman
// tests of different packages (go test runs their binaries at once) then
// run one package after the other. Run side by side, a podman build's RUN
// lines lost their output and failed now and then (exit 2 or 120) while
// another package's test loaded and ran images.
var podmanLock struct {
	sync.Once
	err error
}

// lockPodman takes podmanLock.
func lockPodman() error {
	podmanLock.Do(func() {
		podmanLock.err = flock.New(filepath.Join(os.TempDir(), "condabox-podman-tests.lock")).Lock()
	})
	return podmanLock.err
}

// CacheDir keeps the root file systems between test runs.
func CacheDir() string {
	if d := os.Getenv("CONDABOX_TEST_CACHE"); d != "" {
		return filepath.Join(d, "testimage")
	}
	return filepath.Join(os.TempDir(), "condabox-testimage-cache")
}

// ErrNoTool is returned by Rootfs.Build when a tool the base is built
// with is not installed.
var ErrNoTool = errors.New("not installed")

// lookTools returns an ErrNoTool error for the first tool not installed;
// tools maps each to its Debian package.
func lookTools(tools map[string]string) error {
	for tool, pkg := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is %w (apt-get install %s)", tool, ErrNoTool, pkg)
		}
	}
	return nil
}

// Rootfs is a Debian 12 (bookworm) root file system built from Debian's
// packages on first use and cached in CacheDir as an uncompressed tarball.
type Rootfs struct {
	// Name says which base it is (minbase, slim, distroless).
	Name string
	// file is the tarball's name in CacheDir; a recipe change renames it.
	file string
	// build writes the tarball to out, with the tools' output to log.
	build func(ctx context.Context, out string, log io.Writer) error
	// env and cmd are the image configuration's.
	env, cmd []string
}

// Path is where the tarball is once built.
func (r *Rootfs) Path() string { return filepath.Join(CacheDir(), r.file) }

// Build returns the tarball, building it on first use; the tools' output
// goes to log. Concurrent callers — test binaries of several packages run
// at once — share one build: a file lock serialises them, the cache is
// checked again under the lock, and the tarball is written in a private
// folder and renamed into place.
func (r *Rootfs) Build(ctx context.Context, log io.Writer) (string, error) {
	out := r.Path()
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	dir := filepath.Dir(out)
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
	if err := r.build(ctx, tmp, log); err != nil {
		return "", fmt.Errorf("build the %s base: %w", r.Name, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

// Image returns the root file system as a one-layer linux/amd64 image
// configured as the image it imitates (PATH, and bash as the command when
// there is a shell), its layer compressed as on a real registry.
func (r *Rootfs) Image(ctx context.Context, log io.Writer) (v1.Image, error) {
	path, err := r.Build(ctx, log)
	if err != nil {
		return nil, err
	}
	// gzip's default level, as docker push compresses the bases users pull
	// (go-containerregistry's default, BestSpeed, makes them 15% bigger).
	layer, err := tarball.LayerFromFile(path, tarball.WithCompressionLevel(gzip.DefaultCompression))
	if err != nil {
		return nil, fmt.Errorf("layer of %s: %w", path, err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Env, cf.Config.Cmd = r.env, r.cmd
	return mutate.ConfigFile(img, cf)
}

// TestImage is Image for tests: it skips without root or a tool the base
// is built with and fails the test on other errors, with the tools' output.
func (r *Rootfs) TestImage(t testing.TB, ctx context.Context) v1.Image {
	t.Helper()
	if _, err := os.Stat(r.Path()); err != nil && os.Getuid() != 0 {
		t.Skipf("building the %s base needs root here", r.Name)
	}
	var log bytes.Buffer
	img, err := r.Image(ctx, &log)
	switch {
	case errors.Is(err, ErrNoTool):
		t.Skip(err)
	case err != nil:
		t.Fatalf("%v\n%s", err, log.Bytes())
	}
	return img
}

// BuildDebianRootfs is Minbase.Build, for the quick start.
func BuildDebianRootfs(ctx context.Context, log io.Writer) (string, error) {
	return Minbase.Build(ctx, log)
}

// DebianBase is Minbase.TestImage, the base of the image tests.
func DebianBase(t testing.TB, ctx context.Context) v1.Image {
	t.Helper()
	return Minbase.TestImage(t, ctx)
}
