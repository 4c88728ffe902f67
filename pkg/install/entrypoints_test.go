package install

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseEntryPoint(t *testing.T) {
	tests := []struct {
		in   string
		want entryPoint
		err  string
	}{
		{"jlpm = jupyterlab.jlpmapp:main", entryPoint{"jlpm", "jupyterlab.jlpmapp", "main"}, ""},
		{"normalizer=charset_normalizer.cli.normalizer:cli_detect", entryPoint{"normalizer", "charset_normalizer.cli.normalizer", "cli_detect"}, ""},
		{"tool = pkg.mod:App.run", entryPoint{"tool", "pkg.mod", "App.run"}, ""},
		{"no-equals pkg:main", entryPoint{}, "no '='"},
		{"x = pkg.main", entryPoint{}, "no ':'"},
		{"../x = pkg:main", entryPoint{}, "is not a file name"},
		{" = pkg:main", entryPoint{}, "is not a file name"},
		{"x = pkg:main()", entryPoint{}, "is not a python name"},
	}
	for _, tc := range tests {
		got, err := parseEntryPoint(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.in) {
				t.Errorf("parseEntryPoint(%q) error %v, want one quoting the input and containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseEntryPoint(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
		}
	}
}

// TestRealEntryPoints parses the entry points of real link.json files and
// checks the generated scripts compile with the machine's python, when it
// has one.
func TestRealEntryPoints(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(sharedRealdata(t), "prefix-records", "link-json", "*"))
	must(t, err)
	n := 0
	for _, name := range names {
		var link struct {
			Noarch struct {
				EntryPoints []string `json:"entry_points"`
			} `json:"noarch"`
		}
		b, err := os.ReadFile(name)
		must(t, err)
		must(t, json.Unmarshal(b, &link))
		for _, s := range link.Noarch.EntryPoints {
			ep, err := parseEntryPoint(s)
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(name), err)
				continue
			}
			n++
			script := string(ep.script("/env", "bin/python3.11"))
			if !strings.HasPrefix(script, "#!/env/bin/python3.11\n") || !strings.Contains(script, "from "+ep.Module+" import ") {
				t.Errorf("script for %q:\n%s", s, script)
			}
			if python, err := exec.LookPath("python3"); err == nil {
				f := filepath.Join(t.TempDir(), ep.Command)
				must(t, os.WriteFile(f, []byte(script), 0o644))
				if out, err := exec.Command(python, "-m", "py_compile", f).CombinedOutput(); err != nil {
					t.Errorf("script for %q does not compile: %v\n%s", s, err, out)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no entry points in the real link.json files")
	}
}

func TestEntryPointLongShebang(t *testing.T) {
	prefix := "/" + strings.Repeat("p", 130)
	got := string(entryPoint{"x", "m", "main"}.script(prefix, "bin/python3.11"))
	if !strings.HasPrefix(got, "#!/usr/bin/env python3.11\n") {
		t.Errorf("script with a %d-byte prefix starts %q", len(prefix), got[:40])
	}
}

// FuzzParseEntryPoint checks that parsed entry points are safe to write
// into a script and a file name, and that parsing never panics.
func FuzzParseEntryPoint(f *testing.F) {
	for _, s := range []string{"jlpm = jupyterlab.jlpmapp:main", "a=b:c", "x = y:z.w", "=:", "a = b:c:d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ep, err := parseEntryPoint(s)
		if err != nil {
			return
		}
		if !identifier.MatchString(ep.Module) || !identifier.MatchString(ep.Func) {
			t.Fatalf("%q: accepted module %q func %q", s, ep.Module, ep.Func)
		}
		if ep.Command == "" || ep.Command == "." || ep.Command == ".." || strings.ContainsAny(ep.Command, "/\\ \t\n\r") {
			t.Fatalf("%q: command %q is not a safe file name", s, ep.Command)
		}
	})
}
