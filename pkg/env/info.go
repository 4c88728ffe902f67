package env

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/redact"
)

// Info is what `condabox info` reports, as micromamba's info does: where
// environments and packages go, the active environment, the configuration
// files read, the virtual packages and channels a solve would use, and the
// platform. The JSON keys are micromamba's.
type Info struct {
	Version         string   `json:"condabox version"`
	EnvsDirs        []string `json:"envs directories"`
	PkgsDirs        []string `json:"package cache"`
	Environment     string   `json:"environment"`
	EnvLocation     string   `json:"env location"`
	ConfigFiles     []string `json:"populated config files"`
	VirtualPackages []string `json:"virtual packages"`
	Channels        []string `json:"channels"`
	BaseEnvironment string   `json:"base environment"`
	Platform        string   `json:"platform"`
}

// ReadInfo gathers the report for req (its LookupEnv, RootPrefix, Platform,
// Channels and OverrideChannels; -n/-p are not used) and the version.
func ReadInfo(ctx context.Context, req CreateRequest, version string) (*Info, error) {
	lookup := requestLookup(req)
	cfg, err := config.Load(lookup)
	if err != nil {
		return nil, err
	}
	root, err := config.RootPrefix(lookup)
	if err != nil {
		return nil, err
	}
	p, err := targetPlatform(req.Platform, lookup)
	if err != nil {
		return nil, err
	}
	info := &Info{Version: version, EnvsDirs: []string{filepath.Join(root, "envs")}, PkgsDirs: nonNil(cfg.PkgsDirs),
		Environment: "None", EnvLocation: "-", ConfigFiles: nonNil(cfg.Files), VirtualPackages: []string{},
		Channels: []string{}, BaseEnvironment: root, Platform: string(p)}
	if active := activePrefix(lookup); active != "" {
		name := envName(root, active)
		if name == "" {
			name = active
		}
		info.Environment, info.EnvLocation = name+" (active)", active
	}
	virtual, err := virtualPackages(ctx, p, lookup, false)
	if err != nil {
		return nil, err
	}
	for _, v := range virtual {
		info.VirtualPackages = append(info.VirtualPackages, v.Name+"="+v.Version.String()+"="+v.Build)
	}
	channels, err := requestChannels(req.Channels, nil, req.OverrideChannels, cfg, req.WorkDir)
	if err != nil {
		return nil, err
	}
	for _, c := range channels {
		for _, sub := range []conda.Platform{p, conda.PlatformNoArch} {
			info.Channels = append(info.Channels, strings.TrimSuffix(redact.URL(c.SubdirURL(sub)), "/"))
		}
	}
	return info, nil
}

// WriteText writes the report as micromamba's info does: right-aligned
// labels, one value a line.
func (i *Info) WriteText(w io.Writer) error {
	rows := []struct {
		label  string
		values []string
	}{
		{"condabox version", []string{i.Version}},
		{"envs directories", i.EnvsDirs},
		{"package cache", i.PkgsDirs},
		{"environment", []string{i.Environment}},
		{"env location", []string{i.EnvLocation}},
		{"populated config files", i.ConfigFiles},
		{"virtual packages", i.VirtualPackages},
		{"channels", i.Channels},
		{"base environment", []string{i.BaseEnvironment}},
		{"platform", []string{i.Platform}},
	}
	var b strings.Builder
	b.WriteString("\n")
	for _, r := range rows {
		values := r.values
		if len(values) == 0 {
			values = []string{""}
		}
		for j, v := range values {
			if j == 0 {
				fmt.Fprintf(&b, "%23s : %s\n", r.label, v)
			} else {
				fmt.Fprintf(&b, "%26s%s\n", "", v)
			}
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as JSON.
func (i *Info) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(i)
}
