package conda

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// specFields is a MatchSpec flattened to text for table tests; "" is unset.
type specFields struct {
	name, version, build, buildNumber, channel, subdir string
	fn, url, md5, sha256, license, features            string
}

func fieldsOf(m MatchSpec) specFields {
	f := specFields{
		name: m.Name.String(), version: versionText(m.Version),
		channel: m.Channel, subdir: m.Subdir, fn: m.FileName, url: m.URL, md5: m.MD5, sha256: m.SHA256,
		features: strings.Join(m.TrackFeatures, " ") + "|" + strings.Join(m.Features, " "),
	}
	if !m.Build.IsAny() {
		f.build = m.Build.String()
	}
	if !m.BuildNumber.IsAny() {
		f.buildNumber = m.BuildNumber.String()
	}
	if !m.License.IsAny() {
		f.license = m.License.String()
	}
	if f.features == "|" {
		f.features = ""
	}
	return f
}

const (
	specMD5    = "dc9507a39ab328597820486c729cd279"
	specSHA256 = "f453db4ffe2271ec492a2913af4e61d4a6c118201f07de757df0eff769b65d2e"
)

func TestParseMatchSpec(t *testing.T) {
	tests := []struct {
		in        string
		want      specFields
		canonical string
	}{
		// Name only, lower-cased; '*' and globs allowed.
		{"numpy", specFields{name: "numpy"}, "numpy"},
		{"  NumPy  ", specFields{name: "numpy"}, "numpy"},
		{"*", specFields{name: "*"}, "*"},
		{"py*", specFields{name: "py*"}, "py*"},
		{"__glibc >=2.17", specFields{name: "__glibc", version: ">=2.17"}, "__glibc[version='>=2.17']"},

		// Space form: a bare version is exact, as conda does (not 1.11.*).
		{"numpy 1.11", specFields{name: "numpy", version: "1.11"}, "numpy==1.11"},
		{"numpy 1.2.*", specFields{name: "numpy", version: "1.2.*"}, "numpy=1.2"},
		{"numpy 1.7*", specFields{name: "numpy", version: "1.7.*"}, "numpy=1.7"},
		{"numpy >=1.2", specFields{name: "numpy", version: ">=1.2"}, "numpy[version='>=1.2']"},
		{"numpy >= 1.2 , < 2", specFields{name: "numpy", version: ">=1.2,<2"}, "numpy[version='>=1.2,<2']"},
		{"numpy 1.2 py39_0", specFields{name: "numpy", version: "1.2", build: "py39_0"}, "numpy==1.2=py39_0"},
		{"numpy >=1.2,<2 py39*", specFields{name: "numpy", version: ">=1.2,<2", build: "py39*"}, "numpy[version='>=1.2,<2',build=py39*]"},
		{"numpy >=1.0 , < 2.0 =py34_0", specFields{name: "numpy", version: ">=1.0,<2.0", build: "py34_0"}, "numpy[version='>=1.0,<2.0',build=py34_0]"},
		{"blas * openblas", specFields{name: "blas", build: "openblas"}, "blas[build=openblas]"},
		{"python * *_cpython", specFields{name: "python", build: "*_cpython"}, "python[build=*_cpython]"},
		{"numpy * *", specFields{name: "numpy"}, "numpy"},
		{"numpy >1.8,<2|==1.7", specFields{name: "numpy", version: "(>1.8,<2)|==1.7"}, "numpy[version='(>1.8,<2)|==1.7']"},

		// '=' forms: `=1.2` is fuzzy unless a build follows, `==1.2` exact.
		{"numpy=1.11", specFields{name: "numpy", version: "1.11.*"}, "numpy=1.11"},
		{"numpy =1.11", specFields{name: "numpy", version: "1.11.*"}, "numpy=1.11"},
		{"numpy==1.11", specFields{name: "numpy", version: "1.11"}, "numpy==1.11"},
		{"numpy==1.11.*", specFields{name: "numpy", version: "1.11.*"}, "numpy=1.11"},
		{"numpy=1.2=py39_0", specFields{name: "numpy", version: "1.2", build: "py39_0"}, "numpy==1.2=py39_0"},
		{"numpy==1.2=py39_0", specFields{name: "numpy", version: "1.2", build: "py39_0"}, "numpy==1.2=py39_0"},
		{"numpy=1.7=py3*_2", specFields{name: "numpy", version: "1.7", build: "py3*_2"}, "numpy==1.7[build=py3*_2]"},
		{"numpy=1.7.*=py37_2", specFields{name: "numpy", version: "1.7.*", build: "py37_2"}, "numpy=1.7[build=py37_2]"},
		{"foo=1.0=*", specFields{name: "foo", version: "1.0"}, "foo==1.0"},
		{"numpy>=1.2,<2", specFields{name: "numpy", version: ">=1.2,<2"}, "numpy[version='>=1.2,<2']"},
		{"numpy!=1.10", specFields{name: "numpy", version: "!=1.10"}, "numpy!=1.10"},
		{"numpy!=1.10=py38_0", specFields{name: "numpy", version: "!=1.10", build: "py38_0"}, "numpy[version='!=1.10',build=py38_0]"},
		{"numpy ~=1.10.1", specFields{name: "numpy", version: "~=1.10.1"}, "numpy~=1.10.1"},
		{"numpy=1.10.*,!=1.10.2", specFields{name: "numpy", version: "=1.10.*,!=1.10.2"}, "numpy[version='=1.10.*,!=1.10.2']"},
		{"openssl=1.1.1_", specFields{name: "openssl", version: "1.1.1_.*"}, "openssl=1.1.1_"},

		// Channels and subdirs, kept as written.
		{"conda-forge::numpy", specFields{name: "numpy", channel: "conda-forge"}, "conda-forge::numpy"},
		{"conda-forge/linux-64::numpy", specFields{name: "numpy", channel: "conda-forge", subdir: "linux-64"}, "conda-forge/linux-64::numpy"},
		{"conda-forge/label/dev::numpy", specFields{name: "numpy", channel: "conda-forge/label/dev"}, "conda-forge/label/dev::numpy"},
		{"https://host/chan/noarch::numpy >=1", specFields{name: "numpy", version: ">=1", channel: "https://host/chan", subdir: "noarch"}, "https://host/chan/noarch::numpy[version='>=1']"},
		{"*/linux-64::numpy", specFields{name: "numpy", subdir: "linux-64"}, "numpy[subdir=linux-64]"},
		{"*/win-32::numpy", specFields{name: "numpy", subdir: "win-32"}, "numpy[subdir=win-32]"},
		{"*/win-32::numpy[subdir=osx-64]", specFields{name: "numpy", subdir: "osx-64"}, "numpy[subdir=osx-64]"},
		{"conda-forge::numpy[build=py39*]", specFields{name: "numpy", build: "py39*", channel: "conda-forge"}, "conda-forge::numpy[build=py39*]"},
		{"numpy[channel=conda-forge/osx-64]", specFields{name: "numpy", channel: "conda-forge", subdir: "osx-64"}, "conda-forge/osx-64::numpy"},
		{"numpy[channel=conda-forge,subdir=noarch]", specFields{name: "numpy", channel: "conda-forge", subdir: "noarch"}, "conda-forge/noarch::numpy"},
		{"numpy[subdir=linux-64, channel=conda-forge/osx-64]", specFields{name: "numpy", channel: "conda-forge", subdir: "linux-64"}, "conda-forge/linux-64::numpy"},
		{"numpy[subdir=zos-z]", specFields{name: "numpy", subdir: "zos-z"}, "numpy[subdir=zos-z]"},
		{"defaults::numpy[subdir=zos-z]", specFields{name: "numpy", channel: "defaults", subdir: "zos-z"}, "defaults::numpy[subdir=zos-z]"},

		// Bracket keys, quoted three ways, separated by commas and/or spaces.
		{
			"numpy[version='>=1.2', build=py*, build_number='>2', sha256=" + strings.ToUpper(specSHA256) + ", md5=" + specMD5 + `, license="BSD-3-Clause", fn=numpy-1.2-py39_0.conda, url=https://x/numpy-1.2-py39_0.conda]`,
			specFields{name: "numpy", version: ">=1.2", build: "py*", buildNumber: ">2", sha256: specSHA256, md5: specMD5, license: "BSD-3-Clause", fn: "numpy-1.2-py39_0.conda", url: "https://x/numpy-1.2-py39_0.conda"},
			"numpy[version='>=1.2',build=py*,build_number='>2',url=https://x/numpy-1.2-py39_0.conda,md5=" + specMD5 + ",sha256=" + specSHA256 + ",license=BSD-3-Clause,fn=numpy-1.2-py39_0.conda]",
		},
		{`numpy[version="1.2.*" build="py39_0"]`, specFields{name: "numpy", version: "1.2.*", build: "py39_0"}, "numpy=1.2[build=py39_0]"},
		{"numpy[version=1.7 build=py38_0]", specFields{name: "numpy", version: "1.7", build: "py38_0"}, "numpy==1.7=py38_0"},
		{"numpy[version='1.7|1.8']", specFields{name: "numpy", version: "1.7|1.8"}, "numpy[version='1.7|1.8']"},
		{"numpy[version=*]", specFields{name: "numpy"}, "numpy"},
		{"numpy[build_number=3]", specFields{name: "numpy", buildNumber: "3"}, "numpy[build_number=3]"},
		{"numpy[build_number='>=3']", specFields{name: "numpy", buildNumber: ">=3"}, "numpy[build_number='>=3']"},
		{"numpy[build_number=!=3]", specFields{name: "numpy", buildNumber: "!=3"}, "numpy[build_number='!=3']"},
		{"*[track_features=mkl]", specFields{name: "*", features: "mkl|"}, "*[track_features=mkl]"},
		{"blas[track_features='mkl debug', features=x,]", specFields{name: "blas", features: "debug mkl|x"}, "blas[track_features='debug mkl',features=x]"},
		{"*[md5=" + specMD5 + "]", specFields{name: "*", md5: specMD5}, "*[md5=" + specMD5 + "]"},
		{"numpy[name=NumPy]", specFields{name: "numpy"}, "numpy"},
		// Brackets override the positional fields, wherever they stand.
		{`numpy[version=">1"]>=2`, specFields{name: "numpy", version: ">1"}, "numpy[version='>1']"},
		{"numpy 1.2 py39_0[build=py38_0]", specFields{name: "numpy", version: "1.2", build: "py38_0"}, "numpy==1.2=py38_0"},
		{"conda-forge::numpy[channel=defaults]", specFields{name: "numpy", channel: "defaults"}, "defaults::numpy"},
		// pip extras, as in a real constrains entry, are ignored as by conda.
		{"ray[default,data] >=2.9.0,<3.0.0", specFields{name: "ray", version: ">=2.9.0,<3.0.0"}, "ray[version='>=2.9.0,<3.0.0']"},
		// Comments.
		{"python >=3.8  # the oldest we test", specFields{name: "python", version: ">=3.8"}, "python[version='>=3.8']"},
		{"numpy[build='a#b']  # note", specFields{name: "numpy", build: "a#b"}, "numpy[build='a#b']"},

		// URL specs: name, version and build from the file name.
		{
			"https://conda.anaconda.org/conda-forge/linux-64/libgcc-ng-9.3.0-h5dbcf3e_17.tar.bz2#" + specMD5,
			specFields{name: "libgcc-ng", version: "9.3.0", build: "h5dbcf3e_17", md5: specMD5, fn: "libgcc-ng-9.3.0-h5dbcf3e_17.tar.bz2", url: "https://conda.anaconda.org/conda-forge/linux-64/libgcc-ng-9.3.0-h5dbcf3e_17.tar.bz2"},
			"https://conda.anaconda.org/conda-forge/linux-64/libgcc-ng-9.3.0-h5dbcf3e_17.tar.bz2#" + specMD5,
		},
		{
			"https://host/c/noarch/tzdata-2024a-h0c530f3_0.conda#sha256:" + specSHA256,
			specFields{name: "tzdata", version: "2024a", build: "h0c530f3_0", sha256: specSHA256, fn: "tzdata-2024a-h0c530f3_0.conda", url: "https://host/c/noarch/tzdata-2024a-h0c530f3_0.conda"},
			"https://host/c/noarch/tzdata-2024a-h0c530f3_0.conda#sha256:" + specSHA256,
		},
		{
			"https://host/c/noarch/tzdata-2024a-h0c530f3_0.conda#" + specSHA256,
			specFields{name: "tzdata", version: "2024a", build: "h0c530f3_0", sha256: specSHA256, fn: "tzdata-2024a-h0c530f3_0.conda", url: "https://host/c/noarch/tzdata-2024a-h0c530f3_0.conda"},
			"https://host/c/noarch/tzdata-2024a-h0c530f3_0.conda#sha256:" + specSHA256,
		},
		{
			"file:///opt/pkgs/x264-1%21164.3095-h166bdaf_2.tar.bz2",
			specFields{name: "x264", version: "1!164.3095", build: "h166bdaf_2", fn: "x264-1!164.3095-h166bdaf_2.tar.bz2", url: "file:///opt/pkgs/x264-1%21164.3095-h166bdaf_2.tar.bz2"},
			"file:///opt/pkgs/x264-1%21164.3095-h166bdaf_2.tar.bz2",
		},
		{
			"/opt/my pkgs/flask-0.10.1-py35_2.tar.bz2",
			specFields{name: "flask", version: "0.10.1", build: "py35_2", fn: "flask-0.10.1-py35_2.tar.bz2", url: "file:///opt/my pkgs/flask-0.10.1-py35_2.tar.bz2"},
			"file:///opt/my pkgs/flask-0.10.1-py35_2.tar.bz2",
		},
		{
			"x[url=https://host/c/x-1-0.conda]",
			specFields{name: "x", url: "https://host/c/x-1-0.conda"},
			"x[url=https://host/c/x-1-0.conda]",
		},
	}
	for _, tt := range tests {
		m, err := ParseMatchSpec(tt.in)
		if err != nil {
			t.Errorf("ParseMatchSpec(%q): %v", tt.in, err)
			continue
		}
		if got := fieldsOf(m); got != tt.want {
			t.Errorf("ParseMatchSpec(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
		if got := m.String(); got != tt.canonical {
			t.Errorf("ParseMatchSpec(%q).String() = %q, want %q", tt.in, got, tt.canonical)
		}
		back, err := ParseMatchSpec(m.String())
		if err != nil || !back.Equal(m) {
			t.Errorf("round trip of %q via %q: got %+v, %v", tt.in, m.String(), fieldsOf(back), err)
		}
	}
}

func TestParseMatchSpecErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "missing package name"},
		{"   ", "missing package name"},
		{">=1.2", "missing package name"},
		{"[version=1]", "missing package name"},
		{"conda-forge::", "missing package name"},
		{"::numpy", "empty channel"},
		{"blas [optional", "unbalanced '[' at offset 5"},
		{"blas]", "unbalanced ']' at offset 4"},
		{"numpy[build=a][version=1]", "second bracket section at offset 14"},
		{"numpy[build=[a]]", "nested '[' at offset 12"},
		{"numpy[build='py39]", "unterminated ' quote"},
		{"blas [test=1]", `unknown key "test" in brackets at offset 6`},
		{`blas[invalid="1"]`, `unknown key "invalid"`},
		{"blas[build=]", `empty value for key "build"`},
		{"blas[build=a, build=b]", `duplicate key "build"`},
		{"blas[=a]", "expected a key in brackets at offset 5"},
		{"blas[build:a]", `expected '=' after key "build" at offset 10`},
		{"blas[build='a'b]", `unexpected 'b' after quoted value`},
		{"blas[build=a'b']", "quote inside unquoted value"},
		{"blas[name=numpy]", `name "numpy" differs from the package name "blas"`},
		{"numpy 1..2", `parse version spec "1..2"`},
		{"numpy[version='>=1.2,<']", "bracket key version at offset 6"},
		{"numpy=", "missing version after '='"},
		{"numpy==", "empty version"},
		{"numpy 1.2 py 39", `build "py 39": invalid character ' ' at offset 2`},
		{"numpy 1.2 py'39", `build "py'39": invalid character '\'' at offset 2`},
		{"numpy\x001.2", `control character '\x00' at offset 5`},
		{"numpy[build='a\x7f']", `control character '\x7f' at offset 14`},
		{"num+py", `invalid character '+' at offset 3`},
		{"conda-forge:numpy", `invalid character ':'`},
		{"a b::numpy", `channel "a b": invalid character ' '`},
		{"numpy[build='^py(3$']", "invalid regular expression"},
		{"numpy[build_number=x2]", `"x2" is not a non-negative integer`},
		{"numpy[build_number='>-1']", `"-1" is not a non-negative integer`},
		{"numpy[md5=abc]", "want 32 hex digits, got 3"},
		{"numpy[sha256=" + strings.Repeat("g", 64) + "]", "invalid hex digit 'g' at offset 0"},
		{"https://host/c/linux-64/numpy-1.2.conda", "want name-version-build"},
		{"https://host/c/linux-64/numpy-1..2-0.conda", "empty version component"},
		{"https://host/c/linux-64/py*-1.2-0.conda", "is a pattern"},
		{"https://host/c/linux-64/numpy-1.2-*.conda", `build "*" is not a plain build string`},
		{"https://host/c/linux-64/numpy-1.2-0.conda#abc", `hash fragment "abc"`},
		{"https://host/c/linux-64/numpy-1.2-0.conda#", `hash fragment ""`},
		{"https://host/c/linux-64/numpy-1.2-0.conda#sha256:" + specMD5, "want 64 hex digits"},
		{"https://host/c/linux-64/numpy-1%zz.2-0.conda", "invalid URL escape"},
	}
	for _, tt := range tests {
		_, err := ParseMatchSpec(tt.in)
		if err == nil {
			t.Errorf("ParseMatchSpec(%q): no error, want %q", tt.in, tt.want)
			continue
		}
		quoted := "parse match spec " + strconv.Quote(tt.in) + ": "
		if msg := err.Error(); !strings.HasPrefix(msg, quoted) || !strings.Contains(msg, tt.want) {
			t.Errorf("ParseMatchSpec(%q) error = %q, want it to start with %q and say %q", tt.in, msg, quoted, tt.want)
		}
	}
}

