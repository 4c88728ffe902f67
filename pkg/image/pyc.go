package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/install"
)

// HostRuns reports whether this machine runs programs built for p, so that
// the environment's python can compile .pyc files for Options.CompilePyc.
func HostRuns(p v1.Platform) bool {
	return p.OS == runtime.GOOS && p.Architecture == runtime.GOARCH
}

// compileScript compiles the .py files of package argv[1] named on stdin,
// one "SOURCE\tPATH" line each (PATH: where the file is in the image), and
// writes "CACHE\tLENGTH\n" and the .pyc bytes to stdout for each, CACHE
// being the cache path of PATH: no file is written. The bytes are
// py_compile's for unchecked-hash .pyc files (the same loader, compiler and
// header), which carry no source mtime, so they depend on the source and
// the interpreter only; python never rewrites them, so a read-only image or
// any uid still loads them. A file that does not compile is skipped, as
// conda does.
const compileScript = `import importlib.machinery, importlib.util, sys
from importlib._bootstrap_external import _code_to_hash_pyc
out = sys.stdout.buffer
for line in sys.stdin:
    src, dfile = line.rstrip("\n").split("\t")
    loader = importlib.machinery.SourceFileLoader("<py_compile>", src)
    source = loader.get_data(src)
    try:
        code = loader.source_to_code(source, dfile)
    except Exception as e:
        print("%s: %s: %s" % (sys.argv[1], dfile, e), file=sys.stderr)
        continue
    data = _code_to_hash_pyc(code, importlib.util.source_hash(source), False)
    out.write(b"%s\t%d\n" % (importlib.util.cache_from_source(dfile).encode(), len(data)))
    out.write(data)
`

// compileEnv is the whole environment of the compiling python but
// LD_LIBRARY_PATH: only what the compilation needs. PYTHONHASHSEED fixes
// the order of set constants in the byte code; no PYTHON* variable of the
// caller (PYTHONPYCACHEPREFIX, PYTHONOPTIMIZE) may change paths or bytes.
var compileEnv = []string{"PYTHONHASHSEED=0", "LC_ALL=C.UTF-8"}

// startPyc adds the byte code of the noarch python packages' site-packages
// .py files to their entries and conda-meta records, as linking with conda
// would (pkg/install's pyc_file paths). A package's .pyc files come from
// the cache when they can, else they are compiled by the environment's
// python, run where the package cache has it (inPlacePython): one process
// per package, so a package's .pyc bytes do not depend on which other
// packages the environment has (marshal's references follow the process's
// state) and its layer stays the same. An environment whose python has no
// bin/python3 (pypy) is left uncompiled, with a warning.
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
			exe, libs := inPlacePython(pkgs, py)
			if exe == "" {
				warnings = []string{fmt.Sprintf("no .pyc files compiled: %s has no bin/python3", pkgs[py].Record.Dist())}
				return nil
			}
			dir, err := os.MkdirTemp(opts.WorkDir, "pyc-")
			if err != nil {
				return fmt.Errorf("compile .pyc files: %w", err)
			}
			defer os.RemoveAll(dir)
			env := append(slices.Clip(compileEnv), "LD_LIBRARY_PATH="+strings.Join(libs, ":"))
			g, ctx := errgroup.WithContext(ctx)
			g.SetLimit(runtime.NumCPU())
			for i := range misses {
				m := &misses[i]
				src := filepath.Join(dir, m.pf.dist)
				g.Go(func() error {
					pyc, err := compilePackage(ctx, exe, env, src, m.pf.dist, m.srcs)
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
// site-packages .py files.
func pySources(pf *packageFiles) []*entry {
	var srcs []*entry
	for i := range pf.entries {
		e := &pf.entries[i]
		if e.Type == tar.TypeReg && strings.HasSuffix(e.Name, ".py") && strings.Contains(e.Name, "/site-packages/") {
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

// inPlacePython returns the python of pkgs[py] where the package cache has
// it, and the library folders its programs find in an environment: those of
// python and of everything it depends on, which LD_LIBRARY_PATH gives it
// instead of the prefix's lib. Python finds its standard library next to
// its executable, so it runs there as it would in the environment; the
// prefix placeholders left in the cache's copy only name where it was
// built. exe is "" when python has no bin/python3 (pypy).
func inPlacePython(pkgs []*install.Package, py int) (exe string, libs []string) {
	exe = filepath.Join(pkgs[py].Dir, "bin", "python3")
	if _, err := os.Stat(exe); err != nil {
		return "", nil
	}
	// python's own first, as its RPATH ($ORIGIN/../lib) has it.
	libs = []string{filepath.Join(pkgs[py].Dir, "lib")}
	for _, i := range closure(pkgs, py) {
		if i != py {
			libs = append(libs, filepath.Join(pkgs[i].Dir, "lib"))
		}
	}
	return exe, libs
}

// writeContent writes a regular entry's bytes to a new file.
func writeContent(dst string, e *entry) error {
	r, err := e.content()
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(normalMode(e)))
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// compilePackage compiles srcs (entries of one package) with compileScript
// and returns the .pyc files, in the order of srcs; a source that does not
// compile has none. Sources whose bytes are only in memory (prefix
// replaced) are written below tmp first.
func compilePackage(ctx context.Context, exe string, env []string, tmp, dist string, srcs []*entry) ([]pycFile, error) {
	var list bytes.Buffer
	for _, e := range srcs {
		src := e.Source
		if src == "" {
			src = filepath.Join(tmp, filepath.FromSlash(e.Name))
			if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
				return nil, err
			}
			if err := writeContent(src, e); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(&list, "%s\t/%s\n", src, e.Name)
	}
	cmd := exec.CommandContext(ctx, exe, "-S", "-B", "-c", compileScript, dist)
	cmd.Stdin = &list
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return readCompiled(&stdout)
}

// readCompiled reads compileScript's output: "CACHE\tLENGTH\n" and the
// bytes, for each .pyc file.
func readCompiled(r io.Reader) ([]pycFile, error) {
	br := bufio.NewReader(r)
	var pyc []pycFile
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return pyc, nil
		}
		if err != nil {
			return nil, fmt.Errorf("compiler output: %w", err)
		}
		name, size, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		n, perr := strconv.Atoi(size)
		if !ok || perr != nil || n < 0 || !strings.HasPrefix(name, "/") {
			return nil, fmt.Errorf("compiler output: bad line %q", line)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(br, data); err != nil {
			return nil, fmt.Errorf("compiler output: %s: %w", name, err)
		}
		pyc = append(pyc, pycFile{Path: strings.TrimPrefix(name, "/"), SHA256: sha256Hex(data), Data: data})
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
