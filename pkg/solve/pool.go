package solve

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/conda"
)

// rootVar is the variable standing for the request itself: always true,
// its requirement clauses are the requested specs.
const rootVar = 0

// solvable is one variable: a candidate record, or the root.
type solvable struct {
	rec          *conda.PackageRecord // nil for the root
	name         int32                // index into pool.names
	installed    bool                 // the record is in Request.Installed
	materialized bool                 // its clauses have been generated
	// version marks a version variable: "some build of this version of a
	// requested name". Deciding these before any record gives the versions
	// of all requested names precedence over their builds, as in conda.
	version bool
}

// name is a package name with its candidates, loaded on first use.
type name struct {
	text     string
	loaded   bool
	cands    []int32    // variables, best first
	excluded []excluded // records left out, for explanations
	// requestChannel is set when a requested spec names a channel for this
	// name: it then replaces strict channel priority.
	requestChannel bool
}

// excluded is a record that is never a candidate, and why.
type excluded struct {
	rec    *conda.PackageRecord
	reason string
}

// dep is a parsed dependency or constraint with its matching candidates.
type dep struct {
	text string
	spec conda.MatchSpec
	name int32
	err  error // the text does not parse
	// versions are the version variables of a requested spec, best first.
	versions []int32
	// system marks the root requirement of a virtual package the target
	// has: conda counts those as installed.
	system bool
	cands  []int32 // candidates of name that match spec; for constraints, the ones violating it
}

// pool owns the variables and the candidate lists of a solve.
type pool struct {
	src       Source
	req       *Request
	solvables []solvable
	names     []name
	nameIDs   map[string]int32
	deps      []dep
	depIDs    map[string]int32 // by text, separately for requires and constrains
	chanPrio  map[string]int   // record channel → index in req.Channels
	installed map[string][]*conda.PackageRecord
	update    map[string]bool
	removed   map[string]bool
	pins      map[string][]conda.MatchSpec
	virtual   map[string][]*conda.PackageRecord
	rootDeps  []int32 // the requested specs, the virtual packages, the installed names kept
}

func newPool(src Source, req *Request) *pool {
	p := &pool{
		src:       src,
		req:       req,
		solvables: []solvable{{name: -1}},
		nameIDs:   map[string]int32{},
		depIDs:    map[string]int32{},
		chanPrio:  map[string]int{},
		installed: map[string][]*conda.PackageRecord{},
		update:    setOf(req.Update),
		removed:   setOf(req.Remove),
		pins:      map[string][]conda.MatchSpec{},
		virtual:   map[string][]*conda.PackageRecord{},
	}
	for i := range req.Installed {
		r := &req.Installed[i]
		p.installed[r.Name] = append(p.installed[r.Name], r)
	}
	for _, s := range req.Pinned {
		n := s.Name.String()
		p.pins[n] = append(p.pins[n], s)
	}
	for i := range req.Virtual {
		r := &req.Virtual[i]
		p.virtual[r.Name] = append(p.virtual[r.Name], r)
	}
	for _, s := range req.Specs {
		if s.Channel != "" {
			p.names[p.nameID(s.Name.String())].requestChannel = true
		}
	}
	return p
}

