package env

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/condabox/condabox/pkg/install"
)

// PipPackage is a Python distribution installed in an environment by pip
// (or any installer but conda): a *.dist-info folder of site-packages that
// no conda-meta record lists. conda list shows these with the build
// "pypi_0" and the channel "pypi"; env export writes them under pip:.
type PipPackage struct {
	Name, Version string
}

// pipBuild and pipChannel are how conda lists a pip package.
const (
	pipBuild   = "pypi_0"
	pipChannel = "pypi"
)

// readPipPackages finds the pip packages of prefix: the dist-info folders
// of its lib/python*/site-packages that recs do not list, sorted by name.
// Their name and version come from METADATA, else from the folder's name.
func readPipPackages(prefix string, recs []*install.PrefixRecord) []PipPackage {
	owned := map[string]bool{}
	for _, r := range recs {
		for _, f := range r.Files {
			if d, ok := distInfoDir(f); ok {
				owned[d] = true
			}
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(prefix, "lib", "python*", "site-packages", "*.dist-info"))
	var out []PipPackage
	for _, d := range dirs {
		rel, err := filepath.Rel(prefix, d)
		if err != nil || owned[filepath.ToSlash(rel)] {
			continue
		}
		p := pipPackageOf(d)
		if p.Name != "" {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b PipPackage) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out
}

// distInfoDir returns the dist-info folder a conda-meta file path lies in.
func distInfoDir(file string) (string, bool) {
	for d := path.Dir(file); d != "." && d != "/"; d = path.Dir(d) {
		if strings.HasSuffix(d, ".dist-info") {
			return d, true
		}
	}
	return "", false
}

// pipPackageOf reads a dist-info folder's Name and Version.
func pipPackageOf(dir string) PipPackage {
	var p PipPackage
	if data, err := os.ReadFile(filepath.Join(dir, "METADATA")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() && sc.Text() != "" { // the headers end at the first blank line
			k, v, ok := strings.Cut(sc.Text(), ":")
			switch {
			case !ok:
			case strings.EqualFold(k, "Name"):
				p.Name = strings.TrimSpace(v)
			case strings.EqualFold(k, "Version"):
				p.Version = strings.TrimSpace(v)
			}
		}
	}
	if p.Name == "" || p.Version == "" {
		base := strings.TrimSuffix(filepath.Base(dir), ".dist-info")
		if name, version, ok := strings.Cut(base, "-"); ok {
			p.Name, p.Version = name, version
		}
	}
	return p
}
