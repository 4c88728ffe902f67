package conda

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/condabox/condabox/pkg/redact"
)

// DefaultChannelAlias is where a channel given by name lives unless the
// configuration says otherwise: "conda-forge" is
// https://conda.anaconda.org/conda-forge.
const DefaultChannelAlias = "https://conda.anaconda.org"

// ChannelConfig is the configuration ParseChannel resolves channels with.
// The zero value is conda's default configuration without a working
// directory.
type ChannelConfig struct {
	// ChannelAlias is the URL under which channels given by name live;
	// "" means DefaultChannelAlias. It may carry a token or credentials.
	ChannelAlias string
	// CustomChannels maps a channel name to the location that holds it, as
	// conda's custom_channels does: {"internal": "https://repo.example.com"}
	// puts channel "internal" (and "internal/label/dev") at
	// https://repo.example.com/internal.
	CustomChannels map[string]string
	// WorkDir is the absolute directory relative channel paths such as
	// "./local-channel" are resolved against; without it they are an error.
	WorkDir string
}

// Channel is a parsed conda channel: where its packages live, the
// credentials needed to fetch them, and the name conda knows it by. The
// zero Channel is invalid; get one from ParseChannel. Channels compare with
// ==.
//
// Secrets (an anaconda.org token, a basic-auth password) are kept for the
// requests BaseURL and SubdirURL build, and left out of, or masked in,
// everything meant to be shown: Name, String, RecordChannel and JSON.
type Channel struct {
	scheme   string // lower case: "https", "file", …
	userinfo string // escaped "user:password", "" when none
	host     string // host[:port]; "" for file URLs
	prefix   string // escaped path before the token: "" or "/a/b"
	token    string
	path     string // escaped path after the token: "/conda-forge/label/dev"
	name     string // the name under the alias or a custom channel; "" for other URLs
	platform Platform
}

// ParseChannel parses a channel as users write it:
//   - a name, resolved under cfg.CustomChannels or cfg.ChannelAlias:
//     "conda-forge", "conda-forge/label/dev";
//   - a URL: "https://conda.anaconda.org/t/<token>/conda-forge",
//     "https://user:pass@repo.example.com/chan", "file:///opt/chan";
//   - an absolute or relative path: "/opt/chan", "./chan", "../chan".
//
// A trailing platform ("conda-forge/linux-64") is split off and reported
// by Platform, and so is a package file name after it, so that a record's
// url field parses to its channel. A URL under the alias or a custom
// channel gets that channel's name: https://conda.anaconda.org/conda-forge
// is "conda-forge".
func ParseChannel(s string, cfg ChannelConfig) (Channel, error) {
	c, err := parseChannel(strings.TrimSpace(s), cfg)
	if err != nil {
		return Channel{}, fmt.Errorf("parse channel %q: %w", redact.URL(s), err)
	}
	return c, nil
}

func parseChannel(s string, cfg ChannelConfig) (Channel, error) {
	switch {
	case s == "":
		return Channel{}, errors.New("empty channel")
	case strings.Contains(s, "://"):
		return parseChannelURL(s, cfg)
	case s == "defaults":
		// conda expands it to repo.anaconda.com's channels; condabox asks
		// for them by name rather than guess the user's license terms.
		return Channel{}, errors.New("the defaults multichannel stands for .condarc's default_channels, which are not set: set them (condabox config append default_channels URL) or name the channels, e.g. conda-forge")
	case strings.HasPrefix(s, "~"):
		return Channel{}, errors.New("a path starting with ~ must be expanded before it is parsed")
	case isPath(s):
		p := s
		if !path.IsAbs(p) {
			if !path.IsAbs(cfg.WorkDir) {
				return Channel{}, fmt.Errorf("relative path needs an absolute working directory, have %q", cfg.WorkDir)
			}
			p = path.Join(cfg.WorkDir, p)
		}
		return parseChannelURL("file://"+(&url.URL{Path: path.Clean(p)}).EscapedPath(), cfg)
	}
	return parseChannelName(s, cfg)
}

// isPath reports whether s is a file system path rather than a channel
// name; like conda, "a/b" is a name and "./a/b" a path.
func isPath(s string) bool {
	return s == "." || s == ".." || strings.HasPrefix(s, "/") ||
		strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../")
}

// parseChannelName resolves "name[/label/…][/platform]" under a custom
// channel or the alias.
func parseChannelName(s string, cfg ChannelConfig) (Channel, error) {
	segs := strings.Split(s, "/")
	offset := 0
	for _, seg := range segs {
		if err := checkNameSegment(seg); err != nil {
			return Channel{}, fmt.Errorf("%w at offset %d", err, offset)
		}
		offset += len(seg) + 1
	}
	segs, platform := splitPlatform(segs)
	if len(segs) == 0 {
		return Channel{}, errors.New("a platform is not a channel name")
	}
	name := strings.Join(segs, "/")

	location, err := nameLocation(segs, cfg)
	if err != nil {
		return Channel{}, err
	}
	c := location
	c.path += "/" + name
	c.name = name
	c.platform = platform
	return c, nil
}

