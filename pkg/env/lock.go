package env

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/condabox/condabox/pkg/conda"
)

// LockFormat names the tool whose lock file format a Lock was read from.
type LockFormat string

// The lock file formats ParseLock reads.
const (
	FormatCondaLock LockFormat = "conda-lock"
	FormatPixi      LockFormat = "pixi"
	FormatMambaJS   LockFormat = "mambajs"
)

// DefaultEnvironment is the environment name of formats that hold only one.
const DefaultEnvironment = "default"

// Manager says which installer a locked package is for.
type Manager string

// The package managers of lock files.
const (
	ManagerConda Manager = "conda"
	ManagerPip   Manager = "pip"
)

// Lock is a lock file: per environment and platform, the exact packages of
// a solved environment.
type Lock struct {
	Format LockFormat
	// Version is the file format version as written: "1", "6", "1.0.0".
	Version string
	// Environments by name; conda-lock and mambajs files hold only
	// DefaultEnvironment.
	Environments map[string]*LockedEnvironment
}

// LockedEnvironment is one environment of a lock file.
type LockedEnvironment struct {
	// Channels in priority order, as written.
	Channels []string
	// Packages per platform, in file order; noarch packages are listed
	// under each platform they are locked for.
	Packages map[conda.Platform][]LockedPackage
}

// LockedPackage is one package of a locked environment.
type LockedPackage struct {
	Manager Manager
	// Category is conda-lock's group ("main", "dev" …); "main" elsewhere.
	Category string
	// Optional is conda-lock's flag for packages outside the main category.
	Optional bool
	// Conda is the record of a conda package (Manager == ManagerConda).
	Conda conda.PackageRecord
	// Pypi is the pip package (Manager == ManagerPip).
	Pypi PypiPackage
}

// PypiPackage is a pip package of a lock file, kept so that callers can say
// what they do not install.
type PypiPackage struct {
	Name    string
	Version string
	// Location is the wheel or sdist URL, or a local path.
	Location string
	SHA256   string
}

// CondaRecords returns the conda records of platform p in file order,
// limited to the given categories when any are given. A package listed in
// several categories (conda-lock repeats it) is returned once.
func (e *LockedEnvironment) CondaRecords(p conda.Platform, categories ...string) []conda.PackageRecord {
	var out []conda.PackageRecord
	seen := map[string]bool{}
	for _, pkg := range e.Packages[p] {
		if pkg.Manager != ManagerConda || seen[pkg.Conda.URL] {
			continue
		}
		if len(categories) > 0 && !slices.Contains(categories, pkg.Category) {
			continue
		}
		seen[pkg.Conda.URL] = true
		out = append(out, pkg.Conda)
	}
	return out
}

// ParseLock parses a lock file of any supported format, told apart by its
// content: a JSON object with lockVersion is mambajs; a YAML document with
// version 1–3 (or none, as early conda-lock wrote) is conda-lock; version
// 4–7 is pixi. Other versions are an error naming the file and the version.
// name is the file's name for error messages.
func ParseLock(name string, data []byte) (*Lock, error) {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return ParseMambaJSLock(name, data)
	}
	// Parse once; the formats decode the same tree.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse lock file %q: %w", name, err)
	}
	version := mappingValue(&doc, "version")
	if version == nil {
		return condaLockFromNode(name, &doc)
	}
	v, err := strconv.Atoi(version.Value)
	if err != nil || version.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("parse lock file %q: line %d: version %q is not a number", name, version.Line, version.Value)
	}
	switch {
	case v >= minCondaLockVersion && v <= maxCondaLockVersion:
		return condaLockFromNode(name, &doc)
	case v >= minPixiVersion && v <= maxPixiVersion:
		return pixiLockFromNode(name, &doc)
	}
	return nil, unsupportedVersion(name, strconv.Itoa(v))
}

// mappingValue returns the value of key in the document's top-level
// mapping, or nil.
func mappingValue(doc *yaml.Node, key string) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value == key {
			return doc.Content[i+1]
		}
	}
	return nil
}

