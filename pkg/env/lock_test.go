package env

import (
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

const (
	md5A    = "d7c89558ba9fa0495403155b64376d81"
	sha256A = "fe51de6107f9edc7aa4f786a70f4a883943bc9d39b3bb7307c04c41410990726"
)

// condaLockDoc is a conda-lock file with one conda and one pip package;
// replace substitutes text in it to make variants.
func condaLockDoc(replace ...string) string {
	doc := `version: 1
metadata:
  channels:
    - url: conda-forge
package:
  - name: openssl
    version: 3.0.8
    manager: conda
    platform: linux-64
    dependencies:
      ca-certificates: "*"
      libgcc-ng: ">=12"
    constrains:
      - pyopenssl >=22
    url: https://conda.anaconda.org/conda-forge/linux-64/openssl-3.0.8-h0b41bf4_0.conda
    hash:
      md5: ` + md5A + `
      sha256: ` + sha256A + `
    category: dev
    optional: true
  - name: requests
    version: 2.31.0
    manager: pip
    platform: linux-64
    url: https://files.example/requests-2.31.0-py3-none-any.whl
    hash:
      sha256: ` + sha256A + `
`
	return strings.NewReplacer(replace...).Replace(doc)
}

func TestParseCondaLock(t *testing.T) {
	l, err := ParseLock("conda-lock.yml", []byte(condaLockDoc()))
	if err != nil {
		t.Fatal(err)
	}
	env := l.Environments[DefaultEnvironment]
	if l.Format != FormatCondaLock || !slices.Equal(env.Channels, []string{"conda-forge"}) {
		t.Fatalf("format %s, channels %q", l.Format, env.Channels)
	}
	pkgs := env.Packages[conda.PlatformLinux64]
	if len(pkgs) != 2 || pkgs[1].Manager != ManagerPip || pkgs[1].Pypi.Name != "requests" || pkgs[1].Pypi.SHA256 != sha256A {
		t.Fatalf("packages %+v", pkgs)
	}
	if got := env.CondaRecords(conda.PlatformLinux64, "main"); len(got) != 0 {
		t.Errorf("main category holds %d records, want none", len(got))
	}
	rs := env.CondaRecords(conda.PlatformLinux64, "dev")
	if len(rs) != 1 || !pkgs[0].Optional {
		t.Fatalf("dev records %+v", rs)
	}
	r := rs[0]
	want := conda.PackageRecord{
		Name: "openssl", Version: conda.MustParseVersion("3.0.8"), Build: "h0b41bf4_0", Subdir: "linux-64",
		FileName: "openssl-3.0.8-h0b41bf4_0.conda",
		URL:      "https://conda.anaconda.org/conda-forge/linux-64/openssl-3.0.8-h0b41bf4_0.conda",
		Channel:  "https://conda.anaconda.org/conda-forge/linux-64",
		MD5:      md5A, SHA256: sha256A,
	}
	if r.Name != want.Name || !r.Version.Equal(want.Version) || r.Build != want.Build || r.Subdir != want.Subdir ||
		r.FileName != want.FileName || r.URL != want.URL || r.Channel != want.Channel || r.MD5 != want.MD5 || r.SHA256 != want.SHA256 {
		t.Errorf("record\n%+v\nwant\n%+v", r, want)
	}
	if !slices.Equal(r.Depends, []string{"ca-certificates", "libgcc-ng >=12"}) || !slices.Equal(r.Constrains, []string{"pyopenssl >=22"}) {
		t.Errorf("depends %q constrains %q", r.Depends, r.Constrains)
	}
}

func TestParseLockErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc, wantErr string
	}{
		{"no hash", condaLockDoc("    hash:\n      md5: "+md5A+"\n      sha256: "+sha256A+"\n", ""), `package 1: openssl: missing "hash" (md5 or sha256)`},
		{"no url", condaLockDoc("    url: https://conda.anaconda.org/conda-forge/linux-64/openssl-3.0.8-h0b41bf4_0.conda\n", ""), `openssl: missing "url"`},
		{"bad manager", condaLockDoc("manager: pip", "manager: npm"), `requests: manager "npm": want conda or pip`},
		{"bad md5", condaLockDoc("md5: "+md5A, "md5: xyz"), `md5 "xyz": want 32 hex digits`},
		{"bad version", condaLockDoc("version: 3.0.8", "version: 3..0"), `parse version "3..0"`},
		{"bad file name", condaLockDoc("openssl-3.0.8-h0b41bf4_0.conda", "openssl.zip"), `not a .conda or .tar.bz2 file`},
		{"no build in file name", condaLockDoc("openssl-3.0.8-h0b41bf4_0.conda", "openssl-3.0.8.conda"), `want name-version-build.conda`},
		{"deps not a list", condaLockDoc("dependencies:\n      ca-certificates: \"*\"\n      libgcc-ng: \">=12\"\n", "dependencies: 3\n"), `dependencies: want a list or a mapping`},
		{"version 0", condaLockDoc("version: 1", "version: 0"), `unsupported version 0 (condabox reads conda-lock versions 1–3, pixi versions 4–7 and mambajs 1.0.x)`},
		{"version text", "version: one\n", `version "one" is not a number`},
		{"version 8", "version: 8\n", `unsupported version 8`},
		{"yaml", "version: [", `parse lock file "lock.yml": yaml:`},
		{"pixi unknown ref", "version: 6\nenvironments:\n  default:\n    packages:\n      linux-64:\n        - conda: https://c.example/linux-64/a-1-0.conda\npackages: []\n",
			`environment "default", linux-64: conda package "https://c.example/linux-64/a-1-0.conda" is not in the packages list`},
		{"pixi source ref", "version: 7\nenvironments:\n  default:\n    packages:\n      linux-64:\n        - conda_source: a[1] @ .\npackages: []\n",
			`"a[1] @ ." is a source package`},
		{"pixi no location", "version: 6\npackages:\n  - name: a\n", `package 1: want a conda: or pypi: location`},
		{"pixi bad sha256", "version: 6\npackages:\n  - conda: https://c.example/noarch/a-1-0.conda\n    sha256: abc\n", `sha256 "abc": want 64 hex digits`},
		{"pixi bad track_features", "version: 6\npackages:\n  - conda: https://c.example/noarch/a-1-0.conda\n    track_features: {a: b}\n", `track_features: want a string or a list`},
		{"mambajs syntax", "{\n  \"lockVersion\": \"1.0.0\",\n  x\n}", `line 3, column 3: invalid character 'x'`},
		{"mambajs no platform", `{"lockVersion": "1.0.1"}`, `missing "platform"`},
		{"mambajs channel", `{"lockVersion": "1.0.1", "platform": "linux-64", "channels": ["a"], "channelInfo": {}}`, `channel "a" has no URL in channelInfo`},
		{"mambajs extra channel", `{"lockVersion": "1.0.1", "platform": "linux-64", "channels": [], "channelInfo": {"b": [{"url": "https://b"}]}}`, `channel "b" of channelInfo is not in channels`},
		{"mambajs package", `{"lockVersion": "1.0.1", "platform": "linux-64", "channels": ["a"], "channelInfo": {"a": [{"url": "https://a"}]},
			"packages": {"x-1-0.conda": {"name": "x", "version": "1", "build": "0", "subdir": "linux-64"}}}`, `package "x-1-0.conda": missing "channel"`},
		{"mambajs empty hash", `{"lockVersion": "1.0.1", "platform": "linux-64", "channels": ["a"], "channelInfo": {"a": [{"url": "https://a"}]},
			"packages": {"x-1-0.conda": {"name": "x", "version": "1", "build": "0", "subdir": "linux-64", "channel": "a", "hash": {}}}}`, `hash: want md5 or sha256`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLock("lock.yml", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `"lock.yml"`) {
				t.Fatalf("error %v\nwant one naming lock.yml with %q", err, tc.wantErr)
			}
		})
	}
}

