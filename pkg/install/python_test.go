package install

import (
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

func TestPythonEnv(t *testing.T) {
	tests := []struct {
		version, sitePackagesPath string
		in                        []string
		want                      []string
		pycs                      []string
		err                       string
	}{
		{version: "3.11.9",
			in:   []string{"site-packages/requests/api.py", "python-scripts/tool", "info-not-mapped/x", "site-packages/data.txt"},
			want: []string{"lib/python3.11/site-packages/requests/api.py", "bin/tool", "info-not-mapped/x", "lib/python3.11/site-packages/data.txt"},
			pycs: []string{"lib/python3.11/site-packages/requests/__pycache__/api.cpython-311.pyc"}},
		{version: "3.13.0", sitePackagesPath: "lib/python3.13t/site-packages",
			in:   []string{"site-packages/m.py"},
			want: []string{"lib/python3.13t/site-packages/m.py"},
			pycs: []string{"lib/python3.13t/site-packages/__pycache__/m.cpython-313.pyc"}},
		{version: "3", err: `version "3" has no major.minor`},
	}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			rec := conda.PackageRecord{Name: "python", Version: conda.MustParseVersion(tc.version), Build: "h_0", PythonSitePackagesPath: tc.sitePackagesPath}
			py, err := newPythonEnv(&rec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range tc.in {
				got = append(got, py.targetPath(p))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("targets %q, want %q", got, tc.want)
			}
			if pycs := py.pycCandidates(got); !slices.Equal(pycs, tc.pycs) {
				t.Errorf("pycs %q, want %q", pycs, tc.pycs)
			}
		})
	}
}
