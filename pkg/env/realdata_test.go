package env

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/pkg/conda"
)

// lockWant is what reading one real lock file must give: an error naming
// the file and containing wantErr, or a lock of the given format and version.
type lockWant struct {
	format  LockFormat
	version string
	wantErr string
}

const sourcePackage = "is a source package; condabox installs package archives only"

// realLocks lists every file under locks/rattler/conda-lock and
// locks/mamba/env_lockfile; a file missing here fails the test, so that
// new real data is looked at.
var realLocks = map[string]lockWant{
	"mamba/env_lockfile/bad_package-lock.json":                              {wantErr: `line 33, column 7: invalid character '/'`},
	"mamba/env_lockfile/bad_package-lock.yaml":                              {wantErr: `line 4: package 1: _libgcc_mutex: missing "manager"`},
	"mamba/env_lockfile/bad_version-lock.json":                              {wantErr: `unsupported version "0.0.0"`},
	"mamba/env_lockfile/bad_version-lock.yaml":                              {wantErr: `unsupported version -1`},
	"mamba/env_lockfile/good_multiple_categories-lock.yaml":                 {format: FormatCondaLock, version: "1"},
	"mamba/env_lockfile/good_multiple_packages-lock.json":                   {format: FormatMambaJS, version: "1.0.0"},
	"mamba/env_lockfile/good_multiple_packages-lock.yaml":                   {format: FormatCondaLock, version: "1"},
	"mamba/env_lockfile/good_no_package-lock.json":                          {format: FormatMambaJS, version: "1.0.0"},
	"mamba/env_lockfile/good_no_package-lock.yaml":                          {format: FormatCondaLock, version: "1"},
	"mamba/env_lockfile/good_one_package-lock.json":                         {format: FormatMambaJS, version: "1.0.0"},
	"mamba/env_lockfile/good_one_package-lock.yaml":                         {format: FormatCondaLock, version: "1"},
	"mamba/env_lockfile/good_one_package_missing_category-lock.json":        {format: FormatMambaJS, version: "1.0.0"},
	"mamba/env_lockfile/good_one_package_missing_category-lock.yaml":        {format: FormatCondaLock, version: "1"},
	"mamba/env_lockfile/good_overlap_categories-lock.yaml":                  {format: FormatCondaLock, version: "1"},
	"rattler/conda-lock/forward-compatible-lock.yml":                        {wantErr: "unsupported version 1000"},
	"rattler/conda-lock/v0/numpy-conda-lock.yml":                            {format: FormatCondaLock, version: "1"},
	"rattler/conda-lock/v0/pypi-matplotlib-conda-lock.yml":                  {format: FormatCondaLock, version: "1"},
	"rattler/conda-lock/v0/python-conda-lock.yml":                           {format: FormatCondaLock, version: "1"},
	"rattler/conda-lock/v3/robostack-turtlesim-conda-lock.yml":              {format: FormatCondaLock, version: "3"},
	"rattler/conda-lock/v4/absolute-path-lock.yml":                          {format: FormatPixi, version: "4"},
	"rattler/conda-lock/v4/numpy-lock.yml":                                  {format: FormatPixi, version: "4"},
	"rattler/conda-lock/v4/path-based-lock.yml":                             {format: FormatPixi, version: "4"},
	"rattler/conda-lock/v4/pypi-matplotlib-lock.yml":                        {format: FormatPixi, version: "4"},
	"rattler/conda-lock/v4/python-lock.yml":                                 {format: FormatPixi, version: "4"},
	"rattler/conda-lock/v4/turtlesim-lock.yml":                              {format: FormatPixi, version: "4"},
	"rattler/conda-lock/v5/flat-index-lock.yml":                             {format: FormatPixi, version: "5"},
	"rattler/conda-lock/v5/similar-with-and-without-purl.yml":               {format: FormatPixi, version: "5"},
	"rattler/conda-lock/v5/stability-original.yml":                          {format: FormatPixi, version: "5"},
	"rattler/conda-lock/v5/stability-shuffled.yml":                          {format: FormatPixi, version: "5"},
	"rattler/conda-lock/v6/conda-path-lock.yml":                             {wantErr: `"../minimal-project" ` + sourcePackage},
	"rattler/conda-lock/v6/derived-channel-lock.yml":                        {wantErr: `"child-package" ` + sourcePackage},
	"rattler/conda-lock/v6/empty-lock.yml":                                  {format: FormatPixi, version: "6"},
	"rattler/conda-lock/v6/multiple-source-packages-with-variants-lock.yml": {wantErr: sourcePackage},
	"rattler/conda-lock/v6/numpy-as-pypi-lock.yml":                          {format: FormatPixi, version: "6"},
	"rattler/conda-lock/v6/options-lock.yml":                                {format: FormatPixi, version: "6"},
	"rattler/conda-lock/v6/pixi-build-git-rev-only-source-lock.yml":         {wantErr: sourcePackage},
	"rattler/conda-lock/v6/pixi-build-git-tag-source-lock.yml":              {wantErr: sourcePackage},
	"rattler/conda-lock/v6/pixi-build-pinned-source-lock.yml":               {wantErr: sourcePackage},
	"rattler/conda-lock/v6/pixi-build-url-source-lock.yml":                  {wantErr: sourcePackage},
	"rattler/conda-lock/v6/python-from-conda-only-lock.yml":                 {format: FormatPixi, version: "6"},
	"rattler/conda-lock/v6/source-package-with-variants-lock.yml":           {wantErr: sourcePackage},
	"rattler/conda-lock/v6/sources-lock.yml":                                {wantErr: sourcePackage},
	"rattler/conda-lock/v7/conda-path-lock.yml":                             {wantErr: sourcePackage},
	"rattler/conda-lock/v7/conda-source-build-host-packages-lock.yml":       {wantErr: sourcePackage},
	"rattler/conda-lock/v7/derived-channel-lock.yml":                        {wantErr: sourcePackage},
	"rattler/conda-lock/v7/empty-lock.yml":                                  {format: FormatPixi, version: "7"},
	"rattler/conda-lock/v7/multiple-source-packages-with-variants-lock.yml": {wantErr: sourcePackage},
	"rattler/conda-lock/v7/numpy-as-pypi-lock.yml":                          {format: FormatPixi, version: "7"},
	"rattler/conda-lock/v7/options-lock.yml":                                {format: FormatPixi, version: "7"},
	"rattler/conda-lock/v7/partial-source-extra-depends-lock.yml":           {wantErr: sourcePackage},
	"rattler/conda-lock/v7/partial-source-flags-lock.yml":                   {wantErr: sourcePackage},
	"rattler/conda-lock/v7/partial-source-purls-lock.yml":                   {wantErr: sourcePackage},
	"rattler/conda-lock/v7/partial-source-run-exports-lock.yml":             {wantErr: sourcePackage},
	"rattler/conda-lock/v7/pixi-build-git-rev-only-source-lock.yml":         {wantErr: sourcePackage},
	"rattler/conda-lock/v7/pixi-build-git-tag-source-lock.yml":              {wantErr: sourcePackage},
	"rattler/conda-lock/v7/pixi-build-pinned-source-lock.yml":               {wantErr: sourcePackage},
	"rattler/conda-lock/v7/pixi-build-url-source-lock.yml":                  {wantErr: sourcePackage},
	"rattler/conda-lock/v7/pypi_absolute_url.yml":                           {format: FormatPixi, version: "7"},
	"rattler/conda-lock/v7/pypi_custom_index.yml":                           {format: FormatPixi, version: "7"},
	"rattler/conda-lock/v7/pypi_relative_outside_url.yml":                   {format: FormatPixi, version: "7"},
	"rattler/conda-lock/v7/pypi_relative_url.yml":                           {format: FormatPixi, version: "7"},
	"rattler/conda-lock/v7/python-from-conda-only-lock.yml":                 {format: FormatPixi, version: "7"},
	"rattler/conda-lock/v7/sources-lfs-lock.yml":                            {wantErr: sourcePackage},
	"rattler/conda-lock/v7/sources-lock.yml":                                {wantErr: sourcePackage},
}

