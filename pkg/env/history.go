package env

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// readHistorySpecs reads the requested specs of conda-meta/history (see
// parseHistorySpecs); a missing file has none.
func readHistorySpecs(name string) (map[string]string, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseHistorySpecs(name, data)
}

// parseHistorySpecs returns package name → the spec the user last asked
// for it, replaying the "# update specs: [...]" and "# remove specs: [...]"
// lines of a conda-meta/history file as conda does: a later request for a
// name replaces an earlier one, a removal drops it. name is the file's name
// for error messages.
func parseHistorySpecs(name string, data []byte) (map[string]string, error) {
	specs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		list, update := strings.CutPrefix(line, "# update specs:")
		if !update {
			var remove bool
			if list, remove = strings.CutPrefix(line, "# remove specs:"); !remove {
				continue // dates, commands, +/- dists, neutered specs
			}
		}
		items, err := parsePythonList(strings.TrimSpace(list))
		if err != nil {
			return nil, fmt.Errorf("parse history %q: line %d: %w", name, lineNo, err)
		}
		for _, s := range items {
			m, err := conda.ParseMatchSpec(s)
			if err != nil {
				return nil, fmt.Errorf("parse history %q: line %d: %w", name, lineNo, err)
			}
			if update {
				specs[m.Name.String()] = m.String()
			} else {
				delete(specs, m.Name.String())
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse history %q: %w", name, err)
	}
	return specs, nil
}

// parsePythonList parses a python list of string literals as conda writes
// it with repr: "['a', \"b'c\", 'd\\\\e']".
func parsePythonList(s string) ([]string, error) {
	body, open := strings.CutPrefix(s, "[")
	body, closed := strings.CutSuffix(body, "]")
	if !open || !closed {
		return nil, fmt.Errorf("spec list %q: want [...]", s)
	}
	var out []string
	for i := 0; ; {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		if i == len(body) {
			return out, nil
		}
		if len(out) > 0 {
			if body[i] != ',' {
				return nil, fmt.Errorf("spec list %q: want ',' at offset %d", s, i+1)
			}
			for i++; i < len(body) && body[i] == ' '; i++ {
			}
			if i == len(body) { // a trailing comma
				return out, nil
			}
		}
		item, n, err := parsePythonString(body[i:])
		if err != nil {
			return nil, fmt.Errorf("spec list %q: at offset %d: %w", s, i+1, err)
		}
		out = append(out, item)
		i += n
	}
}

// parsePythonString parses the string literal at the start of s, quoted
// with ' or ", and returns its value and length.
func parsePythonString(s string) (string, int, error) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", 0, errors.New("want a quoted string")
	}
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == quote:
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i]) // specs hold only \\, \' and \" escapes
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated string")
}

// Revision is one transaction of conda-meta/history: when it ran and the
// packages it removed and added, as "channel/subdir::name-version-build".
type Revision struct {
	Date           string // as written: "2024-05-01 12:00:00"
	Removed, Added []string
}

// ReadRevisions reads the revisions of prefix's conda-meta/history, oldest
// (rev 0) first; an environment without history has none.
func ReadRevisions(prefix string) ([]Revision, error) {
	name := filepath.Join(prefix, "conda-meta", "history")
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseRevisions(name, data)
}

