package conda

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/synthetic"
)

// benchOptions is the default conda-forge-sized channel: ~260 MB linux-64.
var benchOptions = synthetic.Options{Seed: 1, Names: synthetic.DefaultNames}

// syntheticRepodata returns the synthetic linux-64 repodata.json for opts,
// cached under os.TempDir because generating it takes seconds. The cache key
// includes a digest of a small channel from the same generator, so a changed
// generator never reuses a stale file.
func syntheticRepodata(tb testing.TB, opts synthetic.Options) []byte {
	tb.Helper()
	probe := sha256.New()
	if err := synthetic.Generate(probe, "linux-64", synthetic.Options{Seed: opts.Seed, Names: 100}); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("condabox-synthetic-seed%d-names%d-%x-linux-64.json", opts.Seed, opts.Names, probe.Sum(nil)[:6]))
	if data, err := os.ReadFile(path); err == nil {
		return data
	}
	var buf bytes.Buffer
	if err := synthetic.Generate(&buf, "linux-64", opts); err != nil {
		tb.Fatal(err)
	}
	// Write then rename, so a concurrent or interrupted run never reads half a file.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err == nil {
		_, err = tmp.Write(buf.Bytes())
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		tb.Logf("not caching synthetic repodata: %v", err)
	}
	return buf.Bytes()
}

func TestDecodersAgreeOnSyntheticRepodata(t *testing.T) {
	for _, subdir := range synthetic.Subdirs {
		var buf bytes.Buffer
		if err := synthetic.Generate(&buf, subdir, synthetic.Options{Seed: 2, Names: 1000}); err != nil {
			t.Fatal(err)
		}
		t.Run(subdir, func(t *testing.T) { checkDecodersAgree(t, buf.Bytes()) })
	}
}

// closure decodes the records of roots and, transitively, of every package
// name their depends mention, as a solver exploring them would.
func closure(lazy *LazyRepoData, roots ...string) (int, error) {
	seen := map[string]bool{}
	queue := roots
	n := 0
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		recs, err := lazy.Records(name)
		if err != nil {
			return 0, err
		}
		n += len(recs)
		for _, r := range recs {
			for _, dep := range r.Depends {
				dep, _, _ = strings.Cut(dep, " ")
				queue = append(queue, dep)
			}
		}
	}
	return n, nil
}

func TestClosureOfScientificStack(t *testing.T) {
	lazy, err := NewLazyRepoData(syntheticRepodata(t, synthetic.Options{Seed: 1, Names: 300}))
	if err != nil {
		t.Fatal(err)
	}
	n, err := closure(lazy, "python", "numpy", "pandas", "scipy")
	if err != nil {
		t.Fatal(err)
	}
	// python, numpy, pandas and scipy alone have 14+40+30+30 records on linux-64.
	if n < 200 {
		t.Errorf("closure decoded %d records, want the whole runtime stack (≥ 200)", n)
	}
}

// benchThroughput runs decode as a benchmark over data, reporting MB/s of
// wall time and, as cpu-MB/s, of the process's CPU time: with -cpu 1 that is
// the one-core speed even when other jobs share the machine.
func benchThroughput(b *testing.B, data []byte, decode func() error) {
	b.SetBytes(int64(len(data)))
	cpuStart, cpuOK := processCPUTime()
	n := 0
	for b.Loop() {
		if err := decode(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if cpuEnd, _ := processCPUTime(); cpuOK && cpuEnd > cpuStart {
		b.ReportMetric(float64(n*len(data))/1e6/(cpuEnd-cpuStart).Seconds(), "cpu-MB/s")
	}
}

// BenchmarkLazyRepoData measures the fast decoder on a conda-forge-sized
// linux-64 index: the scan alone, the scan plus the records a solver needs
// for python numpy pandas scipy, and the scan plus every record.
func BenchmarkLazyRepoData(b *testing.B) {
	data := syntheticRepodata(b, benchOptions)
	b.Run("scan", func(b *testing.B) {
		benchThroughput(b, data, func() error {
			_, err := NewLazyRepoData(data)
			return err
		})
	})
	b.Run("closure", func(b *testing.B) {
		benchThroughput(b, data, func() error {
			lazy, err := NewLazyRepoData(data)
			if err == nil {
				_, err = closure(lazy, "python", "numpy", "pandas", "scipy")
			}
			return err
		})
	})
	b.Run("all", func(b *testing.B) {
		benchThroughput(b, data, func() error {
			lazy, err := NewLazyRepoData(data)
			for _, name := range lazy.Names() {
				if err == nil {
					_, err = lazy.Records(name)
				}
			}
			return err
		})
	})
}

// BenchmarkParseRepoData decodes every record into RepoData's maps.
func BenchmarkParseRepoData(b *testing.B) {
	data := syntheticRepodata(b, benchOptions)
	benchThroughput(b, data, func() error {
		_, err := ParseRepoData(data)
		return err
	})
}

// BenchmarkEncodingJSON is the reference: encoding/json into RepoData.
func BenchmarkEncodingJSON(b *testing.B) {
	data := syntheticRepodata(b, benchOptions)
	benchThroughput(b, data, func() error {
		var rd RepoData
		return json.Unmarshal(data, &rd)
	})
}
