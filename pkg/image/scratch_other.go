//go:build !linux

package image

import "os/exec"

// canExecIn is false off Linux: packageDirs then uses the work folder.
func canExecIn(string) bool { return false }

// ownProcessGroup does nothing off Linux, where nothing is compiled: see
// HostRuns.
func ownProcessGroup(*exec.Cmd) {}
