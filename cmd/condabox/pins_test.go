package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/conda"
)

// pinChannel writes a channel of real packages: tool 1.0 and 2.0, app 1.0
// (any tool) and app 2.0 (tool >=2).
func pinChannel(t *testing.T) string {
	t.Helper()
	pkg := func(name, version string, depends ...string) *pkgbuild.Package {
		return &pkgbuild.Package{Record: conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: "0",
			Subdir: "noarch", Noarch: conda.NoarchGeneric, Depends: depends, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "share/" + name + ".txt", Mode: 0o644, Data: []byte(name + " " + version + "\n")}}}
	}
	return writeChannel(t, []*pkgbuild.Package{pkg("tool", "1.0"), pkg("tool", "2.0"), pkg("app", "1.0", "tool"), pkg("app", "2.0", "tool >=2")})
}

// TestPinnedPackages: .condarc's pinned_packages hold for create, an
// environment's conda-meta/pinned for install, and install
// --freeze-installed keeps every installed package not named.
func TestPinnedPackages(t *testing.T) {
	ch := "file://" + pinChannel(t)
	home := isolate(t)
	common := []string{"-y", "--override-channels", "-c", ch}
	version := func(prefix, name string) string {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(prefix, "conda-meta", name+"-*.json"))
		if len(files) != 1 {
			return ""
		}
		return strings.Split(filepath.Base(files[0]), "-")[1]
	}

	// .condarc's pin: the newest tool is 2.0, the pin keeps 1.x.
	writeFile(t, home, ".condarc", "pinned_packages:\n  - tool 1.*\n")
	prefix := filepath.Join(t.TempDir(), "env")
	if r := runCLI(t, append([]string{"create", "-p", prefix, "app"}, common...)...); r.code != 0 || version(prefix, "tool") != "1.0" || version(prefix, "app") != "1.0" {
		t.Fatalf("create app with tool pinned to 1.*: exit %d, tool %q, app %q\nstderr: %s", r.code, version(prefix, "tool"), version(prefix, "app"), r.stderr)
	}
	r := runCLI(t, append([]string{"install", "-p", prefix, "app=2"}, common...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "pin") {
		t.Fatalf("install app=2 against the pin: exit %d\nstderr: %s", r.code, r.stderr)
	}
	unpinned := filepath.Join(t.TempDir(), "unpinned")
	if r := runCLI(t, append([]string{"create", "--no-pin", "-p", unpinned, "app"}, common...)...); r.code != 0 || version(unpinned, "tool") != "2.0" {
		t.Errorf("create --no-pin app: exit %d, tool %q, want 2.0\nstderr: %s", r.code, version(unpinned, "tool"), r.stderr)
	}
	writeFile(t, home, ".condarc", "pinned_packages:\n  - 'tool >>1'\n")
	if r := runCLI(t, append([]string{"install", "-p", prefix, "app"}, common...)...); r.code == 0 || !strings.Contains(r.stderr, `pinned package "tool >>1"`) {
		t.Errorf("a bad pin: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if err := os.Remove(filepath.Join(home, ".condarc")); err != nil {
		t.Fatal(err)
	}

	// The environment's conda-meta/pinned.
	pinned := writeFile(t, filepath.Join(prefix, "conda-meta"), "pinned", "# keep tool\ntool 1.*\n")
	if r := runCLI(t, append([]string{"install", "-p", prefix, "app=2"}, common...)...); r.code == 0 {
		t.Errorf("install app=2 with conda-meta/pinned holding tool 1.*: exit 0, tool %s", version(prefix, "tool"))
	}
	if r := runCLI(t, append([]string{"install", "--dry-run", "--no-pin", "-p", prefix, "app=2"}, common...)...); r.code != 0 {
		t.Errorf("install --no-pin app=2 with conda-meta/pinned: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if err := os.Remove(pinned); err != nil {
		t.Fatal(err)
	}

	// --freeze-installed: app may change, tool may not.
	r = runCLI(t, append([]string{"install", "-p", prefix, "--freeze-installed", "app=2"}, common...)...)
	if r.code == 0 || version(prefix, "tool") != "1.0" {
		t.Errorf("install --freeze-installed app=2: exit %d, tool %s; want it refused", r.code, version(prefix, "tool"))
	}
	if r := runCLI(t, append([]string{"install", "-p", prefix, "app=2"}, common...)...); r.code != 0 || version(prefix, "tool") != "2.0" || version(prefix, "app") != "2.0" {
		t.Errorf("install app=2 unpinned: exit %d, tool %s, app %s\nstderr: %s", r.code, version(prefix, "tool"), version(prefix, "app"), r.stderr)
	}
}

// TestEnvUpdate: env update -f adds what the file asks for and keeps the
// rest; with --prune it also removes what the file no longer needs. An
// environment that does not exist is not created.
func TestEnvUpdate(t *testing.T) {
	ch := pinChannel(t)
	isolate(t)
	dir := t.TempDir()
	prefix := filepath.Join(dir, "env")
	both := writeFile(t, dir, "both.yml", "channels: [file://"+ch+"]\ndependencies: [app=1]\n")
	toolOnly := writeFile(t, dir, "tool.yml", "channels: [file://"+ch+"]\ndependencies: [tool]\n")
	names := func() []string {
		files, _ := filepath.Glob(filepath.Join(prefix, "conda-meta", "*.json"))
		var out []string
		for _, f := range files {
			out = append(out, strings.SplitN(filepath.Base(f), "-", 2)[0])
		}
		return out
	}
	if r := runCLI(t, "env", "update", "-y", "-p", prefix, "-f", both); r.code == 0 || !strings.Contains(r.stderr, "does not exist") {
		t.Fatalf("env update of a missing environment: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(prefix); err == nil {
		t.Fatal("env update created the environment")
	}
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "-y", "-p", prefix, "-f", both}, "app tool"},
		{[]string{"env", "update", "-y", "-p", prefix, "-f", toolOnly}, "app tool"},
		{[]string{"env", "update", "-y", "-p", prefix, "-f", toolOnly, "--prune"}, "tool"},
	} {
		if r := runCLI(t, step.args...); r.code != 0 || strings.Join(names(), " ") != step.want {
			t.Errorf("condabox %q: exit %d, installed %q, want %q\nstderr: %s", step.args, r.code, names(), step.want, r.stderr)
		}
	}
}

