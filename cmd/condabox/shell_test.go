package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shellSession is what TestShellSession runs in each shell: the hook, then
// activate a, b, deactivate, activate --stack b, deactivate twice, each
// step reported; then whether the exported variables and PS1 are exactly
// as before.
const shellSession = `eval "$("$CB" shell hook -s "$SH" -r "$ROOT")" || exit 1
PS1='$ '
snapshot() { env | LC_ALL=C sort; echo "PS1=$PS1"; }
report() {
	echo "$1: prefix=${CONDA_PREFIX-} env=${CONDA_DEFAULT_ENV-} level=$CONDA_SHLVL ps1=$PS1|foo=${FOO-}|act=${A_ACT-}|$(tool 2>/dev/null || echo no tool)|only-a=$(command -v only-a || echo none)"
}
before=$(snapshot)
condabox activate nope 2>/dev/null || echo "nope refused"
condabox activate a && report a
condabox activate b && report b
condabox deactivate && report back
condabox activate --stack b && report stacked
condabox deactivate && condabox deactivate && report none
after=$(snapshot)
if [ "$before" = "$after" ]; then echo restored; else printf 'before:\n%s\nafter:\n%s\n' "$before" "$after"; fi
condabox --version
`

// fishSession is shellSession in fish. fish has no PS1: the prompt is
// fish_prompt's output, which the hook prefixes with the environment's
// name; the scripts of activate.d and deactivate.d are the *.fish ones.
const fishSession = `function fish_prompt; echo -n '$ '; end
$CB shell hook -s $SH -r $ROOT | source; or exit 1
function snapshot; env | LC_ALL=C sort; end
function report
	set -l tool_out (command -q tool; and tool; or echo no tool)
	set -l only_a (command -v only-a; or echo none)
	echo "$argv[1]: prefix=$CONDA_PREFIX env=$CONDA_DEFAULT_ENV level=$CONDA_SHLVL ps1="(fish_prompt)"|foo=$FOO|act=$A_ACT|$tool_out|only-a=$only_a"
end
set before (snapshot)
condabox activate nope 2>/dev/null; or echo "nope refused"
condabox activate a; and report a
condabox activate b; and report b
condabox deactivate; and report back
condabox activate --stack b; and report stacked
condabox deactivate; and condabox deactivate; and report none
set after (snapshot)
if test "$before" = "$after"; echo restored; else; printf 'before:\n%s\nafter:\n%s\n' "$before" "$after"; end
condabox --version
`

// TestShellSession runs the hook and activations in real bash, zsh, dash
// and fish: PATH (and the shell's command hash), CONDA_*, the prompt, the
// env_vars.d variable, activate.d and deactivate.d, and everything
// restored byte for byte after the last deactivate.
func TestShellSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds condabox")
	}
	root := t.TempDir()
	a, b := filepath.Join(root, "envs", "a"), filepath.Join(root, "envs", "b")
	for _, d := range []string{root, a, b} {
		mkdir(t, filepath.Join(d, "conda-meta"))
	}
	for _, tool := range []struct{ dir, name, out string }{
		{a, "tool", "tool of a"}, {a, "only-a", ""}, {b, "tool", "tool of b"},
	} {
		p := writeFile(t, mkdir(t, filepath.Join(tool.dir, "bin")), tool.name, "#!/bin/sh\necho '"+tool.out+"'\n")
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, mkdir(t, filepath.Join(a, "etc", "conda", "env_vars.d")), "a.json", `{"FOO": "from a's $HOME"}`)
	writeFile(t, mkdir(t, filepath.Join(a, "etc", "conda", "activate.d")), "a.sh", `export A_ACT="$CONDA_PREFIX"`+"\n")
	writeFile(t, mkdir(t, filepath.Join(a, "etc", "conda", "deactivate.d")), "a.sh", `echo "deactivate.d of a sees $CONDA_PREFIX"; unset A_ACT`+"\n")
	writeFile(t, filepath.Join(a, "etc", "conda", "activate.d"), "a.fish", `set -gx A_ACT "$CONDA_PREFIX"`+"\n")
	writeFile(t, filepath.Join(a, "etc", "conda", "deactivate.d"), "a.fish", `echo "deactivate.d of a sees $CONDA_PREFIX"; set -e A_ACT`+"\n")

	want := strings.NewReplacer("@A", a, "@B", b).Replace(`nope refused
a: prefix=@A env=a level=1 ps1=(a) $ |foo=from a's $HOME|act=@A|tool of a|only-a=@A/bin/only-a
deactivate.d of a sees @A
b: prefix=@B env=b level=2 ps1=(b) $ |foo=orig|act=|tool of b|only-a=none
back: prefix=@A env=a level=1 ps1=(a) $ |foo=from a's $HOME|act=@A|tool of a|only-a=@A/bin/only-a
stacked: prefix=@B env=b level=2 ps1=(b) $ |foo=from a's $HOME|act=@A|tool of b|only-a=@A/bin/only-a
deactivate.d of a sees @A
none: prefix= env= level=0 ps1=$ |foo=orig|act=|no tool|only-a=none
restored
condabox ` + version + "\n")

	cb := staticCondabox(t)
	for _, tc := range []struct{ shell, flag, session string }{
		{"bash", "bash", shellSession}, {"zsh", "zsh", shellSession}, {"dash", "posix", shellSession}, {"fish", "fish", fishSession},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			path, err := exec.LookPath(tc.shell)
			if err != nil {
				t.Skipf("%s is not installed (apt-get install %s)", tc.shell, tc.shell)
			}
			cmd := exec.Command(path, "-c", tc.session)
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + root, "LANG=C", "FOO=orig", "CB=" + cb, "SH=" + tc.flag, "ROOT=" + root}
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != want {
				t.Errorf("%s: %v\n%s\nwant:\n%s", tc.shell, err, out, want)
			}
		})
	}
}

