package realistic

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
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/atomicfile"

	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/conda"
)

// buildTimestamp is every package's timestamp (ms), fixed so that the same
// inputs give the same bytes.
const buildTimestamp = 1767225600000 // 2026-01-01T00:00:00Z

// Options tunes Build. The zero value is valid.
type Options struct {
	// CacheDir keeps downloaded .debs and built packages between runs.
	// Empty means <user cache dir>/condabox/testchannel-realistic.
	CacheDir string
	// Formats are the archive formats every package is written in. Empty
	// means both .conda and .tar.bz2.
	Formats []pkgbuild.Format
	// Logf receives progress messages; nil discards them.
	Logf func(format string, args ...any)
}

// requiredTools are the programs Build runs.
var requiredTools = []string{"apt-cache", "apt-get", "dpkg-deb", "patchelf", "gcc"}

// CheckTools reports the first program Build needs that is not on PATH, so
// callers (tests) can skip with a clear message.
func CheckTools() error {
	for _, t := range requiredTools {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s is not on PATH; the realistic channel needs Debian 12's apt and dpkg-deb, patchelf and gcc: %w", t, err)
		}
	}
	return nil
}

// Build writes the realistic channel into outDir: packages made from Debian
// 12 binaries (python, jq, curl, openssl … and pure-python noarch packages)
// plus the synthetic edge-case packages, with the index of the linux-64,
// linux-aarch64 and noarch subdirs. Packages made from .debs are cached in
// opts.CacheDir under a key of the exact Debian versions, so a warm rebuild
// runs no download and no packaging. Only `apt-get download` uses the network.
func Build(ctx context.Context, outDir string, opts Options) error {
	if err := build(ctx, outDir, opts); err != nil {
		return fmt.Errorf("build realistic channel in %s: %w", outDir, err)
	}
	return nil
}

