package env

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/redact"
	"github.com/condabox/condabox/pkg/solve"
)

// actionJSON is one package of micromamba's "actions" lists, with the keys
// of mamba's PackageInfo JSON (sorted, as nlohmann writes them).
type actionJSON struct {
	Build         string   `json:"build"`
	BuildNumber   uint64   `json:"build_number"`
	BuildString   string   `json:"build_string"`
	Channel       string   `json:"channel"`
	Constrains    []string `json:"constrains"`
	Depends       []string `json:"depends"`
	FileName      string   `json:"fn"`
	License       string   `json:"license"`
	MD5           string   `json:"md5,omitempty"`
	Name          string   `json:"name"`
	Noarch        string   `json:"noarch,omitempty"`
	SHA256        string   `json:"sha256,omitempty"`
	Size          int64    `json:"size"`
	Subdir        string   `json:"subdir"`
	Timestamp     int64    `json:"timestamp"`
	TrackFeatures string   `json:"track_features"`
	URL           string   `json:"url"`
	Version       string   `json:"version"`
}

type actionsJSON struct {
	Fetch  []actionJSON `json:"FETCH,omitempty"`
	Link   []actionJSON `json:"LINK,omitempty"`
	Prefix string       `json:"PREFIX"`
}

type planJSON struct {
	Actions actionsJSON `json:"actions"`
	DryRun  bool        `json:"dry_run"`
	Prefix  string      `json:"prefix"`
	Success bool        `json:"success"`
}

type problemsJSON struct {
	SolverProblems []string `json:"solver_problems"`
	Success        bool     `json:"success"`
}

// WriteJSON writes the plan as micromamba's --json output of a create:
// every package is linked and, since condabox has no package cache yet,
// fetched. Channels are shown by name and URLs without secrets.
func (p *Plan) WriteJSON(w io.Writer, dryRun bool) error {
	actions := make([]actionJSON, len(p.Records))
	for i := range p.Records {
		actions[i] = newActionJSON(&p.Records[i])
	}
	return writeJSON(w, planJSON{
		Actions: actionsJSON{Fetch: actions, Link: actions, Prefix: p.Prefix},
		DryRun:  dryRun,
		Prefix:  p.Prefix,
		Success: true,
	})
}

// WriteProblemsJSON writes micromamba's --json output of an unsatisfiable
// request.
func WriteProblemsJSON(w io.Writer, e *solve.UnsatisfiableError) error {
	problems := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		problems[i] = redact.Text(p)
	}
	return writeJSON(w, problemsJSON{SolverProblems: problems})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	return enc.Encode(v)
}

func newActionJSON(r *conda.PackageRecord) actionJSON {
	return actionJSON{
		Build:         r.Build,
		BuildNumber:   r.BuildNumber,
		BuildString:   r.Build,
		Channel:       channelName(r.Channel),
		Constrains:    nonNil(r.Constrains),
		Depends:       nonNil(r.Depends),
		FileName:      r.FileName,
		License:       r.License,
		MD5:           r.MD5,
		Name:          r.Name,
		Noarch:        string(r.Noarch),
		SHA256:        r.SHA256,
		Size:          r.Size,
		Subdir:        r.Subdir,
		Timestamp:     r.Timestamp,
		TrackFeatures: strings.Join(r.TrackFeatures, ","),
		URL:           redact.URL(r.URL),
		Version:       r.Version.String(),
	}
}

// channelName shows a record's channel ("https://conda.anaconda.org/
// conda-forge/linux-64") by the name conda knows it by ("conda-forge").
func channelName(recordChannel string) string {
	c, err := conda.ParseChannel(recordChannel, conda.ChannelConfig{})
	if err != nil {
		return redact.URL(recordChannel)
	}
	return c.Name()
}

// nonNil makes JSON say [] for no entries, as micromamba does.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteText writes the plan for a person: one package per line.
func (p *Plan) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Environment %s (%s): %d packages to install\n\n", p.Prefix, p.Platform, len(p.Records))
	for i := range p.Records {
		r := &p.Records[i]
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.Name, r.Version, r.Build, channelName(r.Channel))
	}
	return tw.Flush()
}
