package env

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/condabox/condabox/pkg/conda"
)

// EnvironmentFile is an environment.yml as conda and micromamba read it.
type EnvironmentFile struct {
	Name   string
	Prefix string
	// Channels in priority order, as written ("conda-forge", a URL, a path).
	Channels []string
	// Dependencies are the conda specs, in file order.
	Dependencies []Dependency
	// Pip holds the pip: sub-list as written; create and install run pip
	// on it once the conda packages are linked (see PipSection).
	Pip []string
	// Variables are environment variables to set on activation.
	Variables map[string]string
	// Platforms is conda-lock's extension: the platforms to lock for.
	Platforms []conda.Platform
}

// Dependency is one conda spec of an environment file, with the
// micromamba selector ("sel(linux): spec") that limits it to some platforms.
type Dependency struct {
	Spec conda.MatchSpec
	// Selector is "" (every platform), "win", "unix", "linux" or "osx".
	Selector string
}

// selectors says which platforms each micromamba selector keeps.
var selectors = map[string]func(conda.Platform) bool{
	"win":   func(p conda.Platform) bool { return p.OS() == "win" },
	"unix":  func(p conda.Platform) bool { return p.OS() == "linux" || p.OS() == "osx" },
	"linux": func(p conda.Platform) bool { return p.OS() == "linux" },
	"osx":   func(p conda.Platform) bool { return p.OS() == "osx" },
}

// Specs returns the specs that apply to platform p, in file order.
func (f *EnvironmentFile) Specs(p conda.Platform) []conda.MatchSpec {
	var out []conda.MatchSpec
	for _, d := range f.Dependencies {
		if d.Selector == "" || selectors[d.Selector](p) {
			out = append(out, d.Spec)
		}
	}
	return out
}

// rawEnvironmentFile is the YAML shape; dependencies mix strings and
// one-key mappings ({pip: [...]} and {"sel(linux)": spec}).
type rawEnvironmentFile struct {
	Name         string            `yaml:"name"`
	Prefix       string            `yaml:"prefix"`
	Channels     []string          `yaml:"channels"`
	Dependencies []yaml.Node       `yaml:"dependencies"`
	Variables    map[string]string `yaml:"variables"`
	Platforms    []string          `yaml:"platforms"`
}

// ParseEnvironmentFile parses an environment.yml. name is the file's name
// for error messages.
func ParseEnvironmentFile(name string, data []byte) (*EnvironmentFile, error) {
	var raw rawEnvironmentFile
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse environment file %q: %w", name, err)
	}
	out := &EnvironmentFile{
		Name:      raw.Name,
		Prefix:    raw.Prefix,
		Channels:  raw.Channels,
		Variables: raw.Variables,
	}
	for _, p := range raw.Platforms {
		out.Platforms = append(out.Platforms, conda.Platform(p))
	}
	for _, n := range raw.Dependencies {
		if err := out.addDependency(&n); err != nil {
			return nil, fmt.Errorf("parse environment file %q: dependencies, line %d: %w", name, n.Line, err)
		}
	}
	return out, nil
}

// addDependency adds one item of the dependencies list.
func (f *EnvironmentFile) addDependency(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return f.addSpec(n.Value, "")
	}
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return fmt.Errorf("want a spec string, a pip: list or a sel(...): spec")
	}
	key, val := n.Content[0].Value, n.Content[1]
	if key == "pip" {
		var pip []string
		if err := val.Decode(&pip); err != nil {
			return fmt.Errorf("pip: want a list of strings: %w", err)
		}
		f.Pip = append(f.Pip, pip...)
		return nil
	}
	sel, ok := strings.CutPrefix(key, "sel(")
	sel, closed := strings.CutSuffix(sel, ")")
	if !ok || !closed {
		return fmt.Errorf("unknown key %q: want pip or sel(...)", key)
	}
	if _, known := selectors[sel]; !known {
		keys := make([]string, 0, len(selectors))
		for k := range selectors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return fmt.Errorf("selector %q: unknown (known: %s)", key, strings.Join(keys, ", "))
	}
	if val.Kind != yaml.ScalarNode {
		return fmt.Errorf("selector %q: want one spec string", key)
	}
	return f.addSpec(val.Value, sel)
}

func (f *EnvironmentFile) addSpec(s, selector string) error {
	spec, err := conda.ParseMatchSpec(s)
	if err != nil {
		return err
	}
	f.Dependencies = append(f.Dependencies, Dependency{Spec: spec, Selector: selector})
	return nil
}
