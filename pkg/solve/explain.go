package solve

import (
	"encoding/json"
	"fmt"

	"github.com/condabox/condabox/pkg/conda"
	"slices"
	"strings"
)

// UnsatisfiableError says why a request has no solution. It is built from
// the clauses that took part in the proof, so everything it names matters.
type UnsatisfiableError struct {
	// Problems are one sentence per conflict, e.g. "numpy 1.26.4 requires
	// python >=3.12,<3.13 but python 3.11.* was requested"; they are what
	// micromamba's JSON output calls solver_problems.
	Problems []string
	// Tree shows, for each requested spec involved, how it leads to the
	// conflict.
	Tree []*Problem
}

// Problem is one node of an explanation tree.
type Problem struct {
	Message  string     `json:"message"`
	Children []*Problem `json:"children,omitempty"`
}

// Error returns the problems and the tree as text.
func (e *UnsatisfiableError) Error() string {
	var b strings.Builder
	b.WriteString("cannot solve the request:")
	for _, p := range e.Problems {
		b.WriteString("\n  " + p)
	}
	if len(e.Tree) > 0 {
		b.WriteString("\nhow the requested specs lead there:")
		writeTree(&b, e.Tree, "\n")
	}
	return b.String()
}

// MarshalJSON writes {"problems": [...], "tree": [...]}.
func (e *UnsatisfiableError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Problems []string   `json:"problems"`
		Tree     []*Problem `json:"tree"`
	}{e.Problems, e.Tree})
}

func writeTree(b *strings.Builder, nodes []*Problem, indent string) {
	for i, n := range nodes {
		branch, next := "├─ ", "│  "
		if i == len(nodes)-1 {
			branch, next = "└─ ", "   "
		}
		b.WriteString(indent + branch + n.Message)
		writeTree(b, n.Children, indent+next)
	}
}

// Limits that keep an explanation readable when a proof is large (the
// faulty sudoku's involves hundreds of records).
const (
	maxProblems  = 50
	maxTreeNodes = 300
)

// proof is the part of the clause database a level-0 conflict rests on.
type proof struct {
	requires   []int32           // requirement clauses, in creation order
	constrains map[int32][]int32 // constraint dep → records it excludes here
	consParent map[int32][]int32 // constraint dep → records that impose it
	conflicts  map[int32][]int32 // variable → others of its name it cannot go with
	involved   map[int32]bool    // every variable named by the proof
}

// collect walks back from the conflict through reasons of level-0
// assignments and the antecedents of learned clauses to the original
// clauses.
func (s *solver) collect(conflict ref) *proof {
	pr := &proof{
		constrains: map[int32][]int32{},
		consParent: map[int32][]int32{},
		conflicts:  map[int32][]int32{},
		involved:   map[int32]bool{rootVar: true},
	}
	seenClause := map[int32]bool{}
	seenAMO := map[[2]int32]bool{}
	work := []ref{conflict}
	for len(work) > 0 {
		r := work[len(work)-1]
		work = work[:len(work)-1]
		var lits []lit
		switch {
		case r.none():
			continue
		case r.isAMO():
			key := [2]int32{min(r.a, r.b), max(r.a, r.b)}
			if seenAMO[key] {
				continue
			}
			seenAMO[key] = true
			pr.conflicts[r.a] = append(pr.conflicts[r.a], r.b)
			pr.conflicts[r.b] = append(pr.conflicts[r.b], r.a)
			pr.involved[r.a], pr.involved[r.b] = true, true
			lits = []lit{negLit(r.a), negLit(r.b)}
		default:
			if seenClause[r.clause] {
				continue
			}
			seenClause[r.clause] = true
			c := &s.clauses[r.clause]
			lits = c.lits
			switch c.kind {
			case kindLearned:
				work = append(work, c.from...)
			case kindRequires:
				pr.requires = append(pr.requires, r.clause)
				pr.involved[c.parent] = true
			case kindConstrains:
				other := lits[0].v()
				if other == c.parent {
					other = lits[1].v()
				}
				pr.constrains[c.dep] = append(pr.constrains[c.dep], other)
				if !slices.Contains(pr.consParent[c.dep], c.parent) {
					pr.consParent[c.dep] = append(pr.consParent[c.dep], c.parent)
				}
				pr.involved[c.parent], pr.involved[other] = true, true
			}
		}
		for _, q := range lits {
			if v := q.v(); s.litValue(q) == -1 && s.level[v] == 0 {
				work = append(work, s.reason[v])
			}
		}
	}
	slices.Sort(pr.requires)
	return pr
}

