// Command quickstart is what `make quickstart` runs: it builds a container
// image from examples/quickstart/env.yml fully offline and prints how to
// load and run it.
//
// conda-forge is not contacted. The channel is condabox's realistic test
// channel (Debian 12 binaries repackaged as conda packages, see
// internal/testchannel/realistic), written to a local folder that a
// generated .condarc names as conda-forge (custom_channels, as an offline
// mirror is configured), so env.yml keeps its `channels: [conda-forge]` and
// builds online unchanged. The python in that
// channel is Debian's and needs glibc, so the base is a Debian 12 minbase
// root file system made with mmdebstrap (cached between runs) rather than
// scratch. Both steps need root and Debian's apt, mmdebstrap, dpkg-deb,
// patchelf and gcc; quickstart says which is missing.
//
// Usage (from the repository root):
//
//	go run ./examples/quickstart [-out DIR] [-f examples/quickstart/env.yml]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/internal/testchannel/realistic"
	"github.com/condabox/condabox/internal/testimage"
	"github.com/condabox/condabox/pkg/image"
)

// Tag is the quick start image's name.
const Tag = "localhost/condabox-quickstart:latest"

// config is what one quick start run reads and writes.
type config struct {
	// EnvFile is the environment to build.
	EnvFile string
	// Out receives condabox, the channel, the base and the image.
	Out string
	// Log receives progress; the instructions go to the run's stdout.
	Log io.Writer
}

// Paths of a run's outputs below config.Out.
func (c config) condabox() string { return filepath.Join(c.Out, "condabox") }
func (c config) mirror() string   { return filepath.Join(c.Out, "mirror") }
func (c config) channel() string  { return filepath.Join(c.mirror(), "conda-forge") }
func (c config) condarc() string  { return filepath.Join(c.Out, "condarc") }
func (c config) base() string     { return filepath.Join(c.Out, "base") }

// Archive is the built image as a docker archive.
func (c config) Archive() string { return filepath.Join(c.Out, "quickstart.tar") }

func main() {
	c := config{Log: os.Stderr}
	flag.StringVar(&c.EnvFile, "f", "examples/quickstart/env.yml", "environment file to build")
	flag.StringVar(&c.Out, "out", "build/quickstart", "folder for condabox, the channel, the base and the image")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, c); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run builds condabox, the channel and the base, then the image, and prints
// how to run it.
func run(ctx context.Context, stdout io.Writer, c config) error {
	if os.Getuid() != 0 {
		return errors.New("the offline quick start builds its channel with apt-get and its base with mmdebstrap: run it as root (e.g. in a Debian 12 container), or build against conda-forge as examples/quickstart/README.md shows")
	}
	if err := realistic.CheckTools(); err != nil {
		return err
	}
	envFile, err := filepath.Abs(c.EnvFile)
	if err != nil {
		return err
	}
	if _, err := os.Stat(envFile); err != nil {
		return fmt.Errorf("environment file: %w", err)
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(c.Log, "quickstart: building condabox")
	if err := runCmd(ctx, c.Log, "go", "build", "-o", c.condabox(), "github.com/condabox/condabox/cmd/condabox"); err != nil {
		return err
	}
	fmt.Fprintln(c.Log, "quickstart: writing the realistic test channel (Debian 12 packages as conda packages)")
	if err := os.RemoveAll(c.channel()); err != nil {
		return err
	}
	err = realistic.Build(ctx, c.channel(), realistic.Options{Formats: []pkgbuild.Format{pkgbuild.FormatConda},
		Logf: func(format string, args ...any) { fmt.Fprintf(c.Log, "  "+format+"\n", args...) }})
	if err != nil {
		return err
	}
	// -c with --override-channels would not do: the env file's channels
	// are still added to -c's (pkg/env), so conda-forge would be fetched.
	rc := fmt.Sprintf("# conda-forge is the local copy (quickstart)\ncustom_channels:\n  conda-forge: %q\n", "file://"+c.mirror())
	if err := os.WriteFile(c.condarc(), []byte(rc), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(c.Log, "quickstart: writing the Debian 12 base image")
	if err := writeBase(ctx, c); err != nil {
		return err
	}
	fmt.Fprintln(c.Log, "quickstart: condabox build")
	build := exec.CommandContext(ctx, c.condabox(), "build", "-f", envFile, "--base", image.OCIPrefix+c.base(),
		"--tag", Tag, "--output", image.DockerArchivePrefix+c.Archive())
	build.Env = append(os.Environ(), "CONDARC="+c.condarc())
	build.Stdout, build.Stderr = c.Log, c.Log
	if err := build.Run(); err != nil {
		return fmt.Errorf("condabox build: %w", err)
	}
	fmt.Fprintf(stdout, `
The image is in %[1]s (a docker archive; its SPDX SBOM is beside it).
Load and run it with podman:

  podman load -i %[1]s
  podman run --rm %[2]s python3 -c 'import requests; print(requests.__version__)'

or with docker:

  docker load -i %[1]s
  docker run --rm %[2]s python3 -c 'import requests; print(requests.__version__)'

or copy it with skopeo, e.g. to a registry:

  skopeo copy docker-archive:%[1]s docker://REGISTRY/condabox-quickstart:latest

Against conda-forge (online), the same env.yml needs no channel flags:

  %[3]s build -f %[4]s --base docker.io/library/debian:12-slim --tag %[2]s --output docker-archive:quickstart.tar
`, c.Archive(), Tag, c.condabox(), c.EnvFile)
	return nil
}

// writeBase writes a Debian 12 minbase image as an OCI layout at c.base().
// The root file system is made once with mmdebstrap and kept where the
// image tests keep theirs (internal/testimage.CacheDir).
func writeBase(ctx context.Context, c config) error {
	rootfs, err := testimage.BuildDebianRootfs(ctx, c.Log)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromFile(rootfs)
	if err != nil {
		return fmt.Errorf("base layer %s: %w", rootfs, err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = image.LinuxAMD64.OS, image.LinuxAMD64.Architecture
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.Cmd = []string{"bash"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	if err := os.RemoveAll(c.base()); err != nil {
		return err
	}
	return image.WriteLayout(c.base(), img, "localhost/quickstart-base:bookworm")
}

// runCmd runs a program, its output going to log.
func runCmd(ctx context.Context, log io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w", name, args, err)
	}
	return nil
}
