package env

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"go.yaml.in/yaml/v3"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/solve"
)

// LockRequest is what `condabox lock` is asked: environment files to solve
// for some platforms into a conda-lock file.
type LockRequest struct {
	// Files are environment.yml files or spec lists (no lock files).
	Files []string
	// Platforms to lock for; none means the files' platforms: key, else
	// CONDA_SUBDIR or this machine's platform.
	Platforms []string
	// Channels, OverrideChannels, ChannelPriority, Offline, LookupEnv and
	// WorkDir mean what they mean in CreateRequest.
	Channels         []string
	OverrideChannels bool
	ChannelPriority  string
	Offline          bool
	LookupEnv        func(string) (string, bool)
	WorkDir          string
	// Lockfile is the path the lock is written to; sources are recorded
	// relative to its folder, as conda-lock records them.
	Lockfile string
	// ExcludeNewer means what it means in CreateRequest.
	ExcludeNewer time.Time
}

// CondaLockFile is a conda-lock (format version 1) file: what it was made
// from and the packages locked per platform.
type CondaLockFile struct {
	Metadata LockMetadata
	// Environment holds the channels and the packages per platform; they
	// are written sorted as conda-lock sorts them.
	Environment *LockedEnvironment
	// UnlockedPip are the sources' pip: requirements, which a lock cannot
	// hold (create -f env.yml hands them to pip); callers warn about them.
	UnlockedPip []string
}

// LockMetadata is the metadata section of a conda-lock file.
type LockMetadata struct {
	// ContentHash per platform: the hash of the inputs (see ContentHash),
	// which --check compares.
	ContentHash map[conda.Platform]string
	Platforms   []conda.Platform
	// Sources are the environment files, relative to the lock file's folder.
	Sources []string
}

// ErrStaleLock is the error of CheckLock when the lock file does not match
// its inputs.
var ErrStaleLock = errors.New("lock file is out of date")

// lockInputs is what a lock is made from; the content hash covers its
// channels and specs.
type lockInputs struct {
	platforms []conda.Platform
	// channels in priority order, and their names as the lock records them.
	channels     []conda.Channel
	channelNames []string
	specs        map[conda.Platform][]conda.MatchSpec
	pip          []string
	sources      []string
	cfg          *config.Config
	lookup       func(string) (string, bool)
}

// readLockInputs reads the environment files and settles the platforms,
// channels and specs of a lock. fallback are the platforms to use when
// neither the request nor the files name any (nil: the machine's).
func readLockInputs(ctx context.Context, req LockRequest, fallback []conda.Platform) (*lockInputs, error) {
	if len(req.Files) == 0 {
		return nil, errors.New("nothing to lock: give -f FILE (an environment.yml or a spec list)")
	}
	in := &lockInputs{lookup: requestLookup(req.createRequest("")), specs: map[conda.Platform][]conda.MatchSpec{}}
	var err error
	if in.cfg, err = config.Load(in.lookup); err != nil {
		return nil, err
	}
	var files []*EnvironmentFile
	var filePlatforms []conda.Platform
	channels := slices.Clone(req.Channels)
	for _, path := range req.Files {
		f, err := ReadFile(ctx, path)
		if err != nil {
			return nil, err
		}
		if f.Environment == nil {
			return nil, fmt.Errorf("%s: a lock or @EXPLICIT file is already locked: give an environment.yml or a spec list", path)
		}
		files = append(files, f.Environment)
		channels = append(channels, f.Environment.Channels...)
		in.pip = append(in.pip, f.Environment.Pip...)
		for _, p := range f.Environment.Platforms {
			if !slices.Contains(filePlatforms, p) {
				filePlatforms = append(filePlatforms, p)
			}
		}
		if in.sources, err = appendSource(in.sources, path, req); err != nil {
			return nil, err
		}
	}
	if in.platforms, err = lockPlatforms(req.Platforms, filePlatforms, fallback, in.lookup); err != nil {
		return nil, err
	}
	var all []conda.MatchSpec
	for _, p := range in.platforms {
		for _, f := range files {
			in.specs[p] = append(in.specs[p], f.Specs(p)...)
		}
		if len(in.specs[p]) == 0 {
			return nil, fmt.Errorf("nothing to lock for %s: the files have no dependencies for it", p)
		}
		all = append(all, in.specs[p]...)
	}
	fromSpecs, err := specChannels(all)
	if err != nil {
		return nil, err
	}
	if in.channels, err = requestChannels(channels, fromSpecs, req.OverrideChannels, in.cfg, req.WorkDir); err != nil {
		return nil, err
	}
	for _, c := range in.channels {
		in.channelNames = append(in.channelNames, c.Name())
	}
	return in, nil
}

