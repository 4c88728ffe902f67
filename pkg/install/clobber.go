package install

import (
	"fmt"
	"path/filepath"
)

// Clobbering: two packages that write the same path.
//
// conda lets the package that comes later in the transaction's order
// overwrite the file and warns (ClobberWarning); both records keep listing
// the path. rattler's clobber registry also picks the last package in
// order as the winner and, when the winner is removed, puts back the file
// of a package that still lists it. condabox does both: the later package
// wins, each clobber is warned and returned in Result.Clobbers, and when an
// unlinked package leaves behind a path that a remaining package lists,
// that package's file is linked again from its extracted folder in the
// package cache (if the folder is gone, the path is left missing and a
// warning says so). rattler keeps losers' copies as "path__clobber-from-
// name" files; condabox does not: the cache already holds them.

// Clobber is a path that two packages write: Winner's file is in the
// prefix, Loser's was replaced.
type Clobber struct {
	Path, Winner, Loser string
}

// owners knows, for each path of the prefix, the packages that list it.
// The last one in a path's list is the one whose file is in the prefix.
type owners map[string][]*PrefixRecord

// add records that r lists its paths; r's files are now the prefix's.
func (o owners) add(r *PrefixRecord) {
	for _, p := range r.PathsData.Paths {
		if p.PathType != "directory" {
			o[p.Path] = append(o[p.Path], r)
		}
	}
}

// drop forgets r.
func (o owners) drop(r *PrefixRecord) {
	for _, p := range r.PathsData.Paths {
		list := o[p.Path]
		for i, x := range list {
			if x == r {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(o, p.Path)
		} else {
			o[p.Path] = list
		}
	}
}

// current returns the package whose file is at path, or nil.
func (o owners) current(path string) *PrefixRecord {
	if list := o[path]; len(list) > 0 {
		return list[len(list)-1]
	}
	return nil
}

// restoreClobbered links again, from its package folder, the file of each
// remaining package that lists one of paths (just removed by an unlink).
func (a *applier) restoreClobbered(paths []string) {
	for _, p := range paths {
		r := a.owners.current(p)
		if r == nil {
			continue
		}
		if err := a.relinkFrom(r, p); err != nil {
			a.warnf("clobber: %s of %s could not be restored: %v", p, r.Dist(), err)
		}
	}
}

// relinkFrom links path again from the package folder of r.
func (a *applier) relinkFrom(r *PrefixRecord, path string) error {
	dir := r.ExtractedPackageDir
	if dir == "" && r.Link != nil {
		dir = r.Link.Source
	}
	if dir == "" {
		return fmt.Errorf("the record names no package folder")
	}
	info, err := readPkgInfo(folder(dir))
	if err != nil {
		return err
	}
	pls, err := placements(info, a.py, r.Dist())
	if err != nil {
		return err
	}
	for _, pl := range pls {
		if pl.Target != path {
			continue
		}
		if err := a.j.willCreate(path); err != nil {
			return err
		}
		l := a.linker(map[string]bool{})
		_, err := l.link(dir, pl)
		return err
	}
	return fmt.Errorf("%s does not list it", filepath.Join(dir, "info", "paths.json"))
}

// noteClobbers warns about and records the files of dist that replace
// another package's.
func (a *applier) noteClobbers(dist string, files []string) {
	for _, f := range files {
		if r := a.owners.current(f); r != nil && r.Dist() != dist {
			a.warnf("clobber: %s of %s replaces the file of %s", f, dist, r.Dist())
			a.result.Clobbers = append(a.result.Clobbers, Clobber{Path: f, Winner: dist, Loser: r.Dist()})
		}
	}
}
