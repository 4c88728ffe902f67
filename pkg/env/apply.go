package env

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/fetch"
	"github.com/condabox/condabox/pkg/install"
	"github.com/condabox/condabox/pkg/pkgcache"
	"github.com/condabox/condabox/pkg/redact"
	"github.com/condabox/condabox/pkg/repodata"
)

// Operation is what Apply does to an environment.
type Operation int

const (
	// Create makes the prefix hold exactly the solve of the request,
	// replacing whatever it held.
	Create Operation = iota
	// Install adds the request to the installed packages, which stay unless
	// the request needs them changed.
	Install
	// Remove takes the named packages out, with the installed packages
	// that depend on them, as micromamba does.
	Remove
)

// ApplyRequest is one create, install or remove.
type ApplyRequest struct {
	CreateRequest
	Op Operation
	// Force, for Remove, unlinks only the named packages without solving,
	// so that dependants stay (micromamba's --force).
	Force bool
	// RemoveAll, for Remove, removes every installed package; the
	// environment stays, empty (micromamba's remove --all).
	RemoveAll bool
	// Prune, for Remove, also takes out dependencies that no package
	// requested by the user needs any more (micromamba's default).
	Prune bool
	// UpdateAll, for Install, prefers the newest candidates of every
	// installed package (micromamba's update --all).
	UpdateAll bool
	// DryRun solves and reports without downloading or linking.
	DryRun bool
	// DownloadOnly, for Create and Install, downloads and extracts the
	// packages to link into the package cache and links nothing
	// (micromamba's --download-only): a prefix that does not exist is not
	// created.
	DownloadOnly bool
	// Existing, for Create, requires the prefix to hold an environment
	// already: env update --prune re-creates one from its files, applying
	// only the changes.
	Existing bool
	// SkipPyc links noarch python packages without compiling their .pyc
	// files (micromamba's --no-pyc).
	SkipPyc bool
	// NoPin ignores the pins of the configuration (pinned_packages) and of
	// the environment (conda-meta/pinned): micromamba's --no-pin.
	NoPin bool
	// ForceReinstall, for Install, unlinks and links again the requested
	// packages that are installed unchanged (micromamba's
	// --force-reinstall): a file of theirs removed by hand comes back.
	ForceReinstall bool
	// AlwaysCopy copies files from the package cache instead of hard
	// linking them (install.Options.AlwaysCopy).
	AlwaysCopy bool
	// RelocatePrefix is the prefix the files are written for, when it is
	// not the one they are written to (install.Options.RelocatePrefix).
	RelocatePrefix string
	// SkipLinkScripts runs no post-link or pre-unlink script
	// (install.Options.SkipLinkScripts).
	SkipLinkScripts bool
	// NoPyPin, for Install and Update, leaves an installed python free to
	// change its minor version (micromamba's --no-py-pin; see
	// CreateRequest.PinPython).
	NoPyPin bool
	// Deps, for Create and Install, is what of the solution is applied:
	// everything (AllDeps), only the requested packages (NoDeps) or only
	// what they depend on (OnlyDeps).
	Deps DepsMode
	// Revision, for Install, restores the environment to the packages it
	// had at that revision of conda-meta/history (conda's install
	// --revision; `list --revisions` numbers them): each is taken again
	// from its channel, exactly, and every other package is removed. It
	// takes no specs or files; nil for none.
	Revision *int
	// Cmd is the command line for conda-meta/history.
	Cmd string
	// Progress receives the downloads and warnings.
	Progress Progress
}

// DepsMode says which packages of a solution a transaction applies.
type DepsMode int

const (
	// AllDeps applies the whole solution.
	AllDeps DepsMode = iota
	// NoDeps applies the requested packages only, leaving the installed
	// ones as they are (micromamba's --no-deps; the environment may then
	// lack what they need).
	NoDeps
	// OnlyDeps applies what the requested packages depend on, not the
	// packages themselves (micromamba's --only-deps).
	OnlyDeps
)

// maxArchiveInMemory is the biggest archive Fetch leaves unextracted for a
// builder that reads archives into memory: 64 MiB expand to about 250 MiB,
// and the image builder reads up to six at once; bigger packages (CUDA,
// MKL, torch) are extracted and read from disk.
const maxArchiveInMemory = 64 << 20

