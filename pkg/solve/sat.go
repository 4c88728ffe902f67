package solve

import (
	"context"
	"slices"

	"github.com/condabox/condabox/pkg/conda"
)

// lit is a literal: variable<<1, plus 1 when negated.
type lit int32

func posLit(v int32) lit { return lit(v << 1) }
func negLit(v int32) lit { return lit(v<<1 | 1) }
func (l lit) v() int32   { return int32(l >> 1) }
func (l lit) neg() bool  { return l&1 == 1 }
func (l lit) not() lit   { return l ^ 1 }

// clauseKind says where a clause comes from, for explanations.
type clauseKind uint8

const (
	kindRequires   clauseKind = iota // ¬parent ∨ candidates of dep
	kindConstrains                   // ¬parent ∨ ¬record violating dep
	kindLearned                      // derived by conflict analysis
)

// clause is a disjunction of literals with its provenance.
type clause struct {
	lits   []lit
	kind   clauseKind
	parent int32 // the record (or root) that requires or constrains
	dep    int32 // index into pool.deps
	from   []ref // learned: the clauses it was resolved from
	// lbd is a learned clause's number of distinct decision levels when it
	// was learned: low means it links few decisions and is worth keeping.
	lbd int32
	// dropped learned clauses are no longer watched; they stay for
	// explanations, which follow from.
	dropped bool
}

// ref names a reason or conflict: a clause, or (when clause < 0) the
// at-most-one-per-name rule between variables a and b.
type ref struct {
	clause int32
	a, b   int32
}

// noRef is the reason of a decision.
var noRef = ref{clause: -1, a: -1}

// clauseRef refers to clause ci.
func clauseRef(ci int32) ref { return ref{clause: ci, a: -1} }

// isAMO reports whether r is the at-most-one rule rather than a clause.
func (r ref) isAMO() bool { return r.clause < 0 && r.a >= 0 }

// none reports whether r names nothing: no reason (a decision) or no conflict.
func (r ref) none() bool { return r.clause < 0 && r.a < 0 }

// watcher is a clause watching a literal, with another literal of the
// clause: when that one is true the clause is satisfied and need not be
// read, which saves most memory traffic of propagation.
type watcher struct {
	clause  int32
	blocker lit
}

// solver is the CDCL search over a pool.
type solver struct {
	ctx     context.Context
	p       *pool
	clauses []clause
	watches [][]watcher // literal → clauses watching it
	units   [][]int32   // variable → one-literal clauses ¬v (nothing provides a dependency)
	reqs    []int32     // requirement clauses in creation order: the decision order

	value      []int8 // per variable: 0 unassigned, 1 true, -1 false
	level      []int32
	reason     []ref
	trail      []lit
	limits     []int // trail length at the start of each decision level
	qhead      int
	chosen     []int32 // per name: the true variable the propagation has seen, or -1
	seen       []bool
	scratch    []lit
	learned    []int32 // learned clauses still watched
	maxLearned int     // how many learned clauses trigger the next reduce
}

// grow makes room for variables the pool created since the last call.
func (s *solver) grow() {
	for len(s.value) < len(s.p.solvables) {
		s.value = append(s.value, 0)
		s.level = append(s.level, -1)
		s.reason = append(s.reason, noRef)
		s.seen = append(s.seen, false)
		s.units = append(s.units, nil)
		s.watches = append(s.watches, nil, nil)
	}
	for len(s.chosen) < len(s.p.names) {
		s.chosen = append(s.chosen, -1)
	}
}

func (s *solver) litValue(l lit) int8 {
	x := s.value[l.v()]
	if l.neg() {
		return -x
	}
	return x
}

func (s *solver) decisionLevel() int32 { return int32(len(s.limits)) }

func (s *solver) assign(l lit, why ref) {
	v := l.v()
	s.value[v] = 1
	if l.neg() {
		s.value[v] = -1
	}
	s.level[v] = s.decisionLevel()
	s.reason[v] = why
	s.trail = append(s.trail, l)
}