// TestPythonPin: install and update keep an installed python's minor
// version unless a spec (an argument or an -f file's) names python or
// --no-py-pin is given; update --all moves python within that minor
// version only. --freeze-installed lets what an -f file names change.
func TestPythonPin(t *testing.T) {
	pkg := func(name, version string, depends ...string) *pkgbuild.Package {
		return &pkgbuild.Package{Record: conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: "0",
			Subdir: "noarch", Noarch: conda.NoarchGeneric, Depends: depends, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "share/" + name + "-" + version + ".txt", Mode: 0o644, Data: []byte(version)}}}
	}
	ch := writeChannel(t, []*pkgbuild.Package{
		pkg("python", "3.11.0"), pkg("python", "3.11.5"), pkg("python", "3.12.0"),
		pkg("lib", "1.0", "python"), pkg("lib", "2.0", "python >=3.12"),
	})
	isolate(t)
	common := []string{"-y", "--override-channels", "-c", "file://" + ch}
	version := func(prefix, name string) string {
		files, _ := filepath.Glob(filepath.Join(prefix, "conda-meta", name+"-*.json"))
		if len(files) != 1 {
			return ""
		}
		return strings.Split(filepath.Base(files[0]), "-")[1]
	}
	env := func(t *testing.T) string {
		prefix := filepath.Join(t.TempDir(), "env")
		if r := runCLI(t, append([]string{"create", "-p", prefix, "python=3.11.0"}, common...)...); r.code != 0 {
			t.Fatalf("create: exit %d, stderr %s", r.code, r.stderr)
		}
		return prefix
	}
	file := writeFile(t, t.TempDir(), "specs.txt", "lib\npython >=3.12\n")
	for _, tt := range []struct {
		args         []string
		python, lib  string // "" with fail: the request is refused
		fail, reason string
	}{
		{args: []string{"install", "lib"}, python: "3.11.0", lib: "1.0"},
		{args: []string{"install", "--no-py-pin", "lib"}, python: "3.12.0", lib: "2.0"},
		{args: []string{"install", "lib=2"}, fail: "yes", reason: "python 3.11.*"},
		{args: []string{"install", "lib=2", "python"}, python: "3.12.0", lib: "2.0"},
		{args: []string{"install", "-f", file}, python: "3.12.0", lib: "2.0"},
		{args: []string{"install", "--freeze-installed", "-f", file}, python: "3.12.0", lib: "2.0"},
		{args: []string{"update", "--all"}, python: "3.11.5"},
		{args: []string{"update", "--all", "--no-py-pin"}, python: "3.12.0"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			prefix := env(t)
			r := runCLI(t, append(append(slices.Clone(tt.args), "-p", prefix), common...)...)
			if tt.fail != "" {
				if r.code == 0 || !strings.Contains(r.stderr, tt.reason) {
					t.Errorf("exit %d, stderr %q: want it refused, naming %q", r.code, r.stderr, tt.reason)
				}
				return
			}
			if r.code != 0 || version(prefix, "python") != tt.python || version(prefix, "lib") != tt.lib {
				t.Errorf("exit %d: python %q lib %q, want %q %q\nstderr: %s", r.code, version(prefix, "python"), version(prefix, "lib"), tt.python, tt.lib, r.stderr)
			}
		})
	}
}

