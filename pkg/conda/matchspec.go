package conda

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MatchSpec is a package query as conda writes it in dependencies, on the
// command line and in environment files: `numpy >=1.2,<2 py39*`,
// `conda-forge/linux-64::numpy==1.26.4=py312h_0`,
// `numpy[version='>=1.2',build_number='>2']`, or the URL of a package file.
//
// A field left at its zero value matches anything. Fields follow conda's
// match conventions: Name, Build, License and LicenseFamily are string
// matchers (exact, `*` glob or `^...$` regex; the license ones ignore case),
// TrackFeatures and Features must equal the record's feature set, the other
// strings must be equal.
type MatchSpec struct {
	// Name matches the package name. Names are lower case.
	Name    StringMatcher
	Version VersionSpec
	Build   StringMatcher
	// BuildNumber constrains the build number (`build_number='>=2'`).
	BuildNumber BuildNumberSpec
	// Channel is the channel as written ("conda-forge",
	// "https://host/channel"), without its subdir; it is not resolved.
	Channel string
	// Subdir is the platform folder ("linux-64", "noarch"), from
	// `channel/subdir::name` or `[subdir=...]`.
	Subdir string
	// FileName is the package file name (`fn`), e.g. "numpy-1.26.4-py312h_0.conda".
	FileName string
	// URL is the package file URL of a URL spec or `[url=...]`.
	URL string
	// MD5 and SHA256 are lower-case hex digests.
	MD5    string
	SHA256 string
	// License and LicenseFamily match case-insensitively.
	License       StringMatcher
	LicenseFamily StringMatcher
	// TrackFeatures and Features are sorted sets of feature names; nil
	// matches any.
	TrackFeatures []string
	Features      []string
}

// ParseMatchSpec parses a match spec in any of conda's forms:
//
//	numpy                     name (a `*` glob is allowed: py*)
//	numpy 1.11                exact version 1.11 (== 1.11.0)
//	numpy=1.11, numpy =1.11   fuzzy version: 1.11.*
//	numpy==1.11               exact version
//	numpy >=1.2,<2 py39*      version spec and build (space separated)
//	numpy=1.2=py39_0          exact version 1.2 and build
//	conda-forge::numpy        channel
//	conda-forge/linux-64::numpy   channel and subdir
//	numpy[version='>=1.2', build=py39*, build_number='>2', md5=..., ...]
//	https://host/ch/linux-64/numpy-1.2-py39_0.conda#sha256:...
//	/abs/path/numpy-1.2-py39_0.tar.bz2   read as a file:// URL
//
// A bare version after a space is exact, as in conda, mamba and rattler
// (conda-build's docs say otherwise; the implementations and the MatchSpec
// CEP agree on exact). Subdirs are split off channels only when they are
// known platforms (see Platform), or after the any-channel `*/`.
//
// Bracket keys override what is written outside the brackets, as in conda
// (`numpy[version='>1']>=2` means >1). Bare words in brackets, pip's extras
// as in `ray[default,data]`, are ignored as conda ignores them. A '#' outside
// brackets starts a comment, except in a URL spec where it starts the hash.
func ParseMatchSpec(s string) (MatchSpec, error) {
	m, err := parseMatchSpec(s)
	if err != nil {
		return MatchSpec{}, fmt.Errorf("parse match spec %q: %w", s, err)
	}
	return m, nil
}

