package repodata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/httpretry"
	"github.com/condabox/condabox/pkg/redact"
)

// Options configures a Gateway.
type Options struct {
	// PkgsDir is the package cache; indexes are cached in PkgsDir/cache as
	// conda does. Required.
	PkgsDir string
	// TTL is conda's local_repodata_ttl: 0 always revalidates with the
	// server (a 304 costs no body), 1 trusts the server's Cache-Control
	// max-age, any other value is seconds. Pass config.Config's value; its
	// default is config.DefaultRepodataTTL.
	TTL int
	// Offline uses the cache only; anything not cached is an error wrapping
	// ErrOffline.
	Offline bool
	// DisableZst and DisableShards make the gateway ignore repodata.json.zst
	// and CEP-16 shards (for benchmarks and for servers that mishandle them).
	DisableZst, DisableShards bool
	// ChannelConfig resolves the channels named in specs (`conda-forge::numpy`).
	ChannelConfig conda.ChannelConfig
	// Auth authenticates the requests to channels whose URLs carry no
	// credentials, e.g. EnvAuth.
	Auth Authenticator
	// Client replaces the gateway's own keep-alive client.
	Client *http.Client
	// Attempts is how many times a request is tried on 5xx, 429, timeouts
	// and cut connections (default 4); Backoff is the first pause between
	// attempts, doubled each time (default 250ms). HeaderTimeout bounds the
	// wait for response headers (default 30s).
	Attempts      int
	Backoff       time.Duration
	HeaderTimeout time.Duration
	// Log receives debug and info messages; URLs in it are redacted.
	Log *slog.Logger
	// LockTimeout, when above 0, bounds the wait for a cache entry another
	// process holds (micromamba's --lock-timeout).
	LockTimeout time.Duration
}

// Gateway fetches, caches and loads channel indexes. It is safe for
// concurrent use; one Gateway shares one HTTP client and its connections.
type Gateway struct {
	opts     Options
	client   *http.Client
	cacheDir string
	log      *slog.Logger
	stats    counters
}

// New returns a Gateway; it creates the cache directory.
func New(opts Options) (*Gateway, error) {
	if opts.PkgsDir == "" {
		return nil, errors.New("repodata gateway: no package cache directory")
	}
	if opts.HeaderTimeout <= 0 {
		opts.HeaderTimeout = 30 * time.Second
	}
	g := &Gateway{opts: opts, client: opts.Client, cacheDir: filepath.Join(opts.PkgsDir, "cache"), log: opts.Log}
	if g.client == nil {
		// Every channel × subdir is fetched at once and sharded loads fetch
		// many small files from one host.
		g.client = httpretry.NewClient(32, opts.HeaderTimeout)
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(g.cacheDir, "shards"), 0o755); err != nil {
		return nil, fmt.Errorf("repodata gateway: %w", err)
	}
	return g, nil
}

// Stats returns the traffic counted since New.
func (g *Gateway) Stats() Stats {
	return Stats{
		Requests:    g.stats.requests.Load(),
		NotModified: g.stats.notModified.Load(),
		BodyBytes:   g.stats.bodyBytes.Load(),
	}
}

// Index holds, per package name, the records a solve may use, in priority
// order: channels in the order given, and within a channel the platforms
// in the order given with noarch last. Each record has FileName, URL (without
// secrets) and Channel (conda's form, e.g.
// https://conda.anaconda.org/conda-forge/linux-64) set.
type Index struct {
	byName map[string][]conda.PackageRecord
}

// Records returns the records of name in priority order; nil if none.
func (ix *Index) Records(name string) []conda.PackageRecord { return ix.byName[name] }

// Names returns the names the index holds records of, sorted.
func (ix *Index) Names() []string { return slices.Sorted(maps.Keys(ix.byName)) }

// subdir is one channel × platform to load.
type subdir struct {
	channel  conda.Channel
	platform conda.Platform
	src      source
}