// fetchJobs is how many packages are fetched and extracted at once.
const fetchJobs = 6

// Progress is where Apply reports downloads and warnings: a line each, or,
// InPlace (for a terminal), downloads as one status line rewritten in place.
// A nil W discards them.
type Progress struct {
	W       io.Writer
	InPlace bool
}

// Applied is what Apply did.
type Applied struct {
	Plan *Plan
	// Fetched were downloaded (the others came from the package cache);
	// Linked and Unlinked are the transaction's packages.
	Fetched, Linked, Unlinked []conda.PackageRecord
	// Messages are what link scripts asked to show.
	Messages string
	// DownloadOnly says Linked were downloaded into the package cache but
	// not linked.
	DownloadOnly bool
}

// TargetPrefix returns the environment folder a request names: -p, or
// <root prefix>/envs/<name> for -n.
func TargetPrefix(req CreateRequest) (string, error) {
	return targetPrefix(req, requestLookup(req))
}

// Apply plans req against the prefix's installed packages, downloads what
// the package cache lacks and links the result into the prefix as one
// transaction. A create into a prefix that did not exist leaves no prefix
// behind when it fails.
func Apply(ctx context.Context, req ApplyRequest) (*Applied, error) {
	if req.Op != Create && req.Prefix == "" && req.Name == "" {
		// As micromamba: install, update and remove without -n or -p act on
		// the active environment (a RUN line with MAMBA_DOCKERFILE_ACTIVATE=1).
		req.Prefix = activePrefix(requestLookup(req.CreateRequest))
	}
	if req.Op == Create && req.Prefix == "" && req.Name == "" {
		// As micromamba and conda env create: the environment files' name:.
		name, err := FilesEnvName(ctx, req.Files)
		if err != nil {
			return nil, err
		}
		req.Name = name
	}
	prefix, err := TargetPrefix(req.CreateRequest)
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(prefix)
	fresh := errors.Is(statErr, os.ErrNotExist)
	installed, err := install.ReadPrefix(prefix)
	if err != nil {
		return nil, err
	}
	if (req.Op != Create || req.Existing) && fresh {
		return nil, fmt.Errorf("environment %s does not exist: create it first", prefix)
	}
	if req.Op == Create && !fresh {
		if err := checkReplaceable(prefix); err != nil {
			return nil, err
		}
	}
	if req.Op == Remove && req.RemoveAll {
		req.Remove = nil
		for _, r := range installed {
			if !slices.Contains(req.Remove, r.Name) {
				req.Remove = append(req.Remove, r.Name)
			}
		}
	}
	if req.Op == Remove {
		if err := checkInstalled(prefix, installed, req.Remove); err != nil {
			return nil, err
		}
		if req.Force {
			return forceRemove(ctx, prefix, installed, req)
		}
	}
	if req.Revision != nil {
		if req, err = revisionRequest(req, prefix); err != nil {
			return nil, err
		}
	}
	if req.Op != Create && req.Revision == nil {
		for _, r := range installed {
			req.Installed = append(req.Installed, r.PackageRecord)
			if req.UpdateAll {
				req.Update = append(req.Update, r.Name)
			}
		}
		if !req.NoPin {
			pinned, err := readPinned(prefix)
			if err != nil {
				return nil, err
			}
			req.Pinned = append(req.Pinned, pinned...)
		}
		if req.Op != Remove && !req.NoPyPin {
			if req.UpdateAll {
				// update --all names every package, python too, and
				// still keeps python's minor version, as micromamba does.
				req.Pinned = append(req.Pinned, pythonPin(req.Installed)...)
			} else {
				req.PinPython = true
			}
		}
	}
	req.IgnoreConfigPins = req.NoPin
	plan, err := PlanCreate(ctx, req.CreateRequest)
	if err != nil {
		return nil, err
	}
	if req.Op == Remove && req.Prune {
		plan.Records = prune(plan.Records, installed, req.Remove)
	}
	if req.Op != Remove && req.Deps != AllDeps {
		plan.Records = selectDeps(plan.Records, installed, plan.specs, req.Deps)
	}
	if !req.DryRun && !req.DownloadOnly {
		if err := checkPip(plan.Pip, plan.Records); err != nil {
			return nil, err
		}
	}
	auth := stripCredentials(plan.Records)
	target := placeholders(plan.Records)
	var reinstall []string
	if req.ForceReinstall {
		for _, s := range plan.specs {
			reinstall = append(reinstall, s.Name.String())
		}
	}
	tx := install.Diff(installed, target, reinstall...)
	done := &Applied{Plan: plan, Linked: packageRecords(tx.Link), Unlinked: prefixRecords(tx.Unlink)}
	if req.DryRun {
		return done, nil
	}
	if req.DownloadOnly {
		plan.addDownloadURLs(auth, tx.Link)
		if done.Fetched, err = fetchAll(ctx, plan, target, tx.Link, auth, req.Progress, false); err != nil {
			return nil, err
		}
		done.DownloadOnly = true
		return done, nil
	}
	applied, err := apply(ctx, plan, target, tx.Link, reinstall, auth, req, done)
	if err != nil && req.Op == Create && fresh {
		// Nothing of a failed create into a new folder is worth keeping.
		os.RemoveAll(prefix)
	}
	if err == nil && req.Op == Create {
		// A register that cannot be written (a read-only HOME in a
		// container) does not undo the environment.
		if name := environmentsTxt(requestLookup(req.CreateRequest)); name != "" {
			if rerr := register(name, prefix); rerr != nil {
				warnf(req.Progress.W)("environment %s not registered in %s: %v", prefix, name, rerr)
			}
		}
	}
	return applied, err
}

