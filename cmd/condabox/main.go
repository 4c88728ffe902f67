// Command condabox manages conda environments like micromamba, is the runtime
// of micromamba-style base images, and builds OCI images from conda
// environments without Docker.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "condabox: error:", err)
		os.Exit(1)
	}
}
