package solve_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/env"
	"github.com/condabox/condabox/pkg/solve"
)

// lockIndex is a Source holding exactly the records of one locked
// environment.
type lockIndex map[string][]conda.PackageRecord

func (ix lockIndex) Records(name string) []conda.PackageRecord { return ix[name] }

// lockVirtual are the virtual packages of a machine new enough for every
// lock of the real data: the platform's defaults with a recent glibc,
// macOS and CUDA.
func lockVirtual(t *testing.T, p conda.Platform) ([]conda.PackageRecord, bool) {
	info, err := conda.TargetSystemInfo(p)
	if err != nil {
		return nil, false
	}
	overrides := map[string]string{"CONDA_OVERRIDE_GLIBC": "2.39", "CONDA_OVERRIDE_OSX": "15.0", "CONDA_OVERRIDE_CUDA": "12.8"}
	vps, err := conda.VirtualPackages(info, func(k string) (string, bool) { v, ok := overrides[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	out := make([]conda.PackageRecord, len(vps))
	for i, v := range vps {
		out[i] = v.Record()
	}
	return out, true
}

// topLevel returns the names of records that no other record depends on,
// plus, for dependency cycles no such record reaches (python ↔ pip in
// locks made with conda's add_pip_as_python_dependency), one name of each.
func topLevel(t *testing.T, recs []conda.PackageRecord) []string {
	deps := map[string][]string{}
	needed := map[string]bool{}
	for _, r := range recs {
		for _, d := range r.Depends {
			m, err := conda.ParseMatchSpec(d)
			if err != nil {
				t.Fatalf("%s: %v", r.Name, err)
			}
			deps[r.Name] = append(deps[r.Name], m.Name.String())
			needed[m.Name.String()] = true
		}
	}
	reached := map[string]bool{}
	var reach func(string)
	reach = func(n string) {
		if !reached[n] {
			reached[n] = true
			for _, d := range deps[n] {
				reach(d)
			}
		}
	}
	var out []string
	for _, r := range recs {
		if !needed[r.Name] {
			out = append(out, r.Name)
			reach(r.Name)
		}
	}
	for _, r := range recs {
		if !reached[r.Name] {
			out = append(out, r.Name)
			reach(r.Name)
		}
	}
	return out
}

// partialLocks are lock files of micromamba's parser tests that list one
// package of an environment without its dependencies.
var partialLocks = map[string]bool{
	"mamba/env_lockfile/good_one_package-lock.yaml":                  true,
	"mamba/env_lockfile/good_one_package_missing_category-lock.yaml": true,
}

// TestLockedEnvironments solves, for every conda-lock and pixi lock of the
// real data and each of its platforms, the lock's top-level names against
// an index of the lock's own records. Each record of a lock is needed by a
// top-level one, so the answer must be the lock itself, and valid.
func TestLockedEnvironments(t *testing.T) {
	root := testchannel.RealData(t, "locks")
	var files []string
	for _, dir := range []string{"rattler/conda-lock", "mamba/env_lockfile"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return err
		})
	}
	solved := 0
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lock, err := env.ParseLock(rel, data)
		if err != nil {
			t.Logf("skip %s: pkg/env rejects it: %v", rel, err)
			continue
		}
		for envName, e := range lock.Environments {
			for platform := range e.Packages {
				recs := e.CondaRecords(platform)
				if len(recs) == 0 {
					continue
				}
				t.Run(rel+"/"+envName+"/"+string(platform), func(t *testing.T) {
					if partialLocks[filepath.ToSlash(rel)] {
						t.Skip("a parser test file: one package without its dependencies")
					}
					virtual, ok := lockVirtual(t, platform)
					if !ok {
						t.Skipf("no virtual package defaults for %s", platform)
					}
					checkLockSolves(t, recs, virtual)
				})
				solved++
			}
		}
	}
	if solved < 30 {
		t.Errorf("only %d locked environments solved; the real data holds more", solved)
	}
}

func checkLockSolves(t *testing.T, recs, virtual []conda.PackageRecord) {
	ix := lockIndex{}
	for _, r := range recs {
		ix[r.Name] = append(ix[r.Name], r)
	}
	var specs []conda.MatchSpec
	for _, name := range topLevel(t, recs) {
		m, err := conda.ParseMatchSpec(name)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, m)
	}
	if err := solve.Validate(append(slices.Clone(recs), virtual...), specs); err != nil {
		t.Fatalf("the lock itself is not a valid environment: %v", err)
	}
	got, err := solve.Solve(t.Context(), ix, solve.Request{Specs: specs, Virtual: virtual, ChannelPriority: solve.Disabled})
	if err != nil {
		t.Fatalf("solve %d top-level names of %d records: %v", len(specs), len(recs), err)
	}
	if err := solve.Validate(append(slices.Clone(got), virtual...), specs); err != nil {
		t.Errorf("solution is not a valid environment: %v", err)
	}
	if len(ix) == len(recs) { // one record per name: the lock is the only answer
		want, have := urls(recs), urls(got)
		if !slices.Equal(want, have) {
			t.Errorf("solution differs from the lock:\nlock: %s\ngot:  %s", strings.Join(want, " "), strings.Join(have, " "))
		}
	}
}

func urls(recs []conda.PackageRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.URL
	}
	slices.Sort(out)
	return out
}