// appendSource adds path, relative to the lock file's folder, to sources.
func appendSource(sources []string, path string, req LockRequest) ([]string, error) {
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(req.WorkDir, p)
	}
	rel, err := filepath.Rel(filepath.Dir(abs(req.Lockfile)), abs(path))
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", path, err)
	}
	return append(sources, filepath.ToSlash(rel)), nil
}

// lockPlatforms picks the flags' platforms, else the files', else fallback,
// else the machine's (or CONDA_SUBDIR); each is checked and given once.
func lockPlatforms(flags []string, files, fallback []conda.Platform, lookup func(string) (string, bool)) ([]conda.Platform, error) {
	names := flags
	if len(names) == 0 {
		if len(files) == 0 {
			files = fallback
		}
		for _, p := range files {
			names = append(names, string(p))
		}
	}
	if len(names) == 0 {
		p, err := targetPlatform("", lookup)
		if err != nil {
			return nil, err
		}
		return []conda.Platform{p}, nil
	}
	var out []conda.Platform
	for _, name := range names {
		p, err := conda.ParsePlatform(name)
		if err != nil {
			return nil, err
		}
		if p == conda.PlatformNoArch {
			return nil, fmt.Errorf("platform %q: lock for concrete platforms (linux-64, osx-arm64 …), not noarch", name)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// createRequest is the create request that solves the lock for platform p.
func (req LockRequest) createRequest(p conda.Platform) CreateRequest {
	return CreateRequest{
		Platform:              string(p),
		TargetVirtualPackages: true,
		ChannelPriority:       req.ChannelPriority,
		Offline:               req.Offline,
		LookupEnv:             req.LookupEnv,
		WorkDir:               req.WorkDir,
		ExcludeNewer:          req.ExcludeNewer,
	}
}

// SolveLock solves the request's environment files for each platform, as
// create solves them but with each platform's default virtual packages
// (CONDA_OVERRIDE_* applied), and returns the lock to write. An
// unsatisfiable platform fails the whole lock with the solver's
// *solve.UnsatisfiableError, wrapped with the platform's name.
func SolveLock(ctx context.Context, req LockRequest) (*CondaLockFile, error) {
	in, err := readLockInputs(ctx, req, nil)
	if err != nil {
		return nil, err
	}
	lock := &CondaLockFile{
		Metadata: LockMetadata{
			ContentHash: map[conda.Platform]string{},
			Platforms:   in.platforms,
			Sources:     in.sources,
		},
		Environment: &LockedEnvironment{Channels: in.channelNames, Packages: map[conda.Platform][]LockedPackage{}},
		UnlockedPip: in.pip,
	}
	for _, p := range in.platforms {
		specs := in.specs[p]
		recs, err := solveSpecs(ctx, req.createRequest(p), in.cfg, in.lookup, p, specs, in.channels)
		if err != nil {
			return nil, fmt.Errorf("lock for %s%s: %w", p, assumedSystem(ctx, err, p, in.lookup), err)
		}
		pkgs := make([]LockedPackage, 0, len(recs))
		for _, r := range recs {
			if strings.HasPrefix(r.Name, "__") {
				continue // virtual packages are the machine's, not the lock's
			}
			pkgs = append(pkgs, LockedPackage{Manager: ManagerConda, Category: "main", Conda: r})
		}
		lock.Environment.Packages[p] = pkgs
		if lock.Metadata.ContentHash[p], err = ContentHash(in.channelNames, specs); err != nil {
			return nil, err
		}
	}
	return lock, nil
}

// CheckLock reports whether the conda-lock file data (named name) was made
// from the request's inputs: nil when the content hash of every platform it
// is checked for matches, else an error wrapping ErrStaleLock that names
// the platforms. Without platforms in the request or the files, the lock
// file's own platforms are checked.
//
// A lock condabox did not write (conda-lock's, whose hash also covers its
// own virtual packages) is checked by content where the hashes differ:
// its packages for the platform must satisfy every spec of the inputs and
// every dependency of each other (virtual packages aside). byContent lists
// the platforms found up to date that way.
func CheckLock(ctx context.Context, req LockRequest, name string, data []byte) (byContent []conda.Platform, err error) {
	var raw struct {
		Metadata struct {
			ContentHash map[conda.Platform]string `yaml:"content_hash"`
			Platforms   []conda.Platform          `yaml:"platforms"`
		} `yaml:"metadata"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("read lock file %q: %w", name, err)
	}
	in, err := readLockInputs(ctx, req, raw.Metadata.Platforms)
	if err != nil {
		return nil, err
	}
	ours := bytes.HasPrefix(data, []byte(strings.SplitN(lockHeader, "%", 2)[0]))
	var lock *Lock // read for the checks by content
	var stale []string
	for _, p := range in.platforms {
		want, err := ContentHash(in.channelNames, in.specs[p])
		if err != nil {
			return nil, err
		}
		switch got, ok := raw.Metadata.ContentHash[p]; {
		case !ok:
			stale = append(stale, fmt.Sprintf("%s is not locked", p))
		case got == want:
		case ours:
			stale = append(stale, fmt.Sprintf("%s was locked from other inputs (content hash %s, the inputs hash to %s)", p, got, want))
		default:
			if lock == nil {
				if lock, err = ParseCondaLock(name, data); err != nil {
					return nil, err
				}
			}
			if why := unsatisfied(lock.Environments[DefaultEnvironment], p, in.specs[p]); len(why) > 0 {
				stale = append(stale, fmt.Sprintf("%s: %s", p, strings.Join(why, ", ")))
			} else {
				byContent = append(byContent, p)
			}
		}
	}
	for _, p := range raw.Metadata.Platforms {
		if !slices.Contains(in.platforms, p) {
			stale = append(stale, fmt.Sprintf("%s is locked but no longer asked for", p))
		}
	}
	if len(stale) > 0 {
		return nil, fmt.Errorf("%w: %s: %s; run condabox lock again", ErrStaleLock, name, strings.Join(stale, "; "))
	}
	return byContent, nil
}

// unsatisfied returns what env's conda packages for platform p lack: the
// specs no package matches ("requests >=2.31 (locked: 2.28.1)", "zlib is
// not locked") and the dependencies no package matches ("urllib3 <2
// (needed by requests-2.28.1-pyhd8ed1ab_0)"). Virtual packages (__glibc)
// are the machine's, not the lock's.
func unsatisfied(env *LockedEnvironment, p conda.Platform, specs []conda.MatchSpec) []string {
	var recs []*conda.PackageRecord
	if env != nil {
		for i := range env.Packages[p] {
			if lp := &env.Packages[p][i]; lp.Manager == ManagerConda {
				recs = append(recs, &lp.Conda)
			}
		}
	}
	matched := func(m conda.MatchSpec) bool {
		return slices.ContainsFunc(recs, func(r *conda.PackageRecord) bool { return m.Matches(r) })
	}
	var why []string
	for _, m := range specs {
		if matched(m) {
			continue
		}
		var locked []string
		for _, r := range recs {
			if m.Name.Matches(strings.ToLower(r.Name)) {
				locked = append(locked, r.Version.String())
			}
		}
		if len(locked) == 0 {
			why = append(why, fmt.Sprintf("%s is not locked", m))
		} else {
			why = append(why, fmt.Sprintf("%s (locked: %s)", m, strings.Join(locked, ", ")))
		}
	}
	for _, r := range recs {
		for _, d := range r.Depends {
			m, err := conda.ParseMatchSpec(d)
			if err == nil && !strings.HasPrefix(m.Name.String(), "__") && !matched(m) {
				why = append(why, fmt.Sprintf("%s (needed by %s)", d, r.Dist()))
			}
		}
	}
	return why
}

// ContentHash returns conda-lock's content hash of one platform's inputs:
// the SHA-256 of the JSON that conda-lock hashes (Python's json.dumps with
// sorted keys) of the channels and the specs as conda-lock's
// VersionedDependency, sorted by name. conda-lock also hashes its default
// virtual packages of the platform, which this leaves out (as rattler
// does): a hash written by conda-lock itself does not match.
func ContentHash(channels []string, specs []conda.MatchSpec) (string, error) {
	data, err := contentHashJSON(channels, specs)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// contentHashJSON returns the JSON text ContentHash hashes.
func contentHashJSON(channels []string, specs []conda.MatchSpec) ([]byte, error) {
	type selectors struct {
		Platform *[]string `json:"platform"`
	}
	// Fields in key order: Python sorts them, encoding/json keeps this one.
	type dependency struct {
		Build        *string   `json:"build"`
		Category     string    `json:"category"`
		CondaChannel *string   `json:"conda_channel"`
		Extras       []string  `json:"extras"`
		Manager      string    `json:"manager"`
		Name         string    `json:"name"`
		Optional     bool      `json:"optional"`
		Selectors    selectors `json:"selectors"`
		Version      string    `json:"version"`
	}
	type channel struct {
		URL         string   `json:"url"`
		UsedEnvVars []string `json:"used_env_vars"`
	}
	var data struct {
		Channels []channel    `json:"channels"`
		Specs    []dependency `json:"specs"`
	}
	data.Channels = []channel{}
	for _, c := range channels {
		data.Channels = append(data.Channels, channel{URL: c, UsedEnvVars: []string{}})
	}
	data.Specs = []dependency{}
	for _, s := range specs {
		d := dependency{Category: "main", Extras: []string{}, Manager: string(ManagerConda), Name: s.Name.String()}
		if !s.Version.IsAny() {
			d.Version = s.Version.String()
		}
		if !s.Build.IsAny() {
			b := s.Build.String()
			d.Build = &b
		}
		if s.Channel != "" {
			ch, err := conda.ParseChannel(s.Channel, conda.ChannelConfig{})
			if err != nil {
				return nil, fmt.Errorf("content hash: spec %q: %w", s.String(), err)
			}
			name := ch.Name()
			d.CondaChannel = &name
		}
		data.Specs = append(data.Specs, d)
	}
	slices.SortStableFunc(data.Specs, func(a, b dependency) int { return strings.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Python escapes no <, > or &
	if err := enc.Encode(data); err != nil {
		return nil, err
	}
	return pythonJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// pythonJSON turns compact JSON into what Python's json.dumps writes: ", "
// and ": " between items and keys, and non-ASCII characters as \u escapes.
func pythonJSON(compact []byte) []byte {
	var out bytes.Buffer
	inString, escaped := false, false
	for _, r := range string(compact) {
		switch {
		case inString && escaped:
			escaped = false
		case inString && r == '\\':
			escaped = true
		case r == '"':
			inString = !inString
		case !inString && (r == ',' || r == ':'):
			out.WriteRune(r)
			out.WriteByte(' ')
			continue
		}
		if r < 0x80 {
			out.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&out, `\u%04x`, u)
		}
	}
	return out.Bytes()
}

// The YAML shape conda-lock writes (format version 1), fields in its order.
type (
	outCondaLock struct {
		Version  int          `yaml:"version"`
		Metadata outMetadata  `yaml:"metadata"`
		Package  []outPackage `yaml:"package"`
	}
	outMetadata struct {
		ContentHash map[conda.Platform]string `yaml:"content_hash"`
		Channels    []outChannel              `yaml:"channels"`
		Platforms   []conda.Platform          `yaml:"platforms"`
		Sources     []string                  `yaml:"sources"`
	}
	outChannel struct {
		URL         string   `yaml:"url"`
		UsedEnvVars []string `yaml:"used_env_vars"`
	}
	outPackage struct {
		Name         string            `yaml:"name"`
		Version      string            `yaml:"version"`
		Manager      Manager           `yaml:"manager"`
		Platform     conda.Platform    `yaml:"platform"`
		Dependencies map[string]string `yaml:"dependencies"`
		URL          string            `yaml:"url"`
		Hash         outHash           `yaml:"hash"`
		Category     string            `yaml:"category"`
		Optional     bool              `yaml:"optional"`
	}
	outHash struct {
		MD5    string `yaml:"md5,omitempty"`
		SHA256 string `yaml:"sha256,omitempty"`
	}
)

// lockHeader opens every lock file condabox writes.
const lockHeader = `# This lock file was generated by condabox lock, in conda-lock's format
# (version 1). DO NOT EDIT! Install it with: condabox create -n ENV -f %[1]s
# To re-solve it after changing the sources: condabox lock %[2]s--lockfile %[1]s
`

// MarshalCondaLock writes l as conda-lock writes a version 1 file: packages
// sorted by manager, name and platform, dependencies as a name → spec
// mapping sorted by name. Only the keys conda-lock knows are written, so
// conda-lock reads the file too; the records' other repodata fields
// (constrains, license, size …) are not kept. name is the lock file's base
// name for the header.
func MarshalCondaLock(l *CondaLockFile, name string) ([]byte, error) {
	out := outCondaLock{Version: 1, Metadata: outMetadata{
		ContentHash: l.Metadata.ContentHash,
		Channels:    []outChannel{},
		Platforms:   l.Metadata.Platforms,
		Sources:     l.Metadata.Sources,
	}}
	if out.Metadata.ContentHash == nil {
		out.Metadata.ContentHash = map[conda.Platform]string{}
	}
	if out.Metadata.Sources == nil {
		out.Metadata.Sources = []string{}
	}
	for _, c := range l.Environment.Channels {
		out.Metadata.Channels = append(out.Metadata.Channels, outChannel{URL: c, UsedEnvVars: []string{}})
	}
	for p, pkgs := range l.Environment.Packages {
		for _, pkg := range pkgs {
			o, err := lockEntry(p, pkg)
			if err != nil {
				return nil, fmt.Errorf("write conda-lock %q: %s: %w", name, p, err)
			}
			out.Package = append(out.Package, o)
		}
	}
	slices.SortStableFunc(out.Package, func(a, b outPackage) int {
		return cmp.Or(cmp.Compare(a.Manager, b.Manager), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Platform, b.Platform))
	})
	var buf bytes.Buffer
	var sources strings.Builder
	for _, s := range out.Metadata.Sources {
		sources.WriteString("-f " + s + " ")
	}
	fmt.Fprintf(&buf, lockHeader, name, sources.String())
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("write conda-lock %q: %w", name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write conda-lock %q: %w", name, err)
	}
	return buf.Bytes(), nil
}

// lockEntry is the package entry of pkg, locked for platform p.
func lockEntry(p conda.Platform, pkg LockedPackage) (outPackage, error) {
	o := outPackage{Manager: pkg.Manager, Platform: p, Category: cmp.Or(pkg.Category, "main"), Optional: pkg.Optional, Dependencies: map[string]string{}}
	switch pkg.Manager {
	case ManagerPip:
		o.Name, o.Version, o.URL, o.Hash.SHA256 = pkg.Pypi.Name, pkg.Pypi.Version, pkg.Pypi.Location, pkg.Pypi.SHA256
	case ManagerConda:
		r := &pkg.Conda
		if r.MD5 == "" {
			// conda-lock refuses conda packages without an md5.
			return o, fmt.Errorf("package %s: no md5 checksum", r.FileName)
		}
		o.Name, o.Version, o.URL, o.Hash = r.Name, r.Version.String(), r.URL, outHash{MD5: r.MD5, SHA256: r.SHA256}
		for _, dep := range r.Depends {
			if err := addDependency(o.Dependencies, dep); err != nil {
				return o, fmt.Errorf("package %s: %w", r.FileName, err)
			}
		}
	default:
		return o, fmt.Errorf("package %s: manager %q: want conda or pip", pkg.Pypi.Name, pkg.Manager)
	}
	return o, nil
}

// addDependency adds a depends entry to conda-lock's name → spec mapping:
// the name, and what follows it ("" for any version). Two entries for the
// same name are joined with "," when both are version ranges.
func addDependency(deps map[string]string, dep string) error {
	m, err := conda.ParseMatchSpec(dep)
	if err != nil {
		return fmt.Errorf("dependency %q: %w", dep, err)
	}
	name := m.Name.String()
	before, rest, ok := strings.Cut(dep, name)
	if !ok || strings.TrimSpace(before) != "" {
		return fmt.Errorf("dependency %q: the name does not lead the spec, which a conda-lock mapping cannot hold", dep)
	}
	rest = strings.TrimSpace(rest)
	if rest == "*" {
		rest = "" // any version, as conda-lock writes it
	}
	prev, seen := deps[name]
	switch {
	case !seen || prev == rest:
		deps[name] = rest
	case rest == "":
		// "name" alone adds nothing to a constraint already there.
	case prev == "":
		deps[name] = rest
	default:
		prevRange, prevOK := versionRange(name, prev)
		restRange, restOK := versionRange(name, rest)
		if !prevOK || !restOK {
			return fmt.Errorf("dependency %q: %s is constrained twice (%q), which a conda-lock mapping cannot hold", dep, name, prev)
		}
		deps[name] = prevRange + "," + restRange
	}
	return nil
}

// versionRange returns the version spec of "name spec" when that is all it
// says and it holds no "|", which a "," joining it to another would bind
// differently.
func versionRange(name, spec string) (string, bool) {
	m, err := conda.ParseMatchSpec(name + " " + spec)
	if err != nil || strings.Contains(spec, "|") {
		return "", false
	}
	only := conda.MatchSpec{Name: m.Name, Version: m.Version}
	return m.Version.String(), m.String() == only.String()
}

// assumedSystem names, for an unsatisfiable platform, the virtual packages
// the lock assumed: they are the generic system's, not this machine's, and
// a package built for a newer glibc fails there until CONDA_OVERRIDE_GLIBC
// says which systems the lock is for.
func assumedSystem(ctx context.Context, err error, p conda.Platform, lookup func(string) (string, bool)) string {
	var unsat *solve.UnsatisfiableError
	if !errors.As(err, &unsat) {
		return ""
	}
	virtual, verr := virtualPackages(ctx, p, lookup, true)
	if verr != nil || len(virtual) == 0 {
		return ""
	}
	names := make([]string, len(virtual))
	for i, v := range virtual {
		names[i] = v.Name + " " + v.Version.String()
	}
	return fmt.Sprintf(" (solved for a generic %s system: %s; CONDA_OVERRIDE_GLIBC, CONDA_OVERRIDE_CUDA and the like change it)", p, strings.Join(names, ", "))
}
