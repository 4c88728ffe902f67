package solve

import (
	"testing"
)

func TestRealSmoke(t *testing.T) {
	ix := loadRepodata(t, realdata(t, "repodata/conda-forge-numpy/linux-64/repodata.json"), "conda-forge")
	for _, q := range [][]string{{"numpy"}, {"python=3.9", "numpy"}} {
		got, err := solveValid(t, ix, Request{Specs: specs(t, q...), Virtual: nil})
		t.Log(q, dists(got), err)
	}
}