func realFiles(t *testing.T, root string, dirs ...string) []string {
	t.Helper()
	var files []string
	for _, dir := range dirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func TestRealLockFiles(t *testing.T) {
	root := testchannel.RealData(t, "locks")
	files := realFiles(t, root, "rattler/conda-lock", "mamba/env_lockfile")
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			want, ok := realLocks[rel]
			if !ok {
				t.Fatalf("no expectation for %s: add it to realLocks", rel)
			}
			data, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			lock, err := ParseLock(rel, data)
			if want.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), want.wantErr) || !strings.Contains(err.Error(), rel) {
					t.Fatalf("ParseLock error = %v, want one naming %s and containing %q", err, rel, want.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if lock.Format != want.format || lock.Version != want.version {
				t.Errorf("format %s version %s, want %s %s", lock.Format, lock.Version, want.format, want.version)
			}
			if got, want := countConda(lock), countCondaText(t, lock.Format, data); got != want {
				t.Errorf("%d conda packages read, the file's text lists %d", got, want)
			}
			for envName, env := range lock.Environments {
				for platform, pkgs := range env.Packages {
					for _, pkg := range pkgs {
						checkLocked(t, envName+"/"+string(platform), pkg)
					}
				}
			}
		})
	}
	if len(files) != len(realLocks) {
		t.Errorf("realLocks lists %d files, %d exist", len(realLocks), len(files))
	}
}

