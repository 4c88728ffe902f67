//go:build !linux

package install

import "os/exec"

// runChild runs cmd. Only Linux can tie a child's life to ours.
func runChild(cmd *exec.Cmd) error { return cmd.Run() }
