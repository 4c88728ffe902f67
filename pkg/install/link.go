package install

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// textPlaceholder is the prefix placeholder of packages whose has_prefix
// lines name only a path (conda-build before 3).
const textPlaceholder = "/opt/anaconda1anaconda2anaconda3"

// Package is one package to link: an extracted folder of the package cache
// (info/ and the payload) and its repodata record.
type Package struct {
	// Dir is the extracted package folder.
	Dir string
	// Record is info/repodata_record.json (or info/index.json).
	Record conda.PackageRecord
	// RequestedSpec is the user's spec that asked for this package, if any;
	// conda-meta records it.
	RequestedSpec string
	// TarballPath is the archive the folder came from, if known.
	TarballPath string
	// FS holds the package's files when Dir is "": its archive read into
	// memory (archive.Load). Only ImageFiles reads packages without a
	// folder; linking into a prefix needs one.
	FS fs.FS
	// Ready, when not nil, must be called before TarballPath is read: it
	// downloads the archive, or checks the one the package cache has
	// against the record's checksums (pkgcache.Held.Pending).
	Ready func() error

	// extra keeps the record's keys PackageRecord does not model.
	extra map[string]json.RawMessage
}

// ReadPackage reads an extracted package folder. Its record comes from
// info/repodata_record.json, which the package cache writes; a folder
// without one (extracted by hand) falls back to info/index.json.
func ReadPackage(dir string) (*Package, error) {
	p := &Package{Dir: dir}
	name := filepath.Join(dir, "info", "repodata_record.json")
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		name = filepath.Join(dir, "info", "index.json")
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", dir, err)
	}
	if err := p.decodeRecord(b, name); err != nil {
		return nil, fmt.Errorf("read package %s: %w", dir, err)
	}
	return p, nil
}

// ArchivePackage is a package the package cache holds as its archive only
// (pkgcache.GetArchive): record is the repodata_record.json the cache would
// have written on extracting it, read as ReadPackage reads that file. It
// has neither Dir nor FS: a reader sets FS to the archive's files
// (archive.Load) before ImageFiles.
func ArchivePackage(archive string, record []byte) (*Package, error) {
	p := &Package{TarballPath: archive}
	if err := p.decodeRecord(record, "its record"); err != nil {
		return nil, fmt.Errorf("read package %s: %w", archive, err)
	}
	return p, nil
}

// decodeRecord sets p's record from b, the content of name.
func (p *Package) decodeRecord(b []byte, name string) error {
	if err := json.Unmarshal(b, &p.Record); err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	p.extra, _ = unknownMembers(b) // cannot fail where the typed decode succeeded
	if p.Record.Name == "" {
		return fmt.Errorf("%s has no name", name)
	}
	return nil
}

// pkgInfo is what linking needs from a package's info/ folder.
type pkgInfo struct {
	Paths []conda.PathEntry
	Link  conda.LinkJSON
}

