package conda

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseMatchSpec checks that no input panics, that errors quote the
// input, and that every accepted spec survives a String round trip and
// matches the same records afterwards.
func FuzzParseMatchSpec(f *testing.F) {
	for _, s := range []string{
		"numpy", "numpy 1.11", "numpy=1.11", "numpy==1.11", "numpy >=1.2,<2 py39*", "numpy=1.2=py39_0",
		"conda-forge/linux-64::numpy[version='>=1.2',build=py39*]", `numpy[version=">1"]>=2`,
		"*[md5=" + specMD5 + "]", "blas[track_features='mkl debug',build_number='>2']",
		"https://host/c/linux-64/numpy-1.2-py39_0.conda#sha256:" + specSHA256,
		"ray[default,data] >=2.9.0,<3.0.0", "python >=3.8 # comment", "numpy[build='^py3[0-9]$']",
	} {
		f.Add(s)
	}
	recs := []*PackageRecord{
		distRecord(f, "numpy-1.26.4-py312h8753938_0"),
		distRecord(f, "numpy-1.2-py39_0", func(r *PackageRecord) { r.MD5, r.License = specMD5, "MIT" }),
		distRecord(f, "python-3.12.1-h_0_cpython"),
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMatchSpec(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error for %q does not quote it: %v", s, err)
			}
			return
		}
		checkSpecRoundTrip(t, s, m)
		back, _ := ParseMatchSpec(m.String())
		for _, r := range recs {
			if m.Matches(r) != back.Matches(r) {
				t.Fatalf("%q and its String %q disagree on %s", s, m.String(), r.Dist())
			}
		}
	})
}