// apply downloads the packages to link and syncs the prefix to target,
// linking reinstall (names) again even where they are unchanged.
func apply(ctx context.Context, plan *Plan, target, link []*install.Package, reinstall []string, auth map[string]string, req ApplyRequest, done *Applied) (*Applied, error) {
	plan.addDownloadURLs(auth, link)
	fetched, err := fetchAll(ctx, plan, target, link, auth, req.Progress, false)
	if err != nil {
		return nil, err
	}
	done.Fetched = fetched
	res, err := install.Sync(ctx, plan.Prefix, target, install.Options{
		History:         install.HistoryEntry{Cmd: req.Cmd, UpdateSpecs: historySpecs(plan, req), RemoveSpecs: req.Remove},
		Warnf:           warnf(req.Progress.W),
		SkipPyc:         req.SkipPyc,
		Reinstall:       reinstall,
		AlwaysCopy:      req.AlwaysCopy || plan.cfg.AlwaysCopy,
		RelocatePrefix:  req.RelocatePrefix,
		SkipLinkScripts: req.SkipLinkScripts,
	})
	if err != nil {
		return nil, err
	}
	if req.Op == Create && len(target) == 0 {
		// An empty environment: conda-meta/history is what marks a folder
		// as one (conda env list, a later install).
		if err := markEnvironment(plan.Prefix); err != nil {
			return nil, err
		}
	}
	done.Messages = res.Messages
	if err := SetStateVars(plan.Prefix, plan.Variables); err != nil {
		return nil, err
	}
	name := req.Name
	if name == "" {
		name = plan.Prefix
	}
	if err := installPip(ctx, plan.Prefix, name, plan.Pip, req.Progress.W); err != nil {
		return nil, err
	}
	return done, nil
}

// historySpecs are the update specs conda-meta/history records: the
// request's, none for a revision restored (its exact specs are no user's
// request, and env export --from-history reads them).
func historySpecs(plan *Plan, req ApplyRequest) []string {
	if req.Revision != nil {
		return nil
	}
	return specStrings(plan.specs)
}

// revisionRequest turns install --revision N into the specs of the
// packages prefix had at revision N, exact and from their channels, solved
// without the installed packages' preference or pins, so that the
// transaction removes the others.
func revisionRequest(req ApplyRequest, prefix string) (ApplyRequest, error) {
	n := *req.Revision
	switch {
	case req.Op != Install:
		return req, errors.New("--revision: only install restores a revision")
	case len(req.Specs) > 0 || len(req.Files) > 0:
		return req, fmt.Errorf("--revision %d restores the environment as it was: give no specs or files", n)
	}
	revs, err := ReadRevisions(prefix)
	if err != nil {
		return req, err
	}
	dists, err := RevisionState(revs, n)
	if err != nil {
		return req, fmt.Errorf("--revision %d of %s: %w", n, prefix, err)
	}
	for _, d := range dists {
		spec, err := historySpec(d)
		if err != nil {
			return req, fmt.Errorf("--revision %d of %s: %w", n, prefix, err)
		}
		req.Specs = append(req.Specs, spec)
	}
	req.AllowEmpty = true // a revision without packages empties the environment
	req.NoPin, req.NoPyPin = true, true
	return req, nil
}

