package pkgcache_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gofrs/flock"

	"github.com/condabox/condabox/pkg/pkgcache"
)

// cleanFixture is a pkgs directory with something of every kind Clean
// tells apart, and a folder outside it that links point to.
type cleanFixture struct {
	pkgs, outside string
}

// The fixture's entries, relative to the pkgs directory.
var (
	fixtureTarballs  = []string{"unused-2.0-0.tar.bz2", "used-1.0-0.conda"}
	fixturePackages  = []string{"unused-2.0-0"} // used-1.0-0 is in use
	fixtureIndex     = []string{"cache/abcd1234.info.json", "cache/abcd1234.json", "cache/abcd1234.lock", "cache/abcd1234.names", "cache/shards"}
	fixtureFreeLocks = []string{"free-1.0-0.lock"}
	// held-3.0-0's and ef012345's locks are held by the test.
	fixtureHeldTarball = []string{"held-3.0-0.conda"}
	fixtureHeldPackage = []string{"held-3.0-0"}
	fixtureHeldIndex   = []string{"cache/ef012345.*", "cache/ef012345.lock"}
	fixtureHeldLocks   = []string{"cache/ef012345.lock", "held-3.0-0.lock"}
	// Removed by Force only: a used package, a broken folder, urls.txt,
	// links (never their targets) and a partial download.
	fixtureOther = []string{".other-1.0-0.conda.123.part", "broken.lock", "link-1.0-0", "linked-1.0-0.conda", "urls.txt", "used-1.0-0"}
	// Skipped by Force: a folder whose lock is a link.
	fixtureOtherSkipped = []string{"broken"}
)