func setOf(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

func (p *pool) nameID(s string) int32 {
	if id, ok := p.nameIDs[s]; ok {
		return id
	}
	id := int32(len(p.names))
	p.names = append(p.names, name{text: s})
	p.nameIDs[s] = id
	return id
}

// candidates returns the variables of name n, best first, loading them on
// first use: records from the source (or the virtual packages for a
// __name) plus installed ones, minus those strict channel priority, pins
// and removals rule out.
func (p *pool) candidates(n int32) []int32 {
	nm := &p.names[n]
	if nm.loaded {
		return nm.cands
	}
	nm.loaded = true
	var recs []*conda.PackageRecord
	switch {
	case isVirtual(nm.text):
		recs = p.virtual[nm.text]
	case isFeature(nm.text):
		// conda's feature pseudo-package: it only carries the track
		// feature, so that a record with `features` pays for it.
		f := strings.TrimSuffix(nm.text, "@")
		recs = []*conda.PackageRecord{{Name: nm.text, Version: conda.MustParseVersion("0"), TrackFeatures: conda.FeatureList{f}, Channel: "@"}}
	default:
		src := p.src.Records(nm.text)
		for i := range src {
			recs = append(recs, &src[i])
		}
		for _, r := range p.installed[nm.text] {
			if !slices.ContainsFunc(recs, func(o *conda.PackageRecord) bool { return sameRecord(o, r) }) {
				recs = append(recs, r)
			}
		}
	}
	recs = p.filter(n, preferConda(recs))
	p.rank(nm.text, recs)
	for _, r := range recs {
		v := int32(len(p.solvables))
		p.solvables = append(p.solvables, solvable{rec: r, name: n, installed: p.isInstalled(r)})
		p.names[n].cands = append(p.names[n].cands, v)
	}
	return p.names[n].cands
}

// filter drops the records that may never be installed and notes why.
func (p *pool) filter(n int32, recs []*conda.PackageRecord) []*conda.PackageRecord {
	nm := &p.names[n]
	best := -1
	if p.req.ChannelPriority == Strict && !nm.requestChannel {
		for _, r := range recs {
			if pr := p.priority(r); !p.isInstalled(r) && (best < 0 || pr < best) {
				best = pr
			}
		}
	}
	kept := recs[:0:0]
	for _, r := range recs {
		var why string
		switch {
		case p.removed[nm.text]:
			why = "it is being removed"
		case best >= 0 && p.priority(r) != best && !p.isInstalled(r):
			why = fmt.Sprintf("strict channel priority: %s comes from a higher-priority channel", nm.text)
		case !p.req.ExcludeNewer.IsZero() && r.Time().After(p.req.ExcludeNewer) && !p.isInstalled(r):
			why = "it was uploaded " + r.Time().Format(time.RFC3339) + ", after --exclude-newer " + p.req.ExcludeNewer.UTC().Format(time.RFC3339)
		default:
			for _, pin := range p.pins[nm.text] {
				if !pin.Matches(r) {
					why = "it violates the pin " + specText(pin)
					break
				}
			}
		}
		if why != "" {
			nm.excluded = append(nm.excluded, excluded{rec: r, reason: why})
			continue
		}
		kept = append(kept, r)
	}
	return kept
}

// rank sorts records best first, in conda's order of preference.
func (p *pool) rank(n string, recs []*conda.PackageRecord) {
	keepInstalled := len(p.installed[n]) > 0 && !p.update[n]
	slices.SortStableFunc(recs, func(a, b *conda.PackageRecord) int {
		if keepInstalled {
			if c := boolOrder(p.isInstalled(a), p.isInstalled(b)); c != 0 {
				return c
			}
		}
		if p.req.ChannelPriority == Flexible {
			if c := p.priority(a) - p.priority(b); c != 0 {
				return c
			}
		}
		// A record with track_features ranks below every record without:
		// conda minimises them before anything else.
		if c := featureCount(a) - featureCount(b); c != 0 {
			return c
		}
		if c := b.Version.Compare(a.Version); c != 0 {
			return c
		}
		if a.BuildNumber != b.BuildNumber {
			if a.BuildNumber > b.BuildNumber {
				return -1
			}
			return 1
		}
		switch {
		case a.Timestamp > b.Timestamp:
			return -1
		case a.Timestamp < b.Timestamp:
			return 1
		}
		return 0
	})
}

// featureCount is what a record adds to conda's track_features count: its
// own track features and the pseudo-packages its features pull in.
func featureCount(r *conda.PackageRecord) int {
	return len(r.TrackFeatures) + len(conda.ParseFeatureList(r.Features))
}

// preferConda drops a .tar.bz2 record when the same package is also there
// as .conda, as conda does.
func preferConda(recs []*conda.PackageRecord) []*conda.PackageRecord {
	hasConda := map[string]bool{}
	for _, r := range recs {
		if base, ok := strings.CutSuffix(r.FileName, ".conda"); ok {
			hasConda[r.Channel+"/"+r.Subdir+"/"+base] = true
		}
	}
	if len(hasConda) == 0 {
		return recs
	}
	kept := recs[:0:0]
	for _, r := range recs {
		if base, ok := strings.CutSuffix(r.FileName, ".tar.bz2"); ok && hasConda[r.Channel+"/"+r.Subdir+"/"+base] {
			continue
		}
		kept = append(kept, r)
	}
	return kept
}

// boolOrder puts true before false.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// priority returns the index of r's channel in the request's channel order;
// records of no listed channel (virtual, installed from elsewhere) come last.
func (p *pool) priority(r *conda.PackageRecord) int {
	if pr, ok := p.chanPrio[r.Channel]; ok {
		return pr
	}
	pr := len(p.req.Channels)
	for i, c := range p.req.Channels {
		if c.Includes(r.Channel, p.req.ChannelConfig) {
			pr = i
			break
		}
	}
	p.chanPrio[r.Channel] = pr
	return pr
}

func (p *pool) isInstalled(r *conda.PackageRecord) bool {
	return slices.ContainsFunc(p.installed[r.Name], func(o *conda.PackageRecord) bool { return sameRecord(o, r) })
}

// sameRecord reports whether a and b are the same package file.
func sameRecord(a, b *conda.PackageRecord) bool {
	if a == b {
		return true
	}
	if a.URL != "" && b.URL != "" {
		return a.URL == b.URL
	}
	return a.Name == b.Name && a.Version.String() == b.Version.String() && a.Build == b.Build &&
		(a.Subdir == b.Subdir || a.Subdir == "" || b.Subdir == "")
}

// requirement returns the dep for a dependency string, parsed once per
// solve: its candidates are the records of its name that match.
func (p *pool) requirement(text string) int32 {
	return p.parsed("r"+text, text, func(d *dep) {
		for _, v := range p.candidates(d.name) {
			if p.matches(&d.spec, p.solvables[v].rec) {
				d.cands = append(d.cands, v)
			}
		}
	})
}

// constraint returns the dep for a run_constrained string: its candidates
// are the records of its name that violate it.
func (p *pool) constraint(text string) int32 {
	return p.parsed("c"+text, text, func(d *dep) {
		for _, v := range p.candidates(d.name) {
			if !p.matches(&d.spec, p.solvables[v].rec) {
				d.cands = append(d.cands, v)
			}
		}
	})
}

// versionVars creates the version variables of requested dep d: one per
// version among its candidates, in preference order, each with the dep
// "one of my builds" that its clause requires. It returns those deps.
func (p *pool) versionVars(d int32) (versions, builds []int32) {
	for _, c := range p.deps[d].cands {
		r := p.solvables[c].rec
		i := slices.IndexFunc(versions, func(v int32) bool { return p.solvables[v].rec.Version.Equal(r.Version) })
		if i < 0 {
			v := int32(len(p.solvables))
			rec := &conda.PackageRecord{Name: r.Name, Version: r.Version, Build: "*"}
			p.solvables = append(p.solvables, solvable{rec: rec, name: -1, version: true})
			versions = append(versions, v)
			builds = append(builds, int32(len(p.deps)))
			p.deps = append(p.deps, dep{text: r.Name + " " + r.Version.String(), name: p.deps[d].name})
			i = len(versions) - 1
		}
		p.deps[builds[i]].cands = append(p.deps[builds[i]].cands, c)
	}
	p.deps[d].versions = versions
	return versions, builds
}

// feature returns the dep on the pseudo-package of feature f.
func (p *pool) feature(f string) int32 {
	key := "f" + f
	if id, ok := p.depIDs[key]; ok {
		return id
	}
	id := int32(len(p.deps))
	p.depIDs[key] = id
	n := p.nameID(f + "@")
	p.deps = append(p.deps, dep{text: f + "@", name: n, cands: p.candidates(n)})
	return id
}

// requested returns a new dep for a requested spec.
func (p *pool) requested(s conda.MatchSpec) int32 {
	id := int32(len(p.deps))
	d := dep{text: specText(s), spec: s, name: p.nameID(s.Name.String())}
	for _, v := range p.candidates(d.name) {
		if p.matches(&d.spec, p.solvables[v].rec) {
			d.cands = append(d.cands, v)
		}
	}
	p.deps = append(p.deps, d)
	return id
}

func (p *pool) parsed(key, text string, fill func(*dep)) int32 {
	if id, ok := p.depIDs[key]; ok {
		return id
	}
	id := int32(len(p.deps))
	p.depIDs[key] = id
	d := dep{text: text, name: -1}
	spec, err := conda.ParseMatchSpec(text)
	if err == nil && !spec.Name.IsExact() {
		err = fmt.Errorf("package name %q is not exact", spec.Name.String())
	}
	if err != nil {
		d.err = err
	} else {
		d.spec = spec
		d.name = p.nameID(spec.Name.String())
		fill(&d)
	}
	p.deps = append(p.deps, d)
	return id
}

// matches is MatchSpec.Matches plus the channel, which only the pool can
// relate to a record.
func (p *pool) matches(s *conda.MatchSpec, r *conda.PackageRecord) bool {
	if !s.Matches(r) {
		return false
	}
	if s.Channel == "" {
		return true
	}
	ok, err := conda.ChannelMatches(s.Channel, r.Channel, p.req.ChannelConfig)
	return err == nil && ok
}

// label names a variable for people: "numpy 1.26.4 py312h_0", or "the request".
func (p *pool) label(v int32) string {
	if v == rootVar {
		return "the request"
	}
	r := p.solvables[v].rec
	return r.Name + " " + r.Version.String() + " " + r.Build
}
