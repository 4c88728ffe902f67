package env

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shellRoot returns a root prefix with environments for the shell tests:
// base (the root itself, nothing in it), a (a variable, activate.d and
// deactivate.d scripts) and b (a variable a sets too, one a shell cannot
// hold and one the activation keeps to itself).
func shellRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"conda-meta/history": ""})
	writeFiles(t, filepath.Join(root, "envs", "a"), map[string]string{
		"conda-meta/history":              "",
		"etc/conda/env_vars.d/a.json":     `{"FOO": "from a", "A_ONLY": "it's a"}`,
		"etc/conda/activate.d/a.sh":       `export A_ACT="$CONDA_PREFIX"`,
		"etc/conda/deactivate.d/a.sh":     `unset A_ACT`,
		"etc/conda/activate.d/not-sh.txt": "exit 1",
		"etc/conda/activate.d/a.fish":     `set -gx A_ACT "$CONDA_PREFIX"`,
		"etc/conda/deactivate.d/a.fish":   `set -e A_ACT`,
	})
	writeFiles(t, filepath.Join(root, "envs", "b"), map[string]string{
		"conda-meta/history":          "",
		"etc/conda/env_vars.d/b.json": `{"FOO": "from b", "NOT-A-NAME": "x", "CONDA_SHLVL": "9"}`,
	})
	return root
}

