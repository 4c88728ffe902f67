package solve

import (
	"context"

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
}

// Solve finds the records to install for req, dependencies first. An
// unsatisfiable request returns an *UnsatisfiableError.
func Solve(ctx context.Context, src Source, req Request) ([]conda.PackageRecord, error) {
	panic("not implemented")
}
