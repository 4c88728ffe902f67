package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/conda"
)

// record makes a channel record with digests derived from its file name.
func record(subdir, name, version, build string, depends ...string) conda.PackageRecord {
	fn := name + "-" + version + "-" + build + ".conda"
	m, s := md5.Sum([]byte(fn)), sha256.Sum256([]byte(fn))
	return conda.PackageRecord{
		Name: name, Version: conda.MustParseVersion(version), Build: build, Subdir: subdir,
		Depends: depends, FileName: fn, MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:]),
		License: "MIT", Size: int64(len(fn)),
	}
}

// testChannel writes a small channel: python for two platforms with
// different glibc floors, and noarch packages depending on it.
func testChannel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	recs := []conda.PackageRecord{
		record("linux-64", "python", "3.11.9", "h_0", "__glibc >=2.17"),
		record("linux-64", "python", "3.12.1", "h_0", "__glibc >=2.28"),
		record("linux-aarch64", "python", "3.12.1", "h_0", "__glibc >=2.17"),
		record("noarch", "urllib3", "2.0.7", "pyh_0", "python >=3.8"),
		record("noarch", "requests", "2.31.0", "pyh_0", "python >=3.8", "urllib3 >=1.21,<3"),
	}
	if err := index.WriteChannel(dir, recs, index.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// isolate keeps the user's configuration and caches out of a test.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("MAMBA_ROOT_PREFIX", filepath.Join(home, "root"))
	vars := []string{"CONDARC", "MAMBARC", "XDG_CONFIG_HOME", "CONDA_PREFIX", "CONDA_PKGS_DIRS", "CONDA_SUBDIR", "CONDA_OVERRIDE_GLIBC", "CONDA_OVERRIDE_CUDA"}
	for _, key := range []string{"CHANNELS", "CHANNEL_ALIAS", "CHANNEL_PRIORITY", "LOCAL_REPODATA_TTL", "OFFLINE", "PINNED_PACKAGES", "SSL_VERIFY", "ALWAYS_COPY", "LOCK_TIMEOUT"} {
		vars = append(vars, "CONDA_"+key, "MAMBA_"+key)
	}
	for _, k := range vars {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return home
}

type result struct {
	stdout, stderr string
	code           int
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runCLIIn(t, "", args...)
}

// runCLIIn is runCLI with stdin.
func runCLIIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return result{out.String(), errOut.String(), code}
}

// dryRunJSON is the part of micromamba's output the tests read.
type dryRunJSON struct {
	Success        bool     `json:"success"`
	DryRun         bool     `json:"dry_run"`
	Prefix         string   `json:"prefix"`
	SolverProblems []string `json:"solver_problems"`
	Actions        struct {
		Prefix string                       `json:"PREFIX"`
		Link   []map[string]json.RawMessage `json:"LINK"`
		Fetch  []map[string]json.RawMessage `json:"FETCH"`
	} `json:"actions"`
}

