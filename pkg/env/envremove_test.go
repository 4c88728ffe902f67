package env

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzUnregister: unregister drops every line naming the prefix and keeps
// the others byte for byte, in order.
func FuzzUnregister(f *testing.F) {
	f.Add("/r/envs/a\n/elsewhere\n", "/r/envs/a")
	f.Add("  /r/envs/a/  \r\n#comment\n/r/envs/a", "/r/envs/a")
	f.Add("relative/a\n\n/r//envs/./a\n", "/r/envs/a")
	f.Add("", "/x")
	f.Fuzz(func(t *testing.T, content, prefix string) {
		if !filepath.IsAbs(prefix) || filepath.Clean(prefix) != prefix {
			t.Skip("targetPrefix gives clean absolute paths")
		}
		name := filepath.Join(t.TempDir(), "environments.txt")
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := unregister(name, prefix); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		names := func(l string) bool {
			p := strings.TrimSpace(l)
			return filepath.IsAbs(p) && filepath.Clean(p) == prefix
		}
		var want []string
		for _, l := range strings.SplitAfter(content, "\n") {
			if !names(l) {
				want = append(want, l)
			}
		}
		if got := string(b); got != strings.Join(want, "") {
			t.Errorf("environments.txt %q without %s: %q, want %q", content, prefix, got, strings.Join(want, ""))
		}
		if slices.ContainsFunc(strings.Split(string(b), "\n"), names) {
			t.Errorf("%q still names %s", b, prefix)
		}
	})
}
