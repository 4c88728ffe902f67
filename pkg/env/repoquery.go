package env

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// QueryKind is what a repoquery asks.
type QueryKind string

const (
	// Depends asks what a package depends on.
	Depends QueryKind = "depends"
	// WhoNeeds asks which packages depend on a package.
	WhoNeeds QueryKind = "whoneeds"
)

// QueryRequest is a `condabox repoquery depends|whoneeds`.
type QueryRequest struct {
	Kind QueryKind
	// Spec is the package asked about: for depends, the newest record it
	// matches; for whoneeds, its name (exact) and the records it matches.
	Spec string
	// Recursive follows the answer transitively (the dependencies of the
	// dependencies; who needs those who need).
	Recursive bool
	// Remote answers from the channels of the request (CreateRequest's
	// Channels, .condarc's unless OverrideChannels, for its Platform and
	// noarch) instead of the installed environment (-n, -p, else the
	// active one, else base).
	Remote bool
	CreateRequest
}

// QueryResult is a repoquery's answer.
type QueryResult struct {
	Kind  QueryKind
	Query string
	// Root is the package asked about (depends: the record chosen;
	// whoneeds: a record of the name, when there is one).
	Root *conda.PackageRecord
	// Records are the answer, by name then newest first, Root excluded.
	Records []conda.PackageRecord
	// Below maps a record's Dist to those below it in the tree: its
	// dependencies (depends) or its dependents (whoneeds).
	Below map[string][]string
}

// Query answers a repoquery from the installed environment or the
// channels.
func Query(ctx context.Context, req QueryRequest) (*QueryResult, error) {
	spec, err := conda.ParseMatchSpec(req.Spec)
	if err != nil {
		return nil, fmt.Errorf("repoquery %s %q: %w", req.Kind, req.Spec, err)
	}
	if !spec.Name.IsExact() {
		return nil, fmt.Errorf("repoquery %s %q: give an exact package name", req.Kind, req.Spec)
	}
	var pool []conda.PackageRecord
	if req.Remote {
		pool, err = channelPool(ctx, req, spec)
	} else {
		pool, err = installedPool(ctx, req.CreateRequest)
	}
	if err != nil {
		return nil, err
	}
	res := &QueryResult{Kind: req.Kind, Query: req.Spec, Below: map[string][]string{}}
	switch req.Kind {
	case Depends:
		err = res.depends(pool, spec, req.Recursive)
	case WhoNeeds:
		res.whoNeeds(pool, spec, req.Recursive)
	default:
		err = fmt.Errorf("repoquery: unknown query %q", req.Kind)
	}
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(res.Records, newestFirst)
	return res, nil
}

// newestFirst orders records by name, then newest version and build.
func newestFirst(a, b conda.PackageRecord) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), b.Version.Compare(a.Version), cmp.Compare(b.BuildNumber, a.BuildNumber))
}

// installedPool returns the records of the environment req names.
func installedPool(ctx context.Context, req CreateRequest) ([]conda.PackageRecord, error) {
	in, err := ReadInstalled(ctx, req)
	if err != nil {
		return nil, err
	}
	pool := make([]conda.PackageRecord, len(in.Records))
	for i, r := range in.Records {
		pool[i] = r.PackageRecord
	}
	return pool, nil
}

// channelPool returns the channels' records a query of spec needs: spec's
// name and what it reaches (depends), or every record (whoneeds, which
// must read every package's dependencies).
func channelPool(ctx context.Context, req QueryRequest, spec conda.MatchSpec) ([]conda.PackageRecord, error) {
	gw, channels, p, err := openChannels(req.CreateRequest, req.Kind == WhoNeeds)
	if err != nil {
		return nil, err
	}
	platforms := []conda.Platform{p}
	roots := []conda.MatchSpec{spec}
	if req.Kind == WhoNeeds {
		names, err := gw.Names(ctx, channels, platforms)
		if err != nil {
			return nil, err
		}
		roots = nil
		for _, n := range names {
			m, err := conda.ParseMatchSpec(n)
			if err != nil {
				return nil, fmt.Errorf("repoquery: package name %q: %w", n, err)
			}
			roots = append(roots, m)
		}
	}
	if len(roots) == 0 {
		return nil, nil
	}
	index, err := gw.Load(ctx, channels, platforms, roots)
	if err != nil {
		return nil, err
	}
	return recordsOf(index, index.Names()), nil
}

// best returns the newest record of pool that m matches, or nil.
func best(pool []conda.PackageRecord, m conda.MatchSpec) *conda.PackageRecord {
	var out *conda.PackageRecord
	for i := range pool {
		r := &pool[i]
		if m.Matches(r) && (out == nil || newestFirst(*r, *out) < 0) {
			out = r
		}
	}
	return out
}