// TestShellCode checks the code of activate, deactivate and reactivate
// line by line (@R stands for the root prefix).
func TestShellCode(t *testing.T) {
	root := shellRoot(t)
	a, b := filepath.Join(root, "envs", "a"), filepath.Join(root, "envs", "b")
	activeA := []string{"PATH=" + a + "/bin:/usr/bin", "CONDA_SHLVL=1", "CONDA_PREFIX=" + a, "CONDA_DEFAULT_ENV=a",
		"CONDA_PROMPT_MODIFIER=(a) ", "PS1=(a) $ ", "FOO=from a", "A_ONLY=it's a", "__CONDA_SHLVL_0_FOO=orig", "A_ACT=" + a}
	for _, tc := range []struct {
		name    string
		op      func(ShellRequest) (string, error)
		environ []string
		target  string
		stack   bool
		want    []string
	}{
		{"activate a from none: variables, the one replaced kept, prompt, activate.d", ShellActivate,
			[]string{"PATH=/usr/bin", "CONDA_SHLVL=0", "PS1=$ ", "FOO=orig"}, "a", false, []string{
				"export A_ONLY='it'\\''s a'",
				"export CONDA_DEFAULT_ENV='a'",
				"export CONDA_PREFIX='@R/envs/a'",
				"export CONDA_PROMPT_MODIFIER='(a) '",
				"export CONDA_SHLVL='1'",
				"export FOO='from a'",
				"export PATH='@R/envs/a/bin:/usr/bin'",
				"PS1='(a) $ '",
				"export __CONDA_SHLVL_0_FOO='orig'",
				". '@R/envs/a/etc/conda/activate.d/a.sh'",
			}},
		{"base by default, the root's trailing slash dropped; no PS1 is left alone", ShellActivate,
			[]string{"PATH=/usr/bin", "MAMBA_ROOT_PREFIX=" + root + "/"}, "", false, []string{
				"export CONDA_DEFAULT_ENV='base'",
				"export CONDA_PREFIX='@R'",
				"export CONDA_PROMPT_MODIFIER='(base) '",
				"export CONDA_SHLVL='1'",
				"export PATH='@R/bin:/usr/bin'",
			}},
		{"activate b from a: a left, its deactivate.d first; b's odd variables skipped", ShellActivate,
			activeA, "b", false, []string{
				". '@R/envs/a/etc/conda/deactivate.d/a.sh'",
				"unset A_ONLY",
				"unset __CONDA_SHLVL_0_FOO",
				"export CONDA_DEFAULT_ENV='b'",
				"export CONDA_PREFIX='@R/envs/b'",
				"export CONDA_PREFIX_1='@R/envs/a'",
				"export CONDA_PROMPT_MODIFIER='(b) '",
				"export CONDA_SHLVL='2'",
				"export FOO='from b'",
				"export PATH='@R/envs/b/bin:/usr/bin'",
				"PS1='(b) $ '",
				"export __CONDA_SHLVL_1_FOO='orig'",
			}},
		{"activate --stack b from a: a stays", ShellActivate,
			activeA, b, true, []string{
				"export CONDA_DEFAULT_ENV='b'",
				"export CONDA_PREFIX='@R/envs/b'",
				"export CONDA_PREFIX_1='@R/envs/a'",
				"export CONDA_PROMPT_MODIFIER='(b) '",
				"export CONDA_SHLVL='2'",
				"export CONDA_STACKED_2='true'",
				"export FOO='from b'",
				"export PATH='@R/envs/b/bin:@R/envs/a/bin:/usr/bin'",
				"PS1='(b) $ '",
				"export __CONDA_SHLVL_1_FOO='from a'",
			}},
		{"activate the active one reactivates", ShellActivate,
			activeA, root + "//envs/a/", false, []string{
				". '@R/envs/a/etc/conda/deactivate.d/a.sh'",
				". '@R/envs/a/etc/conda/activate.d/a.sh'",
			}},
		{"deactivate a: deactivate.d, then everything restored", ShellDeactivate,
			activeA, "", false, []string{
				". '@R/envs/a/etc/conda/deactivate.d/a.sh'",
				"unset A_ONLY",
				"unset CONDA_DEFAULT_ENV",
				"unset CONDA_PREFIX",
				"unset CONDA_PROMPT_MODIFIER",
				"unset __CONDA_SHLVL_0_FOO",
				"export CONDA_SHLVL='0'",
				"export FOO='orig'",
				"export PATH='/usr/bin'",
				"PS1='$ '",
			}},
		{"deactivate b, not stacked: a activated again", ShellDeactivate,
			[]string{"PATH=" + b + "/bin:/usr/bin", "CONDA_SHLVL=2", "CONDA_PREFIX=" + b, "CONDA_PREFIX_1=" + a, "FOO=from b", "__CONDA_SHLVL_1_FOO=orig"},
			"", false, []string{
				"unset CONDA_PREFIX_1",
				"unset __CONDA_SHLVL_1_FOO",
				"export A_ONLY='it'\\''s a'",
				"export CONDA_DEFAULT_ENV='a'",
				"export CONDA_PREFIX='@R/envs/a'",
				"export CONDA_PROMPT_MODIFIER='(a) '",
				"export CONDA_SHLVL='1'",
				"export FOO='from a'",
				"export PATH='@R/envs/a/bin:/usr/bin'",
				"export __CONDA_SHLVL_0_FOO='orig'",
				". '@R/envs/a/etc/conda/activate.d/a.sh'",
			}},
		{"deactivate with nothing noted below (condabox run inside an activated shell)", ShellDeactivate,
			[]string{"PATH=" + b + "/bin:" + a + "/bin", "CONDA_SHLVL=2", "CONDA_PREFIX=" + b, "CONDA_DEFAULT_ENV=b"}, "", false, []string{
				"unset CONDA_DEFAULT_ENV",
				"unset CONDA_PREFIX",
				"export CONDA_SHLVL='0'",
				"export PATH='@R/envs/a/bin'",
			}},
		{"deactivate with none active", ShellDeactivate, []string{"PATH=/usr/bin", "CONDA_SHLVL=0"}, "", false, nil},
		{"reactivate with none active", ShellReactivate, []string{"PATH=/usr/bin"}, "", false, nil},
		{"reactivate picks up a changed variable", ShellReactivate,
			[]string{"PATH=" + b + "/bin", "CONDA_PREFIX=" + b, "CONDA_SHLVL=1", "CONDA_DEFAULT_ENV=b", "FOO=stale"}, "", false, []string{
				"export CONDA_PROMPT_MODIFIER='(b) '",
				"export FOO='from b'",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkShellCode(t, root, tc.op, ShellRequest{Environ: tc.environ, Target: tc.target, Stack: tc.stack}, tc.want)
		})
	}
}

