package env

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/solve"
)

// The package's golden tests share one -update flag; whichever test file
// is initialised first defines it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata")
	}
}

func specs(t *testing.T, ss ...string) []conda.MatchSpec {
	t.Helper()
	var out []conda.MatchSpec
	for _, s := range ss {
		m, err := conda.ParseMatchSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestContentHash(t *testing.T) {
	hash := func(channels []string, ss ...string) string {
		t.Helper()
		h, err := ContentHash(channels, specs(t, ss...))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	forge := []string{"conda-forge"}
	// The JSON conda-lock hashes (rattler's test-data/conda-lock/content_hash/python.txt).
	want := `{"channels": [{"url": "conda-forge", "used_env_vars": []}], "specs": [{"build": null, "category": "main", "conda_channel": null, "extras": [], "manager": "conda", "name": "python", "optional": false, "selectors": {"platform": null}, "version": "3.11.0.*"}]}`
	if got, err := contentHashJSON(forge, specs(t, "python =3.11.0")); err != nil || string(got) != want {
		t.Errorf("content JSON = %s (err %v), want %s", got, err, want)
	}
	want = `{"channels": [], "specs": [{"build": "py*", "category": "main", "conda_channel": "conda-forge", "extras": [], "manager": "conda", "name": "numpy", "optional": false, "selectors": {"platform": null}, "version": ""}]}`
	if got, err := contentHashJSON(nil, specs(t, "conda-forge::numpy[build=py*]")); err != nil || string(got) != want {
		t.Errorf("content JSON = %s (err %v), want %s", got, err, want)
	}
	// The hash rattler reproduces from conda-lock's (without conda-lock's
	// virtual packages), for python =3.11.0 from conda-forge.
	if got, want := hash(forge, "python =3.11.0"), "66c2193c7a9f1172bbd93eaf49119bd478d1408da018b2944974bbc8d85a6a50"; got != want {
		t.Errorf("content hash of python =3.11.0 = %s, want %s", got, want)
	}
	base := hash(forge, "numpy >=1.26", "python 3.12.*")
	for _, tc := range []struct {
		name     string
		channels []string
		specs    []string
		same     bool
	}{
		{"specs in another order", forge, []string{"python 3.12.*", "numpy >=1.26"}, true},
		{"a version changed", forge, []string{"numpy >=1.27", "python 3.12.*"}, false},
		{"a spec added", forge, []string{"numpy >=1.26", "python 3.12.*", "pip"}, false},
		{"a build pinned", forge, []string{"numpy >=1.26 *openblas*", "python 3.12.*"}, false},
		{"a channel pinned", forge, []string{"conda-forge::numpy >=1.26", "python 3.12.*"}, false},
		{"another channel", []string{"bioconda"}, []string{"numpy >=1.26", "python 3.12.*"}, false},
		{"a second channel", []string{"conda-forge", "bioconda"}, []string{"numpy >=1.26", "python 3.12.*"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hash(tc.channels, tc.specs...); (got == base) != tc.same {
				t.Errorf("hash %s, base %s: want same = %v", got, base, tc.same)
			}
		})
	}
}

func TestPythonJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":[1,2],"b":{"c":null}}`, `{"a": [1, 2], "b": {"c": null}}`},
		{`{"s":"x, y: z"}`, `{"s": "x, y: z"}`},
		{`{"s":"q\"uote, \\"}`, `{"s": "q\"uote, \\"}`},
		{`{"s":"é😀"}`, `{"s": "\u00e9\ud83d\ude00"}`},
	} {
		if got := string(pythonJSON([]byte(tc.in))); got != tc.want {
			t.Errorf("pythonJSON(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAddDependency(t *testing.T) {
	for _, tc := range []struct {
		deps    []string
		want    map[string]string
		wantErr string
	}{
		{deps: []string{"python >=3.8", "libgcc-ng >=12", "_libgcc_mutex 0.1 conda_forge", "tzdata"},
			want: map[string]string{"python": ">=3.8", "libgcc-ng": ">=12", "_libgcc_mutex": "0.1 conda_forge", "tzdata": ""}},
		{deps: []string{"python>=3.8"}, want: map[string]string{"python": ">=3.8"}},
		{deps: []string{"python >=3.8", "python <4"}, want: map[string]string{"python": ">=3.8,<4"}},
		{deps: []string{"python", "python >=3.8"}, want: map[string]string{"python": ">=3.8"}},
		{deps: []string{"python >=3.8", "python"}, want: map[string]string{"python": ">=3.8"}},
		{deps: []string{"a 1 b0", "a 2 b1"}, wantErr: `"a 2 b1": a is constrained twice ("1 b0")`},
		{deps: []string{"b 0=0", "b 00"}, wantErr: `b is constrained twice ("0=0")`},
		{deps: []string{"b >=2|<1", "b <3"}, wantErr: `b is constrained twice (">=2|<1")`},
		{deps: []string{"b >=1", "b <2", "b !=1.5"}, want: map[string]string{"b": ">=1,<2,!=1.5"}},
		{deps: []string{"conda-forge::a >=1"}, wantErr: "the name does not lead the spec"},
		{deps: []string{"a >=1,,"}, wantErr: `dependency "a >=1,,"`},
	} {
		t.Run(strings.Join(tc.deps, "|"), func(t *testing.T) {
			got := map[string]string{}
			var err error
			for _, d := range tc.deps {
				if err = addDependency(got, d); err != nil {
					break
				}
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !mapsEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// lockRecord makes a channel record with digests derived from its file name.
func lockRecord(subdir, name, version, build string, depends ...string) conda.PackageRecord {
	fn := name + "-" + version + "-" + build + ".conda"
	m, s := md5.Sum([]byte(fn)), sha256.Sum256([]byte(fn))
	return conda.PackageRecord{
		Name: name, Version: conda.MustParseVersion(version), Build: build, Subdir: subdir,
		Depends: depends, FileName: fn, MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:]),
	}
}

// lockChannel writes a channel where python's newest linux-64 build needs
// a glibc newer than the default linux-64 __glibc (2.28) but not newer than
// this machine's (Debian 12: 2.36), only linux-64 has zlib, and noarch
// packages depend on python.
func lockChannel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	recs := []conda.PackageRecord{
		lockRecord("linux-64", "python", "3.11.9", "h_0", "__glibc >=2.17", "zlib >=1.2,<2"),
		lockRecord("linux-64", "python", "3.12.1", "h_0", "__glibc >=2.30"),
		lockRecord("linux-64", "zlib", "1.3.1", "h_0"),
		lockRecord("linux-aarch64", "python", "3.12.1", "h_0", "__glibc >=2.17"),
		lockRecord("noarch", "urllib3", "2.0.7", "pyh_0", "python >=3.8"),
		lockRecord("noarch", "requests", "2.31.0", "pyh_0", "python >=3.8", "urllib3 >=1.21,<3"),
	}
	if err := index.WriteChannel(dir, recs, index.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// lockSetup isolates the configuration and writes env.yml with body into a
// work folder; it returns a request for it.
func lockSetup(t *testing.T, body string) LockRequest {
	t.Helper()
	home, work := t.TempDir(), t.TempDir()
	vars := map[string]string{"HOME": home, "CONDA_PKGS_DIRS": filepath.Join(home, "pkgs")}
	if err := os.WriteFile(filepath.Join(work, "env.yml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return LockRequest{
		Files:     []string{filepath.Join(work, "env.yml")},
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		WorkDir:   work,
		Lockfile:  filepath.Join(work, "conda-lock.yml"),
	}
}

func envYAML(channel string, platforms []string, deps ...string) string {
	var b strings.Builder
	b.WriteString("channels:\n  - file://" + channel + "\ndependencies:\n")
	for _, d := range deps {
		b.WriteString("  - " + d + "\n")
	}
	if len(platforms) > 0 {
		b.WriteString("platforms:\n")
		for _, p := range platforms {
			b.WriteString("  - " + p + "\n")
		}
	}
	return b.String()
}

// lockKey is what a conda-lock v1 entry keeps of a record. Dependencies
// are compared as conda-lock's mapping holds them (a name's constraints
// joined, TestAddDependency checks how) and by meaning ("numpy *" is
// "numpy").
func lockKey(r conda.PackageRecord) string {
	mapping := map[string]string{}
	for _, d := range r.Depends {
		if err := addDependency(mapping, d); err != nil {
			return "unwritable: " + err.Error()
		}
	}
	var deps []string
	for name, spec := range mapping {
		d := strings.TrimSpace(name + " " + spec)
		if m, err := conda.ParseMatchSpec(d); err == nil {
			d = m.String()
		}
		deps = append(deps, d)
	}
	slices.Sort(deps)
	return strings.Join([]string{r.Name, r.Version.String(), r.Build, r.Subdir, r.URL, r.Channel, r.MD5, r.SHA256, strings.Join(deps, ";")}, " | ")
}

func lockKeys(rs []conda.PackageRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = lockKey(r)
	}
	slices.Sort(out)
	return out
}

func TestSolveLockRoundTrip(t *testing.T) {
	ch := lockChannel(t)
	req := lockSetup(t, envYAML(ch, []string{"linux-64", "linux-aarch64"}, "requests"))
	lock, err := SolveLock(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if want := []conda.Platform{"linux-64", "linux-aarch64"}; !slices.Equal(lock.Metadata.Platforms, want) {
		t.Errorf("platforms %v, want %v (the file's)", lock.Metadata.Platforms, want)
	}
	if want := []string{"env.yml"}; !slices.Equal(lock.Metadata.Sources, want) {
		t.Errorf("sources %v, want %v (relative to the lock file)", lock.Metadata.Sources, want)
	}
	wantNames := map[conda.Platform][]string{
		// The default linux-64 __glibc, not the machine's, decides.
		"linux-64":      {"python 3.11.9", "requests 2.31.0", "urllib3 2.0.7", "zlib 1.3.1"},
		"linux-aarch64": {"python 3.12.1", "requests 2.31.0", "urllib3 2.0.7"},
	}
	data, err := MarshalCondaLock(lock, "conda-lock.yml")
	if err != nil {
		t.Fatal(err)
	}
	again, err := MarshalCondaLock(lock, "conda-lock.yml")
	if err != nil || !bytes.Equal(data, again) {
		t.Fatalf("two writes of one lock differ (err %v)", err)
	}
	parsed, err := ParseLock("conda-lock.yml", data)
	if err != nil {
		t.Fatalf("ParseLock of the written file: %v\n%s", err, data)
	}
	penv := parsed.Environments[DefaultEnvironment]
	for p, want := range wantNames {
		var names []string
		var solved []conda.PackageRecord
		for _, pkg := range lock.Environment.Packages[p] {
			names = append(names, pkg.Conda.Name+" "+pkg.Conda.Version.String())
			solved = append(solved, pkg.Conda)
		}
		slices.Sort(names)
		if !slices.Equal(names, want) {
			t.Errorf("%s: locked %v, want %v", p, names, want)
		}
		if got, want := lockKeys(penv.CondaRecords(p)), lockKeys(solved); !slices.Equal(got, want) {
			t.Errorf("%s: records read back:\n%s\nwant:\n%s", p, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if !slices.Equal(penv.Channels, []string{"file://" + ch}) {
		t.Errorf("channels read back %v, want the file's", penv.Channels)
	}
	// The same inputs solve to the same bytes.
	lock2, err := SolveLock(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if data2, _ := MarshalCondaLock(lock2, "conda-lock.yml"); !bytes.Equal(data, data2) {
		t.Errorf("two locks of the same inputs differ:\n%s\n---\n%s", data, data2)
	}
}

func TestSolveLockPlatforms(t *testing.T) {
	ch := lockChannel(t)
	for _, tc := range []struct {
		name      string
		file      []string
		flags     []string
		subdir    string
		want      []conda.Platform
		wantErr   string
		wantUnsat bool
	}{
		{name: "flags win over the file", file: []string{"linux-64"}, flags: []string{"linux-aarch64"}, want: []conda.Platform{"linux-aarch64"}},
		{name: "CONDA_SUBDIR without either", subdir: "linux-aarch64", want: []conda.Platform{"linux-aarch64"}},
		{name: "repeated flags once", flags: []string{"linux-64", "linux-64"}, want: []conda.Platform{"linux-64"}},
		{name: "noarch", flags: []string{"noarch"}, wantErr: "not noarch"},
		{name: "unknown platform", flags: []string{"linux-65"}, wantErr: "linux-65"},
		// zlib exists for linux-64 only.
		{name: "unsatisfiable on one platform", flags: []string{"linux-64", "linux-aarch64"}, wantErr: "lock for linux-aarch64", wantUnsat: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deps := []string{"python"}
			if tc.wantUnsat {
				deps = append(deps, "zlib")
			}
			req := lockSetup(t, envYAML(ch, tc.file, deps...))
			req.Platforms = tc.flags
			if tc.subdir != "" {
				lookup := req.LookupEnv
				req.LookupEnv = func(k string) (string, bool) {
					if k == "CONDA_SUBDIR" {
						return tc.subdir, true
					}
					return lookup(k)
				}
			}
			lock, err := SolveLock(t.Context(), req)
			if tc.wantErr != "" {
				var unsat *solve.UnsatisfiableError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || errors.As(err, &unsat) != tc.wantUnsat {
					t.Fatalf("error %v, want one containing %q (unsatisfiable: %v)", err, tc.wantErr, tc.wantUnsat)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(lock.Metadata.Platforms, tc.want) {
				t.Errorf("platforms %v, want %v", lock.Metadata.Platforms, tc.want)
			}
		})
	}
}

func TestCheckLock(t *testing.T) {
	ch := lockChannel(t)
	req := lockSetup(t, envYAML(ch, []string{"linux-64", "linux-aarch64"}, "requests"))
	lock, err := SolveLock(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := MarshalCondaLock(lock, "conda-lock.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		env       string
		platforms []string
		channels  []string
		stale     string
	}{
		{name: "unchanged", env: envYAML(ch, []string{"linux-64", "linux-aarch64"}, "requests")},
		{name: "platforms: key dropped (the lock's are checked)", env: envYAML(ch, nil, "requests")},
		{name: "comment and order changes only", env: "# pinned\n" + envYAML(ch, []string{"linux-aarch64", "linux-64"}, "requests")},
		{name: "spec changed", env: envYAML(ch, []string{"linux-64", "linux-aarch64"}, "requests >=2.31"), stale: "linux-64 was locked from other inputs"},
		{name: "spec added", env: envYAML(ch, []string{"linux-64", "linux-aarch64"}, "requests", "urllib3"), stale: "linux-aarch64 was locked"},
		{name: "selector adds a spec on one platform", env: envYAML(ch, nil, "requests", "sel(osx): zlib"), platforms: []string{"osx-64"}, stale: "osx-64 is not locked"},
		{name: "a channel added", env: envYAML(ch, nil, "requests"), channels: []string{"file:///other"}, stale: "linux-64 was locked"},
		{name: "a platform dropped", env: envYAML(ch, []string{"linux-64"}, "requests"), stale: "linux-aarch64 is locked but no longer asked for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(req.Files[0], []byte(tc.env), 0o644); err != nil {
				t.Fatal(err)
			}
			r := req
			r.Platforms, r.Channels = tc.platforms, tc.channels
			byContent, err := CheckLock(t.Context(), r, "conda-lock.yml", data)
			if len(byContent) != 0 {
				t.Errorf("condabox's own lock checked by content for %v", byContent)
			}
			if tc.stale == "" {
				if err != nil {
					t.Fatalf("CheckLock: %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrStaleLock) || !strings.Contains(err.Error(), tc.stale) || !strings.Contains(err.Error(), "conda-lock.yml") {
				t.Fatalf("CheckLock: %v, want ErrStaleLock naming conda-lock.yml and containing %q", err, tc.stale)
			}
		})
	}
}

// TestCheckLockByContent: a lock condabox did not write (here its own
// with the header gone and conda-lock-like hashes, which cover virtual
// packages condabox does not hash) is checked by content where the hashes
// differ.
func TestCheckLockByContent(t *testing.T) {
	ch := lockChannel(t)
	req := lockSetup(t, envYAML(ch, []string{"linux-64", "linux-aarch64"}, "requests"))
	lock, err := SolveLock(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	// Written by another tool: conda-lock's header, hashes condabox does
	// not compute.
	foreign := func(l *CondaLockFile) []byte {
		t.Helper()
		for p := range l.Metadata.ContentHash {
			l.Metadata.ContentHash[p] = strings.Repeat("ab", 32)
		}
		data, err := MarshalCondaLock(l, "conda-lock.yml")
		if err != nil {
			t.Fatal(err)
		}
		_, body, _ := bytes.Cut(data, []byte("\nversion: 1\n"))
		return append([]byte("# This lock file was generated by conda-lock. DO NOT EDIT!\nversion: 1\n"), body...)
	}
	// The same lock without zlib on linux-64, which python 3.11.9 needs
	// there (the solve picks it when python is asked for as =3.11).
	req311 := lockSetup(t, envYAML(ch, []string{"linux-64"}, "python =3.11"))
	lock311, err := SolveLock(t.Context(), req311)
	if err != nil {
		t.Fatal(err)
	}
	lock311.Environment.Packages["linux-64"] = slices.DeleteFunc(lock311.Environment.Packages["linux-64"], func(p LockedPackage) bool { return p.Conda.Name == "zlib" })
	noZlib := foreign(lock311)
	other := foreign(lock)
	// condabox's own header with those hashes: checked by hash only.
	ours, err := MarshalCondaLock(lock, "conda-lock.yml")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		data      []byte
		env       string
		byContent []conda.Platform
		stale     string
	}{
		{name: "same inputs", data: other, env: envYAML(ch, []string{"linux-64", "linux-aarch64"}, "requests"), byContent: []conda.Platform{"linux-64", "linux-aarch64"}},
		{name: "a spec the lock still satisfies", data: other, env: envYAML(ch, nil, "requests >=2.30", "urllib3"), byContent: []conda.Platform{"linux-64", "linux-aarch64"}},
		{name: "a spec the lock does not satisfy", data: other, env: envYAML(ch, nil, "requests >=2.32"), stale: "linux-64: requests[version='>=2.32'] (locked: 2.31.0)"},
		{name: "a spec not locked", data: other, env: envYAML(ch, nil, "requests", "zlib"), stale: "linux-aarch64: zlib is not locked"},
		{name: "a dependency missing", data: noZlib, env: envYAML(ch, nil, "python =3.11"), stale: "linux-64: zlib >=1.2,<2 (needed by python-3.11.9-h_0)"},
		{name: "condabox's own lock is checked by hash only", data: ours, env: envYAML(ch, nil, "requests"), stale: "linux-64 was locked from other inputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(req.Files[0], []byte(tc.env), 0o644); err != nil {
				t.Fatal(err)
			}
			byContent, err := CheckLock(t.Context(), req, "conda-lock.yml", tc.data)
			if tc.stale == "" {
				if err != nil || !slices.Equal(byContent, tc.byContent) {
					t.Fatalf("CheckLock: %v, %v; want %v checked by content", byContent, err, tc.byContent)
				}
				return
			}
			if !errors.Is(err, ErrStaleLock) || !strings.Contains(err.Error(), tc.stale) {
				t.Fatalf("CheckLock: %v, want ErrStaleLock containing %q", err, tc.stale)
			}
		})
	}
}

// TestCheckLockRealCondaLock checks a lock conda-lock wrote for python on
// conda-forge (six platforms) against the inputs it was made from.
func TestCheckLockRealCondaLock(t *testing.T) {
	data, err := os.ReadFile(testchannel.RealData(t, "locks", "rattler", "conda-lock", "v0", "python-conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	req := lockSetup(t, "channels: [conda-forge]\ndependencies: [python]\n")
	byContent, err := CheckLock(t.Context(), req, "python-conda-lock.yml", data)
	if err != nil || len(byContent) != 6 {
		t.Fatalf("CheckLock: %v checked by content, %v; want the six platforms up to date", byContent, err)
	}
	if err := os.WriteFile(req.Files[0], []byte("channels: [conda-forge]\ndependencies: [python >=3.99]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckLock(t.Context(), req, "python-conda-lock.yml", data); !errors.Is(err, ErrStaleLock) || !strings.Contains(err.Error(), "win-64: python[version='>=3.99'] (locked: 3.11.0)") {
		t.Fatalf("CheckLock with python >=3.99: %v, want it stale", err)
	}
}

func TestLockRejectsLockFiles(t *testing.T) {
	req := lockSetup(t, "")
	lockFile := filepath.Join(req.WorkDir, "old-lock.yml")
	if err := os.WriteFile(lockFile, []byte(condaLockDoc()), 0o644); err != nil {
		t.Fatal(err)
	}
	req.Files = []string{lockFile}
	if _, err := SolveLock(t.Context(), req); err == nil || !strings.Contains(err.Error(), lockFile) || !strings.Contains(err.Error(), "already locked") {
		t.Fatalf("SolveLock of a lock file: %v, want an error naming it", err)
	}
}

// goldenLock is a fixed lock: two platforms, a noarch package on both, a
// package in two categories, a pip package and a version YAML would read as
// a number.
func goldenLock() *CondaLockFile {
	mutex := lockRecord("linux-64", "_libgcc_mutex", "0.1", "conda_forge")
	python := lockRecord("linux-64", "python", "3.12.1", "h_0", "zlib >=1.3,<2", "_libgcc_mutex 0.1 conda_forge", "tzdata")
	pythonArm := lockRecord("linux-aarch64", "python", "3.12.1", "h_0", "tzdata")
	tzdata := lockRecord("noarch", "tzdata", "2024a", "h_0")
	zlib := lockRecord("linux-64", "zlib", "1.3.1", "h_0")
	for _, r := range []*conda.PackageRecord{&mutex, &python, &pythonArm, &tzdata, &zlib} {
		r.Channel = "https://conda.anaconda.org/conda-forge/" + r.Subdir
		r.URL = r.Channel + "/" + r.FileName
	}
	locked := func(r conda.PackageRecord, category string) LockedPackage {
		return LockedPackage{Manager: ManagerConda, Category: category, Optional: category != "main", Conda: r}
	}
	return &CondaLockFile{
		Metadata: LockMetadata{
			ContentHash: map[conda.Platform]string{"linux-aarch64": strings.Repeat("b", 64), "linux-64": strings.Repeat("a", 64)},
			Platforms:   []conda.Platform{"linux-64", "linux-aarch64"},
			Sources:     []string{"environment.yml"},
		},
		Environment: &LockedEnvironment{
			Channels: []string{"conda-forge"},
			Packages: map[conda.Platform][]LockedPackage{
				"linux-64": {locked(zlib, "main"), locked(python, "main"), locked(tzdata, "main"), locked(tzdata, "dev"), locked(mutex, "main"),
					{Manager: ManagerPip, Category: "main", Pypi: PypiPackage{Name: "six", Version: "1.16.0",
						Location: "https://files.pythonhosted.org/packages/six-1.16.0-py2.py3-none-any.whl", SHA256: strings.Repeat("c", 64)}}},
				"linux-aarch64": {locked(tzdata, "main"), locked(pythonArm, "main")},
			},
		},
	}
}

func TestMarshalCondaLockGolden(t *testing.T) {
	got, err := MarshalCondaLock(goldenLock(), "conda-lock.yml")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "lockwrite", "conda-lock.yml")
	if flag.Lookup("update").Value.String() == "true" {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestMarshalCondaLockGolden -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("MarshalCondaLock differs from %s (-update rewrites it):\n%s", golden, got)
	}
	// The golden file reads back into the records it was written from.
	parsed, err := ParseLock(golden, want)
	if err != nil {
		t.Fatal(err)
	}
	for p, pkgs := range goldenLock().Environment.Packages {
		var recs []conda.PackageRecord
		for _, pkg := range pkgs {
			if pkg.Manager == ManagerConda && pkg.Category == "main" {
				recs = append(recs, pkg.Conda)
			}
		}
		if got, want := lockKeys(parsed.Environments[DefaultEnvironment].CondaRecords(p, "main")), lockKeys(recs); !slices.Equal(got, want) {
			t.Errorf("%s: read back\n%s\nwant\n%s", p, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestMarshalCondaLockErrors(t *testing.T) {
	noMD5 := lockRecord("linux-64", "a", "1", "0")
	noMD5.MD5 = ""
	badDep := lockRecord("linux-64", "b", "1", "0", "c 1 x", "c 2 y")
	for _, tc := range []struct {
		name string
		pkg  LockedPackage
		want string
	}{
		{"no md5", LockedPackage{Manager: ManagerConda, Conda: noMD5}, "linux-64: package a-1-0.conda: no md5 checksum"},
		{"dependency a mapping cannot hold", LockedPackage{Manager: ManagerConda, Conda: badDep}, "package b-1-0.conda: dependency \"c 2 y\""},
		{"unknown manager", LockedPackage{Manager: "npm", Pypi: PypiPackage{Name: "left-pad"}}, `manager "npm"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &CondaLockFile{Environment: &LockedEnvironment{Packages: map[conda.Platform][]LockedPackage{"linux-64": {tc.pkg}}}}
			_, err := MarshalCondaLock(l, "x-lock.yml")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x-lock.yml") {
				t.Fatalf("error %v, want one naming x-lock.yml and containing %q", err, tc.want)
			}
		})
	}
}

// TestRealCondaLocksRoundTrip writes every real conda-lock file read and
// reads it back: the records (and pip packages) must stay the same.
func TestRealCondaLocksRoundTrip(t *testing.T) {
	root := testchannel.RealData(t, "locks")
	for rel, want := range realLocks {
		if want.format != FormatCondaLock {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				t.Fatal(err)
			}
			first, err := ParseLock(rel, data)
			if err != nil {
				t.Fatal(err)
			}
			env := first.Environments[DefaultEnvironment]
			lock := &CondaLockFile{Environment: env}
			for p := range env.Packages {
				lock.Metadata.Platforms = append(lock.Metadata.Platforms, p)
			}
			slices.Sort(lock.Metadata.Platforms)
			written, err := MarshalCondaLock(lock, filepath.Base(rel))
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, env, written)
		})
	}
}

// checkRoundTrip reads written, the conda-lock file of e, back and fails
// when a channel, record or pip package of e changed.
func checkRoundTrip(t *testing.T, e *LockedEnvironment, written []byte) {
	t.Helper()
	back, err := ParseLock("written", written)
	if err != nil {
		t.Fatalf("reading the written file: %v\n%s", err, written)
	}
	e2 := back.Environments[DefaultEnvironment]
	if !slices.Equal(e.Channels, e2.Channels) {
		t.Errorf("channels %q, read back %q", e.Channels, e2.Channels)
	}
	for p, pkgs := range e.Packages {
		for _, cat := range categories(pkgs) {
			if got, want := lockKeys(e2.CondaRecords(p, cat)), lockKeys(e.CondaRecords(p, cat)); !slices.Equal(got, want) {
				t.Errorf("%s %s: %d records read back, %d written; first difference: %.400v", p, cat, len(got), len(want), difference(want, got))
			}
		}
		if got, want := pypiKeys(e2.Packages[p]), pypiKeys(pkgs); !slices.Equal(got, want) {
			t.Errorf("%s: pip packages %v, read back %v", p, want, got)
		}
	}
}

func categories(pkgs []LockedPackage) []string {
	var out []string
	for _, p := range pkgs {
		if !slices.Contains(out, p.Category) {
			out = append(out, p.Category)
		}
	}
	return out
}

func pypiKeys(pkgs []LockedPackage) []string {
	var out []string
	for _, p := range pkgs {
		if p.Manager == ManagerPip {
			out = append(out, strings.Join([]string{p.Category, p.Pypi.Name, p.Pypi.Version, p.Pypi.Location, p.Pypi.SHA256}, " "))
		}
	}
	slices.Sort(out)
	return out
}

// BenchmarkMarshalCondaLock writes robostack's turtlesim lock (2,197
// packages over four platforms) as a conda-lock v1 file.
func BenchmarkMarshalCondaLock(b *testing.B) {
	rel := "rattler/conda-lock/v3/robostack-turtlesim-conda-lock.yml"
	data, err := os.ReadFile(testchannel.RealData(b, "locks", rel))
	if err != nil {
		b.Fatal(err)
	}
	l, err := ParseLock(rel, data)
	if err != nil {
		b.Fatal(err)
	}
	lock := &CondaLockFile{Environment: l.Environments[DefaultEnvironment]}
	for b.Loop() {
		out, err := MarshalCondaLock(lock, "conda-lock.yml")
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(out)))
	}
}

// TestSolveLockTwoFiles: the specs of every file are locked, and every
// file is a source.
func TestSolveLockTwoFiles(t *testing.T) {
	req := lockSetup(t, envYAML(lockChannel(t), []string{"linux-64"}, "python"))
	extra := filepath.Join(req.WorkDir, "sub", "extra.txt")
	if err := os.MkdirAll(filepath.Dir(extra), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(extra, []byte("# more\nurllib3 >=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	req.Files = append(req.Files, extra)
	lock, err := SolveLock(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"env.yml", "sub/extra.txt"}; !slices.Equal(lock.Metadata.Sources, want) {
		t.Errorf("sources %v, want %v", lock.Metadata.Sources, want)
	}
	var names []string
	for _, pkg := range lock.Environment.Packages["linux-64"] {
		names = append(names, pkg.Conda.Name)
	}
	slices.Sort(names)
	if want := []string{"python", "urllib3", "zlib"}; !slices.Equal(names, want) {
		t.Errorf("locked %v, want %v", names, want)
	}
	one, err := ContentHash(lock.Environment.Channels, specs(t, "python"))
	if err != nil {
		t.Fatal(err)
	}
	if lock.Metadata.ContentHash["linux-64"] == one {
		t.Errorf("the content hash leaves the second file's specs out")
	}
}
