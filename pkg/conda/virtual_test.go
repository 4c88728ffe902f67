package conda

import (
	"strings"
	"testing"
)

// vpEnv returns a lookup function over a fixed environment.
func vpEnv(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// vpNames formats virtual packages the way conda prints them.
func vpNames(pkgs []VirtualPackage) string {
	s := make([]string, len(pkgs))
	for i, p := range pkgs {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

func TestVirtualPackages(t *testing.T) {
	debian := SystemInfo{OS: "linux", Arch: "x86_64", KernelRelease: "6.1.0-18-amd64", LibcFamily: "glibc", LibcVersion: "2.36"}
	gpu := debian
	gpu.CUDAVersion = "12.2"
	tests := []struct {
		name string
		info SystemInfo
		env  map[string]string
		want string
	}{
		{"debian host", debian, nil,
			"__archspec=1=x86_64 __glibc=2.36=0 __linux=6.1.0=0 __unix=0=0"},
		{"with a driver", gpu, nil,
			"__archspec=1=x86_64 __cuda=12.2=0 __glibc=2.36=0 __linux=6.1.0=0 __unix=0=0"},
		{"microarchitecture", SystemInfo{OS: "linux", Arch: "x86_64", Archspec: "skylake", KernelRelease: "5.4"}, nil,
			"__archspec=1=skylake __linux=5.4=0 __unix=0=0"},
		{"four kernel components", SystemInfo{OS: "linux", KernelRelease: "5.15.0.1023-azure"}, nil,
			"__linux=5.15.0.1023=0 __unix=0=0"},
		{"kernel without numbers", SystemInfo{OS: "linux", KernelRelease: "custom"}, nil,
			"__linux=0=0 __unix=0=0"},
		{"musl or unknown libc", SystemInfo{OS: "linux", KernelRelease: "6.6.1"}, nil,
			"__linux=6.6.1=0 __unix=0=0"},
		{"macOS", SystemInfo{OS: "osx", Arch: "arm64", OSVersion: "14.2"}, nil,
			"__archspec=1=arm64 __osx=14.2=0 __unix=0=0"},
		{"Windows", SystemInfo{OS: "win", Arch: "x86_64", OSVersion: "10.0.22631"}, nil,
			"__archspec=1=x86_64 __win=10.0.22631=0"},
		{"Windows version unknown", SystemInfo{OS: "win"}, nil, "__win=0=0"},

		// Overrides: a value replaces, empty removes, unset keeps.
		{"override glibc", debian, map[string]string{"CONDA_OVERRIDE_GLIBC": "2.17"},
			"__archspec=1=x86_64 __glibc=2.17=0 __linux=6.1.0=0 __unix=0=0"},
		{"remove glibc", debian, map[string]string{"CONDA_OVERRIDE_GLIBC": ""},
			"__archspec=1=x86_64 __linux=6.1.0=0 __unix=0=0"},
		{"add cuda without a driver", debian, map[string]string{"CONDA_OVERRIDE_CUDA": "11.8"},
			"__archspec=1=x86_64 __cuda=11.8=0 __glibc=2.36=0 __linux=6.1.0=0 __unix=0=0"},
		{"remove cuda of a driver", gpu, map[string]string{"CONDA_OVERRIDE_CUDA": ""},
			"__archspec=1=x86_64 __glibc=2.36=0 __linux=6.1.0=0 __unix=0=0"},
		{"override linux keeps the numeric part", debian, map[string]string{"CONDA_OVERRIDE_LINUX": "4.18.0-rc1"},
			"__archspec=1=x86_64 __glibc=2.36=0 __linux=4.18.0=0 __unix=0=0"},
		{"remove linux", debian, map[string]string{"CONDA_OVERRIDE_LINUX": ""},
			"__archspec=1=x86_64 __glibc=2.36=0 __unix=0=0"},
		{"override archspec", debian, map[string]string{"CONDA_OVERRIDE_ARCHSPEC": "x86_64_v3"},
			"__archspec=1=x86_64_v3 __glibc=2.36=0 __linux=6.1.0=0 __unix=0=0"},
		{"remove archspec", debian, map[string]string{"CONDA_OVERRIDE_ARCHSPEC": ""},
			"__glibc=2.36=0 __linux=6.1.0=0 __unix=0=0"},
		{"glibc override without detection", SystemInfo{OS: "linux"}, map[string]string{"CONDA_OVERRIDE_GLIBC": "2.28"},
			"__glibc=2.28=0 __linux=0=0 __unix=0=0"},
		{"override osx", SystemInfo{OS: "osx", Arch: "arm64", OSVersion: "14.2"}, map[string]string{"CONDA_OVERRIDE_OSX": "12.0"},
			"__archspec=1=arm64 __osx=12.0=0 __unix=0=0"},
		{"remove osx", SystemInfo{OS: "osx", OSVersion: "14.2"}, map[string]string{"CONDA_OVERRIDE_OSX": ""},
			"__unix=0=0"},
		{"override win", SystemInfo{OS: "win"}, map[string]string{"CONDA_OVERRIDE_WIN": "10.0"}, "__win=10.0=0"},
		{"remove win", SystemInfo{OS: "win"}, map[string]string{"CONDA_OVERRIDE_WIN": ""}, ""},
		{"other platforms' overrides are ignored", SystemInfo{OS: "osx"}, map[string]string{"CONDA_OVERRIDE_GLIBC": "2.17", "CONDA_OVERRIDE_LINUX": "5"},
			"__unix=0=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VirtualPackages(tt.info, vpEnv(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if vpNames(got) != tt.want {
				t.Errorf("got  %s\nwant %s", vpNames(got), tt.want)
			}
		})
	}
}

func TestVirtualPackagesNilLookup(t *testing.T) {
	info := SystemInfo{OS: "linux", KernelRelease: "6.1.0", LibcVersion: "2.36"}
	withNil, err := VirtualPackages(info, nil)
	if err != nil {
		t.Fatal(err)
	}
	withEmpty, err := VirtualPackages(info, vpEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if vpNames(withNil) != vpNames(withEmpty) {
		t.Errorf("nil lookup gives %s, an empty environment %s", vpNames(withNil), vpNames(withEmpty))
	}
}

func TestVirtualPackagesBadOverride(t *testing.T) {
	_, err := VirtualPackages(SystemInfo{OS: "linux"}, vpEnv(map[string]string{"CONDA_OVERRIDE_GLIBC": "2..36"}))
	if err == nil {
		t.Fatal("an invalid override is not an error")
	}
	if want := `virtual package __glibc: version "2..36" from CONDA_OVERRIDE_GLIBC: `; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
}

func TestVirtualPackageRecord(t *testing.T) {
	v := VirtualPackage{Name: "__glibc", Version: MustParseVersion("2.36"), Build: "0"}
	r := v.Record()
	if r.Name != "__glibc" || r.Version.String() != "2.36" || r.Build != "0" || r.Channel != "@" || r.BuildNumber != 0 {
		t.Errorf("Record() = %+v", r)
	}
}

func TestTargetSystemInfo(t *testing.T) {
	tests := []struct {
		p    Platform
		want string
	}{
		{PlatformLinux64, "__archspec=1=x86_64 __glibc=2.28=0 __linux=4.18=0 __unix=0=0"},
		{PlatformLinuxAarch64, "__archspec=1=aarch64 __glibc=2.28=0 __linux=4.18=0 __unix=0=0"},
		{PlatformLinuxPPC64LE, "__archspec=1=ppc64le __glibc=2.28=0 __linux=4.18=0 __unix=0=0"},
		{PlatformOSX64, "__archspec=1=x86_64 __osx=10.15=0 __unix=0=0"},
		{PlatformOSXArm64, "__archspec=1=arm64 __osx=11.0=0 __unix=0=0"},
		{PlatformWinArm64, "__archspec=1=arm64 __win=0=0"},
	}
	for _, tt := range tests {
		info, err := TargetSystemInfo(tt.p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := VirtualPackages(info, nil)
		if err != nil {
			t.Fatal(err)
		}
		if vpNames(got) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.p, vpNames(got), tt.want)
		}
	}
	for _, p := range []Platform{PlatformNoArch, "", "linux-32"} {
		if _, err := TargetSystemInfo(p); err == nil {
			t.Errorf("TargetSystemInfo(%q) succeeded, want an error", p)
		}
	}
}

func FuzzVirtualPackages(f *testing.F) {
	f.Add("6.1.0-18-amd64", "2.36", "linux", "12.2", "x86_64")
	f.Add("", "", "osx", "", "")
	f.Add("5.x", "2..3", "win", "*", "")
	f.Fuzz(func(t *testing.T, release, glibc, os, cuda, archspec string) {
		info := SystemInfo{OS: os, Arch: "x86_64", KernelRelease: release, OSVersion: release, LibcVersion: glibc}
		overrides := vpEnv(map[string]string{"CONDA_OVERRIDE_CUDA": cuda, "CONDA_OVERRIDE_ARCHSPEC": archspec})
		pkgs, err := VirtualPackages(info, overrides)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "virtual package __") {
				t.Fatalf("error %q does not name the package", err)
			}
			return
		}
		for i, p := range pkgs {
			if !strings.HasPrefix(p.Name, "__") || p.Version.String() == "" || p.Build == "" {
				t.Fatalf("malformed virtual package %+v", p)
			}
			if i > 0 && pkgs[i-1].Name >= p.Name {
				t.Fatalf("packages not sorted or repeated: %v", pkgs)
			}
		}
	})
}
