package image

import (
	"fmt"
	"path"
	"strings"
)

// Prune says which files of the environment an image leaves out to be
// smaller (micromamba-docker's and Uwe Korn's size advice).
type Prune int

const (
	// PruneNone keeps every file.
	PruneNone Prune = iota
	// PruneSafe drops what no program reads at run time: static libraries
	// (*.a), documentation (share/doc, share/man, share/info,
	// share/gtk-doc) and package caches (pkgs/).
	PruneSafe
	// PruneAggressive also drops what some workflows need: C headers
	// (include/), byte code caches (__pycache__), pip, ensurepip, idlelib,
	// turtledemo, test suites (test/ and tests/ folders under lib/) and
	// conda-meta — the image is then no longer a conda environment that
	// conda or condabox can update.
	PruneAggressive
)

// ParsePrune parses --prune: "", "none", "safe" or "aggressive".
func ParsePrune(s string) (Prune, error) {
	switch s {
	case "", "none":
		return PruneNone, nil
	case "safe":
		return PruneSafe, nil
	case "aggressive":
		return PruneAggressive, nil
	}
	return PruneNone, fmt.Errorf("parse prune %q: want none, safe or aggressive", s)
}

// String returns the --prune word.
func (p Prune) String() string {
	switch p {
	case PruneSafe:
		return "safe"
	case PruneAggressive:
		return "aggressive"
	}
	return "none"
}

var (
	safeDirs       = []string{"share/doc", "share/man", "share/info", "share/gtk-doc", "pkgs"}
	aggressiveDirs = []string{"pip", "ensurepip", "idlelib", "turtledemo", "__pycache__"}
	testDirs       = []string{"test", "tests"}
)

// drops reports whether p leaves out rel, a prefix-relative path.
func (p Prune) drops(rel string) bool {
	if p == PruneNone {
		return false
	}
	if strings.HasSuffix(rel, ".a") {
		return true
	}
	for _, d := range safeDirs {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	if p < PruneAggressive {
		return false
	}
	if rel == "include" || strings.HasPrefix(rel, "include/") {
		return true
	}
	parts := strings.Split(path.Dir(rel), "/")
	for i, part := range parts {
		for _, d := range aggressiveDirs {
			if part == d {
				return true
			}
		}
		for _, d := range testDirs {
			if part == d && parts[0] == "lib" && i > 0 {
				return true
			}
		}
	}
	return false
}

// keepsCondaMeta reports whether the image keeps conda-meta.
func (p Prune) keepsCondaMeta() bool { return p < PruneAggressive }
