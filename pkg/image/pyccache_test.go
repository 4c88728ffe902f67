package image

import (
	"archive/tar"
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/install"
)

// countingPycEnv is pycEnv whose bin/python3 appends the requests it
// reads (compileScript's) to the file log.
func countingPycEnv(exe, mm, log string) []*pkgbuild.Package {
	env := pycEnv(exe, mm, true)
	env[0].Files[0].Data = []byte("#!/bin/sh\ntee -a " + log + " | " + exe + " \"$@\"\n")
	return env
}

// pythonRuns returns the packages compiled since the last call, sorted:
// the DIST of each request in log.
func pythonRuns(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var runs []string
	for len(b) > 0 {
		header, rest, _ := bytes.Cut(b, []byte("\n"))
		f := strings.Split(string(header), "\t")
		n, err := strconv.Atoi(f[len(f)-1])
		if len(f) != 3 || err != nil || n > len(rest) {
			t.Fatalf("bad request %q in %s", header, log)
		}
		runs = append(runs, f[1])
		b = rest[n:]
	}
	slices.Sort(runs)
	return runs
}

// pycCacheEntry returns the cache file holding the .pyc files of the
// package whose site-packages path starts with module.
func pycCacheEntry(t *testing.T, cache, module string) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(cache, "pyc-*.gob"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		var files []pycFile
		b, err := os.ReadFile(name)
		if err == nil && gob.NewDecoder(bytes.NewReader(b)).Decode(&files) == nil && len(files) > 0 && strings.Contains(files[0].Path, "/site-packages/"+module) {
			return name
		}
	}
	t.Fatalf("no pyc cache entry for %s among %q", module, names)
	return ""
}

