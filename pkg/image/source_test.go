package image

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/install"
)

// bothForms writes pkgs as .conda archives and returns them as the package
// cache gives them to Build: extracted folders, and archives only
// (install.ArchivePackage), with the same records — checksums included, as
// pkgcache's repodata_record.json has them.
func bothForms(t testing.TB, pkgs []*pkgbuild.Package) (folders, archives []*install.Package) {
	t.Helper()
	dir := t.TempDir()
	for _, p := range pkgs {
		r, err := pkgbuild.WriteFile(dir, p, pkgbuild.FormatConda)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, r.Dist()+".conda")
		dest := filepath.Join(dir, r.Dist())
		if err := archive.Extract(context.Background(), file, dest); err != nil {
			t.Fatal(err)
		}
		ip, err := install.ReadPackage(dest)
		if err != nil {
			t.Fatal(err)
		}
		ip.Record.URL, ip.Record.Channel = p.Record.URL, p.Record.Channel
		ip.Record.FileName, ip.Record.Size, ip.Record.SHA256, ip.Record.MD5 = r.FileName, r.Size, r.SHA256, r.MD5
		b, err := json.Marshal(&ip.Record)
		if err != nil {
			t.Fatal(err)
		}
		ap, err := install.ArchivePackage(file, b)
		if err != nil {
			t.Fatal(err)
		}
		folders, archives = append(folders, ip), append(archives, ap)
	}
	return folders, archives
}

// TestBuildFromArchives: packages the cache holds as archives only give the
// image their extracted folders give — cold, from the listing cache with
// every layer cached (the archives are not even read: they are moved away),
// and from the listing cache with the layers gone (content read again).
// With .pyc compilation, python comes from its archive too: extracted to
// RAM, or to the work folder when that fails. Over the memory budget,
// packages are read again for their layers.
func TestBuildFromArchives(t *testing.T) {
	tests := []struct {
		name string
		env  func(t *testing.T) []*pkgbuild.Package
		opts Options
	}{
		{"every kind of file", func(*testing.T) []*pkgbuild.Package { return testEnv("v1") }, Options{}},
		{"pruned", func(*testing.T) []*pkgbuild.Package { return testEnv("v1") }, Options{Prune: PruneAggressive}},
		{"pyc", func(t *testing.T) []*pkgbuild.Package { exe, mm := hostPython(t); return pycEnv(exe, mm, true) }, Options{CompilePyc: true}},
		{"pyc, over the memory budget", func(t *testing.T) []*pkgbuild.Package {
			old := memoryBudget
			memoryBudget = 1 // every package is read again for its layer
			t.Cleanup(func() { memoryBudget = old })
			exe, mm := hostPython(t)
			return pycEnv(exe, mm, true)
		}, Options{CompilePyc: true}},
		{"pyc, RAM folder mounted noexec", func(t *testing.T) []*pkgbuild.Package {
			// Hardened hosts mount /dev/shm noexec: python cannot run
			// from there, so the work folder is used.
			dir := t.TempDir()
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "noexec,size=64m", "tmpfs", dir).CombinedOutput(); err != nil {
				t.Skipf("mount a noexec tmpfs (needs root): %v: %s", err, out)
			}
			t.Cleanup(func() { exec.Command("umount", dir).Run() })
			if canExecIn(dir) {
				t.Fatalf("canExecIn(%s) on a noexec tmpfs", dir)
			}
			old := shmDir
			shmDir = dir
			t.Cleanup(func() { shmDir = old })
			exe, mm := hostPython(t)
			return pycEnv(exe, mm, true)
		}, Options{CompilePyc: true}},
		{"pyc, no RAM folder", func(t *testing.T) []*pkgbuild.Package {
			old := shmDir
			shmDir = filepath.Join(t.TempDir(), "missing")
			t.Cleanup(func() { shmDir = old })
			exe, mm := hostPython(t)
			return pycEnv(exe, mm, true)
		}, Options{CompilePyc: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			folders, archives := bothForms(t, tt.env(t))
			want := digest(t, build(t, folders, tt.opts).Image)

			opts := tt.opts
			if got := digest(t, build(t, archives, opts).Image); got != want {
				t.Errorf("no caches: digest %s, from folders %s", got, want)
			}
			opts.LayerCache = t.TempDir()
			if got := digest(t, build(t, archives, opts).Image); got != want {
				t.Errorf("cold: digest %s, from folders %s", got, want)
			}
			listings, _ := filepath.Glob(filepath.Join(opts.LayerCache, "listings", "*.json"))
			if len(listings) != len(archives) {
				t.Errorf("%d listings cached, want %d", len(listings), len(archives))
			}

			// Warm: nothing is read from the archives.
			moved := t.TempDir()
			for _, p := range archives {
				if err := os.Rename(p.TarballPath, filepath.Join(moved, filepath.Base(p.TarballPath))); err != nil {
					t.Fatal(err)
				}
			}
			if got := digest(t, build(t, archives, opts).Image); got != want {
				t.Errorf("warm: digest %s, from folders %s", got, want)
			}
			for _, p := range archives {
				if err := os.Rename(filepath.Join(moved, filepath.Base(p.TarballPath)), p.TarballPath); err != nil {
					t.Fatal(err)
				}
			}

			// Listed, but no layer cached: content is read when writing.
			blobs, _ := filepath.Glob(filepath.Join(opts.LayerCache, "*.tar*"))
			if len(blobs) == 0 {
				t.Fatal("no layer cached")
			}
			for _, b := range blobs {
				os.Remove(b)
			}
			if got := digest(t, build(t, archives, opts).Image); got != want {
				t.Errorf("listed, layers not cached: digest %s, from folders %s", got, want)
			}
		})
	}
}

