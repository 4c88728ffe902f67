package archive

import (
	"io"

	"github.com/dsnet/compress/bzip2"
)

// .tar.bz2 is decoded with github.com/dsnet/compress/bzip2, the fastest
// sequential decoder measured (about 1.3–2× compress/bzip2; see
// docs/performance.md, "Extraction"). The parallel github.com/cosnicolaou/pbzip2
// decodes a single archive up to 2× faster on 2 cores, but it builds 9.7 MB of
// lookup tables in its package init: 35–42 ms on every start of condabox,
// which as an image's entrypoint starts with every container. Packages are
// extracted several at a time anyway, which keeps the cores busy.

// newBzip2Reader returns a decoder of the bzip2 stream r.
func newBzip2Reader(r io.Reader) (io.ReadCloser, error) {
	return bzip2.NewReader(r, nil)
}