// checkShellCode runs op on req in the root prefix root and compares its
// code with want, line by line (@R standing for root).
func checkShellCode(t *testing.T, root string, op func(ShellRequest) (string, error), req ShellRequest, want []string) {
	t.Helper()
	req.Environ = append([]string{"MAMBA_ROOT_PREFIX=" + root}, req.Environ...)
	req.WorkDir = "/"
	got, err := op(req)
	if err != nil {
		t.Fatal(err)
	}
	var code string
	for _, line := range want {
		code += strings.ReplaceAll(line, "@R", root) + "\n"
	}
	if got != code {
		t.Errorf("got:\n%s\nwant:\n%s", got, code)
	}
}

// TestShellCodeFish: fish's code sets what the POSIX code exports, in
// fish's syntax: PATH as a list, no PS1 (fish has none), erased variables
// of the global scope, and the *.fish scripts of activate.d and
// deactivate.d.
func TestShellCodeFish(t *testing.T) {
	root := shellRoot(t)
	a := filepath.Join(root, "envs", "a")
	for _, tc := range []struct {
		name    string
		op      func(ShellRequest) (string, error)
		environ []string
		target  string
		want    []string
	}{
		{"activate a", ShellActivate, []string{"PATH=/usr/bin:/bin", "CONDA_SHLVL=0", "PS1=$ ", "FOO=orig"}, "a", []string{
			"set -gx A_ONLY 'it\\'s a'",
			"set -gx CONDA_DEFAULT_ENV 'a'",
			"set -gx CONDA_PREFIX '@R/envs/a'",
			"set -gx CONDA_PROMPT_MODIFIER '(a) '",
			"set -gx CONDA_SHLVL '1'",
			"set -gx FOO 'from a'",
			"set -gx PATH '@R/envs/a/bin' '/usr/bin' '/bin'",
			"set -gx __CONDA_SHLVL_0_FOO 'orig'",
			"source '@R/envs/a/etc/conda/activate.d/a.fish'",
		}},
		{"deactivate a", ShellDeactivate, []string{"PATH=" + a + "/bin:/usr/bin", "CONDA_SHLVL=1", "CONDA_PREFIX=" + a, "CONDA_DEFAULT_ENV=a",
			"CONDA_PROMPT_MODIFIER=(a) ", "FOO=from a", "A_ONLY=it's a", "__CONDA_SHLVL_0_FOO=orig", "A_ACT=" + a}, "", []string{
			"source '@R/envs/a/etc/conda/deactivate.d/a.fish'",
			"set -e -g A_ONLY",
			"set -e -g CONDA_DEFAULT_ENV",
			"set -e -g CONDA_PREFIX",
			"set -e -g CONDA_PROMPT_MODIFIER",
			"set -e -g __CONDA_SHLVL_0_FOO",
			"set -gx CONDA_SHLVL '0'",
			"set -gx FOO 'orig'",
			"set -gx PATH '/usr/bin'",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkShellCode(t, root, tc.op, ShellRequest{Environ: tc.environ, Target: tc.target, Shell: Fish}, tc.want)
		})
	}
}

// TestShellCodeErrors: errors name the environment or variable at fault.
func TestShellCodeErrors(t *testing.T) {
	root := shellRoot(t)
	writeFiles(t, filepath.Join(root, "envs", "bad"), map[string]string{
		"conda-meta/history":          "",
		"etc/conda/env_vars.d/x.json": `["not", "an", "object"]`,
	})
	for _, tc := range []struct {
		name    string
		op      func(ShellRequest) (string, error)
		environ []string
		target  string
		want    string
	}{
		{"no such environment", ShellActivate, nil, "nope", "activate nope: no conda environment at " + root + "/envs/nope"},
		{"no such prefix", ShellActivate, nil, "/does/not/exist", "activate /does/not/exist: no conda environment at /does/not/exist"},
		{"CONDA_SHLVL not a number", ShellDeactivate, []string{"CONDA_SHLVL=x"}, "", `CONDA_SHLVL="x": want a count`},
		{"CONDA_SHLVL negative", ShellActivate, []string{"CONDA_SHLVL=-1"}, "a", `CONDA_SHLVL="-1"`},
		{"env_vars.d file not an object", ShellActivate, nil, "bad", "x.json: want a JSON object of strings"},
		{"deactivating into a broken environment", ShellDeactivate,
			[]string{"CONDA_SHLVL=2", "CONDA_PREFIX=" + root, "CONDA_PREFIX_1=" + filepath.Join(root, "envs", "bad")}, "", "x.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			environ := append([]string{"MAMBA_ROOT_PREFIX=" + root}, tc.environ...)
			got, err := tc.op(ShellRequest{Environ: environ, Target: tc.target, WorkDir: "/"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, %v; want an error with %q", got, err, tc.want)
			}
		})
	}
}

