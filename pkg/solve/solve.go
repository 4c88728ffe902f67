package solve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/conda"
)

// Source lists the records of a package name, best channel first.
// *repodata.Index satisfies it. Records must carry Channel (and, for
// installing, URL and checksums); Solve does not modify them.
type Source interface {
	Records(name string) []conda.PackageRecord
}

// ChannelPriority says how the channel order limits and ranks candidates.
type ChannelPriority int

const (
	// Strict (conda's default) allows, for each name, only the records of
	// the highest-priority channel that has the name.
	Strict ChannelPriority = iota
	// Flexible allows every channel but prefers a higher-priority channel
	// over a higher version.
	Flexible
	// Disabled ignores the channel order: versions decide.
	Disabled
)

// Request is one solve: what is asked for and the environment it lands in.
type Request struct {
	// Specs are the requested packages. Their names must be exact; a
	// channel (`conda-forge::numpy`) restricts that name to the channel.
	Specs []conda.MatchSpec
	// Virtual are the virtual packages of the target system (records named
	// __glibc, __cuda …, e.g. from conda.VirtualPackage.Record). A
	// dependency on one that is absent cannot be satisfied.
	Virtual []conda.PackageRecord
	// Channels in priority order, highest first; records are related to
	// them by their Channel field.
	Channels []conda.Channel
	// ChannelPriority is Strict unless set.
	ChannelPriority ChannelPriority
	// ChannelConfig resolves the channels of specs and records.
	ChannelConfig conda.ChannelConfig
	// Installed is the current environment. Its packages stay, preferably
	// at their installed build, unless a request needs a change.
	Installed []conda.PackageRecord
	// Update names installed packages to update: their newest candidates
	// are preferred over the installed build.
	Update []string
	// Remove names packages to take out of Installed; installed packages
	// that depend on them go too.
	Remove []string
	// Pinned specs (conda-meta/pinned) must hold for any record of their
	// name that is installed; they do not request the name.
	Pinned []conda.MatchSpec
	// ExcludeNewer, when set, leaves out every record uploaded after it
	// (its timestamp; records without one stay), except installed ones:
	// micromamba's --exclude-newer, to solve as the channels were then.
	ExcludeNewer time.Time
}

// Solve finds the records to install for req, dependencies first. An
// unsatisfiable request returns an *UnsatisfiableError; the solve stops
// with ctx's error when ctx is done.
func Solve(ctx context.Context, src Source, req Request) ([]conda.PackageRecord, error) {
	for _, s := range append(req.Specs, req.Pinned...) {
		if !s.Name.IsExact() {
			return nil, fmt.Errorf("solve %q: the package name must be exact, not a pattern", s.String())
		}
	}
	p := newPool(src, &req)
	for _, s := range req.Specs {
		p.rootDeps = append(p.rootDeps, p.requested(s))
	}
	// The target's virtual packages count as installed, so constraints on
	// them hold even when nothing depends on them.
	virtualNames := map[string]bool{}
	for _, r := range req.Virtual {
		if virtualNames[r.Name] {
			continue
		}
		virtualNames[r.Name] = true
		spec, err := conda.ParseMatchSpec(r.Name)
		if err != nil {
			return nil, fmt.Errorf("solve: virtual package name %q: %w", r.Name, err)
		}
		d := p.requested(spec)
		p.deps[d].system = true
		p.rootDeps = append(p.rootDeps, d)
	}
	for _, n := range keptInstalled(req) {
		spec, err := conda.ParseMatchSpec(n)
		if err != nil {
			return nil, fmt.Errorf("solve: installed package name %q: %w", n, err)
		}
		p.rootDeps = append(p.rootDeps, p.requested(spec))
	}
	s := &solver{ctx: ctx, p: p}
	vars, err := s.run()
	var unsat *errUnsat
	if errors.As(err, &unsat) {
		return nil, s.explain(unsat.conflict)
	}
	if err != nil {
		return nil, err
	}
	recs := make([]*conda.PackageRecord, 0, len(vars))
	for _, v := range vars {
		if r := p.solvables[v].rec; !p.solvables[v].version && !isVirtual(r.Name) && !isFeature(r.Name) {
			recs = append(recs, r)
		}
	}
	return installOrder(recs), nil
}

// keptInstalled returns the installed names that stay: all but the removed
// ones and those that depend on a removed one, directly or not.
func keptInstalled(req Request) []string {
	gone := setOf(req.Remove)
	for changed := true; changed; {
		changed = false
		for i := range req.Installed {
			r := &req.Installed[i]
			if gone[r.Name] {
				continue
			}
			for _, d := range dependencyNames(r) {
				if gone[d] {
					gone[r.Name] = true
					changed = true
					break
				}
			}
		}
	}
	var kept []string
	for i := range req.Installed {
		if n := req.Installed[i].Name; !gone[n] && !isVirtual(n) {
			kept = append(kept, n)
		}
	}
	return kept
}

// isFeature reports whether name is the pseudo-package of a feature
// ("cpuonly@"), which records with `features` depend on.
func isFeature(name string) bool { return strings.HasSuffix(name, "@") }

// isVirtual reports whether name is a virtual package such as __glibc.
func isVirtual(name string) bool { return strings.HasPrefix(name, "__") }
