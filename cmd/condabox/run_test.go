package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRunSourcesActivateScripts: condabox run sources the environment's
// activate.d/*.sh in name order before the command, whose output and exit
// code are condabox run's.
func TestRunSourcesActivateScripts(t *testing.T) {
	isolate(t)
	prefix := t.TempDir()
	mkdir(t, filepath.Join(prefix, "conda-meta"))
	scripts := mkdir(t, filepath.Join(prefix, "etc", "conda", "activate.d"))
	writeFile(t, scripts, "2-then.sh", `export Y="$CONDA_PREFIX" ORDER="$ORDER then"`+"\n")
	writeFile(t, scripts, "1-first.sh", `export X="$(echo computed)" ORDER=first`+"\n")
	r := runCLI(t, "run", "-p", prefix, "sh", "-c", `echo "$X|$Y|$ORDER"; exit 4`)
	if want := "computed|" + prefix + "|first then"; strings.TrimSpace(r.stdout) != want || r.code != 4 {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 4 and %q", r.code, r.stdout, r.stderr, want)
	}
}

// TestRunCwdAndEnv: --cwd runs the command in that folder; -e sets
// variables, the last of a name winning, seen by activate.d scripts too; a
// malformed -e is refused before anything runs.
func TestRunCwdAndEnv(t *testing.T) {
	isolate(t)
	prefix, work := t.TempDir(), t.TempDir()
	mkdir(t, filepath.Join(prefix, "conda-meta"))
	scripts := mkdir(t, filepath.Join(prefix, "etc", "conda", "activate.d"))
	writeFile(t, scripts, "seen.sh", `export SEEN="$X"`+"\n")
	r := runCLI(t, "run", "-p", prefix, "--cwd", work, "-e", "X=1", "-e", "X=2", "-e", "EMPTY=", "sh", "-c", `echo "$(pwd)|$X|$SEEN|${EMPTY-unset}|$CONDA_PREFIX"`)
	if want := work + "|2|2||" + prefix; r.code != 0 || strings.TrimSpace(r.stdout) != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want %q", r.code, r.stdout, r.stderr, want)
	}
	for _, bad := range []string{"NOEQUALS", "=value"} {
		r := runCLI(t, "run", "-p", prefix, "-e", bad, "sh", "-c", "echo ran")
		if r.code == 0 || strings.Contains(r.stdout, "ran") || !strings.Contains(r.stderr, "want NAME=VALUE") {
			t.Errorf("-e %q: exit %d, stdout %q, stderr %q", bad, r.code, r.stdout, r.stderr)
		}
	}
}