// parseRevisions parses a conda-meta/history file; name is its name for
// error messages.
func parseRevisions(name string, data []byte) ([]Revision, error) {
	var revs []Revision
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if date, ok := strings.CutPrefix(line, "==>"); ok {
			date, ok = strings.CutSuffix(date, "<==")
			if !ok {
				return nil, fmt.Errorf("parse history %q: line %d: a header without <==", name, lineNo)
			}
			revs = append(revs, Revision{Date: strings.TrimSpace(date)})
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if len(revs) == 0 {
			return nil, fmt.Errorf("parse history %q: line %d: %q before any ==> date <== header", name, lineNo, line)
		}
		r := &revs[len(revs)-1]
		switch line[0] {
		case '+':
			r.Added = append(r.Added, line[1:])
		case '-':
			r.Removed = append(r.Removed, line[1:])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse history %q: %w", name, err)
	}
	return revs, nil
}

// WriteRevisions writes revisions as conda's list --revisions does: each
// date with its number, then the packages updated or downgraded
// (" name  {old -> new}"), removed ("-name-version") and added
// ("+name-version"), each with its channel, by name.
func WriteRevisions(w io.Writer, revs []Revision) error {
	var b strings.Builder
	for i, r := range revs {
		fmt.Fprintf(&b, "%s  (rev %d)\n", r.Date, i)
		removed, added := revisionVersions(r.Removed), revisionVersions(r.Added)
		var changed, gone, came []string
		for n := range removed {
			if _, ok := added[n]; ok {
				changed = append(changed, n)
			} else {
				gone = append(gone, n)
			}
		}
		for n := range added {
			if _, ok := removed[n]; !ok {
				came = append(came, n)
			}
		}
		slices.Sort(changed)
		slices.Sort(gone)
		slices.Sort(came)
		for _, n := range changed {
			fmt.Fprintf(&b, "     %s  {%s -> %s}\n", n, removed[n], added[n])
		}
		for _, n := range gone {
			fmt.Fprintf(&b, "    -%s-%s\n", n, removed[n])
		}
		for _, n := range came {
			fmt.Fprintf(&b, "    +%s-%s\n", n, added[n])
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// revisionVersions maps the names of history dists to "version (channel)".
func revisionVersions(dists []string) map[string]string {
	out := map[string]string{}
	for _, d := range dists {
		channel, dist := cutChannel(d)
		name, version, _, ok := splitDist(dist)
		if !ok {
			out[strings.ToLower(dist)] = ""
			continue
		}
		if channel != "" {
			version += " (" + channel + ")"
		}
		out[strings.ToLower(name)] = version
	}
	return out
}

// cutChannel splits a history dist into its channel ("" without one) and
// "name-version-build".
func cutChannel(d string) (channel, dist string) {
	if channel, dist, ok := strings.Cut(d, "::"); ok {
		return channel, dist
	}
	return "", d
}

// RevisionState returns the packages ("channel/subdir::name-version-build",
// sorted) of the environment after revision n of revs: each revision's
// removals, then its additions, applied from revision 0 on.
func RevisionState(revs []Revision, n int) ([]string, error) {
	if n < 0 || n >= len(revs) {
		if len(revs) == 0 {
			return nil, fmt.Errorf("revision %d: the environment has no revisions (no conda-meta/history)", n)
		}
		return nil, fmt.Errorf("revision %d: the environment has revisions 0 to %d (list --revisions shows them)", n, len(revs)-1)
	}
	state := map[string]string{} // by package name
	for _, r := range revs[:n+1] {
		for _, d := range r.Removed {
			delete(state, historyName(d))
		}
		for _, d := range r.Added {
			state[historyName(d)] = d
		}
	}
	return slices.Sorted(maps.Values(state)), nil
}

// historyName returns the package name of a history dist.
func historyName(d string) string {
	_, dist := cutChannel(d)
	name, _, _, _ := splitDist(dist)
	return strings.ToLower(name)
}

// splitDist splits "name-version-build"; ok is false when it has fewer
// than three parts.
func splitDist(dist string) (name, version, build string, ok bool) {
	i := strings.LastIndexByte(dist, '-')
	if i <= 0 {
		return dist, "", "", false
	}
	j := strings.LastIndexByte(dist[:i], '-')
	if j <= 0 {
		return dist, "", "", false
	}
	return dist[:j], dist[j+1 : i], dist[i+1:], true
}

// historySpec returns the spec that matches exactly the package of a
// history dist: "channel/subdir::name==version=build".
func historySpec(d string) (string, error) {
	channel, dist := cutChannel(d)
	name, version, build, ok := splitDist(dist)
	if !ok {
		return "", fmt.Errorf("history entry %q: want [channel::]name-version-build", d)
	}
	spec := name + "==" + version + "=" + build
	if channel != "" {
		spec = channel + "::" + spec
	}
	m, err := conda.ParseMatchSpec(spec)
	if err != nil {
		return "", fmt.Errorf("history entry %q: %w", d, err)
	}
	v, err := conda.ParseVersion(version)
	if err != nil {
		return "", fmt.Errorf("history entry %q: %w", d, err)
	}
	// A character spec syntax reads otherwise (# starts a comment) would
	// make a spec of another package.
	if rec := (conda.PackageRecord{Name: name, Version: v, Build: build, Subdir: m.Subdir}); !m.Matches(&rec) {
		return "", fmt.Errorf("history entry %q: not a package's name-version-build", d)
	}
	return spec, nil
}