// TestShellInit: shell init adds one block to ~/.bashrc or $ZDOTDIR/.zshrc
// however often it runs, and deinit takes it out again.
func TestShellInit(t *testing.T) {
	home := isolate(t)
	zdot := mkdir(t, filepath.Join(home, "zdot"))
	t.Setenv("ZDOTDIR", zdot)
	writeFile(t, home, ".bashrc", "export KEEP=1\n")
	for _, tc := range []struct {
		shell, rc, before string
	}{
		{"bash", filepath.Join(home, ".bashrc"), "export KEEP=1\n"},
		{"zsh", filepath.Join(zdot, ".zshrc"), ""},
		{"fish", filepath.Join(home, ".config", "fish", "config.fish"), ""},
	} {
		t.Run(tc.shell, func(t *testing.T) {
			for range 2 {
				if r := runCLI(t, "shell", "init", "-s", tc.shell, "-r", "/opt/root"); r.code != 0 {
					t.Fatalf("init: exit %d: %s", r.code, r.stderr)
				}
			}
			data, err := os.ReadFile(tc.rc)
			if err != nil {
				t.Fatal(err)
			}
			if rc := string(data); strings.Count(rc, "condabox initialize") != 2 || !strings.HasPrefix(rc, tc.before) ||
				!strings.Contains(rc, "shell hook -s "+tc.shell+" -r '/opt/root'") {
				t.Errorf("%s after init twice:\n%s", tc.rc, rc)
			}
			if tc.shell == "fish" {
				if _, err := exec.LookPath("fish"); err == nil {
					// A new fish reads the block: the function is there. (The
					// block runs this test binary, as condabox.)
					cmd := exec.Command("fish", "-c", "functions -q condabox; and echo $MAMBA_ROOT_PREFIX")
					cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "CONDABOX_AS_MAIN=1"}
					if out, err := cmd.CombinedOutput(); err != nil || string(out) != "/opt/root\n" {
						t.Errorf("fish with %s: %v, %q; want the condabox function and MAMBA_ROOT_PREFIX=/opt/root", tc.rc, err, out)
					}
				}
			}
			if r := runCLI(t, "shell", "deinit", "-s", tc.shell); r.code != 0 {
				t.Fatalf("deinit: exit %d: %s", r.code, r.stderr)
			}
			if data, err := os.ReadFile(tc.rc); err != nil || string(data) != tc.before {
				t.Errorf("%s after deinit: %q, %v; want %q", tc.rc, data, err, tc.before)
			}
		})
	}
	// micromamba 1's -p ROOT, into a ZDOTDIR that does not exist yet.
	t.Setenv("ZDOTDIR", filepath.Join(home, "new", "zdot"))
	if r := runCLI(t, "shell", "init", "-s", "zsh", "-p", "/opt/p-root"); r.code != 0 {
		t.Fatalf("init -p: exit %d: %s", r.code, r.stderr)
	}
	if data, err := os.ReadFile(filepath.Join(home, "new", "zdot", ".zshrc")); err != nil || !strings.Contains(string(data), "-r '/opt/p-root')") {
		t.Errorf("init -p into a new ZDOTDIR: %q, %v", data, err)
	}
}

