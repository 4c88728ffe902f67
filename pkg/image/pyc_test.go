package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/install"
)

// hostPython returns this machine's python3 and its major.minor ("3.11"),
// or skips: the test environment's python package runs it. The system's
// python comes first: a PATH shim (pyenv) needs variables the compiling
// python is not given.
func hostPython(t testing.TB) (exe, mm string) {
	t.Helper()
	exe, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		if exe, err = exec.LookPath("python3"); err != nil {
			t.Skip("no python3 to compile .pyc files with")
		}
	}
	out, err := exec.Command(exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
	if err != nil {
		t.Skipf("%s does not run: %v", exe, err)
	}
	return exe, strings.TrimSpace(string(out))
}

// pycEnv is python (bin/python3 running exe), two noarch python
// packages and a package for the platform with a .py file of its own.
func pycEnv(exe, mm string, withOther bool) []*pkgbuild.Package {
	pkgs := []*pkgbuild.Package{
		{Record: rec("python", mm+".0", "h_0", ""), Files: []pkgbuild.File{
			{Path: "bin/python3", Mode: 0o755, Data: []byte("#!/bin/sh\nexec " + exe + " \"$@\"\n")},
		}},
		{Record: rec("plain", "1.0", "0", ""), Files: []pkgbuild.File{
			{Path: "lib/python" + mm + "/site-packages/plain.py", Mode: 0o644, Data: []byte("X = 1\n")},
		}},
		{Record: rec("greet", "2.0", "pyh_0", conda.NoarchPython), Files: []pkgbuild.File{
			{Path: "site-packages/greet/__init__.py", Mode: 0o644, Data: []byte("WORDS = {'hi', 'hello', 'hey'}\ndef main(): print('hi')\n")},
			{Path: "site-packages/greet/broken.py", Mode: 0o644, Data: []byte("def (:\n")},
			{Path: "site-packages/greet/data.txt", Mode: 0o644, Data: []byte("not python\n")},
		}},
	}
	if withOther {
		pkgs = append(pkgs, &pkgbuild.Package{Record: rec("other", "1.0", "pyh_0", conda.NoarchPython), Files: []pkgbuild.File{
			{Path: "site-packages/other.py", Mode: 0o644, Data: []byte("WORDS = {'hi', 'other'}\n")},
		}})
	}
	return pkgs
}

func TestCompilePyc(t *testing.T) {
	exe, mm := hostPython(t)
	tag := "cpython-" + strings.ReplaceAll(mm, ".", "")
	site := "opt/conda/lib/python" + mm + "/site-packages/"
	pkgs := extractPackages(t, pycEnv(exe, mm, true))
	epoch := time.Unix(1234, 0)
	res := build(t, pkgs, Options{Epoch: epoch, CompilePyc: true})
	files := flatten(t, res.Image)
	plain := flatten(t, build(t, pkgs, Options{Epoch: epoch}).Image)
	aggressive := flatten(t, build(t, pkgs, Options{Epoch: epoch, CompilePyc: true, Prune: PruneAggressive}).Image)

	greetPyc := site + "greet/__pycache__/__init__." + tag + ".pyc"
	tests := []struct {
		name string
		fs   map[string]fsEntry
		path string
		want bool
	}{
		{"noarch package compiled", files, greetPyc, true},
		{"second noarch package compiled", files, site + "__pycache__/other." + tag + ".pyc", true},
		{"syntax error: no pyc", files, site + "greet/__pycache__/broken." + tag + ".pyc", false},
		{"package for the platform: not compiled", files, site + "__pycache__/plain." + tag + ".pyc", false},
		{"without CompilePyc: none", plain, greetPyc, false},
		{"aggressive prune drops __pycache__", aggressive, greetPyc, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.fs[tt.path]; ok != tt.want {
				t.Errorf("%s in image: %v, want %v", tt.path, ok, tt.want)
			}
		})
	}

	t.Run("unchecked-hash pyc naming its image path", func(t *testing.T) {
		data := []byte(files[greetPyc].data)
		if len(data) < 16 {
			t.Fatalf("%s: %d bytes, shorter than a pyc header", greetPyc, len(data))
		}
		// PEP 552: flags 0b01 are hash-based, source not checked.
		if flags := binary.LittleEndian.Uint32(data[4:8]); flags != 1 {
			t.Errorf("pyc flags %#b, want 0b1 (unchecked hash)", flags)
		}
		if want := "/" + site + "greet/__init__.py"; !bytes.Contains(data, []byte(want)) {
			t.Errorf("pyc does not name its source as %s", want)
		}
	})
	t.Run("conda-meta lists the pyc files", func(t *testing.T) {
		var r install.PrefixRecord
		if err := json.Unmarshal([]byte(files["opt/conda/conda-meta/greet-2.0-pyh_0.json"].data), &r); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(greetPyc, "opt/conda/")
		if !slices.Contains(r.Files, rel) {
			t.Errorf("files %q lack %s", r.Files, rel)
		}
		if !slices.ContainsFunc(r.PathsData.Paths, func(p install.PrefixPath) bool { return p.Path == rel && p.PathType == install.PathPycFile }) {
			t.Errorf("paths_data lacks %s as %s", rel, install.PathPycFile)
		}
	})
	t.Run("reproducible", func(t *testing.T) {
		if a, b := digest(t, res.Image), digest(t, build(t, pkgs, Options{Epoch: epoch, CompilePyc: true}).Image); a != b {
			t.Errorf("two builds: %s, %s", a, b)
		}
	})
	t.Run("a package's layer does not depend on the others", func(t *testing.T) {
		alone := build(t, extractPackages(t, pycEnv(exe, mm, false)), Options{Epoch: epoch, CompilePyc: true})
		if a, b := layerOf(t, res, "greet-2.0-pyh_0"), layerOf(t, alone, "greet-2.0-pyh_0"); a != b {
			t.Errorf("greet's layer: %s with another noarch package, %s without", a, b)
		}
	})
}

