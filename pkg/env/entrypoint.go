package env

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
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

// Entrypoint returns the program and environment that the entrypoint of an
// image of several environments execs args with, as micromamba-docker's
// _entrypoint.sh does: environ with the environment ENV_NAME names
// (envs.Default when unset or empty) activated, or environ unchanged with
// MAMBA_SKIP_ACTIVATE=1; args[0] is looked up on the resulting PATH.
func Entrypoint(envs *ImageEnvs, environ, args []string) (path string, env []string, err error) {
	if len(args) == 0 {
		return "", nil, errors.New("entrypoint: no command given (set the image's CMD or give one to run)")
	}
	vars := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	env = environ
	if vars["MAMBA_SKIP_ACTIVATE"] != "1" {
		name := vars["ENV_NAME"]
		if name == "" {
			name = envs.Default
		}
		i := slices.IndexFunc(envs.Envs, func(e ImageEnv) bool { return e.Name == name })
		if i < 0 {
			names := make([]string, len(envs.Envs))
			for j, e := range envs.Envs {
				names[j] = e.Name
			}
			return "", nil, fmt.Errorf("entrypoint: ENV_NAME=%q: no such environment in this image (it has %s)", name, strings.Join(names, ", "))
		}
		e := envs.Envs[i]
		// Baked first, so that env_vars.d files and conda-meta/state read
		// now (a user may have set variables since) win.
		maps.Copy(vars, e.Baked)
		base := make([]string, 0, len(vars))
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			base = append(base, k+"="+vars[k])
		}
		if env, err = ActivatedEnv(e.Prefix, e.Name, base); err != nil {
			return "", nil, fmt.Errorf("entrypoint: activate %s: %w", e.Name, err)
		}
	}
	path = args[0]
	if !strings.Contains(path, "/") {
		if path, err = lookPath(args[0], env); err != nil {
			return "", nil, fmt.Errorf("entrypoint: %w", err)
		}
	}
	return path, env, nil
}

// ReadImageEnvs reads an ImageEnvs file.
func ReadImageEnvs(file string) (*ImageEnvs, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("entrypoint: this image lists no environments: %w", err)
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
