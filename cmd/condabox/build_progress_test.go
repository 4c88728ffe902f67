package main

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestBuildProgressLines: off a terminal (here stderr is a buffer) each
// package layer is one plain line, with or without --json, and --json's
// stdout stays the result alone.
func TestBuildProgressLines(t *testing.T) {
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yml", "channels: [file://"+imageChannel(t)+"]\ndependencies: [hello]\n")
	line := regexp.MustCompile(`^linux/amd64: layer ([12])/2 \((\S+)\): \d+(\.\d)? (B|KiB|MiB)$`)
	for _, tt := range []struct {
		name string
		json bool
	}{{"text", false}, {"json", true}} {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"build", "-f", envFile, "--override-channels", "--tag", "example.org/hello:1",
				"--output", "oci:" + filepath.Join(t.TempDir(), "layout")}
			if tt.json {
				args = append(args, "--json")
			}
			r := runCLI(t, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, "\x1b") || strings.Contains(r.stderr, "\r") {
				t.Errorf("terminal controls in plain progress: %q", r.stderr)
			}
			var counts, dists []string
			for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
				m := line.FindStringSubmatch(l)
				if m == nil {
					t.Errorf("stderr line %q is not a layer line", l)
					continue
				}
				counts, dists = append(counts, m[1]), append(dists, m[2])
			}
			slices.Sort(dists)
			if !slices.Equal(counts, []string{"1", "2"}) || !slices.Equal(dists, []string{"greeting-1.0-0", "hello-1.0-0"}) {
				t.Errorf("layer lines count %q for %q, want 1 2 for greeting and hello", counts, dists)
			}
			if tt.json {
				if got := len(decodeBuild(t, r).Images[0].Layers); got != 3 {
					t.Errorf("--json: %d layers, want 3", got)
				}
			} else if !strings.HasPrefix(r.stdout, "oci:") {
				t.Errorf("stdout %q: want the size report", r.stdout)
			}
		})
	}
}
