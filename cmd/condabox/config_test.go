package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfig: config's edits land in ~/.condarc (or --file, --system),
// keep what else the file holds, and are what the other commands read.
func TestConfig(t *testing.T) {
	home := isolate(t)
	rc := filepath.Join(home, ".condarc")
	if err := os.WriteFile(rc, []byte("# mine\nalways_yes: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ch := "file://" + testChannel(t)
	steps := []struct {
		args []string
		want string // stdout
	}{
		{[]string{"config", "append", "channels", ch}, ""},
		{[]string{"config", "prepend", "channels", "nowhere-first"}, ""},
		{[]string{"config", "remove", "channels", "nowhere-first"}, ""},
		{[]string{"config", "set", "channel_priority", "strict"}, ""},
		{[]string{"config", "get", "channel_priority"}, "channel_priority: strict\n"},
		{[]string{"config", "get", "channels"}, "channels:\n  - " + ch + "\n"},
		{[]string{"config", "sources"}, rc + "\n"},
		{[]string{"config", "describe", "ssl_verify", "offline"}, "# ssl_verify\n#   Verify servers' TLS certificates: true (default), false, or the path of a PEM bundle of the authorities to trust instead.\n\n# offline\n#   Use cached channel indexes and packages only (true or false).\n"},
		{[]string{"config", "list"}, "always_yes: true\nchannels:\n  - " + ch + "\nchannel_priority: strict\n"},
		{[]string{"config", "list", "channel_priority", "--show-source"}, "channel_priority: strict # '" + rc + "'\n"},
	}
	for _, s := range steps {
		r := runCLI(t, s.args...)
		if r.code != 0 || r.stdout != s.want {
			t.Fatalf("%q: exit %d, stdout %q, want %q; stderr %s", s.args, r.code, r.stdout, s.want, r.stderr)
		}
	}
	t.Run("sources with a variable and a flag", func(t *testing.T) {
		t.Setenv("MAMBA_CHANNEL_PRIORITY", "flexible")
		if r := runCLI(t, "config", "sources", "--ssl-verify", "false"); r.stdout != rc+"\nenvironment variable MAMBA_CHANNEL_PRIORITY\ncommand line: ssl_verify\n" {
			t.Errorf("%q, stderr %q", r.stdout, r.stderr)
		}
	})
	b, err := os.ReadFile(rc)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# mine\nalways_yes: true\nchannels:\n  - " + ch + "\nchannel_priority: strict\n"; string(b) != want {
		t.Errorf("~/.condarc:\n%s\nwant:\n%s", b, want)
	}
	// search finds the channel from ~/.condarc alone.
	r := runCLI(t, "search", "--json", "--platform", "linux-64", "python")
	var out struct {
		Result struct{ Pkgs []struct{ Name string } }
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 || len(out.Result.Pkgs) != 2 {
		t.Errorf("search with the configured channel: exit %d, %v, %s %s", r.code, err, r.stdout, r.stderr)
	}

	t.Run("refused edits leave the file as it was", func(t *testing.T) {
		for _, args := range [][]string{
			{"config", "set", "channel_priority", "sometimes"},
			{"config", "set", "channels", "x"},
			{"config", "append", "channel_priority", "x"},
			{"config", "remove", "channels", "absent"},
			{"config", "remove-key", "absent"},
			{"config", "get", "absent"},
			{"config", "set", "offline"},
		} {
			r := runCLI(t, args...)
			if r.code == 0 || r.stderr == "" {
				t.Errorf("%q: exit %d, stderr %q; want an error", args, r.code, r.stderr)
			}
			if after, _ := os.ReadFile(rc); string(after) != string(b) {
				t.Errorf("%q changed the file:\n%s", args, after)
			}
		}
	})
	t.Run("--file and --system", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "sub", "rc.yml")
		if r := runCLI(t, "config", "set", "--file", other, "offline", "true"); r.code != 0 {
			t.Fatalf("--file: exit %d: %s", r.code, r.stderr)
		}
		if b, _ := os.ReadFile(other); string(b) != "offline: true\n" {
			t.Errorf("--file wrote %q", b)
		}
		if r := runCLI(t, "config", "append", "--system", "pkgs_dirs", "/cache"); r.code != 0 {
			t.Fatalf("--system: exit %d: %s", r.code, r.stderr)
		}
		system := filepath.Join(os.Getenv("MAMBA_ROOT_PREFIX"), ".condarc")
		if b, _ := os.ReadFile(system); string(b) != "pkgs_dirs:\n  - /cache\n" {
			t.Errorf("--system wrote %q", b)
		}
		if r := runCLI(t, "config", "sources"); r.stdout != system+"\n"+rc+"\n" {
			t.Errorf("sources: %q", r.stdout)
		}
		if r := runCLI(t, "config", "remove-key", "--system", "pkgs_dirs"); r.code != 0 {
			t.Fatalf("remove-key: exit %d: %s", r.code, r.stderr)
		}
		if b, err := os.ReadFile(system); err != nil || len(strings.TrimSpace(string(b))) != 0 {
			t.Errorf("after removing its only key: %q, %v", b, err)
		}
	})
	t.Run("--env", func(t *testing.T) {
		if r := runCLI(t, "config", "set", "--env", "offline", "true"); r.code == 0 || !strings.Contains(r.stderr, "--env: no active environment") {
			t.Errorf("--env without an active environment: exit %d, stderr %q", r.code, r.stderr)
		}
		active := t.TempDir()
		t.Setenv("CONDA_PREFIX", active)
		if r := runCLI(t, "config", "prepend", "--env", "channels", "env-first"); r.code != 0 {
			t.Fatalf("--env: exit %d: %s", r.code, r.stderr)
		}
		if b, _ := os.ReadFile(filepath.Join(active, ".condarc")); string(b) != "channels:\n  - env-first\n" {
			t.Errorf("--env wrote %q", b)
		}
		if r := runCLI(t, "config", "get", "channels", "--env"); r.stdout != "channels:\n  - env-first\n" {
			t.Errorf("get --env: %q", r.stdout)
		}
		if r := runCLI(t, "config", "sources"); !strings.HasSuffix(r.stdout, filepath.Join(active, ".condarc")+"\n") {
			t.Errorf("sources: %q, want the active environment's file last", r.stdout)
		}
		if r := runCLI(t, "config", "set", "--env", "--system", "offline", "true"); r.code == 0 {
			t.Errorf("--env with --system: exit 0")
		}
	})
}

