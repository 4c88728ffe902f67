package env

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/condabox/condabox/pkg/atomicfile"
)

// UnsetStateVars removes names from prefix's conda-meta/state env_vars
// (conda's `env config vars unset`); names not there are ignored.
func UnsetStateVars(prefix string, names []string) error {
	return editState(prefix, func(env map[string]any) {
		for _, n := range names {
			delete(env, n)
		}
	})
}

// SetStateVars sets vars in prefix's conda-meta/state env_vars, as conda
// and micromamba do with an environment file's variables: and `conda env
// config vars set` does (activation reads them). Other keys of the file and
// other variables stay; the file is written whole or not at all.
func SetStateVars(prefix string, vars map[string]string) error {
	if len(vars) == 0 {
		return nil
	}
	if err := checkVars(vars); err != nil {
		return fmt.Errorf("variables: %w", err)
	}
	return editState(prefix, func(env map[string]any) {
		for k, v := range vars {
			env[k] = v
		}
	})
}

// editState applies edit to the env_vars of prefix's conda-meta/state,
// keeping the file's other keys, and writes it whole.
func editState(prefix string, edit func(env map[string]any)) error {
	path := filepath.Join(prefix, "conda-meta", "state")
	state := map[string]any{}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &state); err != nil {
			return fmt.Errorf("read %s: want a JSON object: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	env := map[string]any{}
	if old, ok := state["env_vars"].(map[string]any); ok {
		env = old
	} else if state["env_vars"] != nil {
		return fmt.Errorf("read %s: env_vars is not an object", path)
	}
	edit(env)
	state["env_vars"] = env
	out, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(out, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// mergeVars returns the variables of several environment files, a later
// file's value winning.
func mergeVars(files ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		maps.Copy(out, f)
	}
	return out
}
