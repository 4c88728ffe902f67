package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

func newUpdateCmd() *cobra.Command {
	var t transaction
	t.req.Op = env.Install
	cmd := &cobra.Command{
		Use:   "update [flags] NAME...|--all",
		Short: "Update packages of an environment",
		Long: `update prefers the newest versions of the named installed packages (every
package with --all) and changes the others only where that needs it.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !t.req.UpdateAll {
				return errors.New("update: name packages or give --all")
			}
			if err := checkNames("update", args); err != nil {
				return err
			}
			t.req.Specs, t.req.Update = args, args
			return t.run(cmd)
		},
	}
	t.addFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&t.req.UpdateAll, "all", "a", false, "update every installed package")
	return cmd
}
