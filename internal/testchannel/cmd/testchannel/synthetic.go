package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// buildSynthetic will write the synthetic index; the generator package
// (internal/testchannel/synthetic) is not in the tree yet.
func buildSynthetic(*cobra.Command, buildFlags) error {
	return errors.New("--synthetic: not built yet (internal/testchannel/synthetic is missing)")
}