// layerOf returns the digest of the layer holding dist alone.
func layerOf(t *testing.T, res *Result, dist string) string {
	t.Helper()
	for _, l := range res.Layers {
		if slices.Equal(l.Packages, []string{dist}) {
			return l.Digest
		}
	}
	t.Fatalf("no layer holds %s alone: %+v", dist, res.Layers)
	return ""
}

func TestCompilePycBadPython(t *testing.T) {
	_, mm := hostPython(t)
	tests := []struct {
		name string
		// python3 is bin/python3's content; "" leaves it out.
		python3              string
		wantErr, wantWarning string
	}{
		{"python fails", "#!/bin/sh\nexit 3\n", "compile .pyc files of greet-2.0-pyh_0", ""},
		{"no bin/python3", "", "", "no .pyc files compiled: python-" + mm + ".0-h_0 has no bin/python3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := pycEnv("", mm, false) // python replaced below
			env[0].Files = nil
			if tt.python3 != "" {
				env[0].Files = []pkgbuild.File{{Path: "bin/python3", Mode: 0o755, Data: []byte(tt.python3)}}
			}
			res, err := Build(t.Context(), empty.Image, extractPackages(t, env), Options{CompilePyc: true, WorkDir: t.TempDir()})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(res.Warnings, tt.wantWarning) {
				t.Errorf("warnings %q, want %q", res.Warnings, tt.wantWarning)
			}
		})
	}
}

