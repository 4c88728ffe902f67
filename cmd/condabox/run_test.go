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