func newCleanFixture(t *testing.T) cleanFixture {
	t.Helper()
	root := t.TempDir()
	f := cleanFixture{pkgs: filepath.Join(root, "pkgs"), outside: filepath.Join(root, "outside")}
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(f.pkgs, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, dist := range []string{"used-1.0-0", "unused-2.0-0", "held-3.0-0"} {
		write(dist+"/info/index.json", `{"name": "`+dist+`"}`)
		write(dist+"/lib/data.txt", strings.Repeat("x", 1000))
	}
	write("used-1.0-0.conda", "conda archive")
	write("unused-2.0-0.tar.bz2", "bz2 archive")
	write("held-3.0-0.conda", "held archive")
	write("broken/lib/partial.txt", "no info/index.json")
	write("urls.txt", "https://example.org/used-1.0-0.conda\n")
	write(".other-1.0-0.conda.123.part", "half a download")
	write("free-1.0-0.lock", "")
	write("held-3.0-0.lock", "")
	for _, name := range []string{"abcd1234.json", "abcd1234.info.json", "abcd1234.names", "abcd1234.lock", "ef012345.json", "ef012345.lock"} {
		write("cache/"+name, name)
	}
	write("cache/shards/0123.msgpack.zst", "shard")

	// What the links point to must survive every clean.
	target := filepath.Join(f.outside, "pkg")
	if err := os.MkdirAll(filepath.Join(target, "info"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(target, "info", "index.json"), filepath.Join(f.outside, "archive.conda")} {
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(target, filepath.Join(f.pkgs, "link-1.0-0")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(f.outside, "archive.conda"), filepath.Join(f.pkgs, "linked-1.0-0.conda")); err != nil {
		t.Fatal(err)
	}
	// A lock that is a link out of the cache is never opened (which would
	// create its target): what it guards is skipped; -f removes the link.
	if err := os.Symlink(filepath.Join(f.outside, "not-created.lock"), filepath.Join(f.pkgs, "broken.lock")); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"held-3.0-0.lock", "cache/ef012345.lock"} {
		l := flock.New(filepath.Join(f.pkgs, rel))
		if ok, err := l.TryLock(); !ok || err != nil {
			t.Fatalf("hold %s: %v", rel, err)
		}
		t.Cleanup(func() { l.Unlock() })
	}
	return f
}

// tree lists every path under dir, relative to it, without following links.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if rel, _ := filepath.Rel(dir, p); rel != "." {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// under reports whether rel is one of paths or inside one of them.
func under(rel string, paths []string) bool {
	return slices.ContainsFunc(paths, func(p string) bool { return rel == p || strings.HasPrefix(rel, p+"/") })
}

func cat(lists ...[]string) []string {
	out := slices.Concat(lists...)
	slices.Sort(out)
	return out
}

func TestClean(t *testing.T) {
	inUse := map[string]bool{"used-1.0-0": true}
	all := pkgcache.CleanOptions{IndexCache: true, Tarballs: true, Packages: true, Locks: true, InUse: inUse}
	for _, tc := range []struct {
		name             string
		opts             pkgcache.CleanOptions
		removed, skipped []string
		removedKinds     []string
	}{
		{name: "nothing", opts: pkgcache.CleanOptions{InUse: inUse}},
		{name: "tarballs", opts: pkgcache.CleanOptions{Tarballs: true},
			removed: fixtureTarballs, skipped: fixtureHeldTarball, removedKinds: []string{pkgcache.KindTarball}},
		{name: "packages", opts: pkgcache.CleanOptions{Packages: true, InUse: inUse},
			removed: fixturePackages, skipped: fixtureHeldPackage, removedKinds: []string{pkgcache.KindPackage}},
		{name: "index cache", opts: pkgcache.CleanOptions{IndexCache: true},
			removed: fixtureIndex, skipped: fixtureHeldIndex, removedKinds: []string{pkgcache.KindIndexCache}},
		{name: "locks", opts: pkgcache.CleanOptions{Locks: true},
			removed: cat(fixtureFreeLocks, []string{"cache/abcd1234.lock"}), skipped: fixtureHeldLocks, removedKinds: []string{pkgcache.KindLock}},
		{name: "all", opts: all,
			removed:      cat(fixtureTarballs, fixturePackages, fixtureIndex, fixtureFreeLocks),
			skipped:      cat(fixtureHeldTarball, fixtureHeldPackage, fixtureHeldIndex, []string{"held-3.0-0.lock"}),
			removedKinds: []string{pkgcache.KindIndexCache, pkgcache.KindTarball, pkgcache.KindPackage, pkgcache.KindLock}},
		{name: "dry run", opts: func() pkgcache.CleanOptions { o := all; o.DryRun = true; return o }(),
			removed:      cat(fixtureTarballs, fixturePackages, fixtureIndex, fixtureFreeLocks),
			skipped:      cat(fixtureHeldTarball, fixtureHeldPackage, fixtureHeldIndex, []string{"held-3.0-0.lock"}),
			removedKinds: []string{pkgcache.KindIndexCache, pkgcache.KindTarball, pkgcache.KindPackage, pkgcache.KindLock}},
		{name: "force", opts: pkgcache.CleanOptions{Force: true, InUse: inUse},
			removed:      cat(fixtureTarballs, fixturePackages, fixtureIndex, fixtureFreeLocks, fixtureOther),
			skipped:      cat(fixtureHeldTarball, fixtureHeldPackage, fixtureHeldIndex, []string{"held-3.0-0.lock"}, fixtureOtherSkipped),
			removedKinds: []string{pkgcache.KindIndexCache, pkgcache.KindTarball, pkgcache.KindPackage, pkgcache.KindLock, pkgcache.KindOther}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCleanFixture(t)
			before, outsideBefore := tree(t, f.pkgs), tree(t, f.outside)
			report, err := pkgcache.Clean(t.Context(), []string{f.pkgs, filepath.Join(f.outside, "missing")}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(report.Dirs, []string{f.pkgs}) || report.DryRun != tc.opts.DryRun {
				t.Errorf("report dirs %q, dry run %v: want only the existing pkgs dir, dry run %v", report.Dirs, report.DryRun, tc.opts.DryRun)
			}
			var removed, skipped, kinds []string
			var total int64
			for _, e := range report.Removed {
				rel, _ := filepath.Rel(f.pkgs, e.Path)
				removed = append(removed, rel)
				if !slices.Contains(kinds, e.Kind) {
					kinds = append(kinds, e.Kind)
				}
				total += e.Size
			}
			for _, s := range report.Skipped {
				rel, _ := filepath.Rel(f.pkgs, s.Path)
				skipped = append(skipped, rel)
			}
			slices.Sort(removed)
			slices.Sort(skipped)
			slices.Sort(kinds)
			want := slices.Clone(tc.removedKinds)
			slices.Sort(want)
			if !slices.Equal(removed, tc.removed) {
				t.Errorf("removed %q\nwant    %q", removed, tc.removed)
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("skipped %q\nwant    %q", skipped, tc.skipped)
			}
			if !slices.Equal(kinds, want) {
				t.Errorf("kinds %q, want %q", kinds, want)
			}
			if total != report.TotalSize() {
				t.Errorf("TotalSize %d, sum of sizes %d", report.TotalSize(), total)
			}

			// On disk: exactly the removed entries are gone (none on a dry
			// run), no lock file was left behind, nothing outside changed.
			gone := tc.removed
			if tc.opts.DryRun {
				gone = nil
			}
			var wantAfter []string
			for _, rel := range before {
				if !under(rel, gone) {
					wantAfter = append(wantAfter, rel)
				}
			}
			if after := tree(t, f.pkgs); !slices.Equal(after, wantAfter) {
				t.Errorf("pkgs dir after clean:\n%q\nwant\n%q", after, wantAfter)
			}
			if after := tree(t, f.outside); !slices.Equal(after, outsideBefore) {
				t.Errorf("outside the cache after clean: %q, want %q", after, outsideBefore)
			}
		})
	}
}

// TestCleanSizes checks the reported sizes: a folder counts its regular
// files, a link counts nothing.
func TestCleanSizes(t *testing.T) {
	f := newCleanFixture(t)
	report, err := pkgcache.Clean(t.Context(), []string{f.pkgs}, pkgcache.CleanOptions{Force: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"unused-2.0-0":         int64(len(`{"name": "unused-2.0-0"}`) + 1000),
		"unused-2.0-0.tar.bz2": int64(len("bz2 archive")),
		"link-1.0-0":           0,
		"linked-1.0-0.conda":   0,
		"cache/shards":         int64(len("shard")),
	}
	for _, e := range report.Removed {
		rel, _ := filepath.Rel(f.pkgs, e.Path)
		if size, ok := want[rel]; ok {
			if e.Size != size {
				t.Errorf("%s: size %d, want %d", rel, e.Size, size)
			}
			delete(want, rel)
		}
	}
	if len(want) > 0 {
		t.Errorf("not reported: %v", want)
	}
}

// TestCleanKeepsHardLinkedFiles: an environment's files are hard links into
// the cache; removing the cache's folder leaves them whole.
func TestCleanKeepsHardLinkedFiles(t *testing.T) {
	f := newCleanFixture(t)
	linked := filepath.Join(t.TempDir(), "data.txt")
	if err := os.Link(filepath.Join(f.pkgs, "unused-2.0-0", "lib", "data.txt"), linked); err != nil {
		t.Fatal(err)
	}
	if _, err := pkgcache.Clean(t.Context(), []string{f.pkgs}, pkgcache.CleanOptions{Packages: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(f.pkgs, "unused-2.0-0")); !os.IsNotExist(err) {
		t.Fatalf("unused-2.0-0 still in the cache: %v", err)
	}
	if b, err := os.ReadFile(linked); err != nil || string(b) != strings.Repeat("x", 1000) {
		t.Errorf("hard-linked file after clean: %q, %v", b, err)
	}
}

// TestCleanNotADirectory: a pkgs dir that is a file is an error naming it;
// the other dirs are still cleaned.
func TestCleanNotADirectory(t *testing.T) {
	f := newCleanFixture(t)
	file := filepath.Join(t.TempDir(), "pkgs")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	report, err := pkgcache.Clean(t.Context(), []string{file, f.pkgs}, pkgcache.CleanOptions{Tarballs: true})
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("error %v: want one naming %s as not a directory", err, file)
	}
	if len(report.Removed) != len(fixtureTarballs) {
		t.Errorf("removed %v: want the tarballs of %s", report.Removed, f.pkgs)
	}
}

// FuzzCleanNames puts an entry of any name (a file, a folder holding
// info/index.json, or a link out of the cache) in a pkgs directory and
// cleans it with every option: nothing outside the directory may change,
// and every removed path must lie directly inside it.
func FuzzCleanNames(f *testing.F) {
	for _, name := range []string{"a-1-0.conda", "a-1-0", ".a-1-0.conda.1.part", ".a-1-0.extract-1", "a.lock", "cache", "urls.txt", ".tmp-x.json-1", "a.tar.bz2.lock"} {
		f.Add(name, uint8(0))
		f.Add(name, uint8(1))
		f.Add(name, uint8(2))
	}
	f.Fuzz(func(t *testing.T, name string, shape uint8) {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || len(name) > 200 {
			t.Skip("not a file name")
		}
		root := t.TempDir()
		pkgs, outside := filepath.Join(root, "pkgs"), filepath.Join(root, "outside")
		for _, d := range []string{filepath.Join(pkgs, "cache"), filepath.Join(outside, "info")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(outside, "info", "index.json"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(pkgs, name)
		var err error
		switch shape % 3 {
		case 0:
			err = os.WriteFile(p, []byte("x"), 0o644)
		case 1:
			if err = os.MkdirAll(filepath.Join(p, "info"), 0o755); err == nil {
				err = os.WriteFile(filepath.Join(p, "info", "index.json"), []byte("{}"), 0o644)
			}
		case 2:
			err = os.Symlink(outside, p)
		}
		if err != nil {
			t.Skip(err) // e.g. "cache" as a file where the folder is
		}
		// The same name in the index cache too.
		if err := os.WriteFile(filepath.Join(pkgs, "cache", name), []byte("y"), 0o644); err != nil && name != "cache" {
			t.Fatal(err)
		}
		before := tree(t, outside)
		for _, opts := range []pkgcache.CleanOptions{
			{IndexCache: true, Tarballs: true, Packages: true, Locks: true, DryRun: true},
			{IndexCache: true, Tarballs: true, Packages: true, Locks: true},
			{Force: true},
		} {
			report, err := pkgcache.Clean(t.Context(), []string{pkgs}, opts)
			if err != nil {
				t.Fatalf("%+v: %v", opts, err)
			}
			for _, e := range report.Removed {
				if d := filepath.Dir(e.Path); d != pkgs && d != filepath.Join(pkgs, "cache") && e.Path != filepath.Join(pkgs, "cache") {
					t.Errorf("removed %s: not an entry of %s", e.Path, pkgs)
				}
			}
		}
		if after := tree(t, outside); !slices.Equal(after, before) {
			t.Errorf("outside the cache: %q, want %q", after, before)
		}
		if left := tree(t, pkgs); len(left) != 0 {
			t.Errorf("left after clean -f: %q", left)
		}
	})
}

// BenchmarkCleanDryRun lists what clean --all would remove from a cache of
// 300 packages (a folder of 20 files, an archive and a lock each), half of
// them in use: the cost of reading the cache and sizing its entries.
func BenchmarkCleanDryRun(b *testing.B) {
	pkgs := b.TempDir()
	inUse := map[string]bool{}
	for i := range 300 {
		dist := fmt.Sprintf("pkg%03d-1.0-0", i)
		if i%2 == 0 {
			inUse[dist] = true
		}
		for j := range 20 {
			p := filepath.Join(pkgs, dist, "lib", fmt.Sprintf("f%02d", j))
			if j == 0 {
				p = filepath.Join(pkgs, dist, "info", "index.json")
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(dist), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		for _, name := range []string{dist + ".conda", dist + ".lock"} {
			if err := os.WriteFile(filepath.Join(pkgs, name), []byte(dist), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	opts := pkgcache.CleanOptions{IndexCache: true, Tarballs: true, Packages: true, Locks: true, InUse: inUse, DryRun: true}
	for b.Loop() {
		if _, err := pkgcache.Clean(b.Context(), []string{pkgs}, opts); err != nil {
			b.Fatal(err)
		}
	}
}