func parseMatchSpec(s string) (MatchSpec, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return MatchSpec{}, fmt.Errorf("control character %q at offset %d", c, i)
		}
	}
	if t := strings.TrimSpace(s); isPackageURL(t) {
		return parseURLSpec(t)
	} else if strings.HasPrefix(t, "/") && isPackageURL("file://"+t) {
		return parseURLSpec("file://" + t) // an absolute path, as conda accepts
	}
	outside, inside, insideAt, err := splitBrackets(s)
	if err != nil {
		return MatchSpec{}, err
	}
	keys, err := parseBracketKeys(inside, insideAt)
	if err != nil {
		return MatchSpec{}, err
	}

	var m MatchSpec
	rest := strings.TrimSpace(outside)
	if i := strings.LastIndex(rest, "::"); i >= 0 {
		if err := m.setChannel(strings.TrimSpace(rest[:i])); err != nil {
			return MatchSpec{}, err
		}
		rest = strings.TrimSpace(rest[i+2:])
	}
	name := rest
	if i := strings.IndexAny(rest, " =<>!~"); i >= 0 {
		name, rest = rest[:i], strings.TrimSpace(rest[i:])
	} else {
		rest = ""
	}
	if err := m.setName(name); err != nil {
		return MatchSpec{}, err
	}
	if rest != "" {
		if err := m.setVersionAndBuild(rest); err != nil {
			return MatchSpec{}, err
		}
	}
	for _, k := range keys {
		if err := m.setKey(k.key, k.value); err != nil {
			return MatchSpec{}, fmt.Errorf("bracket key %s at offset %d: %w", k.key, k.at, err)
		}
	}
	return m, nil
}

// setVersionAndBuild applies the positional version and build that follow
// the name, with conda's reading of a leading '=': `=1.2` is fuzzy (1.2.*)
// unless a build follows (`=1.2=b` is exact); `==1.2` is exact, and a bare
// `1.2` too.
func (m *MatchSpec) setVersionAndBuild(s string) error {
	version, build := splitVersionBuild(s)
	version = removeSpace(version)
	if rest, ok := strings.CutPrefix(version, "=="); ok && build == "" {
		version = rest // conda drops "==" here, so `==1.2.*` is fuzzy
	} else if rest, ok := strings.CutPrefix(version, "="); ok && !strings.ContainsAny(rest, "=,|") {
		if rest == "" {
			return fmt.Errorf("missing version after '='")
		}
		version = rest
		if build == "" && !strings.HasSuffix(version, "*") {
			version += ".*"
		}
	}
	if err := m.setVersion(version); err != nil {
		return err
	}
	if build != "" {
		return m.setBuild(build)
	}
	return nil
}

// splitVersionBuild splits "version [build]" where the build follows a
// space or '=' as in `>=1.0 , < 2.0 py34_0` or `1.2.3=0`. As in conda, the
// build starts after the first such separator that does not end an operator
// (`>= 1`) and whose remainder holds none of the characters -=,|<>~.
func splitVersionBuild(s string) (version, build string) {
	for i := 1; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '=' || strings.IndexByte("=!|,<>~", s[i-1]) >= 0 {
			continue
		}
		if b := strings.TrimSpace(s[i+1:]); b != "" && !strings.ContainsAny(b, "-=,|<>~") {
			return s[:i], b
		}
	}
	return s, ""
}

func (m *MatchSpec) setName(name string) error {
	if name == "" {
		return fmt.Errorf("missing package name")
	}
	name = strings.ToLower(name)
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isNameByte(c) {
			return fmt.Errorf("package name %q: invalid character %q at offset %d (want a-z, 0-9, '_', '-', '.' or a '*' glob)", name, c, i)
		}
	}
	n, err := ParseStringMatcher(name)
	if err != nil {
		return err
	}
	m.Name = n
	return nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*'
}

// setVersion parses a version spec; "==1.2" is stored as "1.2", its
// equivalent, so that every way of writing an exact version compares equal.
func (m *MatchSpec) setVersion(s string) error {
	s = removeSpace(s)
	if rest, ok := strings.CutPrefix(s, "=="); ok && isPlainVersion(rest) {
		s = rest
	}
	if s == "" {
		return fmt.Errorf("empty version")
	}
	v, err := ParseVersionSpec(s)
	if err != nil {
		return err
	}
	m.Version = v
	return nil
}