// backtrack undoes every assignment above level lvl.
func (s *solver) backtrack(lvl int32) {
	if s.decisionLevel() <= lvl {
		return
	}
	limit := s.limits[lvl]
	for _, l := range s.trail[limit:] {
		v := l.v()
		if n := s.p.solvables[v].name; n >= 0 && s.chosen[n] == v {
			s.chosen[n] = -1
		}
		s.value[v] = 0
		s.level[v] = -1
		s.reason[v] = noRef
	}
	s.trail = s.trail[:limit]
	s.limits = s.limits[:lvl]
	s.qhead = min(s.qhead, limit)
}

// addClause stores a clause generated during the search, watches it, and
// reports the conflict (clause index) it causes now, or -1. A clause that
// is unit now propagates at the current level.
func (s *solver) addClause(c clause) int32 {
	ci := int32(len(s.clauses))
	if len(c.lits) == 1 {
		// Only requirement clauses with no candidates are unit: ¬parent.
		s.clauses = append(s.clauses, c)
		v := c.lits[0].v()
		s.units[v] = append(s.units[v], ci)
		switch s.litValue(c.lits[0]) {
		case -1:
			return ci
		case 0:
			s.assign(c.lits[0], clauseRef(ci))
		}
		return -1
	}
	// Watch the two literals that are best for the invariant: not false
	// first, then the false ones assigned last.
	rank := func(l lit) int32 {
		switch s.litValue(l) {
		case 1:
			return 1 << 30
		case 0:
			return 1<<30 - 1
		}
		return s.level[l.v()]
	}
	for i := 0; i < 2; i++ {
		best := i
		for j := i + 1; j < len(c.lits); j++ {
			if rank(c.lits[j]) > rank(c.lits[best]) {
				best = j
			}
		}
		c.lits[i], c.lits[best] = c.lits[best], c.lits[i]
	}
	s.clauses = append(s.clauses, c)
	s.watch(ci)
	switch {
	case s.litValue(c.lits[0]) == -1:
		return ci
	case s.litValue(c.lits[0]) == 0 && s.litValue(c.lits[1]) == -1:
		s.assign(c.lits[0], clauseRef(ci))
	}
	return -1
}

// watch adds a clause to the watch lists of its first two literals.
func (s *solver) watch(ci int32) {
	l := s.clauses[ci].lits
	s.watches[l[0]] = append(s.watches[l[0]], watcher{ci, l[1]})
	s.watches[l[1]] = append(s.watches[l[1]], watcher{ci, l[0]})
}

// materialize generates the clauses of a record set true for the first
// time: one per dependency and one per record its constraints exclude.
func (s *solver) materialize(v int32) int32 {
	sv := &s.p.solvables[v]
	if sv.materialized {
		if u := s.units[v]; len(u) > 0 {
			return u[0]
		}
		return -1
	}
	sv.materialized = true
	conflict := int32(-1)
	keep := func(ci int32) {
		if conflict < 0 {
			conflict = ci
		}
	}
	if v == rootVar {
		for _, d := range s.p.rootDeps {
			keep(s.require(v, d))
		}
		// After the root's own clauses, so that decide reaches them once
		// every requested spec has its version.
		for _, d := range s.p.rootDeps[:len(s.p.req.Specs)] {
			versions, builds := s.p.versionVars(d)
			for i, g := range versions {
				keep(s.require(g, builds[i]))
			}
		}
		return conflict
	}
	rec := sv.rec
	for _, text := range rec.Depends {
		keep(s.require(v, s.p.requirement(text)))
	}
	for _, f := range conda.ParseFeatureList(rec.Features) {
		keep(s.require(v, s.p.feature(f)))
	}
	for _, text := range rec.Constrains {
		d := s.p.constraint(text)
		if s.p.deps[d].err != nil {
			// Like rattler, a record whose constraint does not parse is
			// not installable: ignoring it could break the environment.
			keep(s.require(v, d))
			continue
		}
		s.grow()
		for _, c := range s.p.deps[d].cands {
			keep(s.addClause(clause{lits: []lit{negLit(v), negLit(c)}, kind: kindConstrains, parent: v, dep: d}))
		}
	}
	return conflict
}