// distRecord builds a record from "name-version-build"; the build number is the
// build's trailing digits after its last '_', as in conda's tests.
func distRecord(t testing.TB, dist string, edit ...func(*PackageRecord)) *PackageRecord {
	t.Helper()
	i := strings.LastIndexByte(dist, '-')
	j := strings.LastIndexByte(dist[:i], '-')
	r := &PackageRecord{Name: dist[:j], Version: MustParseVersion(dist[j+1 : i]), Build: dist[i+1:], Subdir: "linux-64"}
	if n, err := strconv.ParseUint(r.Build[strings.LastIndexByte(r.Build, '_')+1:], 10, 64); err == nil {
		r.BuildNumber = n
	}
	for _, e := range edit {
		e(r)
	}
	return r
}

// TestCondaMatchTable is conda's test_match_1 table
// (tests/models/test_match_spec.py): every spec against numpy-1.7.1-py27_0.
func TestCondaMatchTable(t *testing.T) {
	rec := distRecord(t, "numpy-1.7.1-py27_0")
	tests := []struct {
		spec string
		want bool
	}{
		{"numpy 1.7*", true}, {"numpy 1.7.1", true}, {"numpy 1.7", false}, {"numpy 1.5*", false},
		{"numpy >=1.5", true}, {"numpy >=1.5,<2", true}, {"numpy >=1.8,<1.9", false},
		{"numpy >1.5,<2,!=1.7.1", false}, {"numpy >1.8,<2|==1.7", false}, {"numpy >1.8,<2|>=1.7.1", true},
		{"numpy >=1.8|1.7*", true}, {"numpy ==1.7", false}, {"numpy >=1.5,>1.6", true},
		{"numpy ==1.7.1", true}, {"numpy ==1.7.1.0", true}, {"numpy==1.7.1.0.0", true},
		{"numpy >=1,*.7.*", true}, {"numpy *.7.*,>=1", true}, {"numpy >=1,*.8.*", false}, {"numpy >=2,*.7.*", false},
		{"numpy 1.6*|1.7*", true}, {"numpy 1.6*|1.8*", false}, {"numpy 1.6.2|1.7*", true},
		{"numpy 1.6.2|1.7.1", true}, {"numpy 1.6.2|1.7.0", false},
		{"numpy 1.7.1 py27_0", true}, {"numpy 1.7.1 py26_0", false}, {"numpy >1.7.1a", true},
		{"python", false},
	}
	for _, tt := range tests {
		m, err := ParseMatchSpec(tt.spec)
		if err != nil {
			t.Errorf("ParseMatchSpec(%q): %v", tt.spec, err)
			continue
		}
		if got := m.Matches(rec); got != tt.want {
			t.Errorf("%q matches numpy-1.7.1-py27_0 = %v, want %v", tt.spec, got, tt.want)
		}
	}
}

