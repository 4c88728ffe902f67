package realistic

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// testCache is the cache the tests and benchmarks share, outliving them
// so that reruns are warm.
var testCache = filepath.Join(os.TempDir(), "condabox-realistic-test-cache")

// skipUnlessBuildable skips a test or benchmark the machine cannot run.
func skipUnlessBuildable(tb testing.TB) {
	tb.Helper()
	if os.Getuid() != 0 {
		tb.Skip("realistic channel: apt-get update and apt-get download need root")
	}
	if err := CheckTools(); err != nil {
		tb.Skipf("realistic channel: %v", err)
	}
}

// buildForTest builds the channel into a temporary directory, with a cache
// that outlives the test so that reruns are warm. It skips when the
// machine cannot build it.
func buildForTest(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("realistic channel: downloads and repackages Debian binaries; skipped with -short")
	}
	skipUnlessBuildable(t)
	out := t.TempDir()
	opts := Options{CacheDir: testCache, Logf: t.Logf}
	if err := Build(context.Background(), out, opts); err != nil {
		t.Fatal(err)
	}
	return out
}

// cleanEnv is the environment of the commands run from an installed
// prefix: no LD_LIBRARY_PATH, no PYTHONPATH/PYTHONHOME, only system dirs on
// PATH, so that the prefix's own RPATHs and sitecustomize must do the work.
func cleanEnv(home string) []string {
	return []string{"PATH=/usr/bin:/bin", "HOME=" + home, "LC_ALL=C.UTF-8"}
}

// run runs a program of the prefix with env added to cleanEnv and returns
// its stdout.
func run(t *testing.T, env []string, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(cleanEnv(t.TempDir()), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// pythonCheck imports requests and the stdlib modules backed by the
// channel's libraries, then reports where everything came from.
const pythonCheck = `
import sys, requests, certifi
import bz2, ctypes, curses, dbm, decimal, hashlib, lzma, readline, sqlite3, ssl, uuid, zlib, pyexpat
print(sys.prefix)
print(sys.executable)
print(requests.__file__)
print(certifi.where())
`

func TestRealisticChannel(t *testing.T) {
	channel := buildForTest(t)
	records := channelRecords(t, channel)

	// Two prefixes of different lengths, one per archive format: nothing
	// may depend on where the packages were built or first installed.
	for _, tc := range []struct {
		ext    string
		prefix string
	}{
		{".conda", "p"},
		{".tar.bz2", "a-longer/second-prefix"},
	} {
		t.Run("install"+tc.ext, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), tc.prefix)
			install(t, channel, prefix, closure(t, records, tc.ext, "linux-64",
				"python", "requests", "jq", "curl", "edge-binary-placeholder", "edge-text-placeholder", "edge-symlinks",
				"edge-link-scripts", "edge-activate"))
			bin := func(name string) string { return filepath.Join(prefix, "bin", name) }

			got := strings.Split(strings.TrimSpace(run(t, nil, "", bin("python3"), "-c", pythonCheck)), "\n")
			if len(got) != 4 {
				t.Fatalf("python printed %q, want 4 lines", got)
			}
			site := filepath.Join(prefix, "lib", "python3.11", "site-packages") + "/"
			for _, c := range []struct{ what, got, want string }{
				{"sys.prefix", got[0], prefix},
				{"sys.executable", filepath.Dir(got[1]), filepath.Join(prefix, "bin")},
				{"requests module", filepath.Dir(got[2]) + "/", site + "requests/"},
				{"certifi bundle", got[3], site + "certifi/cacert.pem"},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			if v := run(t, nil, "", bin("jq"), "--version"); !strings.HasPrefix(v, "jq-1.") {
				t.Errorf("jq --version = %q, want jq-1.x", v)
			}
			if v := run(t, nil, `{"a": [1, 2]}`, bin("jq"), "-c", ".a"); v != "[1,2]\n" {
				t.Errorf("jq -c .a = %q, want [1,2]", v)
			}
			if v := run(t, nil, "", bin("curl"), "--version"); !strings.HasPrefix(v, "curl 7.") {
				t.Errorf("curl --version = %q, want curl 7.x", v)
			}
			// A file:// transfer goes through libcurl and its libraries.
			hello := filepath.Join(prefix, "share", "edge-symlinks", "file-link")
			if v := run(t, nil, "", bin("curl"), "-sS", "file://"+hello); v != "hello\n" {
				t.Errorf("curl file://…/file-link = %q, want hello", v)
			}
			if v := run(t, nil, "", bin("normalizer"), "--version"); !strings.Contains(v, "3.0") {
				t.Errorf("normalizer (entry point) --version = %q, want version 3.0.x", v)
			}
			for _, name := range []string{"edge-binary-prefix", "edge-text-prefix"} {
				if v := run(t, nil, "", bin(name)); v != prefix+"\n" {
					t.Errorf("%s printed %q, want the prefix %q", name, v, prefix)
				}
			}
			checkLoaderResolution(t, prefix)
			checkEdgeFiles(t, prefix)
		})
	}

	t.Run("edge records", func(t *testing.T) { checkEdgeRecords(t, records) })

	t.Run("warm rebuild is identical", func(t *testing.T) {
		again := t.TempDir()
		opts := Options{CacheDir: testCache}
		if err := Build(context.Background(), again, opts); err != nil {
			t.Fatal(err)
		}
		for _, subdir := range []string{"linux-64", "linux-aarch64", "noarch"} {
			a, errA := os.ReadFile(filepath.Join(channel, subdir, "repodata.json"))
			b, errB := os.ReadFile(filepath.Join(again, subdir, "repodata.json"))
			if errA != nil || errB != nil || !bytes.Equal(a, b) {
				t.Errorf("%s/repodata.json differs between two builds (errors %v, %v)", subdir, errA, errB)
			}
		}
	})

	t.Run("cph extracts", func(t *testing.T) {
		if _, err := exec.LookPath("cph"); err != nil {
			t.Skip("cph (conda-package-handling) is not installed")
		}
		for fn, r := range records {
			if !slices.Contains([]string{"jq", "python_abi", "edge-symlinks", "requests", "edge-binary-placeholder"}, r.Name) {
				continue
			}
			dest := t.TempDir()
			cmd := exec.Command("cph", "x", filepath.Join(channel, r.Subdir, fn), "--dest", dest)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("cph x %s: %v: %s", fn, err, out)
				continue
			}
			var paths struct {
				Paths []struct {
					Path string `json:"_path"`
				} `json:"paths"`
			}
			if err := readJSON(filepath.Join(dest, "info", "paths.json"), &paths); err != nil {
				t.Errorf("cph x %s: %v", fn, err)
				continue
			}
			for _, p := range paths.Paths {
				if _, err := os.Lstat(filepath.Join(dest, p.Path)); err != nil {
					t.Errorf("cph x %s: paths.json lists %s: %v", fn, p.Path, err)
				}
			}
		}
	})
}

