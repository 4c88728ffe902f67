package image

import (
	"archive/tar"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/install"
)

// HostRuns reports whether this machine runs programs built for p, so that
// the environment's python can compile .pyc files for Options.CompilePyc.
func HostRuns(p v1.Platform) bool {
	return p.OS == runtime.GOOS && p.Architecture == runtime.GOARCH
}

// compileEnv is the whole environment of the compiling python but
// LD_LIBRARY_PATH: only what the compilation needs. PYTHONHASHSEED fixes
// the order of set constants in the byte code; no PYTHON* variable of the
// caller (PYTHONPYCACHEPREFIX, PYTHONOPTIMIZE) may change paths or bytes.
var compileEnv = []string{"PYTHONHASHSEED=0", "LC_ALL=C.UTF-8"}

// startPyc adds the byte code of the noarch python packages' site-packages
// .py files to their entries and conda-meta records, as linking with conda
// would (pkg/install's pyc_file paths). A package's .pyc files come from
// the cache when they can, else they are compiled by the environment's
// python, run where the package cache has it (inPlacePython): one compile
// server (compiler) forking a child per package, so a package's .pyc bytes
// do not depend on which other packages the environment has (marshal's
// references follow the process's state) and its layer stays the same.
// An environment whose python has no bin/python3 (pypy) is left
// uncompiled, with a warning.
//
// Compilation runs in the background so that layers of other packages are
// written meanwhile: a package being compiled has a pycReady channel, closed
// once its entries and record are complete. wait returns the warnings and
// the first error once every package is done.
func startPyc(ctx context.Context, pkgs []*install.Package, files []*packageFiles, opts Options) (wait func() ([]string, error)) {
	done := func(w []string, err error) func() ([]string, error) {
		return func() ([]string, error) { return w, err }
	}
	py := -1
	for i, p := range pkgs {
		if p.Record.Name == "python" {
			py = i
		}
	}
	var noarch []int
	for i, p := range pkgs {
		if p.Record.Noarch == conda.NoarchPython {
			noarch = append(noarch, i)
		}
	}
	if py < 0 || len(noarch) == 0 {
		return done(nil, nil)
	}
	cache := newPycCache(opts.LayerCache, files[py])
	type miss struct {
		pf      *packageFiles
		srcs    []*entry
		key     string
		release func() // closes pf.pycReady, once
	}
	var misses []miss
	for _, i := range noarch {
		srcs := pySources(files[i])
		if len(srcs) == 0 {
			continue
		}
		key := cache.key(srcs)
		if pyc, ok := cache.load(key); ok {
			addPyc(files[i], pyc, opts)
			continue
		}
		ready := make(chan struct{})
		files[i].pycReady = ready
		misses = append(misses, miss{files[i], srcs, key, sync.OnceFunc(func() { close(ready) })})
	}
	if len(misses) == 0 {
		return done(nil, nil)
	}
	var warnings []string
	result := make(chan error, 1)
	go func() {
		defer func() { // on errors too: no layer may wait forever
			for _, m := range misses {
				m.release()
			}
		}()
		result <- func() error {
			deps := closure(pkgs, py)
			dirs, cleanup, err := packageDirs(ctx, pkgs, files, deps, py, opts.WorkDir)
			if err != nil {
				return fmt.Errorf("compile .pyc files: %w", err)
			}
			defer cleanup()
			exe, libs := inPlacePython(py, deps, dirs)
			if exe == "" {
				warnings = []string{fmt.Sprintf("no .pyc files compiled: %s has no bin/python3", pkgs[py].Record.Dist())}
				return nil
			}
			env := append(slices.Clip(compileEnv), "LD_LIBRARY_PATH="+strings.Join(libs, ":"))
			out, err := os.MkdirTemp(opts.WorkDir, "condabox-pyc-")
			if err != nil {
				return fmt.Errorf("compile .pyc files: %w", err)
			}
			defer os.RemoveAll(out)
			// Started on the build's context, not the group's: the group's
			// ends with Wait, and close is how a finished server stops.
			server, err := startCompiler(ctx, exe, env, out)
			if err != nil {
				return fmt.Errorf("compile .pyc files with %s: %w", exe, err)
			}
			defer server.close()
			g, ctx := errgroup.WithContext(ctx)
			g.SetLimit(runtime.NumCPU()) // compilations at once
			for i := range misses {
				m := &misses[i]
				g.Go(func() error {
					if err := m.pf.load(ctx); err != nil {
						return fmt.Errorf("compile .pyc files of %s: %w", m.pf.dist, err)
					}
					pyc, err := server.compile(ctx, m.pf.dist, m.srcs)
					if err != nil {
						return fmt.Errorf("compile .pyc files of %s with %s: %w", m.pf.dist, exe, err)
					}
					if err := cache.store(m.key, pyc); err != nil {
						return fmt.Errorf("compile .pyc files of %s: %w", m.pf.dist, err)
					}
					addPyc(m.pf, pyc, opts)
					m.release()
					return nil
				})
			}
			return g.Wait()
		}()
	}()
	return func() ([]string, error) {
		err := <-result
		return warnings, err
	}
}

