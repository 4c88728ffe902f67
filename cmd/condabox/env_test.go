package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/server"
)

// installedRecords returns "name version build url md5 sha256" of each
// conda-meta record of prefix, sorted.
func installedRecords(t *testing.T, prefix string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(prefix, "conda-meta", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Name, Version, Build, URL, MD5, SHA256 string }
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, strings.Join([]string{r.Name, r.Version, r.Build, r.URL, r.MD5, r.SHA256}, " "))
	}
	slices.Sort(out)
	return out
}

// TestEnvExportRoundTrip creates an environment, exports it in every
// format, creates a new environment from each export and compares the
// installed records.
func TestEnvExportRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		channel func(t *testing.T) string
		specs   []string
	}{
		{"pkgbuild", func(t *testing.T) string { return "file://" + imageChannel(t) }, []string{"hello"}},
		{"realistic", func(t *testing.T) string { return serve(t, realisticChannel(t), server.Options{}).URL() },
			[]string{"python", "requests", "jq"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := tc.channel(t)
			home := isolate(t)
			cli := func(args ...string) string {
				t.Helper()
				r := runCLI(t, args...)
				if r.code != 0 {
					t.Fatalf("condabox %q: exit %d\nstderr: %s", args, r.code, r.stderr)
				}
				return r.stdout
			}
			cli(append([]string{"create", "-y", "-n", "src", "--override-channels", "-c", ch}, tc.specs...)...)
			src := filepath.Join(home, "root", "envs", "src")
			want := installedRecords(t, src)
			if len(want) < len(tc.specs)+1 {
				t.Fatalf("created %d records: %q", len(want), want)
			}
			for _, ex := range []struct {
				file string
				args []string
			}{
				{"env.yml", nil},
				{"no-build.yml", []string{"--no-build"}},
				{"history.yml", []string{"--from-history"}},
				{"explicit.txt", []string{"--explicit"}},
				{"explicit-sha256.txt", []string{"--explicit", "--sha256"}},
				{"explicit-bare.txt", []string{"--explicit", "--no-md5"}},
			} {
				t.Run(ex.file, func(t *testing.T) {
					out := cli(append([]string{"env", "export", "-n", "src"}, ex.args...)...)
					file := filepath.Join(home, ex.file)
					if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
					copyPrefix := filepath.Join(home, "copies", strings.TrimSuffix(ex.file, filepath.Ext(ex.file)))
					// No -c: the channels are the export's own.
					cli("create", "-y", "-p", copyPrefix, "-f", file)
					if got := installedRecords(t, copyPrefix); !slices.Equal(got, want) {
						t.Errorf("records created from %s:\n%s\nwant:\n%s\nexport:\n%s", ex.file, strings.Join(got, "\n"), strings.Join(want, "\n"), out)
					}
				})
			}
		})
	}
}

func TestEnvList(t *testing.T) {
	home := isolate(t)
	ch := "file://" + imageChannel(t)
	for _, name := range []string{"one", "two"} {
		if r := runCLI(t, "create", "-y", "-n", name, "--override-channels", "-c", ch, "hello"); r.code != 0 {
			t.Fatalf("create %s: exit %d\nstderr: %s", name, r.code, r.stderr)
		}
	}
	elsewhere := filepath.Join(home, "elsewhere")
	if r := runCLI(t, "create", "-y", "-p", elsewhere); r.code != 0 {
		t.Fatalf("create -p %s: exit %d\nstderr: %s", elsewhere, r.code, r.stderr)
	}
	// create registers every environment once, as conda and micromamba
	// do: created again, elsewhere is not listed twice.
	if r := runCLI(t, "create", "-y", "-p", elsewhere); r.code != 0 {
		t.Fatalf("create -p %s again: exit %d\nstderr: %s", elsewhere, r.code, r.stderr)
	}
	registered, err := os.ReadFile(filepath.Join(home, ".conda", "environments.txt"))
	wantRegistered := filepath.Join(home, "root", "envs", "one") + "\n" + filepath.Join(home, "root", "envs", "two") + "\n" + elsewhere + "\n"
	if err != nil || string(registered) != wantRegistered {
		t.Errorf("environments.txt: %q (%v), want %q", registered, err, wantRegistered)
	}
	two := filepath.Join(home, "root", "envs", "two")
	t.Setenv("CONDA_PREFIX", two)
	r := runCLI(t, "env", "list", "--json")
	var got struct{ Envs []string }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("env list --json: exit %d, %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
	if want := []string{filepath.Join(home, "root", "envs", "one"), two, elsewhere}; !slices.Equal(got.Envs, want) {
		t.Errorf("env list --json: %q, want %q", got.Envs, want)
	}
	r = runCLI(t, "env", "list")
	var active []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[1] == "*" {
			active = append(active, f[0]+" "+f[2])
		}
	}
	if want := []string{"two " + two}; r.code != 0 || !slices.Equal(active, want) {
		t.Errorf("env list: exit %d, active rows %q, want %q\n%s", r.code, active, want, r.stdout)
	}
}
