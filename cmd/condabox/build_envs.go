package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/condabox/condabox/pkg/env"
	"github.com/condabox/condabox/pkg/image"
	"github.com/condabox/condabox/pkg/image/sbom"
)

// parseEnvs reads, for several -f files, each one's environment name (its
// name: key) and picks each platform's entrypoint binary (see shimFor).
// One file is one environment, as before: nothing to do.
func (b *buildFlags) parseEnvs() error {
	if len(b.files) < 2 {
		if len(b.shimFlags) > 0 {
			return errors.New("--shim: only an image of several environments (-f a.yml -f b.yml) has condabox as its entrypoint")
		}
		return nil
	}
	for _, file := range b.files {
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("-f %s: %w", file, err)
		}
		f, err := env.ParseEnvironmentFile(file, data)
		if err != nil {
			return fmt.Errorf("-f %s: several environments need environment files: %w", file, err)
		}
		if f.Name == "" {
			return fmt.Errorf("-f %s: several environments need a name: in each environment file (ENV_NAME chooses by it)", file)
		}
		b.envNames = append(b.envNames, f.Name)
	}
	if _, _, err := image.EnvPrefixes(b.opts.Prefix, b.envNames); err != nil {
		return fmt.Errorf("-f: %w", err)
	}
	given := map[string]string{}
	for _, s := range b.shimFlags {
		p, file, ok := strings.Cut(s, "=")
		if !ok || file == "" {
			return fmt.Errorf("--shim %q: want PLATFORM=FILE, e.g. linux/arm64=./condabox-arm64", s)
		}
		if !slices.ContainsFunc(b.platforms, func(q v1.Platform) bool { return q.String() == p }) {
			return fmt.Errorf("--shim %q: %s is not one of --platform's", s, p)
		}
		given[p] = file
	}
	b.shims = make([]string, len(b.platforms))
	for i, p := range b.platforms {
		file, err := shimFor(p, given[p.String()])
		if err != nil {
			return err
		}
		if err := image.CheckShim(file, p); err != nil {
			return err
		}
		b.shims[i] = file
	}
	return nil
}

// shimFor returns the condabox binary to put in p's image as its
// entrypoint: the one given, else the running condabox when it is built for
// p (which CheckShim tells), else an error saying how to make one.
func shimFor(p v1.Platform, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if p.OS != runtime.GOOS || p.Architecture != runtime.GOARCH {
		return "", fmt.Errorf("several environments for %s need a static condabox built for it as the entrypoint: --shim %s=FILE (build one with GOOS=%s GOARCH=%s CGO_ENABLED=0 go build ./cmd/condabox)",
			p, p, p.OS, p.Architecture)
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("several environments: find the condabox binary for the entrypoint: %w", err)
	}
	return exe, nil
}

// envs solves and fetches the environments of several -f files for
// platform i, each at its prefix below prefix.
func (b *buildFlags) envs(ctx context.Context, stderr io.Writer, prefix string, i int) ([]image.Env, []sbom.PypiPackage, error) {
	prefixes, _, err := image.EnvPrefixes(prefix, b.envNames)
	if err != nil {
		return nil, nil, err
	}
	envs := make([]image.Env, len(b.files))
	var pypi []sbom.PypiPackage
	for j, file := range b.files {
		pkgs, built, err := b.packages(ctx, stderr, prefixes[j], []string{file}, i)
		if err != nil {
			return nil, nil, fmt.Errorf("environment %s (-f %s): %w", b.envNames[j], file, err)
		}
		envs[j] = image.Env{Name: b.envNames[j], Packages: pkgs, Variables: built.vars, Extra: built.extra}
		pypi = append(pypi, built.pypi...)
	}
	return envs, pypi, nil
}
