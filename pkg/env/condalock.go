package env

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/condabox/condabox/pkg/conda"
)

// The conda-lock format versions ParseCondaLock reads. Version 1 is
// conda-lock's own; rattler wrote 2 and 3 in the same shape.
const (
	minCondaLockVersion = 1
	maxCondaLockVersion = 3
)

// rawCondaLock is the YAML shape of a conda-lock file.
type rawCondaLock struct {
	Version  *int `yaml:"version"`
	Metadata struct {
		Channels []struct {
			URL string `yaml:"url"`
		} `yaml:"channels"`
	} `yaml:"metadata"`
	Package []yaml.Node `yaml:"package"`
}

// rawCondaLockPackage is one entry of conda-lock's package list.
type rawCondaLockPackage struct {
	rawRecord `yaml:",inline"`
	Manager   string `yaml:"manager"`
	// Platform is the subdir the package is locked for (not repodata's OS).
	Platform string `yaml:"platform"`
	Category string `yaml:"category"`
	Optional bool   `yaml:"optional"`
	URL      string `yaml:"url"`
	Hash     *struct {
		MD5    string `yaml:"md5"`
		SHA256 string `yaml:"sha256"`
	} `yaml:"hash"`
	// Dependencies is a name → version spec mapping (conda-lock) or a
	// list of match specs (rattler).
	Dependencies yaml.Node `yaml:"dependencies"`
}

// ParseCondaLock parses a conda-lock file (format versions 1–3; a file
// without a version is version 1). Every package needs name, version,
// manager, platform, url and hash; category defaults to "main". name is the
// file's name for error messages.
func ParseCondaLock(name string, data []byte) (*Lock, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse conda-lock %q: %w", name, err)
	}
	return condaLockFromNode(name, &doc)
}

func condaLockFromNode(name string, doc *yaml.Node) (*Lock, error) {
	var raw rawCondaLock
	if err := doc.Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse conda-lock %q: %w", name, err)
	}
	version := minCondaLockVersion
	if raw.Version != nil {
		version = *raw.Version
	}
	if version < minCondaLockVersion || version > maxCondaLockVersion {
		return nil, unsupportedVersion(name, strconv.Itoa(version))
	}
	env := &LockedEnvironment{Packages: map[conda.Platform][]LockedPackage{}}
	for _, c := range raw.Metadata.Channels {
		env.Channels = append(env.Channels, c.URL)
	}
	for i := range raw.Package {
		n := &raw.Package[i]
		pkg, platform, err := condaLockPackage(n)
		if err != nil {
			return nil, fmt.Errorf("parse conda-lock %q: line %d: package %d: %w", name, n.Line, i+1, err)
		}
		env.Packages[platform] = append(env.Packages[platform], pkg)
	}
	return &Lock{
		Format:       FormatCondaLock,
		Version:      strconv.Itoa(version),
		Environments: map[string]*LockedEnvironment{DefaultEnvironment: env},
	}, nil
}

// condaLockPackage converts one package entry and returns its platform.
func condaLockPackage(n *yaml.Node) (LockedPackage, conda.Platform, error) {
	var raw rawCondaLockPackage
	if err := n.Decode(&raw); err != nil {
		return LockedPackage{}, "", err
	}
	for _, f := range []struct{ key, value string }{
		{"name", raw.Name}, {"version", raw.Version}, {"manager", raw.Manager},
		{"platform", raw.Platform}, {"url", raw.URL},
	} {
		if f.value == "" {
			return LockedPackage{}, "", fmt.Errorf("%s: missing %q", raw.Name, f.key)
		}
	}
	if raw.Hash == nil || raw.Hash.MD5 == "" && raw.Hash.SHA256 == "" {
		return LockedPackage{}, "", fmt.Errorf("%s: missing \"hash\" (md5 or sha256)", raw.Name)
	}
	pkg := LockedPackage{Manager: Manager(raw.Manager), Category: raw.Category, Optional: raw.Optional}
	if pkg.Category == "" {
		pkg.Category = "main"
	}
	switch pkg.Manager {
	case ManagerPip:
		pkg.Pypi = PypiPackage{Name: raw.Name, Version: raw.Version, Location: raw.URL, SHA256: raw.Hash.SHA256}
	case ManagerConda:
		deps, err := specList("dependencies", &raw.Dependencies)
		if err != nil {
			return pkg, "", fmt.Errorf("%s: %w", raw.Name, err)
		}
		r, err := raw.record(raw.URL, deps, raw.Hash.MD5, raw.Hash.SHA256)
		if err != nil {
			return pkg, "", fmt.Errorf("%s: %w", raw.Name, err)
		}
		// A URL outside a platform folder does not say the subdir; the
		// platform the package is locked for does.
		if r.Subdir == "" {
			r.Subdir = raw.Platform
		}
		pkg.Conda = r
	default:
		return pkg, "", fmt.Errorf("%s: manager %q: want conda or pip", raw.Name, raw.Manager)
	}
	return pkg, conda.Platform(raw.Platform), nil
}

