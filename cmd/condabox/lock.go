package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newLockCmd is being written (placeholder so that root.go can list it).
func newLockCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "lock -f FILE",
		Short:  "Solve an environment file into a conda-lock.yml, without installing",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("lock: not implemented yet")
		},
	}
}
