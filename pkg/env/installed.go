package env

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/install"
	"github.com/condabox/condabox/pkg/redact"
)

// Installed is an existing environment as `condabox list` and `condabox env
// export` read it: its conda-meta records and the specs its history says
// the user asked for.
type Installed struct {
	// Prefix is the environment's folder; Name is "base" for the root
	// prefix, the folder's name under <root prefix>/envs, else "" (as
	// micromamba names environments).
	Prefix, Name string
	// Platform is the subdir of the environment's packages (noarch aside),
	// else the target platform (CONDA_SUBDIR or the machine's) for an
	// environment of noarch packages only; "" when packages of several
	// platforms are installed.
	Platform conda.Platform
	// Records are conda-meta/*.json, sorted by name.
	Records []*install.PrefixRecord
	// Pip are the Python packages installed there by pip, not conda
	// (see PipPackage), sorted by name.
	Pip []PipPackage
	// Variables are conda-meta/state's env_vars (an environment file's
	// variables:, conda env config vars).
	Variables map[string]string
	// Requested maps a package name to the spec the user asked for it with:
	// conda-meta/history's update specs, else the record's requested_spec.
	Requested map[string]string
	// historyErr is why conda-meta/history could not be read: only what
	// needs the requested specs fails for it, not list.
	historyErr error
}

// ErrNotEnvironment is the error (wrapped with the folder) for a prefix
// without conda-meta.
var ErrNotEnvironment = errors.New("not a conda environment (no conda-meta)")

// EnvironmentPrefix returns the environment a command that reads one acts
// on, chosen as micromamba's list and env export choose it: -p or -n, else
// the active environment ($CONDA_PREFIX), else the root prefix (base).
func EnvironmentPrefix(req CreateRequest) (string, error) {
	lookup := requestLookup(req)
	if req.Prefix == "" && req.Name == "" {
		if req.Prefix = activePrefix(lookup); req.Prefix == "" {
			req.Name = "base"
		}
	}
	return targetPrefix(req, lookup)
}

// activePrefix returns the activated environment, $CONDA_PREFIX, or "".
func activePrefix(lookup func(string) (string, bool)) string {
	p, _ := lookup("CONDA_PREFIX")
	return p
}

// ReadInstalled reads the environment req names (see EnvironmentPrefix).
// A folder that is not an environment is an error wrapping
// ErrNotEnvironment.
func ReadInstalled(ctx context.Context, req CreateRequest) (*Installed, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prefix, err := EnvironmentPrefix(req)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("environment %s: %w", prefix, ErrNotEnvironment)
		}
		return nil, fmt.Errorf("environment %s: %w", prefix, err)
	}
	recs, err := install.ReadPrefix(prefix)
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", prefix, err)
	}
	in := &Installed{Prefix: prefix, Records: recs, Pip: readPipPackages(prefix, recs), Requested: map[string]string{}}
	if in.Variables, err = StateVars(prefix); err != nil {
		return nil, fmt.Errorf("environment %s: %w", prefix, err)
	}
	history, err := readHistorySpecs(filepath.Join(prefix, "conda-meta", "history"))
	if err != nil {
		in.historyErr = fmt.Errorf("environment %s: %w", prefix, err)
	}
	for _, r := range recs {
		if spec := history[r.Name]; spec != "" {
			in.Requested[r.Name] = spec
		} else if r.RequestedSpec != "" {
			in.Requested[r.Name] = canonicalSpec(r.RequestedSpec)
		}
	}
	if root, err := config.RootPrefix(requestLookup(req)); err == nil {
		in.Name = envName(root, prefix)
	}
	if in.Platform, err = envPlatform(recs, requestLookup(req)); err != nil {
		return nil, fmt.Errorf("environment %s: %w", prefix, err)
	}
	return in, nil
}

// envPlatform returns the platform of the records' subdirs (noarch aside),
// else the target platform; "" when they name several.
func envPlatform(recs []*install.PrefixRecord, lookup func(string) (string, bool)) (conda.Platform, error) {
	var p conda.Platform
	for _, r := range recs {
		switch sub := conda.Platform(r.Subdir); {
		case sub == "noarch" || sub == "" || sub == p:
		case p == "":
			p = sub
		default:
			return "", nil
		}
	}
	if p != "" {
		return p, nil
	}
	return targetPlatform("", lookup)
}

// canonicalSpec writes a requested_spec as history's specs are written,
// or as it is when it does not parse (another tool's record).
func canonicalSpec(s string) string {
	m, err := conda.ParseMatchSpec(s)
	if err != nil {
		return s
	}
	return m.String()
}

// envName names prefix as micromamba does: "base" for the root prefix,
// the path under <root>/envs for an environment there, else "".
func envName(root, prefix string) string {
	root, prefix = filepath.Clean(root), filepath.Clean(prefix)
	if prefix == root {
		return "base"
	}
	if rel, err := filepath.Rel(filepath.Join(root, "envs"), prefix); err == nil && rel != "." && filepath.IsLocal(rel) {
		return rel
	}
	return ""
}

