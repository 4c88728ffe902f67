package archive

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdWindow bounds the window a .conda's zstd stream may ask for (and so
// the decoder's memory); 128 MiB is zstd's own default limit for --long.
const zstdWindow = 1 << 27

// decoders reuses zstd decoders: a package cache extracts hundreds of small
// tarballs and a fresh decoder allocates its buffers each time.
var decoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdWindow))
	if err != nil {
		panic(err) // only for invalid options, which are constant
	}
	return d
}}

// noBody is the body of entries that are not regular files.
type noBody struct{}

func (noBody) Read([]byte) (int, error) { return 0, io.EOF }

// Walk streams the entries of the package archive at path to fn, checked
// against x.Limits, without writing anything. A .conda yields info/ first,
// then the payload; a .tar.bz2 yields its entries in stored order. A
// rejected entry stops the walk with an *Error before fn sees it. Symlinks
// are checked again once all are known, so an error can also come after fn
// saw every entry.
func (x Extractor) Walk(ctx context.Context, path string, fn WalkFunc) error {
	return x.walk(ctx, path, false, false, fn)
}

// ReadInfo returns the regular files under info/ of the package archive at
// path, keyed by Name ("info/index.json"). Of a .conda only the small info
// tarball is decoded.
func (x Extractor) ReadInfo(ctx context.Context, path string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := x.walk(ctx, path, true, false, func(h *Header, r io.Reader) error {
		if h.Type != TypeRegular {
			return nil
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return &Error{Archive: path, Entry: h.Name, Err: err}
		}
		files[h.Name] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	return files, nil
}

// walk opens the archive at path and streams its entries to fn, only info/
// ones when infoOnly. With parallel, the two tarballs of a .conda are
// decoded at once (fn must then be safe for concurrent use). fs.SkipAll
// from fn ends the walk without error.
func (x Extractor) walk(ctx context.Context, path string, infoOnly, parallel bool, fn WalkFunc) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	c := newChecker(path, st.Size(), x.Limits)
	if format == FormatConda {
		err = walkConda(ctx, c, f, st.Size(), infoOnly, parallel, fn)
	} else {
		err = walkTarBz2(ctx, c, f, infoOnly, fn)
	}
	if errors.Is(err, fs.SkipAll) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.finish()
}

// isInfo reports whether a package-relative name belongs to info/.
func isInfo(name string) bool { return name == "info" || strings.HasPrefix(name, "info/") }

// walkTar checks each entry of one tarball and hands it to fn.
func walkTar(ctx context.Context, c *checker, stream int, r io.Reader, infoOnly bool, fn WalkFunc) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		th, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &Error{Archive: c.archive, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
		}
		h, err := c.check(th, stream)
		if err != nil {
			return err
		}
		if h == nil || infoOnly && !isInfo(h.Name) {
			continue
		}
		var body io.Reader = corruptOnError{tr}
		if h.Type != TypeRegular {
			body = noBody{}
		}
		if err := fn(h, body); err != nil {
			return err
		}
	}
}

// corruptOnError marks failures to read an entry's bytes (a damaged
// compressed stream, a truncated archive) as ErrCorrupt.
type corruptOnError struct{ r io.Reader }

func (c corruptOnError) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return n, err
}

// walkTarBz2 walks the single tarball of a .tar.bz2.
func walkTarBz2(ctx context.Context, c *checker, f *os.File, infoOnly bool, fn WalkFunc) error {
	br, err := newBzip2Reader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return &Error{Archive: c.archive, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	}
	defer br.Close()
	return walkTar(ctx, c, 0, br, infoOnly, fn)
}

// condaMembers finds the info and pkg tarballs of a .conda zip. The pkg one
// is nil for an info-only package; unknown members are ignored.
func condaMembers(c *checker, zr *zip.Reader) (info, pkg *zip.File, err error) {
	names := map[string]bool{}
	for _, m := range zr.File {
		if names[m.Name] {
			return nil, nil, c.reject(m.Name, ErrDuplicate, "zip member appears twice")
		}
		names[m.Name] = true
		var slot **zip.File
		switch {
		case strings.HasPrefix(m.Name, "info-") && strings.HasSuffix(m.Name, ".tar.zst"):
			slot = &info
		case strings.HasPrefix(m.Name, "pkg-") && strings.HasSuffix(m.Name, ".tar.zst"):
			slot = &pkg
		default:
			continue
		}
		if *slot != nil {
			return nil, nil, c.reject(m.Name, ErrDuplicate, "second tarball beside %q", (*slot).Name)
		}
		*slot = m
	}
	if info == nil {
		return nil, nil, &Error{Archive: c.archive, Err: fmt.Errorf("%w: no info-*.tar.zst member", ErrCorrupt)}
	}
	return info, pkg, nil
}

// walkConda walks the info tarball, then (unless infoOnly) the pkg one; both
// at once when parallel.
func walkConda(ctx context.Context, c *checker, f *os.File, size int64, infoOnly, parallel bool, fn WalkFunc) error {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return &Error{Archive: c.archive, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	}
	info, pkg, err := condaMembers(c, zr)
	if err != nil {
		return err
	}
	members := []*zip.File{info}
	if pkg != nil && !infoOnly {
		members = append(members, pkg)
	}
	if !parallel || len(members) == 1 {
		for i, m := range members {
			if err := walkMember(ctx, c, i, m, fn); err != nil {
				return err
			}
		}
		return nil
	}
	// The first failure cancels the other tarball.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			if err := walkMember(ctx, c, i, m, fn); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// walkMember decodes one zstd tarball member of a .conda.
func walkMember(ctx context.Context, c *checker, stream int, m *zip.File, fn WalkFunc) error {
	rc, err := m.Open()
	if err != nil {
		return c.reject(m.Name, ErrCorrupt, "%v", err)
	}
	defer rc.Close()
	d := decoders.Get().(*zstd.Decoder)
	defer decoders.Put(d)
	if err := d.Reset(rc); err != nil {
		return c.reject(m.Name, ErrCorrupt, "%v", err)
	}
	defer d.Reset(nil) // drop the reference to rc before pooling
	err = walkTar(ctx, c, stream, d, false, fn)
	var ae *Error
	if errors.As(err, &ae) && ae.Entry == "" {
		ae.Entry = m.Name // a corrupt stream: name the member at fault
	}
	return err
}
