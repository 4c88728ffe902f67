package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/internal/testchannel/synthetic"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/redact"
)

// TestMain lets TestServeSubprocess run this test binary as the command.
func TestMain(m *testing.M) {
	if os.Getenv("TESTCHANNEL_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// lockedBuffer is a bytes.Buffer that the server's handlers may write while
// the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServe runs `testchannel serve` in-process on a free port, reads the
// URL it prints, and fetches a file through it with token and basic auth.
func TestServe(t *testing.T) {
	const token, user, password = "tk-9f8e7d", "ci", "pw-2b3c4d"
	dir := t.TempDir()
	want := []byte(`{"info":{"subdir":"noarch"},"packages":{}}`)
	if err := os.MkdirAll(filepath.Join(dir, "noarch"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "noarch", "repodata.json"), want, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, stdoutW := io.Pipe()
	var stderr lockedBuffer
	cmd := newRootCmd()
	cmd.SetArgs([]string{"serve", dir, "--addr", "127.0.0.1:0", "--token", token, "--user", user + ":" + password})
	cmd.SetOut(stdoutW)
	cmd.SetErr(&stderr)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	printed, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the URL serve prints: %v", err)
	}
	printed = strings.TrimSpace(printed)
	if strings.Contains(printed, token) || strings.Contains(printed, password) {
		t.Fatalf("serve printed a secret: %s", printed)
	}
	url := strings.NewReplacer(redact.Token, token, redact.Password, password).Replace(printed)
	if url == printed {
		t.Fatalf("printed URL %q has no redacted token or password", printed)
	}

	resp, err := http.Get(url + "/noarch/repodata.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("GET through the printed URL: status %d, body %q, err %v", resp.StatusCode, got, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve returned %v after interrupt, want nil", err)
	}
	log := stderr.String()
	if !strings.Contains(log, "GET noarch/repodata.json 200") {
		t.Errorf("stderr lacks the request line:\n%s", log)
	}
	if strings.Contains(log, token) || strings.Contains(log, password) {
		t.Errorf("stderr holds a secret:\n%s", log)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--out DIR is required"},
		{[]string{"--out", dir, "--synthetic", "-3"}, "--synthetic -3: want a positive number of package names"},
		{[]string{"--out", dir, "--seed", "7"}, "--seed applies to --synthetic only"},
		{[]string{"--out", dir, "--format", "zip"}, `--format "zip": want conda or tar.bz2`},
		{[]string{"--out", dir, "extra"}, "unknown command"},
		{[]string{"serve"}, "accepts 1 arg"},
		{[]string{"serve", dir, "--user", "nocolon"}, "--user: want USER:PASSWORD"},
		{[]string{"serve", filepath.Join(dir, "missing"), "--addr", "127.0.0.1:0"}, filepath.Join(dir, "missing")},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := newRootCmd()
			cmd.SetArgs(tc.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.ExecuteContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestServeSubprocess runs `testchannel serve` as a process, fetches a file,
// then interrupts it as Ctrl-C would: it must exit 0.
func TestServeSubprocess(t *testing.T) {
	dir := t.TempDir()
	want := []byte("not a real package")
	if err := os.WriteFile(filepath.Join(dir, "x-1-0.conda"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "serve", dir, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "TESTCHANNEL_RUN_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the URL: %v (stderr: %s)", err, stderr.String())
	}
	resp, err := http.Get(strings.TrimSpace(url) + "/x-1-0.conda")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("body %q, err %v", got, err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve exited with %v after SIGINT, want status 0 (stderr: %s)", err, stderr.String())
	}
}

// TestSynthetic builds small synthetic channels through the CLI: the index
// must hold exactly the generator's packages, in both sections, and the
// same seed must give the same bytes.
func TestSynthetic(t *testing.T) {
	run := func(seed string) string {
		out := t.TempDir()
		cmd := newRootCmd()
		cmd.SetArgs([]string{"--synthetic", "120", "--out", out, "--seed", seed})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.ExecuteContext(t.Context()); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b, other := run("5"), run("5"), run("6")
	for _, subdir := range synthetic.Subdirs {
		var generated bytes.Buffer
		if err := synthetic.Generate(&generated, subdir, synthetic.Options{Seed: 5, Names: 120}); err != nil {
			t.Fatal(err)
		}
		want := fileNames(t, generated.Bytes())
		read := func(dir string) []byte {
			data, err := os.ReadFile(filepath.Join(dir, subdir, index.RepodataFile))
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
		got := fileNames(t, read(a))
		if len(want[0])+len(want[1]) == 0 || !maps.Equal(got[0], want[0]) || !maps.Equal(got[1], want[1]) {
			t.Errorf("%s: index has %d+%d packages, generator %d+%d, or they differ",
				subdir, len(got[0]), len(got[1]), len(want[0]), len(want[1]))
		}
		if !bytes.Equal(read(a), read(b)) {
			t.Errorf("%s: same seed, different repodata.json", subdir)
		}
		if bytes.Equal(read(a), read(other)) {
			t.Errorf("%s: seeds 5 and 6 gave the same repodata.json", subdir)
		}
		for _, name := range []string{index.RepodataZstFile, index.ShardIndexFile} {
			if _, err := os.Stat(filepath.Join(a, subdir, name)); err != nil {
				t.Errorf("%s: %v", subdir, err)
			}
		}
	}
}

// fileNames returns the keys of the "packages" and "packages.conda"
// sections of a repodata.json.
func fileNames(t *testing.T, data []byte) [2]map[string]bool {
	t.Helper()
	rd, err := conda.ParseRepoData(data)
	if err != nil {
		t.Fatal(err)
	}
	var names [2]map[string]bool
	for i, section := range []map[string]conda.PackageRecord{rd.Packages, rd.Conda} {
		names[i] = map[string]bool{}
		for fn := range section {
			names[i][fn] = true
		}
	}
	return names
}
