package install

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/condabox/condabox/pkg/conda"
)

// Options tunes a transaction. The zero value is valid.
type Options struct {
	// RootPrefix is ROOT_PREFIX for link scripts; empty means the prefix.
	RootPrefix string
	// SkipPyc leaves noarch python packages without compiled .pyc files.
	SkipPyc bool
	// History describes the command for conda-meta/history; a zero Time
	// means now.
	History HistoryEntry
	// Reinstall names installed packages Sync unlinks and links again
	// even when the target holds them unchanged (micromamba's
	// --force-reinstall).
	Reinstall []string
	// SkipLinkScripts runs no post-link or pre-unlink script (micromamba's
	// --skip-run-link-scripts): packages whose scripts set something up
	// are then linked without it.
	SkipLinkScripts bool
	// AlwaysCopy copies every file from the package cache instead of hard
	// linking it (micromamba's --always-copy / always_copy): the
	// environment then shares no inode with the cache, e.g. for a prefix
	// that will be copied into an image layer or edited in place.
	AlwaysCopy bool
	// RelocatePrefix is the prefix the environment's files are written for
	// when it is not where they are written (micromamba's
	// --relocate-prefix): prefix placeholders and entry points' shebangs
	// carry it, so the environment works once moved there — built in a
	// scratch folder and copied into an image at /opt/conda, say. Link
	// scripts and .pyc compilation run where the files are. Empty means
	// the prefix.
	RelocatePrefix string
	// Warnf receives warnings (clobbered files); nil discards them.
	Warnf func(format string, args ...any)
}

// Result says what a transaction did.
type Result struct {
	// Unlinked and Linked are the dists (name-version-build) removed and
	// added, in the order the transaction processed them.
	Unlinked, Linked []string
	// Clobbers are the paths two packages wrote.
	Clobbers []Clobber
	// Messages are what link scripts left in .messages.txt; conda prints
	// them after the transaction and deletes the file, and so do we.
	Messages string
}

// Transaction is the difference between an installed prefix and a target
// set of packages.
type Transaction struct {
	// Unlink are installed packages to remove, in removal order
	// (dependants first).
	Unlink []*PrefixRecord
	// Link are packages to add, in link order (dependencies first).
	Link []*Package
	// Keep are installed packages that stay.
	Keep []*PrefixRecord
}

// Diff computes the transaction that turns installed into target: target
// packages not installed (or installed in another build) are linked,
// installed packages that target lacks are unlinked. An update is an
// unlink of the old record and a link of the new one; so is each installed
// package reinstall names, even when target holds it unchanged.
func Diff(installed []*PrefixRecord, target []*Package, reinstall ...string) *Transaction {
	t := &Transaction{}
	inTarget := map[string]bool{}
	for _, p := range target {
		inTarget[identity(&p.Record)] = true
	}
	have := map[string]bool{}
	for _, r := range installed {
		if inTarget[identity(&r.PackageRecord)] && !slices.Contains(reinstall, r.Name) {
			t.Keep = append(t.Keep, r)
			have[identity(&r.PackageRecord)] = true
		} else {
			t.Unlink = append(t.Unlink, r)
		}
	}
	for _, p := range target {
		if !have[identity(&p.Record)] {
			t.Link = append(t.Link, p)
		}
	}
	t.Unlink = unlinkOrder(t.Unlink)
	t.Link = sortByDeps(t.Link, packageRecord)
	return t
}

func installedRecord(r *PrefixRecord) *conda.PackageRecord { return &r.PackageRecord }
func packageRecord(p *Package) *conda.PackageRecord        { return &p.Record }

// unlinkOrder sorts records to remove dependants before their
// dependencies, the reverse of linking.
func unlinkOrder(rs []*PrefixRecord) []*PrefixRecord {
	out := sortByDeps(rs, installedRecord)
	slices.Reverse(out)
	return out
}

// identity tells installed builds apart: the same dist from another
// channel or with other content is another package.
func identity(r *conda.PackageRecord) string {
	digest := r.SHA256
	if digest == "" {
		digest = r.MD5
	}
	return r.Dist() + "|" + digest
}

