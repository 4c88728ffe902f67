package archive

import (
	"compress/bzip2"
	"io"
)

// newBzip2Reader returns the decoder of .tar.bz2 streams.
func newBzip2Reader(r io.Reader) (io.ReadCloser, error) {
	return io.NopCloser(bzip2.NewReader(r)), nil
}
