package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestSearch: search lists the matching records of the test channel,
// newest first, for the platform and noarch; bad specs fail with one line.
func TestSearch(t *testing.T) {
	isolate(t)
	ch := "file://" + testChannel(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string // name-version of the JSON records, in order
	}{
		{"every python for linux-64", []string{"python", "--platform", "linux-64"}, []string{"python-3.12.1", "python-3.11.9"}},
		{"a version range", []string{"python <3.12", "--platform", "linux-64"}, []string{"python-3.11.9"}},
		{"another platform", []string{"python", "--platform", "linux-aarch64"}, []string{"python-3.12.1"}},
		{"noarch and two specs", []string{"requests", "urllib3", "--platform", "linux-64"}, []string{"requests-2.31.0", "urllib3-2.0.7"}},
		{"no match", []string{"python >=4", "--platform", "linux-64"}, []string{}},
		{"a pattern", []string{"*lib*", "--platform", "linux-64"}, []string{"urllib3-2.0.7"}},
		{"a pattern with a version", []string{"py*n <3.12", "--platform", "linux-64"}, []string{"python-3.11.9"}},
		{"a pattern over the platform and noarch", []string{"*t*", "--platform", "linux-64"}, []string{"python-3.12.1", "python-3.11.9", "requests-2.31.0"}},
		{"a pattern without match", []string{"zz*", "--platform", "linux-64"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"search", "--override-channels", "-c", ch, "--json"}, tc.args...)...)
			var out struct {
				Result struct {
					Pkgs []struct{ Name, Version, Subdir string }
				}
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 {
				t.Fatalf("exit %d, %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
			}
			got := []string{}
			for _, p := range out.Result.Pkgs {
				got = append(got, p.Name+"-"+p.Version)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	r := runCLI(t, "search", "--override-channels", "-c", ch, "--platform", "linux-64", "python")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 3 || !strings.Contains(lines[0], "Version") || !strings.Contains(lines[1], "3.12.1") {
		t.Errorf("table: exit %d\n%s", r.code, r.stdout)
	}
	for _, bad := range [][]string{{"*"}, {"numpy >=>2"}, {}} {
		if r := runCLI(t, append([]string{"search", "--override-channels", "-c", ch}, bad...)...); r.code == 0 || r.stderr == "" {
			t.Errorf("search %q: exit %d, stderr %q; want an error", bad, r.code, r.stderr)
		}
	}
}
