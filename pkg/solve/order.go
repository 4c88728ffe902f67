package solve

import (
	"slices"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// installOrder sorts records so that each comes after its dependencies.
// Cycles are broken deterministically: names are visited in sorted order
// and an edge back into the path being visited is ignored. A noarch python
// package also comes after python, which it needs to be compiled.
func installOrder(recs []*conda.PackageRecord) []conda.PackageRecord {
	byName := make(map[string]*conda.PackageRecord, len(recs))
	names := make([]string, 0, len(recs))
	for _, r := range recs {
		byName[r.Name] = r
		names = append(names, r.Name)
	}
	slices.Sort(names)
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[string]int, len(recs))
	out := make([]conda.PackageRecord, 0, len(recs))
	var visit func(n string)
	visit = func(n string) {
		if state[n] != 0 {
			return
		}
		state[n] = visiting
		r := byName[n]
		deps := dependencyNames(r)
		if r.Noarch == conda.NoarchPython {
			deps = append(deps, "python")
		}
		slices.Sort(deps)
		for _, d := range deps {
			if _, ok := byName[d]; ok && d != n {
				visit(d)
			}
		}
		state[n] = done
		out = append(out, *r)
	}
	for _, n := range names {
		visit(n)
	}
	return out
}

// dependencyNames returns the package names r depends on. The name is the
// first word of a dependency, before any version or channel syntax.
func dependencyNames(r *conda.PackageRecord) []string {
	out := make([]string, 0, len(r.Depends))
	for _, d := range r.Depends {
		d = strings.TrimSpace(d)
		if i := strings.LastIndex(d, "::"); i >= 0 {
			d = d[i+2:]
		}
		if i := strings.IndexAny(d, " =<>!~[;"); i >= 0 {
			d = d[:i]
		}
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}
