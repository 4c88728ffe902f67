package conda

import (
	"runtime"
	"strings"
	"testing"
)

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in       string
		os, arch string
		wantErr  bool
	}{
		{"linux-64", "linux", "x86_64", false},
		{"linux-aarch64", "linux", "aarch64", false},
		{"linux-ppc64le", "linux", "ppc64le", false},
		{"linux-s390x", "linux", "s390x", false},
		{"linux-armv7l", "linux", "armv7l", false},
		{"osx-64", "osx", "x86_64", false},
		{"osx-arm64", "osx", "arm64", false},
		{"win-64", "win", "x86_64", false},
		{"win-arm64", "win", "arm64", false},
		{"noarch", "", "", false},
		{"", "", "", true},
		{"linux-32", "", "", true},
		{"Linux-64", "", "", true},
		{" linux-64", "", "", true},
		{"linux", "", "", true},
	}
	for _, tt := range tests {
		p, err := ParsePlatform(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePlatform(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), `parse platform "`+tt.in+`": unknown platform (known: noarch, linux-64`) {
				t.Errorf("ParsePlatform(%q) error %q does not say what is wrong", tt.in, err)
			}
			continue
		}
		if p.String() != tt.in || p.OS() != tt.os || p.Arch() != tt.arch {
			t.Errorf("ParsePlatform(%q) = %q with OS %q arch %q, want OS %q arch %q", tt.in, p, p.OS(), p.Arch(), tt.os, tt.arch)
		}
	}
}

func TestPlatformFromGo(t *testing.T) {
	tests := []struct {
		goos, goarch string
		want         Platform
	}{
		{"linux", "amd64", PlatformLinux64},
		{"linux", "arm64", PlatformLinuxAarch64},
		{"linux", "ppc64le", PlatformLinuxPPC64LE},
		{"linux", "s390x", PlatformLinuxS390X},
		{"linux", "arm", PlatformLinuxARMv7L},
		{"darwin", "amd64", PlatformOSX64},
		{"darwin", "arm64", PlatformOSXArm64},
		{"windows", "amd64", PlatformWin64},
		{"windows", "arm64", PlatformWinArm64},
		{"linux", "386", ""},
		{"freebsd", "amd64", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		got, err := PlatformFromGo(tt.goos, tt.goarch)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), "GOOS="+tt.goos+" GOARCH="+tt.goarch) {
				t.Errorf("PlatformFromGo(%q, %q) = %q, %v; want an error naming them", tt.goos, tt.goarch, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("PlatformFromGo(%q, %q) = %q, %v; want %q", tt.goos, tt.goarch, got, err, tt.want)
		}
	}
}

func TestCurrentPlatform(t *testing.T) {
	p, err := CurrentPlatform()
	if err != nil {
		t.Skipf("no conda platform for this machine: %v", err)
	}
	// Every mapping is checked by TestPlatformFromGo; here only that the
	// current one agrees with the runtime's.
	oci, err := p.OCI()
	if err != nil || oci.OS != runtime.GOOS || oci.Architecture != runtime.GOARCH {
		t.Errorf("CurrentPlatform() = %q whose OCI platform is %v, %v; want %s/%s", p, oci, err, runtime.GOOS, runtime.GOARCH)
	}
}

func TestPlatformOCI(t *testing.T) {
	forward := map[Platform]string{
		PlatformLinux64:      "linux/amd64",
		PlatformLinuxAarch64: "linux/arm64",
		PlatformLinuxPPC64LE: "linux/ppc64le",
		PlatformLinuxS390X:   "linux/s390x",
		PlatformLinuxARMv7L:  "linux/arm/v7",
		PlatformOSX64:        "darwin/amd64",
		PlatformOSXArm64:     "darwin/arm64",
		PlatformWin64:        "windows/amd64",
		PlatformWinArm64:     "windows/arm64",
	}
	for p, want := range forward {
		if oci, err := p.OCI(); err != nil || oci.String() != want {
			t.Errorf("%s.OCI() = %q, %v; want %q", p, oci, err, want)
		}
	}
}

func TestParseOCIPlatform(t *testing.T) {
	// Every concrete platform maps to an OCI platform and back.
	for _, p := range KnownPlatforms() {
		oci, err := p.OCI()
		if p == PlatformNoArch {
			if err == nil {
				t.Errorf("noarch.OCI() = %v, want an error", oci)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s.OCI(): %v", p, err)
		}
		back, err := ParseOCIPlatform(oci.String())
		if err != nil || back != p {
			t.Errorf("ParseOCIPlatform(%q) = %q, %v; want %q", oci, back, err, p)
		}
	}

	tests := []struct {
		in      string
		want    Platform
		wantErr string
	}{
		{"linux/amd64", PlatformLinux64, ""},
		{"linux/arm64", PlatformLinuxAarch64, ""},
		{"linux/arm64/v8", PlatformLinuxAarch64, ""},
		{"linux/ppc64le", PlatformLinuxPPC64LE, ""},
		{"linux/s390x", PlatformLinuxS390X, ""},
		{"linux/arm/v7", PlatformLinuxARMv7L, ""},
		{"darwin/arm64", PlatformOSXArm64, ""},
		{"linux/arm", "", `parse OCI platform "linux/arm": no conda platform for it`},
		{"linux/arm/v6", "", "no conda platform"},
		{"linux/amd64/v3", "", "no conda platform"},
		{"linux/riscv64", "", "no conda platform"},
		{"linux", "", `parse OCI platform "linux": want os/arch or os/arch/variant`},
		{"linux/", "", "want os/arch"},
		{"/amd64", "", "want os/arch"},
		{"linux/amd64/v1/x", "", "want os/arch"},
		{"", "", "want os/arch"},
	}
	for _, tt := range tests {
		got, err := ParseOCIPlatform(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseOCIPlatform(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseOCIPlatform(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}

}

func FuzzParseOCIPlatform(f *testing.F) {
	for _, s := range []string{"linux/amd64", "linux/arm64/v8", "linux/arm/v7", "linux", "a/b/c/d", "/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseOCIPlatform(s)
		if err != nil {
			if !strings.Contains(err.Error(), "parse OCI platform") {
				t.Fatalf("error %q does not say what failed", err)
			}
			return
		}
		// Whatever parses is a concrete platform that maps back to itself.
		oci, err := p.OCI()
		if err != nil {
			t.Fatalf("ParseOCIPlatform(%q) = %q without OCI platform: %v", s, p, err)
		}
		if back, err := ParseOCIPlatform(oci.String()); err != nil || back != p {
			t.Fatalf("ParseOCIPlatform(%q) = %q, whose OCI form %q parses to %q, %v", s, p, oci, back, err)
		}
	})
}
