package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// cleanJSON is clean --json's output.
type cleanJSON struct {
	PkgsDirs  []string                        `json:"pkgs_dirs"`
	Removed   []cleanEntry                    `json:"removed"`
	Skipped   []struct{ Path, Reason string } `json:"skipped"`
	DryRun    bool                            `json:"dry_run"`
	TotalSize int64                           `json:"total_size"`
	Success   bool                            `json:"success"`
}

// cleanEntry is one removed entry of clean --json.
type cleanEntry struct {
	Kind string `json:"kind"`
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// runClean runs condabox clean --json with args and decodes its report.
func runClean(t *testing.T, args ...string) cleanJSON {
	t.Helper()
	r := runCLI(t, append([]string{"clean", "--json"}, args...)...)
	var out cleanJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 || !out.Success {
		t.Fatalf("clean %q: exit %d, %v\nstdout: %s\nstderr: %s", args, r.code, err, r.stdout, r.stderr)
	}
	return out
}

// removedBy returns "kind name" for each removed entry, name relative to
// the pkgs dir, sorted.
func removedBy(t *testing.T, pkgs string, c cleanJSON) []string {
	t.Helper()
	var out []string
	for _, e := range c.Removed {
		rel, err := filepath.Rel(pkgs, e.Path)
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("removed %s: outside the package cache %s", e.Path, pkgs)
		}
		out = append(out, e.Kind+" "+rel)
	}
	slices.Sort(out)
	return out
}

