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
// activate.d scripts need a shell and are not run.
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
	files, err := filepath.Glob(filepath.Join(prefix, EnvVarsDir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
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
	state, err := stateEnvVars(prefix)
	if err != nil {
		return nil, err
	}
	maps.Copy(env, state)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out, nil
}

// stateEnvVars reads the env_vars of conda-meta/state, which
// `conda env config vars set` writes; a prefix without the file has none.
func stateEnvVars(prefix string) (map[string]string, error) {
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

// Command returns the command line args (args[0] found on the activated
// PATH, prefix/bin first) to run in prefix activated, as `micromamba run`.
// name is CONDA_DEFAULT_ENV.
func Command(ctx context.Context, prefix, name string, args []string) (*exec.Cmd, error) {
	if len(args) == 0 {
		return nil, errors.New("run: no command given")
	}
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta")); err != nil {
		return nil, fmt.Errorf("run in %s: not a conda environment: %w", prefix, err)
	}
	environ, err := ActivatedEnv(prefix, name, os.Environ())
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = environ
	// On cancellation (condabox interrupted) the command gets the interrupt
	// too, to end cleanly, instead of a kill.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	if !strings.Contains(args[0], "/") {
		// exec.Command looked args[0] up on our PATH, not the activated one.
		path, err := lookPath(args[0], environ)
		if err != nil {
			return nil, err
		}
		cmd.Path, cmd.Err = path, nil
	}
	return cmd, nil
}

// lookPath finds an executable file on the PATH of environ.
func lookPath(file string, environ []string) (string, error) {
	var path string
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, file)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("run %s: executable file not found in the environment's PATH", file)
}
