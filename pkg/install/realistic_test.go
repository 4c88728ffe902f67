package install

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runIn runs a program with a clean environment (no LD_LIBRARY_PATH, no
// PYTHONPATH, system PATH) and returns its stdout.
func runIn(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	// No byte code: files python writes at run time belong to no record.
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LC_ALL=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestRealisticEnvironment installs python, requests, jq and the edge-case
// packages into two prefixes of different lengths, runs what they hold,
// then updates and removes packages.
func TestRealisticEnvironment(t *testing.T) {
	names := []string{"python", "requests", "jq", "edge-binary-placeholder", "edge-text-placeholder",
		"edge-symlinks", "edge-link-scripts", "edge-versions", "edge-activate"}
	v1 := realisticPackages(t, names, map[string]string{"edge-versions": "1.0.0=0"})
	v2 := realisticPackages(t, names, map[string]string{"edge-versions": "2.0.0=1"})
	base := t.TempDir()
	for _, tc := range []struct{ name, prefix string }{
		{"short", filepath.Join(base, "p")},
		{"long", filepath.Join(base, strings.Repeat("long-prefix-", 8), "env")},
	} {
		prefix := tc.prefix
		t.Run(tc.name, func(t *testing.T) {
			res, err := Sync(context.Background(), prefix, v1, Options{History: HistoryEntry{Cmd: "condabox create", UpdateSpecs: names}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Messages, "edge-link-scripts: post-link ran") {
				t.Errorf("messages %q lack the post-link script's", res.Messages)
			}
			bin := func(name string) string { return filepath.Join(prefix, "bin", name) }
			runIn(t, bin("python3"), "-c", "import requests")
			if v := runIn(t, bin("jq"), "--version"); !strings.HasPrefix(v, "jq-1.6") {
				t.Errorf("jq --version = %q", v)
			}
			if v := runIn(t, bin("normalizer"), "--version"); !strings.Contains(v, "3.0") {
				t.Errorf("normalizer (entry point) --version = %q", v)
			}
			for _, prog := range []string{"edge-binary-prefix", "edge-text-prefix"} {
				if got := strings.TrimSpace(runIn(t, bin(prog))); got != prefix {
					t.Errorf("%s printed %q, want the prefix %q", prog, got, prefix)
				}
			}
			marker, err := os.ReadFile(filepath.Join(prefix, ".edge-link-scripts-post-link.marker"))
			if err != nil || string(marker) != "post-link edge-link-scripts 1.0.0 0\n" {
				t.Errorf("post-link marker = %q, %v", marker, err)
			}
			if target, err := os.Readlink(filepath.Join(prefix, "share/edge-symlinks/dir-link")); err != nil || target != "data" {
				t.Errorf("share/edge-symlinks/dir-link → %q, %v; want data", target, err)
			}
			if _, err := os.Stat(filepath.Join(prefix, "etc/conda/env_vars.d/edge-activate.json")); err != nil {
				t.Errorf("activation files: %v", err)
			}
			pyc := filepath.Join(prefix, "lib/python3.11/site-packages/requests/__pycache__/__init__.cpython-311.pyc")
			if _, err := os.Stat(pyc); err != nil {
				t.Errorf("requests was not byte-compiled: %v", err)
			}
			checkConsistent(t, prefix, ".edge-link-scripts-post-link.marker")

			// Update: edge-versions 1.0.0 → 2.0.0.
			res, err = Sync(context.Background(), prefix, v2, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(res.Unlinked, func(d string) bool { return strings.HasPrefix(d, "edge-versions-1.0.0-") }) ||
				!slices.ContainsFunc(res.Linked, func(d string) bool { return strings.HasPrefix(d, "edge-versions-2.0.0-") }) || len(res.Linked) != 1 {
				t.Errorf("update unlinked %v and linked %v, want edge-versions 1.0.0 → 2.0.0 only", res.Unlinked, res.Linked)
			}
			if b, err := os.ReadFile(filepath.Join(prefix, "share/edge-versions/version.txt")); err != nil || string(b) != "2.0.0 build 1\n" {
				t.Errorf("after update version.txt = %q, %v", b, err)
			}
			checkConsistent(t, prefix, ".edge-link-scripts-post-link.marker")

			// Remove: the link scripts package runs its pre-unlink script.
			if _, err := Remove(context.Background(), prefix, []string{"edge-link-scripts", "jq"}, Options{}); err != nil {
				t.Fatal(err)
			}
			for _, gone := range []string{"bin/jq", "bin/.edge-link-scripts-post-link.sh"} {
				if _, err := os.Lstat(filepath.Join(prefix, gone)); !os.IsNotExist(err) {
					t.Errorf("%s still exists after remove (%v)", gone, err)
				}
			}
			if _, err := os.Stat(filepath.Join(prefix, ".edge-link-scripts-pre-unlink.marker")); err != nil {
				t.Errorf("pre-unlink script did not run: %v", err)
			}
			checkConsistent(t, prefix, ".edge-link-scripts-post-link.marker", ".edge-link-scripts-pre-unlink.marker")
		})
	}
}

// TestRelocatePrefix installs the realistic environment into one folder
// for another (Options.RelocatePrefix), moves it there and runs what it
// holds: placeholders and entry points name the final prefix, never the
// folder it was installed in.
func TestRelocatePrefix(t *testing.T) {
	names := []string{"python", "requests", "edge-binary-placeholder", "edge-text-placeholder"}
	pkgs := realisticPackages(t, names, nil)
	base := t.TempDir()
	stage, final := filepath.Join(base, "stage"), filepath.Join(base, "final", "env")
	if _, err := Sync(context.Background(), stage, pkgs, Options{RelocatePrefix: final}); err != nil {
		t.Fatal(err)
	}
	// Nothing written names the folder it was installed in.
	err := filepath.WalkDir(stage, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasSuffix(path, ".pyc") {
			return err // .pyc name their source where it was compiled, as conda's
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(stage)) {
			t.Errorf("%s holds the install folder %s", path, stage)
		}
		return err
	})
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(final), 0o755))
	must(t, os.Rename(stage, final))
	bin := func(name string) string { return filepath.Join(final, "bin", name) }
	runIn(t, bin("python3"), "-c", "import requests")
	if v := runIn(t, bin("normalizer"), "--version"); !strings.Contains(v, "3.0") {
		t.Errorf("normalizer (entry point) --version = %q", v)
	}
	for _, prog := range []string{"edge-binary-prefix", "edge-text-prefix"} {
		if got := strings.TrimSpace(runIn(t, bin(prog))); got != final {
			t.Errorf("%s printed %q, want the final prefix %q", prog, got, final)
		}
	}
	checkConsistent(t, final)

	if _, err := Sync(context.Background(), filepath.Join(base, "x"), pkgs, Options{RelocatePrefix: "opt/conda"}); err == nil || !strings.Contains(err.Error(), `relocate prefix "opt/conda" is not a clean absolute path`) {
		t.Errorf("relative relocate prefix: error %v", err)
	}
}

// BenchmarkLinkPythonEnv links the realistic python environment from a
// warm extracted cache into a fresh prefix (no .pyc compilation, which
// measures python rather than linking; see BenchmarkLinkPythonEnvPyc).
func BenchmarkLinkPythonEnv(b *testing.B) { benchmarkLink(b, true) }

// BenchmarkLinkPythonEnvPyc is BenchmarkLinkPythonEnv with .pyc files.
func BenchmarkLinkPythonEnvPyc(b *testing.B) { benchmarkLink(b, false) }

func benchmarkLink(b *testing.B, skipPyc bool) {
	pkgs := realisticPackages(b, []string{"python", "requests", "jq", "curl"}, nil)
	base := b.TempDir()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		prefix := filepath.Join(base, "env", strings.Repeat("x", i%7))
		if _, err := Sync(context.Background(), prefix, pkgs, Options{SkipPyc: skipPyc}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(filepath.Join(base, "env"))
		b.StartTimer()
	}
}

// BenchmarkLinkFloor is the floor for BenchmarkLinkPythonEnv: a hardlink
// (or symlink, or directory) per payload path of the same packages, with
// no placeholders, records, journal or fsync.
func BenchmarkLinkFloor(b *testing.B) {
	pkgs := realisticPackages(b, []string{"python", "requests", "jq", "curl"}, nil)
	base := b.TempDir()
	files := 0
	for i := 0; b.Loop(); i++ {
		prefix := filepath.Join(base, "env")
		files = 0
		for _, p := range pkgs {
			info, err := readPkgInfo(folder(p.Dir))
			if err != nil {
				b.Fatal(err)
			}
			for _, e := range info.Paths {
				src, dst := filepath.Join(p.Dir, e.Path), filepath.Join(prefix, e.Path)
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					b.Fatal(err)
				}
				switch e.PathType {
				case "softlink":
					target, _ := os.Readlink(src)
					err = os.Symlink(target, dst)
				case "directory":
					err = os.MkdirAll(dst, 0o755)
				default:
					err = os.Link(src, dst)
				}
				if err != nil && !os.IsExist(err) {
					b.Fatal(err)
				}
				files++
			}
		}
		b.StopTimer()
		os.RemoveAll(prefix)
		b.StartTimer()
	}
	b.ReportMetric(float64(files), "paths")
}