// TestBuildStaleListing: a listing that no longer matches its archive (the
// archive replaced behind the cache's back) fails the build rather than
// making a wrong image.
func TestBuildStaleListing(t *testing.T) {
	_, archives := bothForms(t, testEnv("v1"))
	opts := Options{LayerCache: t.TempDir()}
	build(t, archives, opts)
	blobs, _ := filepath.Glob(filepath.Join(opts.LayerCache, "*.tar*"))
	for _, b := range blobs {
		os.Remove(b)
	}
	// python's archive now holds another payload under the same name.
	_, other := bothForms(t, testEnv("v2-other"))
	for i, p := range archives {
		if p.Record.Name != "python" {
			continue
		}
		b, err := os.ReadFile(other[i].TarballPath)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.TarballPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts.WorkDir = t.TempDir()
	_, err := Build(t.Context(), empty.Image, archives, opts)
	if err == nil {
		t.Fatal("built from a listing that does not match its archive")
	}
	t.Log(err)
}

// TestBuildVerifiesWhatItReads: an archive the package cache left pending
// is made ready (downloaded or verified) once before it is read, and not at
// all by a rebuild whose listings and layers are cached; a failure fails
// the build.
func TestBuildVerifiesWhatItReads(t *testing.T) {
	_, archives := bothForms(t, testEnv("v1"))
	var calls atomic.Int32
	fail := false
	for _, p := range archives {
		p.Ready = func() error {
			calls.Add(1)
			if fail {
				return errors.New("sha256 differs")
			}
			return nil
		}
	}
	opts := Options{LayerCache: t.TempDir()}
	build(t, archives, opts)
	if n := calls.Load(); n != int32(len(archives)) {
		t.Errorf("cold build readied %d archives, want each of %d once", n, len(archives))
	}
	calls.Store(0)
	build(t, archives, opts)
	if n := calls.Load(); n != 0 {
		t.Errorf("warm build readied %d archives, want none", n)
	}
	fail = true
	opts.LayerCache, opts.WorkDir = t.TempDir(), t.TempDir()
	if _, err := Build(t.Context(), empty.Image, archives, opts); err == nil || !strings.Contains(err.Error(), "sha256 differs") {
		t.Errorf("build from archives that cannot be readied: %v", err)
	}
}

// TestSweepScratch: the scratch python of a build killed an hour ago or
// more is removed from the RAM folder by the next build; a running build's
// and other files are left.
func TestSweepScratch(t *testing.T) {
	dir := t.TempDir()
	old := shmDir
	shmDir = dir
	t.Cleanup(func() { shmDir = old })
	mk := func(name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(p, "bin"), 0o700); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := mk("condabox-python-111", 2*time.Hour)
	running := mk("condabox-python-222", time.Minute)
	other := mk("someone-else-333", 2*time.Hour)
	exe, mm := hostPython(t)
	_, archives := bothForms(t, pycEnv(exe, mm, true))
	build(t, archives, Options{CompilePyc: true})
	for p, want := range map[string]bool{stale: false, running: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	// The build's own scratch python is gone too.
	left, _ := filepath.Glob(filepath.Join(dir, "condabox-python-*"))
	if len(left) != 1 {
		t.Errorf("RAM folder holds %q, want only the running build's", left)
	}
}
