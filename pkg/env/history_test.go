package env

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

func TestParseHistorySpecs(t *testing.T) {
	for _, tc := range []struct {
		name, history string
		want          map[string]string
		wantErr       string
	}{
		{"empty", "", map[string]string{}, ""},
		{"conda's format", fixtureHistory, map[string]string{"python": "python[version='>=3.11']", "requests": "requests"}, ""},
		{"later request replaces", "# update specs: ['numpy=1.26']\n# update specs: ['numpy']\n", map[string]string{"numpy": "numpy"}, ""},
		{"removal then request", "# remove specs: ['a']\n# update specs: ['a>1']\n", map[string]string{"a": "a[version='>1']"}, ""},
		{"channel and brackets", `# update specs: ['conda-forge::numpy[build=py*]', "x 1.*"]`, map[string]string{"numpy": "conda-forge::numpy[build=py*]", "x": "x=1"}, ""},
		{"escapes and spaces", `  # update specs: [ 'a' ,  "b\"" , ]  `, nil, `parse match spec "b\""`},
		{"empty list", "# update specs: []\n# remove specs: []\n", map[string]string{}, ""},
		{"other comments ignored", "# neutered specs: ['x']\n+conda-forge::a-1-0\n-b-1-0\n# cmd: update specs: ['y']\n", map[string]string{}, ""},
		{"no brackets", "# update specs: 'a'\n", nil, `line 1: spec list "'a'": want [...]`},
		{"unterminated", "\n# update specs: ['a]\n", nil, `line 2: spec list "['a]": at offset 1: unterminated string`},
		{"no comma", "# remove specs: ['a' 'b']", nil, "want ',' at offset 5"},
		{"bad spec", "# update specs: ['a >=>1']", nil, `line 1: parse match spec "a >=>1"`},
		{"unquoted", "# update specs: [a]", nil, "want a quoted string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHistorySpecs("history", []byte(tc.history))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `"history"`) {
					t.Fatalf("error %v, want one naming the file and containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParsePythonList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"[]", nil},
		{"['a']", []string{"a"}},
		{`['a', "b'c", 'd\'e', 'f\\g']`, []string{"a", "b'c", "d'e", `f\g`}},
		{"['a',]", []string{"a"}},
		{"[  'a'  ,'b' ]", []string{"a", "b"}},
	} {
		got, err := parsePythonList(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parsePythonList(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzParseHistorySpecs checks that no history makes the parser panic and
// that every spec it returns is keyed by its own name.
func FuzzParseHistorySpecs(f *testing.F) {
	f.Add([]byte(fixtureHistory))
	f.Add([]byte(`# update specs: ['a', "b'", 'c\\']` + "\n# remove specs: ['a',]"))
	f.Add([]byte("# update specs: ['conda-forge::numpy[build=py*]']"))
	f.Fuzz(func(t *testing.T, data []byte) {
		specs, err := parseHistorySpecs("fuzz", data)
		if err != nil {
			return
		}
		for name, spec := range specs {
			again, err := parseHistorySpecs("again", []byte("# update specs: ['"+strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(spec)+"']"))
			if err != nil || again[name] != spec {
				t.Errorf("spec %q of %q does not read back: %v, %v", spec, name, again, err)
			}
		}
	})
}

// TestRevisions reads a conda-meta/history as conda writes it and prints
// its revisions as conda's list --revisions does.
func TestRevisions(t *testing.T) {
	prefix := t.TempDir()
	history := `==> 2024-05-01 10:00:00 <==
# cmd: conda create -n demo python=3.11
+conda-forge/linux-64::python-3.11.8-hab00c5b_0_cpython
+conda-forge/noarch::tzdata-2024a-h0c530f3_0
# update specs: ['python=3.11']
==> 2024-05-02 11:30:00 <==
# cmd: conda update python
-conda-forge/linux-64::python-3.11.8-hab00c5b_0_cpython
+conda-forge/linux-64::python-3.11.9-hb806964_0_cpython
-conda-forge/noarch::tzdata-2024a-h0c530f3_0
+conda-forge/linux-64::zlib-1.3.1-h4ab18f5_1
# update specs: ['python']
`
	if err := os.MkdirAll(filepath.Join(prefix, "conda-meta"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prefix, "conda-meta", "history"), []byte(history), 0o644); err != nil {
		t.Fatal(err)
	}
	revs, err := ReadRevisions(prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := WriteRevisions(&out, revs); err != nil {
		t.Fatal(err)
	}
	want := `2024-05-01 10:00:00  (rev 0)
    +python-3.11.8 (conda-forge/linux-64)
    +tzdata-2024a (conda-forge/noarch)

2024-05-02 11:30:00  (rev 1)
     python  {3.11.8 (conda-forge/linux-64) -> 3.11.9 (conda-forge/linux-64)}
    -tzdata-2024a (conda-forge/noarch)
    +zlib-1.3.1 (conda-forge/linux-64)

`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if revs, err := ReadRevisions(t.TempDir()); err != nil || revs != nil {
		t.Errorf("no history: %v, %v", revs, err)
	}
	if err := os.WriteFile(filepath.Join(prefix, "conda-meta", "history"), []byte("+x-1-0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRevisions(prefix); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a dist before any header: %v", err)
	}
}

// FuzzRevisions: no history makes the revision parser or printer panic,
// and the printout numbers every revision and names every package added.
func FuzzRevisions(f *testing.F) {
	f.Add([]byte(fixtureHistory))
	f.Add([]byte("==> 2024-05-01 <==\n+c::a-1-0\n-c::a-0.9-0\n+b\n-x-y\n==> <==\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		revs, err := parseRevisions("fuzz", data)
		if err != nil {
			return
		}
		var out strings.Builder
		if err := WriteRevisions(&out, revs); err != nil {
			t.Fatal(err)
		}
		for i, r := range revs {
			if !strings.Contains(out.String(), fmt.Sprintf("  (rev %d)\n", i)) {
				t.Errorf("revision %d missing from:\n%s", i, out.String())
			}
			for n := range revisionVersions(r.Added) {
				if !strings.Contains(out.String(), n) {
					t.Errorf("added %q missing from:\n%s", n, out.String())
				}
			}
			// install --revision i: each package once, each spec (when the
			// dist parses) matching exactly that package.
			state, err := RevisionState(revs, i)
			if err != nil {
				t.Fatalf("RevisionState(%d) of %d revisions: %v", i, len(revs), err)
			}
			names := map[string]bool{}
			for _, d := range state {
				if n := historyName(d); names[n] {
					t.Errorf("revision %d holds %s twice: %q", i, n, state)
				} else {
					names[n] = true
				}
				spec, err := historySpec(d)
				if err != nil {
					continue // not name-version-build: install --revision reports it
				}
				m, err := conda.ParseMatchSpec(spec)
				if err != nil {
					t.Fatalf("historySpec(%q) = %q, which does not parse: %v", d, spec, err)
				}
				_, dist := cutChannel(d)
				name, version, build, _ := splitDist(dist)
				v, err := conda.ParseVersion(version)
				if err != nil {
					t.Fatalf("historySpec(%q) = %q, but version %q does not parse: %v", d, spec, version, err)
				}
				if rec := (conda.PackageRecord{Name: name, Version: v, Build: build, Subdir: m.Subdir}); !m.Matches(&rec) {
					t.Errorf("%q does not match %s-%s-%s", spec, name, version, build)
				}
			}
		}
	})
}

func TestRevisionState(t *testing.T) {
	revs := []Revision{
		{Added: []string{"conda-forge/linux-64::python-3.11.9-h_0", "conda-forge/noarch::pip-24.0-pyhd_0"}},
		{Added: []string{"conda-forge/noarch::requests-2.31.0-pyhd_0"}},
		// An update: the old build out, the new one in.
		{Removed: []string{"conda-forge/linux-64::python-3.11.9-h_0"}, Added: []string{"conda-forge/linux-64::python-3.12.1-h_0"}},
		{Removed: []string{"conda-forge/noarch::pip-24.0-pyhd_0", "conda-forge/noarch::requests-2.31.0-pyhd_0"}},
		{Added: []string{"old-style-1.0-0"}}, // no channel, as very old conda wrote
	}
	for _, tc := range []struct {
		n    int
		want []string
		err  string
	}{
		{0, []string{"conda-forge/linux-64::python-3.11.9-h_0", "conda-forge/noarch::pip-24.0-pyhd_0"}, ""},
		{2, []string{"conda-forge/linux-64::python-3.12.1-h_0", "conda-forge/noarch::pip-24.0-pyhd_0", "conda-forge/noarch::requests-2.31.0-pyhd_0"}, ""},
		{3, []string{"conda-forge/linux-64::python-3.12.1-h_0"}, ""},
		{4, []string{"conda-forge/linux-64::python-3.12.1-h_0", "old-style-1.0-0"}, ""},
		{5, nil, "revisions 0 to 4"},
		{-1, nil, "revisions 0 to 4"},
	} {
		got, err := RevisionState(revs, tc.n)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("revision %d: error %v, want one with %q", tc.n, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("revision %d: %q, %v; want %q", tc.n, got, err, tc.want)
		}
	}
	if _, err := RevisionState(nil, 0); err == nil || !strings.Contains(err.Error(), "no revisions") {
		t.Errorf("no history: error %v", err)
	}
}

func TestHistorySpec(t *testing.T) {
	for _, tc := range []struct {
		dist, want, err string
	}{
		{"conda-forge/linux-64::python-3.12.1-h_0_cpython", "conda-forge/linux-64::python==3.12.1=h_0_cpython", ""},
		{"http://127.0.0.1:8766/noarch::typing-extensions-4.9.0-pyha_0", "http://127.0.0.1:8766/noarch::typing-extensions==4.9.0=pyha_0", ""},
		{"old-style-1.0-0", "old-style==1.0=0", ""},
		{"conda-forge/linux-64::nodashes", "", "want [channel::]name-version-build"},
		{"c::a-1.0-0#x", "", "not a package's name-version-build"}, // # would start a comment
	} {
		got, err := historySpec(tc.dist)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one with %q", tc.dist, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.dist, got, err, tc.want)
		}
		// The spec matches exactly the package of the dist.
		m, err := conda.ParseMatchSpec(got)
		if err != nil {
			t.Fatal(err)
		}
		_, dist := cutChannel(tc.dist)
		name, version, build, _ := splitDist(dist)
		rec := conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: build, Subdir: m.Subdir}
		other := rec
		other.Build += "x"
		if !m.Matches(&rec) || m.Matches(&other) {
			t.Errorf("%q matches %s: %v, build %s: %v", got, dist, m.Matches(&rec), other.Build, m.Matches(&other))
		}
	}
}