// readPkgInfo reads info/paths.json and info/link.json. Packages older than
// paths.json list their files in info/files, their placeholders in
// info/has_prefix and their never-hardlink files in info/no_link.
func readPkgInfo(src pkgFiles) (*pkgInfo, error) {
	info := &pkgInfo{}
	var pj conda.PathsJSON
	err := src.readJSON("info/paths.json", &pj)
	switch {
	case err == nil:
		info.Paths = pj.Paths
	case errors.Is(err, fs.ErrNotExist):
		if info.Paths, err = readLegacyPaths(src); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	for _, e := range info.Paths {
		if err := checkRelPath(e.Path); err != nil {
			return nil, fmt.Errorf("package %s: %w", src, err)
		}
	}
	err = src.readJSON("info/link.json", &info.Link)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return info, nil
}

// checkRelPath refuses a package path that would land outside the prefix.
func checkRelPath(p string) error {
	if p == "" || path.IsAbs(p) || strings.Contains(p, `\`) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("path %q is not a clean relative path inside the prefix", p)
	}
	return nil
}

// readLegacyPaths builds paths.json entries from info/files, info/has_prefix
// and info/no_link. Path types come from the payload itself.
func readLegacyPaths(src pkgFiles) ([]conda.PathEntry, error) {
	dir := src.String()
	files, err := src.readLines("info/files")
	if err != nil {
		return nil, fmt.Errorf("package %s has neither info/paths.json nor info/files: %w", dir, err)
	}
	prefixLines, err := src.readLines("info/has_prefix")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	hasPrefix, err := parseHasPrefix(prefixLines)
	if err != nil {
		return nil, fmt.Errorf("package %s: info/has_prefix: %w", dir, err)
	}
	noLinkLines, err := src.readLines("info/no_link")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	noLink := map[string]bool{}
	for _, l := range noLinkLines {
		noLink[l] = true
	}
	var out []conda.PathEntry
	for _, f := range files {
		e := conda.PathEntry{Path: f, PathType: conda.PathHardlink, NoLink: noLink[f]}
		if err := checkRelPath(f); err != nil {
			return nil, fmt.Errorf("package %s: info/files: %w", dir, err)
		}
		st, err := src.lstat(f)
		if err != nil {
			return nil, fmt.Errorf("package %s: info/files lists %s: %w", dir, f, err)
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			e.PathType = conda.PathSoftlink
		}
		if p, ok := hasPrefix[f]; ok {
			e.PrefixPlaceholder, e.FileMode = p.text, p.mode
		}
		out = append(out, e)
	}
	return out, nil
}

// placeholder is a file's prefix placeholder and how to replace it.
type placeholder struct {
	text string
	mode conda.FileMode
}

// parseHasPrefix parses info/has_prefix lines: "<placeholder> <mode>
// <path>" (each part possibly quoted) or just "<path>", which means the
// old default placeholder in text mode.
func parseHasPrefix(lines []string) (map[string]placeholder, error) {
	out := map[string]placeholder{}
	for _, l := range lines {
		f := strings.Fields(l)
		switch len(f) {
		case 1:
			out[f[0]] = placeholder{textPlaceholder, conda.FileModeText}
		case 3:
			mode := conda.FileMode(f[1])
			if mode != conda.FileModeText && mode != conda.FileModeBinary {
				return nil, fmt.Errorf("line %q: mode %q is neither text nor binary", l, f[1])
			}
			ph := strings.Trim(f[0], `"'`)
			if ph == "" {
				return nil, fmt.Errorf("line %q: empty placeholder", l)
			}
			out[strings.Trim(f[2], `"'`)] = placeholder{ph, mode}
		default:
			return nil, fmt.Errorf("line %q: want \"<placeholder> <mode> <path>\" or \"<path>\"", l)
		}
	}
	return out, nil
}

// placement is one paths.json entry of a package and where it goes.
type placement struct {
	Entry  conda.PathEntry
	Target string // relative to the prefix, slash-separated
}

// placements maps a package's paths to prefix paths (noarch python paths
// move into the environment's site-packages and bin/).
func placements(info *pkgInfo, py *pythonEnv, name string) ([]placement, error) {
	noarchPython := info.Link.Noarch.Type == conda.NoarchPython
	if noarchPython && py == nil {
		return nil, fmt.Errorf("package %s is noarch: python, but the environment has no python", name)
	}
	out := make([]placement, len(info.Paths))
	for i, e := range info.Paths {
		out[i] = placement{Entry: e, Target: e.Path}
		if noarchPython {
			out[i].Target = py.targetPath(e.Path)
		}
	}
	return out, nil
}

// linker places files from one package folder into a prefix.
type linker struct {
	prefix string
	// target is the prefix placeholders are replaced with: prefix, or
	// Options.RelocatePrefix.
	target string
	// hardlinks is false once a hardlink failed (another filesystem):
	// every later file is copied without trying again.
	hardlinks bool
	// copied is true when at least one plain file was copied.
	copied bool
	// dirs are directories known to exist, to save a MkdirAll per file;
	// it may be shared by the linkers of one transaction.
	dirs map[string]bool
}

