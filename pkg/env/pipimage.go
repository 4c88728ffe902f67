package env

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/condabox/condabox/pkg/install"
)

// PipFile is a file pip installed for an image (Plan.PipFiles): Path is
// relative to the image's root; a Linkname makes it a symlink.
type PipFile struct {
	Path     string
	Mode     fs.FileMode
	Data     []byte
	Linkname string
}

// PipFiles installs the plan's pip sections for an image whose environment
// lives at target, and returns the files pip added and the packages it
// installed (for the SBOM). pip runs only in a real environment, with its
// own python: the plan's packages are linked into a temporary folder on
// this machine (so the plan's platform must be one this machine runs) and
// pip installs there without writing .pyc files. What it wrote is taken
// with that folder's path replaced by target in text files (entry points'
// #! lines, metadata). With compile, the .py files pip added are compiled
// first, recording target's paths, in unchecked-hash mode as the image
// builder compiles noarch packages. A section that changes a conda
// package's files (pip upgrading or removing it) is an error naming the
// file: the image would hold conda's version.
func (p *Plan) PipFiles(ctx context.Context, target string, compile bool, progress Progress) ([]PipFile, []PipPackage, error) {
	if len(p.Pip) == 0 {
		return nil, nil, nil
	}
	if err := checkPip(p.Pip, p.Records); err != nil {
		return nil, nil, err
	}
	pkgs, err := p.fetchPackages(ctx, progress, false) // linked below: extracted
	if err != nil {
		return nil, nil, err
	}
	stage, err := os.MkdirTemp("", "condabox-pip-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(stage)
	prefix := filepath.Join(stage, "env")
	// No link scripts: what a post-link script wrote would be taken for
	// pip's files; image builds run none (the build warns of them).
	if _, err := install.Sync(ctx, prefix, pkgs, install.Options{SkipPyc: true, SkipLinkScripts: true}); err != nil {
		return nil, nil, fmt.Errorf("pip: link the environment to run pip in: %w", err)
	}
	for _, sec := range p.Pip {
		if err := installPipSection(ctx, prefix, prefix, sec, progress.W, []string{"--no-compile"}, []string{"PYTHONDONTWRITEBYTECODE=1"}); err != nil {
			return nil, nil, err
		}
	}
	recs, err := install.ReadPrefix(prefix)
	if err != nil {
		return nil, nil, err
	}
	owned := map[string]string{}
	for _, r := range recs {
		for _, f := range r.Files {
			owned[f] = r.Dist()
		}
	}
	for f, dist := range owned {
		if _, err := os.Lstat(filepath.Join(prefix, filepath.FromSlash(f))); err != nil {
			return nil, nil, fmt.Errorf("%s: its pip packages replace %s of the conda package %s: the image would hold conda's; make it a pip requirement only, or drop it from the conda dependencies", p.Pip[0].File, f, dist)
		}
	}
	if compile {
		if err := compilePip(ctx, prefix, target, owned); err != nil {
			return nil, nil, err
		}
	}
	root := strings.TrimPrefix(path.Clean(target), "/")
	var out []PipFile
	err = filepath.WalkDir(prefix, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(q, prefix+string(filepath.Separator)))
		switch {
		case q == prefix || d.IsDir() && rel == "conda-meta":
			if q != prefix {
				return filepath.SkipDir
			}
			return nil
		case d.IsDir() || owned[rel] != "":
			return nil
		}
		st, err := os.Lstat(q)
		if err != nil {
			return err
		}
		f := PipFile{Path: root + "/" + rel, Mode: st.Mode()}
		switch {
		case st.Mode().Type() == fs.ModeSymlink:
			l, err := os.Readlink(q)
			if err != nil {
				return err
			}
			f.Linkname = strings.Replace(l, prefix, target, 1)
		case st.Mode().IsRegular():
			data, err := os.ReadFile(q)
			if err != nil {
				return err
			}
			if !bytes.ContainsRune(data, 0) { // text: entry points, metadata
				data = bytes.ReplaceAll(data, []byte(prefix), []byte(path.Clean(target)))
			}
			f.Data = data
		default:
			return fmt.Errorf("pip wrote %s, neither a file nor a symlink", rel)
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("pip: read what it installed: %w", err)
	}
	return out, readPipPackages(prefix, recs), nil // none when the conda packages met every requirement
}

// compilePip compiles the .py files below prefix that owned does not list
// (pip's), with the environment's python: the .pyc files record target's
// paths (compileall -s/-p) and check no source (unchecked-hash), so they
// are valid in the image and the same on every build.
func compilePip(ctx context.Context, prefix, target string, owned map[string]string) error {
	var sources []string
	err := filepath.WalkDir(prefix, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(q, prefix+string(filepath.Separator)))
		if !d.IsDir() && strings.HasSuffix(rel, ".py") && owned[rel] == "" && strings.Contains(rel, "/site-packages/") {
			sources = append(sources, q)
		}
		return nil
	})
	if err != nil || len(sources) == 0 {
		return err
	}
	python := filepath.Join(prefix, "bin", "python")
	for len(sources) > 0 {
		n := min(len(sources), 500) // command lines have a limit
		args := append([]string{python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", "-s", prefix, "-p", path.Clean(target)}, sources[:n]...)
		c, err := Command(ctx, prefix, prefix, os.Environ(), args, "")
		if err != nil {
			return err
		}
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("pip: compile what it installed: %w\n%s", err, out)
		}
		sources = sources[n:]
	}
	return nil
}