func TestParsePixiLock(t *testing.T) {
	doc := `version: 6
environments:
  default:
    channels:
      - url: https://conda.anaconda.org/conda-forge/
    packages:
      linux-64:
        - conda: https://conda.anaconda.org/conda-forge/linux-64/python-3.12.1-h_0_cpython.conda
        - conda: https://conda.anaconda.org/conda-forge/noarch/tzdata-2024a-h0.conda
        - pypi: https://files.example/idna-3.7-py3-none-any.whl
packages:
  - conda: https://conda.anaconda.org/conda-forge/linux-64/python-3.12.1-h_0_cpython.conda
    build_number: 7
    depends: [tzdata]
    constrains: [python_abi 3.12.* *_cp312]
    track_features: mkl debug
    md5: ` + md5A + `
    sha256: ` + strings.ToUpper(sha256A) + `
  - conda: https://conda.anaconda.org/conda-forge/noarch/tzdata-2024a-h0.conda
    name: tzdata
    noarch: generic
  - pypi: https://files.example/idna-3.7-py3-none-any.whl
    name: idna
    version: "3.7"
`
	l, err := ParseLock("pixi.lock", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	env := l.Environments[DefaultEnvironment]
	rs := env.CondaRecords(conda.PlatformLinux64)
	if l.Format != FormatPixi || l.Version != "6" || len(rs) != 2 || len(env.Packages[conda.PlatformLinux64]) != 3 {
		t.Fatalf("lock %+v, records %+v", l, rs)
	}
	py, tz := rs[0], rs[1]
	if py.Name != "python" || py.Version.String() != "3.12.1" || py.Build != "h_0_cpython" || py.BuildNumber != 7 ||
		!slices.Equal(py.Depends, []string{"tzdata"}) || !slices.Equal(py.Constrains, []string{"python_abi 3.12.* *_cp312"}) ||
		!slices.Equal(py.TrackFeatures, conda.FeatureList{"mkl", "debug"}) || py.SHA256 != sha256A {
		t.Errorf("python %+v", py)
	}
	if tz.Subdir != "noarch" || tz.Noarch != conda.NoarchGeneric || tz.Channel != "https://conda.anaconda.org/conda-forge/noarch" {
		t.Errorf("tzdata %+v", tz)
	}
}

func TestParseExplicit(t *testing.T) {
	const url = "https://conda.anaconda.org/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2"
	for _, tc := range []struct {
		name, doc   string
		md5, sha256 string
		platform    conda.Platform
		records     int
		wantErr     string
	}{
		{"md5", "# platform: linux-64\n@EXPLICIT\n" + url + "#" + md5A + "\n", md5A, "", "linux-64", 1, ""},
		{"sha256", "@EXPLICIT\r\n" + url + "#sha256:" + sha256A + "\r\n", "", sha256A, "", 1, ""},
		{"no digest", "@EXPLICIT\n\n# comment\n" + url + "\n", "", "", "", 1, ""},
		{"empty", "@EXPLICIT\n", "", "", "", 0, ""},
		{"no marker", url + "\n", "", "", "", 0, `line 1: "` + url + `" before the @EXPLICIT line`},
		{"marker missing", "# only comments\n", "", "", "", 0, `no @EXPLICIT line`},
		{"bad md5", "@EXPLICIT\n" + url + "#123\n", "", "", "", 0, `line 2: package URL "` + url + `": md5 "123": want 32 hex digits`},
		{"spec not URL", "@EXPLICIT\nnumpy >=1.2\n", "", "", "", 0, `line 2: package URL "numpy >=1.2": no folder before the file name`},
		{"bad file", "@EXPLICIT\nhttps://x.example/linux-64/numpy.whl\n", "", "", "", 0, `not a .conda or .tar.bz2 file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, err := ParseExplicit("env.txt", []byte(tc.doc))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `"env.txt"`) {
					t.Fatalf("error %v\nwant one naming env.txt with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ex.Platform != tc.platform || len(ex.Records) != tc.records {
				t.Fatalf("platform %q, %d records", ex.Platform, len(ex.Records))
			}
			if tc.records == 0 {
				return
			}
			r := ex.Records[0]
			if r.URL != url || r.Name != "_libgcc_mutex" || r.Version.String() != "0.1" || r.Build != "conda_forge" ||
				r.Subdir != "linux-64" || r.MD5 != tc.md5 || r.SHA256 != tc.sha256 {
				t.Errorf("record %+v", r)
			}
		})
	}
}

func TestSplitFileName(t *testing.T) {
	for _, tc := range []struct{ fn, name, version, build, wantErr string }{
		{"ld_impl_linux-64-2.40-h41732ed_0.conda", "ld_impl_linux-64", "2.40", "h41732ed_0", ""},
		{"a-1-0.tar.bz2", "a", "1", "0", ""},
		{"a-1-.conda", "", "", "", "want name-version-build.conda"},
		{"-1-0.conda", "", "", "", "want name-version-build.conda"},
		{"a--0.conda", "", "", "", "want name-version-build.conda"},
		{"a-1-0.tar.gz", "", "", "", "not a .conda or .tar.bz2 file"},
	} {
		name, version, build, err := splitFileName(tc.fn)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want %q", tc.fn, err, tc.wantErr)
			}
			continue
		}
		if err != nil || name != tc.name || version != tc.version || build != tc.build {
			t.Errorf("%s: %q %q %q %v", tc.fn, name, version, build, err)
		}
	}
}

func TestCondaRecordsOnceAcrossCategories(t *testing.T) {
	pkg := strings.SplitN(condaLockDoc(), "  - name: requests", 2)[0]
	pkg = pkg[strings.Index(pkg, "  - name: openssl"):]
	doc := "version: 1\npackage:\n" + pkg + strings.Replace(pkg, "category: dev", "category: test", 1)
	l, err := ParseLock("lock.yml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	env := l.Environments[DefaultEnvironment]
	if n := len(env.Packages[conda.PlatformLinux64]); n != 2 {
		t.Fatalf("%d packages, want the two entries", n)
	}
	for _, tc := range []struct {
		categories []string
		want       int
	}{{nil, 1}, {[]string{"dev"}, 1}, {[]string{"test", "dev"}, 1}, {[]string{"main"}, 0}} {
		if got := len(env.CondaRecords(conda.PlatformLinux64, tc.categories...)); got != tc.want {
			t.Errorf("categories %q: %d records, want %d", tc.categories, got, tc.want)
		}
	}
}
