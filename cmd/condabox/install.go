package main

import (
	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

func newInstallCmd() *cobra.Command {
	var t transaction
	t.req.Op = env.Install
	cmd := &cobra.Command{
		Use:   "install [flags] [SPEC...]",
		Short: "Install packages into an existing environment",
		Long: `install solves the requested specs together with the environment's installed
packages, which stay unless a request needs them changed, and links the
result.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t.req.Specs = args
			return t.run(cmd)
		},
	}
	t.addFlags(cmd.Flags())
	return cmd
}