func decode(t *testing.T, r result) dryRunJSON {
	t.Helper()
	var d dryRunJSON
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("stdout is not JSON: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return d
}

// linked returns "name version build subdir" of each LINK entry, in order.
func linked(t *testing.T, d dryRunJSON) []string {
	t.Helper()
	var out []string
	for _, e := range d.Actions.Link {
		var name, version, build, subdir string
		for k, dst := range map[string]*string{"name": &name, "version": &version, "build_string": &build, "subdir": &subdir} {
			if err := json.Unmarshal(e[k], dst); err != nil {
				t.Fatalf("LINK entry key %q: %v", k, err)
			}
		}
		out = append(out, strings.Join([]string{name, version, build, subdir}, " "))
	}
	return out
}

func TestCreateDryRunJSON(t *testing.T) {
	ch := "file://" + testChannel(t)
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		want  []string // LINK in order; nil means unsatisfiable
		probs string   // a word every unsatisfiable answer's problems name
	}{
		{"newest python", []string{"requests"}, map[string]string{"CONDA_OVERRIDE_GLIBC": "2.36"},
			[]string{"python 3.12.1 h_0 linux-64", "urllib3 2.0.7 pyh_0 noarch", "requests 2.31.0 pyh_0 noarch"}, ""},
		{"old glibc keeps python 3.11", []string{"requests"}, map[string]string{"CONDA_OVERRIDE_GLIBC": "2.20"},
			[]string{"python 3.11.9 h_0 linux-64", "urllib3 2.0.7 pyh_0 noarch", "requests 2.31.0 pyh_0 noarch"}, ""},
		{"target platform defaults", []string{"--platform", "linux-aarch64", "python"}, nil,
			[]string{"python 3.12.1 h_0 linux-aarch64"}, ""},
		{"no glibc", []string{"python"}, map[string]string{"CONDA_OVERRIDE_GLIBC": "2.5"}, nil, "__glibc"},
		{"missing version", []string{"requests", "python=3.13"}, map[string]string{"CONDA_OVERRIDE_GLIBC": "2.36"}, nil, "python"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			prefix := filepath.Join(t.TempDir(), "env")
			args := append([]string{"create", "--dry-run", "--json", "-y", "-p", prefix, "--override-channels", "-c", ch}, tc.args...)
			if !slices.Contains(tc.args, "--platform") {
				args = append(args, "--platform", "linux-64")
			}
			r := runCLI(t, args...)
			d := decode(t, r)
			if tc.want == nil {
				if r.code != 1 || d.Success || len(d.SolverProblems) == 0 || !strings.Contains(strings.Join(d.SolverProblems, "\n"), tc.probs) {
					t.Fatalf("exit %d, JSON %+v, want exit 1 and problems naming %s", r.code, d, tc.probs)
				}
				if !strings.Contains(r.stderr, tc.probs) {
					t.Errorf("stderr does not explain: %s", r.stderr)
				}
				return
			}
			if r.code != 0 || !d.Success || !d.DryRun || d.Prefix != prefix || d.Actions.Prefix != prefix {
				t.Fatalf("exit %d, JSON %+v\nstderr: %s", r.code, d, r.stderr)
			}
			if got := linked(t, d); !slices.Equal(got, tc.want) {
				t.Errorf("LINK %q, want %q", got, tc.want)
			}
			if len(d.Actions.Fetch) != len(d.Actions.Link) {
				t.Errorf("%d FETCH, %d LINK: nothing is cached, all must be fetched", len(d.Actions.Fetch), len(d.Actions.Link))
			}
			for _, e := range d.Actions.Link {
				var fn, url, md5sum, channel string
				json.Unmarshal(e["fn"], &fn)
				json.Unmarshal(e["url"], &url)
				json.Unmarshal(e["md5"], &md5sum)
				json.Unmarshal(e["channel"], &channel)
				sum := md5.Sum([]byte(fn))
				if !strings.HasSuffix(url, "/"+fn) || !strings.HasPrefix(url, ch+"/") || md5sum != hex.EncodeToString(sum[:]) || channel != ch {
					t.Errorf("entry fn %q url %q md5 %q channel %q", fn, url, md5sum, channel)
				}
				for _, key := range []string{"build", "build_number", "sha256", "depends", "constrains", "size", "timestamp", "license", "track_features"} {
					if _, ok := e[key]; !ok {
						t.Errorf("entry %s has no %q key", fn, key)
					}
				}
			}
		})
	}
}

