package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newEnvCmd is being written (placeholder so that root.go can list it).
func newEnvCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "env",
		Short:  "Environments: list, export",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("env: not implemented yet")
		},
	}
}