// sortByDeps orders records so that each comes after the records it
// depends on (by name); cycles are broken in name order. Ties keep name
// order so that the result is deterministic.
func sortByDeps[T any](items []T, rec func(T) *conda.PackageRecord) []T {
	sorted := append([]T(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool { return rec(sorted[i]).Name < rec(sorted[j]).Name })
	byName := map[string]T{}
	for _, it := range sorted {
		byName[rec(it).Name] = it
	}
	out := make([]T, 0, len(items))
	state := map[string]int{} // 1: visiting, 2: done
	var visit func(T)
	visit = func(it T) {
		name := rec(it).Name
		if state[name] != 0 {
			return
		}
		state[name] = 1
		for _, d := range rec(it).Depends {
			dep, _, _ := strings.Cut(strings.TrimSpace(d), " ")
			if next, ok := byName[dep]; ok {
				visit(next)
			}
		}
		state[name] = 2
		out = append(out, it)
	}
	for _, it := range sorted {
		visit(it)
	}
	return out
}

// Sync makes prefix hold exactly the target packages: an install, update
// and removal in one. It first recovers an interrupted transaction.
func Sync(ctx context.Context, prefix string, target []*Package, opts Options) (*Result, error) {
	return run(ctx, prefix, opts, func(installed []*PrefixRecord) (*Transaction, error) {
		return Diff(installed, target, opts.Reinstall...), nil
	})
}

// Remove unlinks the named packages from prefix, keeping the others. It is
// an error to name a package that is not installed.
func Remove(ctx context.Context, prefix string, names []string, opts Options) (*Result, error) {
	return run(ctx, prefix, opts, func(installed []*PrefixRecord) (*Transaction, error) {
		drop := map[string]bool{}
		for _, n := range names {
			drop[n] = true
		}
		t := &Transaction{}
		for _, r := range installed {
			if drop[r.Name] {
				t.Unlink = append(t.Unlink, r)
				delete(drop, r.Name)
			} else {
				t.Keep = append(t.Keep, r)
			}
		}
		for n := range drop {
			return nil, fmt.Errorf("remove %s from %s: not installed", n, prefix)
		}
		t.Unlink = unlinkOrder(t.Unlink)
		return t, nil
	})
}

// run locks prefix, recovers it, plans a transaction on its records and
// applies it.
func run(ctx context.Context, prefix string, opts Options, plan func([]*PrefixRecord) (*Transaction, error)) (*Result, error) {
	prefix, err := filepath.Abs(prefix)
	if err != nil {
		return nil, err
	}
	if r := opts.RelocatePrefix; r != "" && (!filepath.IsAbs(r) || filepath.Clean(r) != r) {
		return nil, fmt.Errorf("relocate prefix %q is not a clean absolute path", r)
	}
	if err := os.MkdirAll(filepath.Join(prefix, "conda-meta"), 0o755); err != nil {
		return nil, fmt.Errorf("create prefix: %w", err)
	}
	lock := flock.New(filepath.Join(prefix, lockName))
	if err := lock.Lock(); err != nil {
		return nil, fmt.Errorf("lock prefix %s: %w", prefix, err)
	}
	defer lock.Unlock()
	if _, err := Recover(prefix); err != nil {
		return nil, fmt.Errorf("recover interrupted transaction in %s: %w", prefix, err)
	}
	installed, err := ReadPrefix(prefix)
	if err != nil {
		return nil, err
	}
	t, err := plan(installed)
	if err != nil {
		return nil, err
	}
	return t.apply(ctx, prefix, opts)
}

// applier carries the state of a running transaction.
type applier struct {
	prefix string
	opts   Options
	j      *journal
	py     *pythonEnv
	owners owners
	result Result
	// linked are the paths written by this transaction's packages so far.
	linked map[string]bool
	// dirs are directories known to exist in the prefix.
	dirs map[string]bool
}

// target is the prefix the files are written for (Options.RelocatePrefix).
func (a *applier) target() string {
	if a.opts.RelocatePrefix != "" {
		return a.opts.RelocatePrefix
	}
	return a.prefix
}

// linker returns a linker into the prefix, for the target prefix, sharing
// the known directories dirs.
func (a *applier) linker(dirs map[string]bool) linker {
	return linker{prefix: a.prefix, target: a.target(), hardlinks: !a.opts.AlwaysCopy, dirs: dirs}
}

func (a *applier) warnf(format string, args ...any) {
	if a.opts.Warnf != nil {
		a.opts.Warnf(format, args...)
	}
}

// apply runs the transaction under a journal; any error rolls it back.
func (t *Transaction) apply(ctx context.Context, prefix string, opts Options) (*Result, error) {
	if len(t.Link) == 0 && len(t.Unlink) == 0 {
		return &Result{}, nil // as conda: nothing to do, no history entry
	}
	if opts.RootPrefix == "" {
		opts.RootPrefix = prefix
	}
	a := &applier{prefix: prefix, opts: opts, owners: owners{}, linked: map[string]bool{}, dirs: map[string]bool{}}
	// Read every package before touching the prefix: a broken cache entry
	// fails here with nothing to undo.
	infos := make([]*pkgInfo, len(t.Link))
	for i, p := range t.Link {
		info, err := readPkgInfo(folder(p.Dir))
		if err != nil {
			return nil, err
		}
		infos[i] = info
	}
	py, err := t.python()
	if err != nil {
		return nil, err
	}
	a.py = py
	// Installed files belong to the last package in dependency order that
	// lists them, as when they were linked.
	for _, r := range sortByDeps(slices.Concat(t.Keep, t.Unlink), installedRecord) {
		a.owners.add(r)
	}
	begin := journalEntry{HistorySize: -1}
	for _, r := range t.Unlink {
		begin.Unlink = append(begin.Unlink, r.Dist())
	}
	for _, p := range t.Link {
		begin.Link = append(begin.Link, p.Record.Dist())
	}
	if st, err := os.Stat(filepath.Join(prefix, "conda-meta", "history")); err == nil {
		begin.HistorySize = st.Size()
	}
	if a.j, err = beginJournal(prefix, begin); err != nil {
		return nil, err
	}
	if err := a.run(ctx, t, infos); err != nil {
		if rerr := a.j.rollback(); rerr != nil {
			return nil, fmt.Errorf("%w (and the rollback failed: %v; the next transaction retries it)", err, rerr)
		}
		return nil, err
	}
	if err := a.j.commit(); err != nil {
		return nil, err
	}
	msg, err := takeMessages(prefix)
	a.result.Messages = msg
	return &a.result, err
}

// python finds the environment's python after the transaction.
func (t *Transaction) python() (*pythonEnv, error) {
	for _, p := range t.Link {
		if p.Record.Name == "python" {
			return newPythonEnv(&p.Record)
		}
	}
	for _, r := range t.Keep {
		if r.Name == "python" {
			return newPythonEnv(&r.PackageRecord)
		}
	}
	return nil, nil
}

// run does the transaction's steps: unlink, link, history.
func (a *applier) run(ctx context.Context, t *Transaction, infos []*pkgInfo) error {
	for _, r := range t.Unlink {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.unlink(ctx, r); err != nil {
			return err
		}
		a.result.Unlinked = append(a.result.Unlinked, r.Dist())
	}
	// As conda: place every package's files, compile all .pyc files in
	// one python run, then run post-link scripts and write the records.
	// Every path to create is journaled at once: one fsync, not one per
	// package.
	linked := make([]*linkedPackage, len(t.Link))
	var creates []string
	for i, p := range t.Link {
		lp, err := a.plan(p, infos[i])
		if err != nil {
			return err
		}
		linked[i] = lp
		creates = append(creates, lp.creates()...)
	}
	if err := a.j.willCreate(creates...); err != nil {
		return err
	}
	for _, lp := range linked {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.link(lp); err != nil {
			return err
		}
	}
	if err := a.compilePyc(ctx, linked); err != nil {
		return err
	}
	var added []*conda.PackageRecord
	for _, lp := range linked {
		if err := a.finishLink(ctx, lp); err != nil {
			return err
		}
		a.result.Linked = append(a.result.Linked, lp.pkg.Record.Dist())
		added = append(added, &lp.pkg.Record)
	}
	h := a.opts.History
	if h.Time.IsZero() {
		h.Time = time.Now()
	}
	return appendFile(filepath.Join(a.prefix, "conda-meta", "history"), []byte(historyText(h, t.Unlink, added)))
}
