package env

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/httpretry"
	"github.com/condabox/condabox/pkg/repodata"
	"github.com/condabox/condabox/pkg/solve"
	"github.com/condabox/condabox/pkg/virtualpkgs"
)

// CreateRequest is what `condabox create` is asked, as micromamba's flags
// say it.
type CreateRequest struct {
	// Prefix is the environment's folder; Name, when Prefix is empty, puts
	// it at <root prefix>/envs/<Name>.
	Prefix, Name string
	// RootPrefix overrides MAMBA_ROOT_PREFIX.
	RootPrefix string
	// Specs are the match specs given as arguments.
	Specs []string
	// Files are -f files: environment.yml, spec lists, lock or @EXPLICIT
	// files (see ReadFile).
	Files []string
	// Channels are the -c channels, highest priority first. The
	// environment files' channels follow them; then, unless
	// OverrideChannels, the configuration's (.condarc) channels. As in
	// micromamba, --override-channels drops configured channels only: an
	// env.yml's channels still count (redirect one with custom_channels).
	Channels         []string
	OverrideChannels bool
	// Platform is the target subdir; "" means CONDA_SUBDIR or the machine's.
	Platform string
	// TargetVirtualPackages solves with the target platform's default
	// virtual packages even when it is this machine's, so that a lock file
	// does not depend on the machine that made it.
	TargetVirtualPackages bool
	// ChannelPriority is "strict", "flexible" or "disabled"; "" means the
	// configuration's, else strict.
	ChannelPriority string
	// Offline uses cached indexes only.
	Offline bool
	// AllowEmpty plans an empty environment when nothing is asked for, as
	// micromamba's create does, instead of failing.
	AllowEmpty bool
	// LookupEnv reads the environment (os.LookupEnv in production): config
	// files, CONDA_OVERRIDE_*, CONDA_SUBDIR and credentials.
	LookupEnv func(string) (string, bool)
	// WorkDir resolves relative channel paths and prefixes.
	WorkDir string
	// Installed, Update and Remove describe a change to an existing
	// environment, as solve.Request's fields of the same names.
	Installed      []conda.PackageRecord
	Update, Remove []string
	// Pinned are match specs the solve must respect besides the
	// configuration's pinned_packages: Apply gives an existing
	// environment's conda-meta/pinned (and, for update --all, python's
	// pin).
	Pinned []string
	// IgnoreConfigPins leaves the configuration's pinned_packages out.
	IgnoreConfigPins bool
	// FreezeInstalled pins every installed package that no spec (of the
	// arguments or the -f files) and no Update entry names to its
	// installed build (micromamba's --freeze-installed): a request that
	// needs one changed is unsatisfiable.
	FreezeInstalled bool
	// Categories are the lock file categories to install (conda-lock's
	// main, dev, …): micromamba's --category; none means main.
	Categories []string
	// ExcludeNewer, when set, solves without the records uploaded after it
	// (solve.Request.ExcludeNewer): micromamba's --exclude-newer.
	ExcludeNewer time.Time
	// NoDowngrade keeps every installed package that no spec names at its
	// version or a newer one (micromamba's --no-allow-downgrade).
	NoDowngrade bool
	// PinPython pins an installed python to its minor version ("python
	// 3.11.*") unless a spec or Update entry names python: micromamba's
	// default for install and update, which --no-py-pin turns off.
	PinPython bool
	// Log receives what -v asks to see: index requests, downloads, the
	// solve; URLs in it are redacted. nil logs nothing.
	Log *slog.Logger
}

// Plan is the result of planning a create: the records to install, in
// install order (dependencies first).
type Plan struct {
	Prefix   string
	Platform conda.Platform
	Records  []conda.PackageRecord
	// Pip are the pip: sections of the environment files, which Apply
	// installs with the environment's pip once its packages are linked.
	Pip []PipSection
	// Variables are the environment files' variables:, which Apply writes
	// to conda-meta/state (activation sets them) and build bakes into the
	// image's configuration.
	Variables map[string]string

	// What Apply needs beyond the records: the configuration, the channels
	// (with their credentials, which records do not carry) and the specs
	// the user asked for.
	cfg      *config.Config
	channels []conda.Channel
	specs    []conda.MatchSpec
	lookup   func(string) (string, bool)
}

