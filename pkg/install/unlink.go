package install

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// unlink removes an installed package: its pre-unlink script runs, then
// every file its record lists and the record itself go to the trash, and
// the directories left empty are removed. A path that another remaining
// package also lists is linked again from that package (see clobber.go).
func (a *applier) unlink(ctx context.Context, r *PrefixRecord) error {
	// conda only warns when a pre-unlink script fails: a broken script
	// must not make its package impossible to remove.
	if err := a.runLinkScript(ctx, &r.PackageRecord, "pre-unlink"); err != nil {
		a.warnf("%v", err)
	}
	files := recordFiles(r)
	for _, p := range files {
		if err := checkRelPath(p); err != nil { // a corrupt record must not reach outside
			return fmt.Errorf("unlink %s: conda-meta record: %w", r.Dist(), err)
		}
		if err := a.j.remove(p); err != nil {
			return fmt.Errorf("unlink %s: %w", r.Dist(), err)
		}
	}
	if err := a.j.remove(path.Join("conda-meta", metaName(&r.PackageRecord))); err != nil {
		return fmt.Errorf("unlink %s: %w", r.Dist(), err)
	}
	a.owners.drop(r)
	a.removeEmptyDirs(r, files)
	a.restoreClobbered(files)
	return nil
}

// recordFiles returns the non-directory paths of a record: paths_data, or
// files for records written without it.
func recordFiles(r *PrefixRecord) []string {
	if len(r.PathsData.Paths) == 0 {
		return r.Files
	}
	var out []string
	for _, p := range r.PathsData.Paths {
		if p.PathType != "directory" {
			out = append(out, p.Path)
		}
	}
	return out
}

// removeEmptyDirs removes the record's directory entries and the parents of
// its files when they are empty, deepest first.
func (a *applier) removeEmptyDirs(r *PrefixRecord, files []string) {
	dirs := map[string]bool{}
	for _, p := range r.PathsData.Paths {
		if p.PathType == "directory" {
			dirs[p.Path] = true
		}
	}
	for _, f := range files {
		dirs[path.Dir(f)] = true
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		if d != "." {
			sorted = append(sorted, d)
		}
	}
	// Deeper paths first, so that children go before their parents.
	sort.Slice(sorted, func(i, j int) bool {
		return strings.Count(sorted[i], "/") > strings.Count(sorted[j], "/")
	})
	for _, d := range sorted {
		pruneEmptyDirs(a.prefix, filepath.Join(a.prefix, filepath.FromSlash(d)))
	}
}
