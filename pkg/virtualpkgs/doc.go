// Package virtualpkgs detects the facts about the running machine that
// conda's virtual packages describe (__linux, __glibc, __cuda, __osx,
// __archspec …) without cgo, so that condabox stays one static binary.
// The pure model and the CONDA_OVERRIDE_* rules are in package conda.
package virtualpkgs
