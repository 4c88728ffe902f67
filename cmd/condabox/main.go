// Command condabox manages conda environments like micromamba, is the runtime
// of micromamba-style base images, and builds OCI images from conda
// environments without Docker.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/condabox/condabox/pkg/redact"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	var exit exitError
	switch {
	case errors.As(err, &exit):
		os.Exit(exit.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "condabox: error:", redact.Error(err))
		os.Exit(1)
	}
}

// exitError ends the command with code after it has reported why itself,
// as an unsatisfiable create does on stdout and stderr.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
