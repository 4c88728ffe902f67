package sbom

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/condabox/condabox/pkg/conda"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

func record(name, version, build, license string, depends ...string) conda.PackageRecord {
	dist := name + "-" + version + "-" + build
	return conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: build, Subdir: "linux-64",
		Depends: depends, License: license, SHA256: "ab" + dist, FileName: dist + ".conda",
		URL: "https://conda.anaconda.org/conda-forge/linux-64/" + dist + ".conda", Channel: "https://conda.anaconda.org/conda-forge"}
}

func TestGenerateGolden(t *testing.T) {
	recs := []conda.PackageRecord{
		record("requests", "2.32.3", "pyhd8ed1ab_0", "Apache-2.0", "python >=3.8", "urllib3 >=1.21.1,<3"),
		record("python", "3.11.9", "hb806964_0_cpython", "Python-2.0", "libzlib >=1.2.13"),
		record("libzlib", "1.3.1", "h4ab18f5_1", "Zlib"),
		record("urllib3", "2.2.2", "pyhd8ed1ab_1", "MIT", "python >=3.8"),
		record("jq", "1.7.1", "hd590300_0", "MIT AND CC-BY-3.0"),
		record("openssl", "3.3.1", "h4ab18f5_1", "Apache 2.0"),
	}
	got, err := Generate(recs, Options{Name: "127.0.0.1:5000/app:v1", Created: time.Unix(1700000000, 0), Tool: "condabox-test"})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sbom.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("SBOM differs from %s (run with -update to accept):\n%s", golden, got)
	}
	// Order of the input does not matter.
	recs[0], recs[5] = recs[5], recs[0]
	again, err := Generate(recs, Options{Name: "127.0.0.1:5000/app:v1", Created: time.Unix(1700000000, 0), Tool: "condabox-test"})
	if err != nil || !bytes.Equal(again, got) {
		t.Errorf("another input order gave another document (err %v)", err)
	}
}

// TestGeneratePypi: pip's packages are described with pkg:pypi purls, in
// name order, once each, and change the document's namespace.
func TestGeneratePypi(t *testing.T) {
	recs := []conda.PackageRecord{record("python", "3.11.9", "hb806964_0_cpython", "Python-2.0")}
	opts := Options{Name: "app", Created: time.Unix(1700000000, 0), Tool: "condabox-test"}
	plain, err := Generate(recs, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Pypi = []PypiPackage{{"Zope.Interface", "6.0"}, {"cbdemo", "1.0"}, {"cbdemo", "1.0"}}
	got, err := Generate(recs, opts)
	if err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	var purls []string
	for _, p := range doc.Packages {
		purls = append(purls, p.ExternalRefs[0].ReferenceLocator)
	}
	if len(purls) != 3 || !strings.HasPrefix(purls[0], "pkg:conda/python@3.11.9") || purls[1] != "pkg:pypi/cbdemo@1.0" || purls[2] != "pkg:pypi/zope.interface@6.0" {
		t.Errorf("purls %q, want python's, then cbdemo's and zope.interface's pkg:pypi", purls)
	}
	var plainDoc Document
	json.Unmarshal(plain, &plainDoc)
	if plainDoc.DocumentNamespace == doc.DocumentNamespace || len(doc.Relationships) != 3 {
		t.Errorf("namespace unchanged (%s) or relationships %v", doc.DocumentNamespace, doc.Relationships)
	}
}

func TestIsLicenseExpression(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"MIT", true},
		{"BSD-3-Clause", true},
		{"MIT AND CC-BY-3.0", true},
		{"(MIT OR Apache-2.0) AND Zlib", true},
		{"GPL-2.0-or-later WITH Classpath-exception-2.0", true},
		{"LicenseRef-Proprietary", true},
		{"", false},
		{"Apache 2.0", false},
		{"BSD 3-Clause", false},
		{"MIT AND", false},
		{"(MIT", false},
		{"MIT)", false},
		{"AND", false},
		{"MIT/X11", false},
		{"()", false},
	}
	for _, tt := range tests {
		if got := IsLicenseExpression(tt.s); got != tt.want {
			t.Errorf("IsLicenseExpression(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestGenerateRealRecords reads the conda-meta records of real conda-forge
// packages and checks every one becomes an SPDX package with its checksum.
func TestGenerateRealRecords(t *testing.T) {
	dir := realData(t, "prefix-records/conda-meta")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no records in %s: %v", dir, err)
	}
	var recs []conda.PackageRecord
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r conda.PackageRecord
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		recs = append(recs, r)
	}
	out, err := Generate(recs, Options{Name: "real", Tool: "condabox-test"})
	if err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Packages) != len(recs) {
		t.Fatalf("%d packages for %d records", len(doc.Packages), len(recs))
	}
	for _, p := range doc.Packages {
		if len(p.Checksums) == 0 || p.DownloadLocation == noAssertion || p.VersionInfo == "" {
			t.Errorf("%s: checksums %v, download %q, version %q", p.SPDXID, p.Checksums, p.DownloadLocation, p.VersionInfo)
		}
	}
}

// realData returns ../shared/realdata/<rel> found by walking up from the
// test's directory, or skips.
func realData(t *testing.T, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "..", "shared", "realdata", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("no ../shared/realdata/%s beside the checkout", rel)
		}
		dir = parent
	}
}

func FuzzIsLicenseExpression(f *testing.F) {
	for _, s := range []string{"MIT", "(MIT OR Apache-2.0) AND Zlib", "Apache 2.0", "((", "MIT WITH"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !IsLicenseExpression(s) {
			return
		}
		// An accepted expression stays accepted inside parentheses and
		// joined to another one.
		if !IsLicenseExpression("("+s+")") || !IsLicenseExpression(s+" OR MIT") {
			t.Errorf("%q accepted, but not when wrapped or joined", s)
		}
	})
}