// PlanCreate resolves a create request: it reads the files, loads the
// channels' indexes and solves, or, for a lock or @EXPLICIT file, takes its
// records as they are. An unsatisfiable request returns the solver's
// *solve.UnsatisfiableError.
func PlanCreate(ctx context.Context, req CreateRequest) (*Plan, error) {
	lookup := requestLookup(req)
	cfg, err := config.Load(lookup)
	if err != nil {
		return nil, err
	}
	plan := &Plan{cfg: cfg, lookup: lookup}
	if plan.Prefix, err = targetPrefix(req, lookup); err != nil {
		return nil, err
	}
	if plan.Platform, err = targetPlatform(req.Platform, lookup); err != nil {
		return nil, err
	}
	r, err := readRequest(ctx, req, plan.Platform)
	if r != nil {
		plan.specs, plan.Pip, plan.Variables = r.specs, r.pip, r.vars
	}
	switch {
	case errors.Is(err, errNothingAsked) && req.AllowEmpty:
		return plan, nil // an empty environment: nothing to solve
	case err != nil:
		return nil, err
	case r.locked != nil:
		plan.Records = r.locked
		return plan, nil
	}
	specs := r.specs
	fromSpecs, err := specChannels(specs)
	if err != nil {
		return nil, err
	}
	if plan.channels, err = requestChannels(r.channels, fromSpecs, req.OverrideChannels, cfg, req.WorkDir); err != nil {
		return nil, err
	}
	start := time.Now()
	if plan.Records, err = solveSpecs(ctx, req, cfg, lookup, plan.Platform, specs, plan.channels); err != nil {
		return nil, err
	}
	if req.Log != nil {
		req.Log.Info("solved", "platform", plan.Platform, "specs", len(specs), "packages", len(plan.Records), "took", time.Since(start).Round(time.Millisecond))
	}
	return plan, nil
}

// requestLookup returns the request's environment lookup with -r/--root-prefix
// standing for MAMBA_ROOT_PREFIX, for everything that reads it.
func requestLookup(req CreateRequest) func(string) (string, bool) {
	lookup := req.LookupEnv
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	if req.RootPrefix == "" {
		return lookup
	}
	return func(k string) (string, bool) {
		if k == "MAMBA_ROOT_PREFIX" {
			return req.RootPrefix, true
		}
		return lookup(k)
	}
}

// readRequest gathers the specs and channels of the -f files and the
// arguments, or the records of a lock or @EXPLICIT file, which is the whole
// environment.
func readRequest(ctx context.Context, req CreateRequest, p conda.Platform) (*request, error) {
	r := &request{channels: slices.Clone(req.Channels), vars: map[string]string{}}
	for _, path := range req.Files {
		f, err := ReadFile(ctx, path)
		if err != nil {
			return nil, err
		}
		if f.Environment == nil {
			if len(req.Files) > 1 || len(req.Specs) > 0 {
				return nil, fmt.Errorf("%s: a lock or @EXPLICIT file fixes the whole environment: give it alone, without specs", path)
			}
			locked, pipSec, err := lockedRecords(path, f, p, req.Categories)
			if err != nil {
				return nil, err
			}
			r.locked = locked
			if pipSec != nil {
				r.pip = []PipSection{*pipSec}
			}
			return r, nil
		}
		specs := f.Environment.Specs(p)
		r.channels = append(r.channels, f.Environment.Channels...)
		r.vars = mergeVars(r.vars, f.Environment.Variables)
		if len(f.Environment.Pip) > 0 {
			r.pip = append(r.pip, PipSection{File: path, Requirements: f.Environment.Pip})
			// As micromamba: a pip: section brings pip along.
			if !slices.ContainsFunc(specs, func(m conda.MatchSpec) bool { return m.Name.String() == "pip" }) {
				pip, err := conda.ParseMatchSpec("pip")
				if err != nil {
					return nil, err
				}
				specs = append(specs, pip)
			}
		}
		r.specs = append(r.specs, specs...)
	}
	for _, s := range req.Specs {
		m, err := conda.ParseMatchSpec(s)
		if err != nil {
			return nil, err
		}
		r.specs = append(r.specs, m)
	}
	if len(r.specs) == 0 && len(req.Remove) == 0 && len(req.Update) == 0 {
		return r, errNothingAsked
	}
	return r, nil
}

// request is what a CreateRequest's files and specs ask for: the specs to
// solve and channels, or a lock's records; the pip sections and the
// environment variables (variables:) to set.
type request struct {
	specs    []conda.MatchSpec
	channels []string
	locked   []conda.PackageRecord
	pip      []PipSection
	vars     map[string]string
}

