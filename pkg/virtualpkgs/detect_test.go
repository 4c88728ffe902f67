package virtualpkgs

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/condabox/condabox/pkg/conda"
)

// The banners of real libc.so.6 files, around binary noise.
const (
	debianBanner = "\x00\x7fELF\x00GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\nCopyright (C) 2022\x00"
	centos7      = "\x00GNU C Library (GNU libc) stable release version 2.17, by Roland McGrath et al.\n\x00"
	devBanner    = "\x00GNU C Library (GNU libc) development release version 2.39.9000.\n\x00"

	proprietaryDriver = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"
	openDriver        = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  560.35.03  Release Build  (dvs-builder@U16-I3-B03-4-3)  Fri Aug 16 21:47:34 UTC 2024\n"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestGlibcVersion(t *testing.T) {
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"debian multiarch", fstest.MapFS{"usr/lib/x86_64-linux-gnu/libc.so.6": file(debianBanner)}, "2.36"},
		{"rhel lib64", fstest.MapFS{"lib64/libc.so.6": file(centos7)}, "2.17"},
		{"development release", fstest.MapFS{"usr/lib64/libc.so.6": file(devBanner)}, "2.39.9000"},
		{"lib64 wins over multiarch", fstest.MapFS{
			"lib64/libc.so.6":                file(centos7),
			"lib/x86_64-linux-gnu/libc.so.6": file(debianBanner),
		}, "2.17"},
		{"non-glibc libc.so.6 is skipped", fstest.MapFS{
			"lib64/libc.so.6":                 file("\x00gcompat\x00"),
			"lib/aarch64-linux-gnu/libc.so.6": file(debianBanner),
		}, "2.36"},
		{"alpine (musl)", fstest.MapFS{"lib/ld-musl-x86_64.so.1": file("musl libc")}, ""},
		{"gcompat only", fstest.MapFS{"lib/libc.so.6": file("\x00gcompat\x00")}, ""},
		{"empty root", fstest.MapFS{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := glibcVersion(tt.fs)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("glibcVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGlibcVersionUnreadable(t *testing.T) {
	fsys := fstest.MapFS{"lib64/libc.so.6": &fstest.MapFile{Mode: os.ModeDir}}
	_, err := glibcVersion(fsys)
	if err == nil || !strings.Contains(err.Error(), "read glibc version from /lib64/libc.so.6") {
		t.Errorf("error = %v, want one naming /lib64/libc.so.6", err)
	}
}

func TestCUDAVersion(t *testing.T) {
	libcuda := file("\x7fELF")
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"proprietary driver", fstest.MapFS{
			"proc/driver/nvidia/version":            file(proprietaryDriver),
			"usr/lib/x86_64-linux-gnu/libcuda.so.1": libcuda,
		}, "12.2"},
		{"open driver", fstest.MapFS{
			"proc/driver/nvidia/version": file(openDriver),
			"usr/lib64/libcuda.so.1":     libcuda,
		}, "12.6"},
		{"gke mount", fstest.MapFS{
			"proc/driver/nvidia/version":          file(proprietaryDriver),
			"usr/local/nvidia/lib64/libcuda.so.1": libcuda,
		}, "12.2"},
		{"driver without libcuda", fstest.MapFS{"proc/driver/nvidia/version": file(proprietaryDriver)}, ""},
		{"libcuda without driver", fstest.MapFS{"usr/lib64/libcuda.so.1": libcuda}, ""},
		{"unknown version file", fstest.MapFS{
			"proc/driver/nvidia/version": file("something else entirely\n"),
			"usr/lib64/libcuda.so.1":     libcuda,
		}, ""},
		{"no gpu", fstest.MapFS{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cudaVersion(tt.fs); got != tt.want {
				t.Errorf("cudaVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCUDAForDriver(t *testing.T) {
	tests := []struct{ driver, want string }{
		{"535.104.05", "12.2"},
		{"535.54.03", "12.2"}, // exactly the minimum
		{"535.54.02", "12.1"}, // just below it
		{"550.54.14", "12.4"},
		{"545.29.06", "12.3"},
		{"570.26", "12.8"},
		{"570.26.0", "12.8"},
		{"470.82.01", "11.4"},
		{"455.23", "11.1"},
		{"390.157", "9.1"},
		{"999.1", "13.0"}, // newer than the table: its newest entry
		{"340.108", ""},   // older than CUDA 8
	}
	for _, tt := range tests {
		if got := cudaForDriver(tt.driver); got != tt.want {
			t.Errorf("cudaForDriver(%q) = %q, want %q", tt.driver, got, tt.want)
		}
	}
	// The table must stay sorted newest first, or the lookup goes wrong.
	for i := 1; i < len(cudaDrivers); i++ {
		if compareDotted(cudaDrivers[i-1].driver, cudaDrivers[i].driver) <= 0 {
			t.Errorf("cudaDrivers[%d] (%s) is not newer than the next entry (%s)", i-1, cudaDrivers[i-1].driver, cudaDrivers[i].driver)
		}
	}
}

func TestDetectFake(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the fake machine is a Linux one")
	}
	d := detector{
		root: fstest.MapFS{
			"usr/lib/x86_64-linux-gnu/libc.so.6":    file(debianBanner),
			"usr/lib/x86_64-linux-gnu/libcuda.so.1": file("\x7fELF"),
			"proc/driver/nvidia/version":            file(proprietaryDriver),
			"proc/cpuinfo":                          file("flags\t: sse2 cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3\n"),
		},
		uname:     func() (string, string, error) { return "6.1.0-18-amd64", "x86_64", nil },
		osVersion: func() (string, error) { return "", errors.New("not called on Linux") },
	}
	info, err := d.detect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := conda.SystemInfo{OS: "linux", Arch: "x86_64", Archspec: "x86_64_v2", KernelRelease: "6.1.0-18-amd64",
		LibcFamily: "glibc", LibcVersion: "2.36", CUDAVersion: "12.2"}
	if info != want {
		t.Errorf("detect = %+v\nwant     %+v", info, want)
	}

	d.uname = func() (string, string, error) { return "", "", errors.New("operation not permitted") }
	if _, err := d.detect(context.Background()); err == nil || !strings.Contains(err.Error(), "uname: operation not permitted") {
		t.Errorf("uname failure: error = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.detect(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error = %v, want context.Canceled", err)
	}
}

// TestDetectThisMachine checks detection against independent sources on
// the machine running the test: the kernel's own osrelease file and glibc's
// answer to `getconf GNU_LIBC_VERSION` (on the project's Debian 12 box,
// __glibc 2.36).
func TestDetectThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("detection is checked against Linux sources")
	}
	pkgs, err := VirtualPackages(context.Background(), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]conda.VirtualPackage{}
	for _, p := range pkgs {
		got[p.Name] = p
	}
	release, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Fatal(err)
	}
	wantLinux := regexp.MustCompile(`^\d+\.\d+(\.\d+)?(\.\d+)?`).FindString(string(release))
	if got["__linux"].Version.String() != wantLinux {
		t.Errorf("__linux = %v, want version %s (from %q)", got["__linux"], wantLinux, strings.TrimSpace(string(release)))
	}
	if _, ok := got["__unix"]; !ok {
		t.Error("no __unix")
	}
	// On x86-64 the build is a level, elsewhere the machine name.
	if b := got["__archspec"].Build; b == "" || runtime.GOARCH == "amd64" && !strings.HasPrefix(b, "x86_64") {
		t.Errorf("__archspec = %v, want the machine or its level as build", got["__archspec"])
	}

	out, err := exec.Command("getconf", "GNU_LIBC_VERSION").Output()
	if err != nil {
		t.Skipf("getconf GNU_LIBC_VERSION unavailable (not glibc?): %v", err)
	}
	wantGlibc := strings.TrimPrefix(strings.TrimSpace(string(out)), "glibc ")
	if got["__glibc"].Version.String() != wantGlibc {
		t.Errorf("__glibc = %v, want version %s", got["__glibc"], wantGlibc)
	}
	t.Logf("detected: %v", pkgs)
}

func BenchmarkDetect(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := Detect(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
