package env

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ImageEnvsPath is where an image of several environments lists them for
// `condabox entrypoint`.
const ImageEnvsPath = "/etc/condabox/envs.json"

// ImageEnvs is the list of environments of an image that holds several,
// written by pkg/image and read by the entrypoint at run time.
type ImageEnvs struct {
	// Default is the environment activated when ENV_NAME is unset.
	Default string     `json:"default"`
	Envs    []ImageEnv `json:"envs"`
}

// ImageEnv is one environment of an image.
type ImageEnv struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
	// Baked are the variables of env_vars.d files and literal activate.d
	// exports found at build time; a shell-less entrypoint cannot run the
	// scripts themselves.
	Baked map[string]string `json:"baked,omitempty"`
}

// DefaultRootPrefix is MAMBA_ROOT_PREFIX in micromamba-docker's images and
// condabox's base image: the entrypoint's root prefix when it is unset.
const DefaultRootPrefix = "/opt/conda"

// Entrypoint returns the process that a container's entrypoint execs for
// args, as micromamba-docker's _entrypoint.sh: args in the environment
// ENV_NAME names, activated (ActivatedProcess; shell sources activate.d), or
// args as they are with MAMBA_SKIP_ACTIVATE=1.
//
// In an image of several environments built by condabox, envs lists them
// and an unset or empty ENV_NAME is envs.Default. Otherwise (envs nil, as
// in a base image) ENV_NAME defaults to base, which is MAMBA_ROOT_PREFIX
// (DefaultRootPrefix when unset); another name is MAMBA_ROOT_PREFIX/envs/NAME.
func Entrypoint(envs *ImageEnvs, environ, args []string, shell string) (Process, error) {
	if len(args) == 0 {
		return Process{}, errors.New("entrypoint: no command given (set the image's CMD or give one to run)")
	}
	p, err := activate(envs, environ, args, shell)
	if err != nil {
		return Process{}, fmt.Errorf("entrypoint: %w", err)
	}
	return p, nil
}

// DockerfileShell returns the process that runs a Dockerfile RUN line,
// args (the line, then $0, $1 … if given), as micromamba-docker's
// _dockerfile_shell.sh: `bash -o pipefail -c ARGS...`, or `sh -c ARGS...`
// when shell is sh. With MAMBA_DOCKERFILE_ACTIVATE=1 it runs activated as
// by Entrypoint (MAMBA_SKIP_ACTIVATE=1 still skips, as there).
func DockerfileShell(envs *ImageEnvs, environ, args []string, shell string) (Process, error) {
	switch {
	case len(args) == 0:
		return Process{}, errors.New("dockerfile-shell: no command given (use it as the SHELL of RUN lines)")
	case shell == "":
		return Process{}, errors.New("dockerfile-shell: this image has no /bin/bash or /bin/sh to run RUN lines")
	}
	argv := []string{shell, "-c"}
	if filepath.Base(shell) == "bash" {
		// A failure anywhere in a pipe fails the RUN line.
		argv = []string{shell, "-o", "pipefail", "-c"}
	}
	argv = append(argv, args...)
	if lookup(environ, "MAMBA_DOCKERFILE_ACTIVATE") != "1" {
		return Process{Path: shell, Args: argv, Env: environ}, nil
	}
	p, err := activate(envs, environ, argv, shell)
	if err != nil {
		return Process{}, fmt.Errorf("dockerfile-shell: %w", err)
	}
	return p, nil
}