// createEnv runs condabox create -y with args and fails the test on error.
func createEnv(t *testing.T, args ...string) result {
	t.Helper()
	r := runCLI(t, append([]string{"create", "-y", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("create %q: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	return r
}

// fetched returns the names create --json says it downloaded, sorted.
func fetched(t *testing.T, r result) []string {
	t.Helper()
	var out []string
	for _, e := range decode(t, r).Actions.Fetch {
		var name string
		if err := json.Unmarshal(e["name"], &name); err != nil {
			t.Fatalf("FETCH entry name: %v", err)
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// files lists the paths under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCleanFlags: on a cache filled by create, with one environment using
// greeting and the environment that used hello removed, each flag removes
// its part.
func TestCleanFlags(t *testing.T) {
	ch := "file://" + imageChannel(t)
	// The cache's entries after the creates below: the index cache holds
	// the channel's two subdirs' repodata, its state, names and locks.
	hello, greeting := "hello-1.0-0", "greeting-1.0-0"
	for _, tc := range []struct {
		flags []string
		want  []string // kind and name of what goes, besides the index cache's files
		index bool     // files of the index cache go (its locks with -l)
	}{
		{flags: []string{"-t"}, want: []string{"tarball " + greeting + ".conda", "tarball " + hello + ".conda"}},
		{flags: []string{"--packages"}, want: []string{"package " + hello}},
		{flags: []string{"-l"}, index: true, want: []string{"lock " + greeting + ".lock", "lock " + hello + ".lock"}},
		{flags: []string{"-i"}, index: true},
		{flags: []string{"-a"}, index: true, want: []string{
			"lock " + greeting + ".lock", "lock " + hello + ".lock", "package " + hello,
			"tarball " + greeting + ".conda", "tarball " + hello + ".conda"}},
		{flags: []string{"-a", "--keep-locks"}, index: true, want: []string{
			"package " + hello, "tarball " + greeting + ".conda", "tarball " + hello + ".conda"}},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			home := isolate(t)
			pkgs := filepath.Join(home, "root", "pkgs")
			createEnv(t, "-n", "gone", "--override-channels", "-c", ch, "hello")
			createEnv(t, "-n", "kept", "--override-channels", "-c", ch, "greeting")
			if r := runCLI(t, "env", "remove", "-y", "-n", "gone"); r.code != 0 {
				t.Fatalf("env remove: exit %d\nstderr: %s", r.code, r.stderr)
			}
			before := files(t, pkgs)

			out := runClean(t, tc.flags...)
			var got, index []string
			for _, e := range removedBy(t, pkgs, out) {
				if strings.Contains(e, " cache/") {
					index = append(index, e)
				} else {
					got = append(got, e)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("removed %q\nwant    %q", got, tc.want)
			}
			if tc.index != (len(index) > 0) {
				t.Errorf("index cache removed: %q, want removed: %v", index, tc.index)
			}
			var total int64
			for _, e := range out.Removed {
				total += e.Size
				if e.Kind == "tarball" && e.Size == 0 {
					t.Errorf("%s: size 0", e.Path)
				}
				if _, err := os.Lstat(e.Path); !os.IsNotExist(err) {
					t.Errorf("%s still there after clean: %v", e.Path, err)
				}
			}
			if out.TotalSize != total {
				t.Errorf("total size %d, sum of the sizes %d", out.TotalSize, total)
			}
			// What clean did not report is still there.
			for _, rel := range before {
				p := filepath.Join(pkgs, rel)
				if slices.ContainsFunc(out.Removed, func(e cleanEntry) bool { return p == e.Path || strings.HasPrefix(p, e.Path+"/") }) {
					continue
				}
				if _, err := os.Lstat(p); err != nil {
					t.Errorf("%s: gone although not reported removed: %v", rel, err)
				}
			}
		})
	}
}

// TestCleanThenCreate is micromamba-docker's recipe: install -n base -f
// env.yaml, then clean --all --yes. The environment keeps working, a dry
// run removes nothing, and a later create downloads only what clean took.
func TestCleanThenCreate(t *testing.T) {
	home := isolate(t)
	ch := "file://" + imageChannel(t)
	pkgs := filepath.Join(home, "root", "pkgs")
	// As in a micromamba-style base image: base exists, a Dockerfile
	// installs an env.yaml into it, then cleans.
	kept := filepath.Join(home, "root")
	createEnv(t, "-n", "base")
	envYAML := writeFile(t, t.TempDir(), "env.yaml", "channels: ["+ch+"]\ndependencies: [hello]\n")
	if r := runCLI(t, "install", "-y", "-n", "base", "--override-channels", "-f", envYAML); r.code != 0 {
		t.Fatalf("install -n base -f env.yaml: exit %d\nstderr: %s", r.code, r.stderr)
	}

	before := files(t, pkgs)
	dry := runClean(t, "--all", "--dry-run")
	if !dry.DryRun || len(dry.Removed) == 0 {
		t.Fatalf("dry run: %+v, want a dry run listing tarballs and the index cache", dry)
	}
	if after := files(t, pkgs); !slices.Equal(after, before) {
		t.Errorf("clean --dry-run changed the cache:\n%q\nwant\n%q", after, before)
	}

	out := runClean(t, "--all", "--yes")
	for _, e := range removedBy(t, pkgs, out) {
		if strings.HasPrefix(e, "package ") {
			t.Errorf("clean --all removed %s, which base uses", e)
		}
	}
	// No archive and no lock is left; the extracted packages in use are.
	for _, rel := range files(t, pkgs) {
		if strings.HasSuffix(rel, ".conda") || strings.HasSuffix(rel, ".lock") || strings.HasSuffix(rel, ".json") && strings.HasPrefix(rel, "cache/") {
			t.Errorf("%s left after clean --all", rel)
		}
	}
	if r := createEnv(t, "-n", "again", "--override-channels", "-c", ch, "hello"); len(fetched(t, r)) != 0 {
		t.Errorf("create after clean --all downloaded %q: want nothing (the packages in use stay extracted)", fetched(t, r))
	}

	// Every cache entry gone: the environments' files are hard links or
	// copies, so they still work, and create fetches everything again.
	greetingFile := filepath.Join(kept, "share", "greeting.txt")
	if fi, err := os.Stat(greetingFile); err != nil || fi.Sys().(*syscall.Stat_t).Nlink < 2 {
		t.Fatalf("%s: %v: want a hard link into the package cache", greetingFile, err)
	}
	runClean(t, "--force-pkgs-dirs", "-y")
	if entries, err := os.ReadDir(pkgs); err != nil || len(entries) != 0 {
		t.Fatalf("pkgs dir after clean -f: %v, %v: want it empty", entries, err)
	}
	out2, err := os.ReadFile(greetingFile)
	if err != nil || string(out2) != "hello\n" {
		t.Errorf("environment file after clean -f: %q, %v", out2, err)
	}
	hello, err := os.ReadFile(filepath.Join(kept, "bin", "hello"))
	if err != nil || !strings.Contains(string(hello), kept+"/share/greeting.txt") {
		t.Errorf("bin/hello after clean -f: %q, %v", hello, err)
	}
	if got := fetched(t, createEnv(t, "-n", "third", "--override-channels", "-c", ch, "hello")); !slices.Equal(got, []string{"greeting", "hello"}) {
		t.Errorf("create after clean -f downloaded %q, want greeting and hello", got)
	}
}

// TestCleanCommand covers the command's own behaviour: nothing selected,
// the force confirmation and the text report.
func TestCleanCommand(t *testing.T) {
	ch := "file://" + imageChannel(t)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		wantCode    int
		wantOut     []string // substrings of stdout
		wantErr     string
		emptied     bool // the pkgs dir ends empty
	}{
		{name: "nothing selected", args: []string{"clean"}, wantOut: []string{"Nothing to do"}},
		{name: "force declined", args: []string{"clean", "-f"}, stdin: "n\n", wantCode: 1, wantErr: "not confirmed"},
		{name: "force without an answer", args: []string{"clean", "-f"}, wantCode: 1, wantErr: "not confirmed"},
		{name: "force confirmed", args: []string{"clean", "-f"}, stdin: "y\n", emptied: true,
			wantOut: []string{"tarball", "hello-1.0-0.conda", "Removed ", " entries, "}},
		{name: "dry run text", args: []string{"clean", "-a", "--dry-run"},
			wantOut: []string{"Would remove ", "tarball", "greeting-1.0-0.conda"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := isolate(t)
			pkgs := filepath.Join(home, "root", "pkgs")
			createEnv(t, "-n", "one", "--override-channels", "-c", ch, "hello")
			before := files(t, pkgs)
			r := runCLIIn(t, tc.stdin, tc.args...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.wantErr) {
				t.Errorf("exit %d, stderr %q: want exit %d and %q", r.code, r.stderr, tc.wantCode, tc.wantErr)
			}
			for _, s := range tc.wantOut {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			after := files(t, pkgs)
			if tc.emptied {
				if !slices.Equal(after, []string{"."}) {
					t.Errorf("pkgs dir after %q: %q, want it empty", tc.args, after)
				}
			} else if !slices.Equal(after, before) {
				t.Errorf("pkgs dir changed by %q:\n%q\nwant\n%q", tc.args, after, before)
			}
		})
	}
}

// TestCleanBuildCache: --build-cache lists (--dry-run) and removes build's
// layer cache, which -a leaves; the next build compresses its layers again
// and gives the same image.
func TestCleanBuildCache(t *testing.T) {
	home, build := helloBuilder(t)
	cache := filepath.Join(home, "cache", "condabox", "image-layers")
	first := build()
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("no layer cache after a build: %v", err)
	}
	if r := runCLI(t, "clean", "-a", "-y"); r.code != 0 {
		t.Fatalf("clean -a: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("clean -a removed the layer cache: %v", err)
	}
	r := runCLI(t, "clean", "--build-cache", "--dry-run", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"kind": "build-cache"`) || !strings.Contains(r.stdout, cache) {
		t.Errorf("clean --build-cache --dry-run: exit %d, stdout %s", r.code, r.stdout)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("--dry-run removed the layer cache: %v", err)
	}
	if r := runCLI(t, "clean", "--build-cache"); r.code != 0 || !strings.Contains(r.stdout, "build-cache") {
		t.Errorf("clean --build-cache: exit %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(cache); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after clean --build-cache: %v", err)
	}
	if again := build(); again != first {
		t.Errorf("rebuilt without the cache: digest %s, before %s", again, first)
	}
	// Nothing to remove: no entry, success.
	if r := runCLI(t, "clean", "--build-cache"); r.code != 0 {
		t.Errorf("clean --build-cache of a missing cache: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestCleanTrash: --trash removes the *.conda_trash and *.mamba_trash files
// conda and mamba leave in environments, each once, and never what a
// condabox transaction's journal keeps in .condabox-trash.
func TestCleanTrash(t *testing.T) {
	ch := "file://" + imageChannel(t)
	home := isolate(t)
	createEnv(t, "-n", "one", "--override-channels", "-c", ch, "hello")
	base := filepath.Join(home, "root")
	mkdir(t, filepath.Join(base, "conda-meta")) // base is an environment too
	env := filepath.Join(base, "envs", "one")
	planted := []string{
		writeFile(t, mkdir(t, filepath.Join(env, "lib")), "libold.so.mamba_trash", "x"),
		writeFile(t, env, "bin.conda_trash", "x"),
		writeFile(t, mkdir(t, filepath.Join(base, "lib")), "base.mamba_trash", "x"),
	}
	kept := []string{
		writeFile(t, mkdir(t, filepath.Join(env, ".condabox-trash")), "journaled.conda_trash", "x"),
		writeFile(t, env, "not-trash.txt", "x"),
	}
	out := runClean(t, "--trash")
	var got []string
	for _, e := range out.Removed {
		if e.Kind != "trash" {
			t.Errorf("removed %s %s", e.Kind, e.Path)
		}
		got = append(got, e.Path)
	}
	slices.Sort(got)
	slices.Sort(planted)
	if !slices.Equal(got, planted) {
		t.Errorf("removed %q\nwant    %q", got, planted)
	}
	for _, p := range planted {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
}