// pySources returns the package's entries compilation takes: its regular
// site-packages .py files. A name no import could reach — not UTF-8, or
// with a tab or newline, which compileScript's requests cannot carry
// either — is left out, as a file that does not compile is.
func pySources(pf *packageFiles) []*entry {
	var srcs []*entry
	for i := range pf.entries {
		e := &pf.entries[i]
		if e.Type == tar.TypeReg && strings.HasSuffix(e.Name, ".py") && strings.Contains(e.Name, "/site-packages/") &&
			utf8.ValidString(e.Name) && !strings.ContainsAny(e.Name, "\t\n") {
			srcs = append(srcs, e)
		}
	}
	return srcs
}

// closure returns the indexes of pkgs[i] and of everything it depends on.
func closure(pkgs []*install.Package, i int) []int {
	seen := map[int]bool{i: true}
	queue := []int{i}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, d := range pkgs[cur].Record.Depends {
			m, err := conda.ParseMatchSpec(d)
			if err != nil {
				continue // the solver read these; a bad one only means a missing library below
			}
			for j, p := range pkgs {
				if !seen[j] && m.Name.Matches(p.Record.Name) {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
	}
	out := make([]int, 0, len(seen))
	for j := range pkgs {
		if seen[j] {
			out = append(out, j)
		}
	}
	return out
}

// inPlacePython returns the python of package py where dirs (by package
// index) has its folder, and the library folders its programs find in an
// environment: those of python and of deps, everything it depends on, which
// LD_LIBRARY_PATH gives it instead of the prefix's lib. Python finds its
// standard library next to its executable, so it runs there as it would in
// the environment; the prefix placeholders left in a package folder only
// name where it was built. exe is "" when python has no bin/python3
// (pypy).
func inPlacePython(py int, deps []int, dirs map[int]string) (exe string, libs []string) {
	exe = filepath.Join(dirs[py], "bin", "python3")
	if _, err := os.Stat(exe); err != nil {
		return "", nil
	}
	// python's own first, as its RPATH ($ORIGIN/../lib) has it.
	libs = []string{filepath.Join(dirs[py], "lib")}
	for _, i := range deps {
		if i != py {
			libs = append(libs, filepath.Join(dirs[i], "lib"))
		}
	}
	return exe, libs
}

// packageDirs returns the folders of pkgs[i] for each i of want, python
// (pkgs[py]) and what it depends on: the package cache's, or for a package
// the cache holds as an archive only, what compiling needs of it
// (compilerNeeds) extracted (from memory when collect read it) into a
// scratch folder that cleanup removes. The scratch folder is in /dev/shm
// when it can be (RAM: python's thousand files are created there in a
// tenth of the time many disks take; not when it is mounted noexec), else
// below workDir.
func packageDirs(ctx context.Context, pkgs []*install.Package, files []*packageFiles, want []int, py int, workDir string) (dirs map[int]string, cleanup func(), err error) {
	dirs = map[int]string{}
	var archives []int
	for _, i := range want {
		if pkgs[i].Dir != "" {
			dirs[i] = pkgs[i].Dir
		} else {
			archives = append(archives, i)
		}
	}
	cleanup = func() {}
	if len(archives) == 0 {
		return dirs, cleanup, nil
	}
	extractAll := func(root string) (func(), error) {
		scratch, err := os.MkdirTemp(root, "condabox-python-")
		if err != nil {
			return nil, err
		}
		remove := func() { os.RemoveAll(scratch) }
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(runtime.NumCPU())
		found := make([]string, len(archives))
		for k, i := range archives {
			g.Go(func() error {
				found[k] = filepath.Join(scratch, pkgs[i].Record.Dist())
				keep := compilerNeeds(i == py)
				if src := files[i].src; src != nil {
					return src.extract(gctx, found[k], keep)
				}
				return archive.ExtractSome(gctx, pkgs[i].TarballPath, found[k], keep)
			})
		}
		if err := g.Wait(); err != nil {
			remove()
			return nil, err
		}
		for k, i := range archives {
			dirs[i] = found[k]
		}
		return remove, nil
	}
	if st, err := os.Stat(shmDir); err == nil && st.IsDir() && canExecIn(shmDir) {
		sweepScratch(shmDir, time.Now().Add(-staleScratch))
		if cleanup, err = extractAll(shmDir); err == nil {
			return dirs, cleanup, nil
		}
		// Not writable, or too small (64 MiB in a default Docker
		// container): on disk then.
	}
	if cleanup, err = extractAll(workDir); err != nil {
		return nil, nil, err
	}
	return dirs, cleanup, nil
}

// compilerNeeds returns which files, by package-relative name, the
// compiling python needs of its own package (python) or of one it depends
// on. Of python: bin/python*, and lib/ without what compileScript never
// imports — the test suites, idlelib, tkinter, turtledemo, lib2to3,
// distutils, ensurepip, pydoc_data, site-packages, the config-* folder of
// static libraries and build files, pkgconfig and *.a. Of the others:
// the shared libraries in lib/, which python's extension modules load.
// Headers, documentation, terminfo (ncurses), Tcl/Tk's scripts and
// tzdata's zones are left in the archives: python's closure holds about
// 6,500 files in conda-forge, of which compiling needs a fifth.
func compilerNeeds(python bool) func(name string) bool {
	if !python {
		return func(name string) bool {
			dir, base := path.Split(name)
			return dir == "lib/" && strings.Contains(base, ".so")
		}
	}
	return func(name string) bool {
		if strings.HasSuffix(name, ".a") {
			return false
		}
		if dir, base := path.Split(name); dir == "bin/" {
			return strings.HasPrefix(base, "python")
		}
		parts := strings.SplitN(name, "/", 4)
		if parts[0] != "lib" || len(parts) < 2 || parts[1] == "pkgconfig" {
			return false
		}
		if len(parts) < 4 || !strings.HasPrefix(parts[1], "python") {
			return true // lib/libpython3.11.so, lib/python3.11/os.py
		}
		top := parts[2]
		return !slices.Contains(stdlibUnused, top) && !strings.HasPrefix(top, "config-")
	}
}

// stdlibUnused are the folders of python's standard library (lib/pythonX.Y/)
// compileScript imports nothing from.
var stdlibUnused = []string{"test", "tests", "idlelib", "tkinter", "turtledemo", "lib2to3",
	"distutils", "ensurepip", "pydoc_data", "site-packages"}

// shmDir is the RAM-backed folder packageDirs prefers; a variable for tests.
var shmDir = "/dev/shm"

// staleScratch is how old a scratch python in shmDir must be for
// sweepScratch to take it for the leftover of a killed build: compiling
// takes seconds, not an hour.
const staleScratch = time.Hour

// sweepScratch removes the scratch pythons (condabox-python-*) in dir last
// modified before cutoff: a build killed while compiling (SIGKILL, no
// deferred cleanup) leaves its python in RAM until the next reboot.
// Another user's cannot be removed and are left alone.
func sweepScratch(dir string, cutoff time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "condabox-python-") {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// addPyc adds the .pyc files the image keeps (below the prefix, not
// pruned) to the package's entries and conda-meta record.
func addPyc(pf *packageFiles, pyc []pycFile, opts Options) {
	for _, f := range pyc {
		rel, ok := strings.CutPrefix(f.Path, strings.TrimPrefix(opts.Prefix, "/")+"/")
		if !ok || opts.Prune.drops(rel) {
			continue
		}
		pf.entries = append(pf.entries, entry{Name: f.Path, Type: tar.TypeReg, Mode: 0o644, Data: f.Data, Size: int64(len(f.Data)), SHA256: f.SHA256})
		pf.pycSize += int64(len(f.Data))
		pf.record.PathsData.Paths = append(pf.record.PathsData.Paths, install.PrefixPath{Path: rel, PathType: install.PathPycFile})
		pf.record.Files = append(pf.record.Files, rel)
	}
}