// Load fetches (or reuses from the cache) the indexes of every channel ×
// platform at once, noarch added if missing, and returns the records of the
// names reachable from specs through their dependencies, and of no other.
// A spec's channel (`conda-forge::numpy`) restricts where its name is looked
// up, and is loaded too if it is not among channels. Virtual packages
// (`__glibc`) are left to the caller. Errors name the URL, secrets redacted.
func (g *Gateway) Load(ctx context.Context, channels []conda.Channel, platforms []conda.Platform, specs []conda.MatchSpec) (*Index, error) {
	ix, err := g.load(ctx, channels, platforms, specs)
	return ix, redact.Error(err)
}

func (g *Gateway) load(ctx context.Context, channels []conda.Channel, platforms []conda.Platform, specs []conda.MatchSpec) (*Index, error) {
	pins := map[string]conda.Channel{}
	var roots []string
	for _, spec := range specs {
		name := spec.Name.String()
		if !spec.Name.IsExact() {
			return nil, fmt.Errorf("load repodata: spec %q: the package name must be exact", spec)
		}
		roots = append(roots, name)
		if spec.Channel == "" {
			continue
		}
		ch, err := conda.ParseChannel(spec.Channel, g.opts.ChannelConfig)
		if err != nil {
			return nil, fmt.Errorf("load repodata: spec %q: %w", spec, err)
		}
		pins[name] = ch
		if !slices.ContainsFunc(channels, func(c conda.Channel) bool { return c.Name() == ch.Name() }) {
			channels = append(slices.Clone(channels), ch)
		}
	}

	subdirs, closeAll, err := g.openAll(ctx, channels, platforms)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	return g.closure(ctx, subdirs, roots, pins, specs)
}

