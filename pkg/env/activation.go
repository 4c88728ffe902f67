package env

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// EnvVarsDir is where packages put the variables activation sets, one JSON
// object of strings per file.
const EnvVarsDir = "etc/conda/env_vars.d"

// ParseEnvVars decodes one EnvVarsDir file (name is for errors).
func ParseEnvVars(name string, data []byte) (map[string]string, error) {
	var vars map[string]string
	if err := json.Unmarshal(data, &vars); err != nil {
		return nil, fmt.Errorf("read %s: want a JSON object of strings: %w", name, err)
	}
	if err := checkVars(vars); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return vars, nil
}

// checkVars refuses what a process environment cannot hold.
func checkVars(vars map[string]string) error {
	for k, v := range vars {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return fmt.Errorf("variable %q=%q: a name must be non-empty without '=' or NUL, a value without NUL", k, v)
		}
	}
	return nil
}

// ActivatedEnv returns base (KEY=VALUE pairs, as os.Environ gives them)
// with prefix activated for a process, as `micromamba run` does: PATH
// starts with prefix/bin; CONDA_PREFIX, CONDA_DEFAULT_ENV (name) and
// CONDA_SHLVL are set; then come the variables of EnvVarsDir files in file
// name order and those of conda-meta/state's env_vars, later ones winning.
// activate.d scripts need a shell: ActivatedProcess sources them.
func ActivatedEnv(prefix, name string, base []string) ([]string, error) {
	env := map[string]string{}
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	shlvl, _ := strconv.Atoi(env["CONDA_SHLVL"])
	path := filepath.Join(prefix, "bin")
	if env["PATH"] != "" {
		path += string(os.PathListSeparator) + env["PATH"]
	}
	maps.Copy(env, map[string]string{
		"PATH":              path,
		"CONDA_PREFIX":      prefix,
		"CONDA_DEFAULT_ENV": name,
		"CONDA_SHLVL":       strconv.Itoa(shlvl + 1),
	})
	vars, err := prefixEnvVars(prefix)
	if err != nil {
		return nil, err
	}
	maps.Copy(env, vars)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out, nil
}

// prefixEnvVars returns the variables prefix's activation sets beyond
// PATH and CONDA_*: those of EnvVarsDir files in file name order, then
// conda-meta/state's env_vars, later ones winning.
func prefixEnvVars(prefix string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(prefix, EnvVarsDir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	env := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		vars, err := ParseEnvVars(f, data)
		if err != nil {
			return nil, err
		}
		maps.Copy(env, vars)
	}
	state, err := StateVars(prefix)
	if err != nil {
		return nil, err
	}
	maps.Copy(env, state)
	return env, nil
}

// StateVars reads the env_vars of prefix's conda-meta/state, which `conda
// env config vars set` and an environment file's variables: write; a
// prefix without the file has none.
func StateVars(prefix string) (map[string]string, error) {
	path := filepath.Join(prefix, "conda-meta", "state")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var state struct {
		EnvVars map[string]string `json:"env_vars"`
	}
	if err := json.Unmarshal(data, &state); err != nil {
		return nil, fmt.Errorf("read %s: want a JSON object with an env_vars object of strings: %w", path, err)
	}
	if err := checkVars(state.EnvVars); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return state.EnvVars, nil
}

// ActivateDir holds the scripts that conda's POSIX shell activation
// sources, *.sh in name order, after setting the variables.
const ActivateDir = "etc/conda/activate.d"

// FindShell returns the shell that sources activate.d scripts: bash, which
// they are written for, else sh; "" in an image without one (distroless).
func FindShell() string {
	for _, sh := range []string{"/bin/bash", "/bin/sh"} {
		if isExecutable(sh) {
			return sh
		}
	}
	return ""
}

// Process is a program to start or exec: its path, its argv (Args[0]
// included) and its environment.
type Process struct {
	Path string
	Args []string
	Env  []string
}

