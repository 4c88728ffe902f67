package pkgcache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gofrs/flock"

	"github.com/condabox/condabox/pkg/archive"
)

// CleanOptions says what Clean removes from the writable pkgs directories,
// as micromamba's clean flags do.
type CleanOptions struct {
	// IndexCache removes <pkgs_dir>/cache: the cached repodata documents,
	// their .info.json state, .names indexes, locks and shards.
	IndexCache bool
	// Tarballs removes the package archives (.conda, .tar.bz2).
	Tarballs bool
	// Packages removes the extracted package folders no environment uses.
	Packages bool
	// Locks removes the *.lock files of the pkgs directory and its cache.
	Locks bool
	// Force removes every entry of the pkgs directories, used or not; the
	// directories themselves stay (one may be a mount point).
	Force bool
	// InUse holds the folder names (<dist>) of the packages that an
	// environment uses: Packages keeps those folders.
	InUse map[string]bool
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
	// BuildCache, when set, is a folder removed whole besides the pkgs
	// directories (condabox build's layer cache), reported as
	// KindBuildCache; nothing when it does not exist.
	BuildCache string
	// TrashIn are environment folders whose *.conda_trash and
	// *.mamba_trash files (left by conda's and mamba's removals of files
	// in use) are removed, reported as KindTrash (micromamba's --trash).
	// condabox's own .condabox-trash belongs to a transaction's journal
	// and is never touched.
	TrashIn []string
}

// Kinds of what Clean removes, as CleanEntry.Kind names them.
const (
	KindIndexCache = "index-cache"
	KindTarball    = "tarball"
	KindPackage    = "package"
	KindLock       = "lock"
	KindBuildCache = "build-cache"
	KindTrash      = "trash"
	KindOther      = "other" // with Force: urls.txt, partial downloads …
)

// CleanEntry is one file or folder Clean removed (or would remove).
type CleanEntry struct {
	Kind string `json:"kind"`
	Path string `json:"path"`
	// Size is the bytes of its regular files; a folder's hard links into
	// environments count although removing it frees none of them.
	Size int64 `json:"size"`
}

// CleanSkip is an entry Clean left and why.
type CleanSkip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// CleanReport is what Clean did.
type CleanReport struct {
	// Dirs are the writable pkgs directories that were cleaned.
	Dirs    []string     `json:"pkgs_dirs"`
	Removed []CleanEntry `json:"removed"`
	Skipped []CleanSkip  `json:"skipped"`
	DryRun  bool         `json:"dry_run"`
}

// TotalSize is the sum of the sizes of the removed entries.
func (r *CleanReport) TotalSize() int64 {
	var n int64
	for _, e := range r.Removed {
		n += e.Size
	}
	return n
}

// heldReason is the note for an entry another process has locked.
const heldReason = "locked by another process"

// Clean removes from the writable ones of dirs what opts selects and
// reports it. A directory that does not exist or is not writable is left
// alone (a shared read-only cache is not ours to clean). Nothing is
// removed outside dirs and no symbolic link is followed: a link is removed
// itself, never its target. An entry whose lock another process holds (a
// download or extraction under way) is skipped with a note. Removal
// errors do not stop the cleaning; they are returned joined, each naming
// its path.
func Clean(ctx context.Context, dirs []string, opts CleanOptions) (*CleanReport, error) {
	c := &cleaner{opts: opts, report: &CleanReport{Removed: []CleanEntry{}, Skipped: []CleanSkip{}, DryRun: opts.DryRun}}
	for _, dir := range dirs {
		if err := ctx.Err(); err != nil {
			return c.report, err
		}
		fi, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			c.errs = append(c.errs, fmt.Errorf("clean package cache: %w", err))
			continue
		case !fi.IsDir():
			c.errs = append(c.errs, fmt.Errorf("clean package cache %s: not a directory", dir))
			continue
		case checkWritable(dir) != nil:
			continue
		}
		c.report.Dirs = append(c.report.Dirs, dir)
		if err := c.clean(dir); err != nil {
			c.errs = append(c.errs, fmt.Errorf("clean package cache %s: %w", dir, err))
		}
	}
	// Each folder is walked once: a root prefix holds envs/ and pkgs/.
	own := map[string]bool{}
	for _, d := range append(slices.Clone(dirs), opts.TrashIn...) {
		own[filepath.Clean(d)] = true
	}
	for _, prefix := range opts.TrashIn {
		if err := c.trash(ctx, filepath.Clean(prefix), own); err != nil {
			c.errs = append(c.errs, fmt.Errorf("clean trash of %s: %w", prefix, err))
		}
	}
	if opts.BuildCache != "" {
		if _, err := os.Lstat(opts.BuildCache); err == nil {
			c.remove(KindBuildCache, opts.BuildCache)
		} else if !errors.Is(err, fs.ErrNotExist) {
			c.errs = append(c.errs, fmt.Errorf("clean build cache: %w", err))
		}
	}
	return c.report, errors.Join(c.errs...)
}

