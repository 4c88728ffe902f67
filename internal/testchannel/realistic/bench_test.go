package realistic

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkBuildWarm measures a rebuild from a warm cache: apt-cache
// policy, cache lookups, hard links, the synthetic packages and the index.
func BenchmarkBuildWarm(b *testing.B) {
	skipUnlessBuildable(b)
	ctx := context.Background()
	out := b.TempDir()
	if err := Build(ctx, out, Options{CacheDir: testCache}); err != nil { // warms the cache
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := Build(ctx, out, Options{CacheDir: testCache}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadDeb measures reading the largest .deb (Python's standard
// library) through dpkg-deb --fsys-tarfile into memory.
func BenchmarkReadDeb(b *testing.B) {
	skipUnlessBuildable(b)
	ctx := context.Background()
	versions, err := candidateVersions(ctx, []string{"libpython3.11-stdlib"}, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(testCache, "debs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	paths, err := downloadDebs(ctx, dir, versions, []string{"libpython3.11-stdlib"}, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(paths["libpython3.11-stdlib"])
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := readDeb(ctx, paths["libpython3.11-stdlib"]); err != nil {
			b.Fatal(err)
		}
	}
}
