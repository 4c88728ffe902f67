package env

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/condabox/condabox/pkg/conda"
)

// The pixi lock format versions ParsePixiLock reads. Versions 4 and 5 tag
// packages with kind: and url:/path:; 6 and 7 key them by conda: or pypi:
// and leave out what the file name says; 7 adds conda_source: entries.
const (
	minPixiVersion = 4
	maxPixiVersion = 7
)

// rawPixiLock is the YAML shape of a pixi lock file.
type rawPixiLock struct {
	Version      int                           `yaml:"version"`
	Environments map[string]rawPixiEnvironment `yaml:"environments"`
	Packages     []yaml.Node                   `yaml:"packages"`
}

type rawPixiEnvironment struct {
	Channels []struct {
		URL string `yaml:"url"`
	} `yaml:"channels"`
	// Packages lists, per platform, references into the packages list.
	Packages map[string][]rawPixiRef `yaml:"packages"`
}

// rawPixiRef references a package by its location; pixi adds other keys
// (extras, build, subdir) only to tell source packages apart.
type rawPixiRef struct {
	Conda       string `yaml:"conda"`
	Pypi        string `yaml:"pypi"`
	CondaSource string `yaml:"conda_source"`
}

// rawPixiPackage is one entry of the packages list.
type rawPixiPackage struct {
	rawRecord `yaml:",inline"`
	// Kind, URL and Path are versions 4 and 5's: kind: conda|pypi with the
	// location in url: (or path: for local pip packages).
	Kind string `yaml:"kind"`
	URL  string `yaml:"url"`
	Path string `yaml:"path"`
	// Conda, Pypi and CondaSource are versions 6 and 7's: the key names the
	// kind and holds the location.
	Conda       string   `yaml:"conda"`
	Pypi        string   `yaml:"pypi"`
	CondaSource string   `yaml:"conda_source"`
	Depends     []string `yaml:"depends"`
	MD5         string   `yaml:"md5"`
	SHA256      string   `yaml:"sha256"`
	// Platform is repodata's OS field ("linux"), not a subdir.
	Platform string `yaml:"platform"`
}

// pixiKey identifies a package of the packages list: its kind and location
// and, in versions 4 and 5, the platform it is listed for.
type pixiKey struct {
	manager  Manager
	location string
	platform string
}

// ParsePixiLock parses a pixi lock file (format versions 4–7). Source
// packages (ones pixi builds from a path or git repository) are an error:
// condabox installs package archives only. pip packages are kept aside as
// PypiPackage. name is the file's name for error messages.
func ParsePixiLock(name string, data []byte) (*Lock, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse pixi lock %q: %w", name, err)
	}
	return pixiLockFromNode(name, &doc)
}

func pixiLockFromNode(name string, doc *yaml.Node) (*Lock, error) {
	var raw rawPixiLock
	if err := doc.Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse pixi lock %q: %w", name, err)
	}
	if raw.Version < minPixiVersion || raw.Version > maxPixiVersion {
		return nil, unsupportedVersion(name, strconv.Itoa(raw.Version))
	}
	packages := make(map[pixiKey]LockedPackage, len(raw.Packages))
	for i := range raw.Packages {
		n := &raw.Packages[i]
		key, pkg, err := pixiPackage(n)
		if err != nil {
			return nil, fmt.Errorf("parse pixi lock %q: line %d: package %d: %w", name, n.Line, i+1, err)
		}
		packages[key] = pkg
	}
	lock := &Lock{Format: FormatPixi, Version: strconv.Itoa(raw.Version), Environments: map[string]*LockedEnvironment{}}
	for _, envName := range sortedKeys(raw.Environments) {
		rawEnv := raw.Environments[envName]
		env := &LockedEnvironment{Packages: map[conda.Platform][]LockedPackage{}}
		for _, c := range rawEnv.Channels {
			env.Channels = append(env.Channels, c.URL)
		}
		for _, platform := range sortedKeys(rawEnv.Packages) {
			for _, ref := range rawEnv.Packages[platform] {
				key := pixiKey{manager: ManagerConda, location: ref.Conda, platform: platform}
				switch {
				case ref.CondaSource != "":
					return nil, fmt.Errorf("parse pixi lock %q: environment %q, %s: %q is a source package; condabox installs package archives only", name, envName, platform, ref.CondaSource)
				case ref.Pypi != "":
					key = pixiKey{manager: ManagerPip, location: ref.Pypi}
				}
				pkg, ok := packages[key]
				if !ok {
					key.platform = ""
					pkg, ok = packages[key]
				}
				if !ok {
					return nil, fmt.Errorf("parse pixi lock %q: environment %q, %s: %s package %q is not in the packages list", name, envName, platform, key.manager, key.location)
				}
				env.Packages[conda.Platform(platform)] = append(env.Packages[conda.Platform(platform)], pkg)
			}
		}
		lock.Environments[envName] = env
	}
	return lock, nil
}

// pixiPackage converts one entry of the packages list.
func pixiPackage(n *yaml.Node) (pixiKey, LockedPackage, error) {
	var raw rawPixiPackage
	if err := n.Decode(&raw); err != nil {
		return pixiKey{}, LockedPackage{}, err
	}
	key, err := raw.key()
	if err != nil {
		return key, LockedPackage{}, err
	}
	pkg := LockedPackage{Manager: key.manager, Category: "main"}
	if key.manager == ManagerPip {
		pkg.Pypi = PypiPackage{Name: raw.Name, Version: raw.Version, Location: key.location, SHA256: raw.SHA256}
		return key, pkg, nil
	}
	if !isPackageArchive(key.location) {
		return key, pkg, fmt.Errorf("%q is a source package; condabox installs package archives only", key.location)
	}
	r, err := raw.record(key.location, raw.Depends, raw.MD5, raw.SHA256)
	if err != nil {
		return key, pkg, err
	}
	if raw.Kind != "" && raw.Subdir != r.Subdir {
		// Versions 4 and 5 may repeat a noarch package for each platform,
		// with subdir: naming that platform.
		key.platform = raw.Subdir
	}
	r.Platform = raw.Platform
	pkg.Conda = r
	return key, pkg, nil
}

// key returns the kind and location of a package in any of the versions.
func (raw *rawPixiPackage) key() (pixiKey, error) {
	switch {
	case raw.CondaSource != "":
		return pixiKey{}, fmt.Errorf("%q is a source package; condabox installs package archives only", raw.CondaSource)
	case raw.Conda != "":
		return pixiKey{manager: ManagerConda, location: raw.Conda}, nil
	case raw.Pypi != "":
		return pixiKey{manager: ManagerPip, location: raw.Pypi}, nil
	case raw.Kind == string(ManagerConda) && raw.URL != "":
		return pixiKey{manager: ManagerConda, location: raw.URL}, nil
	case raw.Kind == "pypi" && (raw.URL != "" || raw.Path != ""):
		return pixiKey{manager: ManagerPip, location: raw.URL + raw.Path}, nil
	}
	return pixiKey{}, fmt.Errorf("want a conda: or pypi: location, or kind: with url: or path:")
}

func isPackageArchive(location string) bool {
	return slices.ContainsFunc(packageExtensions, func(ext string) bool {
		return strings.HasSuffix(location, ext)
	})
}
