package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newCleanCmd is being written (placeholder so that root.go can list it).
func newCleanCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "clean",
		Short:  "Remove unused packages, tarballs, index caches and locks",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("clean: not implemented yet")
		},
	}
}