// explain turns a level-0 conflict into an UnsatisfiableError.
func (s *solver) explain(conflict ref) *UnsatisfiableError {
	pr := s.collect(conflict)
	e := &UnsatisfiableError{}
	// Group requirement clauses by dependency: who needs it.
	parents := map[int32][]int32{}
	var deps []int32
	for _, ci := range pr.requires {
		c := &s.clauses[ci]
		if _, ok := parents[c.dep]; !ok {
			deps = append(deps, c.dep)
		}
		parents[c.dep] = append(parents[c.dep], c.parent)
	}
	var problems []string
	add := func(p string) {
		if !slices.Contains(problems, p) {
			problems = append(problems, p)
		}
	}
	for _, d := range deps {
		if len(s.p.deps[d].cands) == 0 {
			add(s.nothingProvides(d, parents[d]))
		}
	}
	// Two requirements of one name that no record satisfies together.
	for i, d1 := range deps {
		for _, d2 := range deps[i+1:] {
			a, b := &s.p.deps[d1], &s.p.deps[d2]
			if a.name != b.name || a.name < 0 || len(a.cands) == 0 || len(b.cands) == 0 || overlap(a.cands, b.cands) {
				continue
			}
			first, second := d1, d2
			if slices.Contains(parents[d1], rootVar) {
				first, second = d2, d1
			}
			add(s.who(first, parents[first]) + " but " + s.who(second, parents[second]))
		}
	}
	// A constraint that excludes every record a requirement could use.
	for _, d := range sortedKeys(pr.constrains) {
		for _, r := range deps {
			req := &s.p.deps[r]
			if req.name != s.p.deps[d].name || len(req.cands) == 0 || !subset(req.cands, s.p.deps[d].cands) {
				continue
			}
			add(s.labels(pr.consParent[d]) + " constrains " + s.p.deps[d].text + " but " + s.who(r, parents[r]))
		}
	}
	if len(problems) == 0 {
		// No pair explains it alone (a sudoku is like that): list every
		// requirement and constraint of the proof.
		for _, d := range deps {
			add(s.who(d, parents[d]))
		}
		for _, d := range sortedKeys(pr.constrains) {
			add(s.labels(pr.consParent[d]) + " constrains " + s.p.deps[d].text)
		}
	}
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems], fmt.Sprintf("… and %d more", len(problems)-maxProblems))
	}
	e.Problems = problems
	e.Tree = s.tree(pr, parents)
	return e
}

// who says who needs dependency d: "python 3.11.* was requested" or
// "numpy 1.26.4 py312h_0 requires python >=3.12,<3.13".
func (s *solver) who(d int32, parents []int32) string {
	text := s.p.deps[d].text
	if s.p.deps[d].system {
		return "the system provides " + s.labels(s.p.deps[d].cands)
	}
	if slices.Contains(parents, rootVar) {
		return text + " was requested"
	}
	return s.labels(parents) + " requires " + text
}

// labels names records compactly: up to three, then a count.
func (s *solver) labels(vars []int32) string {
	var names []string
	for _, v := range vars {
		if l := s.p.label(v); !slices.Contains(names, l) {
			names = append(names, l)
		}
	}
	if len(names) > 3 {
		return strings.Join(names[:3], ", ") + fmt.Sprintf(" (and %d more)", len(names)-3)
	}
	return strings.Join(names, ", ")
}

// nothingProvides explains a dependency without candidates.
func (s *solver) nothingProvides(d int32, parents []int32) string {
	dp := &s.p.deps[d]
	if dp.err != nil {
		return fmt.Sprintf("%s cannot be installed: %v", s.labels(parents), dp.err)
	}
	msg := "nothing provides " + dp.text + " needed by " + s.labels(parents)
	if slices.Contains(parents, rootVar) {
		msg = "nothing provides requested " + dp.text
	}
	nm := &s.p.names[dp.name]
	if isVirtual(nm.text) {
		return msg + fmt.Sprintf(" (%s is a virtual package the target system does not have)", nm.text)
	}
	var why []string
	for _, x := range nm.excluded {
		if s.p.matches(&dp.spec, x.rec) && !slices.Contains(why, x.reason) {
			why = append(why, x.reason)
		}
	}
	if len(why) > 0 {
		msg += " (records exist but " + strings.Join(why, "; ") + ")"
	}
	return msg
}

