package main

import (
	"context"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/condabox/condabox/pkg/env"
	"github.com/condabox/condabox/pkg/image"
)

// parseEnvs reads, for several -f files, each one's environment name (its
// name: key) and takes the running condabox, which must be static, as the
// image's entrypoint. One file is one environment, as before: nothing to do.
func (b *buildFlags) parseEnvs() error {
	if len(b.files) < 2 {
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
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("several environments: find the condabox binary for the entrypoint: %w", err)
	}
	for _, p := range b.platforms {
		if err := image.CheckShim(exe, p); err != nil {
			return err
		}
	}
	b.opts.Shim = exe
	return nil
}

// buildEnvs solves, fetches and builds the image of several environments
// for platform i.
func (b *buildFlags) buildEnvs(ctx context.Context, stderr io.Writer, base v1.Image, opts image.Options, i int) (*image.Result, error) {
	prefixes, _, err := image.EnvPrefixes(opts.Prefix, b.envNames)
	if err != nil {
		return nil, err
	}
	envs := make([]image.Env, len(b.files))
	for j, file := range b.files {
		pkgs, err := b.packages(ctx, stderr, prefixes[j], []string{file}, i)
		if err != nil {
			return nil, fmt.Errorf("environment %s (-f %s): %w", b.envNames[j], file, err)
		}
		envs[j] = image.Env{Name: b.envNames[j], Packages: pkgs}
	}
	return image.BuildEnvs(ctx, base, envs, opts)
}
