package repodata

import (
	"os"
	"testing"
)

// BenchmarkScanIndex scans the repodata.json named by $REPODATA_BENCH_FILE
// (e.g. the synthetic linux-64 index bench/repodata/run.sh writes).
func BenchmarkScanIndex(b *testing.B) {
	path := os.Getenv("REPODATA_BENCH_FILE")
	if path == "" {
		b.Skip("set REPODATA_BENCH_FILE to a repodata.json")
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := scanIndex(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