// TestCondaDocsTable follows the table of conda-build's "Package match
// specifications" page. Its first row claims `numpy 1.11` matches 1.11.18;
// conda itself (and rattler, mamba) read a bare version as exact, which the
// MatchSpec CEP documents: `pkg 1.8` is 1.8 while `pkg=1.8` is 1.8.*. We
// follow the implementations.
func TestCondaDocsTable(t *testing.T) {
	versions := []string{"1.8", "1.9", "1.11", "1.11.0", "1.11.1", "1.11.3", "1.11.18", "1.12", "2.0"}
	tests := []struct {
		spec    string
		matches []string
	}{
		{"numpy", versions},
		{"numpy 1.11", []string{"1.11", "1.11.0"}},
		{"numpy=1.11", []string{"1.11", "1.11.0", "1.11.1", "1.11.3", "1.11.18"}},
		{"numpy 1.11.*", []string{"1.11", "1.11.0", "1.11.1", "1.11.3", "1.11.18"}},
		{"numpy==1.11", []string{"1.11", "1.11.0"}},
		{"numpy >=1.11", []string{"1.11", "1.11.0", "1.11.1", "1.11.3", "1.11.18", "1.12", "2.0"}},
		{"numpy 1.11.1|1.11.3", []string{"1.11.1", "1.11.3"}},
		{"numpy >=1.8,<2", []string{"1.8", "1.9", "1.11", "1.11.0", "1.11.1", "1.11.3", "1.11.18", "1.12"}},
	}
	for _, tt := range tests {
		m, err := ParseMatchSpec(tt.spec)
		if err != nil {
			t.Errorf("ParseMatchSpec(%q): %v", tt.spec, err)
			continue
		}
		var got []string
		for _, v := range versions {
			if m.Matches(distRecord(t, "numpy-"+v+"-py36_0")) {
				got = append(got, v)
			}
		}
		if strings.Join(got, " ") != strings.Join(tt.matches, " ") {
			t.Errorf("%q matches %v, want %v", tt.spec, got, tt.matches)
		}
	}
}