// trash removes the conda and mamba trash files below prefix, leaving
// out the folders of own (other environments, package caches).
func (c *cleaner) trash(ctx context.Context, prefix string, own map[string]bool) error {
	return filepath.WalkDir(prefix, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch name := d.Name(); {
		case d.IsDir() && (name == ".condabox-trash" || p != prefix && own[p]):
			return filepath.SkipDir
		case !d.IsDir() && (strings.HasSuffix(name, ".conda_trash") || strings.HasSuffix(name, ".mamba_trash")):
			c.remove(KindTrash, p)
		}
		return nil
	})
}

// cleaner is the state of one Clean.
type cleaner struct {
	opts   CleanOptions
	report *CleanReport
	errs   []error
}

// indexDir is the repodata cache inside a pkgs directory (pkg/repodata).
const indexDir = "cache"

// clean runs the selected passes over one pkgs directory; locks go last so
// that the passes before can still take them.
func (c *cleaner) clean(dir string) error {
	o := c.opts
	if o.IndexCache || o.Force {
		index := filepath.Join(dir, indexDir)
		if err := c.cleanIndex(index); err != nil {
			return err
		}
		// Every entry goes with Force, the folder too once emptied; a
		// held lock keeps it.
		if o.Force && !o.DryRun && os.Remove(index) == nil {
			c.report.Removed = append(c.report.Removed, CleanEntry{Kind: KindIndexCache, Path: index})
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path, kind := filepath.Join(dir, e.Name()), entryKind(dir, e)
		if e.Name() == indexDir || !c.selected(kind, e.Name()) {
			continue
		}
		if dist := guardOf(e); dist != "" {
			c.underLock(filepath.Join(dir, dist+".lock"), path, func() { c.remove(kind, path) })
		} else {
			c.remove(kind, path)
		}
	}
	if o.Locks || o.Force {
		for _, e := range entries {
			if entryKind(dir, e) == KindLock {
				c.removeLock(filepath.Join(dir, e.Name()))
			}
		}
		if o.IndexCache || o.Force {
			return nil // the index pass took the cache's locks
		}
		index, err := os.ReadDir(filepath.Join(dir, indexDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for _, e := range index {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".lock") {
				c.removeLock(filepath.Join(dir, indexDir, e.Name()))
			}
		}
	}
	return nil
}

// selected reports whether the options remove a top-level entry of this
// kind and name. Locks are left to the lock pass.
func (c *cleaner) selected(kind, name string) bool {
	o := c.opts
	switch kind {
	case KindLock:
		return false
	case KindTarball:
		return o.Tarballs || o.Force
	case KindPackage:
		return o.Force || o.Packages && !o.InUse[name]
	}
	return o.Force
}

// entryKind tells what a top-level entry of pkgs directory dir is. Only a
// real folder (not a link to one) with info/index.json is a package.
func entryKind(dir string, e fs.DirEntry) string {
	name := e.Name()
	switch {
	case strings.HasPrefix(name, "."):
		return KindOther
	case e.Type().IsRegular() && strings.HasSuffix(name, ".lock"):
		return KindLock
	case e.Type().IsRegular() && isArchiveName(name):
		return KindTarball
	case e.IsDir():
		info, err := os.Lstat(filepath.Join(dir, name, "info"))
		if err != nil || !info.IsDir() {
			return KindOther
		}
		if _, err := os.Lstat(filepath.Join(dir, name, "info", "index.json")); err == nil {
			return KindPackage
		}
	}
	return KindOther
}

// isArchiveName reports whether name is a package archive's file name.
func isArchiveName(name string) bool {
	_, err := archive.FormatOf(name)
	return err == nil
}

// guardOf returns the <dist> whose entry lock (<dist>.lock, taken by Get)
// guards a top-level entry: an archive, a folder, or a download or
// extraction left unfinished (see removeLeftovers); "" for other files.
func guardOf(e fs.DirEntry) string {
	name := e.Name()
	if rest, ok := strings.CutPrefix(name, "."); ok {
		if dist, _, ok := strings.Cut(rest, ".extract-"); ok {
			return dist
		}
		if fn, ok := strings.CutSuffix(rest, ".part"); ok {
			if i := strings.LastIndexByte(fn, '.'); i > 0 && isArchiveName(fn[:i]) {
				return archive.Dist(fn[:i])
			}
		}
		return ""
	}
	switch {
	case e.IsDir():
		return name
	case e.Type().IsRegular() && isArchiveName(name):
		return archive.Dist(name)
	}
	return ""
}

// cleanIndex removes the repodata cache at dir. Each cached document is
// removed together with its state and name index while holding its lock,
// so that a refresh under way in another process is never cut; then the
// locks no process holds.
func (c *cleaner) cleanIndex(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !fi.IsDir():
		c.report.Skipped = append(c.report.Skipped, CleanSkip{dir, "not a directory"})
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	groups := map[string][]string{} // cache key → its files but the lock
	var locks []string
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch key := indexKey(e.Name()); {
		case key == "" || !e.Type().IsRegular():
			c.remove(KindIndexCache, path) // shards/, whose files are immutable
		case strings.HasSuffix(e.Name(), ".lock"):
			locks = append(locks, path)
		default:
			groups[key] = append(groups[key], path)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		c.underLock(filepath.Join(dir, key+".lock"), filepath.Join(dir, key+".*"), func() {
			for _, p := range groups[key] {
				c.remove(KindIndexCache, p)
			}
		})
	}
	for _, l := range locks {
		c.underLock(l, l, func() { c.remove(KindIndexCache, l) })
	}
	return nil
}

// indexKey returns the cache key of a file of the repodata cache: the stem
// of <key>.json, <key>.info.json, <key>.names, <key>.lock and of an
// atomicfile temporary .tmp-<key>.json-*; "" for anything else.
func indexKey(name string) string {
	key, _, ok := strings.Cut(strings.TrimPrefix(name, ".tmp-"), ".")
	if !ok || key == "" {
		return ""
	}
	return key
}

// underLock runs fn while holding the lock file lockName, unless another
// process holds it: then path is reported skipped. A lock file it had to
// create is removed again, so that cleaning leaves no new locks. On a dry
// run it only looks whether an existing lock is held.
func (c *cleaner) underLock(lockName, path string, fn func()) {
	fi, statErr := os.Lstat(lockName)
	existed := statErr == nil
	if existed && !fi.Mode().IsRegular() {
		// Opening it would follow a link, maybe out of the cache.
		c.report.Skipped = append(c.report.Skipped, CleanSkip{path, "its lock " + lockName + " is not a regular file"})
		return
	}
	if c.opts.DryRun && !existed {
		fn()
		return
	}
	l := flock.New(lockName)
	ok, err := l.TryLock()
	switch {
	case err != nil:
		c.errs = append(c.errs, fmt.Errorf("lock %s: %w", lockName, err))
		return
	case !ok:
		c.report.Skipped = append(c.report.Skipped, CleanSkip{path, heldReason})
		return
	}
	defer l.Unlock()
	fn()
	if !existed { // never on a dry run, which returned above
		os.Remove(lockName)
	}
}

// removeLock removes the lock file name unless another process holds it.
func (c *cleaner) removeLock(name string) {
	c.underLock(name, name, func() { c.remove(KindLock, name) })
}

// remove removes path (a link itself, never its target) and records it,
// or only records it on a dry run.
func (c *cleaner) remove(kind, path string) {
	size, err := diskSize(path)
	if err != nil {
		c.errs = append(c.errs, err)
		return
	}
	if !c.opts.DryRun {
		if err := os.RemoveAll(path); err != nil {
			c.errs = append(c.errs, err)
			return
		}
	}
	c.report.Removed = append(c.report.Removed, CleanEntry{Kind: kind, Path: path, Size: size})
}

// diskSize sums the sizes of the regular files at or under path, without
// following links.
func diskSize(path string) (int64, error) {
	var n int64
	err := filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // gone meanwhile: nothing to free
	}
	return n, err
}