// checkLoaderResolution asks the dynamic loader how it resolves the
// libraries of every ELF file in the prefix: each must come from the prefix
// or be glibc, and none may be missing — so no file works only because
// the build machine has the same library in /usr/lib.
func checkLoaderResolution(t *testing.T, prefix string) {
	const loader = "/lib64/ld-linux-x86-64.so.2"
	if _, err := os.Stat(loader); err != nil {
		t.Logf("skipping the loader check: %v", err)
		return
	}
	checked := 0
	err := filepath.WalkDir(prefix, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := elf.Open(p)
		if err != nil {
			return nil // not an ELF file
		}
		defer f.Close()
		if libs, _ := f.ImportedLibraries(); len(libs) == 0 {
			return nil
		}
		checked++
		out, err := exec.Command(loader, "--list", p).CombinedOutput()
		if err != nil {
			t.Errorf("%s --list %s: %v: %s", loader, p, err, out)
			return nil
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			name, where, ok := strings.Cut(strings.TrimSpace(sc.Text()), " => ")
			if !ok {
				continue // the vdso and the loader itself
			}
			if !strings.HasPrefix(where, prefix+"/") && !glibcSonames[name] {
				rel, _ := filepath.Rel(prefix, p)
				t.Errorf("%s: %s resolves to %s, outside the prefix", rel, name, where)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Errorf("loader check saw %d dynamic ELF files, want python's extension modules and the libraries (≥ 50)", checked)
	}
}

// checkEdgeFiles checks the installed edge-case packages do what doc.go
// promises; the real installer's tests will rely on it.
func checkEdgeFiles(t *testing.T, prefix string) {
	t.Helper()
	at := func(p string) string { return filepath.Join(prefix, filepath.FromSlash(p)) }

	pkgEnv := []string{"PREFIX=" + prefix, "PKG_NAME=edge-link-scripts", "PKG_VERSION=1.0.0", "PKG_BUILDNUM=0"}
	run(t, pkgEnv, "", "/bin/sh", at("bin/.edge-link-scripts-post-link.sh"))
	if b, err := os.ReadFile(at(".edge-link-scripts-post-link.marker")); err != nil || string(b) != "post-link edge-link-scripts 1.0.0 0\n" {
		t.Errorf("post-link marker = %q, %v; want the package name, version and build number", b, err)
	}

	got := run(t, []string{"CONDA_PREFIX=" + prefix}, "", "/bin/sh", "-c", `. "$1" && echo "$EDGE_ACTIVATE_PREFIX"`, "sh", at("etc/conda/activate.d/edge-activate.sh"))
	if got != prefix+"\n" {
		t.Errorf("activate.d script exported %q, want the prefix", got)
	}
	var vars map[string]string
	if err := readJSON(at("etc/conda/env_vars.d/edge-activate.json"), &vars); err != nil || vars["EDGE_ACTIVATE_VAR"] != "set-by-env-vars-d" {
		t.Errorf("env_vars.d = %v, %v; want EDGE_ACTIVATE_VAR=set-by-env-vars-d", vars, err)
	}

	if target, err := os.Readlink(at("share/edge-symlinks/dir-link")); err != nil || target != "data" {
		t.Errorf("dir-link -> %q, %v; want the relative link data", target, err)
	}
	if b, err := os.ReadFile(at("share/edge-symlinks/chained-link")); err != nil || string(b) != "hello\n" {
		t.Errorf("chained-link reads %q, %v; want hello", b, err)
	}
	if got := run(t, nil, "", at("bin/edge-symlinks")); got != "edge-symlinks\n" {
		t.Errorf("bin/edge-symlinks printed %q", got)
	}
	for _, d := range []string{"share/edge-symlinks/empty", "share/edge-symlinks/nested/empty"} {
		if ents, err := os.ReadDir(at(d)); err != nil || len(ents) != 0 {
			t.Errorf("%s: %d entries, %v; want an empty directory", d, len(ents), err)
		}
	}
}

// checkEdgeRecords checks the repodata of the edge-case packages.
func checkEdgeRecords(t *testing.T, records map[string]conda.PackageRecord) {
	byName := map[string][]conda.PackageRecord{}
	formats := map[string]int{} // dist → number of archive formats
	for fn, r := range records {
		formats[r.Subdir+"/"+r.Dist()]++
		if strings.HasSuffix(fn, ".conda") {
			byName[r.Name] = append(byName[r.Name], r)
		}
	}
	for dist, n := range formats {
		if n != 2 {
			t.Errorf("%s: in %d formats, want .conda and .tar.bz2", dist, n)
		}
	}
	describe := func(name string, f func(r conda.PackageRecord) string) []string {
		var out []string
		for _, r := range byName[name] {
			out = append(out, f(r))
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name string
		f    func(r conda.PackageRecord) string
		want []string
	}{
		{"edge-versions", func(r conda.PackageRecord) string { return fmt.Sprintf("%s/%d", r.Version, r.BuildNumber) },
			[]string{"1.0.0/0", "2.0.0/0", "2.0.0/1"}},
		{"edge-features", func(r conda.PackageRecord) string { return fmt.Sprint(r.TrackFeatures) },
			[]string{"[]", "[edge_debug]"}},
		{"edge-constrains", func(r conda.PackageRecord) string { return fmt.Sprint(r.Depends, r.Constrains) },
			[]string{"[] [edge-versions <2 openssl >=3.0,<4.0a0]"}},
		{"edge-arch", func(r conda.PackageRecord) string { return r.Subdir }, []string{"linux-64", "linux-aarch64"}},
		{"python_abi", func(r conda.PackageRecord) string { return r.Build + " " + fmt.Sprint(r.Constrains) },
			[]string{"4_cp311 [python 3.11.* *_cpython]"}},
		{"python", func(r conda.PackageRecord) string {
			return fmt.Sprint(slices.Contains(r.Depends, pythonABIDepends), strings.HasSuffix(r.Build, "_cpython"))
		}, []string{"true true"}},
	} {
		if got := describe(tc.name, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s records: %q, want %q", tc.name, got, tc.want)
		}
	}
}