func TestCreateFromFiles(t *testing.T) {
	home := isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36")
	ch := "file://" + testChannel(t)
	dir := t.TempDir()
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// (pip: sections, which bring pip along, have their own tests.)
	envFile := write("env.yml", "name: ignored\nchannels: ["+ch+"]\ndependencies:\n  - requests\n")
	explicit := write("explicit.txt", "# platform: linux-64\n@EXPLICIT\n"+ch+"/linux-64/python-3.11.9-h_0.conda#"+strings.Repeat("a", 32)+"\n")

	// An environment file brings specs and channels; -n puts the prefix
	// under the root prefix given with -r.
	root := filepath.Join(home, "myroot")
	r := runCLI(t, "create", "--dry-run", "--json", "-n", "web", "-r", root, "--platform", "linux-64", "--override-channels", "-f", envFile)
	d := decode(t, r)
	if want := filepath.Join(root, "envs", "web"); r.code != 0 || d.Prefix != want {
		t.Fatalf("exit %d prefix %q, want %q\nstderr: %s", r.code, d.Prefix, want, r.stderr)
	}
	if got := linked(t, d); len(got) != 3 || got[2] != "requests 2.31.0 pyh_0 noarch" {
		t.Errorf("LINK %q", got)
	}

	// A channel given as a plain path, relative to the working directory.
	chanDir := strings.TrimPrefix(ch, "file://")
	t.Chdir(filepath.Dir(chanDir))
	r = runCLI(t, "create", "--dry-run", "--json", "-p", filepath.Join(dir, "p"), "--platform", "linux-64",
		"--override-channels", "-c", "./"+filepath.Base(chanDir), "python")
	d = decode(t, r)
	if got := linked(t, d); r.code != 0 || !slices.Equal(got, []string{"python 3.12.1 h_0 linux-64"}) {
		t.Errorf("plain path channel: exit %d, LINK %q\nstderr: %s", r.code, got, r.stderr)
	}

	// An @EXPLICIT file is the environment: no channel, no solve.
	r = runCLI(t, "create", "--dry-run", "--json", "-p", filepath.Join(dir, "e"), "--platform", "linux-64", "-f", explicit)
	d = decode(t, r)
	if got := linked(t, d); r.code != 0 || !slices.Equal(got, []string{"python 3.11.9 h_0 linux-64"}) {
		t.Errorf("exit %d, LINK %q\nstderr: %s", r.code, got, r.stderr)
	}
}