// TestExcludeNewerFlag: create and lock solve without what was uploaded
// after --exclude-newer; a bad date is an error naming the flag.
func TestExcludeNewerFlag(t *testing.T) {
	pkg := func(version string, uploaded time.Time) *pkgbuild.Package {
		return &pkgbuild.Package{Record: conda.PackageRecord{Name: "tool", Version: conda.MustParseVersion(version), Build: "0",
			Subdir: "noarch", Noarch: conda.NoarchGeneric, License: "MIT", Timestamp: uploaded.UnixMilli()},
			Files: []pkgbuild.File{{Path: "share/tool.txt", Mode: 0o644, Data: []byte(version)}}}
	}
	ch := "file://" + writeChannel(t, []*pkgbuild.Package{
		pkg("1.0", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), pkg("2.0", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)),
	})
	isolate(t)
	common := []string{"--override-channels", "-c", ch}
	for _, cutoff := range []string{"2024-03-01", "2024-05-31T23:59:59Z"} {
		prefix := filepath.Join(t.TempDir(), "env")
		r := runCLI(t, append([]string{"create", "-y", "-p", prefix, "tool", "--exclude-newer", cutoff}, common...)...)
		if b, _ := os.ReadFile(filepath.Join(prefix, "share", "tool.txt")); r.code != 0 || string(b) != "1.0" {
			t.Errorf("--exclude-newer %s: exit %d, tool %q, want 1.0\nstderr: %s", cutoff, r.code, b, r.stderr)
		}
	}
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yml", "channels: ["+ch+"]\ndependencies: [tool]\n")
	lockFile := filepath.Join(dir, "conda-lock.yml")
	if r := runCLI(t, "lock", "-f", envFile, "-p", "linux-64", "--lockfile", lockFile, "--exclude-newer", "2024-03-01"); r.code != 0 {
		t.Fatalf("lock: exit %d, stderr %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(lockFile); !strings.Contains(string(b), "tool-1.0-0.conda") || strings.Contains(string(b), "tool-2.0") {
		t.Errorf("the lock holds:\n%s", b)
	}
	if r := runCLI(t, append([]string{"create", "-y", "-p", filepath.Join(t.TempDir(), "e"), "tool", "--exclude-newer", "last week"}, common...)...); r.code == 0 || !strings.Contains(r.stderr, `invalid argument "last week" for "--exclude-newer" flag: want a date`) {
		t.Errorf("a bad date: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestSkipLinkScripts: a package's post-link and pre-unlink scripts run
// unless --skip-run-link-scripts.
func TestSkipLinkScripts(t *testing.T) {
	script := "#!/bin/sh\necho ran >> \"$PREFIX/post-linked\"\n"
	ch := "file://" + writeChannel(t, []*pkgbuild.Package{{
		Record: conda.PackageRecord{Name: "scripted", Version: conda.MustParseVersion("1.0"), Build: "0",
			Subdir: "noarch", Noarch: conda.NoarchGeneric, License: "MIT", Timestamp: 1700000000000},
		Files: []pkgbuild.File{{Path: "bin/.scripted-post-link.sh", Mode: 0o755, Data: []byte(script)}},
	}})
	isolate(t)
	for _, tt := range []struct {
		flags []string
		ran   bool
	}{{nil, true}, {[]string{"--skip-run-link-scripts"}, false}} {
		prefix := filepath.Join(t.TempDir(), "env")
		r := runCLI(t, append([]string{"create", "-y", "-p", prefix, "--override-channels", "-c", ch, "scripted"}, tt.flags...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d, stderr %s", tt.flags, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(prefix, "post-linked")); (err == nil) != tt.ran {
			t.Errorf("%v: the post-link script ran: %v, want %v", tt.flags, err == nil, tt.ran)
		}
	}
}

// pinEnv isolates the test and creates an environment of specs from
// pinChannel; it returns the environment's folder and the channel's URL.
func pinEnv(t *testing.T, specs ...string) (prefix, ch string) {
	t.Helper()
	ch = "file://" + pinChannel(t)
	isolate(t)
	prefix = filepath.Join(t.TempDir(), "env")
	if r := runCLI(t, append([]string{"create", "-y", "-p", prefix, "--override-channels", "-c", ch}, specs...)...); r.code != 0 {
		t.Fatalf("create: exit %d, stderr %s", r.code, r.stderr)
	}
	return prefix, ch
}

// TestRemoveAll: remove --all takes out every package and leaves an empty
// environment that install can fill again; with names it is refused.
func TestRemoveAll(t *testing.T) {
	prefix, ch := pinEnv(t, "app")
	if r := runCLI(t, "remove", "-y", "-p", prefix, "--all", "app"); r.code == 0 || !strings.Contains(r.stderr, "takes no package names") {
		t.Errorf("remove --all app: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, "remove", "-y", "-p", prefix); r.code == 0 || !strings.Contains(r.stderr, "name packages or give --all") {
		t.Errorf("remove without names: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runCLI(t, "remove", "-y", "-p", prefix, "--all"); r.code != 0 {
		t.Fatalf("remove --all: exit %d, stderr %s", r.code, r.stderr)
	}
	recs, _ := filepath.Glob(filepath.Join(prefix, "conda-meta", "*.json"))
	files, _ := filepath.Glob(filepath.Join(prefix, "share", "*"))
	if len(recs) != 0 || len(files) != 0 {
		t.Errorf("after remove --all: records %v, files %v", recs, files)
	}
	if r := runCLI(t, "install", "-y", "-p", prefix, "--override-channels", "-c", ch, "tool"); r.code != 0 {
		t.Errorf("install into the emptied environment: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestNoDefaults: "nodefaults" among an environment file's channels is no
// channel: it leaves .condarc's channels out, as conda does; "defaults"
// stands for .condarc's default_channels.
func TestNoDefaults(t *testing.T) {
	ch := "file://" + pinChannel(t)
	home := isolate(t)
	// A configured channel that would fail the solve if it were used.
	writeFile(t, home, ".condarc", "channels: [file://"+filepath.Join(home, "no-such-channel")+"]\n")
	dir := t.TempDir()
	with := writeFile(t, dir, "env.yml", "channels: ["+ch+", nodefaults]\ndependencies: [tool]\n")
	without := writeFile(t, dir, "plain.yml", "channels: ["+ch+"]\ndependencies: [tool]\n")
	if r := runCLI(t, "create", "--dry-run", "-p", filepath.Join(dir, "e"), "-f", with); r.code != 0 {
		t.Errorf("nodefaults: exit %d, stderr %s", r.code, r.stderr)
	}
	if r := runCLI(t, "create", "--dry-run", "-p", filepath.Join(dir, "e"), "-f", without); r.code == 0 || !strings.Contains(r.stderr, "no-such-channel") {
		t.Errorf("without nodefaults the configured channel counts: exit %d, stderr %q", r.code, r.stderr)
	}
	// "defaults" stands for default_channels, and is an error without them.
	defaults := writeFile(t, dir, "defaults.yml", "channels: [defaults]\ndependencies: [tool]\n")
	if r := runCLI(t, "create", "--dry-run", "-p", filepath.Join(dir, "e"), "-f", defaults, "--override-channels"); r.code == 0 || !strings.Contains(r.stderr, "default_channels, which are not set") {
		t.Errorf("defaults without default_channels: exit %d, stderr %q", r.code, r.stderr)
	}
	rc := writeFile(t, dir, "condarc", "default_channels: ["+ch+"]\n")
	if r := runCLI(t, "create", "--dry-run", "-p", filepath.Join(dir, "e"), "-f", defaults, "--override-channels", "--rc-file", rc); r.code != 0 {
		t.Errorf("defaults with default_channels: exit %d, stderr %s", r.code, r.stderr)
	}
	lockFile := filepath.Join(dir, "conda-lock.yml")
	if r := runCLI(t, "lock", "-f", with, "-p", "linux-64", "--lockfile", lockFile); r.code != 0 {
		t.Fatalf("lock with nodefaults: exit %d, stderr %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(lockFile); strings.Contains(string(b), "nodefaults") || strings.Contains(string(b), "no-such-channel") {
		t.Errorf("the lock names nodefaults or the configured channel:\n%s", b)
	}
}

// TestFileName: create and env create without -n or -p name the
// environment as the file's name: says, as micromamba and conda env create
// do; env update -f finds it the same way; -n still wins.
func TestFileName(t *testing.T) {
	ch := "file://" + pinChannel(t)
	home := isolate(t)
	file := writeFile(t, t.TempDir(), "env.yml", "name: fromfile\nchannels: ["+ch+"]\ndependencies: [tool=1]\n")
	envs := filepath.Join(home, "root", "envs")
	if r := runCLI(t, "env", "create", "-y", "-f", file); r.code != 0 {
		t.Fatalf("env create -f: exit %d, stderr %s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(envs, "fromfile", "share", "tool.txt")); err != nil || string(b) != "tool 1.0\n" {
		t.Errorf("envs/fromfile: %q, %v", b, err)
	}
	writeFile(t, filepath.Dir(file), "env.yml", "name: fromfile\nchannels: ["+ch+"]\ndependencies: [tool=2]\n")
	if r := runCLI(t, "env", "update", "-y", "-f", file); r.code != 0 {
		t.Fatalf("env update -f: exit %d, stderr %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(envs, "fromfile", "share", "tool.txt")); string(b) != "tool 2.0\n" {
		t.Errorf("after env update: %q", b)
	}
	if r := runCLI(t, "create", "-y", "-n", "other", "-f", file); r.code != 0 {
		t.Fatalf("create -n other -f: exit %d, stderr %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(envs, "other", "conda-meta")); err != nil {
		t.Errorf("-n other: %v", err)
	}
}

// TestVariables: an environment file's variables: go to conda-meta/state,
// which run's activation sets and env export writes back as variables:;
// a later install adds to them.
func TestVariables(t *testing.T) {
	ch := "file://" + pinChannel(t)
	isolate(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "env.yml", "channels: ["+ch+"]\ndependencies: [tool]\nvariables:\n  FROMFILE: yes it is\n  OTHER: '1'\n")
	prefix := filepath.Join(t.TempDir(), "env")
	if r := runCLI(t, "create", "-y", "-p", prefix, "-f", file); r.code != 0 {
		t.Fatalf("create: exit %d, stderr %s", r.code, r.stderr)
	}
	if r := runCLI(t, "run", "-p", prefix, "sh", "-c", `echo "$FROMFILE|$OTHER"`); strings.TrimSpace(r.stdout) != "yes it is|1" {
		t.Errorf("run: %q, stderr %q", r.stdout, r.stderr)
	}
	more := writeFile(t, dir, "more.yml", "channels: ["+ch+"]\ndependencies: [app]\nvariables: {OTHER: '2', THIRD: x}\n")
	if r := runCLI(t, "install", "-y", "-p", prefix, "-f", more); r.code != 0 {
		t.Fatalf("install: exit %d, stderr %s", r.code, r.stderr)
	}
	r := runCLI(t, "env", "export", "-p", prefix)
	if !strings.Contains(r.stdout, "variables:\n  FROMFILE: yes it is\n  OTHER: \"2\"\n  THIRD: x\n") {
		t.Fatalf("env export:\n%s", r.stdout)
	}
	again := filepath.Join(t.TempDir(), "again")
	if r := runCLI(t, "create", "-y", "-p", again, "-f", writeFile(t, dir, "exported.yml", r.stdout)); r.code != 0 {
		t.Fatalf("create from the export: exit %d, stderr %s", r.code, r.stderr)
	}
	if r := runCLI(t, "run", "-p", again, "sh", "-c", `echo "$FROMFILE|$OTHER|$THIRD"`); strings.TrimSpace(r.stdout) != "yes it is|2|x" {
		t.Errorf("run in the environment made from the export: %q", r.stdout)
	}
}

// TestEnvConfigVars: conda's env config vars set, list and unset keep the
// variables activation sets in conda-meta/state.
func TestEnvConfigVars(t *testing.T) {
	prefix, _ := pinEnv(t, "tool")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"set", "A=1", "B=two words"}, ""},
		{[]string{"list"}, "A = 1\nB = two words\n"},
		{[]string{"unset", "A", "NOT_SET"}, ""},
		{[]string{"list"}, "B = two words\n"},
	}
	for _, s := range steps {
		r := runCLI(t, append(append([]string{"env", "config", "vars"}, s.args...), "-p", prefix)...)
		if r.code != 0 || r.stdout != s.want {
			t.Fatalf("vars %v: exit %d, stdout %q, want %q; stderr %s", s.args, r.code, r.stdout, s.want, r.stderr)
		}
	}
	if r := runCLI(t, "run", "-p", prefix, "sh", "-c", `echo "${A-unset}|$B"`); strings.TrimSpace(r.stdout) != "unset|two words" {
		t.Errorf("run: %q", r.stdout)
	}
	if r := runCLI(t, "env", "config", "vars", "set", "-p", prefix, "=x"); r.code == 0 || !strings.Contains(r.stderr, "want NAME=VALUE") {
		t.Errorf("set =x: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestNoAllowDowngrade: a request that needs an installed package older
// downgrades it, unless --no-allow-downgrade, which refuses it naming the
// installed version; a package a spec names may still go down.
func TestNoAllowDowngrade(t *testing.T) {
	pkg := func(name, version string, depends ...string) *pkgbuild.Package {
		return &pkgbuild.Package{Record: conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: "0",
			Subdir: "noarch", Noarch: conda.NoarchGeneric, Depends: depends, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "share/" + name + ".txt", Mode: 0o644, Data: []byte(version)}}}
	}
	ch := "file://" + writeChannel(t, []*pkgbuild.Package{pkg("tool", "1.0"), pkg("tool", "2.0"), pkg("oldapp", "1.0", "tool <2")})
	isolate(t)
	common := []string{"-y", "--override-channels", "-c", ch}
	version := func(prefix string) string {
		b, _ := os.ReadFile(filepath.Join(prefix, "share", "tool.txt"))
		return string(b)
	}
	for _, tt := range []struct {
		args []string
		ok   bool
		tool string
	}{
		{[]string{"oldapp"}, true, "1.0"},
		{[]string{"oldapp", "--no-allow-downgrade"}, false, "2.0"},
		{[]string{"oldapp", "tool", "--no-allow-downgrade"}, true, "1.0"},
		{[]string{"oldapp", "--allow-downgrade"}, true, "1.0"},
	} {
		prefix := filepath.Join(t.TempDir(), "env")
		if r := runCLI(t, append([]string{"create", "-p", prefix, "tool"}, common...)...); r.code != 0 || version(prefix) != "2.0" {
			t.Fatalf("create: exit %d, tool %q, stderr %s", r.code, version(prefix), r.stderr)
		}
		r := runCLI(t, append(append([]string{"install", "-p", prefix}, tt.args...), common...)...)
		if (r.code == 0) != tt.ok || version(prefix) != tt.tool {
			t.Errorf("install %v: exit %d, tool %q; want ok %v, tool %s\nstderr: %s", tt.args, r.code, version(prefix), tt.ok, tt.tool, r.stderr)
		}
		if !tt.ok && !strings.Contains(r.stderr, "tool >=2.0") {
			t.Errorf("install %v: the refusal does not name the kept version: %s", tt.args, r.stderr)
		}
	}
}

// TestLockTimeout: a package cache entry or an index cache entry that
// another process holds fails the command after --lock-timeout, naming
// the lock, instead of waiting for ever.
func TestLockTimeout(t *testing.T) {
	ch := "file://" + pinChannel(t)
	home := isolate(t)
	pkgs := filepath.Join(home, "root", "pkgs")
	common := []string{"-y", "--override-channels", "-c", ch, "--lock-timeout", "1"}
	if r := runCLI(t, append([]string{"create", "-p", filepath.Join(t.TempDir(), "a"), "tool=1"}, common...)...); r.code != 0 {
		t.Fatalf("create: exit %d, stderr %s", r.code, r.stderr)
	}
	hold := func(path string) {
		l := flock.New(path)
		if err := l.Lock(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Unlock() })
	}
	// The package cache: tool 2.0 is not there yet; its entry is held.
	hold(filepath.Join(pkgs, "tool-2.0-0.lock"))
	r := runCLI(t, append([]string{"create", "-p", filepath.Join(t.TempDir(), "b"), "tool=2"}, common...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "tool-2.0-0.lock: another process has held it for more than the lock timeout (1s)") {
		t.Errorf("held package entry: exit %d, stderr %q", r.code, r.stderr)
	}
	// The index cache: revalidating (--repodata-ttl 0) needs its entries.
	locks, _ := filepath.Glob(filepath.Join(pkgs, "cache", "*.lock"))
	if len(locks) == 0 {
		t.Fatal("no index cache locks")
	}
	for _, l := range locks {
		hold(l)
	}
	r = runCLI(t, append([]string{"create", "--dry-run", "-p", filepath.Join(t.TempDir(), "c"), "tool", "--repodata-ttl", "0"}, common...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "another process has held it for more than the lock timeout (1s)") || !strings.Contains(r.stderr, "lock cache of") {
		t.Errorf("held index entry: exit %d, stderr %q", r.code, r.stderr)
	}
}