func TestMatchSpecMatches(t *testing.T) {
	base := func(r *PackageRecord) {
		r.MD5, r.SHA256 = specMD5, specSHA256
		r.License, r.LicenseFamily = "BSD-3-Clause", "BSD"
		r.FileName = "numpy-1.26.4-py312h8753938_0.conda"
		r.TrackFeatures = FeatureList{"mkl", "debug"}
		r.Features = "blas_openblas"
	}
	rec := distRecord(t, "numpy-1.26.4-py312h8753938_0", base)
	tests := []struct {
		spec string
		want bool
	}{
		{"numpy", true},
		{"NUMPY", true},
		{"num*", true},
		{"*py", true},
		{"scipy", false},
		{"numpy 1.26.4", true},
		{"numpy 1.26", false},
		{"numpy=1.26", true},
		{"numpy=1.2", false},
		{"numpy >=1.26,<2 py312*", true},
		{"numpy >=1.26,<2 py311*", false},
		{"numpy * *8753938*", true},
		{"numpy[build='^py3[0-9]+h[0-9a-f]+_0$']", true},
		{"numpy[build='^py2.*$']", false},
		{"numpy[build_number=0]", true},
		{"numpy[build_number='>0']", false},
		{"numpy[build_number='>=0']", true},
		{"numpy[build_number='!=0']", false},
		{"numpy[build_number='<1']", true},
		{"numpy[subdir=linux-64]", true},
		{"conda-forge/linux-64::numpy", true},
		{"conda-forge/osx-64::numpy", false},
		{"numpy[md5=" + strings.ToUpper(specMD5) + "]", true},
		{"numpy[md5=" + strings.Repeat("0", 32) + "]", false},
		{"numpy[sha256=" + specSHA256 + "]", true},
		{"numpy[sha256=" + strings.Repeat("0", 64) + "]", false},
		{"numpy[license=bsd-3-clause]", true},
		{"numpy[license='BSD*']", true},
		{"numpy[license=MIT]", false},
		{"numpy[license_family=bsd]", true},
		{"numpy[fn=numpy-1.26.4-py312h8753938_0.conda]", true},
		{"numpy[fn=numpy-1.26.4-py312h8753938_0.tar.bz2]", false},
		{"numpy[track_features='debug,mkl']", true},
		{"numpy[track_features=mkl]", false}, // conda compares the whole set
		{"numpy[features=blas_openblas]", true},
		{"numpy[features=blas_mkl]", false},
		// The channel and URL are the caller's to compare.
		{"other-channel::numpy", true},
		{"numpy[url=https://elsewhere/numpy-1.26.4-py312h8753938_0.conda]", true},
		{"https://host/c/linux-64/numpy-1.26.4-py312h8753938_0.conda#" + specMD5, true},
		{"https://host/c/linux-64/numpy-1.26.4-py312h8753938_0.tar.bz2", false},
		{"https://host/c/linux-64/numpy-1.26.4-py312h8753938_1.conda", false},
	}
	for _, tt := range tests {
		m, err := ParseMatchSpec(tt.spec)
		if err != nil {
			t.Errorf("ParseMatchSpec(%q): %v", tt.spec, err)
			continue
		}
		if got := m.Matches(rec); got != tt.want {
			t.Errorf("%q matches %s = %v, want %v", tt.spec, rec.Dist(), got, tt.want)
		}
	}
	if (MatchSpec{}).Matches(nil) {
		t.Error("a spec matches a nil record")
	}
	if !(MatchSpec{}).Matches(rec) {
		t.Error("the zero MatchSpec does not match every record")
	}
}

