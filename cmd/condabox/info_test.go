package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestInfo: info reports the root prefix and the active environment, as
// text and as JSON; bad flags fail.
func TestInfo(t *testing.T) {
	home := isolate(t)
	root := filepath.Join(home, "root")
	t.Setenv("CONDA_PREFIX", filepath.Join(root, "envs", "tools"))
	r := runCLI(t, "info")
	if r.code != 0 || !strings.Contains(r.stdout, "       base environment : "+root+"\n") || !strings.Contains(r.stdout, "            environment : tools (active)\n") {
		t.Errorf("info: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "info", "--json", "--platform", "osx-arm64")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 || got["platform"] != "osx-arm64" || got["base environment"] != root {
		t.Errorf("info --json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if r := runCLI(t, "info", "--platform", "amiga-68k"); r.code == 0 || !strings.Contains(r.stderr, "amiga-68k") {
		t.Errorf("info --platform amiga-68k: exit %d, stderr %q; want an error naming it", r.code, r.stderr)
	}
	// info --envs lists what env list lists.
	mkdir(t, filepath.Join(root, "envs", "tools", "conda-meta"))
	for _, flags := range [][]string{nil, {"--json"}} {
		envs, list := runCLI(t, append([]string{"info", "--envs"}, flags...)...), runCLI(t, append([]string{"env", "list"}, flags...)...)
		if envs.code != 0 || envs.stdout != list.stdout || !strings.Contains(envs.stdout, filepath.Join(root, "envs", "tools")) {
			t.Errorf("info --envs %v: exit %d\n%s\nenv list:\n%s", flags, envs.code, envs.stdout, list.stdout)
		}
	}
}
