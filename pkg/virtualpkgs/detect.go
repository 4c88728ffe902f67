package virtualpkgs

import (
	"context"
	"fmt"
	"io/fs"
	"os"

	"github.com/condabox/condabox/pkg/conda"
)

// Detect returns the facts about the running machine that virtual packages
// are made from: the OS, the machine and kernel release from uname, the
// x86-64 level as archspec (see x86Level; the machine name elsewhere), the
// glibc version (see glibcVersion), the CUDA version the NVIDIA driver
// supports (see cudaVersion) and the macOS version.
func Detect(ctx context.Context) (conda.SystemInfo, error) {
	return detector{root: os.DirFS("/"), uname: uname, osVersion: osVersion}.detect(ctx)
}

// VirtualPackages detects the running machine and returns its virtual
// packages after the CONDA_OVERRIDE_* variables read with lookupEnv
// (normally os.LookupEnv) are applied; see conda.VirtualPackages.
func VirtualPackages(ctx context.Context, lookupEnv func(string) (string, bool)) ([]conda.VirtualPackage, error) {
	info, err := Detect(ctx)
	if err != nil {
		return nil, err
	}
	return conda.VirtualPackages(info, lookupEnv)
}

// detector holds the machine's interfaces, so that tests can fake them.
type detector struct {
	root      fs.FS // the machine's file system, rooted at "/"
	uname     func() (release, machine string, err error)
	osVersion func() (string, error)
}

func (d detector) detect(ctx context.Context) (conda.SystemInfo, error) {
	if err := ctx.Err(); err != nil {
		return conda.SystemInfo{}, err
	}
	p, err := conda.CurrentPlatform()
	if err != nil {
		return conda.SystemInfo{}, fmt.Errorf("detect virtual packages: %w", err)
	}
	release, machine, err := d.uname()
	if err != nil {
		return conda.SystemInfo{}, fmt.Errorf("detect virtual packages: uname: %w", err)
	}
	info := conda.SystemInfo{OS: p.OS(), Arch: machine, Archspec: machine}
	switch info.OS {
	case "linux":
		info.KernelRelease = release
		if machine == "x86_64" {
			if level := x86Level(d.root); level != "" {
				info.Archspec = level
			}
		}
		if info.LibcVersion, err = glibcVersion(d.root); err != nil {
			return conda.SystemInfo{}, fmt.Errorf("detect virtual packages: %w", err)
		}
		if info.LibcVersion != "" {
			info.LibcFamily = "glibc"
		}
	case "osx":
		if info.OSVersion, err = d.osVersion(); err != nil {
			return conda.SystemInfo{}, fmt.Errorf("detect virtual packages: macOS version: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return conda.SystemInfo{}, err
	}
	info.CUDAVersion = cudaVersion(d.root)
	return info, nil
}

// libDirs are the folders, relative to the root, where Linux
// distributions and container runtimes put shared libraries, in the order
// they are searched: lib64 first (Fedora, RHEL), then the multiarch
// folders of Debian and Ubuntu, then plain lib, then where GPU runtimes
// mount libcuda. Multiarch folders are named, not globbed: listing /usr/lib
// took most of Detect's time.
var libDirs = func() []string {
	dirs := []string{"lib64", "usr/lib64"}
	for _, triplet := range []string{
		"x86_64-linux-gnu", "aarch64-linux-gnu", "powerpc64le-linux-gnu", "s390x-linux-gnu", "arm-linux-gnueabihf",
	} {
		dirs = append(dirs, "lib/"+triplet, "usr/lib/"+triplet)
	}
	return append(dirs, "lib", "usr/lib", "usr/local/nvidia/lib64", "usr/lib/wsl/lib")
}()

// findLib returns the paths of a library in libDirs, in search order.
func findLib(root fs.FS, name string) []string {
	var found []string
	for _, dir := range libDirs {
		if _, err := fs.Stat(root, dir+"/"+name); err == nil {
			found = append(found, dir+"/"+name)
		}
	}
	return found
}