// TestShellRoundTrip: activating, then deactivating as many times, gives
// the shell back exactly, stacked or not, whatever PATH and PS1 hold.
func TestShellRoundTrip(t *testing.T) {
	root := shellRoot(t)
	for _, tc := range []struct {
		name, path, ps1 string
		stack           bool
	}{
		{"plain", "/usr/bin:/bin", "$ ", false},
		{"stacked", "/usr/bin:/bin", "$ ", true},
		{"bin already on PATH, empty entries", "::" + root + "/envs/a/bin:", "", false},
		{"prompt that looks activated", "/bin", "(a) x", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := map[string]string{"MAMBA_ROOT_PREFIX": root, "PATH": tc.path, "PS1": tc.ps1, "CONDA_SHLVL": "0", "FOO": "orig"}
			if got := roundTrip(t, start, tc.stack); !maps.Equal(got, start) {
				t.Errorf("after activate a, b and deactivate twice:\n%v\nwant\n%v", got, start)
			}
		})
	}
}

// roundTrip activates a then b, deactivates twice and returns the
// variables that leaves, applying each code to vars as a shell would.
func roundTrip(t testing.TB, vars map[string]string, stack bool) map[string]string {
	vars = maps.Clone(vars)
	steps := []struct {
		op     func(ShellRequest) (string, error)
		target string
	}{{ShellActivate, "a"}, {ShellActivate, "b"}, {ShellDeactivate, ""}, {ShellDeactivate, ""}}
	for _, step := range steps {
		var environ []string
		for k, v := range vars {
			environ = append(environ, k+"="+v)
		}
		code, err := step.op(ShellRequest{Environ: environ, Target: step.target, Stack: stack, WorkDir: "/"})
		if err != nil {
			t.Fatal(err)
		}
		applyCode(t, vars, code)
	}
	return vars
}

// applyCode applies the assignments and unsets of code to vars (a test's
// shell: it skips sourced scripts).
func applyCode(t testing.TB, vars map[string]string, code string) {
	t.Helper()
	for line := range strings.Lines(code) {
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, ". "):
		case strings.HasPrefix(line, "unset "):
			delete(vars, strings.TrimPrefix(line, "unset "))
		default:
			k, quoted, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok || !isShellName(k) || len(quoted) < 2 || quoted[0] != '\'' || quoted[len(quoted)-1] != '\'' {
				t.Fatalf("line %q is no assignment of a quoted value", line)
			}
			vars[k] = strings.ReplaceAll(quoted[1:len(quoted)-1], `'\''`, "'")
		}
	}
}

// FuzzShellRoundTrip: whatever the shell's PATH, PS1 and the variable an
// environment replaces hold, activate a, b and deactivate twice restore
// them exactly.
func FuzzShellRoundTrip(f *testing.F) {
	f.Add("/usr/bin:/bin", "$ ", "orig", false)
	f.Add("", "(a) ", "it's", true)
	f.Add("::", "\\u@\\h ", "", false)
	root := shellRoot(f)
	f.Fuzz(func(t *testing.T, path, ps1, foo string, stack bool) {
		start := map[string]string{"MAMBA_ROOT_PREFIX": root, "PATH": path, "PS1": ps1, "CONDA_SHLVL": "0", "FOO": foo}
		if slices.ContainsFunc([]string{path, ps1, foo}, func(s string) bool { return strings.ContainsAny(s, "\x00\n") }) {
			return // no environment variable holds NUL; applyCode reads lines
		}
		if got := roundTrip(t, start, stack); !maps.Equal(got, start) {
			t.Errorf("after activate a, b and deactivate twice:\n%q\nwant\n%q", got, start)
		}
	})
}

