package archive

import (
	"context"
	"errors"
	"io"
	"runtime"

	"github.com/cosnicolaou/pbzip2"
	"github.com/dsnet/compress/bzip2"
)

// .tar.bz2 decoders, measured on the realistic channel's packages (see
// docs/performance.md, "Extraction"): github.com/cosnicolaou/pbzip2 decodes
// the independent bzip2 blocks in parallel and is the fastest;
// github.com/dsnet/compress/bzip2 is the fastest sequential one, ahead of
// compress/bzip2.
//
// pbzip2 finds blocks by scanning for their 48-bit magic number, which
// compressed data can contain by chance. Block and stream CRCs catch a wrong
// split, so its output is never silently wrong, but it could in theory
// fail on a sound archive: Extract then starts again with the sequential
// decoder (see extract), so a valid package always extracts.

// bz2Error marks a failure of the bzip2 decoder itself, as opposed to a
// rejected entry or a failed write.
type bz2Error struct{ err error }

func (e bz2Error) Error() string { return "bzip2: " + e.err.Error() }
func (e bz2Error) Unwrap() error { return e.err }

// bz2Reader wraps a decoder so that its errors are bz2Errors and Close
// stops pbzip2's goroutines.
type bz2Reader struct {
	r    io.Reader
	stop context.CancelFunc
}

func (b *bz2Reader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = bz2Error{err}
	}
	return n, err
}

func (b *bz2Reader) Close() error {
	b.stop()
	return nil
}

// newBzip2Reader returns a decoder of the bzip2 stream r: the parallel
// one when parallel is set, else the sequential one.
func newBzip2Reader(ctx context.Context, r io.Reader, parallel bool) (io.ReadCloser, error) {
	if !parallel {
		d, err := bzip2.NewReader(r, nil)
		if err != nil {
			return nil, bz2Error{err}
		}
		return &bz2Reader{r: d, stop: func() {}}, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	d := pbzip2.NewReader(ctx, r, pbzip2.DecompressionOptions(pbzip2.BZConcurrency(runtime.GOMAXPROCS(0))))
	return &bz2Reader{r: d, stop: cancel}, nil
}

// isBzip2Failure reports whether err came from the bzip2 decoder.
func isBzip2Failure(err error) bool {
	var b bz2Error
	return errors.As(err, &b)
}
