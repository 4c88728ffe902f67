//go:build !unix

package virtualpkgs

import (
	"fmt"
	"runtime"
)

// uname is not available on this system; condabox detects virtual
// packages only on Linux and macOS.
func uname() (release, machine string, err error) {
	return "", "", fmt.Errorf("not implemented on %s", runtime.GOOS)
}
