package conda

import (
	"fmt"
	"regexp"
	"strings"
)

// StringMatcher matches a string field of a package (build string, name,
// license) the way conda does:
//
//   - `^...$` is a regular expression (RE2 syntax, anchored at both ends);
//   - text containing `*` is a glob where `*` matches any run of characters;
//     it is the only wildcard: conda treats `?` and `[` literally;
//   - anything else must match exactly.
//
// The zero StringMatcher matches every string; so does the glob `*`.
type StringMatcher struct {
	src  string
	kind matcherKind
	// fold makes the match case-insensitive (conda's license matching).
	fold bool
	re   *regexp.Regexp
}

type matcherKind uint8

const (
	matchAny matcherKind = iota
	matchExact
	matchGlob
	matchRegex
)

// ParseStringMatcher parses an exact string, a `*` glob or a `^...$` regex.
func ParseStringMatcher(s string) (StringMatcher, error) {
	return parseStringMatcher(s, false)
}

// parseStringMatcher parses s; with fold set the matcher ignores case.
func parseStringMatcher(s string, fold bool) (StringMatcher, error) {
	m := StringMatcher{src: s, fold: fold}
	switch {
	case s == "":
		return StringMatcher{}, fmt.Errorf("parse string matcher %q: empty", s)
	case s == "*":
		return StringMatcher{}, nil
	case len(s) >= 2 && s[0] == '^' && s[len(s)-1] == '$':
		expr := s
		if fold {
			expr = "(?i)" + s
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return StringMatcher{}, fmt.Errorf("parse string matcher %q: invalid regular expression: %w", s, err)
		}
		m.kind, m.re = matchRegex, re
	case strings.Contains(s, "*"):
		m.kind = matchGlob
		if fold {
			m.src = strings.ToLower(s)
		}
	default:
		m.kind = matchExact
	}
	return m, nil
}

// Matches reports whether s matches.
func (m StringMatcher) Matches(s string) bool {
	switch m.kind {
	case matchExact:
		if m.fold {
			return strings.EqualFold(m.src, s)
		}
		return m.src == s
	case matchGlob:
		if m.fold {
			s = strings.ToLower(s)
		}
		return globMatch(m.src, s)
	case matchRegex:
		return m.re.MatchString(s)
	}
	return true
}

// IsAny reports whether m matches every string (the zero value and `*`).
func (m StringMatcher) IsAny() bool { return m.kind == matchAny }

// IsExact reports whether m matches exactly one string (no glob, no regex).
func (m StringMatcher) IsExact() bool { return m.kind == matchExact }

// String returns the pattern as parsed; "*" for the zero StringMatcher.
func (m StringMatcher) String() string {
	if m.kind == matchAny {
		return "*"
	}
	return m.src
}

// Equal reports whether m and o are the same pattern.
func (m StringMatcher) Equal(o StringMatcher) bool {
	return m.String() == o.String() && m.fold == o.fold
}

// globMatch reports whether s matches pattern, in which `*` matches any run
// of bytes. It backtracks only to the last star, so it runs in
// O(len(pattern)*len(s)) at worst and needs no allocation.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			starP, starI = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case starP >= 0:
			// Let the last star swallow one more byte and retry.
			starI++
			p, i = starP+1, starI
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