// countConda counts the conda entries read, repeats included.
func countConda(l *Lock) int {
	n := 0
	for _, env := range l.Environments {
		for _, pkgs := range env.Packages {
			for _, pkg := range pkgs {
				if pkg.Manager == ManagerConda {
					n++
				}
			}
		}
	}
	return n
}

// countCondaText counts conda packages in a lock file's text, without
// parsing it: conda-lock's "manager: conda" lines, pixi's "- conda:"
// references under environments:, mambajs's file name keys under packages.
func countCondaText(t *testing.T, f LockFormat, data []byte) int {
	t.Helper()
	var re *regexp.Regexp
	switch f {
	case FormatCondaLock:
		re = regexp.MustCompile(`(?m)^\s+-?\s*manager: conda\s*$`)
	case FormatPixi:
		envs := data[:bytes.Index(data, []byte("\npackages:"))]
		return len(regexp.MustCompile(`(?m)^\s+- conda: `).FindAll(envs, -1))
	case FormatMambaJS:
		pip := bytes.Index(data, []byte(`"pipPackages"`))
		return len(regexp.MustCompile(`(?m)^\s+"[^"]+\.(conda|tar\.bz2)": \{`).FindAll(data[:pip], -1))
	}
	return len(re.FindAll(data, -1))
}

var hexDigits = regexp.MustCompile(`^[0-9a-f]*$`)

// checkLocked checks what every locked conda record must hold.
func checkLocked(t *testing.T, where string, pkg LockedPackage) {
	t.Helper()
	if pkg.Manager == ManagerPip {
		if pkg.Pypi.Name == "" || pkg.Pypi.Location == "" {
			t.Errorf("%s: pip package without name or location: %+v", where, pkg.Pypi)
		}
		return
	}
	if pkg.Manager != ManagerConda {
		t.Fatalf("%s: manager %q", where, pkg.Manager)
	}
	r := pkg.Conda
	if r.Name == "" || r.Version.String() == "" || r.Build == "" || r.Subdir == "" || r.Channel == "" {
		t.Errorf("%s: incomplete record %+v", where, r)
	}
	// Name, version and build may differ from the file name's (mamba's
	// test files do so on purpose): the file's fields win, as in mamba.
	if !strings.HasSuffix(r.URL, "/"+r.FileName) || !isPackageArchive(r.FileName) {
		t.Errorf("%s: url %q and fn %q disagree", where, r.URL, r.FileName)
	}
	if !hexDigits.MatchString(r.MD5) || !hexDigits.MatchString(r.SHA256) {
		t.Errorf("%s: %s: digests not lower-case hex: %q %q", where, r.Name, r.MD5, r.SHA256)
	}
	for _, dep := range append(slices.Clone(r.Depends), r.Constrains...) {
		if _, err := conda.ParseMatchSpec(dep); err != nil {
			t.Errorf("%s: %s: %v", where, r.Name, err)
		}
	}
}

