package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/server"
)

// queryNames runs repoquery --json and returns the name-version of the
// packages it answers, in order.
func queryNames(t *testing.T, args ...string) []string {
	t.Helper()
	r := runCLI(t, append([]string{"repoquery"}, append(args, "--json")...)...)
	var out struct {
		Query  struct{ Query, Type string }
		Result struct {
			Pkgs []struct{ Name, Version string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 {
		t.Fatalf("%q: exit %d, %v\nstdout: %s\nstderr: %s", args, r.code, err, r.stdout, r.stderr)
	}
	got := []string{}
	for _, p := range out.Result.Pkgs {
		got = append(got, p.Name+"-"+p.Version)
	}
	return got
}

// TestRepoquery: depends and whoneeds over the channels and over an
// installed environment, as a table, a tree and JSON.
func TestRepoquery(t *testing.T) {
	isolate(t)
	ch := []string{"--override-channels", "-c", "file://" + testChannel(t), "--platform", "linux-64"}
	// An environment as conda-meta records: python 3.11.9 (not the
	// channel's newest), urllib3 and requests.
	prefix := filepath.Join(t.TempDir(), "env")
	if err := os.MkdirAll(filepath.Join(prefix, "conda-meta"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ name, version, build, subdir, depends string }{
		{"python", "3.11.9", "h_0", "linux-64", `["__glibc >=2.17"]`},
		{"urllib3", "2.0.7", "pyh_0", "noarch", `["python >=3.8"]`},
		{"requests", "2.31.0", "pyh_0", "noarch", `["python >=3.8", "urllib3 >=1.21,<3"]`},
	} {
		rec := fmt.Sprintf(`{"name": %q, "version": %q, "build": %q, "build_number": 0, "subdir": %q, "depends": %s, "channel": "https://example.org/c/%s", "files": [], "paths_data": {"paths": [], "paths_version": 1}}`,
			r.name, r.version, r.build, r.subdir, r.depends, r.subdir)
		if err := os.WriteFile(filepath.Join(prefix, "conda-meta", r.name+"-"+r.version+"-"+r.build+".json"), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"-p", prefix}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"depends from the channels: the newest of each", append([]string{"depends", "requests"}, ch...), []string{"python-3.12.1", "urllib3-2.0.7"}},
		{"depends of a spec", append([]string{"depends", "python <3.12", "--recursive"}, ch...), []string{}},
		{"whoneeds from the channels", append([]string{"whoneeds", "python"}, ch...), []string{"requests-2.31.0", "urllib3-2.0.7"}},
		{"whoneeds, recursive", append([]string{"whoneeds", "urllib3", "--recursive"}, ch...), []string{"requests-2.31.0"}},
		{"depends in the environment", append([]string{"depends", "requests"}, env...), []string{"python-3.11.9", "urllib3-2.0.7"}},
		{"whoneeds in the environment", append([]string{"whoneeds", "python"}, env...), []string{"requests-2.31.0", "urllib3-2.0.7"}},
		{"whoneeds of a leaf", append([]string{"whoneeds", "requests"}, env...), []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := queryNames(t, tc.args...); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("tree", func(t *testing.T) {
		r := runCLI(t, append([]string{"repoquery", "depends", "requests", "--tree"}, env...)...)
		want := "requests 2.31.0 pyh_0\n├─ python 3.11.9 h_0\n└─ urllib3 2.0.7 pyh_0\n   └─ python 3.11.9 h_0 (above)\n"
		if r.code != 0 || r.stdout != want {
			t.Errorf("exit %d, tree:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
		}
		r = runCLI(t, append([]string{"repoquery", "whoneeds", "python", "--tree"}, env...)...)
		want = "python 3.11.9 h_0\n├─ requests 2.31.0 pyh_0\n└─ urllib3 2.0.7 pyh_0\n   └─ requests 2.31.0 pyh_0 (above)\n"
		if r.code != 0 || r.stdout != want {
			t.Errorf("exit %d, tree:\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
		}
	})
	t.Run("table", func(t *testing.T) {
		r := runCLI(t, append([]string{"repoquery", "whoneeds", "python"}, env...)...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.code != 0 || len(lines) != 3 || !strings.Contains(lines[0], "Version") || !strings.HasPrefix(strings.TrimSpace(lines[1]), "requests") {
			t.Errorf("exit %d, table:\n%s", r.code, r.stdout)
		}
	})
	t.Run("search", func(t *testing.T) {
		if got := queryNames(t, append([]string{"search", "url*"}, ch...)...); !slices.Equal(got, []string{"urllib3-2.0.7"}) {
			t.Errorf("repoquery search: %q", got)
		}
	})
	t.Run("whoneeds reads each repodata.json whole, not a shard per name", func(t *testing.T) {
		srv, err := server.Start(t.Context(), testChannel(t), server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := queryNames(t, "whoneeds", "python", "--override-channels", "-c", "http://"+srv.Addr(), "--platform", "linux-64")
		if !slices.Equal(got, []string{"requests-2.31.0", "urllib3-2.0.7"}) {
			t.Errorf("whoneeds over HTTP: %q", got)
		}
		var paths []string
		for _, r := range srv.Requests() {
			paths = append(paths, r.Path)
		}
		if !slices.ContainsFunc(paths, func(p string) bool { return strings.HasPrefix(p, "noarch/repodata.json") }) ||
			slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, "shard") }) {
			t.Errorf("requests %q: want repodata.json, no shard", paths)
		}
	})
	for _, bad := range [][]string{
		append([]string{"depends", "req*"}, env...),
		append([]string{"depends", "numpy"}, env...),
		append([]string{"depends", "requests >=>2"}, env...),
		{"depends", "requests", "-p", t.TempDir()},
		{"whoneeds"},
	} {
		if r := runCLI(t, append([]string{"repoquery"}, bad...)...); r.code == 0 || r.stderr == "" {
			t.Errorf("repoquery %q: exit %d, stderr %q; want an error", bad, r.code, r.stderr)
		}
	}
}