// isPlainVersion reports whether s is one version with no operator or
// wildcard, such as "1.2" or "1!2.0+local".
func isPlainVersion(s string) bool {
	return s != "" && s[0] != '!' && !strings.ContainsAny(s, "*<>=~|,()^$@ \t")
}

func (m *MatchSpec) setBuild(s string) error {
	if i := strings.IndexAny(s, " \t'\""); i >= 0 {
		return fmt.Errorf("build %q: invalid character %q at offset %d", s, s[i], i)
	}
	b, err := ParseStringMatcher(s)
	if err != nil {
		return err
	}
	m.Build = b
	return nil
}

// setChannel sets Channel and, when the last path element is a known
// platform (`conda-forge/linux-64`), Subdir. "*" means any channel, and
// `*/subdir` any channel's subdir.
func (m *MatchSpec) setChannel(s string) error {
	if s == "" {
		return fmt.Errorf("empty channel before '::'")
	}
	if i := strings.IndexAny(s, " \t[]#'\","); i >= 0 {
		return fmt.Errorf("channel %q: invalid character %q at offset %d", s, s[i], i)
	}
	if i := strings.LastIndexByte(s, '/'); i >= 0 && (Platform(s[i+1:]).IsValid() || s[:i] == "*") {
		m.Subdir = s[i+1:]
		s = s[:i]
	}
	if s == "*" {
		s = ""
	}
	m.Channel = s
	return nil
}

// bracketKeyOrder lists the keys allowed in brackets in the order they are
// applied (String writes them in the same order): channel before subdir so
// that `[subdir=...]` wins over a subdir inside `[channel=...]`, as in conda.
var bracketKeyOrder = []string{
	"name", "channel", "subdir", "version", "build", "build_number",
	"track_features", "features", "url", "md5", "sha256",
	"license", "license_family", "fn",
}

func (m *MatchSpec) setKey(key, value string) error {
	var err error
	switch key {
	case "name":
		if n := strings.ToLower(value); n != m.Name.String() {
			err = fmt.Errorf("name %q differs from the package name %q", value, m.Name.String())
		}
	case "channel":
		err = m.setChannel(value)
	case "subdir":
		m.Subdir = value
	case "version":
		err = m.setVersion(value)
	case "build":
		err = m.setBuild(value)
	case "build_number":
		m.BuildNumber, err = ParseBuildNumberSpec(value)
	case "track_features":
		m.TrackFeatures = featureSet(value)
	case "features":
		m.Features = featureSet(value)
	case "url":
		m.URL = value
	case "md5":
		m.MD5, err = parseHexDigest(value, 32)
	case "sha256":
		m.SHA256, err = parseHexDigest(value, 64)
	case "license":
		m.License, err = parseStringMatcher(value, true)
	case "license_family":
		m.LicenseFamily, err = parseStringMatcher(value, true)
	case "fn":
		m.FileName = value
	}
	return err
}

// featureSet returns the sorted, duplicate-free names of a feature list.
func featureSet(s string) []string {
	f := slices.Clone(ParseFeatureList(s))
	slices.Sort(f)
	return slices.Compact(f)
}

func parseHexDigest(s string, digits int) (string, error) {
	if len(s) != digits {
		return "", fmt.Errorf("digest %q: want %d hex digits, got %d characters", s, digits, len(s))
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(s[i])) {
			return "", fmt.Errorf("digest %q: invalid hex digit %q at offset %d", s, s[i], i)
		}
	}
	return strings.ToLower(s), nil
}

func removeSpace(s string) string { return strings.Join(strings.Fields(s), "") }