// require adds the clause ¬parent ∨ candidates of dep d.
func (s *solver) require(parent, d int32) int32 {
	s.grow()
	cands := s.p.deps[d].cands
	lits := make([]lit, 0, 1+len(cands))
	lits = append(lits, negLit(parent))
	for _, c := range cands {
		lits = append(lits, posLit(c))
	}
	ci := s.addClause(clause{lits: lits, kind: kindRequires, parent: parent, dep: d})
	s.reqs = append(s.reqs, int32(len(s.clauses)-1))
	return ci
}

// propagate runs unit propagation to a fixpoint; it returns the conflict,
// or a ref with clause -1 and a -1 when there is none.
func (s *solver) propagate() ref {
	for s.qhead < len(s.trail) {
		p := s.trail[s.qhead]
		s.qhead++
		if !p.neg() {
			if ci := s.materialize(p.v()); ci >= 0 {
				return clauseRef(ci)
			}
			if c := s.atMostOne(p.v()); !c.none() {
				return c
			}
		}
		falseLit := p.not()
		ws := s.watches[falseLit]
		i, j := 0, 0
		for i < len(ws) {
			w := ws[i]
			i++
			if s.litValue(w.blocker) == 1 {
				ws[j] = w
				j++
				continue
			}
			c := &s.clauses[w.clause]
			if c.lits[0] == falseLit {
				c.lits[0], c.lits[1] = c.lits[1], c.lits[0]
			}
			w.blocker = c.lits[0]
			if s.litValue(c.lits[0]) == 1 {
				ws[j] = w
				j++
				continue
			}
			moved := false
			for k := 2; k < len(c.lits); k++ {
				if s.litValue(c.lits[k]) != -1 {
					c.lits[1], c.lits[k] = c.lits[k], c.lits[1]
					s.watches[c.lits[1]] = append(s.watches[c.lits[1]], watcher{w.clause, c.lits[0]})
					moved = true
					break
				}
			}
			if moved {
				continue
			}
			ws[j] = w
			j++
			if s.litValue(c.lits[0]) == -1 {
				j += copy(ws[j:], ws[i:])
				s.watches[falseLit] = ws[:j]
				return clauseRef(w.clause)
			}
			s.assign(c.lits[0], clauseRef(w.clause))
		}
		s.watches[falseLit] = ws[:j]
	}
	return noRef
}

// atMostOne applies "one record per name" for a variable just set true:
// every other candidate of its name becomes false.
func (s *solver) atMostOne(v int32) ref {
	n := s.p.solvables[v].name
	if n < 0 {
		return noRef
	}
	if o := s.chosen[n]; o >= 0 && o != v {
		return ref{clause: -1, a: v, b: o}
	}
	s.chosen[n] = v
	for _, c := range s.p.names[n].cands {
		if c == v {
			continue
		}
		switch s.value[c] {
		case 1:
			return ref{clause: -1, a: v, b: c}
		case 0:
			s.assign(negLit(c), ref{clause: -1, a: v, b: c})
		}
	}
	return noRef
}

// lits returns the literals of a reason or conflict.
func (s *solver) lits(r ref) []lit {
	if r.isAMO() {
		s.scratch = append(s.scratch[:0], negLit(r.b), negLit(r.a))
		return s.scratch
	}
	return s.clauses[r.clause].lits
}