// FilesEnvName returns the name: of the first environment file that has
// one, or "": the environment create -f and env update -f act on without
// -n or -p.
func FilesEnvName(ctx context.Context, files []string) (string, error) {
	for _, path := range files {
		f, err := ReadFile(ctx, path)
		if err != nil {
			return "", err
		}
		if f.Environment != nil && f.Environment.Name != "" {
			return f.Environment.Name, nil
		}
	}
	return "", nil
}

// readPinned returns the specs of prefix's conda-meta/pinned, one per
// line, as conda and micromamba read them (blank lines and # comments
// skipped); none when the file does not exist.
func readPinned(prefix string) ([]string, error) {
	name := filepath.Join(prefix, "conda-meta", "pinned")
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if _, err := conda.ParseMatchSpec(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		out = append(out, line)
	}
	return out, nil
}

// selectDeps keeps of a solution what mode applies: with NoDeps the
// records of the requested specs and, for every other package, its
// installed record; with OnlyDeps the records of everything else, and of
// a requested package its installed record, if any.
func selectDeps(recs []conda.PackageRecord, installed []*install.PrefixRecord, specs []conda.MatchSpec, mode DepsMode) []conda.PackageRecord {
	requested := func(name string) bool { return requestedSpec(specs, name) != "" }
	var out []conda.PackageRecord
	for _, r := range recs {
		if requested(r.Name) == (mode == NoDeps) {
			out = append(out, r)
		}
	}
	for _, r := range installed {
		if requested(r.Name) != (mode == NoDeps) && !slices.ContainsFunc(out, func(o conda.PackageRecord) bool { return o.Name == r.Name }) {
			out = append(out, r.PackageRecord)
		}
	}
	return out
}

// markEnvironment creates prefix/conda-meta/history when it is missing.
func markEnvironment(prefix string) error {
	dir := filepath.Join(prefix, "conda-meta")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "history"), os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// checkReplaceable refuses to create an environment over a folder that
// holds files but no environment, as micromamba does, so that a mistyped -p
// does not mix packages into unrelated files.
func checkReplaceable(prefix string) error {
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta")); err == nil {
		return nil
	}
	entries, err := os.ReadDir(prefix)
	if err != nil {
		return fmt.Errorf("create %s: %w", prefix, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("create %s: the folder exists and is not a conda environment (no conda-meta)", prefix)
	}
	return nil
}

// checkInstalled fails for the first name that is not installed.
func checkInstalled(prefix string, installed []*install.PrefixRecord, names []string) error {
	for _, n := range names {
		if !slices.ContainsFunc(installed, func(r *install.PrefixRecord) bool { return r.Name == n }) {
			return fmt.Errorf("remove %s from %s: not installed", n, prefix)
		}
	}
	return nil
}

// forceRemove unlinks the named packages only.
func forceRemove(ctx context.Context, prefix string, installed []*install.PrefixRecord, req ApplyRequest) (*Applied, error) {
	done := &Applied{Plan: &Plan{Prefix: prefix}}
	for _, r := range installed {
		if slices.Contains(req.Remove, r.Name) {
			done.Unlinked = append(done.Unlinked, r.PackageRecord)
		}
	}
	if req.DryRun {
		return done, nil
	}
	res, err := install.Remove(ctx, prefix, req.Remove, install.Options{
		History:         install.HistoryEntry{Cmd: req.Cmd, RemoveSpecs: req.Remove},
		Warnf:           warnf(req.Progress.W),
		SkipLinkScripts: req.SkipLinkScripts,
	})
	if err != nil {
		return nil, err
	}
	done.Messages = res.Messages
	return done, nil
}

// Fetch returns every package of the plan, in the plan's order, for
// builders that read packages without linking them (condabox build). A
// package the cache has extracted comes with its folder; any other is an
// archive, never extracted (install.ArchivePackage: Dir is "", TarballPath
// names it), for the builder to read into memory — downloaded into the
// package cache, or verified there, only when the builder calls its Ready,
// as a rebuild whose layers are cached reads none. As Apply does, it takes
// credentials out of the record URLs first: the package cache and what is
// made of the records (conda-meta, an SBOM) never hold them.
func (p *Plan) Fetch(ctx context.Context, progress Progress) ([]*install.Package, error) {
	return p.fetchPackages(ctx, progress, true)
}