// errNothingAsked is readRequest's error for a request without specs,
// files, removals or updates.
var errNothingAsked = errors.New("nothing to install: give specs or -f files")

// solveSpecs loads the channels' indexes for platform p and solves specs
// with p's virtual packages.
func solveSpecs(ctx context.Context, req CreateRequest, cfg *config.Config, lookup func(string) (string, bool),
	p conda.Platform, specs []conda.MatchSpec, parsed []conda.Channel) ([]conda.PackageRecord, error) {
	if len(parsed) == 0 && len(req.Installed) == 0 {
		return nil, errors.New("no channels: give -c CHANNEL or set channels in .condarc")
	}
	chanCfg := cfg.ChannelConfig(req.WorkDir)
	priority, err := channelPriority(req.ChannelPriority, cfg.ChannelPriority)
	if err != nil {
		return nil, err
	}
	virtual, err := virtualPackages(ctx, p, lookup, req.TargetVirtualPackages)
	if err != nil {
		return nil, err
	}
	gw, err := newGateway(req, cfg, lookup)
	if err != nil {
		return nil, err
	}
	var pins []conda.MatchSpec
	var configPins []string
	if !req.IgnoreConfigPins {
		configPins = cfg.PinnedPackages
	}
	named := map[string]bool{}
	for _, m := range specs {
		named[m.Name.String()] = true
	}
	pinned := slices.Concat(configPins, req.Pinned)
	if req.NoDowngrade {
		for _, r := range req.Installed {
			if !named[r.Name] { // what a spec asks for may go down
				pinned = append(pinned, r.Name+" >="+r.Version.String())
			}
		}
	}
	for _, u := range req.Update {
		named[u] = true
	}
	if req.FreezeInstalled {
		for _, r := range req.Installed {
			if !named[r.Name] {
				pinned = append(pinned, r.Name+"=="+r.Version.String()+"="+r.Build)
			}
		}
	}
	if req.PinPython && !named["python"] {
		pinned = append(pinned, pythonPin(req.Installed)...)
	}
	for _, text := range pinned {
		pin, err := conda.ParseMatchSpec(text)
		if err != nil {
			return nil, fmt.Errorf("pinned package %q: %w", text, err)
		}
		pins = append(pins, pin)
	}
	// The index holds what the specs reach, and what Update names: an
	// update --all has no spec, and its packages' newer builds must be
	// known for the solver to prefer them.
	roots := slices.Clone(specs)
	for _, u := range req.Update {
		if m, err := conda.ParseMatchSpec(u); err == nil && !slices.ContainsFunc(specs, func(s conda.MatchSpec) bool { return s.Name.String() == u }) {
			roots = append(roots, m)
		}
	}
	index, err := gw.Load(ctx, parsed, []conda.Platform{p}, roots)
	if err != nil {
		return nil, err
	}
	return solve.Solve(ctx, index, solve.Request{
		Specs:           specs,
		Virtual:         virtual,
		Channels:        parsed,
		ChannelPriority: priority,
		ChannelConfig:   chanCfg,
		Installed:       req.Installed,
		Update:          req.Update,
		Remove:          req.Remove,
		Pinned:          pins,
		ExcludeNewer:    req.ExcludeNewer,
	})
}

// newGateway is the repodata gateway of req's configuration: its cache in
// the first package cache, its TTL, offline mode and credentials.
func newGateway(req CreateRequest, cfg *config.Config, lookup func(string) (string, bool)) (*repodata.Gateway, error) {
	opts, err := gatewayOptions(req, cfg, lookup)
	if err != nil {
		return nil, err
	}
	return repodata.New(opts)
}

// gatewayOptions are the gateway's settings for req.
func gatewayOptions(req CreateRequest, cfg *config.Config, lookup func(string) (string, bool)) (repodata.Options, error) {
	auth, err := repodata.EnvAuth(lookup)
	if err != nil {
		return repodata.Options{}, err
	}
	// Every channel × subdir is fetched at once and sharded loads fetch
	// many small files from one host.
	client, err := httpClient(cfg, 32, 30*time.Second)
	if err != nil {
		return repodata.Options{}, err
	}
	return repodata.Options{
		PkgsDir:       cfg.PkgsDirs[0],
		TTL:           cfg.LocalRepodataTTL,
		Offline:       req.Offline || cfg.Offline,
		ChannelConfig: cfg.ChannelConfig(req.WorkDir),
		Auth:          auth,
		Client:        client,
		Log:           req.Log,
		LockTimeout:   time.Duration(cfg.LockTimeout) * time.Second,
	}, nil
}