// checkNameSegment accepts the characters conda-forge and anaconda.org
// allow in channel names and labels.
func checkNameSegment(seg string) error {
	switch seg {
	case "":
		return errors.New("empty name segment")
	case ".", "..":
		return fmt.Errorf("segment %q is not a name", seg)
	case "t":
		return errors.New(`segment "t" is reserved for /t/<token>/ in URLs`)
	}
	for i, r := range seg {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("invalid character %q in name segment %q (offset %d in the segment)", r, seg, i)
		}
	}
	return nil
}

// nameLocation returns the location a name lives under: that of the
// custom channel with the longest name that prefixes segs, else the alias.
func nameLocation(segs []string, cfg ChannelConfig) (Channel, error) {
	best, bestLen := "", 0
	for name := range cfg.CustomChannels {
		n := splitPath(name)
		if len(n) == 0 || !hasSegmentPrefix(segs, n) {
			continue
		}
		// Ties (only "a" and "/a") go to the smaller key, so that the
		// result does not depend on map order.
		if len(n) > bestLen || len(n) == bestLen && name < best {
			best, bestLen = name, len(n)
		}
	}
	if bestLen > 0 {
		return customLocation(best, cfg.CustomChannels[best])
	}
	return aliasLocation(cfg)
}

func customLocation(name, location string) (Channel, error) {
	loc, err := splitURL(location)
	if err != nil {
		return Channel{}, fmt.Errorf("custom channel %q: location %q: %w", name, redact.URL(location), err)
	}
	return loc, nil
}

func aliasLocation(cfg ChannelConfig) (Channel, error) {
	alias := cfg.ChannelAlias
	if alias == "" {
		alias = DefaultChannelAlias
	}
	loc, err := splitURL(alias)
	if err != nil {
		return Channel{}, fmt.Errorf("channel alias %q: %w", redact.URL(alias), err)
	}
	return loc, nil
}

// parseChannelURL parses a channel URL, splits off a package file name
// and a platform, and names the channel if it lives under a custom
// channel or the alias.
func parseChannelURL(s string, cfg ChannelConfig) (Channel, error) {
	c, err := splitURL(s)
	if err != nil {
		return Channel{}, err
	}
	segs := splitPath(c.path)
	if n := len(segs); n > 0 && (strings.HasSuffix(segs[n-1], ".conda") || strings.HasSuffix(segs[n-1], ".tar.bz2")) {
		segs = segs[:n-1]
	}
	segs, c.platform = splitPlatform(segs)
	c.path = joinPath(segs)

	name, err := urlName(c, cfg)
	if err != nil {
		return Channel{}, err
	}
	c.name = name
	return c, nil
}

// urlName returns the name of the channel at c when it lives under a
// custom channel or the alias ("https://conda.anaconda.org/conda-forge" is
// "conda-forge"), and "" otherwise.
func urlName(c Channel, cfg ChannelConfig) (string, error) {
	segs := splitPath(c.prefix + c.path)
	// The custom channel matching most of the path wins; ties go to the
	// smaller name, so that the result does not depend on map order.
	best, bestRest := "", len(segs)+1
	for name, location := range cfg.CustomChannels {
		loc, err := customLocation(name, location)
		if err != nil {
			return "", err
		}
		nameSegs := splitPath(name)
		rest, ok := under(c, segs, loc, nameSegs)
		if len(nameSegs) == 0 || !ok {
			continue
		}
		full := strings.Join(append(nameSegs, rest...), "/")
		if len(rest) < bestRest || len(rest) == bestRest && full < best {
			best, bestRest = full, len(rest)
		}
	}
	if best != "" {
		return best, nil
	}
	alias, err := aliasLocation(cfg)
	if err != nil {
		return "", err
	}
	if rest, ok := under(c, segs, alias, nil); ok && len(rest) > 0 {
		return strings.Join(rest, "/"), nil
	}
	return "", nil
}

// under reports whether the channel at c (whose path segments without
// token are segs) lies below location/sub, and returns the segments after it.
func under(c Channel, segs []string, location Channel, sub []string) ([]string, bool) {
	if !strings.EqualFold(c.host, location.host) {
		return nil, false
	}
	want := append(splitPath(location.prefix+location.path), sub...)
	if !hasSegmentPrefix(segs, want) {
		return nil, false
	}
	return segs[len(want):], true
}

// splitURL splits an absolute URL into the parts of a Channel, taking an
// anaconda.org token out of the path. It neither names the channel nor
// splits off a platform.
func splitURL(s string) (Channel, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the whole URL, secrets included: keep its cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Channel{}, redact.Error(err)
	}
	switch {
	case u.Scheme == "":
		return Channel{}, errors.New("missing URL scheme")
	case u.Opaque != "":
		return Channel{}, errors.New("URL is not hierarchical (want scheme://host/path)")
	case u.Host == "" && u.Scheme != "file":
		return Channel{}, errors.New("missing host")
	case u.Scheme == "file" && u.Host != "" && u.Host != "localhost":
		return Channel{}, errors.New("a file URL names no host (want file:///absolute/path)")
	case u.RawQuery != "" || u.ForceQuery:
		return Channel{}, errors.New("a channel URL has no query")
	case u.Fragment != "":
		return Channel{}, errors.New("a channel URL has no fragment")
	}
	c := Channel{scheme: strings.ToLower(u.Scheme), host: u.Host}
	if u.User != nil {
		c.userinfo = u.User.String()
	}
	escaped := strings.TrimSuffix(u.EscapedPath(), "/")
	if strings.Contains(escaped, "//") {
		return Channel{}, errors.New("empty path segment")
	}
	segs := splitPath(escaped)
	for i := 0; i+1 < len(segs); i++ {
		if segs[i] == "t" {
			c.prefix, c.token, c.path = joinPath(segs[:i]), segs[i+1], joinPath(segs[i+2:])
			return c, nil
		}
	}
	c.path = joinPath(segs)
	return c, nil
}

