package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

func newRunCmd() *cobra.Command {
	var (
		req  env.CreateRequest
		cwd  string
		vars []string
	)
	cmd := &cobra.Command{
		Use:   "run -p PREFIX|-n NAME [flags] CMD [ARGS...]",
		Short: "Run a command in an activated environment",
		Long: `run starts CMD with the environment activated: PATH starting with its bin/,
CONDA_PREFIX, CONDA_DEFAULT_ENV, CONDA_SHLVL and the variables of
etc/conda/env_vars.d and conda-meta/state; then, when the machine has a
shell, the environment's etc/conda/activate.d/*.sh scripts are sourced before
CMD. stdin, stdout and stderr are passed through and CMD's exit code is
condabox's. --cwd runs CMD in another folder; -e NAME=VALUE (repeatable) sets a
variable, which the activate.d scripts see too.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, v := range vars {
				if name, _, ok := strings.Cut(v, "="); !ok || name == "" {
					return fmt.Errorf("run: -e %q: want NAME=VALUE", v)
				}
			}
			if err := fromProcess(&req); err != nil {
				return err
			}
			prefix, err := env.TargetPrefix(req)
			if err != nil {
				return err
			}
			name := req.Name
			if name == "" {
				name = prefix
			}
			c, err := env.Command(cmd.Context(), prefix, name, args, env.FindShell())
			if err != nil {
				return err
			}
			c.Stdin, c.Stdout, c.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			c.Dir = cwd
			c.Env = append(c.Env, vars...) // exec keeps the last of a name
			var exit *exec.ExitError
			if err := c.Run(); errors.As(err, &exit) {
				code := exit.ExitCode()
				if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					code = 128 + int(ws.Signal()) // as a shell reports a killed command
				}
				return exitError{code: code}
			} else if err != nil {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	// Flags after CMD belong to CMD.
	f.SetInterspersed(false)
	f.StringVarP(&req.Prefix, "prefix", "p", "", "path of the environment")
	f.StringVarP(&req.Name, "name", "n", "", "name of the environment, under <root prefix>/envs")
	f.StringVarP(&req.RootPrefix, "root-prefix", "r", "", "root prefix (default $MAMBA_ROOT_PREFIX)")
	f.StringVar(&cwd, "cwd", "", "folder to run CMD in (default: the current one)")
	f.StringArrayVarP(&vars, "env", "e", nil, "NAME=VALUE to set for CMD (repeatable)")
	return cmd
}
