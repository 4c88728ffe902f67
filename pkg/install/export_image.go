package install

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/condabox/condabox/pkg/conda"
)

// ImageFile is one path that linking a package creates in a prefix,
// described for a consumer that writes it elsewhere (pkg/image writes it into
// a tar layer) instead of into a prefix on disk. Linking itself places files
// from the same description.
type ImageFile struct {
	// Path is relative to the prefix, slash-separated.
	Path string
	// Type is conda.PathHardlink for a regular file, conda.PathSoftlink,
	// conda.PathDirectory or PathUnixPythonEntryPoint.
	Type conda.PathType
	// Mode holds the permission bits of a regular file.
	Mode fs.FileMode
	// Linkname is a softlink's target.
	Linkname string
	// Source is the file in the package folder whose bytes are the content;
	// "" when Data holds it (prefix replaced, generated, or read from a
	// package without a folder: Package.FS).
	Source string
	// Data is the content when Source is "".
	Data []byte
	// Size is the content's length.
	Size int64
	// ModTime is a package file's modification time, as its archive gave
	// it; zero for files the installer makes. Keeping it keeps the
	// package's timestamp-checked .pyc files valid.
	ModTime time.Time
	// SHA256 is the content's hash (hex), as paths.json or conda-meta's
	// sha256_in_prefix give it; "" for directories and softlinks.
	SHA256 string
}

// ImageFiles returns what linking p into a prefix at prefix would create —
// the same placement, prefix replacement, noarch python mapping and entry
// points as Sync — and the package's conda-meta record, without writing
// anything. p is read from its folder, or from p.FS when it has none.
// python is the environment's python record (nil when it has
// none). Link scripts are not run and no .pyc files are compiled: both need
// the prefix to exist.
func ImageFiles(p *Package, python *conda.PackageRecord, prefix string) ([]ImageFile, *PrefixRecord, error) {
	dist := p.Record.Dist()
	src, err := filesOf(p)
	if err != nil {
		return nil, nil, err
	}
	info, err := readPkgInfo(src)
	if err != nil {
		return nil, nil, err
	}
	var py *pythonEnv
	if python != nil {
		if py, err = newPythonEnv(python); err != nil {
			return nil, nil, err
		}
	}
	lp, err := planPackage(p, info, py)
	if err != nil {
		return nil, nil, err
	}
	rec := newPrefixRecord(p)
	var files []ImageFile
	for _, pl := range lp.pls {
		f, pp, err := placedFile(src, pl, prefix)
		if err != nil {
			return nil, nil, fmt.Errorf("package %s: %s: %w", dist, pl.Target, err)
		}
		files = append(files, f)
		rec.PathsData.Paths = append(rec.PathsData.Paths, pp)
	}
	for _, ep := range lp.eps {
		f := ep.file(prefix, py.Exe)
		files = append(files, f)
		rec.PathsData.Paths = append(rec.PathsData.Paths, f.generatedPath())
	}
	rec.listFiles()
	return files, rec, nil
}

// generatedPath is the conda-meta description of a file the installer
// makes (an entry point) rather than takes from a package.
func (f ImageFile) generatedPath() PrefixPath {
	return PrefixPath{Path: f.Path, PathType: f.Type, SHA256InPrefix: f.SHA256, SizeInBytes: f.Size}
}
