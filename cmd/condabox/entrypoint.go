package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

// newEntrypointCmd is the entrypoint of images holding several
// environments (condabox build -f a.yml -f b.yml); people do not call it.
func newEntrypointCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "entrypoint CMD [ARGS...]",
		Short:  "Activate ENV_NAME's environment of this image and exec CMD",
		Hidden: true,
		// Every argument, flags included, belongs to CMD.
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			envs, err := env.ReadImageEnvs(env.ImageEnvsPath)
			if err != nil {
				return err
			}
			path, environ, err := env.Entrypoint(envs, os.Environ(), args)
			if err != nil {
				return err
			}
			// exec replaces condabox: CMD is the container's process, so
			// signals reach it and its exit code is the container's.
			if err := syscall.Exec(path, args, environ); err != nil {
				return fmt.Errorf("entrypoint: exec %s: %w", path, err)
			}
			return nil
		},
	}
}
