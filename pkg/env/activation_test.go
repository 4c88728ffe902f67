package env

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeFiles writes prefix-relative files.
func writeFiles(t testing.TB, prefix string, files map[string]string) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(prefix, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestActivatedEnv(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		base  []string
		want  []string // KEY=VALUE pairs that must be present (@P stands for the prefix)
		err   string
	}{
		{"activation basics", nil, []string{"PATH=/usr/bin:/bin", "HOME=/root"},
			[]string{"PATH=@P/bin:/usr/bin:/bin", "CONDA_PREFIX=@P", "CONDA_DEFAULT_ENV=myenv", "CONDA_SHLVL=1", "HOME=/root"}, ""},
		{"nested activation", nil, []string{"CONDA_SHLVL=2"}, []string{"CONDA_SHLVL=3", "PATH=@P/bin"}, ""},
		{"env_vars.d in name order, then state", map[string]string{
			"etc/conda/env_vars.d/b.json": `{"B": "from-b", "SHARED": "b"}`,
			"etc/conda/env_vars.d/a.json": `{"A": "from-a", "SHARED": "a"}`,
			"conda-meta/state":            `{"env_vars": {"STATE": "s", "A": "overridden"}}`,
		}, nil, []string{"A=overridden", "B=from-b", "SHARED=b", "STATE=s"}, ""},
		{"bad env_vars.d file", map[string]string{"etc/conda/env_vars.d/x.json": `["not", "an", "object"]`}, nil, nil, "x.json: want a JSON object of strings"},
		{"empty variable name", map[string]string{"etc/conda/env_vars.d/y.json": `{"": "v"}`}, nil, nil, "y.json: variable"},
		{"NUL in a state value", map[string]string{"conda-meta/state": `{"env_vars": {"K": "a\u0000b"}}`}, nil, nil, "state: variable"},
		{"bad state", map[string]string{"conda-meta/state": `{"env_vars": 3}`}, nil, nil, "state: want a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := t.TempDir()
			writeFiles(t, prefix, tc.files)
			got, err := ActivatedEnv(prefix, "myenv", tc.base)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "@P", prefix); !slices.Contains(got, w) {
					t.Errorf("missing %q in %q", w, got)
				}
			}
		})
	}
}

func TestCommandFindsEnvironmentPrograms(t *testing.T) {
	prefix := t.TempDir()
	writeFiles(t, prefix, map[string]string{"conda-meta/history": "", "bin/only-in-env": "#!/bin/sh\necho hi\n"})
	for _, tc := range []struct {
		args []string
		want string // the resolved program, "" for an error
	}{
		{[]string{"only-in-env", "x"}, filepath.Join(prefix, "bin", "only-in-env")},
		{[]string{"/bin/sh", "-c", "true"}, "/bin/sh"},
		{[]string{"no-such-program-anywhere"}, ""},
		{nil, ""},
	} {
		cmd, err := Command(t.Context(), prefix, "e", os.Environ(), tc.args, "")
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%q: no error", tc.args)
		case tc.want != "" && (err != nil || cmd.Path != tc.want):
			t.Errorf("%q: path %v, error %v; want %s", tc.args, cmd, err, tc.want)
		}
	}
	if _, err := Command(t.Context(), t.TempDir(), "e", os.Environ(), []string{"sh"}, ""); err == nil || !strings.Contains(err.Error(), "not a conda environment") {
		t.Errorf("a folder without conda-meta: %v", err)
	}
}

// TestCommandInterruptedGetsInterrupt: cancelling the context sends the
// command an interrupt it can handle, not a kill.
func TestCommandInterruptedGetsInterrupt(t *testing.T) {
	prefix := t.TempDir()
	writeFiles(t, prefix, map[string]string{"conda-meta/history": ""})
	ctx, cancel := context.WithCancel(t.Context())
	cmd, err := Command(ctx, prefix, "e", os.Environ(), []string{"sh", "-c", `trap "exit 42" INT; echo ready; while :; do sleep 0.05; done`}, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := out.Read(make([]byte, 6)); err != nil { // "ready": the trap is set
		t.Fatal(err)
	}
	cancel()
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 42 {
		t.Errorf("exit %v, want 42 from the INT trap", err)
	}
}

// TestActivatedProcess runs the process: activate.d scripts are sourced in
// name order after the variables are set, only *.sh, and the command then
// replaces the shell (same pid, its own arguments and exit code).
func TestActivatedProcess(t *testing.T) {
	prefix := t.TempDir()
	writeFiles(t, prefix, map[string]string{
		"conda-meta/history":                "",
		"etc/conda/env_vars.d/v.json":       `{"FROM_JSON": "json"}`,
		"etc/conda/activate.d/b.sh":         `export ORDER="$ORDER b"` + "\n",
		"etc/conda/activate.d/a.sh":         `export ORDER=a SEEN="$CONDA_PREFIX $FROM_JSON"` + "\n",
		"etc/conda/activate.d/it's 10.sh":   `export ORDER="$ORDER quoted"` + "\n",
		"etc/conda/activate.d/c.csh":        "setenv ORDER csh\n",
		"etc/conda/activate.d/d.sh/keep.sh": "", // a folder named *.sh is not sourced
	})
	if err := os.Remove(filepath.Join(prefix, "etc/conda/activate.d/d.sh/keep.sh")); err != nil {
		t.Fatal(err)
	}
	script := `echo "$ORDER|$SEEN|$0|$1|$$"; exit 3`
	args := []string{"sh", "-c", script, "zero", "one"}
	for _, tc := range []struct {
		name, shell string
		want        string // output before the pid
	}{
		{"with a shell", "/bin/sh", "a b quoted|" + prefix + " json|zero|one|"},
		{"without a shell the scripts are skipped", "", "||zero|one|"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ActivatedProcess(prefix, "e", []string{"PATH=/usr/bin:/bin"}, args, tc.shell)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(p.Path, p.Args[1:]...)
			cmd.Env = p.Env
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			err = cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 3 {
				t.Errorf("exit %v, want 3\n%s", err, out.String())
			}
			// The pid: the command replaced the shell.
			if want := tc.want + strconv.Itoa(cmd.Process.Pid); strings.TrimSpace(out.String()) != want {
				t.Errorf("output %q, want %q", out.String(), want)
			}
		})
	}
	// A shell's `exec` of nothing would succeed doing nothing.
	if _, err := ActivatedProcess(prefix, "e", nil, nil, "/bin/sh"); err == nil || !strings.Contains(err.Error(), "no command given") {
		t.Errorf("no command: %v, want an error", err)
	}
}
