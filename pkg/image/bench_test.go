package image

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
)

// BenchmarkBuild builds an environment of 20 packages of 2 MB each (half
// random bytes, half text with a prefix placeholder) onto scratch; the
// reported MB/s are of payload.
func BenchmarkBuild(b *testing.B) {
	var pkgs []*pkgbuild.Package
	var total int64
	for i := range 20 {
		random := make([]byte, 1<<20)
		for j := range random {
			random[j] = byte(j*7919 + i) // deterministic, poorly compressible
		}
		text := bytes.Repeat([]byte("#!/bin/sh\necho "+textPH+"/share\n"), (1<<20)/40)
		pkgs = append(pkgs, &pkgbuild.Package{Record: rec(fmt.Sprintf("pkg%02d", i), "1.0", "0", ""), Files: []pkgbuild.File{
			{Path: fmt.Sprintf("lib/libpkg%02d.so", i), Mode: 0o755, Data: random},
			{Path: fmt.Sprintf("share/pkg%02d/data.txt", i), Mode: 0o644, Data: text, PrefixPlaceholder: textPH},
		}})
		total += int64(len(random) + len(text))
	}
	extracted := extractPackages(b, pkgs)
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(context.Background(), empty.Image, extracted, Options{WorkDir: b.TempDir()}); err != nil {
			b.Fatal(err)
		}
	}
}
