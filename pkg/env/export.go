package env

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/redact"
)

// ExportOptions say what `condabox env export` writes in an
// environment.yml.
type ExportOptions struct {
	// Channels (-c) are listed first, before those the packages came from.
	Channels []string
	// NoBuild writes name=version instead of name=version=build.
	NoBuild bool
	// FromHistory writes the specs the user asked for (conda-meta/history,
	// requested_spec) instead of every installed package.
	FromHistory bool
	// MD5 and SHA256 add the package's checksum as [md5=…] / [sha256=…]
	// (not to the specs of FromHistory, which are as the user gave them).
	MD5, SHA256 bool
}

// exportFile is an environment.yml as conda and micromamba export it.
// Dependencies hold spec strings, then a {pip: [name==version, ...]}
// mapping when pip installed packages there; Variables are
// conda-meta/state's env_vars, as conda env export writes them.
type exportFile struct {
	Name         string            `json:"name" yaml:"name"`
	Channels     []string          `json:"channels" yaml:"channels"`
	Dependencies []any             `json:"dependencies" yaml:"dependencies"`
	Variables    map[string]string `json:"variables,omitempty" yaml:"variables,omitempty"`
	Prefix       string            `json:"prefix" yaml:"prefix"`
}

// export builds the environment.yml of the environment.
func (in *Installed) export(opts ExportOptions) (exportFile, error) {
	if opts.FromHistory && in.historyErr != nil {
		return exportFile{}, in.historyErr
	}
	out := exportFile{Name: in.Name, Prefix: in.Prefix, Channels: []string{}, Dependencies: []any{}, Variables: in.Variables}
	for _, c := range opts.Channels {
		if !slices.Contains(out.Channels, c) {
			out.Channels = append(out.Channels, c)
		}
	}
	var found []string // the packages' channels, sorted after the -c ones
	var deps []string
	for _, r := range in.Records {
		dep := pinnedSpec(&r.PackageRecord, opts)
		if opts.FromHistory {
			// Two installed records of one name (a broken prefix) share
			// their requested spec: write it once.
			if dep = in.Requested[r.Name]; dep == "" || slices.Contains(deps, dep) {
				continue
			}
		}
		deps = append(deps, dep)
		if c := channelName(recordChannel(&r.PackageRecord)); !slices.Contains(out.Channels, c) && !slices.Contains(found, c) {
			found = append(found, c)
		}
	}
	slices.Sort(found)
	out.Channels = append(out.Channels, found...)
	for _, d := range deps {
		out.Dependencies = append(out.Dependencies, d)
	}
	if len(in.Pip) > 0 && !opts.FromHistory {
		var pip []string
		for _, p := range in.Pip {
			pip = append(pip, p.Name+"=="+p.Version)
		}
		out.Dependencies = append(out.Dependencies, map[string][]string{"pip": pip})
	}
	return out, nil
}

// pinnedSpec is the spec of exactly r: name=version=build, the build and
// checksums as opts say.
func pinnedSpec(r *conda.PackageRecord, opts ExportOptions) string {
	s := r.Name + "=" + r.Version.String()
	if !opts.NoBuild {
		s += "=" + r.Build
	}
	var keys []string // one bracket section: a spec may have only one
	if opts.MD5 && r.MD5 != "" {
		keys = append(keys, "md5="+r.MD5)
	}
	if opts.SHA256 && r.SHA256 != "" {
		keys = append(keys, "sha256="+r.SHA256)
	}
	if len(keys) > 0 {
		s += "[" + strings.Join(keys, ",") + "]"
	}
	return s
}

// WriteExport writes the environment as an environment.yml that `condabox
// create -f` reads back: name, channels, dependencies name=version=build,
// prefix.
func (in *Installed) WriteExport(w io.Writer, opts ExportOptions) error {
	doc, err := in.export(opts)
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("export %s: %w", in.Prefix, err)
	}
	return enc.Close()
}

// WriteExportJSON writes the environment.yml's content as JSON, as
// micromamba's env export --json does.
func (in *Installed) WriteExportJSON(w io.Writer, opts ExportOptions) error {
	doc, err := in.export(opts)
	if err != nil {
		return err
	}
	return writeJSON(w, doc)
}

// ExplicitOptions say which checksum `condabox env export --explicit`
// appends to each package URL.
type ExplicitOptions struct {
	// MD5 appends "#<md5>" (micromamba's default); SHA256 "#sha256:<sha256>".
	// A URL has one fragment: not both.
	MD5, SHA256 bool
}

// WriteExplicit writes the environment as an @EXPLICIT file: a header, the
// platform and one package URL per line, which `condabox create -f` (and
// conda, micromamba) install as they are.
func (in *Installed) WriteExplicit(w io.Writer, opts ExplicitOptions) error {
	if opts.MD5 && opts.SHA256 {
		return errors.New("explicit export: give one of md5 and sha256, not both")
	}
	b := []byte("# This file may be used to create an environment using:\n# $ condabox create --prefix <prefix> --file <this file>\n")
	if in.Platform != "" {
		b = fmt.Appendf(b, "# platform: %s\n", in.Platform)
	}
	b = append(b, ExplicitMarker+"\n"...)
	for _, r := range in.Records {
		if r.URL == "" {
			return fmt.Errorf("explicit export of %s: %s has no url in conda-meta", in.Prefix, r.Dist())
		}
		b = append(b, redact.URL(r.URL)...)
		switch {
		case opts.MD5 && r.MD5 != "":
			b = append(b, "#"+r.MD5...)
		case opts.SHA256 && r.SHA256 != "":
			b = append(b, "#sha256:"+r.SHA256...)
		}
		b = append(b, '\n')
	}
	_, err := w.Write(b)
	return err
}