func TestHook(t *testing.T) {
	for _, tc := range []struct {
		sh           Shell
		root         string
		want, absent []string
	}{
		{Bash, "", []string{"export CONDABOX_EXE='/opt/it'\\''s/condabox'\n", `shell "$@" -s bash)`}, []string{"MAMBA_ROOT_PREFIX"}},
		{Zsh, "/r", []string{"export MAMBA_ROOT_PREFIX='/r'\n", "-s zsh)"}, nil},
		{Fish, "/r", []string{"set -gx CONDABOX_EXE '/opt/it\\'s/condabox'\n", "set -gx MAMBA_ROOT_PREFIX '/r'\n", "shell $argv -s fish | source"}, []string{"export "}},
	} {
		got := Hook(tc.sh, "/opt/it's/condabox", tc.root)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("Hook(%s, %q) lacks %q:\n%s", tc.sh, tc.root, w, got)
			}
		}
		for _, n := range tc.absent {
			if strings.Contains(got, n) {
				t.Errorf("Hook(%s, %q) has %q:\n%s", tc.sh, tc.root, n, got)
			}
		}
	}
}

func TestParseShell(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shell
		err  bool
	}{{"bash", Bash, false}, {"zsh", Zsh, false}, {"posix", Posix, false}, {"fish", Fish, false}, {"tcsh", "", true}, {"", "", true}} {
		got, err := ParseShell(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseShell(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestRCFile(t *testing.T) {
	for _, tc := range []struct {
		sh   Shell
		env  map[string]string
		want string
	}{
		{Bash, map[string]string{"HOME": "/h"}, "/h/.bashrc"},
		{Zsh, map[string]string{"HOME": "/h"}, "/h/.zshrc"},
		{Zsh, map[string]string{"HOME": "/h", "ZDOTDIR": "/z"}, "/z/.zshrc"},
		{Fish, map[string]string{"HOME": "/h"}, "/h/.config/fish/config.fish"},
		{Fish, map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/x"}, "/x/fish/config.fish"},
		{Bash, nil, ""},
		{Posix, map[string]string{"HOME": "/h"}, ""},
	} {
		got, err := RCFile(tc.sh, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("RCFile(%s, %v) = %q, %v; want %q", tc.sh, tc.env, got, err, tc.want)
		}
	}
}

func TestInitBlock(t *testing.T) {
	block := InitBlock(Bash, "/bin/condabox", "/root dir")
	newBlock := InitBlock(Bash, "/new/condabox", "/r")
	for _, tc := range []struct {
		name, rc, want string
	}{
		{"empty file", "", block},
		{"appended on its own line", "alias ll='ls -l'", "alias ll='ls -l'\n" + block},
		{"replaced in place", "a\n" + newBlock + "b\n", "a\n" + block + "b\n"},
		{"CRLF markers", "a\r\n" + strings.ReplaceAll(newBlock, "\n", "\r\n") + "b\r\n", "a\r\n" + block + "b\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := addInitBlock("rc", []byte(tc.rc), block)
			if err != nil || string(got) != tc.want {
				t.Fatalf("add: %q, %v; want %q", got, err, tc.want)
			}
			again, err := addInitBlock("rc", got, block)
			if err != nil || string(again) != tc.want {
				t.Errorf("add again: %q, %v; want it unchanged", again, err)
			}
			removed, err := removeInitBlock("rc", got)
			if want := strings.Replace(tc.want, block, "", 1); err != nil || string(removed) != want {
				t.Errorf("remove: %q, %v; want %q", removed, err, want)
			}
		})
	}
	if !strings.Contains(block, `'/bin/condabox' shell hook -s bash -r '/root dir'`) {
		t.Errorf("block does not evaluate the hook of its condabox and root:\n%s", block)
	}
	if fish := InitBlock(Fish, "/it's/condabox", "/r"); !strings.Contains(fish, "\n'/it\\'s/condabox' shell hook -s fish -r '/r' | source\n") {
		t.Errorf("fish's block does not source the hook of its condabox and root:\n%s", fish)
	}
	unclosed := "x\n" + initBegin + "\nstuff\n"
	if _, err := addInitBlock("/home/u/.bashrc", []byte(unclosed), block); err == nil || !strings.Contains(err.Error(), "/home/u/.bashrc: the condabox block of line 2 has no closing") {
		t.Errorf("unclosed block: %v", err)
	}
}

// FuzzInitBlock: adding the block is idempotent, and removing it gives the
// rc file back (with a final newline), whatever the file holds.
func FuzzInitBlock(f *testing.F) {
	f.Add("alias x=y\n")
	f.Add(initBegin + "\n" + initEnd)
	f.Add("a\r\n" + initEnd + "\n" + initBegin)
	block := InitBlock(Zsh, "/c", "/r")
	f.Fuzz(func(t *testing.T, rc string) {
		added, err := addInitBlock("rc", []byte(rc), block)
		if err != nil {
			return // an unclosed block of its own
		}
		if again, err := addInitBlock("rc", added, block); err != nil || string(again) != string(added) {
			t.Fatalf("add twice: %q, %v; want %q", again, err, added)
		}
		if start, _, _ := findInitBlock("rc", []byte(rc)); start >= 0 {
			return // its own block was replaced: removing cannot give it back
		}
		removed, err := removeInitBlock("rc", added)
		if err != nil || (string(removed) != rc && string(removed) != rc+"\n") {
			t.Fatalf("remove: %q, %v; want %q", removed, err, rc)
		}
	})
}

// TestWriteInitBlock: the rc file changes once, keeps its mode, and a
// symbolic link to it stays a link.
func TestWriteInitBlock(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "bashrc")
	writeFiles(t, dir, map[string]string{"dotfiles/bashrc": "export A=1\n"})
	if err := os.Chmod(real, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".bashrc")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	block := InitBlock(Bash, "/c", "/r")
	for i, want := range []bool{true, false} {
		if changed, err := WriteInitBlock(link, block); err != nil || changed != want {
			t.Fatalf("write %d: changed %v, %v; want %v", i+1, changed, err, want)
		}
	}
	if data, _ := os.ReadFile(real); string(data) != "export A=1\n"+block {
		t.Errorf("rc file: %q", data)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a link: %v", link, err)
	}
	if st, err := os.Stat(real); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode changed: %v", err)
	}
	for i, want := range []bool{true, false} {
		if changed, err := RemoveInitBlock(link); err != nil || changed != want {
			t.Fatalf("remove %d: changed %v, %v; want %v", i+1, changed, err, want)
		}
	}
	if data, _ := os.ReadFile(real); string(data) != "export A=1\n" {
		t.Errorf("rc file after removal: %q", data)
	}
	missing := filepath.Join(dir, "new", ".zshrc")
	if err := os.MkdirAll(filepath.Dir(missing), 0o755); err != nil {
		t.Fatal(err)
	}
	if changed, err := WriteInitBlock(missing, block); err != nil || !changed {
		t.Errorf("a missing rc file: changed %v, %v; want it created", changed, err)
	}
}

// BenchmarkShellActivate is the work of `condabox activate b` from a (an
// interactive shell of the base image does one at its start): leave a,
// enter b, write the code.
func BenchmarkShellActivate(b *testing.B) {
	root := shellRoot(b)
	a := filepath.Join(root, "envs", "a")
	environ := []string{"MAMBA_ROOT_PREFIX=" + root, "PATH=" + a + "/bin:/usr/bin:/bin", "PS1=(a) $ ", "CONDA_SHLVL=1",
		"CONDA_PREFIX=" + a, "CONDA_DEFAULT_ENV=a", "CONDA_PROMPT_MODIFIER=(a) ", "FOO=from a", "A_ONLY=it's a"}
	for b.Loop() {
		if _, err := ShellActivate(ShellRequest{Environ: environ, Target: "b", WorkDir: "/"}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFishQuote: real fish reads each quoted value back byte for byte.
func TestFishQuote(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish is not installed (apt-get install fish)")
	}
	values := []string{"", "plain", "it's", `back\slash`, `\'`, `'\\'`, "$HOME (x) {a,b} *", "tab\there", "new\nline", "ünïcode", `"double"`, `;|&<>`}
	var script strings.Builder
	for _, v := range values {
		script.WriteString("set -l v " + fishQuote(v) + "\nprintf '%s\\0' \"$v\"\n")
	}
	out, err := exec.Command(fish, "--no-config", "-c", script.String()).Output()
	if err != nil {
		t.Fatalf("fish: %v\n%s", err, script.String())
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, values) {
		t.Errorf("fish read back\n%q\nwant\n%q", got, values)
	}
}
