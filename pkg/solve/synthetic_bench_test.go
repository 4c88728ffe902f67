package solve

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/synthetic"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/repodata"
)

// syntheticFile returns the path of the synthetic conda-forge-sized
// repodata.json of subdir, generated once and cached under os.TempDir
// because generating it takes seconds.
func syntheticFile(tb testing.TB, subdir string) string {
	tb.Helper()
	opts := synthetic.Options{Seed: 1, Names: synthetic.DefaultNames}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("condabox-synthetic-seed%d-names%d-%s.json", opts.Seed, opts.Names, subdir))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	var buf bytes.Buffer
	if err := synthetic.Generate(&buf, subdir, opts); err != nil {
		tb.Fatal(err)
	}
	// Write then rename, so a concurrent or interrupted run never reads half a file.
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		tb.Fatal(err)
	}
	_, err = tmp.Write(buf.Bytes())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		tb.Fatal(err)
	}
	return path
}

// lazySource serves records from LazyRepoData documents, the platform
// subdir first, as the repodata gateway does.
type lazySource struct {
	channel string
	subdirs []*conda.LazyRepoData
	err     error
}

func (s *lazySource) Records(name string) []conda.PackageRecord {
	var out []conda.PackageRecord
	for _, l := range s.subdirs {
		recs, err := l.Records(name)
		if err != nil && s.err == nil {
			s.err = err
		}
		for i := range recs {
			recs[i].Channel = s.channel
			recs[i].URL = s.channel + "/" + recs[i].Subdir + "/" + recs[i].FileName
		}
		out = append(out, recs...)
	}
	return out
}

// BenchmarkSyntheticDataScience loads the conda-forge-sized synthetic
// channel from disk (linux-64 and noarch) and solves the data science
// stack, cold: nothing is kept between iterations.
func BenchmarkSyntheticDataScience(b *testing.B) {
	paths := []string{syntheticFile(b, "linux-64"), syntheticFile(b, "noarch")}
	want := specs(b, "python=3.12", "numpy", "pandas", "scipy", "scikit-learn")
	virtual := []conda.PackageRecord{
		rec(b, "__glibc 2.28 0", channel("@")), rec(b, "__linux 4.18 0", channel("@")),
		rec(b, "__unix 0 0", channel("@")), rec(b, "__archspec 1 x86_64", channel("@")),
	}
	var got []conda.PackageRecord
	for b.Loop() {
		src := &lazySource{channel: "https://conda.anaconda.org/conda-forge"}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			l, err := conda.NewLazyRepoData(data)
			if err != nil {
				b.Fatal(err)
			}
			src.subdirs = append(src.subdirs, l)
		}
		var err error
		got, err = Solve(context.Background(), src, Request{Specs: want, Virtual: virtual})
		if err != nil {
			b.Fatal(err)
		}
		if src.err != nil {
			b.Fatal(src.err)
		}
	}
	if err := Validate(append(got, virtual...), want); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(got)), "records")
}

// BenchmarkSyntheticSolveOnly is the solve alone, on documents already
// scanned (records are still decoded during the solve).
func BenchmarkSyntheticSolveOnly(b *testing.B) {
	src := &lazySource{channel: "https://conda.anaconda.org/conda-forge"}
	for _, sub := range []string{"linux-64", "noarch"} {
		data, err := os.ReadFile(syntheticFile(b, sub))
		if err != nil {
			b.Fatal(err)
		}
		l, err := conda.NewLazyRepoData(data)
		if err != nil {
			b.Fatal(err)
		}
		src.subdirs = append(src.subdirs, l)
	}
	want := specs(b, "python=3.12", "numpy", "pandas", "scipy", "scikit-learn")
	virtual := []conda.PackageRecord{rec(b, "__glibc 2.28 0", channel("@")), rec(b, "__unix 0 0", channel("@"))}
	for b.Loop() {
		if _, err := Solve(context.Background(), src, Request{Specs: want, Virtual: virtual}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyntheticGateway is the production path, cold: a repodata
// gateway with an empty cache loads the synthetic channel written by
// `testchannel --synthetic 36000 --out DIR` (CEP-16 shards, so only the
// names the request reaches are read) and the solver solves the data
// science stack. Set CONDABOX_SYNTHETIC_CHANNEL=DIR to run it.
func BenchmarkSyntheticGateway(b *testing.B) {
	dir := os.Getenv("CONDABOX_SYNTHETIC_CHANNEL")
	if dir == "" {
		b.Skip("set CONDABOX_SYNTHETIC_CHANNEL to a directory written by testchannel --synthetic 36000 --out DIR")
	}
	ch, err := conda.ParseChannel("file://"+dir, conda.ChannelConfig{})
	if err != nil {
		b.Fatal(err)
	}
	want := specs(b, "python=3.12", "numpy", "pandas", "scipy", "scikit-learn")
	virtual := []conda.PackageRecord{rec(b, "__glibc 2.28 0", channel("@")), rec(b, "__unix 0 0", channel("@"))}
	for b.Loop() {
		g, err := repodata.New(repodata.Options{PkgsDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		ix, err := g.Load(context.Background(), []conda.Channel{ch}, []conda.Platform{conda.PlatformLinux64}, want)
		if err != nil {
			b.Fatal(err)
		}
		got, err := Solve(context.Background(), ix, Request{Specs: want, Virtual: virtual, Channels: []conda.Channel{ch}})
		if err != nil {
			b.Fatal(err)
		}
		if err := Validate(append(got, virtual...), want); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(got)), "records")
	}
}