// DockerfileUmask reads DOCKERFILE_UMASK, the umask micromamba-docker's
// SHELL sets for RUN lines: ok is false when it is unset or empty.
func DockerfileUmask(environ []string) (mask int, ok bool, err error) {
	s := lookup(environ, "DOCKERFILE_UMASK")
	if s == "" {
		return 0, false, nil
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o777 {
		return 0, false, fmt.Errorf("DOCKERFILE_UMASK=%q: want an octal mode from 000 to 777, such as 022", s)
	}
	return int(m), true, nil
}

// activate returns the process running args in ENV_NAME's environment,
// or args as they are with MAMBA_SKIP_ACTIVATE=1.
func activate(envs *ImageEnvs, environ, args []string, shell string) (Process, error) {
	e, base, skip, err := chooseEnv(envs, environ)
	if err != nil {
		return Process{}, err
	}
	if skip {
		return directProcess(environ, args)
	}
	return ActivatedProcess(e.Prefix, e.Name, base, args, shell)
}

// chooseEnv returns ENV_NAME's environment and environ with its baked
// variables, which activation starts from; skip with MAMBA_SKIP_ACTIVATE=1.
func chooseEnv(envs *ImageEnvs, environ []string) (e ImageEnv, base []string, skip bool, err error) {
	if lookup(environ, "MAMBA_SKIP_ACTIVATE") == "1" {
		return ImageEnv{}, nil, true, nil
	}
	if e, err = selectEnv(envs, environ); err != nil {
		return ImageEnv{}, nil, false, err
	}
	// Baked after environ, so that they override it; the env_vars.d files
	// and conda-meta/state that ActivatedEnv reads now (a user may have set
	// variables since the build) override them in turn.
	base = slices.Clone(environ)
	for _, k := range slices.Sorted(maps.Keys(e.Baked)) {
		base = append(base, k+"="+e.Baked[k])
	}
	return e, base, false, nil
}

// ActivationScript returns the POSIX shell code that activates ENV_NAME's
// environment in the shell that evaluates it, as micromamba-docker's
// _activate_current_env.sh does for interactive shells (`podman exec -it
// CTR bash` bypasses the entrypoint): an export for each variable the
// activation sets or changes, then the activate.d scripts sourced. It is
// empty with MAMBA_SKIP_ACTIVATE=1 and when the environment is active
// already ($CONDA_PREFIX), as in a shell the entrypoint started.
func ActivationScript(envs *ImageEnvs, environ []string) (string, error) {
	e, base, skip, err := chooseEnv(envs, environ)
	if err != nil || skip || lookup(environ, "CONDA_PREFIX") == e.Prefix {
		return "", err
	}
	activated, err := ActivatedEnv(e.Prefix, e.Name, base)
	if err != nil {
		return "", err
	}
	var script strings.Builder
	for _, kv := range activated { // sorted by name
		k, v, _ := strings.Cut(kv, "=")
		if !isShellName(k) {
			continue // a shell cannot hold it, and it must not become code
		}
		if old, ok := lookupOK(environ, k); !ok || old != v {
			script.WriteString("export " + k + "=" + shellQuote(v) + "\n")
		}
	}
	scripts, err := activateScripts(e.Prefix)
	if err != nil {
		return "", err
	}
	for _, s := range scripts {
		script.WriteString(". " + shellQuote(s) + "\n")
	}
	return script.String(), nil
}

// isShellName reports whether k is a POSIX shell variable name.
func isShellName(k string) bool {
	for i, c := range k {
		if c != '_' && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && !(i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return k != ""
}

// selectEnv returns the environment ENV_NAME names: one of envs, or with
// envs nil an environment of the root prefix, which must exist.
func selectEnv(envs *ImageEnvs, environ []string) (ImageEnv, error) {
	name := lookup(environ, "ENV_NAME")
	if envs != nil {
		if name == "" {
			name = envs.Default
		}
		i := slices.IndexFunc(envs.Envs, func(e ImageEnv) bool { return e.Name == name })
		if i < 0 {
			names := make([]string, len(envs.Envs))
			for j, e := range envs.Envs {
				names[j] = e.Name
			}
			return ImageEnv{}, fmt.Errorf("ENV_NAME=%q: no such environment in this image (it has %s)", name, strings.Join(names, ", "))
		}
		return envs.Envs[i], nil
	}
	if name == "" {
		name = "base"
	}
	root := lookup(environ, "MAMBA_ROOT_PREFIX")
	if root == "" {
		root = DefaultRootPrefix
	}
	prefix, err := targetPrefix(CreateRequest{Name: name}, func(k string) (string, bool) {
		return root, k == "MAMBA_ROOT_PREFIX"
	})
	if err != nil {
		return ImageEnv{}, fmt.Errorf("ENV_NAME=%q: %w", name, err)
	}
	if st, err := os.Stat(filepath.Join(prefix, "conda-meta")); err != nil || !st.IsDir() {
		return ImageEnv{}, fmt.Errorf("ENV_NAME=%q: no conda environment at %s (MAMBA_ROOT_PREFIX=%s): create it, or set ENV_NAME to an existing one", name, prefix, root)
	}
	return ImageEnv{Name: name, Prefix: prefix}, nil
}

// ReadImageEnvs reads an ImageEnvs file; it returns nil when there is none,
// as in a base image, whose environments are under MAMBA_ROOT_PREFIX.
func ReadImageEnvs(file string) (*ImageEnvs, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("entrypoint: read the image's environments: %w", err)
	}
	return ParseImageEnvs(file, data)
}

// ParseImageEnvs decodes an ImageEnvs file (name is for errors) and checks
// that its default is one of its environments and that each environment's
// variables can be set.
func ParseImageEnvs(name string, data []byte) (*ImageEnvs, error) {
	var envs ImageEnvs
	if err := json.Unmarshal(data, &envs); err != nil {
		return nil, fmt.Errorf("entrypoint: read %s: want a JSON object with default and envs: %w", name, err)
	}
	if !slices.ContainsFunc(envs.Envs, func(e ImageEnv) bool { return e.Name == envs.Default }) {
		return nil, fmt.Errorf("entrypoint: read %s: default environment %q is not among envs", name, envs.Default)
	}
	for _, e := range envs.Envs {
		if err := checkVars(e.Baked); err != nil {
			return nil, fmt.Errorf("entrypoint: read %s: environment %q: %w", name, e.Name, err)
		}
	}
	return &envs, nil
}
