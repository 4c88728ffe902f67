package env

import (
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// checkRecords checks what every record a parser returns must hold,
// whatever the input.
func checkRecords(t *testing.T, rs []conda.PackageRecord) {
	t.Helper()
	for _, r := range rs {
		if r.Name == "" || r.FileName == "" || !strings.HasSuffix(r.URL, "/"+r.FileName) {
			t.Fatalf("record without name or file: %+v", r)
		}
		if _, err := conda.ParseVersion(r.Version.String()); err != nil {
			t.Fatalf("record version %q does not parse: %v", r.Version, err)
		}
		if !hexDigits.MatchString(r.MD5) || !hexDigits.MatchString(r.SHA256) {
			t.Fatalf("digests not lower-case hex: %q %q", r.MD5, r.SHA256)
		}
	}
}

func checkLock(t *testing.T, l *Lock) {
	t.Helper()
	for _, env := range l.Environments {
		for p := range env.Packages {
			checkRecords(t, env.CondaRecords(p))
		}
	}
}

func FuzzParseEnvironmentFile(f *testing.F) {
	for _, seed := range []string{
		"name: a\nchannels: [conda-forge]\ndependencies:\n  - python >=3.11\n  - pip:\n    - requests\n  - sel(linux): patchelf\nvariables:\n  A: 1\n",
		"dependencies:\n  - conda-forge::numpy[version='>=1.2',build=py*]\n",
		"dependencies: [{pip: x}]\n",
		"prefix: /opt\nplatforms: [linux-64]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEnvironmentFile("env.yml", data)
		if err != nil {
			if !strings.Contains(err.Error(), `"env.yml"`) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, d := range e.Dependencies {
			again, err := conda.ParseMatchSpec(d.Spec.String())
			if err != nil || !again.Equal(d.Spec) {
				t.Fatalf("spec %q does not survive printing: %v", d.Spec, err)
			}
			if _, ok := selectors[d.Selector]; d.Selector != "" && !ok {
				t.Fatalf("unknown selector %q kept", d.Selector)
			}
		}
	})
}

func FuzzParseCondaLock(f *testing.F) {
	f.Add([]byte(condaLockDoc()))
	f.Add([]byte("package:\n  - {name: a, version: '1', manager: conda, platform: linux-64, url: 'https://x/noarch/a-1-0.conda', hash: {md5: " + md5A + "}, dependencies: [b]}\n"))
	f.Add([]byte(`{"lockVersion": "1.0.1", "platform": "linux-64", "channels": ["a"], "channelInfo": {"a": [{"url": "https://a"}]},
		"packages": {"x-1-0.conda": {"name": "x", "version": "1", "build": "0", "subdir": "linux-64", "channel": "a", "hash": {"md5": "` + md5A + `"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// ParseLock picks conda-lock or mambajs by content, as callers do.
		l, err := ParseLock("lock.yml", data)
		if err != nil {
			return
		}
		checkLock(t, l)
	})
}

func FuzzParsePixiLock(f *testing.F) {
	f.Add([]byte("version: 6\nenvironments:\n  default:\n    channels: [{url: conda-forge}]\n    packages:\n      linux-64:\n        - conda: https://c/linux-64/a-1-0.conda\n        - pypi: https://p/b.whl\npackages:\n  - conda: https://c/linux-64/a-1-0.conda\n    depends: [b >=1]\n    md5: " + md5A + "\n  - pypi: https://p/b.whl\n    name: b\n"))
	f.Add([]byte("version: 4\nenvironments:\n  default:\n    packages:\n      osx-64:\n        - conda: https://c/noarch/a-1-0.tar.bz2\npackages:\n  - kind: conda\n    name: a\n    version: '1'\n    build: '0'\n    subdir: osx-64\n    url: https://c/noarch/a-1-0.tar.bz2\n    track_features: [x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParsePixiLock("pixi.lock", data)
		if err != nil {
			if !strings.Contains(err.Error(), `"pixi.lock"`) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkLock(t, l)
	})
}

func FuzzParseExplicit(f *testing.F) {
	f.Add([]byte("# platform: linux-64\n@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2#" + md5A + "\n"))
	f.Add([]byte("@EXPLICIT\nfile:///opt/chan/noarch/a-1-0.conda#sha256:" + sha256A + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, err := ParseExplicit("env.txt", data)
		if err != nil {
			if !strings.Contains(err.Error(), `"env.txt"`) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkRecords(t, ex.Records)
	})
}