// build is Build without the error context.
func build(ctx context.Context, outDir string, opts Options) error {
	if err := CheckTools(); err != nil {
		return err
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	debDir, pkgDir := filepath.Join(opts.CacheDir, "debs"), filepath.Join(opts.CacheDir, "pkgs")
	for _, d := range []string{debDir, pkgDir, outDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	start := time.Now()
	versions, err := candidateVersions(ctx, allDebs(recipes), opts.Logf)
	if err != nil {
		return err
	}
	plans, err := plan(recipes, versions)
	if err != nil {
		return err
	}
	entries, err := buildCached(ctx, plans, versions, debDir, pkgDir, opts)
	if err != nil {
		return err
	}
	if err := checkLinkage(entries); err != nil {
		return err
	}
	var records []conda.PackageRecord
	for _, e := range entries {
		if err := placeFile(filepath.Join(pkgDir, e.key, e.Record.FileName), filepath.Join(outDir, e.Record.Subdir, e.Record.FileName)); err != nil {
			return err
		}
		records = append(records, e.Record)
	}
	synthetic, err := writeSynthetic(ctx, outDir, opts.Formats)
	if err != nil {
		return err
	}
	if err := index.WriteChannel(outDir, append(records, synthetic...), index.Options{}); err != nil {
		return err
	}
	opts.Logf("realistic: %d packages in %s (%s)", len(records)+len(synthetic), outDir, time.Since(start).Round(time.Millisecond))
	return nil
}

// withDefaults fills the empty fields of opts.
func (o Options) withDefaults() (Options, error) {
	if o.CacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("no CacheDir given and no user cache dir: %w", err)
		}
		o.CacheDir = filepath.Join(dir, "condabox", "testchannel-realistic")
	}
	if len(o.Formats) == 0 {
		o.Formats = []pkgbuild.Format{pkgbuild.FormatConda, pkgbuild.FormatTarBz2}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o, nil
}

// planned is a recipe resolved against the Debian versions apt offers: the
// record to write (without archive fields) and the key of everything the
// package is made from.
type planned struct {
	recipe *recipe
	record conda.PackageRecord
	debs   []string // "name=version" of the recipe's Debian packages
	key    string   // hex sha256 of the inputs; names the cache entry
	// runExports is set for libraries other recipes pin: the same pin
	// for whatever is built against them.
	runExports *conda.RunExports
}

// plan computes every package's record, in recipe order so that pins can
// name the versions and builds of the packages listed before.
func plan(rs []*recipe, versions map[string]string) ([]*planned, error) {
	byName := map[string]*planned{}
	var out []*planned
	for _, r := range rs {
		pl := &planned{recipe: r}
		for _, d := range r.debs {
			pl.debs = append(pl.debs, d+"="+versions[d])
		}
		toVersion := condaVersion
		if r.version != nil {
			toVersion = r.version
		}
		version, err := toVersion(versions[r.debs[0]])
		if err != nil {
			return nil, fmt.Errorf("recipe %s: %w", r.name, err)
		}
		depends, err := r.depends(byName)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		for _, s := range append([]string{recipeVersion, r.name, version, string(r.noarch)}, append(pl.debs, depends...)...) {
			fmt.Fprintf(h, "%q\n", s)
		}
		pl.key = hex.EncodeToString(h.Sum(nil))
		build := "h" + pl.key[:7] + "_0" + r.buildSuffix
		subdir := "linux-64"
		if r.noarch != conda.NoarchNone {
			subdir = "noarch"
		}
		if r.noarch == conda.NoarchPython {
			build = "pyh" + pl.key[:7] + "_0" // conda-forge's form for noarch python
		}
		v, err := conda.ParseVersion(version)
		if err != nil {
			return nil, fmt.Errorf("recipe %s: %w", r.name, err)
		}
		pl.record = conda.PackageRecord{
			Name: r.name, Version: v, Build: build, Depends: depends,
			Noarch: r.noarch, Subdir: subdir, License: r.license, Timestamp: buildTimestamp,
		}
		byName[r.name] = pl
		out = append(out, pl)
	}
	for _, r := range rs {
		for _, n := range r.deps {
			pl := byName[n]
			if pl.runExports != nil {
				continue
			}
			pin, err := pl.pin()
			if err != nil {
				return nil, err
			}
			pl.runExports = &conda.RunExports{Weak: []string{pin}}
		}
	}
	return out, nil
}

// depends returns the recipe's sorted depends: the glibc floor for compiled
// packages, pins of the packages in deps, exact pins of exactDeps, and
// moreDeps as written.
func (r *recipe) depends(planned map[string]*planned) ([]string, error) {
	deps := slices.Clone(r.moreDeps)
	if r.noarch == conda.NoarchNone {
		deps = append(deps, glibcDepends)
	}
	for _, n := range r.deps {
		p, ok := planned[n]
		if !ok {
			return nil, fmt.Errorf("recipe %s: depends on %s, which is not listed before it", r.name, n)
		}
		s, err := p.pin()
		if err != nil {
			return nil, fmt.Errorf("recipe %s: %w", r.name, err)
		}
		deps = append(deps, s)
	}
	for _, n := range r.exactDeps {
		p, ok := planned[n]
		if !ok {
			return nil, fmt.Errorf("recipe %s: depends on %s, which is not listed before it", r.name, n)
		}
		deps = append(deps, n+" "+p.record.Version.String()+" "+p.record.Build)
	}
	slices.Sort(deps)
	return deps, nil
}

// pin is how dependants pin the package, which is also its run_exports.
func (pl *planned) pin() (string, error) {
	return pinSpec(pl.record.Name, pl.record.Version.String(), pl.recipe.pin)
}

// about is the package's info/about.json: where it comes from.
func (pl *planned) about() map[string]any {
	return map[string]any{
		"summary":     pl.recipe.summary,
		"license":     pl.recipe.license,
		"home":        "https://packages.debian.org/bookworm/" + pl.recipe.debs[0],
		"description": "Repackaged by condabox's realistic test channel from Debian 12: " + strings.Join(pl.debs, ", "),
	}
}

// cacheEntry is one built package archive in the cache, stored as
// <pkgs>/<key>/<fn>.json next to the archive.
type cacheEntry struct {
	Record   conda.PackageRecord `json:"record"`
	Link     linkInfo            `json:"link"`
	key      string
	depNames []string
}

// buildCached returns the cache entries of all planned packages in every
// format, building the ones not cached yet. It downloads only the .debs of
// packages it has to build.
func buildCached(ctx context.Context, plans []*planned, versions map[string]string, debDir, pkgDir string, opts Options) ([]cacheEntry, error) {
	var all []cacheEntry
	var missing []*planned
	for _, pl := range plans {
		es, err := loadEntries(pkgDir, pl, opts.Formats)
		if err != nil {
			return nil, err
		}
		if es == nil {
			missing = append(missing, pl)
		}
		all = append(all, es...)
	}
	if len(missing) == 0 {
		return all, nil
	}
	var names []string
	for _, pl := range missing {
		names = append(names, pl.recipe.debs...)
	}
	debPaths, err := downloadDebs(ctx, debDir, versions, names, opts.Logf)
	if err != nil {
		return nil, err
	}
	for _, pl := range missing {
		t0 := time.Now()
		es, err := buildEntries(ctx, pl, debPaths, pkgDir, opts.Formats)
		if err != nil {
			return nil, err
		}
		opts.Logf("realistic: built %s (%s)", pl.record.Dist(), time.Since(t0).Round(time.Millisecond))
		all = append(all, es...)
	}
	return all, nil
}

// loadEntries returns the cached entries of pl in every format, or nil when
// one is missing.
func loadEntries(pkgDir string, pl *planned, formats []pkgbuild.Format) ([]cacheEntry, error) {
	var es []cacheEntry
	for _, f := range formats {
		fn := pl.record.Dist() + f.Extension()
		b, err := os.ReadFile(filepath.Join(pkgDir, pl.key, fn+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		e := cacheEntry{key: pl.key, depNames: depNames(pl.record.Depends)}
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("cache entry %s/%s.json: %w", pl.key, fn, err)
		}
		es = append(es, e)
	}
	return es, nil
}

// buildEntries makes the package from its .debs, writes it in every format
// into the cache and returns the entries. The entry .json is written last,
// after the archive is in place, so it marks a complete cache entry.
func buildEntries(ctx context.Context, pl *planned, debPaths map[string]string, pkgDir string, formats []pkgbuild.Format) ([]cacheEntry, error) {
	debs, err := readDebs(ctx, pl.recipe, debPaths)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(pkgDir, pl.key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p, link, err := makePackage(ctx, pl, debs, dir)
	if err != nil {
		return nil, err
	}
	var es []cacheEntry
	for _, f := range formats {
		rec, err := pkgbuild.WriteFile(dir, p, f)
		if err != nil {
			return nil, err
		}
		e := cacheEntry{Record: rec, Link: link, key: pl.key, depNames: depNames(rec.Depends)}
		b, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, rec.FileName+".json"), b, 0o600); err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, nil
}

// readDebs reads the entries of the recipe's Debian packages, keyed by
// package name; debPaths gives their .deb files.
func readDebs(ctx context.Context, r *recipe, debPaths map[string]string) (map[string][]debEntry, error) {
	debs := map[string][]debEntry{}
	for _, d := range r.debs {
		es, err := readDeb(ctx, debPaths[d])
		if err != nil {
			return nil, err
		}
		debs[d] = es
	}
	return debs, nil
}

// depNames returns the package names of match specs ("libzlib >=1.2" → libzlib).
func depNames(specs []string) []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i], _, _ = strings.Cut(s, " ")
	}
	return names
}

// checkLinkage proves that every shared library a package's ELF files need
// comes from glibc, the package itself or a package it (transitively)
// depends on — so an install of a package and its depends can run, and no
// file relies on a library of the build machine.
func checkLinkage(entries []cacheEntry) error {
	byName := map[string]*cacheEntry{}
	for i := range entries {
		byName[entries[i].Record.Name] = &entries[i]
	}
	for _, e := range entries {
		provided := map[string]bool{}
		seen := map[string]bool{}
		var visit func(name string)
		visit = func(name string) {
			d, ok := byName[name]
			if !ok || seen[name] {
				return // virtual packages (__glibc) and packages outside this set provide no libraries
			}
			seen[name] = true
			for _, so := range d.Link.Provides {
				provided[so] = true
			}
			for _, n := range d.depNames {
				visit(n)
			}
		}
		visit(e.Record.Name)
		for _, so := range e.Link.Needs {
			if !provided[so] {
				return fmt.Errorf("package %s needs %s, which neither it nor its depends ship", e.Record.Dist(), so)
			}
		}
	}
	return nil
}

// placeFile puts a cached archive into the channel: a hard link when both
// are on one file system, else a copy.
func placeFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	os.Remove(dst) // a previous build's file; Link does not overwrite
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
