package solve

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// TestDummyChannel replays rattler's solver tests on its dummy channel.
func TestDummyChannel(t *testing.T) {
	ix := loadRepodata(t, realdata(t, "repodata/dummy/linux-64/repodata.json"), "https://conda.anaconda.org/conda-forge/linux-64")
	unix := rec(t, "__unix 0 0", channel("@"))
	cuda1 := rec(t, "__cuda 1 0", channel("@"))
	tests := []struct {
		name      string
		specs     []string
		installed []conda.PackageRecord
		pinned    []string
		virtual   []conda.PackageRecord
		wantFiles []string // exact file names of the solution, sorted
		wantErr   []string
	}{
		{name: "install new: highest build", specs: []string{"foo<4"}, wantFiles: []string{"foo-3.0.2-py36h1af98f8_3.conda"}},
		{name: "prefers .conda over .tar.bz2", specs: []string{"foo=3.0.2=py36h1af98f8_1"}, wantFiles: []string{"foo-3.0.2-py36h1af98f8_1.conda"}},
		{name: "missing virtual package", specs: []string{"bar"}, wantErr: []string{"nothing provides __unix needed by bar"}},
		{name: "with virtual package", specs: []string{"bar"}, virtual: []conda.PackageRecord{unix}, wantFiles: []string{"bar-1.0-unix_py36h1af98f8_2.tar.bz2"}},
		{name: "non-existent", specs: []string{"asdfasdf", "foo<4"}, wantErr: []string{"nothing provides requested asdfasdf"}},
		{name: "with error", specs: []string{"foobar >=2", "bors >= 2"}, wantErr: []string{"requires bors <2.0 but bors >=2 was requested"}},
		{name: "pinned against request", specs: []string{"bors >=2"}, pinned: []string{"bors 1.0"}, wantErr: []string{"violates the pin bors 1.0"}},
		{name: "constraint on a virtual package", specs: []string{"cuda-version"}, virtual: []conda.PackageRecord{cuda1},
			wantErr: []string{"cuda-version 12.5 hd4f0392_3 constrains __cuda >=12.1 but the system provides __cuda 1 0"}},
		{name: "dependency on a lower version", specs: []string{"xbar"}, wantFiles: []string{"xbar-1-xxx.tar.bz2", "xfoo-2-xxx.tar.bz2"}},
		{name: "keeps installed", specs: []string{"foobar"}, installed: []conda.PackageRecord{ix["bors"][0]},
			wantFiles: []string{ix["bors"][0].FileName, "foobar-2.1-bla_1.tar.bz2"}},
		{name: "fewest track_features", specs: []string{"track-features"}, wantFiles: []string{"track-features-1-xxx.tar.bz2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := solveValid(t, ix, Request{
				Specs: specs(t, tc.specs...), Pinned: specs(t, tc.pinned...),
				Installed: tc.installed, Virtual: tc.virtual,
			})
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("got %v, want unsatisfiable", dists(got))
				}
				for _, frag := range tc.wantErr {
					if !strings.Contains(err.Error(), frag) {
						t.Errorf("explanation lacks %q:\n%v", frag, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, r := range got {
				files = append(files, r.FileName)
				if r.URL == "" || r.MD5 == "" {
					t.Errorf("%s lost its URL or md5", r.FileName)
				}
			}
			slices.Sort(files)
			if !slices.Equal(files, tc.wantFiles) {
				t.Errorf("got %v, want %v", files, tc.wantFiles)
			}
		})
	}
}

// TestCondaForgeNumpy solves requests on the real conda-forge subset and
// checks each answer is a valid environment with the newest numpy.
func TestCondaForgeNumpy(t *testing.T) {
	ix := loadRepodata(t, realdata(t, "repodata/conda-forge-numpy/linux-64/repodata.json"), "conda-forge")
	glibc := rec(t, "__glibc 2.28 0", channel("@"))
	for _, q := range [][]string{{"numpy"}, {"python=3.12", "numpy"}, {"numpy", "libblas=*=*openblas"}, {"python", "openssl"}} {
		t.Run(strings.Join(q, " "), func(t *testing.T) {
			got, err := solveValid(t, ix, Request{Specs: specs(t, q...), Virtual: []conda.PackageRecord{glibc}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) < 2 {
				t.Fatalf("got %v, want a whole environment", dists(got))
			}
		})
	}
	_, err := Solve(context.Background(), ix, Request{Specs: specs(t, "python=3.9", "numpy")})
	var unsat *UnsatisfiableError
	if !errors.As(err, &unsat) || !strings.Contains(err.Error(), "python 3.9") {
		t.Errorf("python=3.9 (absent from the subset): got %v, want an explanation naming python 3.9", err)
	}
}

// TestPytorchFeatures checks, on the real pytorch channel, that records
// with features or track_features rank below every record without, and
// solves the names whose dependencies the channel holds.
func TestPytorchFeatures(t *testing.T) {
	ix := loadRepodata(t, realdata(t, "repodata/pytorch/linux-64/repodata.json"), "pytorch")
	p := newPool(ix, &Request{})
	for name := range ix {
		cands := p.candidates(p.nameID(name))
		seenFeatured := false
		for _, v := range cands {
			r := p.solvables[v].rec
			if featureCount(r) > 0 {
				seenFeatured = true
			} else if seenFeatured {
				t.Errorf("%s: %s ranks below a record with features", name, r.Dist())
				break
			}
		}
	}
	for _, name := range []string{"magma-cuda121", "cuda92", "nccl2"} {
		got, err := solveValid(t, ix, Request{Specs: specs(t, name)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) == 0 || got[len(got)-1].Name != name {
			t.Errorf("%s: got %v", name, dists(got))
		}
	}
}

func BenchmarkCondaForgeNumpy(b *testing.B) {
	ix := loadRepodata(b, realdata(b, "repodata/conda-forge-numpy/linux-64/repodata.json"), "conda-forge")
	req := Request{Specs: specs(b, "python", "numpy")}
	for b.Loop() {
		if _, err := Solve(context.Background(), ix, req); err != nil {
			b.Fatal(err)
		}
	}
}