// fetchPackages is Fetch, with archives left unextracted or not.
func (p *Plan) fetchPackages(ctx context.Context, progress Progress, archives bool) ([]*install.Package, error) {
	auth := stripCredentials(p.Records)
	target := placeholders(p.Records)
	p.addDownloadURLs(auth, target)
	if _, err := fetchAll(ctx, p, target, target, auth, progress, archives); err != nil {
		return nil, err
	}
	return target, nil
}

// addDownloadURLs maps the URL of each of pkgs to the URL to download it
// from, unless auth has one already (from stripCredentials).
func (p *Plan) addDownloadURLs(auth map[string]string, pkgs []*install.Package) {
	for _, pkg := range pkgs {
		if _, ok := auth[pkg.Record.URL]; !ok {
			auth[pkg.Record.URL] = downloadURL(&pkg.Record, p.channels)
		}
	}
}

// fetchAll replaces the placeholders of target that are to be linked by
// the packages from the package cache, downloading in parallel what it
// lacks from the URLs auth maps record URLs to, and returns the records it
// downloaded. With archives, packages the cache has not extracted are left
// as archives (pkgcache.GetArchive).
func fetchAll(ctx context.Context, plan *Plan, target, link []*install.Package, auth map[string]string, progress Progress, archives bool) ([]conda.PackageRecord, error) {
	cache, err := pkgcache.Open(plan.cfg.PkgsDirs...)
	if err != nil {
		return nil, err
	}
	if archives {
		cache.ExtractAbove = maxArchiveInMemory
	}
	cache.LockTimeout = time.Duration(plan.cfg.LockTimeout) * time.Second
	creds, err := repodata.EnvAuth(plan.lookup)
	if err != nil {
		return nil, err
	}
	client, err := httpClient(plan.cfg, fetchJobs, 0)
	if err != nil {
		return nil, err
	}
	f := &authFetcher{client: fetch.New(fetch.Options{HTTP: client}), auth: auth, creds: creds, progress: progress}
	defer f.endProgress()
	// The biggest first: the longest download and extraction must not
	// start last. A few at a time: extraction is CPU bound.
	order := make([]int, 0, len(link))
	for i, p := range target {
		if slices.Contains(link, p) { // the others are kept: only their identity matters
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(target[b].Record.Size, target[a].Record.Size) })
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchJobs)
	for _, i := range order {
		rec := target[i].Record
		g.Go(func() error {
			var h pkgcache.Held
			var err error
			if archives {
				h, err = cache.GetArchive(gctx, rec, f)
			} else {
				h.Dir, err = cache.Get(gctx, rec, f)
			}
			if err != nil {
				return getFailed(rec, err)
			}
			var pkg *install.Package
			if h.Dir != "" {
				pkg, err = install.ReadPackage(h.Dir)
			} else {
				pkg, err = install.ArchivePackage(h.Archive, h.Record)
			}
			if err != nil {
				return err
			}
			if h.Pending {
				// Downloaded or hashed only if the builder reads it;
				// ctx, not gctx: this runs after the group is done.
				pkg.Ready = func() error {
					if err := cache.Ready(ctx, rec, f); err != nil {
						return redact.Error(getFailed(rec, err))
					}
					return nil
				}
			}
			pkg.RequestedSpec = requestedSpec(plan.specs, rec.Name)
			target[i] = pkg
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, redact.Error(err)
	}
	return f.fetchedRecords(plan.Records), nil
}

// getFailed names the package the package cache could not give.
func getFailed(rec conda.PackageRecord, err error) error {
	return fmt.Errorf("get %s-%s-%s: %w", rec.Name, rec.Version, rec.Build, err)
}

// requestedSpec returns the user's spec for the package name, if any.
func requestedSpec(specs []conda.MatchSpec, name string) string {
	for _, s := range specs {
		if s.Name.Matches(name) {
			return s.String()
		}
	}
	return ""
}

// authFetcher downloads with the credentials the gateway stripped from
// record URLs (so that conda-meta, urls.txt and repodata_record.json never
// hold them) and reports each finished download.
type authFetcher struct {
	client   *fetch.Client
	auth     map[string]string      // record URL → URL with credentials; read-only once downloads start
	creds    repodata.Authenticator // for a URL without credentials of its own
	progress Progress

	mu      sync.Mutex
	fetched map[string]bool // record URLs downloaded
	bytes   int64           // downloaded so far
}

// Download implements pkgcache.Fetcher.
func (f *authFetcher) Download(ctx context.Context, req fetch.Request) error {
	shown := req.URL
	if u, ok := f.auth[req.URL]; ok {
		req.URL = u
	}
	if u, err := url.Parse(req.URL); err == nil {
		u, req.Header = repodata.Authenticate(f.creds, u)
		req.URL = u.String()
	}
	if err := f.client.Download(ctx, req); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fetched == nil {
		f.fetched = map[string]bool{}
	}
	f.fetched[shown] = true
	f.bytes += req.Size
	switch {
	case f.progress.W == nil:
	case f.progress.InPlace:
		// One status line, rewritten: \r and erase to the end of the line.
		fmt.Fprintf(f.progress.W, "\r\x1b[KDownloaded %d packages, %.1f MB: %s", len(f.fetched), float64(f.bytes)/1e6, path.Base(shown))
	default:
		fmt.Fprintf(f.progress.W, "Downloaded %s (%d bytes)\n", redact.URL(shown), req.Size)
	}
	return nil
}

// endProgress ends the status line, if one was written.
func (f *authFetcher) endProgress() {
	if f.progress.W != nil && f.progress.InPlace && len(f.fetched) > 0 {
		fmt.Fprintln(f.progress.W)
	}
}

func (f *authFetcher) fetchedRecords(recs []conda.PackageRecord) []conda.PackageRecord {
	var out []conda.PackageRecord
	for _, r := range recs {
		if f.fetched[r.URL] {
			out = append(out, r)
		}
	}
	return out
}

// stripCredentials takes the credentials out of the record URLs that carry
// them (those of explicit and lock files can), so that the package cache
// and conda-meta never hold them, and returns clean URL → URL as given, for
// the download.
func stripCredentials(recs []conda.PackageRecord) map[string]string {
	auth := map[string]string{}
	for i := range recs {
		r := &recs[i]
		if redact.URL(r.URL) == r.URL {
			continue
		}
		dir, file := path.Split(r.URL)
		ch, err := conda.ParseChannel(strings.TrimSuffix(dir, "/"), conda.ChannelConfig{})
		if err != nil {
			continue // not a channel URL; downloads as given
		}
		clean := ch.RecordChannel(ch.Platform()) + "/" + file
		auth[clean] = r.URL
		r.URL = clean
	}
	return auth
}

// downloadURL returns the URL to fetch rec from: its URL with the
// credentials of the channel it came from, else as it is (authFetcher adds
// those of CONDABOX_BASIC_AUTH, authentication.json or netrc, as the
// gateway does for the index).
func downloadURL(rec *conda.PackageRecord, channels []conda.Channel) string {
	if u := credentialedURL(rec, channels); u != "" {
		return u
	}
	return rec.URL
}

// credentialedURL returns rec's URL with the credentials of the channel it
// came from, or "" when none of channels is its channel. The gateway sets
// a record's Channel to the channel's RecordChannel and its URL below it.
func credentialedURL(rec *conda.PackageRecord, channels []conda.Channel) string {
	p, err := conda.ParsePlatform(rec.Subdir)
	if err != nil {
		return ""
	}
	file, ok := strings.CutPrefix(rec.URL, rec.Channel+"/")
	if !ok {
		return ""
	}
	for _, c := range channels {
		if c.RecordChannel(p) == rec.Channel {
			return c.SubdirURL(p) + file
		}
	}
	return ""
}

// prune drops from the solved records those that no package the user
// requested (conda-meta's requested_spec) needs, directly or not. Without
// any requested record, as in a prefix written by another tool, it keeps
// everything.
func prune(recs []conda.PackageRecord, installed []*install.PrefixRecord, removed []string) []conda.PackageRecord {
	var queue []*conda.PackageRecord
	for _, r := range installed {
		if r.RequestedSpec == "" || slices.Contains(removed, r.Name) {
			continue
		}
		for i := range recs {
			if recs[i].Name == r.Name {
				queue = append(queue, &recs[i])
			}
		}
	}
	if len(queue) == 0 {
		return recs
	}
	needed := map[string]bool{}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if needed[r.Name] {
			continue
		}
		needed[r.Name] = true
		for _, d := range r.Depends {
			m, err := conda.ParseMatchSpec(d)
			if err != nil {
				continue // the solver accepted the record; an odd depends only ends the walk here
			}
			for i := range recs {
				if m.Name.Matches(recs[i].Name) {
					queue = append(queue, &recs[i])
				}
			}
		}
	}
	var out []conda.PackageRecord
	for _, r := range recs {
		if needed[r.Name] {
			out = append(out, r)
		}
	}
	return out
}