// ActivatedProcess returns the process running args in prefix activated
// on top of environ, as conda's shell activation does: ActivatedEnv's
// variables, then prefix's activate.d scripts sourced by shell, which execs
// args in its place (so args is the process: signals and exit code are its
// own). Without a shell ("") or scripts, args runs directly, args[0] found
// on the activated PATH; scripts are then skipped silently, since an image
// without a shell cannot run them (literal exports are baked at build time).
func ActivatedProcess(prefix, name string, environ, args []string, shell string) (Process, error) {
	env, err := ActivatedEnv(prefix, name, environ)
	if err != nil {
		return Process{}, err
	}
	var scripts []string
	if shell != "" {
		if scripts, err = activateScripts(prefix); err != nil {
			return Process{}, err
		}
	}
	if len(scripts) == 0 || len(args) == 0 {
		return directProcess(env, args) // which refuses no args
	}
	var script strings.Builder
	for _, s := range scripts {
		script.WriteString(". " + shellQuote(s) + "\n")
	}
	// The shell's exec looks args[0] up on the PATH the scripts leave.
	script.WriteString(`exec "$@"`)
	// "condabox" is the shell's $0, which names it in its error messages.
	argv := append([]string{shell, "-c", script.String(), "condabox"}, args...)
	return Process{Path: shell, Args: argv, Env: env}, nil
}

// activateScripts returns prefix's ActivateDir/*.sh files in name order.
func activateScripts(prefix string) ([]string, error) {
	return shellScripts(prefix, ActivateDir, ".sh")
}

// shellScripts returns the *ext files (".sh", ".fish") of prefix's folder
// dir in name order.
func shellScripts(prefix, dir, ext string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(prefix, dir, "*"+ext))
	if err != nil {
		return nil, err
	}
	slices.Sort(matches)
	// Sourcing anything else (a folder named x.sh) would stop the shell.
	return slices.DeleteFunc(matches, func(p string) bool {
		st, err := os.Stat(p)
		return err != nil || !st.Mode().IsRegular()
	}), nil
}

// directProcess returns the process running args as they are, args[0]
// looked up on environ's PATH.
func directProcess(environ, args []string) (Process, error) {
	if len(args) == 0 {
		return Process{}, errors.New("no command given")
	}
	path := args[0]
	if !strings.Contains(path, "/") {
		var err error
		if path, err = lookPath(args[0], environ); err != nil {
			return Process{}, err
		}
	}
	return Process{Path: path, Args: args, Env: environ}, nil
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Command returns the command running args in prefix activated on top of
// environ (os.Environ() for `micromamba run`), as `micromamba run` (see
// ActivatedProcess; shell sources activate.d). name is CONDA_DEFAULT_ENV.
func Command(ctx context.Context, prefix, name string, environ, args []string, shell string) (*exec.Cmd, error) {
	if len(args) == 0 {
		return nil, errors.New("run: no command given")
	}
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta")); err != nil {
		return nil, fmt.Errorf("run in %s: not a conda environment: %w", prefix, err)
	}
	p, err := ActivatedProcess(prefix, name, environ, args, shell)
	if err != nil {
		return nil, fmt.Errorf("run in %s: %w", prefix, err)
	}
	cmd := exec.CommandContext(ctx, p.Path)
	cmd.Args, cmd.Env = p.Args, p.Env
	// On cancellation (condabox interrupted) the command gets the interrupt
	// too, to end cleanly, instead of a kill.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	return cmd, nil
}

// lookPath finds an executable file on the PATH of environ.
func lookPath(file string, environ []string) (string, error) {
	for _, dir := range filepath.SplitList(lookup(environ, "PATH")) {
		if p := filepath.Join(dir, file); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: executable file not found in the environment's PATH", file)
}

// lookup returns the last value of key in environ, as a process sees it,
// or "".
func lookup(environ []string, key string) string {
	v, _ := lookupOK(environ, key)
	return v
}

// lookupOK is lookup that also tells whether key is set (the last
// occurrence wins, as for exec).
func lookupOK(environ []string, key string) (v string, ok bool) {
	for _, kv := range environ {
		if val, found := strings.CutPrefix(kv, key+"="); found {
			v, ok = val, true
		}
	}
	return v, ok
}

// isExecutable reports whether p is a regular file someone may execute.
func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
