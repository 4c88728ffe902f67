package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/env"
)

// writeEnvFile writes an environment.yml with one channel and deps.
func writeEnvFile(t *testing.T, path, channel string, deps ...string) {
	t.Helper()
	body := "channels:\n  - " + channel + "\ndependencies:\n"
	for _, d := range deps {
		body += "  - " + d + "\n"
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readLock parses a lock file written by condabox lock.
func readLock(t *testing.T, path string) *env.LockedEnvironment {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := env.ParseLock(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return l.Environments[env.DefaultEnvironment]
}

// lockedLinks returns "name version build subdir" of a platform's locked
// packages, sorted, as linked() prints LINK entries.
func lockedLinks(e *env.LockedEnvironment, p conda.Platform) []string {
	var out []string
	for _, r := range e.CondaRecords(p) {
		out = append(out, strings.Join([]string{r.Name, r.Version.String(), r.Build, r.Subdir}, " "))
	}
	slices.Sort(out)
	return out
}

// TestLockThenCreate locks for two platforms from a channel served over
// HTTP; create -f of the lock links exactly the locked packages of each.
func TestLockThenCreate(t *testing.T) {
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.17") // lock applies it to every platform's defaults
	srv := serve(t, testChannel(t), server.Options{})
	dir := t.TempDir()
	envFile, lockFile := filepath.Join(dir, "env.yml"), filepath.Join(dir, "conda-lock.yml")
	writeEnvFile(t, envFile, srv.URL(), "requests")
	r := runCLI(t, "lock", "-f", envFile, "-p", "linux-64", "-p", "linux-aarch64", "--lockfile", lockFile)
	if r.code != 0 {
		t.Fatalf("lock: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if want := "Locked 3 packages for linux-64 into " + lockFile + "\nLocked 3 packages for linux-aarch64 into " + lockFile + "\n"; r.stdout != want {
		t.Errorf("lock stdout %q", r.stdout)
	}
	locked := readLock(t, lockFile)
	for _, tc := range []struct {
		platform conda.Platform
		python   string // as __glibc 2.17 allows
	}{{"linux-64", "python 3.11.9 h_0 linux-64"}, {"linux-aarch64", "python 3.12.1 h_0 linux-aarch64"}} {
		want := lockedLinks(locked, tc.platform)
		if len(want) != 3 || !slices.Contains(want, tc.python) {
			t.Errorf("%s: locked %q, want 3 packages with %s", tc.platform, want, tc.python)
		}
		r := runCLI(t, "create", "--dry-run", "--json", "-p", filepath.Join(dir, "env-"+string(tc.platform)),
			"--platform", string(tc.platform), "-f", lockFile)
		if r.code != 0 {
			t.Fatalf("create -f %s: exit %d\nstderr: %s", lockFile, r.code, r.stderr)
		}
		got := linked(t, decode(t, r))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: create links %q, the lock has %q", tc.platform, got, want)
		}
	}
	// Locking the same inputs again writes the same bytes.
	first, _ := os.ReadFile(lockFile)
	if r := runCLI(t, "lock", "-f", envFile, "-p", "linux-64", "-p", "linux-aarch64", "--lockfile", lockFile); r.code != 0 {
		t.Fatalf("second lock: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if second, _ := os.ReadFile(lockFile); string(first) != string(second) {
		t.Errorf("two locks of the same inputs differ")
	}
}

func TestLockCheck(t *testing.T) {
	isolate(t)
	ch := "file://" + testChannel(t)
	dir := t.TempDir()
	envFile, lockFile := filepath.Join(dir, "env.yml"), filepath.Join(dir, "conda-lock.yml")
	writeEnvFile(t, envFile, ch, "requests")
	if r := runCLI(t, "lock", "-f", envFile, "-p", "linux-64", "-o", lockFile); r.code != 0 {
		t.Fatalf("lock: exit %d\nstderr: %s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		name   string
		deps   []string
		code   int
		stderr string
	}{
		{"unchanged", []string{"requests"}, 0, ""},
		{"a spec added", []string{"requests", "urllib3 >=2"}, 1, "lock file is out of date: " + lockFile + ": linux-64 was locked from other inputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeEnvFile(t, envFile, ch, tc.deps...)
			r := runCLI(t, "lock", "--check", "-f", envFile, "-o", lockFile)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, tc.stderr)
			}
			if tc.code == 0 && !strings.Contains(r.stdout, "is up to date") {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
}

// TestLockCheckCondaLockFile: a lock conda-lock wrote (python on
// conda-forge, six platforms) is up to date for its inputs, checked by
// content, and the output says so.
func TestLockCheckCondaLockFile(t *testing.T) {
	isolate(t)
	lockFile := testchannel.RealData(t, "locks", "rattler", "conda-lock", "v0", "python-conda-lock.yml")
	envFile := filepath.Join(t.TempDir(), "env.yml")
	if err := os.WriteFile(envFile, []byte("channels: [conda-forge]\ndependencies: [python]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "lock", "--check", "-f", envFile, "-o", lockFile)
	if r.code != 0 || !strings.Contains(r.stdout, "is up to date") || !strings.Contains(r.stdout, "linux-64, linux-aarch64, linux-ppc64le, osx-64, osx-arm64, win-64 checked by content") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// TestLockUnsatisfiable: one platform without a solution fails the lock
// with the solver's explanation naming that platform, and writes nothing.
func TestLockUnsatisfiable(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	envFile, lockFile := filepath.Join(dir, "env.yml"), filepath.Join(dir, "conda-lock.yml")
	// linux-aarch64 has python 3.12.1 only.
	writeEnvFile(t, envFile, "file://"+testChannel(t), "python <3.12")
	r := runCLI(t, "lock", "-f", envFile, "-p", "linux-64", "-p", "linux-aarch64", "-o", lockFile)
	if r.code != 1 || !strings.Contains(r.stderr, "lock for linux-aarch64") || !strings.Contains(r.stderr, "python") || !strings.Contains(r.stderr, "not written") {
		t.Errorf("exit %d, stderr %q: want 1 and the platform's conflict", r.code, r.stderr)
	}
	// The system the lock assumed is named, with the way to change it.
	if want := "solved for a generic linux-aarch64 system: __archspec"; !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "CONDA_OVERRIDE_GLIBC") {
		t.Errorf("stderr %q: want %q and CONDA_OVERRIDE_GLIBC", r.stderr, want)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Errorf("a lock file was written: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("the folder holds %v (err %v), want env.yml alone", entries, err)
	}
}

// TestLockThenInstallRealistic locks python and jq from the realistic
// channel (real packages) and installs the lock: conda-meta lists exactly
// the locked packages.
func TestLockThenInstallRealistic(t *testing.T) {
	ch := realisticChannel(t)
	home := isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36") // the realistic channel's Debian floor
	srv := serve(t, ch, server.Options{})
	envFile, lockFile := filepath.Join(home, "env.yml"), filepath.Join(home, "conda-lock.yml")
	writeEnvFile(t, envFile, srv.URL(), "python", "jq")
	if r := runCLI(t, "lock", "-f", envFile, "-p", "linux-64", "-o", lockFile); r.code != 0 {
		t.Fatalf("lock: exit %d\nstderr: %s", r.code, r.stderr)
	}
	prefix := filepath.Join(home, "envs", "locked")
	if r := runCLI(t, "create", "-y", "-p", prefix, "--platform", "linux-64", "-f", lockFile); r.code != 0 {
		t.Fatalf("create: exit %d\nstderr: %s", r.code, r.stderr)
	}
	want := map[string]string{}
	for _, r := range readLock(t, lockFile).CondaRecords("linux-64") {
		want[r.Name] = r.Version.String()
	}
	got := installedVersions(t, prefix)
	if len(got) != len(want) || len(want) < 3 {
		t.Errorf("installed %v, locked %v", got, want)
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s: installed %q, locked %q", name, got[name], v)
		}
	}
	if out := runIn(t, filepath.Join(prefix, "bin", "jq"), "-n", "1+1"); out != "2" {
		t.Errorf("jq from the locked environment printed %q", out)
	}
}

// TestLockWarnsPip: pip requirements are named as not locked; the conda
// packages are locked all the same.
func TestLockWarnsPip(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	envFile, lockFile := filepath.Join(dir, "env.yml"), filepath.Join(dir, "conda-lock.yml")
	body := "channels:\n  - file://" + testChannel(t) + "\ndependencies:\n  - requests\n  - pip:\n    - rich==13.7.1\n"
	if err := os.WriteFile(envFile, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "lock", "-f", envFile, "-p", "linux-aarch64", "-o", lockFile)
	if r.code != 0 || !strings.Contains(r.stderr, `warning: pip requirement "rich==13.7.1" is not locked`) {
		t.Fatalf("exit %d, stderr %q: want 0 and a warning naming rich", r.code, r.stderr)
	}
	if got := lockedLinks(readLock(t, lockFile), "linux-aarch64"); len(got) != 3 {
		t.Errorf("locked %q, want python, requests and urllib3", got)
	}
}

func TestLockBadInput(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env.yml")
	writeEnvFile(t, envFile, "file://"+testChannel(t), "requests")
	oldLock := filepath.Join(dir, "old-lock.yml")
	if err := os.WriteFile(oldLock, []byte("version: 1\nmetadata: {}\npackage: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"-f", envFile, "-o", filepath.Join(dir, "lock.yml")}, "name it *-lock.yml"},
		{[]string{"-f", oldLock, "-o", filepath.Join(dir, "new-lock.yml")}, oldLock + ": a lock or @EXPLICIT file is already locked"},
		{[]string{"-o", filepath.Join(dir, "new-lock.yml")}, "nothing to lock: give -f FILE"},
		{[]string{"-f", envFile, "-p", "noarch", "-o", filepath.Join(dir, "new-lock.yml")}, `platform "noarch"`},
		{[]string{"--check", "-f", envFile, "-o", filepath.Join(dir, "missing-lock.yml")}, "missing-lock.yml: no such file"},
	} {
		r := runCLI(t, append([]string{"lock"}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want 1 and %q", tc.args, r.code, r.stderr, tc.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new-lock.yml")); !os.IsNotExist(err) {
		t.Errorf("a lock file was written: %v", err)
	}
}

// TestLockHidesToken: a channel's token reaches neither the lock file nor
// the output.
func TestLockHidesToken(t *testing.T) {
	isolate(t)
	const token = "tk-lock-5ecret-77"
	srv := serve(t, testChannel(t), server.Options{Token: token})
	dir := t.TempDir()
	envFile, lockFile := filepath.Join(dir, "env.yml"), filepath.Join(dir, "conda-lock.yml")
	writeEnvFile(t, envFile, srv.URL(), "requests")
	r := runCLI(t, "lock", "-f", envFile, "-p", "linux-aarch64", "-o", lockFile)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data)+r.stdout+r.stderr, token) {
		t.Errorf("the token shows in the lock file or the output:\n%s", data)
	}
	if got := lockedLinks(readLock(t, lockFile), "linux-aarch64"); len(got) != 3 {
		t.Errorf("locked %q", got)
	}
}

// TestLockSpecChannel: an environment file without channels whose
// dependencies name theirs (channel::name) locks from those channels.
func TestLockSpecChannel(t *testing.T) {
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.17")
	srv := serve(t, testChannel(t), server.Options{})
	dir := t.TempDir()
	envFile, lockFile := filepath.Join(dir, "env.yml"), filepath.Join(dir, "conda-lock.yml")
	if err := os.WriteFile(envFile, []byte("dependencies:\n  - "+srv.URL()+"::requests\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "lock", "-f", envFile, "-p", "linux-64", "--lockfile", lockFile); r.code != 0 {
		t.Fatalf("lock: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if got := lockedLinks(readLock(t, lockFile), "linux-64"); len(got) != 3 || !slices.Contains(got, "requests 2.31.0 pyh_0 noarch") {
		t.Errorf("locked %q, want python, urllib3 and requests", got)
	}
}