// splitPath splits "/a/b" into its segments; "" and "/" have none.
func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// joinPath is the inverse of splitPath: "" or "/a/b".
func joinPath(segs []string) string {
	if len(segs) == 0 {
		return ""
	}
	return "/" + strings.Join(segs, "/")
}

func hasSegmentPrefix(segs, prefix []string) bool {
	if len(prefix) > len(segs) {
		return false
	}
	for i := range prefix {
		if segs[i] != prefix[i] {
			return false
		}
	}
	return true
}

// splitPlatform splits a trailing platform off segs.
func splitPlatform(segs []string) ([]string, Platform) {
	if n := len(segs); n > 0 && Platform(segs[n-1]).IsValid() {
		return segs[:n-1], Platform(segs[n-1])
	}
	return segs, ""
}

// origin returns "scheme://host" without credentials.
func (c Channel) origin() string { return c.scheme + "://" + c.host }

// publicURL is the channel's URL without credentials and token.
func (c Channel) publicURL() string { return c.origin() + c.prefix + c.path }

// Name returns the name conda knows the channel by (its canonical name):
// "conda-forge" or "conda-forge/label/dev" for a channel under the alias
// or a custom channel, else the URL without credentials, e.g.
// "https://repo.example.com/chan" or "file:///opt/chan".
func (c Channel) Name() string {
	if c.name != "" {
		return c.name
	}
	// A second /t/ segment is not the channel's token but may be secret.
	return redact.URL(c.publicURL())
}

// Platform returns the platform the channel was given with
// ("conda-forge/linux-64"), or "" when none was.
func (c Channel) Platform() Platform { return c.platform }

// BaseURL returns the URL to fetch the channel from, without platform,
// including token and credentials. It is secret: show String instead.
func (c Channel) BaseURL() string {
	u := c.scheme + "://"
	if c.userinfo != "" {
		u += c.userinfo + "@"
	}
	u += c.host + c.prefix
	if c.token != "" {
		u += "/t/" + c.token
	}
	return u + c.path
}

// SubdirURL returns the URL of one platform folder of the channel, ending
// in "/" so that "repodata.json" or a file name can be appended. Like
// BaseURL it carries the secrets.
func (c Channel) SubdirURL(p Platform) string {
	return c.BaseURL() + "/" + string(p) + "/"
}

// String returns the channel's URL as given, platform included, with the
// token shown as <TOKEN> and the password as ********.
func (c Channel) String() string {
	u := c.BaseURL()
	if c.platform != "" {
		u += "/" + string(c.platform)
	}
	return redact.URL(u)
}

// RecordChannel returns what conda writes in the channel field of a
// conda-meta record of a package taken from platform p of this channel:
// the URL without credentials and token, joined with p, e.g.
// "https://conda.anaconda.org/conda-forge/linux-64".
func (c Channel) RecordChannel(p Platform) string {
	return redact.URL(c.publicURL()) + "/" + string(p)
}

// MarshalJSON writes String, so that secrets never reach a JSON document.
func (c Channel) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// Includes reports whether a record's channel — its channel or url field,
// in any form conda, mamba or rattler write it ("conda-forge",
// "https://conda.anaconda.org/conda-forge/", ".../conda-forge/noarch",
// a package URL) — is this channel. It is how "conda-forge::numpy" matches.
// When c was given with a platform, a record channel naming another
// platform does not match; one naming none does, since only the record's
// subdir field can tell.
func (c Channel) Includes(recordChannel string, cfg ChannelConfig) bool {
	r, err := ParseChannel(recordChannel, cfg)
	if err != nil {
		return false
	}
	if c.platform != "" && r.platform != "" && c.platform != r.platform {
		return false
	}
	// Like conda, identify a channel by where it lives, not by scheme or
	// credentials; unlike conda's names, this tells a custom channel from
	// an alias channel of the same name.
	return strings.EqualFold(c.host, r.host) && c.prefix+c.path == r.prefix+r.path
}

// ChannelMatches parses spec, the channel part of a match spec, and
// reports whether recordChannel belongs to it (see Channel.Includes). Only
// an invalid spec is an error.
func ChannelMatches(spec, recordChannel string, cfg ChannelConfig) (bool, error) {
	c, err := ParseChannel(spec, cfg)
	if err != nil {
		return false, err
	}
	return c.Includes(recordChannel, cfg), nil
}
