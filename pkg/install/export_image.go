package install

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/condabox/condabox/pkg/conda"
)

// ImageFile is one path that linking a package would create in a prefix,
// described for a consumer that writes it elsewhere (pkg/image writes it into
// a tar layer) instead of into a prefix on disk.
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
	// "" when Data holds it (prefix replaced or generated).
	Source string
	// Data is the content when Source is "".
	Data []byte
	// Size is the content's length.
	Size int64
	// SHA256 is the content's hash (hex), as paths.json or conda-meta's
	// sha256_in_prefix give it; "" for directories and softlinks.
	SHA256 string
}

// ImageFiles returns what linking p into a prefix at prefix would create —
// the same placement, prefix replacement, noarch python mapping and entry
// points as Sync — and the package's conda-meta record, without writing
// anything. python is the environment's python record (nil when it has
// none). Link scripts are not run and no .pyc files are compiled: both need
// the prefix to exist.
func ImageFiles(p *Package, python *conda.PackageRecord, prefix string) ([]ImageFile, *PrefixRecord, error) {
	dist := p.Record.Dist()
	info, err := readPkgInfo(p.Dir)
	if err != nil {
		return nil, nil, err
	}
	var py *pythonEnv
	if python != nil {
		if py, err = newPythonEnv(python); err != nil {
			return nil, nil, err
		}
	}
	pls, err := placements(info, py, dist)
	if err != nil {
		return nil, nil, err
	}
	rec := &PrefixRecord{PackageRecord: p.Record, RequestedSpec: p.RequestedSpec,
		PathsData: PathsData{PathsVersion: 1}, extra: p.extra}
	var files []ImageFile
	for _, pl := range pls {
		f, pp, err := imageFile(p.Dir, pl, prefix)
		if err != nil {
			return nil, nil, fmt.Errorf("package %s: %s: %w", dist, pl.Target, err)
		}
		files = append(files, f)
		rec.PathsData.Paths = append(rec.PathsData.Paths, pp)
	}
	if info.Link.Noarch.Type == conda.NoarchPython {
		for _, s := range info.Link.Noarch.EntryPoints {
			ep, err := parseEntryPoint(s)
			if err != nil {
				return nil, nil, fmt.Errorf("package %s: %w", dist, err)
			}
			data := ep.script(prefix, py.Exe)
			f := ImageFile{Path: "bin/" + ep.Command, Type: PathUnixPythonEntryPoint, Mode: 0o755, Data: data, Size: int64(len(data)), SHA256: sha256Hex(data)}
			files = append(files, f)
			rec.PathsData.Paths = append(rec.PathsData.Paths,
				PrefixPath{Path: f.Path, PathType: f.Type, SHA256InPrefix: f.SHA256, SizeInBytes: f.Size})
		}
	}
	for _, pp := range rec.PathsData.Paths {
		if pp.PathType != conda.PathDirectory {
			rec.Files = append(rec.Files, pp.Path)
		}
	}
	return files, rec, nil
}

// imageFile describes one placement as it would be in the prefix.
func imageFile(pkgDir string, pl placement, prefix string) (ImageFile, PrefixPath, error) {
	e := pl.Entry
	src := filepath.Join(pkgDir, filepath.FromSlash(e.Path))
	f := ImageFile{Path: pl.Target, Type: e.PathType}
	pp := PrefixPath{Path: pl.Target, PathType: e.PathType, SHA256: e.SHA256, SHA256InPrefix: e.SHA256,
		SizeInBytes: e.SizeInBytes, FileMode: e.FileMode, PrefixPlaceholder: e.PrefixPlaceholder, NoLink: e.NoLink}
	switch e.PathType {
	case conda.PathDirectory:
		f.Mode = 0o755
		return f, pp, nil
	case conda.PathSoftlink:
		target, err := os.Readlink(src)
		f.Linkname = target
		return f, pp, err
	case conda.PathHardlink:
	default:
		return f, pp, fmt.Errorf("unknown path_type %q", e.PathType)
	}
	st, err := os.Stat(src)
	if err != nil {
		return f, pp, err
	}
	f.Mode, f.Size = st.Mode().Perm(), st.Size()
	if e.PrefixPlaceholder == "" {
		f.Source = src
		if pp.SHA256 == "" { // packages without paths.json carry no hashes
			if pp.SHA256, err = fileSHA256(src); err != nil {
				return f, pp, err
			}
			pp.SHA256InPrefix, pp.SizeInBytes = pp.SHA256, st.Size()
		}
		f.SHA256 = pp.SHA256InPrefix
		return f, pp, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return f, pp, err
	}
	if pp.SHA256 == "" {
		pp.SHA256 = sha256Hex(data)
	}
	if pp.FileMode == conda.FileModeBinary {
		if data, err = replaceBinary(data, pp.PrefixPlaceholder, prefix, pp.Path); err != nil {
			return f, pp, err
		}
	} else {
		pp.FileMode = conda.FileModeText
		data = replaceText(data, pp.PrefixPlaceholder, prefix)
	}
	f.Data, f.Size, f.SHA256 = data, int64(len(data)), sha256Hex(data)
	pp.SHA256InPrefix, pp.SizeInBytes = f.SHA256, f.Size
	return f, pp, nil
}
