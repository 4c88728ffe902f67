package env

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/repodata"
)

// SearchResult is what `condabox search` found: the records of the
// channels matching the specs for Platform and noarch.
type SearchResult struct {
	Platform conda.Platform
	Records  []conda.PackageRecord
}

// Search looks specs ("numpy >=2"; a name may be a pattern, "*numpy*" or
// "py*", as in conda search) up in the channels of req (-c first, then
// .condarc's unless OverrideChannels) for req's platform and noarch. A
// pattern is matched against every name the channels' indexes have.
// Records come by name, then newest version and build number first, then in
// channel priority.
func Search(ctx context.Context, req CreateRequest, specs []string) (*SearchResult, error) {
	if len(specs) == 0 {
		return nil, errors.New(`search: give a package spec, e.g. numpy or "numpy >=2"`)
	}
	var ms []conda.MatchSpec
	for _, s := range specs {
		m, err := conda.ParseMatchSpec(s)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", s, err)
		}
		if m.Name.IsAny() {
			return nil, fmt.Errorf("search %q: give a package name or a pattern such as \"numpy*\"", s)
		}
		ms = append(ms, m)
	}
	gw, channels, p, err := openChannels(req, false)
	if err != nil {
		return nil, err
	}
	// The names each spec asks for: itself, or those its pattern matches.
	names := make([][]string, len(ms))
	var all []string // every name of the channels, once a pattern needs them
	var load []conda.MatchSpec
	for i, m := range ms {
		if m.Name.IsExact() {
			names[i] = []string{m.Name.String()}
			load = append(load, m)
			continue
		}
		if all == nil {
			if all, err = gw.Names(ctx, channels, []conda.Platform{p}); err != nil {
				return nil, err
			}
		}
		for _, n := range all {
			if m.Name.Matches(n) {
				names[i] = append(names[i], n)
				exact := m
				if exact.Name, err = conda.ParseStringMatcher(n); err != nil {
					return nil, fmt.Errorf("search: package name %q: %w", n, err)
				}
				load = append(load, exact)
			}
		}
	}
	res := &SearchResult{Platform: p}
	if len(load) == 0 {
		return res, nil
	}
	index, err := gw.Load(ctx, channels, []conda.Platform{p}, load)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, m := range ms {
		for _, r := range recordsOf(index, names[i]) {
			if key := r.URL; m.Matches(&r) && !seen[key] {
				seen[key] = true
				res.Records = append(res.Records, r)
			}
		}
	}
	slices.SortStableFunc(res.Records, newestFirst)
	return res, nil
}

// openChannels returns the gateway, the channels and the platform a query
// of req's channels (not a solve) reads: -c first, then .condarc's unless
// OverrideChannels; at least one. A query of every package (whole) reads
// each subdir's repodata.json in one download rather than a shard per
// name: conda-forge has tens of thousands.
func openChannels(req CreateRequest, whole bool) (*repodata.Gateway, []conda.Channel, conda.Platform, error) {
	lookup := requestLookup(req)
	cfg, err := config.Load(lookup)
	if err != nil {
		return nil, nil, "", err
	}
	p, err := targetPlatform(req.Platform, lookup)
	if err != nil {
		return nil, nil, "", err
	}
	channels, err := requestChannels(req.Channels, nil, req.OverrideChannels, cfg, req.WorkDir)
	if err != nil {
		return nil, nil, "", err
	}
	if len(channels) == 0 {
		return nil, nil, "", errors.New("no channels: give -c CHANNEL or set channels in .condarc")
	}
	opts, err := gatewayOptions(req, cfg, lookup)
	if err != nil {
		return nil, nil, "", err
	}
	opts.DisableShards = whole
	gw, err := repodata.New(opts)
	if err != nil {
		return nil, nil, "", err
	}
	return gw, channels, p, nil
}

// recordsOf returns the records of names in index.
func recordsOf(index *repodata.Index, names []string) []conda.PackageRecord {
	var out []conda.PackageRecord
	for _, n := range names {
		out = append(out, index.Records(n)...)
	}
	return out
}

// WriteText writes the records as a table, as micromamba's search does.
func (s *SearchResult) WriteText(w io.Writer) error {
	if len(s.Records) == 0 {
		_, err := fmt.Fprintf(w, "No match found for %s.\n", s.Platform)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, " Name\tVersion\tBuild\tChannel\tSubdir")
	for i := range s.Records {
		r := &s.Records[i]
		fmt.Fprintf(tw, " %s\t%s\t%s\t%s\t%s\n", r.Name, r.Version, r.Build, channelName(r.Channel), r.Subdir)
	}
	return tw.Flush()
}

// WriteJSON writes the records as JSON: {"result": {"pkgs": [...]}}, the
// shape of micromamba's search --json.
func (s *SearchResult) WriteJSON(w io.Writer) error {
	pkgs := actions(s.Records)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"result": map[string]any{"msg": "", "status": "OK", "pkgs": pkgs}})
}
