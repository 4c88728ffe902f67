package env

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/condabox/condabox/pkg/atomicfile"
	"github.com/condabox/condabox/pkg/config"
)

// RemovableEnvironment returns the environment `condabox env remove` would
// delete: req's -p or -n (never a default), refused when it is the root
// prefix (base), the active environment ($CONDA_PREFIX), a symbolic link
// or a folder without conda-meta (an error wrapping ErrNotEnvironment).
func RemovableEnvironment(req CreateRequest) (string, error) {
	if req.Prefix == "" && req.Name == "" {
		return "", errors.New("remove environment: give -n NAME or -p PREFIX")
	}
	lookup := requestLookup(req)
	prefix, err := targetPrefix(req, lookup)
	if err != nil {
		return "", fmt.Errorf("remove environment: %w", err)
	}
	if root, err := config.RootPrefix(lookup); err == nil && samePrefix(prefix, root) {
		return "", fmt.Errorf("remove environment %s: it is the root prefix (base), which holds the other environments and the package cache", prefix)
	}
	if active := activePrefix(lookup); active != "" && samePrefix(prefix, active) {
		return "", fmt.Errorf("remove environment %s: it is the active environment ($CONDA_PREFIX): deactivate it first", prefix)
	}
	fi, err := os.Lstat(prefix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("remove environment %s: no such environment", prefix)
	case err != nil:
		return "", fmt.Errorf("remove environment: %w", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		// Deleting through a link would empty a folder the user did not name.
		return "", fmt.Errorf("remove environment %s: a symbolic link: give the environment's own path", prefix)
	case !isEnvironment(prefix):
		return "", fmt.Errorf("remove environment %s: %w", prefix, ErrNotEnvironment)
	}
	return prefix, nil
}

// RemoveEnvironment deletes the environment RemovableEnvironment returns
// for req and takes it out of ~/.conda/environments.txt.
func RemoveEnvironment(ctx context.Context, req CreateRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	prefix, err := RemovableEnvironment(req)
	if err != nil {
		return err
	}
	// Moved aside first, and its conda-meta deleted before the rest: a
	// removal cut short leaves a hidden folder that no command takes for
	// an environment, never a half-deleted one under the old name.
	// A fresh name: os.Rename will not replace even an empty folder.
	trash, err := os.MkdirTemp(filepath.Dir(prefix), ".condabox-removed-"+filepath.Base(prefix)+"-")
	if err == nil {
		err = os.Remove(trash)
	}
	if err == nil {
		err = os.Rename(prefix, trash)
	}
	if err != nil {
		return fmt.Errorf("remove environment %s: %w", prefix, err)
	}
	if err := os.RemoveAll(filepath.Join(trash, "conda-meta")); err != nil {
		return fmt.Errorf("remove environment %s: %w", prefix, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("remove environment %s: %w", prefix, err)
	}
	if name := environmentsTxt(requestLookup(req)); name != "" {
		if err := unregister(name, prefix); err != nil {
			return fmt.Errorf("environment %s removed, but: %w", prefix, err)
		}
	}
	return nil
}

// unregister drops the lines naming prefix from environments.txt, if any.
func unregister(name, prefix string) error {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(data), "\n")
	kept := lines[:0]
	for _, l := range lines {
		if p := strings.TrimSpace(l); p == "" || !filepath.IsAbs(p) || filepath.Clean(p) != prefix {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(lines) {
		return nil
	}
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(name, []byte(strings.Join(kept, "")), fi.Mode().Perm()); err != nil {
		return fmt.Errorf("update %s: %w", name, err)
	}
	return nil
}

// samePrefix reports whether a and b are one folder: the same path, or
// paths that lead to the same folder.
func samePrefix(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}