// httpClient is an HTTP client reaching servers as cfg's ssl_verify and
// proxy_servers say.
func httpClient(cfg *config.Config, idlePerHost int, headerTimeout time.Duration) (*http.Client, error) {
	return httpretry.Network{SSLVerify: cfg.SSLVerify, Proxies: cfg.ProxyServers}.Client(idlePerHost, headerTimeout)
}

// targetPrefix returns -p, or for -n the root prefix itself when the name is
// "base" (as micromamba does) and <root prefix>/envs/<name> otherwise.
func targetPrefix(req CreateRequest, lookup func(string) (string, bool)) (string, error) {
	switch {
	case req.Prefix != "" && req.Name != "":
		return "", errors.New("give either -p PREFIX or -n NAME, not both")
	case req.Prefix != "":
		if filepath.IsAbs(req.Prefix) {
			return filepath.Clean(req.Prefix), nil
		}
		return filepath.Join(req.WorkDir, req.Prefix), nil
	case req.Name == "":
		return "", errors.New("no target environment: give -p PREFIX or -n NAME (install, update and remove also take the active one, $CONDA_PREFIX)")
	case req.Name != filepath.Base(req.Name) || req.Name == "." || req.Name == "..":
		return "", fmt.Errorf("environment name %q: must not hold a path separator", req.Name)
	}
	root, err := config.RootPrefix(lookup)
	if err != nil {
		return "", fmt.Errorf("-n %s needs a root prefix: %w (or give -r)", req.Name, err)
	}
	if req.Name == "base" {
		return root, nil
	}
	return filepath.Join(root, "envs", req.Name), nil
}

// targetPlatform returns --platform, CONDA_SUBDIR or the machine's platform.
func targetPlatform(flag string, lookup func(string) (string, bool)) (conda.Platform, error) {
	if flag == "" {
		flag, _ = lookup("CONDA_SUBDIR")
	}
	if flag == "" {
		return conda.CurrentPlatform()
	}
	return conda.ParsePlatform(flag)
}

// requestChannels parses the channels a command uses: those given (-c
// and the files'), then the configuration's unless override
// (--override-channels), duplicates dropped.
// Channels that specs name (conda-forge::numpy) come last, even with
// --override-channels: as in conda and micromamba, such a spec needs no -c.
func requestChannels(given, fromSpecs []string, override bool, cfg *config.Config, workDir string) ([]conda.Channel, error) {
	// "nodefaults" in an environment file's channels (conda's and
	// conda-lock's marker) is no channel: as in conda, it leaves the
	// configured channels out, as --override-channels does.
	names := slices.DeleteFunc(slices.Clone(given), func(n string) bool {
		if n == "nodefaults" {
			override = true
			return true
		}
		return false
	})
	if !override {
		names = append(names, cfg.Channels...)
	}
	names = append(names, fromSpecs...)
	// "defaults" is conda's multichannel: the configuration's
	// default_channels. condabox knows no default for it (repo.anaconda.com's
	// channels come with their own terms), so without the key it stays an
	// error that says so.
	if i := slices.Index(names, "defaults"); i >= 0 && len(cfg.DefaultChannels) > 0 {
		names = slices.Concat(names[:i], cfg.DefaultChannels, slices.DeleteFunc(names[i+1:], func(n string) bool { return n == "defaults" }))
	}
	return parseChannels(names, cfg.ChannelConfig(workDir))
}

// specChannels returns the channels specs name (channel::name), in order.
// The defaults multichannel is refused there: one package comes from one
// channel.
func specChannels(specs []conda.MatchSpec) ([]string, error) {
	var out []string
	for _, m := range specs {
		switch {
		case m.Channel == "defaults":
			return nil, fmt.Errorf("spec %q: defaults is several channels (default_channels), a spec's channel names one: give one of them (pkgs/main::%s), or no channel", m.String(), m.Name)
		case m.Channel != "" && m.Channel != "*" && !slices.Contains(out, m.Channel):
			out = append(out, m.Channel)
		}
	}
	return out, nil
}

