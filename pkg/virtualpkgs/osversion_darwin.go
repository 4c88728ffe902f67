package virtualpkgs

import "golang.org/x/sys/unix"

// osVersion returns the macOS product version, e.g. "14.2.1".
func osVersion() (string, error) {
	return unix.Sysctl("kern.osproductversion")
}