// splitBrackets separates the one `[...]` section of s from the text around
// it and drops a '#' comment that starts outside the brackets. insideAt is
// the offset of the bracket content in s, for error messages.
func splitBrackets(s string) (outside, inside string, insideAt int, err error) {
	open, closed, end := -1, -1, len(s)
	var quote byte
scan:
	for i := 0; i < len(s); i++ {
		c := s[i]
		if open >= 0 && closed < 0 {
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '\'' || c == '"':
				quote = c
			case c == '[':
				return "", "", 0, fmt.Errorf("nested '[' at offset %d", i)
			case c == ']':
				closed = i
			}
			continue
		}
		switch c {
		case '#':
			end = i
			break scan
		case '[':
			if closed >= 0 {
				return "", "", 0, fmt.Errorf("second bracket section at offset %d (only one is allowed)", i)
			}
			open = i
		case ']':
			return "", "", 0, fmt.Errorf("unbalanced ']' at offset %d", i)
		}
	}
	switch {
	case open < 0:
		return s[:end], "", 0, nil
	case quote != 0:
		return "", "", 0, fmt.Errorf("unterminated %c quote in brackets opened at offset %d", quote, open)
	case closed < 0:
		return "", "", 0, fmt.Errorf("unbalanced '[' at offset %d", open)
	}
	return s[:open] + s[closed+1:end], s[open+1 : closed], open + 1, nil
}

type bracketKey struct {
	key, value string
	at         int // offset of the key in the spec
}

