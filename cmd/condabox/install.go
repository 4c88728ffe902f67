package main

import (
	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

func newInstallCmd() *cobra.Command {
	var t transaction
	var revision int
	t.req.Op = env.Install
	cmd := &cobra.Command{
		Use:   "install [flags] [SPEC...]",
		Short: "Install packages into an existing environment",
		Long: `install solves the requested specs together with the environment's installed
packages, which stay unless a request needs them changed, and links the
result. --revision N instead restores the packages the environment had at
revision N of conda-meta/history (list --revisions), each exactly and from
its channel, and removes the others.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t.req.Specs = args
			if cmd.Flags().Changed("revision") {
				t.req.Revision = &revision
			}
			return t.run(cmd)
		},
	}
	t.addFlags(cmd.Flags())
	cmd.Flags().IntVar(&revision, "revision", 0, "restore the environment to this revision (list --revisions shows them), as conda install --revision")
	return cmd
}