func TestBuildNumberSpec(t *testing.T) {
	tests := []struct {
		in, canonical string
		matches       []uint64 // of 0..4
	}{
		{"2", "2", []uint64{2}},
		{"==2", "2", []uint64{2}},
		{"!=2", "!=2", []uint64{0, 1, 3, 4}},
		{">2", ">2", []uint64{3, 4}},
		{">=2", ">=2", []uint64{2, 3, 4}},
		{"<2", "<2", []uint64{0, 1}},
		{" <= 2 ", "<=2", []uint64{0, 1, 2}},
		{"*", "*", []uint64{0, 1, 2, 3, 4}},
	}
	for _, tt := range tests {
		b, err := ParseBuildNumberSpec(tt.in)
		if err != nil {
			t.Errorf("ParseBuildNumberSpec(%q): %v", tt.in, err)
			continue
		}
		var got []uint64
		for n := range uint64(5) {
			if b.Matches(n) {
				got = append(got, n)
			}
		}
		if b.String() != tt.canonical || formatUints(got) != formatUints(tt.matches) {
			t.Errorf("ParseBuildNumberSpec(%q) = %q matching %v, want %q matching %v", tt.in, b.String(), got, tt.canonical, tt.matches)
		}
	}
	for _, bad := range []string{"", ">", "=>2", "2.0", "-1", "1 2"} {
		if _, err := ParseBuildNumberSpec(bad); err == nil || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("ParseBuildNumberSpec(%q) error = %v, want one quoting the input", bad, err)
		}
	}
}