// parseBracketKeys parses `key=value` pairs separated by commas or spaces;
// values may be quoted with ' or ". It returns them in application order.
func parseBracketKeys(s string, base int) ([]bracketKey, error) {
	var keys []bracketKey
	seen := map[string]bool{}
	isSep := func(c byte) bool { return c == ',' || c == ' ' || c == '\t' }
	for i := 0; ; {
		for i < len(s) && isSep(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		start := i
		for i < len(s) && isKeyByte(s[i]) {
			i++
		}
		key := s[start:i]
		if key == "" {
			return nil, fmt.Errorf("expected a key in brackets at offset %d, got %q", base+i, s[i])
		}
		if i == len(s) || isSep(s[i]) {
			continue // a bare word: pip extras, ignored as by conda
		}
		if s[i] != '=' {
			return nil, fmt.Errorf("expected '=' after key %q at offset %d", key, base+i)
		}
		i++
		var value string
		if i < len(s) && (s[i] == '\'' || s[i] == '"') {
			q := s[i]
			j := strings.IndexByte(s[i+1:], q)
			if j < 0 {
				return nil, fmt.Errorf("unterminated %c quote at offset %d", q, base+i)
			}
			value = s[i+1 : i+1+j]
			i += j + 2
			if i < len(s) && !isSep(s[i]) {
				return nil, fmt.Errorf("unexpected %q after quoted value of key %q at offset %d", s[i], key, base+i)
			}
		} else {
			j := i
			for j < len(s) && !isSep(s[j]) {
				j++
			}
			value = s[i:j]
			if k := strings.IndexAny(value, `'"`); k >= 0 {
				return nil, fmt.Errorf("quote inside unquoted value of key %q at offset %d", key, base+i+k)
			}
			i = j
		}
		switch {
		case !slices.Contains(bracketKeyOrder, key):
			return nil, fmt.Errorf("unknown key %q in brackets at offset %d (known: %s)", key, base+start, strings.Join(bracketKeyOrder, ", "))
		case seen[key]:
			return nil, fmt.Errorf("duplicate key %q in brackets at offset %d", key, base+start)
		case value == "":
			return nil, fmt.Errorf("empty value for key %q in brackets at offset %d", key, base+start)
		}
		seen[key] = true
		keys = append(keys, bracketKey{key: key, value: value, at: base + start})
	}
	slices.SortFunc(keys, func(a, b bracketKey) int {
		return slices.Index(bracketKeyOrder, a.key) - slices.Index(bracketKeyOrder, b.key)
	})
	return keys, nil
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// packageExtensions are the file name endings of conda packages.
var packageExtensions = []string{".conda", ".tar.bz2"}

// isPackageURL reports whether s is the URL of a package file, optionally
// with a '#' hash fragment.
func isPackageURL(s string) bool {
	u, _, _ := strings.Cut(s, "#")
	_, ok := trimPackageExtension(u)
	return ok && strings.Contains(u, "://")
}

// trimPackageExtension removes the package extension from a file name.
func trimPackageExtension(fn string) (string, bool) {
	for _, ext := range packageExtensions {
		if dist, ok := strings.CutSuffix(fn, ext); ok {
			return dist, true
		}
	}
	return fn, false
}

// parseURLSpec reads name, version and build from the file name of a
// package URL, keeps the URL and takes an MD5 (`#<32 hex>`) or SHA-256
// (`#sha256:<64 hex>` or `#<64 hex>`) from the fragment.
func parseURLSpec(s string) (MatchSpec, error) {
	u, fragment, hasFragment := strings.Cut(s, "#")
	fn, err := url.PathUnescape(u[strings.LastIndexByte(u, '/')+1:])
	if err != nil {
		return MatchSpec{}, fmt.Errorf("package file name: %w", err)
	}
	dist, _ := trimPackageExtension(fn)
	// Names may contain '-', versions and builds may not.
	parts := make([]string, 3)
	j := len(dist)
	for k := 2; k > 0; k-- {
		i := strings.LastIndexByte(dist[:j], '-')
		if i < 0 {
			return MatchSpec{}, fmt.Errorf("package file name %q: want name-version-build", fn)
		}
		parts[k], j = dist[i+1:j], i
	}
	parts[0] = dist[:j]

	m := MatchSpec{URL: u, FileName: fn}
	if err := m.setName(parts[0]); err != nil {
		return MatchSpec{}, fmt.Errorf("package file name %q: %w", fn, err)
	}
	if !m.Name.IsExact() {
		return MatchSpec{}, fmt.Errorf("package file name %q: name %q is a pattern", fn, parts[0])
	}
	if _, err := ParseVersion(parts[1]); err != nil {
		return MatchSpec{}, fmt.Errorf("package file name %q: %w", fn, err)
	}
	if err := m.setVersion(parts[1]); err != nil {
		return MatchSpec{}, fmt.Errorf("package file name %q: %w", fn, err)
	}
	if err := m.setBuild(parts[2]); err != nil || !m.Build.IsExact() {
		return MatchSpec{}, fmt.Errorf("package file name %q: build %q is not a plain build string", fn, parts[2])
	}
	if hasFragment {
		if err := m.setHashFragment(fragment); err != nil {
			return MatchSpec{}, err
		}
	}
	return m, nil
}

func (m *MatchSpec) setHashFragment(f string) error {
	var err error
	switch h, ok := strings.CutPrefix(f, "sha256:"); {
	case ok || len(f) == 64:
		m.SHA256, err = parseHexDigest(h, 64)
	case len(f) == 32:
		m.MD5, err = parseHexDigest(f, 32)
	default:
		err = fmt.Errorf("hash fragment %q: want an MD5 (32 hex digits) or sha256:<64 hex digits>", f)
	}
	return err
}

// Matches reports whether r satisfies every field of m. The channel and URL
// are not compared: records name their channel by URL, which only the
// caller can relate to the spec's channel text (see ChannelMatches).
func (m MatchSpec) Matches(r *PackageRecord) bool {
	if r == nil {
		return false
	}
	return m.Name.Matches(strings.ToLower(r.Name)) &&
		(m.Version.IsAny() || m.Version.Matches(r.Version)) &&
		m.Build.Matches(r.Build) &&
		m.BuildNumber.Matches(r.BuildNumber) &&
		(m.Subdir == "" || m.Subdir == r.Subdir) &&
		(m.FileName == "" || m.FileName == r.FileName) &&
		(m.MD5 == "" || strings.EqualFold(m.MD5, r.MD5)) &&
		(m.SHA256 == "" || strings.EqualFold(m.SHA256, r.SHA256)) &&
		m.License.Matches(r.License) &&
		m.LicenseFamily.Matches(r.LicenseFamily) &&
		(m.TrackFeatures == nil || slices.Equal(m.TrackFeatures, featureSet(strings.Join(r.TrackFeatures, " ")))) &&
		(m.Features == nil || slices.Equal(m.Features, featureSet(r.Features)))
}

// Equal reports whether m and o have the same fields.
func (m MatchSpec) Equal(o MatchSpec) bool {
	return m.Name.Equal(o.Name) &&
		versionText(m.Version) == versionText(o.Version) &&
		m.Build.Equal(o.Build) &&
		m.BuildNumber == o.BuildNumber &&
		m.Channel == o.Channel && m.Subdir == o.Subdir &&
		m.FileName == o.FileName && m.URL == o.URL &&
		m.MD5 == o.MD5 && m.SHA256 == o.SHA256 &&
		m.License.Equal(o.License) && m.LicenseFamily.Equal(o.LicenseFamily) &&
		slices.Equal(m.TrackFeatures, o.TrackFeatures) &&
		slices.Equal(m.Features, o.Features)
}

// versionText is the version spec's text, "" when it accepts any version.
func versionText(v VersionSpec) string {
	if v.IsAny() {
		return ""
	}
	return v.String()
}

// String returns conda's canonical form:
//
//	channel/subdir::name==version=build[key=value,...]
//
// An exact version is written `==1.2` and then an exact build `=py39_0`; a
// version `1.2.*` is written `=1.2`; `!=1.2` and `~=1.2` follow the name
// when no build is given; every other version and build goes in brackets,
// as do the remaining keys, quoted with ' when needed. A URL spec is written
// as its URL (with its hash as fragment). For every m that ParseMatchSpec
// returns, ParseMatchSpec(m.String()) is Equal to m.
func (m MatchSpec) String() string {
	if m.URL != "" {
		if s := m.urlForm(); s != "" {
			return s
		}
	}
	var b strings.Builder
	var brackets []string
	bracket := func(key, value string) { brackets = append(brackets, key+"="+quoteBracketValue(value)) }

	// Only a known platform can follow the channel: ParseMatchSpec splits
	// no other subdir off it.
	subdirInChannel := m.Channel != "" && Platform(m.Subdir).IsValid()
	if m.Channel != "" {
		b.WriteString(m.Channel)
		if subdirInChannel {
			b.WriteString("/" + m.Subdir)
		}
		b.WriteString("::")
	}
	if m.Subdir != "" && !subdirInChannel {
		bracket("subdir", m.Subdir)
	}
	b.WriteString(m.Name.String())

	exact := false
	if v := versionText(m.Version); v != "" {
		var pos string
		pos, exact = positionalVersion(v, !m.Build.IsAny())
		if pos != "" {
			b.WriteString(pos)
		} else {
			bracket("version", v)
		}
	}
	if !m.Build.IsAny() {
		if bs := m.Build.String(); exact && m.Build.IsExact() && isPositionalBuild(bs) {
			b.WriteString("=" + bs)
		} else {
			bracket("build", bs)
		}
	}
	if !m.BuildNumber.IsAny() {
		bracket("build_number", m.BuildNumber.String())
	}
	if m.TrackFeatures != nil {
		bracket("track_features", strings.Join(m.TrackFeatures, " "))
	}
	if m.Features != nil {
		bracket("features", strings.Join(m.Features, " "))
	}
	for _, kv := range [][2]string{{"url", m.URL}, {"md5", m.MD5}, {"sha256", m.SHA256}} {
		if kv[1] != "" {
			bracket(kv[0], kv[1])
		}
	}
	if !m.License.IsAny() {
		bracket("license", m.License.String())
	}
	if !m.LicenseFamily.IsAny() {
		bracket("license_family", m.LicenseFamily.String())
	}
	if m.FileName != "" {
		bracket("fn", m.FileName)
	}
	if len(brackets) > 0 {
		b.WriteString("[" + strings.Join(brackets, ",") + "]")
	}
	return b.String()
}

// urlForm returns m written as its package URL with a hash fragment, or ""
// when that URL would not parse back to m (other keys are set).
func (m MatchSpec) urlForm() string {
	s := m.URL
	switch {
	case m.SHA256 != "":
		s += "#sha256:" + m.SHA256
	case m.MD5 != "":
		s += "#" + m.MD5
	}
	if !isPackageURL(s) {
		return ""
	}
	if p, err := parseURLSpec(s); err != nil || !p.Equal(m) {
		return ""
	}
	return s
}

// positionalVersion returns how the version spec text v is written right
// after the name, or "" when it must go in brackets; exact reports an exact
// version, after which an exact build may follow as `=build`.
func positionalVersion(v string, hasBuild bool) (text string, exact bool) {
	switch {
	case isPlainVersion(v):
		return "==" + v, true
	case strings.HasPrefix(v, "==") && isPlainVersion(v[2:]):
		return v, true
	case strings.HasSuffix(v, ".*") && isPlainVersion(v[:len(v)-2]):
		return "=" + v[:len(v)-2], false
	case !hasBuild && (strings.HasPrefix(v, "!=") || strings.HasPrefix(v, "~=")) && isPlainVersion(v[2:]):
		return v, false
	}
	return "", false
}

// isPositionalBuild reports whether a build string can follow `==version=`
// unquoted and parse back as the build.
func isPositionalBuild(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '+') {
			return false
		}
	}
	return s != ""
}