func unsupportedVersion(name, version string) error {
	return fmt.Errorf("parse lock file %q: unsupported version %s (condabox reads conda-lock versions %d–%d, pixi versions %d–%d and mambajs 1.0.x)",
		name, version, minCondaLockVersion, maxCondaLockVersion, minPixiVersion, maxPixiVersion)
}

// rawRecord holds the repodata keys that conda-lock (v3) and pixi files
// share with repodata.json.
type rawRecord struct {
	Name                   string    `yaml:"name"`
	Version                string    `yaml:"version"`
	Build                  string    `yaml:"build"`
	BuildNumber            uint64    `yaml:"build_number"`
	Constrains             yaml.Node `yaml:"constrains"`
	TrackFeatures          yaml.Node `yaml:"track_features"`
	Features               string    `yaml:"features"`
	Noarch                 string    `yaml:"noarch"`
	Subdir                 string    `yaml:"subdir"`
	Arch                   string    `yaml:"arch"`
	Timestamp              int64     `yaml:"timestamp"`
	Size                   int64     `yaml:"size"`
	License                string    `yaml:"license"`
	LicenseFamily          string    `yaml:"license_family"`
	PythonSitePackagesPath string    `yaml:"python_site_packages_path"`
}

// record builds the record of the package at url: what the URL says,
// overridden by the fields the file gives (but for subdir, see below).
func (rr *rawRecord) record(url string, depends []string, md5, sha256 string) (conda.PackageRecord, error) {
	r, urlErr := recordFromURL(url)
	if urlErr != nil {
		// A file name that does not say name, version and build is fine
		// when the file does; one that is not a package archive is not.
		slash := strings.LastIndexByte(url, '/')
		fn := url[slash+1:]
		if slash < 0 || rr.Name == "" || rr.Version == "" || rr.Build == "" || !isPackageArchive(fn) {
			return r, urlErr
		}
		r = conda.PackageRecord{URL: url, FileName: fn}
	}
	if rr.Name != "" {
		r.Name = rr.Name
	}
	if rr.Version != "" {
		v, err := conda.ParseVersion(rr.Version)
		if err != nil {
			return r, err
		}
		r.Version = v
	}
	if rr.Build != "" {
		r.Build = rr.Build
	}
	// The URL's platform folder is the package's subdir; conda-lock and
	// pixi 4–5 files repeat a noarch package per platform with subdir:
	// naming the platform instead.
	if r.Subdir == "" {
		r.Subdir = rr.Subdir
	}
	features, err := featureList(&rr.TrackFeatures)
	if err != nil {
		return r, err
	}
	constrains, err := specList("constrains", &rr.Constrains)
	if err != nil {
		return r, err
	}
	r.BuildNumber = rr.BuildNumber
	r.Depends = depends
	r.Constrains = constrains
	r.TrackFeatures = features
	r.Features = rr.Features
	r.Noarch = conda.NoarchType(rr.Noarch)
	r.Arch = rr.Arch
	r.Timestamp = rr.Timestamp
	r.Size = rr.Size
	r.License = rr.License
	r.LicenseFamily = rr.LicenseFamily
	r.PythonSitePackagesPath = rr.PythonSitePackagesPath
	if err := setDigests(&r, md5, sha256); err != nil {
		return r, err
	}
	return r, nil
}

// featureList reads track_features written as a list or as conda's
// comma- or space-separated string.
func featureList(n *yaml.Node) (conda.FeatureList, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.ScalarNode:
		return conda.ParseFeatureList(n.Value), nil
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return nil, fmt.Errorf("track_features: %w", err)
		}
		return conda.FeatureList(list), nil
	}
	return nil, fmt.Errorf("line %d: track_features: want a string or a list", n.Line)
}

// specList reads a list of match specs, or conda-lock's mapping of name to
// version spec ("python: 3.11.*"; "*" or "" for any version).
func specList(key string, n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return list, nil
	case yaml.MappingNode:
		out := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			dep, spec := n.Content[i].Value, strings.TrimSpace(n.Content[i+1].Value)
			if spec != "" && spec != "*" {
				dep += " " + spec
			}
			out = append(out, dep)
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: %s: want a list or a mapping", n.Line, key)
}