// Filter keeps the records whose name matches pattern, a regular
// expression searched anywhere in the name as micromamba's list does, or,
// with fullName, matching the whole name. An empty pattern keeps all.
func (in *Installed) Filter(pattern string, fullName bool) error {
	if pattern == "" {
		return nil
	}
	if fullName {
		pattern = "^(?:" + pattern + ")$"
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return fmt.Errorf("package name pattern %q: %w", pattern, err)
	}
	kept := in.Records[:0]
	for _, r := range in.Records {
		if re.MatchString(r.Name) {
			kept = append(kept, r)
		}
	}
	in.Records = kept
	in.Pip = slices.DeleteFunc(in.Pip, func(p PipPackage) bool { return !re.MatchString(p.Name) })
	return nil
}

// WriteList writes the records as micromamba's list does: a table of name,
// version, build and channel.
func (in *Installed) WriteList(w io.Writer) error {
	rows := make([][]string, len(in.Records), len(in.Records)+len(in.Pip))
	for i, r := range in.Records {
		rows[i] = []string{r.Name, r.Version.String(), r.Build, channelName(recordChannel(&r.PackageRecord))}
	}
	for _, p := range in.Pip {
		rows = append(rows, []string{p.Name, p.Version, pipBuild, pipChannel})
	}
	slices.SortStableFunc(rows, func(a, b []string) int { return strings.Compare(strings.ToLower(a[0]), strings.ToLower(b[0])) })
	if _, err := fmt.Fprintf(w, "List of packages in environment: %q\n\n", in.Prefix); err != nil {
		return err
	}
	return writeTable(w, []string{"Name", "Version", "Build", "Channel"}, rows)
}

// WriteListExport writes the records as conda's list --export does: a spec
// file `create --file` (and conda's) reads back — comment lines naming the
// platform, then name=version=build per package.
func (in *Installed) WriteListExport(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# This file may be used to create an environment using:\n# $ conda create --name <env> --file <this file>\n")
	if in.Platform != "" {
		fmt.Fprintf(&b, "# platform: %s\n", in.Platform)
	}
	for _, r := range in.Records {
		fmt.Fprintf(&b, "%s=%s=%s\n", r.Name, r.Version, r.Build)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteListCanonical writes the records as conda's list --canonical does:
// channel/subdir::name-version-build per package.
func (in *Installed) WriteListCanonical(w io.Writer) error {
	var b strings.Builder
	for _, r := range in.Records {
		fmt.Fprintf(&b, "%s/%s::%s\n", channelName(recordChannel(&r.PackageRecord)), r.Subdir, r.Dist())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// listEntryJSON is one package of `conda list --json`.
type listEntryJSON struct {
	BaseURL     string `json:"base_url"`
	BuildNumber uint64 `json:"build_number"`
	BuildString string `json:"build_string"`
	Channel     string `json:"channel"`
	DistName    string `json:"dist_name"`
	Name        string `json:"name"`
	Platform    string `json:"platform"`
	Version     string `json:"version"`
}

// WriteListJSON writes the records as conda's list --json does: a list of
// objects.
func (in *Installed) WriteListJSON(w io.Writer) error {
	out := make([]listEntryJSON, len(in.Records))
	for i, r := range in.Records {
		ch := recordChannel(&r.PackageRecord)
		out[i] = listEntryJSON{
			BaseURL:     baseURL(ch),
			BuildNumber: r.BuildNumber,
			BuildString: r.Build,
			Channel:     channelName(ch),
			DistName:    r.Dist(),
			Name:        r.Name,
			Platform:    r.Subdir,
			Version:     r.Version.String(),
		}
	}
	for _, p := range in.Pip { // as conda lists them
		out = append(out, listEntryJSON{BaseURL: "https://pypi.org/", BuildString: pipBuild, Channel: pipChannel,
			DistName: p.Name + "-" + p.Version + "-" + pipBuild, Name: p.Name, Platform: pipChannel, Version: p.Version})
	}
	slices.SortStableFunc(out, func(a, b listEntryJSON) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return writeJSON(w, out)
}

// recordChannel returns where a record came from: its package URL, which
// always names the channel in full, else its channel field ("conda-forge"
// in some older records).
func recordChannel(r *conda.PackageRecord) string {
	if r.URL != "" {
		return r.URL
	}
	return r.Channel
}

// baseURL returns the URL of a record's channel without platform and
// secrets, e.g. "https://conda.anaconda.org/conda-forge".
func baseURL(recordChannel string) string {
	c, err := conda.ParseChannel(recordChannel, conda.ChannelConfig{})
	if err != nil {
		return redact.URL(recordChannel)
	}
	return strings.TrimSuffix(c.String(), "/"+string(c.Platform()))
}

// writeTable writes rows under header as micromamba's tables look: columns
// left aligned, two spaces apart and indented by two, a rule under the
// header.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	widths := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	line := func(cells []string) string {
		var b strings.Builder
		for i, cell := range cells {
			b.WriteString("  " + cell + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)))
		}
		return strings.TrimRight(b.String(), " ")
	}
	total := 0
	for _, n := range widths {
		total += n + 2
	}
	var b strings.Builder
	b.WriteString(line(header) + "\n" + strings.Repeat("─", total) + "\n")
	for _, row := range rows {
		b.WriteString(line(row) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
