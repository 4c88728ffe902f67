package conda

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Version is a parsed conda version, ordered the way conda's VersionOrder
// orders them. The zero Version is invalid; it compares equal to "0". Use
// Equal, not ==: "1.0" and "1.0.0" are equal versions with different text.
//
// A version is split into an epoch ("N!", default 0), the version proper and
// an optional local part after "+". Both parts are split into components at
// "." and "_" (or "-" when the text has no "_"), and every component into runs
// of digits and non-digits. A component that starts with a non-digit gets an
// implicit leading 0 so that numbers and strings stay in phase ("1.1.a1" ==
// "1.1.0a1"). Runs compare pairwise: numbers numerically, strings bytewise,
// strings before numbers, "dev" before every other string, "post" after
// everything; a missing run counts as 0, so "1.0" == "1.0.0".
type Version struct {
	src   string    // the text as given, without surrounding whitespace
	norm  string    // src lower-cased, '-' turned into '_' where conda does so
	segs  []segment // epoch, then version components, then local components
	local int       // index in segs where the local part begins
	plain bool      // every component is one number and there is no local part: the fast path of Compare
}

// segKind is the type of one run of a component.
type segKind uint8

const (
	kindStr    segKind = iota // a run of letters (and a trailing '_') or of '*'
	kindDev                   // the string "dev", which conda sorts as "DEV": below all other letters
	kindNum                   // a number that fits in a uint64
	kindBigNum                // a number too large for uint64, kept as its digits
	kindPost                  // the string "post", which sorts above everything
)

// rank groups kinds into conda's three classes: strings < numbers < post.
func (k segKind) rank() int {
	switch k {
	case kindStr, kindDev:
		return 0
	case kindNum, kindBigNum:
		return 1
	default:
		return 2
	}
}

// segment is one run of digits or non-digits of a component. Strings are
// stored as offsets into Version.norm so that parsing allocates only the
// segment slice.
type segment struct {
	// num is the value of a kindNum run. For kindStr and kindBigNum runs it
	// is the length of their text, norm[off:off+num]; sharing the field
	// keeps a segment at 16 bytes.
	num   uint64
	off   uint32
	kind  segKind
	first bool // the run starts a new component
}

// fillSegment stands in for a missing run or component: conda's fill value 0.
var fillSegment = segment{kind: kindNum}

// ParseVersion parses a conda version string. Surrounding whitespace is
// ignored and letters are case-folded. It accepts what conda's VersionOrder
// accepts, except non-ASCII letters that Python lowers to ASCII.
func ParseVersion(s string) (Version, error) {
	src := strings.TrimSpace(s)
	if src == "" {
		return Version{}, fmt.Errorf("parse version %q: empty version", s)
	}
	if uint64(len(src)) > math.MaxUint32 { // segments hold uint32 offsets
		return Version{}, fmt.Errorf("parse version %.20q…: longer than 4 GiB", src)
	}
	// Offsets in messages count in s, which may start with whitespace.
	lead := strings.Index(s, src)
	failAt := func(off int, what string) (Version, error) {
		return Version{}, fmt.Errorf("parse version %q: %s at offset %d", s, what, lead+off)
	}
	norm, bad := normalizeVersion(src)
	if bad >= 0 {
		r, _ := utf8.DecodeRuneInString(src[bad:])
		return failAt(bad, fmt.Sprintf("invalid character %q", r))
	}

	// Epoch: digits before a single '!'.
	rest, restOff := norm, 0
	epoch := segment{kind: kindNum, first: true}
	if i := strings.IndexByte(norm, '!'); i >= 0 {
		if j := strings.IndexByte(norm[i+1:], '!'); j >= 0 {
			return failAt(i+1+j, "duplicated epoch separator '!'")
		}
		if i == 0 || !allDigits(norm[:i]) {
			return Version{}, fmt.Errorf("parse version %q: epoch %q must be an integer", s, norm[:i])
		}
		epoch = numberSegment(norm, 0, i)
		epoch.first = true
		rest, restOff = norm[i+1:], i+1
	}

	// Local part: everything after a single '+'.
	main, local, localOff := rest, "", -1
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		if j := strings.IndexByte(rest[i+1:], '+'); j >= 0 {
			return failAt(restOff+i+1+j, "duplicated local version separator '+'")
		}
		main, local, localOff = rest[:i], rest[i+1:], restOff+i+1
	}
	if main == "" {
		return failAt(restOff, "missing version")
	}

	// Collect on the stack, then copy once: one allocation per version.
	var buf [24]segment
	segs := append(buf[:0], epoch)
	// conda keeps a trailing '_' in the last component as a string run
	// ("1.0.1_" is [1], [0], [1, '_']) instead of splitting there.
	segs, empty := appendComponents(segs, norm, restOff, len(main), main[len(main)-1] == '_')
	localStart := len(segs)
	if empty < 0 && localOff >= 0 {
		segs, empty = appendComponents(segs, norm, localOff, len(local), false)
	}
	if empty >= 0 {
		return failAt(empty, "empty version component")
	}
	plain := localStart == len(segs)
	for _, seg := range segs {
		plain = plain && seg.first && seg.kind == kindNum
	}
	return Version{src: src, norm: norm, segs: append([]segment(nil), segs...), local: localStart, plain: plain}, nil
}

