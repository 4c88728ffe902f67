package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEnvRemove removes environments by name and path, and refuses what is
// not one to remove.
func TestEnvRemove(t *testing.T) {
	ch := "file://" + imageChannel(t)
	for _, tc := range []struct {
		name  string
		args  []string // after env remove; {home} and {root} are replaced
		stdin string
		env   map[string]string // {home} and {root} replaced
		// gone is the environment removed ("" for none); wantErr the
		// error when refused.
		gone, wantErr string
	}{
		{name: "by name", args: []string{"-y", "-n", "one"}, gone: "{root}/envs/one"},
		{name: "by path", args: []string{"-y", "-p", "{home}/elsewhere"}, gone: "{home}/elsewhere"},
		{name: "relative path", args: []string{"-y", "-p", "elsewhere"}, gone: "{home}/elsewhere"},
		{name: "confirmed", args: []string{"-n", "one"}, stdin: "yes\n", gone: "{root}/envs/one"},
		{name: "declined", args: []string{"-n", "one"}, stdin: "n\n", wantErr: "not confirmed"},
		{name: "no answer", args: []string{"-n", "one"}, wantErr: "not confirmed"},
		{name: "dry run", args: []string{"-y", "--dry-run", "-n", "one"}},
		{name: "base", args: []string{"-y", "-n", "base"}, wantErr: "root prefix (base)"},
		{name: "root prefix by path", args: []string{"-y", "-p", "{root}/"}, wantErr: "root prefix (base)"},
		{name: "active", args: []string{"-y", "-n", "one"}, env: map[string]string{"CONDA_PREFIX": "{root}/envs/one"}, wantErr: "active environment"},
		{name: "not an environment", args: []string{"-y", "-p", "{home}/plain"}, wantErr: "not a conda environment"},
		{name: "missing", args: []string{"-y", "-n", "nope"}, wantErr: "no such environment"},
		{name: "symbolic link", args: []string{"-y", "-p", "{home}/link"}, wantErr: "symbolic link"},
		{name: "no target", args: []string{"-y"}, wantErr: "give -n NAME or -p PREFIX"},
		{name: "both", args: []string{"-y", "-n", "one", "-p", "{home}/elsewhere"}, wantErr: "not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := isolate(t)
			root := filepath.Join(home, "root")
			expand := strings.NewReplacer("{home}", home, "{root}", root).Replace
			createEnv(t, "-n", "one", "--override-channels", "-c", ch, "hello")
			createEnv(t, "-p", filepath.Join(home, "elsewhere"))
			mustWrite(t, filepath.Join(root, "conda-meta", "history"), "") // base, an environment too
			mustWrite(t, filepath.Join(home, "plain", "data.txt"), "not an environment")
			if err := os.Symlink(filepath.Join(root, "envs", "one"), filepath.Join(home, "link")); err != nil {
				t.Fatal(err)
			}
			registered := []string{filepath.Join(root, "envs", "one"), "/somewhere/else", filepath.Join(home, "elsewhere")}
			envTxt := filepath.Join(home, ".conda", "environments.txt")
			mustWrite(t, envTxt, strings.Join(registered, "\n")+"\n")
			for k, v := range tc.env {
				t.Setenv(k, expand(v))
			}
			t.Chdir(home)
			before := files(t, home)

			args := []string{"env", "remove"}
			for _, a := range tc.args {
				args = append(args, expand(a))
			}
			cmd := newRootCmd()
			var out, errOut bytes.Buffer
			cmd.SetArgs(args)
			cmd.SetIn(strings.NewReader(tc.stdin))
			cmd.SetOut(&out)
			cmd.SetErr(&errOut)
			err := cmd.ExecuteContext(t.Context())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("%q: %v\nstderr: %s", args, err, errOut.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("%q: error %v, want one saying %q", args, err, tc.wantErr)
			}

			// Exactly the environment's folder is gone, or nothing.
			gone := expand(tc.gone)
			var want []string
			for _, rel := range before {
				if p := filepath.Join(home, rel); tc.gone == "" || p != gone && !strings.HasPrefix(p, gone+"/") {
					want = append(want, rel)
				}
			}
			if got := files(t, home); !slices.Equal(got, want) {
				t.Errorf("files after env remove:\n%q\nwant\n%q", got, want)
			}
			if tc.gone != "" && !strings.Contains(out.String(), "Removed environment "+gone) {
				t.Errorf("stdout %q: want it to name %s", out.String(), gone)
			}
			// environments.txt loses the removed environment's line only.
			wantRegistered := slices.DeleteFunc(slices.Clone(registered), func(p string) bool { return p == gone })
			b, err := os.ReadFile(envTxt)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Fields(string(b)); !slices.Equal(got, wantRegistered) {
				t.Errorf("environments.txt: %q, want %q", got, wantRegistered)
			}
		})
	}
}

// TestEnvCreate: env create is create.
func TestEnvCreate(t *testing.T) {
	home := isolate(t)
	ch := "file://" + imageChannel(t)
	r := runCLI(t, "env", "create", "-y", "--json", "-n", "one", "--override-channels", "-c", ch, "hello")
	if r.code != 0 {
		t.Fatalf("env create: exit %d\nstderr: %s", r.code, r.stderr)
	}
	prefix := filepath.Join(home, "root", "envs", "one")
	if got, want := linked(t, decode(t, r)), []string{"greeting 1.0 0 noarch", "hello 1.0 0 linux-64"}; !slices.Equal(got, want) {
		t.Errorf("env create linked %q, want %q", got, want)
	}
	if got := installedRecords(t, prefix); len(got) != 2 {
		t.Errorf("conda-meta of %s: %q, want greeting and hello", prefix, got)
	}
}

// mustWrite writes a file, making its folder.
func mustWrite(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