func formatUints(ns []uint64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.FormatUint(n, 10)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// TestMatchSpecRoundTripProperty writes random specs from random parts in
// random forms and checks that String is a fixed point of parsing.
func TestMatchSpecRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	for range 5000 {
		var b strings.Builder
		b.WriteString(pick("", "", "conda-forge::", "conda-forge/linux-64::", "https://h/c/noarch::", "*/osx-arm64::", "pkgs/main::"))
		b.WriteString(pick("numpy", "py*", "*", "libgcc-ng", "__cuda", "_openmp_mutex"))
		b.WriteString(pick("", " 1.2", "=1.2", "==1.2", " >=1.2,<2", ">=1.2", " 1.2.*", "!=1.0", " ~=1.2.3", " 1.2|1.4", "=1.2.*", " *"))
		if r.IntN(2) == 0 {
			b.WriteString(pick(" py39_0", "=py39_0", " py*", " *_cpython", "=*"))
		}
		if r.IntN(2) == 0 {
			var keys []string
			for _, kv := range [][]string{
				{"version='>=1,<3'", "version=1.5", `version="1.*"`},
				{"build=h123_0", "build='^h.*$'"},
				{"build_number=2", "build_number='>=1'"},
				{"subdir=win-64", "subdir=zos-z"},
				{"md5=" + specMD5}, {"sha256=" + specSHA256},
				{"license=MIT", "license='Apache 2.0'"},
				{"track_features='b a'"}, {"features=f"},
				{"fn=x-1-0.conda"}, {"url='https://h/c/x 1.conda'"}, {"channel=bioconda", "channel='https://h/c/linux-64'"},
			} {
				if r.IntN(3) == 0 {
					keys = append(keys, kv[r.IntN(len(kv))])
				}
			}
			b.WriteString("[" + strings.Join(keys, pick(",", " ", ", ")) + "]")
		}
		in := b.String()
		m, err := ParseMatchSpec(in)
		if err != nil {
			t.Fatalf("ParseMatchSpec(%q): %v", in, err)
		}
		checkSpecRoundTrip(t, in, m)
	}
}

