package conda

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// VirtualPackage is a package that describes the machine instead of being
// installed, such as __glibc=2.36=0 or __cuda=12.2=0. Packages depend on
// them to say what the system must provide.
type VirtualPackage struct {
	Name    string
	Version Version
	Build   string
}

// String returns the "name=version=build" form conda prints.
func (v VirtualPackage) String() string {
	return v.Name + "=" + v.Version.String() + "=" + v.Build
}

// Record returns the package record the solver sees for v. Its channel is
// "@", the pseudo channel conda gives virtual packages.
func (v VirtualPackage) Record() PackageRecord {
	return PackageRecord{
		Name:     v.Name,
		Version:  v.Version,
		Build:    v.Build,
		Channel:  "@",
		FileName: v.Name,
	}
}

// SystemInfo is what virtual packages are made from: facts about the
// machine (see package virtualpkgs) or defaults for a target platform (see
// TargetSystemInfo). Empty fields mean "not known" or "not present".
type SystemInfo struct {
	OS            string // conda's OS name: "linux", "osx" or "win"
	Arch          string // machine, as Platform.Arch names it: "x86_64", "aarch64", …
	KernelRelease string // Linux `uname -r`, e.g. "6.1.0-18-amd64"
	OSVersion     string // macOS product version ("14.2") or Windows version ("10.0.22631")
	LibcFamily    string // "glibc"; "" when the machine has none or it is unknown
	LibcVersion   string // e.g. "2.36"
	CUDAVersion   string // newest CUDA the driver supports, e.g. "12.2"; "" without a driver
	Archspec      string // CPU microarchitecture or x86-64 level: "skylake", "x86_64_v3"; "" means Arch
}

// Default facts TargetSystemInfo assumes for a platform it cannot look at.
// They are the oldest systems conda-forge still builds for, so that a
// solve for them only picks packages that run there and on anything newer.
// CONDA_OVERRIDE_* variables change them like they change detected values.
const (
	// DefaultLinuxKernel is the kernel of RHEL / AlmaLinux 8.
	DefaultLinuxKernel = "4.18"
	// DefaultGlibc is the glibc of RHEL / AlmaLinux 8, conda-forge's
	// default sysroot.
	DefaultGlibc = "2.28"
	// DefaultMacOSX64 is the oldest macOS conda-forge builds x86_64 packages for.
	DefaultMacOSX64 = "10.15"
	// DefaultMacOSArm64 is the first macOS on Apple silicon.
	DefaultMacOSArm64 = "11.0"
)

// TargetSystemInfo returns the assumed facts of a machine of platform p,
// for solving an environment that will run elsewhere (an image for
// linux-aarch64 built on linux-64): for Linux the DefaultLinuxKernel and
// the DefaultGlibc, for macOS DefaultMacOSX64 or DefaultMacOSArm64, the
// platform's machine name as archspec, and no CUDA driver (set
// CONDA_OVERRIDE_CUDA for a GPU image).
func TargetSystemInfo(p Platform) (SystemInfo, error) {
	info := SystemInfo{OS: p.OS(), Arch: p.Arch()}
	switch {
	case p == PlatformNoArch:
		return SystemInfo{}, fmt.Errorf("target system of %q: a concrete platform is needed, not noarch", string(p))
	case !p.IsValid():
		return SystemInfo{}, fmt.Errorf("target system of %q: unknown platform", string(p))
	case info.OS == "linux":
		info.KernelRelease, info.LibcFamily, info.LibcVersion = DefaultLinuxKernel, "glibc", DefaultGlibc
	case p == PlatformOSX64:
		info.OSVersion = DefaultMacOSX64
	case p == PlatformOSXArm64:
		info.OSVersion = DefaultMacOSArm64
	}
	return info, nil
}

// kernelVersion keeps the numeric part of a kernel release, as conda
// does: "6.1.0-18-amd64" is 6.1.0 and "5.15.0.1023-azure" is 5.15.0.1023.
var kernelVersion = regexp.MustCompile(`^\d+\.\d+(\.\d+)?(\.\d+)?`)