// analyze derives the first-UIP clause of a conflict at the current level
// and the level to jump back to.
func (s *solver) analyze(conflict ref) (learnt []lit, from []ref, back int32) {
	learnt = []lit{0}
	from = []ref{conflict}
	var marked []int32
	pending := 0
	idx := len(s.trail) - 1
	r := conflict
	var p lit = -1
	for {
		for _, q := range s.lits(r) {
			if q == p {
				continue // the literal this reason implied
			}
			v := q.v()
			if s.seen[v] || s.level[v] == 0 {
				continue
			}
			s.seen[v] = true
			marked = append(marked, v)
			if s.level[v] == s.decisionLevel() {
				pending++
			} else {
				learnt = append(learnt, q)
			}
		}
		for !s.seen[s.trail[idx].v()] {
			idx--
		}
		p = s.trail[idx]
		idx--
		s.seen[p.v()] = false // resolved away: not part of the clause
		pending--
		if pending == 0 {
			break
		}
		r = s.reason[p.v()]
		from = append(from, r)
	}
	learnt[0] = p.not()
	learnt, from = s.minimize(learnt, from)
	for _, v := range marked {
		s.seen[v] = false
	}
	back = 0
	for i := 1; i < len(learnt); i++ {
		if lv := s.level[learnt[i].v()]; lv > back {
			back = lv
			learnt[1], learnt[i] = learnt[i], learnt[1]
		}
	}
	return learnt, from, back
}

// minimize drops the literals of a learned clause that its other literals
// already imply: those whose reason clause has only literals that are in
// the clause (marked seen) or fixed at level 0.
// The reasons used are added to from, for explanations.
func (s *solver) minimize(learnt []lit, from []ref) ([]lit, []ref) {
	out := learnt[:1]
	for _, q := range learnt[1:] {
		r := s.reason[q.v()]
		redundant := !r.none()
		if redundant {
			for _, x := range s.lits(r) {
				if x != q.not() && !s.seen[x.v()] && s.level[x.v()] > 0 {
					redundant = false
					break
				}
			}
		}
		if redundant {
			from = append(from, r)
		} else {
			out = append(out, q)
		}
	}
	return out, from
}

// firstReduce is how many learned clauses the first reduce keeps at most;
// each reduce raises the limit, so a long search keeps more.
const firstReduce = 2000

// lbd counts the distinct decision levels of a learned clause.
func (s *solver) lbd(learnt []lit) int32 {
	var levels []int32
	for _, q := range learnt {
		if lv := s.level[q.v()]; !slices.Contains(levels, lv) {
			levels = append(levels, lv)
		}
	}
	return int32(len(levels))
}

// reduce stops watching the worse half of the learned clauses (highest
// LBD, then longest), except those that are the reason of a current
// assignment or link only two levels. Propagation then visits far fewer
// clauses; completeness is kept because no original clause is dropped.
func (s *solver) reduce() {
	locked := func(ci int32) bool {
		v := s.clauses[ci].lits[0].v()
		return s.value[v] != 0 && s.reason[v].clause == ci
	}
	slices.SortStableFunc(s.learned, func(a, b int32) int {
		ca, cb := &s.clauses[a], &s.clauses[b]
		if ca.lbd != cb.lbd {
			return int(ca.lbd - cb.lbd)
		}
		return len(ca.lits) - len(cb.lits)
	})
	kept := s.learned[:0]
	for i, ci := range s.learned {
		if i < len(s.learned)/2 || s.clauses[ci].lbd <= 2 || locked(ci) {
			kept = append(kept, ci)
		} else {
			s.clauses[ci].dropped = true
		}
	}
	s.learned = kept
	s.maxLearned += firstReduce / 2
	for l := range s.watches {
		ws := s.watches[l][:0]
		for _, w := range s.watches[l] {
			if !s.clauses[w.clause].dropped {
				ws = append(ws, w)
			}
		}
		s.watches[l] = ws
	}
}

