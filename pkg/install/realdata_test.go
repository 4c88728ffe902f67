package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rattlerPackages extracts real packages from shared/realdata/packages/rattler
// by file name (under dir) and returns them in the given order.
func rattlerPackages(t *testing.T, dir string, files ...string) []*Package {
	t.Helper()
	root := filepath.Join(sharedRealdata(t), "packages", "rattler", dir)
	var out []*Package
	for _, f := range files {
		out = append(out, extractPackage(t, filepath.Join(root, f), "https://conda.anaconda.org/rattler-test"))
	}
	return out
}

// fakePython is a python package without files: enough for noarch python
// packages to know the environment's python version.
func fakePython(t *testing.T) *Package {
	return testPkg{name: "python", version: "3.11.9"}.write(t, t.TempDir())
}

// TestRattlerClobbers installs rattler's clobbering packages: the last
// package in transaction order wins each path, the clobber is reported,
// and removing the winner restores the file of the next owner.
func TestRattlerClobbers(t *testing.T) {
	tests := []struct {
		name    string
		dir     string
		files   []string
		path    string
		winner  string // dist whose file is at path
		remove  string // package name to remove then
		restore string // dist whose file is at path after the removal
	}{
		{"three packages, one file", "clobber",
			[]string{"clobber-1-0.1.0-h4616a5c_0.tar.bz2", "clobber-2-0.1.0-h4616a5c_0.tar.bz2", "clobber-3-0.1.0-h4616a5c_0.tar.bz2"},
			"clobber.txt", "clobber-3-0.1.0-h4616a5c_0", "clobber-3", "clobber-2-0.1.0-h4616a5c_0"},
		{"order follows depends, not names", "clobber",
			[]string{"clobber-nested-1-0.1.0-h4616a5c_0.tar.bz2", "clobber-nested-2-0.1.0-h4616a5c_0.tar.bz2", "clobber-nested-3-0.1.0-h4616a5c_0.tar.bz2"},
			"clobber/bobber/clobber.txt", "clobber-nested-2-0.1.0-h4616a5c_0", "clobber-nested-2", "clobber-nested-1-0.1.0-h4616a5c_0"},
		{"softlinks", "clobber",
			[]string{"clobber-with-symlink-a-0.1.0-h4616a5c_0.conda", "clobber-with-symlink-b-0.1.0-h4616a5c_0.conda"},
			"lib/clobber.so", "clobber-with-symlink-b-0.1.0-h4616a5c_0", "clobber-with-symlink-b", "clobber-with-symlink-a-0.1.0-h4616a5c_0"},
		{"noarch python", "clobber",
			[]string{"clobber-pynoarch-1-0.1.0-pyh4616a5c_0.tar.bz2", "clobber-pynoarch-2-0.1.0-pyh4616a5c_0.tar.bz2"},
			"lib/python3.11/site-packages/clobber/clobber.py", "clobber-pynoarch-2-0.1.0-pyh4616a5c_0", "clobber-pynoarch-2", "clobber-pynoarch-1-0.1.0-pyh4616a5c_0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkgs := append(rattlerPackages(t, tc.dir, tc.files...), fakePython(t))
			byDist := map[string]*Package{}
			for _, p := range pkgs {
				byDist[p.Record.Dist()] = p
			}
			prefix := filepath.Join(t.TempDir(), "env")
			var warnings []string
			opts := Options{Warnf: func(f string, a ...any) { warnings = append(warnings, f) }}
			res, err := Sync(context.Background(), prefix, pkgs, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(res.Clobbers, func(c Clobber) bool { return c.Path == tc.path && c.Winner == tc.winner }) || len(warnings) != len(res.Clobbers) {
				t.Errorf("clobbers %+v (%d warnings), want %s won by %s", res.Clobbers, len(warnings), tc.path, tc.winner)
			}
			checkFileFrom(t, prefix, tc.path, byDist[tc.winner], pkgPathOf(tc.path))
			if _, err := Remove(context.Background(), prefix, []string{tc.remove}, opts); err != nil {
				t.Fatal(err)
			}
			checkFileFrom(t, prefix, tc.path, byDist[tc.restore], pkgPathOf(tc.path))
		})
	}
}

// pkgPathOf maps a prefix path of these tests back to the package path.
func pkgPathOf(p string) string {
	if rest, ok := strings.CutPrefix(p, "lib/python3.11/site-packages/"); ok {
		return "site-packages/" + rest
	}
	return p
}

// checkFileFrom checks that prefix/path is the file (or link) pkgPath of pkg.
func checkFileFrom(t *testing.T, prefix, path string, pkg *Package, pkgPath string) {
	t.Helper()
	got, want := filepath.Join(prefix, path), filepath.Join(pkg.Dir, pkgPath)
	if target, err := os.Readlink(want); err == nil {
		if gotTarget, err := os.Readlink(got); err != nil || gotTarget != target {
			t.Errorf("%s links to %q (%v), want %q as in %s", path, gotTarget, err, target, pkg.Record.Dist())
		}
		return
	}
	gb, err := os.ReadFile(got)
	must(t, err)
	wb, err := os.ReadFile(want)
	must(t, err)
	if string(gb) != string(wb) {
		t.Errorf("%s holds %q, want %q from %s", path, gb, wb, pkg.Record.Dist())
	}
}

