package conda

import (
	"fmt"
	"runtime"
	"strings"
)

// Platform is a conda subdir such as "linux-64" or "noarch": the folder of a
// channel that holds the packages built for one operating system and CPU.
// The zero Platform is invalid.
type Platform string

// The platforms condabox knows. conda knows a few more historic ones
// (linux-32, win-32, linux-armv6l, zos-z) that conda-forge does not build.
const (
	PlatformNoArch       Platform = "noarch"
	PlatformLinux64      Platform = "linux-64"
	PlatformLinuxAarch64 Platform = "linux-aarch64"
	PlatformLinuxPPC64LE Platform = "linux-ppc64le"
	PlatformLinuxS390X   Platform = "linux-s390x"
	PlatformLinuxARMv7L  Platform = "linux-armv7l"
	PlatformOSX64        Platform = "osx-64"
	PlatformOSXArm64     Platform = "osx-arm64"
	PlatformWin64        Platform = "win-64"
	PlatformWinArm64     Platform = "win-arm64"
)

// platformInfo describes one platform: its conda OS, its machine name (the
// `arch` field of repodata and the default __archspec build) and its Go /
// OCI names.
type platformInfo struct {
	platform   Platform
	os, arch   string
	goos       string
	goarch     string
	ociVariant string
}

// platforms lists every known platform once; the lookups below all read it.
var platforms = []platformInfo{
	{PlatformNoArch, "", "", "", "", ""},
	{PlatformLinux64, "linux", "x86_64", "linux", "amd64", ""},
	{PlatformLinuxAarch64, "linux", "aarch64", "linux", "arm64", ""},
	{PlatformLinuxPPC64LE, "linux", "ppc64le", "linux", "ppc64le", ""},
	{PlatformLinuxS390X, "linux", "s390x", "linux", "s390x", ""},
	{PlatformLinuxARMv7L, "linux", "armv7l", "linux", "arm", "v7"},
	{PlatformOSX64, "osx", "x86_64", "darwin", "amd64", ""},
	{PlatformOSXArm64, "osx", "arm64", "darwin", "arm64", ""},
	{PlatformWin64, "win", "x86_64", "windows", "amd64", ""},
	{PlatformWinArm64, "win", "arm64", "windows", "arm64", ""},
}

// KnownPlatforms returns every platform condabox knows, noarch first.
func KnownPlatforms() []Platform {
	out := make([]Platform, len(platforms))
	for i, p := range platforms {
		out[i] = p.platform
	}
	return out
}

func (p Platform) info() (platformInfo, bool) {
	for _, i := range platforms {
		if i.platform == p {
			return i, true
		}
	}
	return platformInfo{}, false
}

// ParsePlatform validates a subdir name such as "linux-aarch64".
func ParsePlatform(s string) (Platform, error) {
	p := Platform(s)
	if _, ok := p.info(); !ok {
		return "", fmt.Errorf("parse platform %q: unknown platform (known: %s)", s, knownList())
	}
	return p, nil
}

func knownList() string {
	var b strings.Builder
	for i, p := range KnownPlatforms() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(p))
	}
	return b.String()
}

// IsValid reports whether p is one of the known platforms.
func (p Platform) IsValid() bool {
	_, ok := p.info()
	return ok
}

// String returns the subdir name.
func (p Platform) String() string { return string(p) }

// OS returns conda's operating system name: "linux", "osx" or "win"; ""
// for noarch and unknown platforms.
func (p Platform) OS() string {
	i, _ := p.info()
	return i.os
}

// Arch returns the machine architecture as conda names it in repodata's
// `arch` field and in __archspec: "x86_64", "aarch64", "arm64" (macOS and
// Windows), "ppc64le", "s390x", "armv7l"; "" for noarch and unknown platforms.
func (p Platform) Arch() string {
	i, _ := p.info()
	return i.arch
}

// CurrentPlatform returns the platform of the running binary.
func CurrentPlatform() (Platform, error) {
	return PlatformFromGo(runtime.GOOS, runtime.GOARCH)
}

// PlatformFromGo maps Go's GOOS and GOARCH names to a conda platform, e.g.
// ("linux", "arm64") to linux-aarch64.
func PlatformFromGo(goos, goarch string) (Platform, error) {
	for _, i := range platforms {
		if i.goos != "" && i.goos == goos && i.goarch == goarch {
			return i.platform, nil
		}
	}
	return "", fmt.Errorf("platform for GOOS=%s GOARCH=%s: conda has no such platform", goos, goarch)
}

// OCIPlatform is a container image platform as the OCI image index writes
// it: os, architecture and an optional variant.
type OCIPlatform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// String returns the "os/arch[/variant]" form used by docker --platform.
func (o OCIPlatform) String() string {
	s := o.OS + "/" + o.Architecture
	if o.Variant != "" {
		s += "/" + o.Variant
	}
	return s
}

// OCI returns the image platform for p, e.g. linux/amd64 for linux-64.
// noarch has none: an image always runs on one concrete platform.
func (p Platform) OCI() (OCIPlatform, error) {
	i, ok := p.info()
	if !ok || i.goos == "" {
		return OCIPlatform{}, fmt.Errorf("OCI platform of %q: only a concrete platform (not noarch) maps to an image platform", string(p))
	}
	return OCIPlatform{OS: i.goos, Architecture: i.goarch, Variant: i.ociVariant}, nil
}

// ParseOCIPlatform maps an image platform written "os/arch[/variant]" (as
// in docker --platform) to a conda platform: linux/amd64 is linux-64,
// linux/arm64 (or linux/arm64/v8) is linux-aarch64, linux/arm/v7 is
// linux-armv7l.
func ParseOCIPlatform(s string) (Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return "", fmt.Errorf("parse OCI platform %q: want os/arch or os/arch/variant", s)
	}
	variant := ""
	if len(parts) == 3 {
		variant = parts[2]
	}
	// arm64's only variant is v8, which images often leave out.
	if parts[1] == "arm64" && variant == "v8" {
		variant = ""
	}
	for _, i := range platforms {
		if i.goos == parts[0] && i.goarch == parts[1] && i.ociVariant == variant {
			return i.platform, nil
		}
	}
	return "", fmt.Errorf("parse OCI platform %q: no conda platform for it", s)
}
