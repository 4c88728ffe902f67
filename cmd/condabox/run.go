package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

// cleanPath is the PATH below the environment's folders under --clean-env:
// the system's programs, which activate.d scripts use.
const cleanPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func newRunCmd() *cobra.Command {
	var (
		req      env.CreateRequest
		cwd      string
		vars     []string
		clean    bool
		detach   bool
		attached []string
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
variable, which the activate.d scripts see too.

As micromamba's run: --clean-env starts from an empty environment instead
of condabox's own (the activation's variables, -e's, and PATH ending in
the system's folders ` + cleanPath + `);
-a/--attach stdin,stdout,stderr names the streams passed through, the
others reading or writing /dev/null (-a "" for none); -d/--detach starts
CMD in its own session with every stream on /dev/null, prints its process
ID and returns at once.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, v := range vars {
				if name, _, ok := strings.Cut(v, "="); !ok || name == "" {
					return fmt.Errorf("run: -e %q: want NAME=VALUE", v)
				}
			}
			streams, err := attachedStreams(cmd.Flags().Changed("attach"), attached)
			if err != nil {
				return err
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
			environ := os.Environ()
			if clean {
				environ = []string{"PATH=" + cleanPath}
			}
			ctx := cmd.Context()
			if detach {
				// The detached command outlives condabox, whose context
				// ends when it exits.
				ctx = context.Background()
			}
			c, err := env.Command(ctx, prefix, name, environ, args, env.FindShell())
			if err != nil {
				return err
			}
			if streams["stdin"] {
				c.Stdin = cmd.InOrStdin()
			}
			if streams["stdout"] {
				c.Stdout = cmd.OutOrStdout()
			}
			if streams["stderr"] {
				c.Stderr = cmd.ErrOrStderr()
			}
			c.Dir = cwd
			c.Env = append(c.Env, vars...) // exec keeps the last of a name
			if detach {
				return startDetached(cmd.OutOrStdout(), c, args)
			}
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
	f.BoolVar(&clean, "clean-env", false, "start CMD from an empty environment, not condabox's")
	f.BoolVarP(&detach, "detach", "d", false, "start CMD in the background, detached from the terminal, and return")
	f.StringSliceVarP(&attached, "attach", "a", nil, `streams to pass through: stdin, stdout, stderr (default all; "" for none)`)
	return cmd
}

// attachedStreams returns which of stdin, stdout and stderr -a names; all
// three when -a is not given.
func attachedStreams(given bool, names []string) (map[string]bool, error) {
	streams := map[string]bool{"stdin": !given, "stdout": !given, "stderr": !given}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if _, ok := streams[n]; !ok {
			return nil, fmt.Errorf("run: -a %q: want stdin, stdout or stderr", n)
		}
		streams[n] = true
	}
	return streams, nil
}
