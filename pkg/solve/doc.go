// Package solve resolves conda requests into the set of package records to
// install, the way conda, mamba and rattler do.
//
// The API is small:
//
//	records, err := solve.Solve(ctx, index, solve.Request{
//		Specs:    specs,                       // what the user asked for
//		Virtual:  virtual,                     // __glibc, __cuda … of the target
//		Channels: channels,                    // priority order
//	})
//
// Source is anything that lists a name's records (repodata.Index does).
// Request carries the requested specs, virtual packages, channel order and
// priority mode, and, for an existing environment, the installed records,
// names to update or remove, and pinned specs. Solve returns the records to
// install in dependency order (dependencies first, python before noarch
// python packages) with their URLs and checksums as the Source gave them.
// When no solution exists the error is an *UnsatisfiableError: a tree a
// person can read plus a JSON form for micromamba's solver_problems.
// Validate checks any proposed environment against a list of specs.
//
// The algorithm is complete: CDCL SAT with lazy clause generation in the
// style of resolvo. Each candidate record is a variable; a record's
// requirement and constraint clauses are generated when it is first set
// true; at most one record per name is a propagation rule. Decisions follow
// conda's preferences (the versions of requested names first, then their
// builds and the dependencies breadth first, each taking its best remaining
// candidate), so the first model found is the preferred one. See
// docs/solver.md for the details and for where answers can differ from
// rattler and micromamba.
package solve
