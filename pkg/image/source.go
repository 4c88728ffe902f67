package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/atomicfile"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/install"
)

// A package reaches Build in one of two forms: an extracted folder of the
// package cache, or only its archive (pkgcache.GetArchive; downloaded or
// verified before it is first read: install.Package.Ready), which is read
// into memory (archive.Load) instead of being extracted — creating
// a package's files costs more than decompressing it on many disks, and a
// cold build would otherwise spend most of its time there. Both forms give
// the same image files (install.ImageFiles reads either).
//
// What collect needs of an archive-only package — its files' names,
// modes, sizes, hashes and mtimes, and its conda-meta record — is kept in
// the listing cache (Options.LayerCache/listings), so that a rebuild whose
// layers are all cached decompresses nothing; the package's content is read
// only when a layer or a .pyc compilation needs it (packageFiles.load).

// memoryBudget bounds the bytes of archive-only packages collect keeps in
// memory after listing them; the content of packages beyond it is read
// again when their layer is written, and let go once it is, so that an
// environment of several GiB (CUDA, MKL) does not need as much memory. A
// variable for tests.
var memoryBudget int64 = 1 << 30

// listingCacheVersion changes whenever a listing's meaning changes.
const listingCacheVersion = "condabox-listing-1"

// listing is what the listing cache keeps of one package at one prefix:
// its image files without content (but for activation files, which
// collect reads) and its conda-meta record.
type listing struct {
	Files  []install.ImageFile
	Record *install.PrefixRecord
}

// packageSource reads one archive-only package's files when they are
// needed, and lets go of them once its layer is written.
type packageSource struct {
	pkg    *install.Package
	python *conda.PackageRecord
	prefix string

	ready func() error // once, before the archive is first read

	mu     sync.Mutex
	loaded bool
	// files is the archive in memory once read; the entries' content
	// points into it, so keeping it costs nothing more.
	files *archive.Files
}

// listPackage returns the image files and record of p. A package with a
// folder is read from it; an archive-only one comes from the listing cache
// (without content: src loads it when needed) or is read from its archive
// (with content) and listed in the cache. src is nil for a package with a
// folder.
func listPackage(ctx context.Context, p *install.Package, python *conda.PackageRecord, opts Options, held *atomic.Int64) (files []install.ImageFile, rec *install.PrefixRecord, src *packageSource, err error) {
	if p.Dir != "" || p.FS != nil {
		files, rec, err = install.ImageFiles(p, python, opts.Prefix)
		return files, rec, nil, err
	}
	src = &packageSource{pkg: p, python: python, prefix: opts.Prefix, ready: func() error { return nil }}
	if p.Ready != nil {
		src.ready = sync.OnceValue(p.Ready)
	}
	name := listingPath(opts.LayerCache, p, python, opts.Prefix)
	if l, ok := readListing(name); ok {
		return l.Files, l.Record, src, nil
	}
	files, rec, err = src.read(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	src.loaded = true
	if name != "" {
		if err := writeListing(name, files, rec); err != nil {
			return nil, nil, nil, fmt.Errorf("listing cache: %w", err)
		}
	}
	if held.Add(src.files.Size()) > memoryBudget {
		// Over the budget: read again when its layer is written.
		held.Add(-src.files.Size())
		src.loaded, src.files = false, nil
		files = withoutContent(files)
	}
	return files, rec, src, nil
}

// read reads the package's archive into memory and lists its image files.
func (s *packageSource) read(ctx context.Context) ([]install.ImageFile, *install.PrefixRecord, error) {
	if err := s.ready(); err != nil {
		return nil, nil, err
	}
	fsys, err := archive.Load(ctx, s.pkg.TarballPath)
	if err != nil {
		return nil, nil, fmt.Errorf("package %s: %w", s.pkg.Record.Dist(), err)
	}
	s.files = fsys
	q := *s.pkg
	q.FS = fsys
	return install.ImageFiles(&q, s.python, s.prefix)
}

// extract writes the package's files that keep accepts (by
// package-relative name) into dest, from memory when they were read
// already.
func (s *packageSource) extract(ctx context.Context, dest string, keep func(name string) bool) error {
	s.mu.Lock()
	files := s.files
	s.mu.Unlock()
	if files != nil {
		return files.ExtractSome(dest, keep)
	}
	if err := s.ready(); err != nil {
		return err
	}
	return archive.ExtractSome(ctx, s.pkg.TarballPath, dest, keep)
}

// load gives the entries of pf (listed from the cache, without content)
// the bytes of their files, read from the package's archive. Each entry
// must still have the hash it was listed with: a listing that no longer
// matches its archive is an error, not a wrong image.
func (s *packageSource) load(ctx context.Context, pf *packageFiles) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded {
		return nil
	}
	files, _, err := s.read(ctx)
	if err != nil {
		return err
	}
	root := strings.TrimPrefix(s.prefix, "/")
	byName := make(map[string]*install.ImageFile, len(files))
	for i := range files {
		byName[root+"/"+files[i].Path] = &files[i]
	}
	for i := range pf.entries {
		e := &pf.entries[i]
		f, ok := byName[e.Name]
		if !ok {
			continue // a .pyc compiled for the image carries its bytes
		}
		if f.SHA256 != e.SHA256 || f.Size != e.Size {
			return fmt.Errorf("package %s: %s: the listing cache does not match the archive %s", pf.dist, f.Path, s.pkg.TarballPath)
		}
		e.Source, e.Data = f.Source, f.Data
	}
	s.loaded = true
	return nil
}

// release lets go of pf's content once its layer is written: nothing
// needs it any more (collect copied the activation files, the .pyc files
// are compiled), and an environment's packages need not all be in memory
// at once.
func (s *packageSource) release(pf *packageFiles) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range pf.entries {
		pf.entries[i].Data = nil
	}
	s.loaded, s.files = false, nil
}

// listingPath is the listing cache file of p at prefix in an environment
// whose python is python: a hash of everything its files and record depend
// on — the package's record (its archive's checksums included), the
// requested spec, the prefix and python (noarch paths and entry points). It
// is "" without a cache or without a checksum to trust the archive by.
func listingPath(dir string, p *install.Package, python *conda.PackageRecord, prefix string) string {
	if dir == "" || p.Record.SHA256 == "" && p.Record.MD5 == "" {
		return ""
	}
	rec, err := json.Marshal(&p.Record)
	if err != nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%q\n%q\n%s\n", listingCacheVersion, prefix, p.RequestedSpec, rec)
	if python != nil {
		fmt.Fprintf(h, "%s %s %s\n", python.Dist(), python.Version, python.SHA256)
	}
	return filepath.Join(dir, "listings", hex.EncodeToString(h.Sum(nil))+".json")
}

// readListing reads a listing; ok is false when there is none or it does
// not decode (then the package is read again).
func readListing(name string) (l listing, ok bool) {
	if name == "" {
		return l, false
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return l, false
	}
	if json.Unmarshal(b, &l) != nil || l.Record == nil {
		return l, false
	}
	return l, true
}

// withoutContent returns files as a listing holds them: without their
// bytes but for activation files', which collect reads.
func withoutContent(files []install.ImageFile) []install.ImageFile {
	out := make([]install.ImageFile, len(files))
	for i, f := range files {
		if !isActivationFile(f.Path) {
			f.Data = nil
		}
		f.Source = ""
		out[i] = f
	}
	return out
}

// writeListing stores files, without content but for activation files',
// and rec.
func writeListing(name string, files []install.ImageFile, rec *install.PrefixRecord) error {
	b, err := json.Marshal(listing{Files: withoutContent(files), Record: rec})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(name, b, 0o644)
}
