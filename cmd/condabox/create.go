package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
	"github.com/condabox/condabox/pkg/redact"
	"github.com/condabox/condabox/pkg/solve"
)

// errNoInstall is returned by create without --dry-run until the install
// engine lands.
var errNoInstall = errors.New("install engine not available yet (issue 6): only `create --dry-run` works")

func newCreateCmd() *cobra.Command {
	var (
		req          env.CreateRequest
		dryRun, json bool
	)
	cmd := &cobra.Command{
		Use:   "create [flags] [SPEC...]",
		Short: "Create an environment from specs or files (--dry-run only for now)",
		Long: `create solves the requested specs against the channels and, with --dry-run,
prints what it would install. --json prints micromamba's JSON document.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !dryRun {
				return errNoInstall
			}
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			req.Specs, req.LookupEnv, req.WorkDir = args, os.LookupEnv, wd
			plan, err := env.PlanCreate(cmd.Context(), req)
			var unsat *solve.UnsatisfiableError
			switch {
			case errors.As(err, &unsat):
				fmt.Fprintln(cmd.ErrOrStderr(), redact.Text(unsat.Error()))
				if json {
					if err := env.WriteProblemsJSON(cmd.OutOrStdout(), unsat); err != nil {
						return err
					}
				}
				return exitError{code: 1}
			case err != nil:
				return err
			case json:
				return plan.WriteJSON(cmd.OutOrStdout(), dryRun)
			}
			return plan.WriteText(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&req.Prefix, "prefix", "p", "", "path of the environment")
	f.StringVarP(&req.Name, "name", "n", "", "name of the environment, under <root prefix>/envs")
	f.StringVarP(&req.RootPrefix, "root-prefix", "r", "", "root prefix (default $MAMBA_ROOT_PREFIX)")
	f.StringArrayVarP(&req.Channels, "channel", "c", nil, "channel to use, highest priority first (repeatable)")
	f.BoolVar(&req.OverrideChannels, "override-channels", false, "use only the -c and file channels, not .condarc's")
	f.StringVar(&req.Platform, "platform", "", "target platform, e.g. linux-aarch64 (default: this machine's)")
	f.StringArrayVarP(&req.Files, "file", "f", nil, "environment.yml, spec list, lock or @EXPLICIT file (repeatable)")
	f.StringVar(&req.ChannelPriority, "channel-priority", "", "strict, flexible or disabled (default: .condarc's, else strict)")
	f.BoolVar(&req.Offline, "offline", false, "use cached channel indexes only")
	f.BoolVar(&dryRun, "dry-run", false, "only show what would be installed")
	f.BoolVar(&json, "json", false, "print micromamba's JSON output")
	// -y is accepted for micromamba compatibility: condabox never prompts.
	f.BoolP("yes", "y", false, "do not ask for confirmation")
	return cmd
}
