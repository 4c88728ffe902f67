package main

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/internal/testchannel/realistic"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/conda"
)

var realisticOnce struct {
	sync.Once
	dir string
	err error
}

// realisticChannel builds the realistic channel (.conda only) once per test
// binary, or skips when it cannot be built here.
func realisticChannel(t *testing.T) string {
	t.Helper()
	switch {
	case testing.Short():
		t.Skip("builds the realistic channel")
	case os.Getuid() != 0:
		t.Skip("realistic channel: apt-get download needs root")
	}
	if err := realistic.CheckTools(); err != nil {
		t.Skip(err)
	}
	realisticOnce.Do(func() {
		realisticOnce.dir, realisticOnce.err = os.MkdirTemp("", "condabox-realistic-channel-")
		if realisticOnce.err == nil {
			opts := realistic.Options{CacheDir: filepath.Join(os.TempDir(), "condabox-realistic-test-cache"), Formats: []pkgbuild.Format{pkgbuild.FormatConda}}
			realisticOnce.err = realistic.Build(context.Background(), realisticOnce.dir, opts)
		}
	})
	if realisticOnce.err != nil {
		t.Fatal(realisticOnce.err)
	}
	return realisticOnce.dir
}

// serve serves a channel folder on loopback for the test's duration.
func serve(t *testing.T, dir string, opts server.Options) *server.Server {
	t.Helper()
	srv, err := server.Start(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// runIn runs a program of an environment and returns its trimmed output.
func runIn(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", prog, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// installedVersions reads name → version from the prefix's conda-meta.
func installedVersions(t *testing.T, prefix string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(prefix, "conda-meta", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Name, Version string }
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[r.Name] = r.Version
	}
	return out
}

// TestInstallRealistic is issue 6's proof: over a token-protected loopback
// channel of real Debian binaries, create python + requests + jq, use them,
// update, remove and run, and check that the token is written nowhere.
func TestInstallRealistic(t *testing.T) {
	ch := realisticChannel(t)
	home := isolate(t)
	const token = "tk-install-5ecret-42"
	srv := serve(t, ch, server.Options{Token: token})
	prefix := filepath.Join(home, "envs", "proof")
	base := []string{"-y", "-p", prefix, "--override-channels", "-c", srv.URL()}
	var outputs []string
	cli := func(want int, args ...string) result {
		t.Helper()
		r := runCLI(t, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		if r.code != want {
			t.Fatalf("condabox %q: exit %d, want %d\nstdout: %s\nstderr: %s", args, r.code, want, r.stdout, r.stderr)
		}
		return r
	}

	r := cli(0, append([]string{"create", "--json"}, append(base, "python", "requests", "jq", "edge-binary-placeholder", "edge-activate")...)...)
	d := decode(t, r)
	if !d.Success || len(d.Actions.Link) < 20 || len(d.Actions.Fetch) != len(d.Actions.Link) {
		t.Errorf("create JSON: success %v, %d linked, %d fetched", d.Success, len(d.Actions.Link), len(d.Actions.Fetch))
	}
	bin := filepath.Join(prefix, "bin")
	runIn(t, filepath.Join(bin, "python3"), "-c", "import requests, charset_normalizer")
	if got := runIn(t, filepath.Join(bin, "jq"), "--version"); !strings.HasPrefix(got, "jq-1.") {
		t.Errorf("jq --version: %q", got)
	}
	if got := runIn(t, filepath.Join(bin, "normalizer"), "--version"); !strings.Contains(got, "Charset-Normalizer") && !strings.Contains(got, "normalizer") {
		t.Errorf("normalizer --version: %q", got)
	}
	if got := runIn(t, filepath.Join(bin, "edge-binary-prefix")); got != prefix {
		t.Errorf("edge-binary-prefix prints %q, want %q", got, prefix)
	}

	// run: activated environment, exit code and stdio passed through.
	r = runCLI(t, "run", "-p", prefix, "python3", "-c",
		"import os, sys; print(os.environ['CONDA_PREFIX'], os.environ['EDGE_ACTIVATE_VAR'], os.environ['PATH'].split(':')[0]); sys.exit(7)")
	if want := prefix + " set-by-env-vars-d " + bin + "\n"; r.code != 7 || r.stdout != want {
		t.Errorf("run: exit %d, stdout %q, want 7 and %q\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}

	// install adds and keeps the rest; update takes the newest; install
	// changes an installed version on request.
	for _, tc := range []struct{ cmd, spec, want string }{
		{"install", "edge-versions=1.0.0", "1.0.0"}, {"update", "edge-versions", "2.0.0"}, {"install", "edge-versions=1.0.0", "1.0.0"},
	} {
		r = cli(0, append([]string{tc.cmd, "--json"}, append(base, tc.spec)...)...)
		d = decode(t, r)
		got := installedVersions(t, prefix)
		if got["edge-versions"] != tc.want || got["python"] == "" || got["jq"] == "" || len(d.Actions.Link) != 1 {
			t.Errorf("%s %s: edge-versions %q, python %q, LINK %d", tc.cmd, tc.spec, got["edge-versions"], got["python"], len(d.Actions.Link))
		}
	}
	history, err := os.ReadFile(filepath.Join(prefix, "conda-meta", "history"))
	if err != nil || !strings.Contains(string(history), "# update specs: ['edge-versions") {
		t.Errorf("history lacks the requested specs (%v):\n%s", err, history)
	}
	meta, _ := filepath.Glob(filepath.Join(prefix, "conda-meta", "edge-versions-1.0.0-*.json"))
	var rec struct {
		RequestedSpec string `json:"requested_spec"`
	}
	if len(meta) != 1 {
		t.Fatalf("conda-meta records of edge-versions 1.0.0: %q", meta)
	}
	data, err := os.ReadFile(meta[0])
	if err == nil {
		err = json.Unmarshal(data, &rec)
	}
	if want := mustSpec(t, "edge-versions=1.0.0"); err != nil || rec.RequestedSpec != want {
		t.Errorf("requested_spec %q, want %q (%v)", rec.RequestedSpec, want, err)
	}

	// remove takes out the named package, its dependants and (prune, the
	// default) the dependencies only they needed; --force only the named.
	cli(0, append([]string{"remove"}, append(base[:3], "edge-versions")...)...)
	cli(0, append([]string{"remove"}, append(base[:3], "urllib3")...)...)
	cli(0, append([]string{"remove", "--force"}, append(base[:3], "libjq")...)...)
	if r := cli(1, append([]string{"remove"}, append(base[:3], "nosuchpkg")...)...); !strings.Contains(r.stderr, "nosuchpkg") || !strings.Contains(r.stderr, "not installed") {
		t.Errorf("remove nosuchpkg: stderr %q", r.stderr)
	}
	got := installedVersions(t, prefix)
	for name, want := range map[string]bool{
		"edge-versions": false, "urllib3": false, "requests": false, "idna": false, "charset-normalizer": false,
		"libjq": false, "python": true, "jq": true, "openssl": true, "edge-activate": true,
	} {
		if (got[name] != "") != want {
			t.Errorf("after remove: %s installed %v, want %v", name, got[name] != "", want)
		}
	}

	// The token is nowhere: outputs, conda-meta, the package cache's records.
	var files []string
	for _, pattern := range []string{
		filepath.Join(prefix, "conda-meta", "*"),
		filepath.Join(home, "root", "pkgs", "urls.txt"),
		filepath.Join(home, "root", "pkgs", "*", "info", "repodata_record.json"),
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 30 {
		t.Errorf("only %d files to check for the token", len(files))
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		outputs = append(outputs, string(data))
		if strings.Contains(string(data), token) {
			t.Errorf("%s holds the token", f)
		}
	}
	if strings.Contains(strings.Join(outputs, "\n"), token) {
		t.Error("the token shows in condabox's output")
	}
}

// TestInstallBinaryPlaceholderPrefixes installs the binary-placeholder
// program at a short and at a long prefix; one longer than the placeholder
// is refused and leaves nothing.
func TestInstallBinaryPlaceholderPrefixes(t *testing.T) {
	ch := realisticChannel(t)
	isolate(t)
	srv := serve(t, ch, server.Options{})
	short, err := os.MkdirTemp("", "p")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(short)
	long := filepath.Join(t.TempDir(), strings.Repeat("l", 120), strings.Repeat("o", 60))
	tooLong := filepath.Join(t.TempDir(), strings.Repeat("x", 250))
	for _, tc := range []struct {
		prefix string
		ok     bool
	}{{filepath.Join(short, "e"), true}, {long, true}, {tooLong, false}} {
		r := runCLI(t, "create", "-y", "-p", tc.prefix, "--override-channels", "-c", srv.URL(), "edge-binary-placeholder")
		if !tc.ok {
			_, statErr := os.Stat(tc.prefix)
			if r.code == 0 || !strings.Contains(r.stderr, "edge-binary-prefix") || !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("prefix of %d bytes: exit %d, stderr %q, prefix left: %v", len(tc.prefix), r.code, r.stderr, statErr)
			}
			continue
		}
		if r.code != 0 {
			t.Fatalf("prefix of %d bytes: exit %d\nstderr: %s", len(tc.prefix), r.code, r.stderr)
		}
		if got := runIn(t, filepath.Join(tc.prefix, "bin", "edge-binary-prefix")); got != tc.prefix {
			t.Errorf("prints %q, want %q", got, tc.prefix)
		}
	}
}

// TestInstallBasicAuthFromEnvironment downloads from a channel that needs
// basic auth given by CONDABOX_BASIC_AUTH, not in the channel URL; the
// password is written nowhere.
func TestInstallBasicAuthFromEnvironment(t *testing.T) {
	ch := realisticChannel(t)
	home := isolate(t)
	const password = "pw-5ecret-77"
	srv := serve(t, ch, server.Options{User: "ci", Password: password})
	t.Setenv("CONDABOX_BASIC_AUTH", "ci:"+password+"@127.0.0.1")
	url := "http://" + srv.Addr()
	prefix := filepath.Join(home, "env")
	r := runCLI(t, "create", "-y", "-p", prefix, "--override-channels", "-c", url, "edge-binary-placeholder")
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(prefix, "conda-meta", "*"))
	more, _ := filepath.Glob(filepath.Join(home, "root", "pkgs", "*", "info", "repodata_record.json"))
	texts := []string{r.stdout, r.stderr}
	for _, f := range append(append(files, more...), filepath.Join(home, "root", "pkgs", "urls.txt")) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(data))
	}
	if strings.Contains(strings.Join(texts, "\n"), password) {
		t.Error("the password is written out")
	}
}

// TestInstallExplicitFileWithToken creates from an @EXPLICIT file whose
// URLs carry a token: the download uses it, nothing written keeps it.
func TestInstallExplicitFileWithToken(t *testing.T) {
	ch := realisticChannel(t)
	home := isolate(t)
	const token = "tk-explicit-5ecret-3"
	srv := serve(t, ch, server.Options{Token: token})
	data, err := os.ReadFile(filepath.Join(ch, "linux-64", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Packages map[string]struct {
			Name, SHA256 string
		} `json:"packages.conda"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	explicit := "@EXPLICIT\n"
	for fn, r := range index.Packages {
		if r.Name == "edge-binary-placeholder" {
			explicit += srv.URL() + "/linux-64/" + fn + "#sha256:" + r.SHA256 + "\n"
		}
	}
	file := filepath.Join(home, "env.txt")
	if err := os.WriteFile(file, []byte(explicit), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(home, "env")
	r := runCLI(t, "create", "-y", "--json", "-p", prefix, "-f", file)
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	if got := runIn(t, filepath.Join(prefix, "bin", "edge-binary-prefix")); got != prefix {
		t.Errorf("edge-binary-prefix prints %q", got)
	}
	written := []string{r.stdout, r.stderr}
	for _, pattern := range []string{filepath.Join(prefix, "conda-meta", "*"), filepath.Join(home, "root", "pkgs", "urls.txt"),
		filepath.Join(home, "root", "pkgs", "*", "info", "repodata_record.json")} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			written = append(written, string(data))
		}
	}
	if len(written) < 5 || strings.Contains(strings.Join(written, "\n"), token) {
		t.Errorf("the token is written out (or too little was checked: %d texts)", len(written))
	}
}

// TestInstallConcurrentCreates runs two condabox processes that create
// environments at once from one empty package cache.
func TestInstallConcurrentCreates(t *testing.T) {
	ch := realisticChannel(t)
	home := isolate(t)
	srv := serve(t, ch, server.Options{})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	outs := make([][]byte, 2)
	for i := range errs {
		wg.Go(func() {
			prefix := filepath.Join(home, "env"+string(rune('a'+i)))
			cmd := exec.Command(exe, "create", "-y", "-p", prefix, "--override-channels", "-c", srv.URL(), "python", "requests")
			cmd.Env = append(os.Environ(), "CONDABOX_AS_MAIN=1")
			outs[i], errs[i] = cmd.CombinedOutput()
			if errs[i] == nil {
				outs[i], errs[i] = exec.Command(filepath.Join(prefix, "bin", "python3"), "-c", "import requests").CombinedOutput()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("create %d: %v\n%s", i, err, outs[i])
		}
	}
}

// TestInstallFailures: each bad request gives one clear error, a non-zero
// exit and no prefix.
func TestInstallFailures(t *testing.T) {
	ch := realisticChannel(t)
	for _, tc := range []struct {
		name  string
		spec  string
		fault func(*server.Server) string // returns the channel URL to use
		want  string
	}{
		{"unreachable channel", "jq", func(s *server.Server) string { s.Close(); return s.URL() }, "127.0.0.1"},
		{"bad spec", "jq >=1..2", nil, "parse"},
		{"unsatisfiable", "jq >=99", nil, "jq"},
		{"checksum mismatch", "jq", func(s *server.Server) string {
			if err := s.Fault("jq-*.conda", server.Fault{FlipAt: []int64{100}}); err != nil {
				t.Fatal(err)
			}
			return s.URL()
		}, "sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			srv := serve(t, ch, server.Options{})
			url := srv.URL()
			if tc.fault != nil {
				url = tc.fault(srv)
			}
			prefix := filepath.Join(t.TempDir(), "env")
			r := runCLI(t, "create", "-y", "-p", prefix, "--override-channels", "-c", url, tc.spec)
			if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want an error naming %q", r.code, r.stdout, r.stderr, tc.want)
			}
			if _, err := os.Stat(prefix); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("prefix left behind: %v", err)
			}
		})
	}
}

// TestRunErrors: run refuses a folder that is no environment and a
// command not on the environment's PATH.
func TestRunErrors(t *testing.T) {
	isolate(t)
	notEnv := t.TempDir()
	env := t.TempDir()
	if err := os.MkdirAll(filepath.Join(env, "conda-meta"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-p", notEnv, "true"}, "not a conda environment"},
		{[]string{"run", "-p", env, "no-such-command-xyz"}, "not found"},
		{[]string{"run", "-p", env}, "requires at least 1 arg"},
	} {
		r := runCLI(t, tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// mustSpec returns a spec's canonical form, which conda-meta records.
func mustSpec(t *testing.T, s string) string {
	t.Helper()
	m, err := conda.ParseMatchSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return m.String()
}

// TestEnvironmentByName: -n NAME lives under the root prefix: -r, else
// $MAMBA_ROOT_PREFIX, else micromamba's ~/micromamba.
func TestEnvironmentByName(t *testing.T) {
	ch := "file://" + testChannel(t)
	for _, tc := range []struct {
		name, rootFlag, rootEnv, want string // want: prefix, $H standing for HOME
	}{
		{"-r", "/opt/r", "/ignored", "/opt/r/envs/e1"},
		{"MAMBA_ROOT_PREFIX", "", "/opt/m", "/opt/m/envs/e1"},
		{"default", "", "", "$H/micromamba/envs/e1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := isolate(t)
			t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36")
			t.Setenv("MAMBA_ROOT_PREFIX", tc.rootEnv)
			args := []string{"create", "--dry-run", "--json", "-n", "e1", "--platform", "linux-64", "--override-channels", "-c", ch, "python"}
			if tc.rootFlag != "" {
				args = append(args, "-r", tc.rootFlag)
			}
			d := decode(t, runCLI(t, args...))
			if want := strings.ReplaceAll(tc.want, "$H", home); d.Prefix != want {
				t.Errorf("prefix %q, want %q", d.Prefix, want)
			}
		})
	}
}

// TestInstallIntoActiveEnvironment: without -n or -p, install acts on
// $CONDA_PREFIX, as micromamba's does; create still needs a target.
func TestInstallIntoActiveEnvironment(t *testing.T) {
	ch := "file://" + imageChannel(t)
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36")
	prefix := filepath.Join(t.TempDir(), "active")
	if r := runCLI(t, "create", "-y", "-p", prefix, "--platform", "linux-64", "--override-channels", "-c", ch, "hello"); r.code != 0 {
		t.Fatalf("create: exit %d\n%s", r.code, r.stderr)
	}
	t.Setenv("CONDA_PREFIX", prefix)
	d := decode(t, runCLI(t, "install", "--dry-run", "--json", "--platform", "linux-64", "--override-channels", "-c", ch, "hello"))
	if d.Prefix != prefix {
		t.Errorf("install went to %q, want the active %q", d.Prefix, prefix)
	}
	t.Setenv("CONDA_PREFIX", "")
	r := runCLI(t, "install", "--dry-run", "--json", "--platform", "linux-64", "--override-channels", "-c", ch, "hello")
	if r.code == 0 || !strings.Contains(r.stderr, "no target environment") {
		t.Errorf("install without a target: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, "create", "--dry-run", "--json", "--platform", "linux-64", "--override-channels", "-c", ch, "hello")
	if r.code == 0 || !strings.Contains(r.stderr, "no target environment") {
		t.Errorf("create without a target: exit %d, %q", r.code, r.stderr)
	}
}

// TestCreateRefusesNonEnvironmentFolder: create does not install into a
// folder that holds other files, and leaves them alone.
func TestCreateRefusesNonEnvironmentFolder(t *testing.T) {
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36")
	prefix := t.TempDir()
	keep := filepath.Join(prefix, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "create", "-y", "-p", prefix, "--platform", "linux-64", "--override-channels", "-c", "file://"+testChannel(t), "python")
	if r.code == 0 || !strings.Contains(r.stderr, "not a conda environment") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if data, err := os.ReadFile(keep); err != nil || string(data) != "mine" {
		t.Errorf("the folder's file was touched: %q, %v", data, err)
	}
}

// TestInstallNoPyc: --no-pyc links a noarch python package without its
// .pyc files, which install compiles by default.
func TestInstallNoPyc(t *testing.T) {
	ch := "file://" + realisticChannel(t)
	home := isolate(t)
	prefix := filepath.Join(home, "envs", "pyc")
	base := []string{"-y", "-p", prefix, "--override-channels", "-c", ch}
	for _, args := range [][]string{{"create", "python"}, {"install", "--no-pyc", "six"}, {"install", "idna"}} {
		if r := runCLI(t, append(args, base...)...); r.code != 0 {
			t.Fatalf("condabox %q: exit %d\nstderr: %s", args, r.code, r.stderr)
		}
	}
	site, _ := filepath.Glob(filepath.Join(prefix, "lib", "python3.*", "site-packages"))
	if len(site) != 1 {
		t.Fatalf("site-packages: %q", site)
	}
	if pyc, _ := filepath.Glob(filepath.Join(site[0], "__pycache__", "six.*.pyc")); len(pyc) != 0 {
		t.Errorf("--no-pyc compiled %q", pyc)
	}
	if pyc, _ := filepath.Glob(filepath.Join(site[0], "idna", "__pycache__", "*.pyc")); len(pyc) == 0 {
		t.Error("install without --no-pyc compiled nothing for idna")
	}
}

// TestInstallForceReinstall: install --force-reinstall links a package
// again that is installed unchanged, restoring a file removed by hand;
// without it, install has nothing to do.
func TestInstallForceReinstall(t *testing.T) {
	ch := "file://" + imageChannel(t)
	isolate(t)
	prefix := filepath.Join(t.TempDir(), "env")
	common := []string{"-y", "-p", prefix, "--platform", "linux-64", "--override-channels", "-c", ch, "hello"}
	if r := runCLI(t, append([]string{"create"}, common...)...); r.code != 0 {
		t.Fatalf("create: exit %d\nstderr: %s", r.code, r.stderr)
	}
	file := filepath.Join(prefix, "bin", "hello")
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, append([]string{"install"}, common...)...); r.code != 0 || !strings.Contains(r.stdout, "0 linked, 0 unlinked") {
		t.Fatalf("install of an installed package: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r := runCLI(t, append([]string{"install", "--force-reinstall"}, common...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "1 linked, 1 unlinked") {
		t.Fatalf("install --force-reinstall: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("--force-reinstall did not bring bin/hello back: %v", err)
	}
}

// TestInstallRevision: install --revision N brings back the packages of
// revision N (conda-meta/history), removing those added since and moving
// changed ones back, as a new revision; bad requests fail before anything
// changes.
func TestInstallRevision(t *testing.T) {
	isolate(t)
	pkg := func(name, version string, depends ...string) *pkgbuild.Package {
		return &pkgbuild.Package{Record: conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: "0",
			Subdir: "noarch", Noarch: conda.NoarchGeneric, Depends: depends, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "share/" + name + ".txt", Mode: 0o644, Data: []byte(name + " " + version + "\n")}}}
	}
	ch := "file://" + writeChannel(t, []*pkgbuild.Package{pkg("a", "1.0"), pkg("a", "2.0"), pkg("b", "1.0", "a")})
	prefix := filepath.Join(t.TempDir(), "env")
	cli := func(args ...string) result {
		t.Helper()
		r := runCLI(t, append(args, "-y", "-p", prefix, "--override-channels", "-c", ch)...)
		if r.code != 0 {
			t.Fatalf("%q: exit %d\nstderr: %s", args, r.code, r.stderr)
		}
		return r
	}
	cli("create", "a=1.0")  // rev 0
	cli("install", "b")     // rev 1
	cli("install", "a=2.0") // rev 2
	check := func(step string, want map[string]string) {
		t.Helper()
		if got := installedVersions(t, prefix); !maps.Equal(got, want) {
			t.Errorf("%s: installed %v, want %v", step, got, want)
		}
		for name := range map[string]bool{"a": true, "b": true} {
			data, err := os.ReadFile(filepath.Join(prefix, "share", name+".txt"))
			if v, ok := want[name]; ok != (err == nil) || (ok && string(data) != name+" "+v+"\n") {
				t.Errorf("%s: share/%s.txt = %q (%v), want the file of %s %q", step, name, data, err, name, v)
			}
		}
	}
	check("rev 2", map[string]string{"a": "2.0", "b": "1.0"})

	cli("install", "--revision", "0")
	check("--revision 0", map[string]string{"a": "1.0"})
	r := runCLI(t, "list", "--revisions", "-p", prefix)
	if r.code != 0 || !strings.Contains(r.stdout, "(rev 3)") || !strings.Contains(r.stdout, "a  {2.0") || !strings.Contains(r.stdout, "-b-1.0") {
		t.Errorf("list --revisions after the restore:\n%s", r.stdout)
	}
	cli("install", "--revision", "2")
	check("--revision 2", map[string]string{"a": "2.0", "b": "1.0"})

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"install", "--revision", "9"}, "revisions 0 to 4"},
		{[]string{"install", "--revision", "-1"}, "revisions 0 to 4"},
		{[]string{"install", "--revision", "0", "b"}, "give no specs or files"},
	} {
		r := runCLI(t, append(tc.args, "-y", "-p", prefix, "--override-channels", "-c", ch)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want an error with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	check("after the refused requests", map[string]string{"a": "2.0", "b": "1.0"})
}