// tree builds one node per requested spec of the proof, following
// requirements down to the records where the conflict happens. Each record
// is expanded once.
func (s *solver) tree(pr *proof, parents map[int32][]int32) []*Problem {
	reqsOf := map[int32][]int32{} // parent → deps it requires in the proof
	for _, ci := range pr.requires {
		c := &s.clauses[ci]
		if !slices.Contains(reqsOf[c.parent], c.dep) {
			reqsOf[c.parent] = append(reqsOf[c.parent], c.dep)
		}
	}
	excludedBy := map[int32][]int32{} // record → constraint deps excluding it
	for _, d := range sortedKeys(pr.constrains) {
		for _, v := range pr.constrains[d] {
			excludedBy[v] = append(excludedBy[v], d)
		}
	}
	expanded := map[int32]bool{}
	left := maxTreeNodes
	var record func(v int32) *Problem
	var requirement func(d int32, msg string) *Problem
	requirement = func(d int32, msg string) *Problem {
		n := &Problem{Message: msg}
		dp := &s.p.deps[d]
		if len(dp.cands) == 0 {
			n.Message = s.nothingProvides(d, parents[d])
			return n
		}
		var shown []int32
		for _, v := range dp.cands {
			if pr.involved[v] {
				shown = append(shown, v)
			}
		}
		for i, v := range shown {
			if i == 10 {
				n.Children = append(n.Children, &Problem{Message: fmt.Sprintf("… and %d more", len(shown)-i)})
				break
			}
			if left == 0 {
				break
			}
			n.Children = append(n.Children, record(v))
		}
		return n
	}
	record = func(v int32) *Problem {
		left--
		n := &Problem{Message: s.p.label(v)}
		if expanded[v] {
			n.Message += " (see above)"
			return n
		}
		expanded[v] = true
		var notes []string
		for _, d := range excludedBy[v] {
			notes = append(notes, "excluded by "+s.labels(pr.consParent[d])+", which constrains "+s.p.deps[d].text)
		}
		if others := pr.conflicts[v]; len(others) > 0 {
			notes = append(notes, "cannot be installed with "+s.labels(others))
		}
		if len(notes) > 0 {
			n.Message += ": " + strings.Join(notes, "; ")
		}
		for _, d := range reqsOf[v] {
			if left == 0 {
				break
			}
			n.Children = append(n.Children, requirement(d, "requires "+s.p.deps[d].text))
		}
		return n
	}
	var out []*Problem
	for _, d := range reqsOf[rootVar] {
		out = append(out, requirement(d, s.who(d, []int32{rootVar})))
	}
	if left == 0 {
		out = append(out, &Problem{Message: fmt.Sprintf("… the tree stops after %d records", maxTreeNodes)})
	}
	return out
}

// overlap reports whether two candidate lists share a record.
func overlap(a, b []int32) bool {
	for _, v := range a {
		if slices.Contains(b, v) {
			return true
		}
	}
	return false
}

// subset reports whether every element of a is in b.
func subset(a, b []int32) bool {
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[int32]V) []int32 {
	keys := make([]int32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// specText writes a requested spec as people write it ("python 3.11.*",
// "conda-forge::numpy >=1.26 py312*"); conda's bracket form only when it
// has other fields.
func specText(m conda.MatchSpec) string {
	rest := m
	rest.Name, rest.Version, rest.Build, rest.Channel = conda.StringMatcher{}, conda.VersionSpec{}, conda.StringMatcher{}, ""
	if !rest.Equal(conda.MatchSpec{}) {
		return m.String()
	}
	out := m.Name.String()
	if m.Channel != "" {
		out = m.Channel + "::" + out
	}
	if !m.Version.IsAny() || !m.Build.IsAny() {
		out += " " + m.Version.String()
	}
	if !m.Build.IsAny() {
		out += " " + m.Build.String()
	}
	return out
}