// placeholders wraps records as packages for install.Diff, which compares
// identities only.
func placeholders(recs []conda.PackageRecord) []*install.Package {
	out := make([]*install.Package, len(recs))
	for i := range recs {
		out[i] = &install.Package{Record: recs[i]}
	}
	return out
}

func packageRecords(pkgs []*install.Package) []conda.PackageRecord {
	out := make([]conda.PackageRecord, len(pkgs))
	for i, p := range pkgs {
		out[i] = p.Record
	}
	return out
}

func prefixRecords(recs []*install.PrefixRecord) []conda.PackageRecord {
	out := make([]conda.PackageRecord, len(recs))
	for i, r := range recs {
		out[i] = r.PackageRecord
	}
	return out
}

func specStrings(specs []conda.MatchSpec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.String())
	}
	return out
}

// warnf prints the transaction's warnings as lines on w.
func warnf(w io.Writer) func(string, ...any) {
	return func(format string, args ...any) {
		if w != nil {
			fmt.Fprintf(w, "warning: "+format+"\n", args...)
		}
	}
}

// appliedJSON is micromamba's --json output of a transaction.
type appliedJSON struct {
	Actions struct {
		Fetch  []actionJSON `json:"FETCH,omitempty"`
		Link   []actionJSON `json:"LINK,omitempty"`
		Prefix string       `json:"PREFIX"`
		Unlink []actionJSON `json:"UNLINK,omitempty"`
	} `json:"actions"`
	DryRun  bool   `json:"dry_run"`
	Prefix  string `json:"prefix"`
	Success bool   `json:"success"`
}