// checkSpecRoundTrip asserts that ParseMatchSpec(m.String()) equals m and
// prints the same.
func checkSpecRoundTrip(t *testing.T, in string, m MatchSpec) {
	t.Helper()
	s := m.String()
	back, err := ParseMatchSpec(s)
	if err != nil {
		t.Fatalf("ParseMatchSpec(%q) parsed, but its String %q does not: %v", in, s, err)
	}
	if !back.Equal(m) {
		t.Fatalf("round trip of %q via %q:\n got %+v\nwant %+v", in, s, fieldsOf(back), fieldsOf(m))
	}
	if s2 := back.String(); s2 != s {
		t.Fatalf("String of %q is not stable: %q then %q", in, s, s2)
	}
}

// TestParseRealDependencies parses every depends and constrains entry of
// the real repodata in shared/realdata and round-trips it.
func TestParseRealDependencies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(realdata(t, "repodata"), "*", "*", "repodata.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no repodata.json under shared/realdata/repodata: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := ParseRepoData(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := 0
		for _, pkgs := range []map[string]PackageRecord{rd.Packages, rd.Conda} {
			for fn, r := range pkgs {
				for _, s := range append(r.Depends, r.Constrains...) {
					n++
					m, err := ParseMatchSpec(s)
					if err != nil {
						t.Errorf("%s %s: %v", f, fn, err)
						continue
					}
					checkSpecRoundTrip(t, s, m)
				}
			}
		}
		t.Logf("%s: %d specs parsed", filepath.Base(filepath.Dir(filepath.Dir(f))), n)
	}
}