// TestRealLocksAgree reads the same solved environments written in
// different formats and checks that every format yields the same packages.
func TestRealLocksAgree(t *testing.T) {
	root := testchannel.RealData(t, "locks", "rattler")
	read := func(rel string) *LockedEnvironment {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseLock(rel, data)
		if err != nil {
			t.Fatal(err)
		}
		return l.Environments[DefaultEnvironment]
	}
	for _, tc := range []struct {
		a, b string
		// full compares depends, constrains and build numbers too, for
		// formats that both carry them.
		full bool
	}{
		{"conda-lock/v0/python-conda-lock.yml", "conda-lock/v4/python-lock.yml", false},
		{"conda-lock/v0/numpy-conda-lock.yml", "conda-lock/v4/numpy-lock.yml", false},
		{"conda-lock/v0/pypi-matplotlib-conda-lock.yml", "conda-lock/v4/pypi-matplotlib-lock.yml", false},
		{"conda-lock/v3/robostack-turtlesim-conda-lock.yml", "conda-lock/v4/turtlesim-lock.yml", true},
		{"conda-lock/v6/python-from-conda-only-lock.yml", "conda-lock/v7/python-from-conda-only-lock.yml", true},
	} {
		t.Run(filepath.Base(tc.a), func(t *testing.T) {
			a, b := read(tc.a), read(tc.b)
			if len(a.Packages) != len(b.Packages) {
				t.Fatalf("%d platforms vs %d", len(a.Packages), len(b.Packages))
			}
			for p := range a.Packages {
				ka, kb := recordKeys(a.CondaRecords(p), tc.full), recordKeys(b.CondaRecords(p), tc.full)
				if onlyA, onlyB := difference(ka, kb), difference(kb, ka); len(onlyA)+len(onlyB) > 0 {
					t.Errorf("%s: only in %s:\n%s\nonly in %s:\n%s", p, tc.a, strings.Join(onlyA, "\n"), tc.b, strings.Join(onlyB, "\n"))
				}
			}
		})
	}
}

func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// recordKeys describes records as sorted strings for comparison.
func recordKeys(rs []conda.PackageRecord, full bool) []string {
	var out []string
	for _, r := range rs {
		k := strings.Join([]string{r.URL, r.Name, r.Version.String(), r.Build, r.Subdir, r.Channel, r.MD5, r.SHA256}, " ")
		if full {
			deps := slices.Sorted(slices.Values(r.Depends))
			cons := slices.Sorted(slices.Values(r.Constrains))
			k += strings.Join([]string{"", strings.Join(deps, ","), strings.Join(cons, ","), strconv.FormatUint(r.BuildNumber, 10)}, " | ")
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestRealExplicitFiles(t *testing.T) {
	root := testchannel.RealData(t, "locks")
	var files []string
	for _, f := range realFiles(t, root, "rattler/explicit-envs", "rattler/python", "mamba/env_file") {
		if data, _ := os.ReadFile(filepath.Join(root, f)); hasExplicitMarker(data) {
			files = append(files, f)
		}
	}
	if len(files) < 9 {
		t.Fatalf("found %d explicit files, want the 10 of the real data", len(files))
	}
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			ex, err := ParseExplicit(rel, data)
			if err != nil {
				t.Fatal(err)
			}
			// Count the URL lines and their md5 fragments without the parser.
			var urls []string
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				if line := strings.TrimSpace(sc.Text()); strings.Contains(line, "://") && !strings.HasPrefix(line, "#") {
					urls = append(urls, line)
				}
			}
			if len(ex.Records) != len(urls) {
				t.Fatalf("%d records, %d URL lines", len(ex.Records), len(urls))
			}
			for i, r := range ex.Records {
				if want := strings.TrimSuffix(urls[i], "#"+r.MD5); r.URL != want {
					t.Errorf("record %d: URL %q md5 %q, line %q", i, r.URL, r.MD5, urls[i])
				}
				checkLocked(t, rel, LockedPackage{Manager: ManagerConda, Conda: r})
			}
			if !ex.Platform.IsValid() {
				t.Errorf("platform %q", ex.Platform)
			}
		})
	}
}