// VirtualPackages returns the virtual packages of a system, sorted by name,
// after applying conda's CONDA_OVERRIDE_* environment variables read with
// lookupEnv (os.LookupEnv, or nil for none): a variable set to a value
// replaces the detected value, set to the empty string removes the
// package, and unset keeps what info says.
//
//   - __unix on Linux and macOS; __win on Windows (CONDA_OVERRIDE_WIN).
//   - __linux: the numeric part of KernelRelease, "0" when it has none
//     (CONDA_OVERRIDE_LINUX).
//   - __glibc (or __<LibcFamily>): LibcVersion, absent when unknown
//     (CONDA_OVERRIDE_GLIBC); Linux only.
//   - __osx: OSVersion, absent when unknown (CONDA_OVERRIDE_OSX).
//   - __cuda: CUDAVersion, absent without a driver (CONDA_OVERRIDE_CUDA).
//   - __archspec: version 1, build Archspec or else Arch
//     (CONDA_OVERRIDE_ARCHSPEC sets the build).
//
// An override that is not a valid version is an error naming the variable.
func VirtualPackages(info SystemInfo, lookupEnv func(string) (string, bool)) ([]VirtualPackage, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	b := vpBuilder{lookupEnv: lookupEnv}
	switch info.OS {
	case "linux":
		b.add("__unix", "0", "0", "")
		if release, from, ok := b.value("LINUX", info.KernelRelease); ok {
			v := kernelVersion.FindString(release)
			if v == "" {
				v = "0"
			}
			b.add("__linux", v, "0", from)
		}
		family := info.LibcFamily
		if family == "" {
			family = "glibc" // conda's assumption on Linux
		}
		if v, from, ok := b.value(strings.ToUpper(family), info.LibcVersion); ok && v != "" {
			b.add("__"+family, v, "0", from)
		}
	case "osx":
		b.add("__unix", "0", "0", "")
		if v, from, ok := b.value("OSX", info.OSVersion); ok && v != "" {
			b.add("__osx", v, "0", from)
		}
	case "win":
		if v, from, ok := b.value("WIN", info.OSVersion); ok {
			if v == "" {
				v = "0"
			}
			b.add("__win", v, "0", from)
		}
	}
	if v, from, ok := b.value("CUDA", info.CUDAVersion); ok && v != "" {
		b.add("__cuda", v, "0", from)
	}
	arch := info.Archspec
	if arch == "" {
		arch = info.Arch
	}
	if v, _, ok := b.value("ARCHSPEC", arch); ok && v != "" {
		b.add("__archspec", "1", v, "")
	}
	if b.err != nil {
		return nil, b.err
	}
	sort.Slice(b.pkgs, func(i, j int) bool { return b.pkgs[i].Name < b.pkgs[j].Name })
	return b.pkgs, nil
}

// vpBuilder collects virtual packages and the first error.
type vpBuilder struct {
	lookupEnv func(string) (string, bool)
	pkgs      []VirtualPackage
	err       error
}

// value applies CONDA_OVERRIDE_<key> to detected. It returns the value,
// where it comes from for error messages, and false when the variable is
// set but empty, which removes the package.
func (b *vpBuilder) value(key, detected string) (v, from string, ok bool) {
	name := "CONDA_OVERRIDE_" + key
	if env, set := b.lookupEnv(name); set {
		return env, name, env != ""
	}
	return detected, "the system", true
}

// add appends a package whose version came from from.
func (b *vpBuilder) add(name, version, build, from string) {
	v, err := ParseVersion(version)
	if err != nil && b.err == nil {
		b.err = fmt.Errorf("virtual package %s: version %q from %s: %w", name, version, from, err)
	}
	b.pkgs = append(b.pkgs, VirtualPackage{Name: name, Version: v, Build: build})
}
