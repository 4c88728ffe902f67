package realistic

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
)

const (
	// stdlibDir is the standard library of the channel's python.
	stdlibDir = "lib/python3.11"
	// pycSuffix ends the file name of an optimization level 0 CPython 3.11
	// bytecode file, the only level conda-forge's python ships.
	pycSuffix = ".cpython-311.pyc"
	// compileExclude is the regular expression of paths compileall leaves
	// out, CPython's own `make install` one: test data that is not valid
	// Python on purpose, and site-packages, which belongs to other packages.
	compileExclude = `bad_coding|badsyntax|site-packages|lib2to3/tests/data`
)

// compileStdlib adds the __pycache__/*.cpython-311.pyc of python's standard
// library to p, as conda-forge's python ships them, so that an installed
// interpreter does not compile every module it imports on each start.
//
// The packaged interpreter compiles them (it runs on the build host, a
// Debian 12 with its libz and libexpat) in a copy of the package under
// tmpDir, in timestamp mode: each .pyc records its source's mtime and size.
// The sources are given the mtime the archive gives every file
// (Package.ModTime), and installers keep archive mtimes, so the .pyc are
// valid after extraction. PYTHONHASHSEED=0 fixes the order of set
// constants and compileall walks directories sorted, so the same package
// gives the same bytes.
func compileStdlib(ctx context.Context, p *pkgbuild.Package, tmpDir string) error {
	stage, err := os.MkdirTemp(tmpDir, "pyc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if err := writeFiles(stage, p.Files, p.ModTime()); err != nil {
		return fmt.Errorf("compile %s: %w", stdlibDir, err)
	}
	// -B keeps the imports of compileall itself from writing .pyc (with
	// the temporary path inside); -s -S keep site-packages and
	// sitecustomize out. Not -I or -E: they would ignore PYTHONHASHSEED.
	// The relative directory makes the file names inside the .pyc
	// "lib/python3.11/…" rather than the temporary path; the importer
	// replaces them with the real path anyway.
	cmd := exec.CommandContext(ctx, filepath.Join(stage, "bin", "python3.11"), "-B", "-s", "-S",
		"-m", "compileall", "-q", "-f", "--invalidation-mode", "timestamp", "-x", compileExclude, stdlibDir)
	cmd.Dir = stage
	// No SOURCE_DATE_EPOCH: it would switch py_compile to checked-hash .pyc.
	cmd.Env = []string{"PYTHONHASHSEED=0", "LC_ALL=C.UTF-8"}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("compile %s with the packaged python: %w: %s", stdlibDir, err, lastLines(out, 10))
	}
	pycs, err := readPyc(stage)
	if err != nil {
		return fmt.Errorf("compile %s: %w", stdlibDir, err)
	}
	p.Files = append(p.Files, pycs...)
	return nil
}

// writeFiles writes the regular files and symlinks of a package under dir,
// giving every regular file mtime.
func writeFiles(dir string, files []pkgbuild.File, mtime time.Time) error {
	for _, f := range files {
		dst := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		switch {
		case f.Mode&fs.ModeSymlink != 0:
			if err := os.Symlink(f.LinkTarget, dst); err != nil {
				return err
			}
		case f.Mode.IsRegular():
			if err := os.WriteFile(dst, f.Data, f.Mode.Perm()); err != nil {
				return err
			}
			if err := os.Chtimes(dst, mtime, mtime); err != nil {
				return err
			}
		}
	}
	return nil
}

// readPyc returns the optimization level 0 .pyc files of the standard
// library under dir as package files.
func readPyc(dir string) ([]pkgbuild.File, error) {
	var pycs []pkgbuild.File
	err := filepath.WalkDir(filepath.Join(dir, stdlibDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !isPyc(d.Name(), filepath.Base(filepath.Dir(p))) {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		pycs = append(pycs, pkgbuild.File{Path: filepath.ToSlash(rel), Mode: 0o644, Data: data})
		return nil
	})
	return pycs, err
}

// isPyc reports whether a file named name in directory dir is an
// optimization level 0 CPython 3.11 bytecode file: "x.cpython-311.pyc" in
// __pycache__ ("x.cpython-311.opt-1.pyc" is level 1).
func isPyc(name, dir string) bool {
	return dir == "__pycache__" && strings.HasSuffix(name, pycSuffix)
}