// TestParseRealExplicitURLs parses the package URLs of the real @EXPLICIT
// environment files and checks the name, version and build against the
// file name.
func TestParseRealExplicitURLs(t *testing.T) {
	dir := realdata(t, "locks/rattler")
	files, _ := filepath.Glob(filepath.Join(dir, "explicit-envs", "*.txt"))
	more, _ := filepath.Glob(filepath.Join(dir, "python", "*.txt"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no explicit environment files under shared/realdata/locks/rattler")
	}
	n := 0
	for _, f := range files {
		for _, line := range nonCommentLines(t, f) {
			if line == "@EXPLICIT" {
				continue
			}
			n++
			m, err := ParseMatchSpec(line)
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
				continue
			}
			u, _, _ := strings.Cut(line, "#")
			dist := m.Name.String() + "-" + m.Version.String() + "-" + m.Build.String()
			if m.URL != u || !strings.HasPrefix(m.FileName, dist+".") || !strings.HasSuffix(u, "/"+m.FileName) {
				t.Errorf("%s: %q parsed to url %q fn %q dist %q", filepath.Base(f), line, m.URL, m.FileName, dist)
			}
			if m.MD5 == "" && m.SHA256 == "" && strings.Contains(line, "#") {
				t.Errorf("%s: %q lost its hash", filepath.Base(f), line)
			}
			checkSpecRoundTrip(t, line, m)
		}
	}
	t.Logf("%d package URLs parsed", n)
}

// TestParseRealSpecLists parses the real one-spec-per-line environment
// files of micromamba's tests.
func TestParseRealSpecLists(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(realdata(t, "locks/mamba/env_file"), "*.txt"))
	if len(files) == 0 {
		t.Fatal("no spec list under shared/realdata/locks/mamba/env_file")
	}
	n := 0
	for _, f := range files {
		for _, line := range nonCommentLines(t, f) {
			n++
			m, err := ParseMatchSpec(line)
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
				continue
			}
			checkSpecRoundTrip(t, line, m)
		}
	}
	t.Logf("%d specs parsed", n)
}

func BenchmarkParseMatchSpec(b *testing.B) {
	specs := []string{"python", "numpy >=1.21,<2.0a0", "libgcc-ng >=12", "conda-forge/linux-64::numpy==1.26.4=py312h8753938_0",
		"pytorch[version='>=2',build=*cuda*,build_number='>1']"}
	for b.Loop() {
		for _, s := range specs {
			if _, err := ParseMatchSpec(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkMatchSpecMatches(b *testing.B) {
	m, err := ParseMatchSpec("numpy >=1.21,<2.0a0 py312*")
	if err != nil {
		b.Fatal(err)
	}
	r := distRecord(b, "numpy-1.26.4-py312h8753938_0")
	for b.Loop() {
		m.Matches(r)
	}
}
