package env

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/condabox/condabox/pkg/config"
)

// KnownEnv is one environment `condabox env list` shows.
type KnownEnv struct {
	// Name is "base", the folder under <root prefix>/envs, or "" for an
	// environment elsewhere.
	Name   string
	Prefix string
	// Active is the environment of $CONDA_PREFIX.
	Active bool
}

// KnownEnvironments lists the environments micromamba's env list knows:
// the root prefix (base), the folders of <root prefix>/envs, then those
// that ~/.conda/environments.txt records (conda's register, which other
// tools keep). Only folders with conda-meta count: a deleted environment
// left in environments.txt is not shown. The root prefix comes from
// req.RootPrefix, else MAMBA_ROOT_PREFIX.
func KnownEnvironments(ctx context.Context, req CreateRequest) ([]KnownEnv, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lookup := requestLookup(req)
	root, err := config.RootPrefix(lookup)
	if err != nil {
		return nil, fmt.Errorf("list environments: %w", err)
	}
	candidates := []string{root}
	entries, err := os.ReadDir(filepath.Join(root, "envs"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list environments: %w", err)
	}
	for _, e := range entries { // sorted by name
		candidates = append(candidates, filepath.Join(root, "envs", e.Name()))
	}
	if name := environmentsTxt(lookup); name != "" {
		registered, err := readEnvironmentsTxt(name)
		if err != nil {
			return nil, fmt.Errorf("list environments: %w", err)
		}
		candidates = append(candidates, registered...)
	}
	active := activePrefix(lookup)
	if active != "" {
		active = filepath.Clean(active)
	}
	var out []KnownEnv
	for _, p := range candidates {
		p = filepath.Clean(p)
		if !isEnvironment(p) || slices.ContainsFunc(out, func(e KnownEnv) bool { return e.Prefix == p }) {
			continue
		}
		out = append(out, KnownEnv{Name: envName(root, p), Prefix: p, Active: p == active})
	}
	return out, nil
}

// isEnvironment reports whether prefix holds conda-meta.
func isEnvironment(prefix string) bool {
	fi, err := os.Stat(filepath.Join(prefix, "conda-meta"))
	return err == nil && fi.IsDir()
}

// readEnvironmentsTxt returns the absolute paths environments.txt lists,
// one a line; a missing file lists none.
func readEnvironmentsTxt(name string) ([]string, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if p := strings.TrimSpace(sc.Text()); filepath.IsAbs(p) {
			out = append(out, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}

// environmentsTxt is the register of environments conda and micromamba
// keep, and read for env list, under the home folder lookup gives; "" when
// HOME is not set.
func environmentsTxt(lookup func(string) (string, bool)) string {
	home, _ := lookup("HOME")
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".conda", "environments.txt")
}

// register adds prefix to the register name unless a line names it
// already, as conda and micromamba do for each environment they create:
// env list then shows an environment created with -p anywhere, and clean
// keeps the packages it uses.
func register(name, prefix string) error {
	known, err := readEnvironmentsTxt(name)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(known, func(p string) bool { return samePrefix(p, prefix) }) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(prefix + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteEnvList writes the environments as micromamba's env list does: a
// table of name, active mark and path.
func WriteEnvList(w io.Writer, envs []KnownEnv) error {
	rows := make([][]string, len(envs))
	for i, e := range envs {
		mark := ""
		if e.Active {
			mark = "*"
		}
		rows[i] = []string{e.Name, mark, e.Prefix}
	}
	return writeTable(w, []string{"Name", "Active", "Path"}, rows)
}

// WriteEnvListJSON writes the environments as conda's env list --json
// does: {"envs": [prefix, …]}.
func WriteEnvListJSON(w io.Writer, envs []KnownEnv) error {
	out := struct {
		Envs []string `json:"envs"`
	}{Envs: []string{}}
	for _, e := range envs {
		out.Envs = append(out.Envs, e.Prefix)
	}
	return writeJSON(w, out)
}
