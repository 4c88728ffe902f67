package install

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary a child process that runs one Sync
// (configured by the variable's JSON value) and exits; TestMain checks it.
const childEnv = "CONDABOX_INSTALL_TEST_CHILD"

// childConfig is the job of a child process.
type childConfig struct {
	Prefix string
	Dirs   []string
}

// childInstall runs the child's Sync and returns the exit code.
func childInstall() int {
	var c childConfig
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &c); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var pkgs []*Package
	for _, d := range c.Dirs {
		p, err := ReadPackage(d)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		pkgs = append(pkgs, p)
	}
	if _, err := Sync(context.Background(), c.Prefix, pkgs, Options{History: HistoryEntry{Cmd: "child"}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild starts a child process syncing prefix to pkgs.
func startChild(t *testing.T, prefix string, pkgs []*Package) *exec.Cmd {
	t.Helper()
	c := childConfig{Prefix: prefix}
	for _, p := range pkgs {
		c.Dirs = append(c.Dirs, p.Dir)
	}
	b, _ := json.Marshal(c)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestKillDuringTransaction kills a process that switches a prefix between
// two realistic environments (with and without python) at random points,
// and checks that recovery leaves the prefix consistent, in the state
// before or after.
func TestKillDuringTransaction(t *testing.T) {
	withPython := realisticPackages(t, []string{"python", "requests", "jq", "edge-versions", "edge-symlinks", "edge-binary-placeholder"},
		map[string]string{"edge-versions": "1.0.0=0"})
	withoutPython := realisticPackages(t, []string{"jq", "edge-versions", "edge-text-placeholder"},
		map[string]string{"edge-versions": "2.0.0=1"})
	targets := [][]*Package{withPython, withoutPython}
	dists := func(pkgs []*Package) []string {
		var out []string
		for _, p := range pkgs {
			out = append(out, p.Record.Dist())
		}
		slices.Sort(out)
		return out
	}

	// Time each switch once, to spread the kills over it.
	prefix := filepath.Join(t.TempDir(), "env")
	var took [2]time.Duration
	for i, target := range targets {
		start := time.Now()
		if err := startChild(t, prefix, target).Wait(); err != nil {
			t.Fatalf("child sync: %v", err)
		}
		took[i] = time.Since(start)
	}
	t.Logf("switch to the env with python: %v, back: %v (child processes)", took[0], took[1])

	// Run until 24 children were killed; a child that finished first
	// still checks the prefix but does not count.
	rng := rand.New(rand.NewPCG(1, 2))
	const wantKills, maxRuns = 24, 100
	killed, interrupted := 0, 0 // interrupted: killed inside a transaction
	for i := 0; killed < wantKills; i++ {
		if i == maxRuns {
			t.Fatalf("only %d of %d children were killed before finishing", killed, maxRuns)
		}
		before := installedDists(t, prefix)
		target := targets[i%2]
		cmd := startChild(t, prefix, target)
		time.Sleep(time.Duration(rng.Int64N(int64(took[i%2]))))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed++
		}
		recovered, err := Recover(prefix)
		if err != nil {
			t.Fatalf("run %d: recover: %v", i, err)
		}
		if recovered {
			interrupted++
		}
		after := installedDists(t, prefix)
		switch {
		case slices.Equal(after, before):
			t.Logf("run %d: recovered=%v: rolled back", i, recovered)
		case slices.Equal(after, dists(target)):
			t.Logf("run %d: recovered=%v: done", i, recovered)
		default:
			t.Fatalf("run %d: after recovery the prefix holds %v, want the state before (%v) or after (%v)", i, after, before, dists(target))
		}
		checkConsistent(t, prefix)
		if t.Failed() {
			t.Fatalf("run %d: prefix inconsistent after recovery", i)
		}
		if !slices.Equal(after, dists(target)) {
			// Rolled back: finish this switch so the next run kills the
			// other direction.
			if err := startChild(t, prefix, target).Wait(); err != nil {
				t.Fatalf("run %d: child sync after recovery: %v", i, err)
			}
		}
	}
	if interrupted < 5 {
		t.Errorf("%d children killed, only %d inside a transaction; want at least 5", killed, interrupted)
	}
}

// TestDiskFull installs into a prefix on a small tmpfs: the package that
// does not fit fails with the file it could not write, and the prefix is
// left as before.
func TestDiskFull(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	root := t.TempDir()
	mnt := filepath.Join(root, "mnt")
	must(t, os.Mkdir(mnt, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	pkgs := filepath.Join(root, "pkgs") // another filesystem: files are copied
	base := testPkg{name: "base", files: []testFile{{path: "share/base.txt", content: "base"}}}.write(t, pkgs)
	big := testPkg{name: "big", files: []testFile{
		{path: "share/small.txt", content: "small"},
		{path: "share/big.bin", content: strings.Repeat("x", 2<<20)},
	}}.write(t, pkgs)
	prefix := filepath.Join(mnt, "env")
	if _, err := Sync(context.Background(), prefix, []*Package{base}, Options{}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, prefix)
	_, err := Sync(context.Background(), prefix, []*Package{big}, Options{})
	if err == nil || !strings.Contains(err.Error(), "share/big.bin") || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error %v, want ENOSPC naming share/big.bin", err)
	}
	if after := snapshot(t, prefix); !maps.Equal(before, after) {
		t.Errorf("prefix changed by the failed install:\nbefore %v\nafter  %v", before, after)
	}
	checkConsistent(t, prefix)
}
