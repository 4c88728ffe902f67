package conda

// PLACEHOLDER: replaced by the full implementation of conda's version grammar.

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Version is a parsed conda version. It remembers its source text.
type Version struct {
	src string
}

// ParseVersion parses a conda version string.
func ParseVersion(s string) (Version, error) {
	if strings.TrimSpace(s) == "" {
		return Version{}, fmt.Errorf("parse version %q: empty version", s)
	}
	return Version{src: strings.TrimSpace(s)}, nil
}

// MustParseVersion is ParseVersion that panics on error, for tests and constants.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Compare orders v and o: -1, 0 or +1.
func (v Version) Compare(o Version) int { return strings.Compare(v.src, o.src) }

// Equal reports whether v and o compare equal.
func (v Version) Equal(o Version) bool { return v.Compare(o) == 0 }

// String returns the source text.
func (v Version) String() string { return v.src }

// StartsWith reports whether v begins with prefix, component-wise.
func (v Version) StartsWith(prefix Version) bool { return strings.HasPrefix(v.src, prefix.src) }

// CompatibleWith implements ~=.
func (v Version) CompatibleWith(base Version) bool { return v.Compare(base) >= 0 }

// MarshalJSON writes the source text as a JSON string.
func (v Version) MarshalJSON() ([]byte, error) { return json.Marshal(v.src) }

// UnmarshalJSON parses a JSON string.
func (v *Version) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := ParseVersion(s)
	if err != nil {
		return err
	}
	*v = p
	return nil
}