// MustParseVersion is ParseVersion that panics on error, for tests and constants.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// normalizeVersion lower-cases s and checks its characters in one pass,
// returning the offset of the first invalid one or -1. Like conda, it accepts
// '-' as a separator only when s has no '_', by turning it into '_'. Only
// ASCII is valid, so only ASCII is lowered: Unicode case mapping would turn
// "İ" into "i" where Python gives "i̇". (Python lowers the Kelvin sign to "k";
// we reject it.)
func normalizeVersion(s string) (norm string, bad int) {
	badOther, firstDash := -1, -1
	upper, underscore := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c == '.', c == '+', c == '!', c == '*':
		case c >= 'A' && c <= 'Z':
			upper = true
		case c == '_':
			underscore = true
		case c == '-':
			if firstDash < 0 {
				firstDash = i
			}
		default:
			if badOther < 0 {
				badOther = i
			}
		}
	}
	dashIsSeparator := firstDash >= 0 && !underscore
	if firstDash >= 0 && !dashIsSeparator && (badOther < 0 || firstDash < badOther) {
		return "", firstDash
	}
	if badOther >= 0 {
		return "", badOther
	}
	if !upper && !dashIsSeparator {
		return s, -1 // the common case: no copy
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		case r == '-':
			return '_'
		}
		return r
	}, s), -1
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendComponents splits norm[off:off+n] into components at '.' and '_' and
// appends their runs to segs. With keepTrailingUnderscore the last byte (an
// '_') belongs to the last component instead of separating. empty is the
// offset of an empty component, or -1.
func appendComponents(segs []segment, norm string, off, n int, keepTrailingUnderscore bool) (_ []segment, empty int) {
	end := off + n
	lastSep := end
	if keepTrailingUnderscore {
		lastSep = end - 1
	}
	start := off
	for i := off; i <= end; i++ {
		atSep := i == end || i < lastSep && (norm[i] == '.' || norm[i] == '_')
		if !atSep {
			continue
		}
		if i == start {
			return segs, i
		}
		segs = appendRuns(segs, norm, start, i)
		start = i + 1
	}
	return segs, -1
}

// appendRuns appends the runs of the component norm[start:end]: digits, '*'
// and anything else alternate.
func appendRuns(segs []segment, norm string, start, end int) []segment {
	first := true
	if !isDigit(norm[start]) {
		segs = append(segs, segment{kind: kindNum, first: true}) // conda's implicit leading 0
		first = false
	}
	for i := start; i < end; {
		j := i + 1
		for j < end && runClass(norm[j]) == runClass(norm[i]) {
			j++
		}
		var seg segment
		switch run := norm[i:j]; {
		case isDigit(norm[i]):
			seg = numberSegment(norm, i, j)
		case run == "dev":
			seg = segment{kind: kindDev}
		case run == "post":
			seg = segment{kind: kindPost}
		default:
			seg = segment{kind: kindStr, off: uint32(i), num: uint64(j - i)}
		}
		seg.first = first
		first = false
		segs = append(segs, seg)
		i = j
	}
	return segs
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// runClass tells which run a byte belongs to: 0 digits, 1 stars, 2 other.
func runClass(c byte) int {
	switch {
	case isDigit(c):
		return 0
	case c == '*':
		return 1
	default:
		return 2
	}
}

// numberSegment makes the segment for the digits norm[i:j].
func numberSegment(norm string, i, j int) segment {
	for i < j-1 && norm[i] == '0' {
		i++ // leading zeros do not count: "01" == "1"
	}
	if j-i <= 19 { // up to 19 digits always fit in a uint64
		var n uint64
		for _, c := range []byte(norm[i:j]) {
			n = n*10 + uint64(c-'0')
		}
		return segment{kind: kindNum, num: n}
	}
	return segment{kind: kindBigNum, off: uint32(i), num: uint64(j - i)}
}

// text returns the string of a kindStr or kindBigNum run.
func (v *Version) text(s segment) string {
	if s.kind == kindDev {
		return "DEV"
	}
	return v.norm[s.off : uint64(s.off)+s.num]
}

// Compare orders v and o in conda's total order: -1, 0 or +1.
func (v Version) Compare(o Version) int {
	if v.plain && o.plain { // most real versions: compare numbers, missing ones are 0
		for i := 0; i < len(v.segs) || i < len(o.segs); i++ {
			if c := cmp.Compare(segAt(v.segs, i).num, segAt(o.segs, i).num); c != 0 {
				return c
			}
		}
		return 0
	}
	if c := compareParts(&v, v.version(), &o, o.version()); c != 0 {
		return c
	}
	return compareParts(&v, v.localPart(), &o, o.localPart())
}

// Equal reports whether v and o compare equal: "1.0" equals "1.0.0".
func (v Version) Equal(o Version) bool { return v.Compare(o) == 0 }

// String returns the version as given.
func (v Version) String() string { return v.src }

func (v *Version) version() []segment   { return v.segs[:v.local] }
func (v *Version) localPart() []segment { return v.segs[v.local:] }

// nextComponent splits the first component off segs.
func nextComponent(segs []segment) (comp, rest []segment) {
	n := 1
	for n < len(segs) && !segs[n].first {
		n++
	}
	if n > len(segs) {
		n = len(segs)
	}
	return segs[:n], segs[n:]
}

// compareParts compares component lists, a missing component counting as 0.
func compareParts(v *Version, a []segment, o *Version, b []segment) int {
	for len(a) > 0 || len(b) > 0 {
		var ca, cb []segment
		ca, a = nextComponent(a)
		cb, b = nextComponent(b)
		if c := compareComponents(v, ca, o, cb); c != 0 {
			return c
		}
	}
	return 0
}

// compareComponents compares two components run by run, a missing run
// counting as 0.
func compareComponents(v *Version, a []segment, o *Version, b []segment) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		if c := compareSegments(v, segAt(a, i), o, segAt(b, i)); c != 0 {
			return c
		}
	}
	return 0
}