// TestRCFileFlags: --rc-file reads the given files instead of the search,
// --no-rc reads none; both together are refused.
func TestRCFileFlags(t *testing.T) {
	home := isolate(t)
	writeFile(t, home, ".condarc", "channels: [from-home]\n")
	other := writeFile(t, t.TempDir(), "ci.yml", "channels: [from-ci]\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"config", "list"}, "from-home"},
		{[]string{"--rc-file", other, "config", "list"}, "from-ci"},
		{[]string{"config", "list", "--no-rc"}, ""},
	} {
		r := runCLI(t, tc.args...)
		if r.code != 0 || strings.Contains(r.stdout, "from-") != (tc.want != "") || (tc.want != "" && !strings.Contains(r.stdout, tc.want)) ||
			(tc.want == "from-ci" && strings.Contains(r.stdout, "from-home")) {
			t.Errorf("condabox %q: exit %d, stdout %q, want %q only", tc.args, r.code, r.stdout, tc.want)
		}
	}
	if r := runCLI(t, "--no-rc", "--rc-file", other, "config", "list"); r.code == 0 || !strings.Contains(r.stderr, "exclude each other") {
		t.Errorf("--no-rc with --rc-file: exit %d, stderr %q", r.code, r.stderr)
	}
	// The next command without the flags searches again.
	if r := runCLI(t, "config", "list"); !strings.Contains(r.stdout, "from-home") {
		t.Errorf("config list after --no-rc: stdout %q", r.stdout)
	}
}
