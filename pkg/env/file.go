package env

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// File is an environment description read by ReadFile: exactly one of its
// fields is set.
type File struct {
	// Environment is an environment.yml, or a plain list of specs.
	Environment *EnvironmentFile
	// Lock is a conda-lock, pixi or mambajs lock file.
	Lock *Lock
	// Explicit is an @EXPLICIT file.
	Explicit *Explicit
}

// ReadFile reads the file micromamba's -f/--file accepts and parses it by
// its kind, told the way micromamba does: a .json file or a YAML file whose
// name ends in -lock.yml / -lock.yaml (or pixi.lock) is a lock file, another
// .yml / .yaml file an environment file, any other file an @EXPLICIT file
// when it has the @EXPLICIT line and a list of specs, one per line, when not.
func ReadFile(ctx context.Context, path string) (*File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	base := strings.ToLower(filepath.Base(path))
	ext := filepath.Ext(base)
	var f File
	switch {
	case IsLockFileName(path):
		f.Lock, err = ParseLock(path, data)
	case ext == ".yml" || ext == ".yaml":
		f.Environment, err = ParseEnvironmentFile(path, data)
	case hasExplicitMarker(data):
		f.Explicit, err = ParseExplicit(path, data)
	default:
		f.Environment, err = ParseSpecList(path, data)
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// IsLockFileName reports whether ReadFile reads the file at path as a lock
// file, by its name as micromamba does: *.json, pixi.lock, *-lock.yml and
// *-lock.yaml.
func IsLockFileName(path string) bool {
	base := strings.ToLower(filepath.Base(path))
	return filepath.Ext(base) == ".json" || base == "pixi.lock" ||
		strings.HasSuffix(base, "-lock.yml") || strings.HasSuffix(base, "-lock.yaml")
}

func hasExplicitMarker(data []byte) bool {
	for line := range bytes.Lines(data) {
		if string(bytes.TrimSpace(line)) == ExplicitMarker {
			return true
		}
	}
	return false
}

// ParseSpecList parses a text file of match specs, one per line, with
// blank lines and lines starting with # ignored, as `conda create --file` reads it. name is
// the file's name for error messages.
func ParseSpecList(name string, data []byte) (*EnvironmentFile, error) {
	var out EnvironmentFile
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		spec, err := conda.ParseMatchSpec(line)
		if err != nil {
			return nil, fmt.Errorf("parse spec file %q: line %d: %w", name, lineNo, err)
		}
		out.Dependencies = append(out.Dependencies, Dependency{Spec: spec})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse spec file %q: %w", name, err)
	}
	return &out, nil
}