// conflictLevel is the highest level among a conflict's literals.
func (s *solver) conflictLevel(r ref) int32 {
	lv := int32(0)
	for _, q := range s.lits(r) {
		lv = max(lv, s.level[q.v()])
	}
	return lv
}

// decide picks the next decision for the first open requirement (its
// parent is installed, no candidate of it is yet), in this order:
//
//  1. requested specs, the one with the fewest candidates left first (it
//     constrains the others most, as in resolvo): the decision is the
//     spec's best version still possible, not yet a build, so that the
//     versions of all requested names come before any build, as in conda;
//  2. the builds of those versions, then dependencies, in the order their
//     clauses were generated, which is breadth first from the request: the
//     decision is the best candidate still possible.
//
// false means every requirement is met.
func (s *solver) decide() (lit, bool) {
	best, bestOpen := lit(-1), 0
	for _, ci := range s.reqs {
		c := &s.clauses[ci]
		if s.value[c.parent] != 1 {
			continue
		}
		if c.parent != rootVar && best >= 0 {
			break // a requested spec is open: it goes first
		}
		first, open := int32(-1), 0
		for _, v := range s.p.deps[c.dep].cands {
			if s.value[v] == 1 {
				open = -1
				break
			}
			if s.value[v] == 0 {
				if first < 0 {
					first = v
				}
				open++
			}
		}
		if open <= 0 {
			continue
		}
		if c.parent != rootVar {
			return posLit(first), true
		}
		choice, chosen := s.openVersion(s.p.deps[c.dep].versions)
		if chosen {
			continue // its version is chosen: its build comes later
		}
		if choice < 0 {
			choice = first
		}
		if best < 0 || open < bestOpen {
			best, bestOpen = posLit(choice), open
		}
	}
	return best, best >= 0
}

// openVersion returns the best of a requested spec's version variables
// still open, or -1 when none is (virtual and installed names have none,
// and learned clauses can rule them all out: the spec is then decided by
// record). chosen reports that one is already true.
func (s *solver) openVersion(versions []int32) (best int32, chosen bool) {
	best = -1
	for _, g := range versions {
		switch {
		case s.value[g] == 1:
			return -1, true
		case s.value[g] == 0 && best < 0:
			best = g
		}
	}
	return best, false
}

// errUnsat carries the conflict that was found at level 0.
type errUnsat struct{ conflict ref }

func (e *errUnsat) Error() string { return "unsatisfiable" }

// run searches for a model; it returns the true records or *errUnsat.
func (s *solver) run() ([]int32, error) {
	s.grow()
	s.assign(posLit(rootVar), noRef)
	s.maxLearned = firstReduce
	for n := 0; ; n++ {
		if n%256 == 0 {
			if err := s.ctx.Err(); err != nil {
				return nil, err
			}
		}
		conflict := s.propagate()
		s.grow()
		if conflict.none() {
			l, ok := s.decide()
			if !ok {
				break
			}
			s.limits = append(s.limits, len(s.trail))
			s.assign(l, noRef)
			continue
		}
		// A clause generated mid-search can be false below the current
		// level; analysis needs the level where it became false.
		lv := s.conflictLevel(conflict)
		if lv == 0 {
			return nil, &errUnsat{conflict: conflict}
		}
		s.backtrack(lv)
		learnt, from, back := s.analyze(conflict)
		s.backtrack(back)
		ci := int32(len(s.clauses))
		c := clause{lits: learnt, kind: kindLearned, parent: -1, dep: -1, from: from, lbd: s.lbd(learnt)}
		s.clauses = append(s.clauses, c)
		s.learned = append(s.learned, ci)
		if len(learnt) > 1 {
			s.watch(ci)
		}
		s.assign(learnt[0], clauseRef(ci))
		if len(s.learned) >= s.maxLearned {
			s.reduce()
		}
	}
	var out []int32
	for v := int32(1); v < int32(len(s.value)); v++ {
		if s.value[v] == 1 {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}