// mkdirAll creates dir unless it is known to exist.
func (l *linker) mkdirAll(dir string) error {
	if l.dirs[dir] {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	l.dirs[dir] = true
	return nil
}

// link places one entry at pl.Target, which must not exist, and returns
// its conda-meta description.
func (l *linker) link(pkgDir string, pl placement) (PrefixPath, error) {
	e := pl.Entry
	dst := filepath.Join(l.prefix, filepath.FromSlash(pl.Target))
	if e.PathType == conda.PathDirectory {
		return pl.prefixPath(), l.mkdirAll(dst)
	}
	if err := l.mkdirAll(filepath.Dir(dst)); err != nil {
		return pl.prefixPath(), err
	}
	if e.PathType == conda.PathHardlink && e.PrefixPlaceholder == "" && e.SHA256 != "" && l.hardlinks && !e.NoLink {
		// The common case, with no stat: the link keeps mode and content.
		if os.Link(filepath.Join(pkgDir, filepath.FromSlash(e.Path)), dst) == nil {
			return pl.prefixPath(), nil
		}
		l.hardlinks = false
	}
	f, pp, err := placedFile(folder(pkgDir), pl, l.target)
	switch {
	case err != nil:
		return pp, err
	case f.Type == conda.PathSoftlink:
		return pp, os.Symlink(f.Linkname, dst)
	case f.Source == "":
		// Prefix replaced: always a new file, a hardlink would change the cache.
		return pp, os.WriteFile(dst, f.Data, f.Mode)
	case l.hardlinks && !e.NoLink && os.Link(f.Source, dst) == nil:
		// Only files without a hash in paths.json get here with hardlinks on.
		return pp, nil
	}
	l.copied = true
	return pp, copyFile(f.Source, dst, f.Mode)
}

// prefixPath is the conda-meta description of pl as the package gives it.
func (pl placement) prefixPath() PrefixPath {
	e := pl.Entry
	return PrefixPath{Path: pl.Target, PathType: e.PathType, SHA256: e.SHA256, SHA256InPrefix: e.SHA256,
		SizeInBytes: e.SizeInBytes, FileMode: e.FileMode, PrefixPlaceholder: e.PrefixPlaceholder, NoLink: e.NoLink}
}

// placedFile describes one placement as it is in a prefix at prefix: its
// content (prefix replaced where the package asks) and its conda-meta
// description. Linking writes it to disk, ImageFiles into an image.
func placedFile(src pkgFiles, pl placement, prefix string) (ImageFile, PrefixPath, error) {
	e := pl.Entry
	f := ImageFile{Path: pl.Target, Type: e.PathType}
	pp := pl.prefixPath()
	switch e.PathType {
	case conda.PathDirectory:
		f.Mode = 0o755
		return f, pp, nil
	case conda.PathSoftlink:
		target, err := src.readLink(e.Path)
		f.Linkname = target
		return f, pp, err
	case conda.PathHardlink:
	default:
		return f, pp, fmt.Errorf("unknown path_type %q", e.PathType)
	}
	st, err := src.stat(e.Path)
	if err != nil {
		return f, pp, err
	}
	f.Mode, f.Size, f.ModTime = st.Mode().Perm(), st.Size(), st.ModTime()
	if e.PrefixPlaceholder == "" {
		if pp.SHA256 == "" { // packages without paths.json carry no hashes
			if pp.SHA256, err = src.sha256(e.Path); err != nil {
				return f, pp, err
			}
			pp.SHA256InPrefix, pp.SizeInBytes = pp.SHA256, st.Size()
		}
		f.SHA256 = pp.SHA256InPrefix
		if f.Source = src.path(e.Path); f.Source == "" {
			f.Data, err = src.content(e.Path)
		}
		return f, pp, err
	}
	data, err := src.readFile(e.Path)
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

// copyFile copies src to a new file dst with mode perm.
func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in) // copy_file_range on Linux
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(dst, perm) // the umask may have narrowed perm
	}
	return err
}

// writeGenerated writes a file the installer makes (an entry point) and
// returns its conda-meta description.
func writeGenerated(prefix string, f ImageFile) (PrefixPath, error) {
	dst := filepath.Join(prefix, filepath.FromSlash(f.Path))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return PrefixPath{}, err
	}
	if err := os.WriteFile(dst, f.Data, f.Mode); err != nil {
		return PrefixPath{}, err
	}
	return f.generatedPath(), nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fileSHA256 hashes a file's content.
func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// linkedPackage is a package to link: where its files go, then, once
// linked, its record (without the .pyc files and files list yet).
type linkedPackage struct {
	pkg *Package
	pls []placement
	eps []entryPoint
	// files are the prefix paths of its files and entry points.
	files []string
	// pyFiles are the .py files to compile, pycs where their byte code goes.
	pyFiles, pycs []string
	rec           *PrefixRecord
}

// meta is the package's conda-meta record path.
func (lp *linkedPackage) meta() string {
	return path.Join("conda-meta", metaName(&lp.pkg.Record))
}

// creates lists every path linking the package creates, including the
// record's temporary file: a crash may leave it behind.
func (lp *linkedPackage) creates() []string {
	return slices.Concat(lp.files, lp.pycs, []string{lp.meta(), lp.meta() + tmpSuffix})
}