// BenchmarkCompilePyc builds an environment of python and one noarch python
// package of 200 modules of about 4 KB, without CompilePyc, with it, and
// with it from a warm pyc cache (no python run).
func BenchmarkCompilePyc(b *testing.B) {
	exe, mm := hostPython(b)
	env := pycEnv(exe, mm, false)
	mod := []byte(strings.Repeat("def f(x):\n    return {'a': x, 'b': [x, x + 1]}\n\n", 80))
	for i := range 200 {
		env[2].Files = append(env[2].Files, pkgbuild.File{Path: fmt.Sprintf("site-packages/greet/m%03d.py", i), Mode: 0o644, Data: mod})
	}
	pkgs := extractPackages(b, env)
	warm := b.TempDir()
	if _, err := Build(b.Context(), empty.Image, pkgs, Options{CompilePyc: true, WorkDir: b.TempDir(), LayerCache: warm}); err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		opts Options
	}{
		{"CompilePyc=false", Options{}},
		{"CompilePyc=true", Options{CompilePyc: true}},
		// The warm layer cache also skips the layers' compression: compare
		// with LayerCache, CompilePyc=false for what the pyc cache saves.
		{"LayerCache,CompilePyc=false", Options{LayerCache: warm}},
		{"LayerCache,CompilePyc=true", Options{CompilePyc: true, LayerCache: warm}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				opts := bb.opts
				opts.WorkDir = b.TempDir()
				if _, err := Build(b.Context(), empty.Image, pkgs, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The .pyc bytes compileScript prints are those py_compile writes for
// unchecked-hash files, for sources on disk and in memory alike; a source
// that does not compile has none.
func TestCompileScriptMatchesPyCompile(t *testing.T) {
	exe, _ := hostPython(t)
	dir := t.TempDir()
	sources := map[string]string{
		"pkg/__init__.py": "WORDS = {'hi', 'hello', 'hey'}\nfrozen = frozenset({1, 2, 3})\n",
		"pkg/text.py":     "# -*- coding: utf-8 -*-\nS = 'häuser € \\u00e9'\ndef f(*a, **k):\n    return [x for x in a if x]\n",
		"pkg/broken.py":   "def (:\n",
	}
	var srcs []*entry
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		src := filepath.Join(dir, "src", name)
		if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(src, []byte(sources[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		e := &entry{Name: "opt/conda/lib/site-packages/" + name, Type: tar.TypeReg, Mode: 0o644, Size: int64(len(sources[name]))}
		if name == "pkg/text.py" {
			e.Data = []byte(sources[name]) // prefix replaced: only in memory
		} else {
			e.Source = src
		}
		srcs = append(srcs, e)
	}
	py := startTestCompiler(t, exe)
	got, err := py.compile(t.Context(), "pkg-1.0-0", srcs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d .pyc files, want 2 (broken.py has none): %v", len(got), got)
	}
	for _, p := range got {
		// py_compile's own file, from the same source under the same name:
		// pkg/__pycache__/text.cpython-3XX.pyc is pkg/text.py's.
		rel := strings.TrimPrefix(p.Path, "opt/conda/lib/site-packages/")
		mod := strings.Split(path.Base(rel), ".")[0]
		src := filepath.Join(dir, "src", path.Dir(path.Dir(rel)), mod+".py")
		ref := filepath.Join(dir, "ref.pyc")
		script := `import py_compile, sys
py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile=sys.argv[3], doraise=True,
                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)`
		cmd := exec.Command(exe, "-S", "-B", "-c", script, src, ref, "/opt/conda/lib/site-packages/"+path.Dir(path.Dir(rel))+"/"+mod+".py")
		cmd.Env = compileEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("py_compile %s: %v: %s", src, err, out)
		}
		want, err := os.ReadFile(ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Data, want) {
			t.Errorf("%s: %d bytes differ from py_compile's %d", p.Path, len(p.Data), len(want))
		}
		if p.SHA256 != sha256Hex(want) {
			t.Errorf("%s: sha256 %s does not match its bytes", p.Path, p.SHA256)
		}
	}
}

// startTestCompiler starts compileScript on exe, stopped when the test ends.
func startTestCompiler(t *testing.T, exe string) *compiler {
	t.Helper()
	py, err := startCompiler(t.Context(), exe, compileEnv, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(py.close)
	return py
}

// memSources are entries of in-memory .py files below site-packages.
func memSources(files map[string]string) []*entry {
	var srcs []*entry
	for _, name := range slices.Sorted(maps.Keys(files)) {
		srcs = append(srcs, &entry{Name: "opt/conda/lib/site-packages/" + name, Type: tar.TypeReg, Mode: 0o644, Data: []byte(files[name]), Size: int64(len(files[name]))})
	}
	return srcs
}

// A package's .pyc bytes are the same whatever the server compiled before
// it, and whichever packages it compiles at the same time: each is
// compiled in a child forked from the server's first state.
func TestCompilerPackagesIndependent(t *testing.T) {
	exe, _ := hostPython(t)
	// Names a module shares with another (interned strings whose reference
	// counts marshal follows), a warning (which imports warnings and
	// registers it), sets (ordered by hash) and a syntax error.
	pkgs := map[string][]*entry{
		"a-1-0": memSources(map[string]string{"a/__init__.py": "import os\nshared_name = {'x', 'y', 'shared_name'}\ndef f(shared_arg): return shared_arg\n"}),
		"b-1-0": memSources(map[string]string{"b.py": "shared_name = 1\ns = '\\d'\nclass K:\n    shared_arg = frozenset({1, 2})\n", "bad.py": "def (:\n"}),
		"c-1-0": memSources(map[string]string{"c.py": "from a import shared_name\nV = [shared_name, 'shared_arg', b'bytes']\n"}),
	}
	alone := map[string][]pycFile{}
	for dist, srcs := range pkgs {
		got, err := startTestCompiler(t, exe).compile(t.Context(), dist, srcs)
		if err != nil {
			t.Fatalf("%s alone: %v", dist, err)
		}
		alone[dist] = got
	}
	if len(alone["b-1-0"]) != 1 {
		t.Fatalf("b: %d .pyc files, want 1 (bad.py has none)", len(alone["b-1-0"]))
	}
	for _, together := range []bool{false, true} {
		py := startTestCompiler(t, exe)
		for round := range 2 { // the second round follows the first
			var wg sync.WaitGroup
			var mu sync.Mutex
			got := make(map[string][]pycFile)
			for _, dist := range slices.Sorted(maps.Keys(pkgs)) {
				one := func() {
					pyc, err := py.compile(t.Context(), dist, pkgs[dist])
					if err != nil {
						t.Errorf("%s: %v", dist, err)
					}
					mu.Lock()
					got[dist] = pyc
					mu.Unlock()
				}
				if together {
					wg.Go(one)
				} else {
					one()
				}
			}
			wg.Wait()
			for dist, want := range alone {
				if !slices.EqualFunc(got[dist], want, func(a, b pycFile) bool { return a.Path == b.Path && bytes.Equal(a.Data, b.Data) }) {
					t.Errorf("together %v, round %d: %s's .pyc files differ from those compiled alone", together, round, dist)
				}
			}
		}
	}
}

// A compile server that fails, or whose child fails, names what went
// wrong; requests after its end fail too instead of waiting.
func TestCompilerFails(t *testing.T) {
	exe, _ := hostPython(t)
	dir := t.TempDir()
	quits := filepath.Join(dir, "quits")
	if err := os.WriteFile(quits, []byte("#!/bin/sh\necho no python here >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	srcs := memSources(map[string]string{"m.py": "X = 1\n"})
	t.Run("server exits", func(t *testing.T) {
		py := startTestCompiler(t, quits)
		for range 2 {
			_, err := py.compile(t.Context(), "m-1-0", srcs)
			if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "no python here") {
				t.Errorf("error %v, want exit status 3 and the server's stderr", err)
			}
		}
	})
	t.Run("child cannot write its output", func(t *testing.T) {
		py, err := startCompiler(t.Context(), exe, compileEnv, filepath.Join(dir, "missing"))
		if err != nil {
			t.Fatal(err)
		}
		defer py.close()
		_, err = py.compile(t.Context(), "m-1-0", srcs)
		if err == nil || !strings.Contains(err.Error(), "status 1") || !strings.Contains(err.Error(), "FileNotFoundError") {
			t.Errorf("error %v, want the child's status and traceback", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		py, err := startCompiler(ctx, exe, compileEnv, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := py.compile(ctx, "m-1-0", srcs); err == nil {
			t.Error("compile after cancel: no error")
		}
		py.close() // returns: the server was killed
	})
	t.Run("child killed", func(t *testing.T) {
		// A source that takes python seconds to compile; the child
		// compiling it is killed: the server reports it, and the compile
		// fails instead of waiting for a report that never comes.
		var big strings.Builder
		for i := range 100000 {
			fmt.Fprintf(&big, "def f%d(x):\n    return [x + %d for _ in range(3)]\n", i, i)
		}
		py := startTestCompiler(t, exe)
		done := make(chan error, 1)
		go func() {
			_, err := py.compile(t.Context(), "big-1-0", memSources(map[string]string{"big.py": big.String()}))
			done <- err
		}()
		server := py.cmd.Process.Pid
		var child string
		for deadline := time.Now().Add(10 * time.Second); child == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", server, server))
			child = strings.TrimSpace(string(b))
		}
		if child == "" {
			t.Skip("cannot see the server's child in /proc")
		}
		if out, err := exec.Command("kill", "-KILL", child).CombinedOutput(); err != nil {
			t.Fatalf("kill %s: %v: %s", child, err, out)
		}
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "status 137") {
				t.Errorf("error %v, want the child's status 137 (SIGKILL)", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("compile still waiting 30 s after its child was killed")
		}
	})
}

func TestPySources(t *testing.T) {
	site := "opt/conda/lib/python3.11/site-packages/"
	tests := []struct {
		name string
		e    entry
		want bool
	}{
		{"module", entry{Name: site + "m.py", Type: tar.TypeReg}, true},
		{"in a package", entry{Name: site + "pkg/sub/m.py", Type: tar.TypeReg}, true},
		{"not .py", entry{Name: site + "m.txt", Type: tar.TypeReg}, false},
		{"outside site-packages", entry{Name: "opt/conda/bin/m.py", Type: tar.TypeReg}, false},
		{"symlink", entry{Name: site + "link.py", Type: tar.TypeSymlink, Linkname: "m.py"}, false},
		{"tab in the name", entry{Name: site + "a\tb.py", Type: tar.TypeReg}, false},
		{"newline in the name", entry{Name: site + "a\nb.py", Type: tar.TypeReg}, false},
		{"not UTF-8", entry{Name: site + "caf\xe9.py", Type: tar.TypeReg}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pySources(&packageFiles{entries: []entry{tt.e}})
			if (len(got) == 1) != tt.want {
				t.Errorf("pySources(%q) = %d entries, want taken: %v", tt.e.Name, len(got), tt.want)
			}
		})
	}
}

func TestCompilerNeeds(t *testing.T) {
	python, dep := compilerNeeds(true), compilerNeeds(false)
	for _, tc := range []struct {
		name        string
		python, dep bool
	}{
		{"bin/python3.11", true, false},
		{"bin/python3", true, false},
		{"bin/idle3", false, false},
		{"bin/openssl", false, false},
		{"lib/libpython3.11.so.1.0", true, true},
		{"lib/libssl.so.3", true, true},
		{"lib/libz.a", false, false},
		{"lib/pkgconfig/python3.pc", false, false},
		{"lib/python3.11/os.py", true, false},
		{"lib/python3.11/__pycache__/os.cpython-311.pyc", true, false},
		{"lib/python3.11/encodings/utf_8.py", true, false},
		{"lib/python3.11/importlib/util.py", true, false},
		{"lib/python3.11/lib-dynload/select.cpython-311-x86_64-linux-gnu.so", true, false},
		{"lib/python3.11/test/test_os.py", false, false},
		{"lib/python3.11/idlelib/idle.py", false, false},
		{"lib/python3.11/tkinter/__init__.py", false, false},
		{"lib/python3.11/lib2to3/main.py", false, false},
		{"lib/python3.11/ensurepip/_bundled/pip-23.0.1-py3-none-any.whl", false, false},
		{"lib/python3.11/config-3.11-x86_64-linux-gnu/libpython3.11.a", false, false},
		{"lib/python3.11/site-packages/README.txt", false, false},
		{"lib/python3.13t/os.py", true, false},
		{"lib/tk8.6/tk.tcl", true, false},
		{"lib/terminfo/x/xterm", true, false},
		{"include/python3.11/Python.h", false, false},
		{"share/terminfo/x/xterm", false, false},
		{"share/zoneinfo/Europe/Paris", false, false},
		{"info/index.json", false, false},
	} {
		if got := python(tc.name); got != tc.python {
			t.Errorf("python's %s kept: %v, want %v", tc.name, got, tc.python)
		}
		if got := dep(tc.name); got != tc.dep {
			t.Errorf("a dependency's %s kept: %v, want %v", tc.name, got, tc.dep)
		}
	}
}

// TestCompilerNeedsRealPython: of a real conda-forge python's files,
// compiling keeps the modules compileScript imports and leaves out about
// half.
func TestCompilerNeedsRealPython(t *testing.T) {
	data, err := os.ReadFile(testchannel.RealData(t, "prefix-records", "conda-meta", "python-3.11.9-h932a869_0_cpython.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct{ Files []string }
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	keep := compilerNeeds(true)
	kept := map[string]bool{}
	for _, f := range rec.Files {
		if keep(f) {
			kept[f] = true
		}
	}
	for _, m := range []string{"bin/python3.11", "lib/python3.11/os.py", "lib/python3.11/traceback.py",
		"lib/python3.11/importlib/util.py", "lib/python3.11/importlib/machinery.py", "lib/python3.11/encodings/utf_8.py"} {
		if !kept[m] {
			t.Errorf("%s left out", m)
		}
	}
	if len(kept) > len(rec.Files)*6/10 {
		t.Errorf("kept %d of %d files", len(kept), len(rec.Files))
	}
	t.Logf("kept %d of %d files", len(kept), len(rec.Files))
}
