//go:build !unix

package main

import (
	"errors"
	"io"
	"os/exec"
)

// startDetached is refused where processes have no sessions, as micromamba
// has no --detach on Windows.
func startDetached(io.Writer, *exec.Cmd, []string) error {
	return errors.New("run --detach: not supported on this system")
}
