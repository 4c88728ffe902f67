//go:build unix

package main

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
)

// startDetached starts c in a session of its own, its streams on
// /dev/null, and leaves it running, as micromamba's run --detach does.
func startDetached(out io.Writer, c *exec.Cmd, args []string) error {
	c.Stdin, c.Stdout, c.Stderr = nil, nil, nil
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		return fmt.Errorf("run --detach %s: %w", args[0], err)
	}
	fmt.Fprintf(out, "Running %s in the background\nKill process with: kill %d\n", strings.Join(args, " "), c.Process.Pid)
	return c.Process.Release()
}
