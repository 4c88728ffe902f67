package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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

// TestRunCleanEnvAndAttach: --clean-env hides condabox's own variables
// from the command but keeps the activation's and -e's; -a passes only the
// named streams through.
func TestRunCleanEnvAndAttach(t *testing.T) {
	isolate(t)
	prefix := t.TempDir()
	mkdir(t, filepath.Join(prefix, "conda-meta"))
	t.Setenv("CONDABOX_TEST_OUTER", "outer")
	show := `echo "${CONDABOX_TEST_OUTER-unset}|$X|$CONDA_PREFIX|$PATH"; echo err >&2; cat`
	r := runCLIIn(t, "in", "run", "-p", prefix, "sh", "-c", show)
	if !strings.HasPrefix(r.stdout, "outer|||") && !strings.HasPrefix(r.stdout, "outer||"+prefix+"|") {
		t.Errorf("without --clean-env: stdout %q", r.stdout)
	}
	r = runCLIIn(t, "in", "run", "-p", prefix, "--clean-env", "-e", "X=1", "sh", "-c", show)
	want := "unset|1|" + prefix + "|" + filepath.Join(prefix, "bin")
	if r.code != 0 || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, cleanPath+"\nin") || r.stderr != "err\n" {
		t.Errorf("--clean-env: exit %d, stdout %q, stderr %q; want %q…%s then the input", r.code, r.stdout, r.stderr, want, cleanPath)
	}
	for _, tt := range []struct {
		attach         string
		stdout, stderr string
	}{
		{"stdout", "0|", ""},          // no stdin: cat reads /dev/null
		{"stderr,stdin", "", "err\n"}, // no stdout
		{"", "", ""},
	} {
		r := runCLIIn(t, "in", "run", "-p", prefix, "-a", tt.attach, "sh", "-c", `echo "$(cat | wc -c)|"; echo err >&2`)
		if r.code != 0 || strings.TrimSpace(r.stdout) != tt.stdout || r.stderr != tt.stderr {
			t.Errorf("-a %q: exit %d, stdout %q, stderr %q; want %q and %q", tt.attach, r.code, r.stdout, r.stderr, tt.stdout, tt.stderr)
		}
	}
	if r := runCLI(t, "run", "-p", prefix, "-a", "stdout,logs", "true"); r.code == 0 || !strings.Contains(r.stderr, `-a "logs"`) {
		t.Errorf("-a logs: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestRunDetach: -d returns at once with the command's process ID, while
// the command runs on in a session of its own, its output not condabox's.
func TestRunDetach(t *testing.T) {
	isolate(t)
	prefix, work := t.TempDir(), t.TempDir()
	mkdir(t, filepath.Join(prefix, "conda-meta"))
	done := filepath.Join(work, "done")
	// The command waits for done.go, which is written only once condabox
	// has returned: a run that waited for it would never return.
	r := runCLI(t, "run", "-p", prefix, "-d", "sh", "-c", `while [ ! -e "$1.go" ]; do sleep 0.05; done; echo visible; cut -d" " -f6 /proc/$$/stat > "$1.tmp"; echo "$CONDA_PREFIX" >> "$1.tmp"; mv "$1.tmp" "$1"`, "sh", done)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	writeFile(t, work, "done.go", "")
	m := regexp.MustCompile(`Kill process with: kill (\d+)`).FindStringSubmatch(r.stdout)
	if m == nil || strings.Count(r.stdout, "\n") != 2 || !strings.HasPrefix(r.stdout, "Running sh -c ") {
		t.Fatalf("stdout %q: want the process ID and none of the command's output", r.stdout)
	}
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(done); err == nil {
			got = b
			break
		}
	}
	lines := strings.Fields(string(got))
	if len(lines) != 2 || lines[0] != m[1] || lines[1] != prefix {
		t.Fatalf("the detached command wrote %q: want its own session %s (its PID) and CONDA_PREFIX %s", got, m[1], prefix)
	}
	if strings.Contains(r.stdout, "\nvisible") {
		t.Errorf("the detached command's output reached condabox's: %q", r.stdout)
	}
}
