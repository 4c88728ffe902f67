package env

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
)

// SearchResult is what `condabox search` found: the records of the
// channels matching the specs for Platform and noarch.
type SearchResult struct {
	Platform conda.Platform
	Records  []conda.PackageRecord
}

// Search looks specs (match specs with an exact name, "numpy >=2") up in
// the channels of req (-c first, then .condarc's unless OverrideChannels)
// for req's platform and noarch. Records come by name, then newest version
// and build number first, then in channel priority.
func Search(ctx context.Context, req CreateRequest, specs []string) (*SearchResult, error) {
	if len(specs) == 0 {
		return nil, errors.New(`search: give a package spec, e.g. numpy or "numpy >=2"`)
	}
	lookup := requestLookup(req)
	var ms []conda.MatchSpec
	for _, s := range specs {
		m, err := conda.ParseMatchSpec(s)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", s, err)
		}
		if !m.Name.IsExact() {
			return nil, fmt.Errorf("search %q: give an exact package name: a pattern would need every channel's whole index", s)
		}
		ms = append(ms, m)
	}
	cfg, err := config.Load(lookup)
	if err != nil {
		return nil, err
	}
	p, err := targetPlatform(req.Platform, lookup)
	if err != nil {
		return nil, err
	}
	channels, err := requestChannels(req.Channels, req.OverrideChannels, cfg, req.WorkDir)
	if err != nil {
		return nil, err
	}
	if len(channels) == 0 {
		return nil, errors.New("no channels: give -c CHANNEL or set channels in .condarc")
	}
	gw, err := newGateway(req, cfg, lookup)
	if err != nil {
		return nil, err
	}
	index, err := gw.Load(ctx, channels, []conda.Platform{p}, ms)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{Platform: p}
	seen := map[string]bool{}
	for _, m := range ms {
		for _, r := range index.Records(m.Name.String()) {
			if key := r.URL; m.Matches(&r) && !seen[key] {
				seen[key] = true
				res.Records = append(res.Records, r)
			}
		}
	}
	slices.SortStableFunc(res.Records, func(a, b conda.PackageRecord) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), b.Version.Compare(a.Version), cmp.Compare(b.BuildNumber, a.BuildNumber))
	})
	return res, nil
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
	pkgs := make([]actionJSON, len(s.Records))
	for i := range s.Records {
		pkgs[i] = newActionJSON(&s.Records[i])
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"result": map[string]any{"msg": "", "status": "OK", "pkgs": pkgs}})
}