// quoteBracketValue quotes a bracket value unless it is made only of
// characters that cannot end or split it.
func quoteBracketValue(v string) string {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(isKeyByte(c) || strings.IndexByte(".*+/:@", c) >= 0) {
			if strings.IndexByte(v, '\'') >= 0 {
				return `"` + v + `"`
			}
			return "'" + v + "'"
		}
	}
	return v
}

// BuildNumberSpec constrains a build number: `2` (or `==2`), `!=2`, `>2`,
// `>=2`, `<2`, `<=2`, or `*`. The zero BuildNumberSpec matches any.
type BuildNumberSpec struct {
	op string // "" matches any
	n  uint64
}

// buildNumberOps lists the operators longest first, so ">=" wins over ">".
var buildNumberOps = []string{"==", "!=", ">=", "<=", ">", "<"}

// ParseBuildNumberSpec parses a build number constraint such as ">=2".
func ParseBuildNumberSpec(s string) (BuildNumberSpec, error) {
	t := strings.TrimSpace(s)
	if t == "*" {
		return BuildNumberSpec{}, nil
	}
	op := "=="
	for _, o := range buildNumberOps {
		if rest, ok := strings.CutPrefix(t, o); ok {
			op, t = o, rest
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(t), 10, 64)
	if err != nil {
		return BuildNumberSpec{}, fmt.Errorf("parse build number spec %q: %q is not a non-negative integer", s, t)
	}
	return BuildNumberSpec{op: op, n: n}, nil
}

// Matches reports whether build number n satisfies b.
func (b BuildNumberSpec) Matches(n uint64) bool {
	switch b.op {
	case "==":
		return n == b.n
	case "!=":
		return n != b.n
	case ">=":
		return n >= b.n
	case "<=":
		return n <= b.n
	case ">":
		return n > b.n
	case "<":
		return n < b.n
	}
	return true
}

// IsAny reports whether b matches every build number.
func (b BuildNumberSpec) IsAny() bool { return b.op == "" }

// String returns "*", the bare number for equality, or operator and number.
func (b BuildNumberSpec) String() string {
	switch b.op {
	case "":
		return "*"
	case "==":
		return strconv.FormatUint(b.n, 10)
	}
	return b.op + strconv.FormatUint(b.n, 10)
}
