package archive_test

import (
	"bufio"
	stdbzip2 "compress/bzip2"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cosnicolaou/pbzip2"
	dsbzip2 "github.com/dsnet/compress/bzip2"

	"github.com/condabox/condabox/internal/testchannel/realistic"
	"github.com/condabox/condabox/pkg/archive"
)

var (
	channelOnce sync.Once
	channelDir  string
	channelErr  error
)

// realisticChannel builds the realistic channel once per test binary, with
// the package cache realistic's own tests use, and returns its archives of
// ext. It skips without root and the tools Build needs.
func realisticChannel(b testing.TB, ext string) []string {
	b.Helper()
	if os.Getuid() != 0 {
		b.Skip("realistic channel: apt-get needs root")
	}
	if err := realistic.CheckTools(); err != nil {
		b.Skipf("realistic channel: %v", err)
	}
	channelOnce.Do(func() {
		// Fixed paths: Build rewrites the channel from its cache, so
		// repeated runs neither rebuild packages nor pile up copies.
		channelDir = filepath.Join(os.TempDir(), "condabox-archive-bench-channel")
		cache := filepath.Join(os.TempDir(), "condabox-realistic-test-cache")
		channelErr = realistic.Build(context.Background(), channelDir, realistic.Options{CacheDir: cache})
	})
	if channelErr != nil {
		b.Fatal(channelErr)
	}
	files, _ := filepath.Glob(filepath.Join(channelDir, "*", "*"+ext))
	return files
}

// BenchmarkExtractRealistic extracts every package of the realistic channel
// at once, as an installer fills its cache; bench/install/extract.sh puts
// the same work beside the floor and cph.
func BenchmarkExtractRealistic(b *testing.B) {
	for _, ext := range []string{".conda", ".tar.bz2"} {
		b.Run(ext, func(b *testing.B) {
			files := realisticChannel(b, ext)
			var size int64
			for _, f := range files {
				st, _ := os.Stat(f)
				size += st.Size()
			}
			b.SetBytes(size)
			for b.Loop() {
				out := b.TempDir()
				var wg sync.WaitGroup
				for _, f := range files {
					wg.Go(func() {
						if err := archive.Extract(context.Background(), f, filepath.Join(out, archive.Dist(filepath.Base(f)))); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				b.StopTimer()
				os.RemoveAll(out)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkExtractPython extracts the realistic python alone (1,150
// files): the longest extraction of a cold install or image build, which
// nothing else runs beside at its end.
func BenchmarkExtractPython(b *testing.B) {
	for _, ext := range []string{".conda", ".tar.bz2"} {
		b.Run(ext, func(b *testing.B) {
			var python string
			for _, f := range realisticChannel(b, ext) {
				if strings.HasPrefix(filepath.Base(f), "python-3") {
					python = f
				}
			}
			if python == "" {
				b.Fatal("no python in the realistic channel")
			}
			st, err := os.Stat(python)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			for b.Loop() {
				out := b.TempDir()
				if err := archive.Extract(context.Background(), python, filepath.Join(out, "python")); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.RemoveAll(out)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkBzip2Decoders decodes every .tar.bz2 of the realistic channel,
// one after the other, with each candidate decoder: the figures behind the
// choice in bzip2.go.
func BenchmarkBzip2Decoders(b *testing.B) {
	decoders := []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{
		{"stdlib", func(r io.Reader) (io.Reader, error) { return stdbzip2.NewReader(r), nil }},
		{"dsnet", func(r io.Reader) (io.Reader, error) { return dsbzip2.NewReader(r, nil) }},
		{"pbzip2", func(r io.Reader) (io.Reader, error) { return pbzip2.NewReader(context.Background(), r), nil }},
	}
	for _, d := range decoders {
		b.Run(d.name, func(b *testing.B) {
			files := realisticChannel(b, ".tar.bz2")
			for b.Loop() {
				var n int64
				for _, f := range files {
					fh, err := os.Open(f)
					if err != nil {
						b.Fatal(err)
					}
					r, err := d.open(bufio.NewReaderSize(fh, 1<<20))
					if err != nil {
						b.Fatal(err)
					}
					k, err := io.Copy(io.Discard, r)
					fh.Close()
					if err != nil {
						b.Fatalf("%s: %v", f, err)
					}
					n += k
				}
				b.SetBytes(n)
			}
		})
	}
}
