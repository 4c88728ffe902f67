package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newShellCmd is being written (placeholder so that root.go can list it).
func newShellCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "shell",
		Short:  "Shell integration: hook, activate, deactivate",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("shell: not implemented yet")
		},
	}
}
