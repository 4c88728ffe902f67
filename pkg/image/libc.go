package image

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/install"
)

// libcWarning warns when a package depends on __glibc and the base is
// scratch (no layers): conda packages link against the system's glibc, which
// conda-forge does not ship, so the environment's programs would fail to
// start with "no such file or directory" (their ELF interpreter). Static
// programs need no libc and do not depend on __glibc.
func libcWarning(base v1.Image, pkgs []*install.Package) (string, error) {
	layers, err := base.Layers()
	if err != nil || len(layers) > 0 {
		return "", err
	}
	for _, p := range pkgs {
		for _, d := range p.Record.Depends {
			if m, err := conda.ParseMatchSpec(d); err == nil && m.Name.Matches("__glibc") {
				return fmt.Sprintf("%s depends on %q but the base is scratch, which has no C library: "+
					"its programs will not start; use a base with glibc, such as gcr.io/distroless/cc-debian12 or debian:12-slim (--base)", p.Record.Dist(), d), nil
			}
		}
	}
	return "", nil
}