func segAt(comp []segment, i int) segment {
	if i < len(comp) {
		return comp[i]
	}
	return fillSegment
}

func compareSegments(v *Version, a segment, o *Version, b segment) int {
	if a.kind == kindNum && b.kind == kindNum { // the common case first
		return cmp.Compare(a.num, b.num)
	}
	if ra, rb := a.kind.rank(), b.kind.rank(); ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch a.kind.rank() {
	case 0:
		return strings.Compare(v.text(a), o.text(b))
	case 1:
		switch {
		case a.kind == kindNum: // b does not fit in a uint64, so it is larger
			return -1
		case b.kind == kindNum:
			return 1
		}
		ta, tb := v.text(a), o.text(b) // no leading zeros: longer is larger
		if len(ta) != len(tb) {
			return cmp.Compare(len(ta), len(tb))
		}
		return strings.Compare(ta, tb)
	default:
		return 0 // post == post
	}
}

// StartsWith reports whether v begins with prefix the way conda's "=1.2" and
// "1.2.*" specs test it: all components of prefix but the last equal v's, and
// the last is a prefix of v's corresponding component run by run, the final
// run by string prefix when it is a string ("1.2.*" matches "1.2" and
// "1.2.3" but not "1.20"). When prefix has a local part, v's version must
// equal prefix's and the test applies to the local parts.
func (v Version) StartsWith(prefix Version) bool {
	vs, ps := v.version(), prefix.version()
	if len(prefix.localPart()) > 0 {
		if compareParts(&v, vs, &prefix, ps) != 0 {
			return false
		}
		vs, ps = v.localPart(), prefix.localPart()
	}
	for len(ps) > 0 {
		var vc, pc []segment
		vc, vs = nextComponent(vs)
		pc, ps = nextComponent(ps)
		if len(ps) == 0 {
			return componentHasPrefix(&v, vc, &prefix, pc)
		}
		if compareComponents(&v, vc, &prefix, pc) != 0 {
			return false
		}
	}
	return true
}

// componentHasPrefix tests the last component of a StartsWith prefix.
func componentHasPrefix(v *Version, vc []segment, p *Version, pc []segment) bool {
	last := len(pc) - 1
	if compareComponents(v, vc[:min(last, len(vc))], p, pc[:last]) != 0 {
		return false
	}
	a, b := segAt(vc, last), pc[last]
	if b.kind.rank() == 0 {
		return a.kind.rank() == 0 && strings.HasPrefix(v.text(a), p.text(b))
	}
	return compareSegments(v, a, p, b) == 0
}

// CompatibleWith reports whether v satisfies "~=base": v >= base and v starts
// with base minus its last "."-separated piece ("~=1.4.5" is ">=1.4.5,1.4.*").
// As in conda the cut is at the last '.' of the text, so "~=1.4_5" keeps
// only 1. A base without '.' leaves nothing to keep: only v >= base is
// tested (ParseVersionSpec rejects such a "~=", as conda fails on it).
func (v Version) CompatibleWith(base Version) bool {
	if v.Compare(base) < 0 {
		return false
	}
	prefix, ok := base.compatiblePrefix()
	return !ok || v.StartsWith(prefix)
}

// compatiblePrefix is the prefix "~=" requires. Like conda it drops the text
// after the last '.' of the normalized version; ok is false when no valid
// prefix remains (a version without '.').
func (v Version) compatiblePrefix() (Version, bool) {
	i := strings.LastIndexByte(v.norm, '.')
	if i < 0 {
		return Version{}, false
	}
	p, err := ParseVersion(v.norm[:i])
	return p, err == nil
}

// MarshalJSON writes the version text as a JSON string.
func (v Version) MarshalJSON() ([]byte, error) { return json.Marshal(v.src) }

// UnmarshalJSON parses a JSON string holding a version.
func (v *Version) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("version: %w", err)
	}
	p, err := ParseVersion(s)
	if err != nil {
		return err
	}
	*v = p
	return nil
}
