package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newListCmd is being written (placeholder so that root.go can list it).
func newListCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "list [REGEX]",
		Short:  "List the packages of an environment",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("list: not implemented yet")
		},
	}
}