// planPackage works out where a package's files and entry points go, for
// linking and ImageFiles alike. py is nil when the environment has no python.
func planPackage(p *Package, info *pkgInfo, py *pythonEnv) (*linkedPackage, error) {
	dist := p.Record.Dist()
	pls, err := placements(info, py, dist)
	if err != nil {
		return nil, err
	}
	lp := &linkedPackage{pkg: p, pls: pls}
	noarchPython := info.Link.Noarch.Type == conda.NoarchPython
	if noarchPython {
		for _, s := range info.Link.Noarch.EntryPoints {
			ep, err := parseEntryPoint(s)
			if err != nil {
				return nil, fmt.Errorf("package %s: %w", dist, err)
			}
			lp.eps = append(lp.eps, ep)
		}
	}
	for _, pl := range pls {
		if pl.Entry.PathType != conda.PathDirectory {
			lp.files = append(lp.files, pl.Target)
		}
		if noarchPython && pl.Entry.PathType == conda.PathHardlink && strings.HasSuffix(pl.Target, ".py") {
			lp.pyFiles = append(lp.pyFiles, pl.Target)
		}
	}
	for _, ep := range lp.eps {
		lp.files = append(lp.files, ep.path())
	}
	return lp, nil
}

// plan works out where a package's files, entry points and .pyc files go.
func (a *applier) plan(p *Package, info *pkgInfo) (*linkedPackage, error) {
	lp, err := planPackage(p, info, a.py)
	if err != nil {
		return nil, err
	}
	if len(lp.pyFiles) > 0 && !a.opts.SkipPyc { // only noarch python packages have them
		lp.pycs = a.py.pycCandidates(lp.pyFiles)
	}
	return lp, nil
}

// link places one package's files and entry points. Their paths are
// journaled already; one that exists was written by an earlier package of
// this transaction, which loses it.
func (a *applier) link(lp *linkedPackage) error {
	p, dist := lp.pkg, lp.pkg.Record.Dist()
	a.noteClobbers(dist, lp.files)
	for _, f := range lp.files {
		if a.linked[f] {
			if err := a.j.remove(f); err != nil {
				return err
			}
		}
		a.linked[f] = true
	}
	rec := newPrefixRecord(p)
	rec.ExtractedPackageDir, rec.PackageTarballFullPath = p.Dir, p.TarballPath
	if rec.PackageTarballFullPath == "" && p.Record.FileName != "" {
		rec.PackageTarballFullPath = filepath.Join(filepath.Dir(p.Dir), p.Record.FileName)
	}
	l := a.linker(a.dirs)
	for _, pl := range lp.pls {
		pp, err := l.link(p.Dir, pl)
		if err != nil {
			return fmt.Errorf("link %s of %s: %w", pl.Target, dist, err)
		}
		rec.PathsData.Paths = append(rec.PathsData.Paths, pp)
	}
	for _, ep := range lp.eps {
		pp, err := writeGenerated(a.prefix, ep.file(a.target(), a.py.Exe))
		if err != nil {
			return fmt.Errorf("write entry point %s of %s: %w", ep.Command, dist, err)
		}
		rec.PathsData.Paths = append(rec.PathsData.Paths, pp)
	}
	rec.Link = &RecordLink{Source: p.Dir, Type: LinkHard}
	if l.copied {
		rec.Link.Type = LinkCopy
	}
	lp.rec = rec
	a.owners.add(rec)
	return nil
}

// finishLink runs the package's post-link script and writes its record.
func (a *applier) finishLink(ctx context.Context, lp *linkedPackage) error {
	lp.rec.listFiles()
	if err := a.runLinkScript(ctx, &lp.pkg.Record, "post-link"); err != nil {
		return err
	}
	return writeRecord(a.prefix, lp.rec)
}

// newPrefixRecord starts the conda-meta record of p, its paths to be added.
func newPrefixRecord(p *Package) *PrefixRecord {
	return &PrefixRecord{PackageRecord: p.Record, RequestedSpec: p.RequestedSpec,
		PathsData: PathsData{PathsVersion: 1}, extra: p.extra}
}

// listFiles sets the record's files: its paths except directories.
func (r *PrefixRecord) listFiles() {
	for _, pp := range r.PathsData.Paths {
		if pp.PathType != conda.PathDirectory {
			r.Files = append(r.Files, pp.Path)
		}
	}
}
