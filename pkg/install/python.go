package install

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// pythonEnv is what noarch python packages need to know about the
// environment's python: where site-packages is and which interpreter
// compiles .pyc files and runs entry points.
type pythonEnv struct {
	// MajorMinor is "3.11".
	MajorMinor string
	// SitePackages is relative to the prefix, e.g. "lib/python3.11/site-packages".
	SitePackages string
	// Exe is relative to the prefix, e.g. "bin/python3.11".
	Exe string
}

// newPythonEnv derives the layout from the environment's python record.
// python_site_packages_path (CEP-17) overrides the default site-packages.
func newPythonEnv(python *conda.PackageRecord) (*pythonEnv, error) {
	parts := strings.SplitN(python.Version.String(), ".", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("python %s: version %q has no major.minor", python.Dist(), python.Version.String())
	}
	mm := parts[0] + "." + parts[1]
	sp := "lib/python" + mm + "/site-packages"
	if python.PythonSitePackagesPath != "" {
		sp = path.Clean(python.PythonSitePackagesPath)
	}
	return &pythonEnv{MajorMinor: mm, SitePackages: sp, Exe: "bin/python" + mm}, nil
}

// targetPath maps a noarch python package path to its place in the prefix:
// site-packages/ into the environment's site-packages, python-scripts/ into
// bin/. Other paths are unchanged.
func (p *pythonEnv) targetPath(pkgPath string) string {
	if rest, ok := strings.CutPrefix(pkgPath, "site-packages/"); ok {
		return p.SitePackages + "/" + rest
	}
	if rest, ok := strings.CutPrefix(pkgPath, "python-scripts/"); ok {
		return "bin/" + rest
	}
	return pkgPath
}

// pycPath returns where CPython caches the byte code of a .py file:
// dir/__pycache__/name.cpython-311.pyc.
func (p *pythonEnv) pycPath(py string) string {
	dir, file := path.Split(py)
	tag := "cpython-" + strings.ReplaceAll(p.MajorMinor, ".", "")
	return dir + "__pycache__/" + strings.TrimSuffix(file, ".py") + "." + tag + ".pyc"
}

// pycCandidates returns the .pyc paths for the site-packages .py files of
// a noarch python package's target paths.
func (p *pythonEnv) pycCandidates(targets []string) []string {
	var out []string
	for _, t := range targets {
		if strings.HasSuffix(t, ".py") && strings.HasPrefix(t, p.SitePackages+"/") {
			out = append(out, p.pycPath(t))
		}
	}
	return out
}

// compile byte-compiles the given .py files (relative to prefix) with the
// environment's python, as conda does with `python -Wi -m compileall -q -l
// -i -`. A python that does not run (another architecture, a broken build)
// is not an error: the files are then simply not compiled, as in conda.
func (p *pythonEnv) compile(ctx context.Context, prefix string, pyFiles []string) error {
	exe := filepath.Join(prefix, filepath.FromSlash(p.Exe))
	if _, err := os.Stat(exe); err != nil || len(pyFiles) == 0 {
		return nil
	}
	var list bytes.Buffer
	for _, f := range pyFiles {
		list.WriteString(filepath.Join(prefix, filepath.FromSlash(f)) + "\n")
	}
	cmd := exec.CommandContext(ctx, exe, "-Wi", "-m", "compileall", "-q", "-l", "-i", "-")
	cmd.Dir = prefix
	cmd.Stdin = &list
	// Byte code for the stdlib modules compileall imports would be files
	// that no record lists.
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// compileall exits 1 when one file has a syntax error; conda ignores
	// that too and records only the .pyc files that exist.
	if err := runChild(cmd); err != nil && ctx.Err() != nil {
		return fmt.Errorf("compile .pyc files with %s: %w: %s", exe, err, out.Bytes())
	}
	return nil
}

// compilePyc byte-compiles the .py files of all linked noarch python
// packages in one python run and adds the .pyc files to their records.
func (a *applier) compilePyc(ctx context.Context, linked []*linkedPackage) error {
	var pyFiles []string
	for _, lp := range linked {
		if len(lp.pycs) > 0 {
			pyFiles = append(pyFiles, lp.pyFiles...)
		}
	}
	if len(pyFiles) == 0 {
		return nil
	}
	if err := a.py.compile(ctx, a.prefix, pyFiles); err != nil {
		return err
	}
	for _, lp := range linked {
		for _, pyc := range lp.pycs {
			if _, err := os.Lstat(filepath.Join(a.prefix, filepath.FromSlash(pyc))); err == nil {
				lp.rec.PathsData.Paths = append(lp.rec.PathsData.Paths, PrefixPath{Path: pyc, PathType: PathPycFile})
			}
		}
	}
	return nil
}