func parseChannels(names []string, cfg conda.ChannelConfig) ([]conda.Channel, error) {
	var out []conda.Channel
	for _, name := range names {
		c, err := conda.ParseChannel(name, cfg)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// channelPriority picks the flag's value, else the configuration's.
func channelPriority(flag, configured string) (solve.ChannelPriority, error) {
	s := flag
	if s == "" {
		s = configured
	}
	switch s {
	case "", "strict":
		return solve.Strict, nil
	case "flexible":
		return solve.Flexible, nil
	case "disabled":
		return solve.Disabled, nil
	}
	return 0, fmt.Errorf("channel priority %q: want strict, flexible or disabled", s)
}

// virtualPackages returns the machine's virtual packages when solving for
// it (unless targetDefaults), else the defaults of the target platform,
// CONDA_OVERRIDE_* applied either way.
func virtualPackages(ctx context.Context, p conda.Platform, lookup func(string) (string, bool), targetDefaults bool) ([]conda.PackageRecord, error) {
	var (
		vps []conda.VirtualPackage
		err error
	)
	if host, hostErr := conda.CurrentPlatform(); hostErr == nil && host == p && !targetDefaults {
		vps, err = virtualpkgs.VirtualPackages(ctx, lookup)
	} else {
		var info conda.SystemInfo
		if info, err = conda.TargetSystemInfo(p); err == nil {
			vps, err = conda.VirtualPackages(info, lookup)
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]conda.PackageRecord, len(vps))
	for i, v := range vps {
		out[i] = v.Record()
	}
	return out, nil
}

// lockedRecords returns the records a lock or @EXPLICIT file fixes for
// platform p, of the lock's categories (default: main); a lock's pip
// packages of those categories come as a pip section installing exactly
// them (name @ URL, with their sha256 when every one has it; --no-deps, as
// conda-lock installs them).
func lockedRecords(path string, f *File, p conda.Platform, categories []string) ([]conda.PackageRecord, *PipSection, error) {
	if f.Explicit != nil {
		if f.Explicit.Platform != "" && f.Explicit.Platform != p {
			return nil, nil, fmt.Errorf("%s: an explicit file for %s, not %s", path, f.Explicit.Platform, p)
		}
		return f.Explicit.Records, nil, nil
	}
	env, ok := f.Lock.Environments[DefaultEnvironment]
	if !ok {
		return nil, nil, fmt.Errorf("%s: no %q environment", path, DefaultEnvironment)
	}
	pkgs, ok := env.Packages[p]
	if !ok {
		return nil, nil, fmt.Errorf("%s: nothing locked for %s", path, p)
	}
	if len(categories) == 0 {
		categories = []string{"main"} // the others (conda-lock's dev, …) are optional
	}
	var pip []PypiPackage
	for _, pkg := range pkgs {
		if pkg.Manager == ManagerPip && slices.Contains(categories, pkg.Category) && !slices.Contains(pip, pkg.Pypi) {
			pip = append(pip, pkg.Pypi)
		}
	}
	recs := env.CondaRecords(p, categories...)
	if len(pip) == 0 {
		return recs, nil, nil
	}
	hashed := !slices.ContainsFunc(pip, func(p PypiPackage) bool { return p.SHA256 == "" })
	sec := &PipSection{File: path, NoDeps: true}
	for _, pk := range pip {
		line := pk.Name + "==" + pk.Version
		if pk.Location != "" {
			line = pk.Name + " @ " + pipLocation(filepath.Dir(path), pk.Location)
		}
		if hashed {
			line += " --hash=sha256:" + pk.SHA256
		}
		sec.Requirements = append(sec.Requirements, line)
	}
	return recs, sec, nil
}

// pipLocation is a lock's pip package location as pip takes it after
// "name @": a URL as it is, a path as a file:// URL (relative to the
// lock's folder).
func pipLocation(dir, loc string) string {
	if strings.Contains(loc, "://") {
		return loc
	}
	if !filepath.IsAbs(loc) {
		loc = filepath.Join(dir, loc)
	}
	if abs, err := filepath.Abs(loc); err == nil { // a lock given by a relative path
		loc = abs
	}
	return "file://" + filepath.ToSlash(loc)
}

// pythonPin is micromamba's pin of an installed python to its minor
// version, "python 3.11.*"; none when python is not installed.
func pythonPin(installed []conda.PackageRecord) []string {
	for _, r := range installed {
		if r.Name != "python" {
			continue
		}
		parts := strings.SplitN(r.Version.String(), ".", 3)
		if len(parts) < 2 {
			return []string{"python " + parts[0] + ".*"}
		}
		return []string{"python " + parts[0] + "." + parts[1] + ".*"}
	}
	return nil
}