// rawMambaJSLock is the JSON shape of a mambajs lock file (lockVersion 1.0.x).
type rawMambaJSLock struct {
	LockVersion string                       `json:"lockVersion"`
	Platform    string                       `json:"platform"`
	Channels    []string                     `json:"channels"`
	ChannelInfo map[string][]mambaJSMirror   `json:"channelInfo"`
	Packages    map[string]rawMambaJSPackage `json:"packages"`
	PipPackages map[string]rawMambaJSPackage `json:"pipPackages"`
}

// mambaJSMirror is one URL a mambajs channel is served from.
type mambaJSMirror struct {
	URL string `json:"url"`
}

type rawMambaJSPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Build   string `json:"build"`
	Subdir  string `json:"subdir"`
	Channel string `json:"channel"`
	URL     string `json:"url"`
	Hash    *struct {
		MD5    string `json:"md5"`
		SHA256 string `json:"sha256"`
	} `json:"hash"`
}

// ParseMambaJSLock parses a mambajs (emscripten-forge) lock file, which
// micromamba also installs from: one platform, channels with their mirror
// URLs, conda packages keyed by file name. A package's URL is built from the
// first URL of its channel. name is the file's name for error messages.
func ParseMambaJSLock(name string, data []byte) (*Lock, error) {
	var raw rawMambaJSLock
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse mambajs lock %q: %w", name, jsonError(data, err))
	}
	if !strings.HasPrefix(raw.LockVersion, "1.0.") {
		return nil, unsupportedVersion(name, strconv.Quote(raw.LockVersion))
	}
	if raw.Platform == "" {
		return nil, fmt.Errorf("parse mambajs lock %q: missing \"platform\"", name)
	}
	for ch := range raw.ChannelInfo {
		if !slices.Contains(raw.Channels, ch) {
			return nil, fmt.Errorf("parse mambajs lock %q: channel %q of channelInfo is not in channels", name, ch)
		}
	}
	for _, ch := range raw.Channels {
		if len(raw.ChannelInfo[ch]) == 0 || raw.ChannelInfo[ch][0].URL == "" {
			return nil, fmt.Errorf("parse mambajs lock %q: channel %q has no URL in channelInfo", name, ch)
		}
	}
	platform := conda.Platform(raw.Platform)
	env := &LockedEnvironment{Channels: raw.Channels, Packages: map[conda.Platform][]LockedPackage{}}
	// JSON objects have no order; sort by file name so that the result is
	// the same on every run.
	for _, fn := range sortedKeys(raw.Packages) {
		p := raw.Packages[fn]
		r, err := p.record(fn, raw.ChannelInfo)
		if err != nil {
			return nil, fmt.Errorf("parse mambajs lock %q: package %q: %w", name, fn, err)
		}
		env.Packages[platform] = append(env.Packages[platform], LockedPackage{Manager: ManagerConda, Category: "main", Conda: r})
	}
	for _, fn := range sortedKeys(raw.PipPackages) {
		p := raw.PipPackages[fn]
		if p.Name == "" || p.Version == "" {
			return nil, fmt.Errorf("parse mambajs lock %q: pip package %q: missing name or version", name, fn)
		}
		pypi := PypiPackage{Name: p.Name, Version: p.Version, Location: p.URL}
		if p.Hash != nil {
			pypi.SHA256 = p.Hash.SHA256
		}
		env.Packages[platform] = append(env.Packages[platform], LockedPackage{Manager: ManagerPip, Category: "main", Pypi: pypi})
	}
	return &Lock{
		Format:       FormatMambaJS,
		Version:      raw.LockVersion,
		Environments: map[string]*LockedEnvironment{DefaultEnvironment: env},
	}, nil
}

func (p *rawMambaJSPackage) record(fn string, channels map[string][]mambaJSMirror) (conda.PackageRecord, error) {
	for _, f := range []struct{ key, value string }{
		{"name", p.Name}, {"version", p.Version}, {"build", p.Build},
		{"subdir", p.Subdir}, {"channel", p.Channel},
	} {
		if f.value == "" {
			return conda.PackageRecord{}, fmt.Errorf("missing %q", f.key)
		}
	}
	urls := channels[p.Channel]
	if len(urls) == 0 {
		return conda.PackageRecord{}, fmt.Errorf("channel %q is not in channelInfo", p.Channel)
	}
	var md5, sha256 string
	if p.Hash != nil {
		if p.Hash.MD5 == "" && p.Hash.SHA256 == "" {
			return conda.PackageRecord{}, fmt.Errorf("hash: want md5 or sha256")
		}
		md5, sha256 = p.Hash.MD5, p.Hash.SHA256
	}
	rr := rawRecord{Name: p.Name, Version: p.Version, Build: p.Build, Subdir: p.Subdir}
	url := strings.TrimSuffix(urls[0].URL, "/") + "/" + p.Subdir + "/" + fn
	return rr.record(url, nil, md5, sha256)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonError adds the line and column to a JSON syntax error, which
// encoding/json reports as a byte offset only.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	if !errors.As(err, &syn) {
		return err
	}
	before := data[:min(syn.Offset, int64(len(data)))]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n') - 1
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}
