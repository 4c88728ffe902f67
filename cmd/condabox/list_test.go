package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestList(t *testing.T) {
	home := isolate(t)
	ch := "file://" + imageChannel(t)
	if r := runCLI(t, "create", "-y", "-n", "demo", "--override-channels", "-c", ch, "hello"); r.code != 0 {
		t.Fatalf("create: exit %d\nstderr: %s", r.code, r.stderr)
	}
	demo := filepath.Join(home, "root", "envs", "demo")
	// names returns the package names of list's table or JSON output.
	names := func(t *testing.T, r result, asJSON bool) []string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
		}
		var out []string
		if asJSON {
			var entries []struct{ Name, Channel, Platform string }
			if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
			}
			for _, e := range entries {
				if e.Channel != ch || e.Platform == "" {
					t.Errorf("entry %+v: want channel %s and a platform", e, ch)
				}
				out = append(out, e.Name)
			}
			return out
		}
		if !strings.HasPrefix(r.stdout, `List of packages in environment: "`+demo+`"`) {
			t.Errorf("list does not name the environment first:\n%s", r.stdout)
		}
		for _, line := range strings.Split(r.stdout, "\n")[4:] {
			if f := strings.Fields(line); len(f) == 4 {
				out = append(out, f[0])
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		args   []string
		active string // $CONDA_PREFIX
		want   []string
	}{
		{"by name", []string{"-n", "demo"}, "", []string{"greeting", "hello"}},
		{"by prefix", []string{"-p", demo}, "/elsewhere", []string{"greeting", "hello"}},
		{"active", nil, demo, []string{"greeting", "hello"}},
		{"regex", []string{"-n", "demo", "^he"}, "", []string{"hello"}},
		{"regex anywhere", []string{"-n", "demo", "ll"}, "", []string{"hello"}},
		{"full name", []string{"-n", "demo", "-f", "hell"}, "", nil},
		{"no match", []string{"-n", "demo", "zzz"}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CONDA_PREFIX", tc.active)
			if got := names(t, runCLI(t, append([]string{"list"}, tc.args...)...), false); !slices.Equal(got, tc.want) {
				t.Errorf("list: %q, want %q", got, tc.want)
			}
			if got := names(t, runCLI(t, append([]string{"list", "--json"}, tc.args...)...), true); !slices.Equal(got, tc.want) {
				t.Errorf("list --json: %q, want %q", got, tc.want)
			}
		})
	}
	t.Setenv("CONDA_PREFIX", "")
	t.Run("export, read back by create", func(t *testing.T) {
		r := runCLI(t, "list", "-n", "demo", "--export")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "# This file may be used") || !strings.HasPrefix(lines[2], "# platform: ") ||
			!strings.HasPrefix(lines[3], "greeting=1.0=") || !strings.HasPrefix(lines[4], "hello=1.0=") {
			t.Fatalf("exit %d, export:\n%s%s", r.code, r.stdout, r.stderr)
		}
		file := filepath.Join(t.TempDir(), "spec.txt")
		if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := runCLI(t, "create", "-y", "-n", "again", "--override-channels", "-c", ch, "--file", file); r.code != 0 {
			t.Fatalf("create --file from the export: exit %d: %s", r.code, r.stderr)
		}
		if again := runCLI(t, "list", "-n", "again", "--export"); again.stdout != r.stdout {
			t.Errorf("the environment created from the export exports:\n%s\nnot:\n%s", again.stdout, r.stdout)
		}
	})
	t.Run("canonical", func(t *testing.T) {
		r := runCLI(t, "list", "-n", "demo", "--canonical", "^he")
		if want := ch + "/"; r.code != 0 || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, "::hello-1.0-") || strings.Count(r.stdout, "\n") != 1 {
			t.Errorf("exit %d, canonical: %q", r.code, r.stdout)
		}
	})
	t.Run("explicit, read back by create", func(t *testing.T) {
		plain := runCLI(t, "list", "-n", "demo", "--explicit")
		withMD5 := runCLI(t, "list", "-n", "demo", "--explicit", "--md5")
		if plain.code != 0 || !strings.Contains(plain.stdout, "@EXPLICIT\n") || strings.Count(plain.stdout, ".conda\n") != 2 || strings.Contains(plain.stdout, ".conda#") {
			t.Fatalf("list --explicit: exit %d\n%s%s", plain.code, plain.stdout, plain.stderr)
		}
		if withMD5.code != 0 || strings.Count(withMD5.stdout, ".conda#") != 2 {
			t.Errorf("list --explicit --md5:\n%s", withMD5.stdout)
		}
		file := filepath.Join(t.TempDir(), "explicit.txt")
		if err := os.WriteFile(file, []byte(withMD5.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := runCLI(t, "create", "-y", "-n", "from-explicit", "--file", file); r.code != 0 {
			t.Fatalf("create --file from list --explicit: exit %d: %s", r.code, r.stderr)
		}
		if a, b := runCLI(t, "list", "-n", "from-explicit", "--export").stdout, runCLI(t, "list", "-n", "demo", "--export").stdout; a != b {
			t.Errorf("created from the explicit list:\n%s\nnot:\n%s", a, b)
		}
		if r := runCLI(t, "list", "-n", "demo", "--md5"); r.code == 0 || !strings.Contains(r.stderr, "--md5 and --sha256 go with --explicit") {
			t.Errorf("--md5 alone: exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("revisions", func(t *testing.T) {
		if r := runCLI(t, "remove", "-y", "-n", "again", "hello"); r.code != 0 {
			t.Fatalf("remove: exit %d: %s", r.code, r.stderr)
		}
		r := runCLI(t, "list", "-n", "again", "--revisions")
		revs := strings.Split(strings.TrimSuffix(r.stdout, "\n\n"), "\n\n")
		if r.code != 0 || len(revs) != 2 || !strings.HasSuffix(strings.SplitN(revs[0], "\n", 2)[0], "  (rev 0)") ||
			!strings.Contains(revs[0], "\n    +greeting-1.0 (") || !strings.Contains(revs[0], "\n    +hello-1.0 (") ||
			!strings.HasSuffix(strings.SplitN(revs[1], "\n", 2)[0], "  (rev 1)") || !strings.Contains(revs[1], "\n    -hello-1.0 (") {
			t.Errorf("list --revisions: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	if r := runCLI(t, "list", "-n", "demo", "--export", "--json"); r.code == 0 {
		t.Error("list --export --json: no error")
	}
	if r := runCLI(t, "list", "-n", "demo", "he(llo"); r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, `pattern "he(llo"`) {
		t.Errorf("list with a bad regex: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestListNotAnEnvironment checks the one clear error of list and env
// export for a folder that is no environment.
func TestListNotAnEnvironment(t *testing.T) {
	home := isolate(t)
	t.Setenv("CONDA_PREFIX", "")
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"list", "-p", home}, home + ": not a conda environment"},
		{[]string{"list", "-p", filepath.Join(home, "missing")}, filepath.Join(home, "missing") + ": not a conda environment"},
		{[]string{"list", "-n", "nosuch"}, filepath.Join(home, "root", "envs", "nosuch") + ": not a conda environment"},
		{[]string{"list"}, filepath.Join(home, "root") + ": not a conda environment"}, // base, never created
		{[]string{"env", "export", "-p", home}, home + ": not a conda environment"},
		{[]string{"env", "export", "-p", home, "--explicit"}, home + ": not a conda environment"},
		{[]string{"list", "-n", "a", "-p", home}, "not both"},
		{[]string{"env", "export", "--explicit", "--json"}, "--explicit and --json"},
	} {
		r := runCLI(t, tc.args...)
		if r.code == 0 || r.stdout != "" || !strings.Contains(r.stderr, tc.wantErr) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("condabox %q: exit %d, stdout %q, stderr %q; want one error line containing %q", tc.args, r.code, r.stdout, r.stderr, tc.wantErr)
		}
	}
}
