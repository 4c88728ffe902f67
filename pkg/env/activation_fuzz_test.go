package env

import (
	"os/exec"
	"strings"
	"testing"
)

// FuzzActivatedEnv feeds arbitrary env_vars.d and conda-meta/state files to
// activation: it must return an error or an environment a process can have
// (KEY=VALUE entries, names non-empty, no NUL), never panic.
func FuzzActivatedEnv(f *testing.F) {
	f.Add([]byte(`{"A": "1"}`), []byte(`{"env_vars": {"B": "2"}}`))
	f.Add([]byte(`{"PATH": "/override"}`), []byte(`{}`))
	f.Add([]byte(`[]`), []byte(`{"env_vars": null}`))
	f.Fuzz(func(t *testing.T, envVars, state []byte) {
		prefix := t.TempDir()
		writeFiles(t, prefix, map[string]string{"etc/conda/env_vars.d/f.json": string(envVars), "conda-meta/state": string(state)})
		env, err := ActivatedEnv(prefix, "e", []string{"PATH=/bin"})
		if err != nil {
			return
		}
		for _, kv := range env {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" || strings.ContainsRune(kv, 0) {
				t.Fatalf("entry %q is not KEY=VALUE", kv)
			}
		}
	})
}

// FuzzShellQuote: a quoted string is one word that sh reads back unchanged,
// whatever it holds (activate.d paths are sourced through it).
func FuzzShellQuote(f *testing.F) {
	f.Add("/opt/conda/etc/conda/activate.d/a.sh")
	f.Add(`it's "$HOME" $(true) \ ` + "`x`\n")
	f.Add("''")
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // no argument or file name holds NUL
		}
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh read %q back as %q (%v)", s, out, err)
		}
	})
}