// TestShellFlags: the shell is required and checked; activate reports a
// missing environment by name.
func TestShellFlags(t *testing.T) {
	isolate(t)
	t.Setenv("SHELL", "/bin/tcsh") // no -s: $SHELL's, which condabox does not support
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"shell", "hook"}, "give the shell with -s bash, -s zsh, -s fish or -s posix ($SHELL names none of them)"},
		{[]string{"shell", "activate", "-s", "tcsh"}, `shell "tcsh": not supported`},
		{[]string{"shell", "init", "-s", "posix"}, "only bash, zsh and fish have an rc file"},
		{[]string{"shell", "activate", "-s", "bash", "nope"}, "activate nope: no conda environment at"},
		{[]string{"shell", "activate", "-s", "bash", "-n", "nope"}, "activate nope: no conda environment at"},
		{[]string{"shell", "activate", "-s", "bash", "-n", "a", "b"}, "give one of NAME, PREFIX, -n NAME and -p PREFIX"},
		// Without the shell function, the program itself says how to add it.
		{[]string{"activate", "myenv"}, `eval "$(condabox shell hook -s bash)"`},
		{[]string{"deactivate"}, "so deactivate needs condabox's shell function"},
	} {
		if r := runCLI(t, tc.args...); r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want an error with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// A supported login shell is the default.
	t.Setenv("SHELL", "/usr/bin/fish")
	if r := runCLI(t, "shell", "hook"); r.code != 0 || !strings.HasPrefix(r.stdout, "# condabox shell hook for fish\n") {
		t.Errorf("shell hook with SHELL=/usr/bin/fish: exit %d, stdout %.40q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "activate", "myenv"); r.code == 0 || !strings.Contains(r.stderr, "    condabox shell hook -s fish | source\n") {
		t.Errorf("activate without the function in fish: exit %d, stderr %q; want fish's instructions", r.code, r.stderr)
	}
}

// TestShellActivateFlags: micromamba's -n NAME and -p PREFIX name the same
// environment as the positional NAME and PREFIX.
func TestShellActivateFlags(t *testing.T) {
	home := isolate(t)
	env := mkdir(t, filepath.Join(home, "root", "envs", "tools"))
	mkdir(t, filepath.Join(env, "conda-meta"))
	want := runCLI(t, "shell", "activate", "-s", "bash", "tools")
	if want.code != 0 || !strings.Contains(want.stdout, env) {
		t.Fatalf("activate tools: exit %d\n%s%s", want.code, want.stdout, want.stderr)
	}
	for _, args := range [][]string{{"-n", "tools"}, {"-p", env}, {env}} {
		if r := runCLI(t, append([]string{"shell", "activate", "-s", "bash"}, args...)...); r.code != 0 || r.stdout != want.stdout {
			t.Errorf("activate %v: exit %d\n%s\nwant:\n%s%s", args, r.code, r.stdout, want.stdout, r.stderr)
		}
	}
}

// TestShellCodeHelp: the help of the commands whose stdout the shell
// function evaluates goes to stderr, where it cannot run as commands.
func TestShellCodeHelp(t *testing.T) {
	for _, sub := range []string{"activate", "deactivate", "reactivate"} {
		r := runCLI(t, "shell", sub, "--help")
		if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "Usage:") {
			t.Errorf("shell %s --help: exit %d, stdout %q, stderr %q; want the help on stderr only", sub, r.code, r.stdout, r.stderr)
		}
	}
	if r := runCLI(t, "shell", "hook", "--help"); !strings.Contains(r.stdout, "Usage:") {
		t.Errorf("shell hook --help: stdout %q; want the help there", r.stdout)
	}
}
