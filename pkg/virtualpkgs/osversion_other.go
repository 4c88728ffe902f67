//go:build !darwin

package virtualpkgs

// osVersion is only needed on macOS.
func osVersion() (string, error) { return "", nil }
