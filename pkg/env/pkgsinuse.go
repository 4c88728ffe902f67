package env

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/install"
)

// PkgsDirs returns the package caches the configuration names, in order
// (CONDA_PKGS_DIRS, .condarc's pkgs_dirs, else <root prefix>/pkgs): those
// create downloads into and clean cleans.
func PkgsDirs(req CreateRequest) ([]string, error) {
	cfg, err := config.Load(requestLookup(req))
	if err != nil {
		return nil, err
	}
	return cfg.PkgsDirs, nil
}

// PackagesInUse returns the package cache folder names (<dist>) that the
// known environments (KnownEnvironments, and the active one) were linked
// from, so that cleaning the cache keeps them. A record names its folder
// by extracted_package_dir, else by its fn or name-version-build: every
// name it gives counts, which errs on the side of keeping.
func PackagesInUse(ctx context.Context, req CreateRequest) (map[string]bool, error) {
	envs, err := KnownEnvironments(ctx, req)
	if err != nil {
		return nil, err
	}
	prefixes := make([]string, 0, len(envs)+1)
	for _, e := range envs {
		prefixes = append(prefixes, e.Prefix)
	}
	// An environment made with -p elsewhere is in no register, but the
	// active one is known.
	if active := activePrefix(requestLookup(req)); active != "" && isEnvironment(active) && !slices.Contains(prefixes, filepath.Clean(active)) {
		prefixes = append(prefixes, filepath.Clean(active))
	}
	used := map[string]bool{}
	for _, p := range prefixes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		recs, err := install.ReadPrefix(p)
		if err != nil {
			// Unknown use: cleaning packages could take what p needs.
			return nil, fmt.Errorf("environment %s: %w", p, err)
		}
		for _, r := range recs {
			used[r.Dist()] = true
			if r.FileName != "" {
				used[archive.Dist(r.FileName)] = true
			}
			if r.ExtractedPackageDir != "" {
				used[filepath.Base(r.ExtractedPackageDir)] = true
			}
		}
	}
	return used, nil
}