// depends finds the newest record spec matches and the newest record of
// each of its dependencies (virtual packages, which no channel holds, and
// dependencies nothing matches are left out), transitively if recursive.
func (res *QueryResult) depends(pool []conda.PackageRecord, spec conda.MatchSpec, recursive bool) error {
	root := best(pool, spec)
	if root == nil {
		return fmt.Errorf("repoquery depends %q: no package matches", res.Query)
	}
	res.Root = root
	seen := map[string]bool{root.Dist(): true}
	queue := []*conda.PackageRecord{root}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, d := range r.Depends {
			m, err := conda.ParseMatchSpec(d)
			if err != nil {
				return fmt.Errorf("repoquery depends: %s depends on %q: %w", r.Dist(), d, err)
			}
			dep := best(pool, m)
			if dep == nil {
				continue
			}
			res.Below[r.Dist()] = append(res.Below[r.Dist()], dep.Dist())
			if seen[dep.Dist()] {
				continue
			}
			seen[dep.Dist()] = true
			res.Records = append(res.Records, *dep)
			if recursive {
				queue = append(queue, dep)
			}
		}
	}
	return nil
}

// whoNeeds finds the records depending on spec's name, transitively (on
// the names found) if recursive.
func (res *QueryResult) whoNeeds(pool []conda.PackageRecord, spec conda.MatchSpec, recursive bool) {
	res.Root = best(pool, spec)
	rootKey := spec.Name.String()
	if res.Root != nil {
		rootKey = res.Root.Dist()
	}
	keyOf := map[string]string{spec.Name.String(): rootKey} // a name asked about → its tree node
	seen := map[string]bool{}
	queue := []string{spec.Name.String()}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for i := range pool {
			r := &pool[i]
			if !dependsOnName(r, name) {
				continue
			}
			res.Below[keyOf[name]] = append(res.Below[keyOf[name]], r.Dist())
			if seen[r.Dist()] {
				continue
			}
			seen[r.Dist()] = true
			res.Records = append(res.Records, *r)
			if _, asked := keyOf[r.Name]; recursive && !asked {
				keyOf[r.Name] = r.Dist()
				queue = append(queue, r.Name)
			}
		}
	}
}

// dependsOnName reports whether r depends on a package named name.
func dependsOnName(r *conda.PackageRecord, name string) bool {
	for _, d := range r.Depends {
		if m, err := conda.ParseMatchSpec(d); err == nil && m.Name.IsExact() && m.Name.String() == name {
			return true
		}
	}
	return false
}

// WriteText writes the answer as micromamba does: a table, or with tree the
// packages as a tree under the one asked about.
func (res *QueryResult) WriteText(w io.Writer, tree bool) error {
	if !tree {
		s := SearchResult{Records: res.Records}
		if len(res.Records) == 0 {
			_, err := fmt.Fprintf(w, "No package %s %s.\n", map[QueryKind]string{Depends: "needed by", WhoNeeds: "needs"}[res.Kind], res.Query)
			return err
		}
		return s.WriteText(w)
	}
	byDist := map[string]*conda.PackageRecord{}
	for i := range res.Records {
		byDist[res.Records[i].Dist()] = &res.Records[i]
	}
	label := func(key string) string {
		if r := byDist[key]; r != nil {
			return fmt.Sprintf("%s %s %s", r.Name, r.Version, r.Build)
		}
		if res.Root != nil && key == res.Root.Dist() {
			return fmt.Sprintf("%s %s %s", res.Root.Name, res.Root.Version, res.Root.Build)
		}
		return key
	}
	root := res.Query
	if res.Root != nil {
		root = res.Root.Dist()
	} else if res.Kind == WhoNeeds {
		root = strings.Fields(res.Query)[0]
	}
	var b strings.Builder
	b.WriteString(label(root) + "\n")
	shown := map[string]bool{root: true}
	var walk func(key, indent string)
	walk = func(key, indent string) {
		kids := slices.Clone(res.Below[key])
		slices.Sort(kids)
		kids = slices.Compact(kids)
		for i, k := range kids {
			branch, next := "├─ ", "│  "
			if i == len(kids)-1 {
				branch, next = "└─ ", "   "
			}
			if shown[k] {
				b.WriteString(indent + branch + label(k) + " (above)\n")
				continue
			}
			shown[k] = true
			b.WriteString(indent + branch + label(k) + "\n")
			walk(k, indent+next)
		}
	}
	walk(root, "")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the answer in the shape of micromamba's repoquery
// --json: {"query": {...}, "result": {"pkgs": [...]}}.
func (res *QueryResult) WriteJSON(w io.Writer) error {
	pkgs := actions(res.Records)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"query":  map[string]any{"query": res.Query, "type": string(res.Kind)},
		"result": map[string]any{"msg": "", "status": "OK", "pkgs": pkgs},
	})
}
