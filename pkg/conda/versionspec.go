package conda

// PLACEHOLDER: replaced by the full implementation of conda's version specs.

import "strings"

// VersionSpec is a parsed version constraint.
type VersionSpec struct {
	src string
}

// ParseVersionSpec parses a version constraint such as ">=1.2,<2|3.*".
func ParseVersionSpec(s string) (VersionSpec, error) { return VersionSpec{src: strings.TrimSpace(s)}, nil }

// Matches reports whether v satisfies the spec.
func (s VersionSpec) Matches(v Version) bool { return s.IsAny() || s.src == v.String() }

// String returns the canonical form.
func (s VersionSpec) String() string { return s.src }

// IsAny reports whether the spec accepts every version.
func (s VersionSpec) IsAny() bool { return s.src == "" || s.src == "*" }
