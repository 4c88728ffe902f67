package image

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// FuzzActivationEnv feeds arbitrary activate.d scripts and env_vars.d files
// to the baker: it must not panic, and what it bakes must be a valid
// variable whose value holds no unexpanded prefix reference.
func FuzzActivationEnv(f *testing.F) {
	f.Add("export A=1\nexport B=\"$CONDA_PREFIX/x\"\n", `{"K": "v"}`)
	f.Add("export P='$CONDA_PREFIX'\nif true; then\n", `{}`)
	f.Add("export X=${CONDA_PREFIX}\n\texport  Y=\"\"\n", `{"A": 1}`)
	f.Fuzz(func(t *testing.T, script, vars string) {
		files := []activationFile{
			{Path: activateDir + "a.sh", Data: []byte(script)},
			{Path: envVarsDir + "a.json", Data: []byte(vars)},
		}
		env, warnings, err := activationEnv(files, "/opt/conda")
		if err != nil {
			if !strings.Contains(err.Error(), "etc/conda/") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		for _, w := range warnings {
			if !strings.Contains(w, activateDir+"a.sh line ") {
				t.Errorf("warning %q does not name the file and line", w)
			}
		}
		for _, line := range strings.Split(script, "\n") {
			k, v, ok := bakeExport(strings.TrimSpace(line), "/opt/conda")
			if !ok {
				continue
			}
			if !envKey.MatchString(k) || strings.ContainsAny(v, "\n\x00") {
				t.Errorf("baked %q=%q from %q", k, v, line)
			}
			if !strings.Contains(line, "'") && strings.Contains(v, "$") {
				t.Errorf("baked an expansion %q from %q", v, line)
			}
			if _, ok := env[k]; !ok {
				t.Errorf("line %q baked %s, env lacks it", line, k)
			}
		}
	})
}

// FuzzParseUser checks that an accepted --user value prints back to itself.
func FuzzParseUser(f *testing.F) {
	for _, s := range []string{"mambauser:57439:57439", "a:0:0", "x:1", ":1:1", "a:01:2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUser(s)
		if err != nil {
			return
		}
		again, err := ParseUser(fmt.Sprintf("%s:%d:%d", u.Name, u.UID, u.GID))
		if err != nil || again != u {
			t.Errorf("ParseUser(%q) = %v, which does not parse back: %v, %v", s, u, again, err)
		}
	})
}