// WriteJSON writes what Apply did as micromamba's --json output: FETCH the
// downloaded packages (on a dry run, every package to link), LINK and
// UNLINK the transaction's.
func (a *Applied) WriteJSON(w io.Writer, dryRun bool) error {
	var out appliedJSON
	fetched := a.Fetched
	if dryRun {
		fetched = a.Linked
	}
	out.Actions.Fetch = actions(fetched)
	out.Actions.Link = actions(a.Linked)
	out.Actions.Unlink = actions(a.Unlinked)
	out.Actions.Prefix, out.Prefix = a.Plan.Prefix, a.Plan.Prefix
	out.DryRun, out.Success = dryRun, true
	return writeJSON(w, out)
}

// WriteText writes what Apply did for a person: a line per package.
func (a *Applied) WriteText(w io.Writer, dryRun bool) error {
	verb := map[bool]string{false: "Installed", true: "Would install"}[dryRun]
	for _, r := range a.Unlinked {
		if !a.DownloadOnly { // nothing was unlinked
			fmt.Fprintf(w, "  - %s %s %s\n", r.Name, r.Version, r.Build)
		}
	}
	for _, r := range a.Linked {
		fmt.Fprintf(w, "  + %s %s %s %s\n", r.Name, r.Version, r.Build, channelName(r.Channel))
	}
	if a.DownloadOnly {
		_, err := fmt.Fprintf(w, "Downloaded only: %d packages in the package cache (%d fetched), nothing linked in %s\n",
			len(a.Linked), len(a.Fetched), a.Plan.Prefix)
		return err
	}
	_, err := fmt.Fprintf(w, "%s: %d linked, %d unlinked in %s\n%s", verb, len(a.Linked), len(a.Unlinked), a.Plan.Prefix, a.Messages)
	return err
}

func actions(recs []conda.PackageRecord) []actionJSON {
	out := make([]actionJSON, len(recs))
	for i := range recs {
		out[i] = newActionJSON(&recs[i])
	}
	return out
}
