package main

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

// newEntrypointCmd is the ENTRYPOINT of condabox's base image and of images
// of several environments (condabox build -f a.yml -f b.yml); people do
// not call it.
func newEntrypointCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "entrypoint CMD [ARGS...]",
		Short: "Activate ENV_NAME's environment and exec CMD",
		Long: `entrypoint execs CMD in the environment ENV_NAME names, as micromamba-docker's
_entrypoint.sh: base (the default) is $MAMBA_ROOT_PREFIX (default /opt/conda),
another name $MAMBA_ROOT_PREFIX/envs/NAME; in an image of several environments
built by condabox, the image's list. MAMBA_SKIP_ACTIVATE=1 execs CMD as it is.
With a shell in the image, the environment's activate.d scripts are sourced.`,
		Hidden: true,
		// Every argument, flags included, belongs to CMD.
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			envs, err := env.ReadImageEnvs(env.ImageEnvsPath)
			if err != nil {
				return err
			}
			p, err := env.Entrypoint(envs, os.Environ(), args, env.FindShell())
			if err != nil {
				return err
			}
			return execProcess("entrypoint", p)
		},
	}
}

// newDockerfileShellCmd is the SHELL of condabox's base image: it runs
// Dockerfile RUN lines, activated when MAMBA_DOCKERFILE_ACTIVATE=1.
func newDockerfileShellCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dockerfile-shell RUN-LINE",
		Short: "Run a Dockerfile RUN line, activated when MAMBA_DOCKERFILE_ACTIVATE=1",
		Long: `dockerfile-shell runs a Dockerfile RUN line as micromamba-docker's
_dockerfile_shell.sh: bash -o pipefail -c RUN-LINE (sh -c without bash), in
the environment entrypoint would activate when MAMBA_DOCKERFILE_ACTIVATE=1,
with umask DOCKERFILE_UMASK when set. Use it as
  SHELL ["/usr/local/bin/condabox", "dockerfile-shell"]`,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			envs, err := env.ReadImageEnvs(env.ImageEnvsPath)
			if err != nil {
				return err
			}
			environ := os.Environ()
			p, err := env.DockerfileShell(envs, environ, args, env.FindShell())
			if err != nil {
				return err
			}
			mask, ok, err := env.DockerfileUmask(environ)
			if err != nil {
				return fmt.Errorf("dockerfile-shell: %w", err)
			}
			if ok {
				syscall.Umask(mask) // exec keeps it
			}
			return execProcess("dockerfile-shell", p)
		},
	}
}

// newShellActivateCmd prints what activates ENV_NAME's environment in an
// interactive shell: condabox's base image evaluates it from
// /etc/bash.bashrc, so that `podman exec -it CTR bash` is activated too.
func newShellActivateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "shell-activate",
		Short: "Print the shell code activating ENV_NAME's environment (for bashrc)",
		Long: `shell-activate prints POSIX shell code that activates the environment
entrypoint would (ENV_NAME, MAMBA_ROOT_PREFIX, MAMBA_SKIP_ACTIVATE): exports, then
the activate.d scripts sourced; nothing when that environment is active already.
Use it as
  eval "$(/usr/local/bin/condabox shell-activate)"`,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			envs, err := env.ReadImageEnvs(env.ImageEnvsPath)
			if err != nil {
				return err
			}
			script, err := env.ActivationScript(envs, os.Environ())
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), script)
			return err
		},
	}
}

// execProcess replaces condabox with p: p is then the container's process,
// so signals reach it and its exit code is the container's.
func execProcess(cmd string, p env.Process) error {
	if err := syscall.Exec(p.Path, p.Args, p.Env); err != nil {
		return fmt.Errorf("%s: exec %s: %w", cmd, p.Path, err)
	}
	return nil
}