// TestCreateBadInput checks that bad input gives one clear error on stderr,
// a non-zero exit and nothing on stdout.
func TestCreateBadInput(t *testing.T) {
	ch := "file://" + testChannel(t)
	dir := t.TempDir()
	badEnv := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(badEnv, []byte("dependencies:\n  - sel(beos): x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	explicit := filepath.Join(dir, "x.txt")
	if err := os.WriteFile(explicit, []byte("@EXPLICIT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"create", "--dry-run", "--json", "-p", filepath.Join(dir, "env"), "--platform", "linux-64", "--override-channels"}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"malformed spec", []string{"-c", ch, "numpy >=1..2"}, `parse match spec "numpy >=1..2"`},
		{"bad env file", []string{"-c", ch, "-f", badEnv}, `parse environment file "` + badEnv + `": dependencies, line 2: selector "sel(beos)": unknown`},
		{"missing file", []string{"-c", ch, "-f", filepath.Join(dir, "nope.yml")}, "no such file"},
		{"unreachable channel", []string{"-c", "http://127.0.0.1:1/chan", "python"}, "http://127.0.0.1:1/chan"},
		{"no channel", []string{"python"}, "no channels"},
		{"bad platform", []string{"-c", ch, "--platform", "beos-64", "python"}, `parse platform "beos-64"`},
		{"bad priority", []string{"-c", ch, "--channel-priority", "loose", "python"}, `channel priority "loose"`},
		{"explicit with specs", []string{"-f", explicit, "python"}, "give it alone"},
		{"prefix and name", []string{"-c", ch, "-n", "x", "python"}, "not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			r := runCLI(t, append(slices.Clone(base), tc.args...)...)
			if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, tc.wantErr) || strings.Count(r.stderr, "error:") != 1 {
				t.Fatalf("exit %d\nstdout: %q\nstderr: %q\nwant one error containing %q", r.code, r.stdout, r.stderr, tc.wantErr)
			}
		})
	}
}

// TestCreateMissingPackageLeavesNoPrefix creates from a channel whose index
// lists a package file that is not there: one error naming the file, and no
// prefix folder left.
func TestCreateMissingPackageLeavesNoPrefix(t *testing.T) {
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36")
	prefix := filepath.Join(t.TempDir(), "env")
	r := runCLI(t, "create", "-y", "-p", prefix, "--platform", "linux-64", "-c", "file://"+testChannel(t), "python")
	if r.code == 0 || !strings.Contains(r.stderr, "python-3.12.1-h_0.conda") || strings.Count(r.stderr, "error") != 1 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(prefix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("prefix %s was created: %v", prefix, err)
	}
}

// TestCreateOverHTTPHidesToken solves against the loopback channel server
// with an anaconda.org-style token and checks that no output shows it.
func TestCreateOverHTTPHidesToken(t *testing.T) {
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36")
	const token = "tk-5ecret-0123456789"
	srv, err := server.Start(t.Context(), testChannel(t), server.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || !strings.Contains(srv.URL(), token) {
		t.Fatalf("server URL %q", srv.URL())
	}
	// -vv: the logged requests must not show the token either.
	base := []string{"create", "-vv", "--dry-run", "--json", "-p", filepath.Join(t.TempDir(), "env"), "--platform", "linux-64", "--override-channels", "-c", srv.URL()}
	for _, tc := range []struct {
		specs []string
		code  int
	}{{[]string{"requests"}, 0}, {[]string{"python=3.13"}, 1}, {[]string{"nosuchpkg"}, 1}} {
		r := runCLI(t, append(slices.Clone(base), tc.specs...)...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d\nstderr: %s", tc.specs, r.code, tc.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, token) {
			t.Errorf("%v: the token shows in the output:\n%s\n%s", tc.specs, r.stdout, r.stderr)
		}
		if tc.code == 0 && !strings.Contains(r.stderr, "msg=GET url=http://127.0.0.1:") { // later runs read the cached index
			t.Errorf("%v: -vv logged no request:\n%s", tc.specs, r.stderr)
		}
		if tc.code == 0 {
			if got := linked(t, decode(t, r)); len(got) != 3 {
				t.Errorf("LINK %q", got)
			}
		}
	}
	// A wrong token is refused by the server; the error names the channel
	// without the token.
	wrong := strings.Replace(srv.URL(), token, "tk-wrong-token-999", 1)
	r := runCLI(t, append(slices.Clone(base[:len(base)-1]), wrong, "python")...)
	if r.code == 0 || strings.Contains(r.stderr, "tk-wrong-token-999") || !strings.Contains(r.stderr, "127.0.0.1") {
		t.Errorf("wrong token: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestMain makes the test binary act as condabox when CONDABOX_AS_MAIN is
// set, so that tests run main() as a real subprocess without a go build.
func TestMain(m *testing.M) {
	if os.Getenv("CONDABOX_AS_MAIN") != "" {
		main()
	}
	os.Exit(m.Run())
}

// TestBinaryCreate runs condabox as a subprocess: exit codes, stdout and
// stderr as a shell sees them.
func TestBinaryCreate(t *testing.T) {
	home := isolate(t)
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ch := "file://" + testChannel(t)
	for _, tc := range []struct {
		spec string
		code int
	}{{"requests", 0}, {"python=3.13", 1}, {"numpy >=1..2", 1}} {
		cmd := exec.Command(bin, "create", "--dry-run", "--json", "-y", "-p", filepath.Join(home, "env"),
			"--platform", "linux-64", "--override-channels", "-c", ch, tc.spec)
		cmd.Env = append(os.Environ(), "CONDA_OVERRIDE_GLIBC=2.36", "CONDABOX_AS_MAIN=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(tc.spec, "..") { // bad input: an error, no JSON
			if code != tc.code || stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), "condabox: error: parse match spec") {
				t.Errorf("%s: exit %d, stdout %q, stderr %q", tc.spec, code, stdout.String(), stderr.String())
			}
			continue
		}
		d := decode(t, result{stdout.String(), stderr.String(), code})
		if code != tc.code || d.Success != (tc.code == 0) {
			t.Errorf("%s: exit %d success %v, want exit %d\nstderr: %s", tc.spec, code, d.Success, tc.code, stderr.String())
		}
	}
}

// TestCreateRealisticChannel solves `python requests jq` on the realistic
// channel (real Debian binaries as conda packages), served over loopback.
func TestCreateRealisticChannel(t *testing.T) {
	dir := realisticChannel(t)
	isolate(t)
	srv := serve(t, dir, server.Options{})
	r := runCLI(t, "create", "--dry-run", "--json", "-y", "-p", filepath.Join(t.TempDir(), "env"), "--platform", "linux-64",
		"--override-channels", "-c", srv.URL(), "python", "requests", "jq")
	d := decode(t, r)
	if r.code != 0 || !d.Success {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	pos := map[string]int{}
	for i, e := range linked(t, d) {
		pos[strings.Fields(e)[0]] = i
	}
	for _, name := range []string{"python", "requests", "jq", "libjq", "urllib3", "openssl"} {
		if _, ok := pos[name]; !ok {
			t.Errorf("%s not linked: %v", name, linked(t, d))
		}
	}
	// Dependencies come first.
	if pos["python"] > pos["requests"] || pos["libjq"] > pos["jq"] {
		t.Errorf("install order %v", linked(t, d))
	}
}

// TestCreateRelocatePrefix creates an environment in one folder for
// another (--relocate-prefix), moves it there and runs its programs: each
// finds the final prefix. A relative --relocate-prefix is refused before
// anything is done.
func TestCreateRelocatePrefix(t *testing.T) {
	dir := realisticChannel(t)
	isolate(t)
	srv := serve(t, dir, server.Options{})
	base := t.TempDir()
	stage, final := filepath.Join(base, "stage"), filepath.Join(base, "opt", "conda")
	r := runCLI(t, "create", "-y", "-p", stage, "--relocate-prefix", final, "--override-channels", "-c", srv.URL(),
		"python", "requests", "edge-text-placeholder")
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(stage, final); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(final, "bin", "edge-text-prefix")).Output()
	if err != nil || strings.TrimSpace(string(out)) != final {
		t.Errorf("edge-text-prefix printed %q (%v), want %s", out, err, final)
	}
	r = runCLI(t, "run", "-p", final, "python", "-c", "import requests, sys; print(sys.prefix)")
	if r.code != 0 || strings.TrimSpace(r.stdout) != final {
		t.Errorf("run python: exit %d, stdout %q, want %s\nstderr: %s", r.code, r.stdout, final, r.stderr)
	}

	r = runCLI(t, "create", "-y", "-p", filepath.Join(base, "x"), "--relocate-prefix", "opt/conda", "--override-channels", "-c", srv.URL(), "python")
	if r.code == 0 || !strings.Contains(r.stderr, `--relocate-prefix "opt/conda": want an absolute path`) {
		t.Errorf("relative --relocate-prefix: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(base, "x")); err == nil {
		t.Error("the refused create made its prefix")
	}
}

// TestCreateChannelPriority puts an old python in the first channel and a
// new one in the second: strict priority keeps the first channel's,
// disabled takes the newest.
// pythonChannels writes two channels of one python each: 3.10.4 in first,
// 3.12.1 in second.
func pythonChannels(t *testing.T) (first, second string) {
	t.Helper()
	first, second = t.TempDir(), t.TempDir()
	for dir, version := range map[string]string{first: "3.10.4", second: "3.12.1"} {
		if err := index.WriteChannel(dir, []conda.PackageRecord{record("linux-64", "python", version, "h_0")}, index.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	return first, second
}

func TestCreateChannelPriority(t *testing.T) {
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36")
	first, second := pythonChannels(t)
	for _, tc := range []struct {
		priority, want string
	}{{"strict", "3.10.4"}, {"flexible", "3.10.4"}, {"disabled", "3.12.1"}, {"", "3.10.4"},
		{"--no-channel-priority", "3.12.1"}, {"--strict-channel-priority", "3.10.4"}} {
		args := []string{"create", "--dry-run", "--json", "-p", filepath.Join(t.TempDir(), "env"), "--platform", "linux-64",
			"--override-channels", "-c", "file://" + first, "-c", "file://" + second, "python"}
		switch {
		case strings.HasPrefix(tc.priority, "--"):
			args = append(args, tc.priority) // micromamba's shorthands
		case tc.priority != "":
			args = append(args, "--channel-priority", tc.priority)
		}
		r := runCLI(t, args...)
		if got := linked(t, decode(t, r)); r.code != 0 || len(got) != 1 || strings.Fields(got[0])[1] != tc.want {
			t.Errorf("priority %q: exit %d, LINK %q, want python %s\nstderr: %s", tc.priority, r.code, got, tc.want, r.stderr)
		}
	}
}

// TestCreateOffline solves from the cached index once the server is gone,
// and fails clearly when nothing is cached.
func TestCreateOffline(t *testing.T) {
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36")
	srv, err := server.Start(t.Context(), testChannel(t), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"create", "--dry-run", "--json", "-p", filepath.Join(t.TempDir(), "env"), "--platform", "linux-64",
		"--override-channels", "-c", srv.URL(), "requests"}
	if r := runCLI(t, args...); r.code != 0 {
		t.Fatalf("online: exit %d\nstderr: %s", r.code, r.stderr)
	}
	srv.Close()
	r := runCLI(t, append(args, "--offline")...)
	if got := linked(t, decode(t, r)); r.code != 0 || len(got) != 3 {
		t.Errorf("offline: exit %d, LINK %q\nstderr: %s", r.code, got, r.stderr)
	}
	isolate(t) // an empty cache
	r = runCLI(t, append(args, "--offline")...)
	if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, "offline") {
		t.Errorf("offline without a cache: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestCreateEmptyEnvironment: create without specs makes an empty
// environment, as micromamba's does, which install then fills; install
// without specs still has nothing to do.
func TestCreateEmptyEnvironment(t *testing.T) {
	ch := "file://" + imageChannel(t)
	isolate(t)
	prefix := filepath.Join(t.TempDir(), "empty")
	if r := runCLI(t, "create", "-y", "-p", prefix); r.code != 0 {
		t.Fatalf("create without specs: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta", "history")); err != nil {
		t.Fatalf("the empty environment has no conda-meta/history: %v", err)
	}
	r := runCLI(t, "install", "-y", "-p", prefix, "--platform", "linux-64", "--override-channels", "-c", ch)
	if r.code == 0 || !strings.Contains(r.stderr, "nothing to install") {
		t.Errorf("install without specs: exit %d, %q", r.code, r.stderr)
	}
	if r := runCLI(t, "install", "-y", "-p", prefix, "--platform", "linux-64", "--override-channels", "-c", ch, "hello"); r.code != 0 {
		t.Fatalf("install into the empty environment: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(prefix, "bin", "hello")); err != nil {
		t.Errorf("hello not installed: %v", err)
	}
}

// TestCreateDownloadOnly fills the package cache and links nothing: the
// prefix is not created, and an offline create then needs no channel.
func TestCreateDownloadOnly(t *testing.T) {
	ch := imageChannel(t)
	home := isolate(t)
	prefix := filepath.Join(t.TempDir(), "env")
	args := []string{"create", "-y", "-p", prefix, "--platform", "linux-64", "--override-channels", "-c", "file://" + ch, "hello"}
	r := runCLI(t, append(args, "--download-only")...)
	if r.code != 0 || !strings.Contains(r.stdout, "Downloaded only: 2 packages in the package cache (2 fetched), nothing linked") {
		t.Fatalf("create --download-only: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(prefix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--download-only made %s: %v", prefix, err)
	}
	cached, _ := filepath.Glob(filepath.Join(home, "root", "pkgs", "*.conda"))
	if len(cached) != 2 {
		t.Errorf("package cache holds %q, want hello's and greeting's archives", cached)
	}
	if err := os.RemoveAll(ch); err != nil { // the channel is gone: the cache must do
		t.Fatal(err)
	}
	if r := runCLI(t, append(args, "--offline")...); r.code != 0 || !strings.Contains(r.stdout, "2 linked") {
		t.Fatalf("offline create after --download-only: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// TestCreateDeps: --no-deps installs the requested package alone,
// --only-deps what it needs alone; install --no-deps adds a package and
// leaves the rest as it is. The two together are refused.
func TestCreateDeps(t *testing.T) {
	ch := "file://" + imageChannel(t)
	isolate(t)
	names := func(prefix string) []string {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(prefix, "conda-meta", "*.json"))
		var out []string
		for _, f := range files {
			out = append(out, strings.SplitN(filepath.Base(f), "-", 2)[0])
		}
		return out
	}
	common := []string{"-y", "--platform", "linux-64", "--override-channels", "-c", ch}
	for _, tc := range []struct {
		flag string
		want []string
	}{{"--no-deps", []string{"hello"}}, {"--only-deps", []string{"greeting"}}, {"", []string{"greeting", "hello"}}} {
		prefix := filepath.Join(t.TempDir(), "env")
		args := append([]string{"create", "-p", prefix, "hello"}, common...)
		if tc.flag != "" {
			args = append(args, tc.flag)
		}
		if r := runCLI(t, args...); r.code != 0 || !slices.Equal(names(prefix), tc.want) {
			t.Errorf("create %s hello: exit %d, installed %q, want %q\nstderr: %s", tc.flag, r.code, names(prefix), tc.want, r.stderr)
		}
		if tc.flag == "--only-deps" {
			r := runCLI(t, append([]string{"install", "-p", prefix, "--no-deps", "hello"}, common...)...)
			if want := []string{"greeting", "hello"}; r.code != 0 || !slices.Equal(names(prefix), want) {
				t.Errorf("install --no-deps hello: exit %d, installed %q, want %q\nstderr: %s", r.code, names(prefix), want, r.stderr)
			}
		}
	}
	for _, bad := range [][]string{{"--no-deps", "--only-deps"}, {"--strict-channel-priority", "--channel-priority", "disabled"}} {
		r := runCLI(t, append(append([]string{"create", "-p", filepath.Join(t.TempDir(), "env"), "hello"}, common...), bad...)...)
		if r.code == 0 || !strings.Contains(r.stderr, bad[0]) {
			t.Errorf("create %q: exit %d, stderr %q; want an error naming %s", bad, r.code, r.stderr, bad[0])
		}
	}
}

// TestCreateSpecChannel: a spec that names its channel (channel::name)
// needs no -c, as in conda and micromamba: its channel joins the others,
// also with --override-channels and from an environment file.
func TestCreateSpecChannel(t *testing.T) {
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36")
	first, second := pythonChannels(t)
	envFile := filepath.Join(t.TempDir(), "env.yml")
	if err := os.WriteFile(envFile, []byte("dependencies: [\"file://"+second+"::python\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"file://" + first + "::python"}, "3.10.4"},
		{[]string{"--override-channels", "file://" + second + "::python"}, "3.12.1"},
		// The spec's channel wins over a -c channel of higher priority.
		{[]string{"-c", "file://" + first, "file://" + second + "::python"}, "3.12.1"},
		{[]string{"-f", envFile}, "3.12.1"},
	} {
		args := append([]string{"create", "--dry-run", "--json", "-p", filepath.Join(t.TempDir(), "env"), "--platform", "linux-64"}, tc.args...)
		r := runCLI(t, args...)
		if got := linked(t, decode(t, r)); r.code != 0 || len(got) != 1 || strings.Fields(got[0])[1] != tc.want {
			t.Errorf("%q: exit %d, LINK %q, want python %s\nstderr: %s", tc.args, r.code, got, tc.want, r.stderr)
		}
	}
	// Without any channel, the error still says how to give one.
	r := runCLI(t, "create", "--dry-run", "-p", filepath.Join(t.TempDir(), "env"), "python")
	if r.code == 0 || !strings.Contains(r.stderr, "no channels") {
		t.Errorf("create python without channels: exit %d, stderr %q; want the no-channels error", r.code, r.stderr)
	}
	// defaults is several channels: no spec's own.
	r = runCLI(t, "create", "--dry-run", "-p", filepath.Join(t.TempDir(), "env"), "-c", "file://"+first, "defaults::python")
	if r.code == 0 || !strings.Contains(r.stderr, `spec "defaults::python": defaults is several channels`) {
		t.Errorf("create defaults::python: exit %d, stderr %q", r.code, r.stderr)
	}
}