// openAll opens the index of every channel × platform at once, noarch
// added if missing; closeAll closes them.
func (g *Gateway) openAll(ctx context.Context, channels []conda.Channel, platforms []conda.Platform) (subdirs []*subdir, closeAll func(), err error) {
	if !slices.Contains(platforms, conda.PlatformNoArch) {
		platforms = append(slices.Clone(platforms), conda.PlatformNoArch)
	}
	for _, ch := range channels {
		for _, p := range platforms {
			subdirs = append(subdirs, &subdir{channel: ch, platform: p})
		}
	}
	closeAll = func() {
		for _, sd := range subdirs {
			if sd.src != nil {
				sd.src.close()
			}
		}
	}
	err = forEach(ctx, subdirs, func(ctx context.Context, sd *subdir) error {
		src, err := g.open(ctx, sd.channel, sd.platform)
		sd.src = src
		return err
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return subdirs, closeAll, nil
}

// Names fetches (or reuses from the cache) the indexes of every channel ×
// platform, noarch added if missing, and returns the package names they
// have, sorted: what a name pattern (`numpy*`) is matched against. A
// sharded index gives them without any shard; a repodata.json is scanned
// whole, as Load scans it.
func (g *Gateway) Names(ctx context.Context, channels []conda.Channel, platforms []conda.Platform) ([]string, error) {
	subdirs, closeAll, err := g.openAll(ctx, channels, platforms)
	if err != nil {
		return nil, redact.Error(err)
	}
	defer closeAll()
	seen := map[string]bool{}
	for _, sd := range subdirs {
		for _, n := range sd.src.names() {
			seen[n] = true
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// closure collects the records of roots and of every name their records
// depend on. Each lookup starts as soon as its name is found, rather than
// wave by wave, so a sharded load waits for its longest dependency chain of
// fetches, not for the slowest fetch of every level.
func (g *Gateway) closure(ctx context.Context, subdirs []*subdir, roots []string, pins map[string]conda.Channel, specs []conda.MatchSpec) (*Index, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu       sync.Mutex
		found    = map[string][][]conda.PackageRecord{} // name → records per subdir
		depNames = map[string]string{}                  // dependency string → package name
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 16)
	)
	var visit func(name string)
	// lookup reads name in subdirs[i], then visits the names its records
	// depend on.
	lookup := func(name string, i int) {
		sem <- struct{}{}
		recs, err := subdirs[i].src.records(ctx, name)
		<-sem
		if err == nil {
			recs, err = finish(recs, subdirs[i])
		}
		if err != nil {
			cancel(err)
			return
		}
		var next []string
		mu.Lock()
		found[name][i] = recs
		for _, r := range recs {
			for _, dep := range r.Depends {
				dn, ok := depNames[dep]
				if !ok {
					dn = depName(dep)
					depNames[dep] = dn
				}
				if _, seen := found[dn]; dn != "" && !seen && !slices.Contains(next, dn) {
					next = append(next, dn)
				}
			}
		}
		mu.Unlock()
		for _, dn := range next {
			visit(dn)
		}
	}
	visit = func(name string) {
		mu.Lock()
		_, seen := found[name]
		if !seen {
			found[name] = make([][]conda.PackageRecord, len(subdirs))
		}
		mu.Unlock()
		if seen || strings.HasPrefix(name, "__") || ctx.Err() != nil {
			return
		}
		pin, pinned := pins[name]
		for i, sd := range subdirs {
			if !pinned || allowed(sd, pin, specs, name) {
				wg.Go(func() { lookup(name, i) })
			}
		}
	}
	for _, name := range roots {
		visit(name)
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	ix := &Index{byName: make(map[string][]conda.PackageRecord, len(found))}
	for name, perSubdir := range found {
		if recs := slices.Concat(perSubdir...); len(recs) > 0 {
			ix.byName[name] = recs
		}
	}
	return ix, nil
}

// allowed reports whether name, pinned by a spec to a channel (and perhaps
// a subdir: `conda-forge/noarch::six`), may come from sd.
func allowed(sd *subdir, pin conda.Channel, specs []conda.MatchSpec, name string) bool {
	if pin.Name() != sd.channel.Name() {
		return false
	}
	for _, s := range specs {
		if s.Name.String() == name && s.Subdir != "" && s.Subdir != string(sd.platform) {
			return false
		}
	}
	return true
}

// depName returns the package name of a dependency such as
// "python >=3.12,<3.13.0a0"; "" when it has none worth following.
func depName(dep string) string {
	spec, err := conda.ParseMatchSpec(dep)
	if err != nil || !spec.Name.IsExact() {
		return ""
	}
	return spec.Name.String()
}

// finish sets FileName-derived URL and Channel on records of sd.
func finish(recs []conda.PackageRecord, sd *subdir) ([]conda.PackageRecord, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	base := sd.channel.RecordChannel(sd.platform) + "/"
	if b := sd.src.baseURL(); b != "" {
		var err error
		if base, err = resolve(base, b); err != nil {
			return nil, fmt.Errorf("base_url of %s: %w", sd.channel.RecordChannel(sd.platform), err)
		}
		if !strings.HasSuffix(base, "/") {
			base += "/"
		}
	}
	channel := sd.channel.RecordChannel(sd.platform)
	for i := range recs {
		recs[i].URL = base + recs[i].FileName
		recs[i].Channel = channel
	}
	return recs, nil
}

// forEach runs fn on every item at once, at most 16 at a time, and returns
// the first error, cancelling the others.
func forEach[T any](ctx context.Context, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			if err := fn(ctx, it); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// open makes one subdir's index available: its CEP-16 shard index when the
// channel has one, else its repodata.json, fetched or revalidated as needed.
func (g *Gateway) open(ctx context.Context, ch conda.Channel, p conda.Platform) (source, error) {
	subdirURL := ch.SubdirURL(p)
	shown := redact.URL(subdirURL)
	if !g.opts.DisableShards {
		src, err := g.openShards(ctx, subdirURL)
		if err == nil {
			return src, nil
		}
		// Without (reachable) shards, repodata.json decides.
		if !errors.Is(err, ErrNotFound) && !hasStatus(err, http.StatusForbidden) && !errors.Is(err, ErrOffline) {
			return nil, fmt.Errorf("load %s%s: %w", shown, shardIndexFile, err)
		}
	}
	src, err := g.openJSON(ctx, subdirURL)
	switch {
	case (errors.Is(err, ErrNotFound) || hasStatus(err, http.StatusForbidden)) && p != conda.PlatformNoArch:
		// As conda: a platform subdir answering 404 or 403 is empty; only
		// noarch must exist.
		g.log.Info("channel has no such subdir; using no packages from it", "channel", ch.String(), "subdir", p, "error", redact.Text(err.Error()))
		return emptySource{}, nil
	case errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("channel %s has no subdir %s (%s%s): %w", ch.String(), p, shown, repodataFile, err)
	case err != nil:
		return nil, fmt.Errorf("load %s%s: %w", shown, repodataFile, err)
	}
	return src, nil
}

// openJSON refreshes the cached repodata.json and indexes it by name: while
// downloading when it changed, else by reading the cached copy.
func (g *Gateway) openJSON(ctx context.Context, subdirURL string) (source, error) {
	e := g.entry(subdirURL, repodataFile)
	lock, err := lockEntry(ctx, e, g.opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	var ix *nameIndex
	err = g.refresh(ctx, e, true, func(r io.Reader) error {
		ix, err = scanIndex(r)
		return err
	})
	var f *os.File
	if err == nil {
		// Opened under the lock: this is the file the state describes, and
		// it stays readable when another process later replaces the name.
		f, err = os.Open(e.data)
	}
	lock.Unlock()
	if err != nil {
		return nil, err
	}
	if ix, err = g.nameIndex(e, f, ix); err != nil {
		f.Close()
		return nil, err
	}
	return &jsonSource{url: redact.URL(e.url), file: f, ix: ix}, nil
}

// nameIndex returns the name index of the cached repodata.json open as f:
// scanned (the one given, from the download), saved beside it, or scanned
// now. A freshly scanned index is saved for the next load.
func (g *Gateway) nameIndex(e *entry, f *os.File, scanned *nameIndex) (*nameIndex, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size, mtime := fi.Size(), fi.ModTime().UnixNano()
	ix := scanned
	if ix == nil {
		if ix, err = readNameIndex(e.names, size, mtime); err == nil {
			return ix, nil
		}
		g.log.Debug("scanning cached repodata", "file", e.data, "reason", err)
		if ix, err = scanIndex(f); err != nil {
			return nil, fmt.Errorf("cached copy %s: %w", e.data, err)
		}
	}
	if err := writeNameIndex(e.names, size, mtime, ix); err != nil {
		// Only a cost: the next load scans again.
		g.log.Debug("cannot save name index", "file", e.names, "error", err)
	}
	return ix, nil
}

// openShards refreshes the cached shard index.
func (g *Gateway) openShards(ctx context.Context, subdirURL string) (source, error) {
	e := g.entry(subdirURL, shardIndexFile)
	lock, err := lockEntry(ctx, e, g.opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	var idx *shardIndex
	err = g.refresh(ctx, e, false, func(r io.Reader) error {
		idx, err = decodeShardIndex(r)
		return err
	})
	if err == nil && idx == nil {
		var f *os.File
		if f, err = os.Open(e.data); err == nil {
			idx, err = decodeShardIndex(f)
			f.Close()
		}
	}
	lock.Unlock()
	if err != nil {
		return nil, err
	}
	shardsBase := idx.Info.ShardsBaseURL
	if shardsBase == "" {
		shardsBase = "./shards/"
	}
	shardsURL, err := resolve(subdirURL, shardsBase)
	if err != nil {
		return nil, fmt.Errorf("shards_base_url: %w", err)
	}
	return &shardSource{g: g, url: redact.URL(e.url), index: idx, shardsURL: shardsURL}, nil
}