// TestRattlerPackages installs, updates and removes rattler's real test
// packages for link scripts, directories and an empty package.
func TestRattlerPackages(t *testing.T) {
	t.Run("link scripts", func(t *testing.T) {
		pkgs := rattlerPackages(t, "link-scripts", "link-scripts-0.1.0-h4616a5c_0.conda")
		prefix := filepath.Join(t.TempDir(), "env")
		res, err := Sync(context.Background(), prefix, pkgs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Messages, "This is a post-link script that just ran") {
			t.Errorf("messages %q", res.Messages)
		}
		if _, err := os.Stat(filepath.Join(prefix, "i-was-post-linked")); err != nil {
			t.Errorf("post-link script did not run: %v", err)
		}
		if _, err := os.Stat(filepath.Join(prefix, messagesFile)); !os.IsNotExist(err) {
			t.Errorf(".messages.txt left after the transaction (%v)", err)
		}
		if _, err := Remove(context.Background(), prefix, []string{"link-scripts"}, Options{}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(prefix, "i-was-post-linked")); !os.IsNotExist(err) {
			t.Errorf("pre-unlink script did not remove the marker (%v)", err)
		}
		checkConsistent(t, prefix)
	})
	t.Run("link scripts skipped", func(t *testing.T) {
		pkgs := rattlerPackages(t, "link-scripts", "link-scripts-0.1.0-h4616a5c_0.conda")
		prefix := filepath.Join(t.TempDir(), "env")
		res, err := Sync(context.Background(), prefix, pkgs, Options{SkipLinkScripts: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(prefix, "i-was-post-linked")); !os.IsNotExist(err) || res.Messages != "" {
			t.Errorf("the post-link script ran (%v, messages %q)", err, res.Messages)
		}
		if _, err := Remove(context.Background(), prefix, []string{"link-scripts"}, Options{SkipLinkScripts: true}); err != nil {
			t.Fatal(err)
		}
		checkConsistent(t, prefix)
	})
	t.Run("directory becomes a file on update", func(t *testing.T) {
		v1 := rattlerPackages(t, "clobber", "clobber-directory-upgrade-0.1.0-h4616a5c_0.conda")
		v2 := rattlerPackages(t, "clobber", "clobber-directory-upgrade-0.2.0-h4616a5c_0.conda")
		prefix := filepath.Join(t.TempDir(), "env")
		for _, target := range [][]*Package{v1, v2, v1} {
			if _, err := Sync(context.Background(), prefix, target, Options{}); err != nil {
				t.Fatal(err)
			}
			checkConsistent(t, prefix)
			if got := installedDists(t, prefix); !slices.Equal(got, []string{target[0].Record.Dist()}) {
				t.Errorf("installed %v, want %s", got, target[0].Record.Dist())
			}
		}
	})
	t.Run("empty package", func(t *testing.T) {
		pkgs := rattlerPackages(t, "packages", "empty-0.1.0-h4616a5c_0.conda")
		prefix := filepath.Join(t.TempDir(), "env")
		if _, err := Sync(context.Background(), prefix, pkgs, Options{}); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadPrefix(prefix)
		must(t, err)
		if len(recs) != 1 || len(recs[0].Files) != 0 {
			t.Errorf("records %+v", recs)
		}
		checkConsistent(t, prefix)
	})
	t.Run("a file where another package has a directory", func(t *testing.T) {
		pkgs := rattlerPackages(t, "clobber", "clobber-fd-1-0.1.0-h4616a5c_0.conda", "clobber-fd-2-0.1.0-h4616a5c_0.conda")
		prefix := filepath.Join(t.TempDir(), "env")
		if _, err := Sync(context.Background(), prefix, pkgs[:1], Options{}); err != nil {
			t.Fatal(err)
		}
		_, err := Sync(context.Background(), prefix, pkgs, Options{})
		if err == nil || !strings.Contains(err.Error(), "clobber/clobber-fd-2.txt") {
			t.Errorf("error %v, want one naming clobber/clobber-fd-2.txt", err)
		}
		if got := installedDists(t, prefix); !slices.Equal(got, []string{pkgs[0].Record.Dist()}) {
			t.Errorf("after the failed install: %v", got)
		}
		checkConsistent(t, prefix)
	})
}

// TestFailingPreUnlink removes a package whose pre-unlink script fails: as
// in conda, a warning, and the package is removed all the same.
func TestFailingPreUnlink(t *testing.T) {
	root := t.TempDir()
	pkg := testPkg{name: "stuck", files: []testFile{{path: "bin/.stuck-pre-unlink.sh", content: "exit 1\n"}, {path: "a.txt", content: "a"}}}.write(t, root)
	prefix := filepath.Join(root, "env")
	if _, err := Sync(context.Background(), prefix, []*Package{pkg}, Options{}); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	opts := Options{Warnf: func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }}
	if _, err := Remove(context.Background(), prefix, []string{"stuck"}, opts); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "pre-unlink script of stuck-1.0-h0_0") {
		t.Errorf("warnings %q", warnings)
	}
	if got := installedDists(t, prefix); len(got) != 0 {
		t.Errorf("still installed: %v", got)
	}
	checkConsistent(t, prefix)
}