func TestPycCacheRebuild(t *testing.T) {
	exe, mm := hostPython(t)
	log := filepath.Join(t.TempDir(), "python-runs")
	v1 := extractPackages(t, countingPycEnv(exe, mm, log))
	changedEnv := countingPycEnv(exe, mm, log)
	changedEnv[3].Record.Version = conda.MustParseVersion("1.1")
	changedEnv[3].Files[0].Data = []byte("WORDS = {'hi', 'other', 'new'}\n")
	v2 := extractPackages(t, changedEnv)
	opts := Options{Epoch: time.Unix(1234, 0), CompilePyc: true}
	aggressive := opts
	aggressive.Prune = PruneAggressive
	// What a build without any cache gives: the digests to match.
	want := map[string]string{
		"v1":            digest(t, build(t, v1, opts).Image),
		"v2":            digest(t, build(t, v2, opts).Image),
		"v1 aggressive": digest(t, build(t, v1, aggressive).Image),
	}
	pythonRuns(t, log)

	cache := t.TempDir()
	// damage changes greet's cache entry before the build.
	truncate := func(t *testing.T) {
		name := pycCacheEntry(t, cache, "greet")
		if err := os.Truncate(name, 40); err != nil {
			t.Fatal(err)
		}
	}
	flipByte := func(t *testing.T) {
		name := pycCacheEntry(t, cache, "greet")
		var files []pycFile
		b, err := os.ReadFile(name)
		if err == nil {
			err = gob.NewDecoder(bytes.NewReader(b)).Decode(&files)
		}
		if err != nil {
			t.Fatal(err)
		}
		files[0].Data[len(files[0].Data)-1] ^= 1 // the recorded sha256 no longer matches
		var out bytes.Buffer
		if err = gob.NewEncoder(&out).Encode(files); err == nil {
			err = os.WriteFile(name, out.Bytes(), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		pkgs   []*install.Package
		opts   Options
		damage func(t *testing.T)
		want   string
		// runs are the packages python compiles.
		runs []string
	}{
		{"empty cache: every noarch package compiled", v1, opts, nil, "v1", []string{"greet-2.0-pyh_0", "other-1.0-pyh_0"}},
		{"warm cache: python never runs", v1, opts, nil, "v1", nil},
		{"warm cache, aggressive prune: python never runs", v1, aggressive, nil, "v1 aggressive", nil},
		{"one package changed: only it compiled", v2, opts, nil, "v2", []string{"other-1.1-pyh_0"}},
		{"truncated entry: compiled again", v1, opts, truncate, "v1", []string{"greet-2.0-pyh_0"}},
		{"entry rewritten by the truncated build's compilation: used", v1, opts, nil, "v1", nil},
		{"entry with a flipped byte: compiled again", v1, opts, flipByte, "v1", []string{"greet-2.0-pyh_0"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.damage != nil {
				s.damage(t)
			}
			o := s.opts
			o.LayerCache = cache
			got := digest(t, build(t, s.pkgs, o).Image)
			if runs := pythonRuns(t, log); !slices.Equal(runs, s.runs) {
				t.Errorf("python compiled %q, want %q", runs, s.runs)
			}
			if got != want[s.want] {
				t.Errorf("digest %s, want %s (the %s build without cache)", got, want[s.want], s.want)
			}
		})
	}
}

func TestPycCacheKey(t *testing.T) {
	python := func() *packageFiles {
		return &packageFiles{
			dist:    "python-3.11.9-h_0",
			record:  &install.PrefixRecord{PackageRecord: conda.PackageRecord{SHA256: "aa"}},
			entries: []entry{{Name: "opt/conda/bin/python3.11", Type: tar.TypeReg, Mode: 0o755, Size: 3, SHA256: "11"}},
		}
	}
	srcs := func() []*entry {
		return []*entry{{Name: "opt/conda/lib/python3.11/site-packages/a.py", Type: tar.TypeReg, Size: 1, SHA256: "22"}}
	}
	base := newPycCache("/cache", python()).key(srcs())
	tests := []struct {
		name   string
		dir    string
		python func(p *packageFiles)
		src    func(e *entry)
		// want: "same" or "other" key, or "none" (not cached).
		want string
	}{
		{"same inputs", "/cache", nil, nil, "same"},
		{"other cache folder", "/elsewhere", nil, nil, "same"},
		{"other python build", "/cache", func(p *packageFiles) { p.dist = "python-3.11.9-h_1" }, nil, "other"},
		{"other python sha256", "/cache", func(p *packageFiles) { p.record.SHA256 = "bb" }, nil, "other"},
		{"other interpreter bytes", "/cache", func(p *packageFiles) { p.entries[0].SHA256 = "12" }, nil, "other"},
		{"other prefix", "/cache", nil, func(e *entry) { e.Name = "env/lib/python3.11/site-packages/a.py" }, "other"},
		{"other source content", "/cache", nil, func(e *entry) { e.SHA256 = "23" }, "other"},
		{"source read from elsewhere", "/cache", nil, func(e *entry) { e.Source = "/pkgs/x/a.py" }, "same"},
		{"source without hash", "/cache", nil, func(e *entry) { e.SHA256 = "" }, "none"},
		{"python file without hash", "/cache", func(p *packageFiles) { p.entries[0].SHA256 = "" }, nil, "none"},
		{"cache disabled", "", nil, nil, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, s := python(), srcs()
			if tt.python != nil {
				tt.python(p)
			}
			if tt.src != nil {
				tt.src(s[0])
			}
			key := newPycCache(tt.dir, p).key(s)
			got := map[bool]string{true: "same", false: "other"}[key == base]
			if key == "" {
				got = "none"
			}
			if got != tt.want {
				t.Errorf("key %q against %q: %s, want %s", key, base, got, tt.want)
			}
		})
	}
}

func TestPycCacheLoad(t *testing.T) {
	c := pycCache{dir: t.TempDir(), python: "python"}
	pyc := func(path string) pycFile {
		return pycFile{Path: path, SHA256: sha256Hex([]byte("pyc")), Data: []byte("pyc")}
	}
	good := pyc("opt/conda/lib/python3.11/site-packages/__pycache__/a.cpython-311.pyc")
	tests := []struct {
		name string
		// raw, when set, is the entry's content; else files are stored,
		// unless nil (no entry).
		raw   string
		files []pycFile
		ok    bool
	}{
		{"absent", "", nil, false},
		{"not a cache entry", `[{"path":"` + good.Path, nil, false},
		{"no files compiled", "", []pycFile{}, true},
		{"good", "", []pycFile{good}, true},
		{"hash mismatch", "", []pycFile{{Path: good.Path, SHA256: "00", Data: []byte("pyc")}}, false},
		{"path outside __pycache__", "", []pycFile{pyc("opt/conda/bin/a.pyc")}, false},
		{"path escaping", "", []pycFile{pyc("../x/__pycache__/a.pyc")}, false},
		{"absolute path", "", []pycFile{pyc("/opt/x/__pycache__/a.pyc")}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("%064x", i)
			var err error
			switch {
			case tt.raw != "":
				err = os.WriteFile(c.file(key), []byte(tt.raw), 0o644)
			case tt.files != nil:
				err = c.store(key, tt.files)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := c.load(key)
			if ok != tt.ok {
				t.Fatalf("load: ok = %v, want %v", ok, tt.ok)
			}
			if ok && !reflect.DeepEqual(got, tt.files) {
				t.Errorf("load: %+v, stored %+v", got, tt.files)
			}
		})
	}
}

// FuzzPycCacheLoad feeds arbitrary cache entries to load: it must not
// panic, and what it accepts must be files compilation could have made,
// with their recorded hashes.
func FuzzPycCacheLoad(f *testing.F) {
	c := pycCache{dir: f.TempDir(), python: "python"}
	for _, files := range [][]pycFile{{}, {{Path: "opt/conda/lib/python3.11/site-packages/__pycache__/a.cpython-311.pyc", SHA256: sha256Hex([]byte("pyc")), Data: []byte("pyc")}},
		{{Path: "../__pycache__/x.pyc", SHA256: "00"}}} {
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(files); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
		f.Add(b.Bytes()[:b.Len()/2]) // partly written
	}
	key := strings.Repeat("0", 64)
	f.Fuzz(func(t *testing.T, content []byte) {
		if err := os.WriteFile(c.file(key), content, 0o644); err != nil {
			t.Fatal(err)
		}
		files, ok := c.load(key)
		if !ok {
			return
		}
		for _, pf := range files {
			if !validPycPath(pf.Path) || sha256Hex(pf.Data) != pf.SHA256 {
				t.Errorf("load accepted %q (sha256 %s) from %q", pf.Path, pf.SHA256, content)
			}
		}
		// What was accepted survives a store and load unchanged.
		if err := c.store(key, files); err != nil {
			t.Fatal(err)
		}
		again, ok := c.load(key)
		if !ok || len(again) != len(files) || (len(files) > 0 && !reflect.DeepEqual(again, files)) {
			t.Errorf("stored %+v, loaded %+v (ok %v)", files, again, ok)
		}
	})
}
