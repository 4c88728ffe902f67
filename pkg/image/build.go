package image

import (
	"archive/tar"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/install"
)

// Result is a built image and what went into it.
type Result struct {
	Image v1.Image
	// Layers are the layers Build added, in image order (the metadata
	// layer last).
	Layers []LayerReport
	// Packages are the environment's packages, biggest first.
	Packages []PackageReport
	// Records are the packages' repodata records, in the order given.
	Records []conda.PackageRecord
	// Warnings are what the image lacks of an installed environment:
	// activation lines that could not be baked, post-link scripts not run,
	// .pyc files not compiled, a scratch base without the C library the
	// packages link against.
	Warnings []string
	// Created is the image's creation time (see Options.Epoch).
	Created time.Time
}

// LayerReport describes one added layer.
type LayerReport struct {
	Digest string `json:"digest"`
	// Size is the compressed size.
	Size int64 `json:"size"`
	// Packages are the dists the layer holds; empty for the metadata layer.
	Packages []string `json:"packages"`
	// Reused is true for a layer the registry had (Options.Reuse): it was
	// not compressed or uploaded.
	Reused bool `json:"reused,omitempty"`
}

// PackageReport is the size one package adds to the image.
type PackageReport struct {
	Dist string `json:"dist"`
	// Size is the uncompressed size of its files in the image (after
	// pruning and clobbers).
	Size int64 `json:"size"`
}

// packageFiles is one package's part of the image.
type packageFiles struct {
	dist    string
	record  *install.PrefixRecord
	entries []entry
	// size is the bytes of the package's own files; the layer plan uses it.
	// pycSize is that of the .pyc files compiled for the image, which
	// must not change the plan: they come from the cache or not.
	size, pycSize int64
	// pycReady, when not nil, is closed once startPyc has added the
	// package's .pyc files: entries, record and pycSize are final then.
	pycReady <-chan struct{}
	// src, when not nil, reads the content of entries listed from the
	// listing cache without it (source.go).
	src *packageSource
}

// load gives pf's entries their content if they were listed without it.
func (pf *packageFiles) load(ctx context.Context) error {
	if pf.src == nil {
		return nil
	}
	return pf.src.load(ctx, pf)
}

// release lets go of the content of an archive-only package once its layer
// is written; a package read from its folder holds none.
func (pf *packageFiles) release() {
	if pf.src != nil {
		pf.src.release(pf)
	}
}

// Build adds the environment of pkgs (package cache folders, or archives
// only: see source.go; in install order, dependencies first) to base as new
// layers and returns the image.
// Use empty.Image as base for scratch. Layer files are written to
// opts.WorkDir and read again when the image is written.
func Build(ctx context.Context, base v1.Image, pkgs []*install.Package, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	if err := checkPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if err := CheckCompressionLevel(opts.Compression, opts.CompressionLevel); err != nil {
		return nil, err
	}
	readBase := startReadBase(base, opts.LayerCache)
	defer readBase() // a failed build returns only once the read stops writing to the cache
	files, act, err := collect(ctx, pkgs, opts)
	if err != nil {
		return nil, err
	}
	pycDone := func() ([]string, error) { return nil, nil }
	if opts.CompilePyc {
		pycDone = startPyc(ctx, pkgs, files, opts)
	}
	env, warnings, err := activationEnv(act, opts.Prefix)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	maps.Copy(env, opts.Variables)
	layers, reports, err := writePackageLayers(ctx, files, opts)
	pycWarnings, pycErr := pycDone()
	if pycErr != nil {
		return nil, fmt.Errorf("build image: %w", pycErr)
	}
	if err != nil {
		return nil, err
	}
	baseFS, err := readBase()
	if err != nil {
		return nil, err
	}
	created := packagesTime(opts, files)
	metaLayer, metaReport, err := writeMetaLayer(ctx, []prefixFiles{{opts.Prefix, files, opts.Variables}}, extraEntries(opts.Extra), baseFS, opts, created)
	if err != nil {
		return nil, err
	}
	layers, reports = append(layers, metaLayer), append(reports, metaReport)

	img, err := assemble(base, layers, reports, env, opts, created)
	if err != nil {
		return nil, err
	}
	res := &Result{Image: img, Layers: reports, Warnings: slices.Concat(warnings, pycWarnings, linkScriptWarnings(files, opts.Prefix)), Created: created}
	if w, err := libcWarning(base, pkgs); err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	} else if w != "" {
		res.Warnings = append(res.Warnings, w)
	}
	for _, p := range pkgs {
		res.Records = append(res.Records, p.Record)
	}
	for _, f := range files {
		res.Packages = append(res.Packages, PackageReport{Dist: f.dist, Size: f.size + f.pycSize})
	}
	sort.SliceStable(res.Packages, func(i, j int) bool { return res.Packages[i].Size > res.Packages[j].Size })
	return res, nil
}

// linkScriptWarnings tells of the packages with a post-link script: an
// install runs it after linking, a build cannot (nothing of the image runs
// at build time), so what it would do is missing from the image.
func linkScriptWarnings(files []*packageFiles, prefix string) []string {
	root := strings.TrimPrefix(prefix, "/")
	var out []string
	for _, pf := range files {
		script := root + "/" + install.LinkScript(pf.record.Name, "post-link")
		if slices.ContainsFunc(pf.entries, func(e entry) bool { return e.Name == script }) {
			out = append(out, fmt.Sprintf("%s has a post-link script (%s), which builds do not run: what it does at install time is missing from the image", pf.dist, script))
		}
	}
	return out
}

// checkPrefix refuses a prefix that is not a clean absolute path below /.
func checkPrefix(prefix string) error {
	if !path.IsAbs(prefix) || path.Clean(prefix) != prefix || prefix == "/" {
		return fmt.Errorf("build image: prefix %q is not a clean absolute path below /", prefix)
	}
	return nil
}

// collect lists each package's entries at the prefix, pruned, with clobbered
// paths left to the package linked last (as linking in order would), and
// the activation files of the environment.
func collect(ctx context.Context, pkgs []*install.Package, opts Options) ([]*packageFiles, []activationFile, error) {
	var python *conda.PackageRecord
	for _, p := range pkgs {
		if p.Record.Name == "python" {
			python = &p.Record
		}
	}
	// Reading the packages (paths.json, a stat per file, prefix
	// replacement) is independent per package: on all cores.
	files := make([][]install.ImageFile, len(pkgs))
	recs := make([]*install.PrefixRecord, len(pkgs))
	srcs := make([]*packageSource, len(pkgs))
	var held atomic.Int64 // bytes of archives kept in memory
	g := new(errgroup.Group)
	// More than the cores: a package the cache has not downloaded yet is
	// downloaded here (install.Package.Ready), which waits on the network.
	g.SetLimit(max(runtime.NumCPU(), 6))
	// The biggest first: python's archive must not start decoding last.
	order := make([]int, len(pkgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(pkgs[b].Record.Size, pkgs[a].Record.Size) })
	for _, i := range order {
		p := pkgs[i]
		g.Go(func() (err error) {
			files[i], recs[i], srcs[i], err = listPackage(ctx, p, python, opts, &held)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, fmt.Errorf("build image: %w", err)
	}
	root := strings.TrimPrefix(opts.Prefix, "/")
	owner := map[string]int{} // prefix-relative path → index of the last package writing it
	all := make([]*packageFiles, len(pkgs))
	act := map[string][]byte{} // by path: a clobbering package's file replaces the earlier one
	for i, p := range pkgs {
		imgFiles, rec := files[i], recs[i]
		pf := &packageFiles{dist: p.Record.Dist(), record: rec, src: srcs[i]}
		for _, f := range imgFiles {
			if opts.Prune.drops(f.Path) {
				continue
			}
			if f.Type != conda.PathDirectory {
				owner[f.Path] = i
			}
			if isActivationFile(f.Path) && f.Type != conda.PathSoftlink && f.Type != conda.PathDirectory {
				data, err := readImageFile(f)
				if err != nil {
					return nil, nil, fmt.Errorf("build image: package %s: %w", pf.dist, err)
				}
				act[f.Path] = data
			}
			pf.entries = append(pf.entries, imageEntry(root, f))
		}
		all[i] = pf
	}
	for i, pf := range all {
		kept := pf.entries[:0]
		for _, e := range pf.entries {
			rel := strings.TrimPrefix(e.Name, root+"/")
			if e.Type == tar.TypeDir || owner[rel] == i {
				kept = append(kept, e)
				pf.size += e.Size
			}
		}
		pf.entries = kept
		pruneRecord(pf.record, func(rel string) bool {
			o, ok := owner[rel]
			return !opts.Prune.drops(rel) && (!ok || o == i)
		})
	}
	var actFiles []activationFile
	for _, p := range slices.Sorted(maps.Keys(act)) {
		actFiles = append(actFiles, activationFile{Path: p, Data: act[p]})
	}
	return all, actFiles, nil
}

// pruneRecord keeps in a conda-meta record only the paths the image has.
func pruneRecord(rec *install.PrefixRecord, keep func(rel string) bool) {
	rec.Files = slices.DeleteFunc(rec.Files, func(p string) bool { return !keep(p) })
	rec.PathsData.Paths = slices.DeleteFunc(rec.PathsData.Paths, func(p install.PrefixPath) bool { return !keep(p.Path) })
}

// imageEntry turns a file of pkg/install into a layer entry under root.
func imageEntry(root string, f install.ImageFile) entry {
	e := entry{Name: root + "/" + f.Path, Mode: int64(f.Mode), Source: f.Source, Data: f.Data, Size: f.Size, SHA256: f.SHA256,
		ModTime: f.ModTime.Truncate(time.Second)}
	switch f.Type {
	case conda.PathDirectory:
		e.Type, e.Mode, e.Size = tar.TypeDir, 0, 0
	case conda.PathSoftlink:
		e.Type, e.Linkname, e.Size = tar.TypeSymlink, f.Linkname, 0
	default:
		e.Type = tar.TypeReg
	}
	return e
}

// readImageFile returns a regular image file's content.
func readImageFile(f install.ImageFile) ([]byte, error) {
	if f.Source == "" {
		return f.Data, nil
	}
	fh, err := os.Open(f.Source)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	const limit = 1 << 20 // activation files are small; a huge one is an error, not truncated
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err == nil && len(data) > limit {
		err = fmt.Errorf("%s is larger than %d bytes", f.Path, limit)
	}
	return data, err
}

// writePackageLayers writes the package layers as planned by planLayers,
// one per CPU at a time (compression is the cost).
func writePackageLayers(ctx context.Context, files []*packageFiles, opts Options) ([]*fileLayer, []LayerReport, error) {
	plan := make([]planned, len(files))
	for i, f := range files {
		plan[i] = planned{dist: f.dist, name: f.record.Name, size: f.size}
	}
	groups := planLayers(plan, opts.MaxLayers, opts.smallPackage)
	layers := make([]*fileLayer, len(groups))
	reports := make([]LayerReport, len(groups))
	// The biggest groups start first, so that the longest compression does
	// not start last with the other CPUs idle; groups waiting for .pyc
	// compilation go after the others, which are written meanwhile.
	groupSize := make([]int64, len(groups))
	for gi, group := range groups {
		for _, i := range group {
			groupSize[gi] += files[i].size
		}
	}
	var order, later []int
	for gi, group := range groups {
		if slices.ContainsFunc(group, func(i int) bool { return files[i].pycReady != nil }) {
			later = append(later, gi)
		} else {
			order = append(order, gi)
		}
	}
	bySize := func(a, b int) int { return cmp.Compare(groupSize[b], groupSize[a]) }
	slices.SortStableFunc(order, bySize)
	slices.SortStableFunc(later, bySize)
	order = append(order, later...)
	var progressMu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.NumCPU())
	for _, gi := range order {
		group := groups[gi]
		g.Go(func() error {
			for _, i := range group {
				if files[i].pycReady == nil {
					continue
				}
				select {
				case <-files[i].pycReady:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			var dists []string
			var members []*packageFiles
			slices.Sort(group)
			for _, i := range group {
				dists = append(dists, files[i].dist)
				members = append(members, files[i])
			}
			// Entries of a group are added in install order so that
			// sortEntries keeps the file of the package linked last.
			entries := func() []entry {
				var es []entry
				for _, pf := range members {
					es = append(es, pf.entries...)
				}
				return sortEntries(es)
			}
			sort.Strings(dists)
			if opts.LayerStarted != nil {
				progressMu.Lock()
				opts.LayerStarted(dists, len(groups))
				progressMu.Unlock()
			}
			// Not cached: the members listed without content read it.
			load := func() ([]entry, error) {
				for _, pf := range members {
					if err := pf.load(ctx); err != nil {
						return nil, err
					}
				}
				return entries(), nil
			}
			l, err := cachedWriteLayer(ctx, opts.LayerCache, opts.WorkDir, entries(), packagesTime(opts, members), opts.codec(), load, opts.Reuse)
			if err != nil {
				return fmt.Errorf("build image: layer of %s: %w", strings.Join(dists, ", "), err)
			}
			opts.written(l)
			for _, pf := range members {
				pf.release()
			}
			layers[gi] = l
			reports[gi] = LayerReport{Digest: l.digest.String(), Size: l.size, Packages: dists, Reused: l.reused}
			if opts.Progress != nil {
				progressMu.Lock()
				defer progressMu.Unlock()
				opts.Progress(reports[gi])
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return layers, reports, nil
}

// prefixFiles are the packages and variables of the environment at prefix.
type prefixFiles struct {
	prefix string
	files  []*packageFiles
	vars   map[string]string
}

// writeMetaLayer writes the last layer: the conda-meta of each environment,
// users, home and extra.
func writeMetaLayer(ctx context.Context, envs []prefixFiles, extra []entry, base *baseFiles, opts Options, created time.Time) (*fileLayer, LayerReport, error) {
	entries := append(userEntries(base, opts.User), extra...)
	if !opts.Prune.keepsCondaMeta() {
		envs = nil // aggressive pruning leaves conda-meta out
	}
	for _, env := range envs {
		recs := make([]*install.PrefixRecord, len(env.files))
		for i, f := range env.files {
			recs[i] = f.record
		}
		meta, err := condaMetaEntries(env.prefix, recs, env.vars)
		if err != nil {
			return nil, LayerReport{}, fmt.Errorf("build image: %w", err)
		}
		entries = append(entries, meta...)
	}
	for i := range entries {
		if e := &entries[i]; e.Type == tar.TypeReg && e.SHA256 == "" {
			e.SHA256 = sha256Hex(e.Data) // the layer cache keys on content hashes
		}
	}
	l, err := cachedWriteLayer(ctx, opts.LayerCache, opts.WorkDir, sortEntries(entries), created, opts.codec(), nil, opts.Reuse)
	if err != nil {
		return nil, LayerReport{}, fmt.Errorf("build image: metadata layer: %w", err)
	}
	opts.written(l)
	return l, LayerReport{Digest: l.digest.String(), Size: l.size, Packages: []string{}, Reused: l.reused}, nil
}

// packagesTime is the mtime of a layer holding pkgs (see Options.Epoch).
func packagesTime(opts Options, pkgs []*packageFiles) time.Time {
	if !opts.Epoch.IsZero() {
		return opts.Epoch.UTC()
	}
	t := time.Unix(0, 0).UTC()
	for _, p := range pkgs {
		if pt := p.record.Time(); pt.After(t) {
			t = pt.UTC()
		}
	}
	return t
}

// defaultPath is PATH when the base sets none (Debian's default).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// assemble appends the layers to base and writes the config: the baked
// activation, user, working directory, entrypoint, labels; and the manifest
// annotations.
func assemble(base v1.Image, layers []*fileLayer, reports []LayerReport, activation map[string]string, opts Options, t time.Time) (v1.Image, error) {
	created := v1.Time{Time: t}
	base, layerType, err := manifestKind(base, opts.Compression)
	if err != nil {
		return nil, err
	}
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		l.mediaType = layerType
		layer, err := l.layer()
		if err != nil {
			return nil, err
		}
		what := "conda-meta, users"
		if len(reports[i].Packages) > 0 {
			what = strings.Join(reports[i].Packages, " ")
		}
		// The comment names the layer's bytes, for Options.Reuse.
		adds[i] = mutate.Addendum{Layer: layer, History: v1.History{Created: created, CreatedBy: "condabox build: " + what, Comment: l.id}}
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, fmt.Errorf("build image: append layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("build image: read base config: %w", err)
	}
	cf = cf.DeepCopy()
	if cf.OS == "" { // scratch
		cf.OS, cf.Architecture, cf.Variant = opts.Platform.OS, opts.Platform.Architecture, opts.Platform.Variant
	}
	cf.Created = created
	cf.Config.Env = imageEnv(cf.Config.Env, activation, opts)
	cf.Config.User = opts.User.Name
	cf.Config.WorkingDir = opts.WorkingDir
	if opts.Entrypoint != nil {
		cf.Config.Entrypoint = opts.Entrypoint
		cf.Config.Cmd = nil // as docker does: a new entrypoint resets the base's cmd
	}
	if opts.Cmd != nil {
		cf.Config.Cmd = opts.Cmd
	}
	if len(opts.Labels) > 0 {
		if cf.Config.Labels == nil {
			cf.Config.Labels = map[string]string{}
		}
		maps.Copy(cf.Config.Labels, opts.Labels)
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("build image: write config: %w", err)
	}
	return annotate(img, base, opts, t)
}

// manifestKind returns the base to build on and the media type of the
// layers to add: scratch becomes an OCI image, a base keeps its manifest
// format (Docker or OCI) and the layers follow it — but zstd layers exist
// in OCI manifests only, so for them a Docker base is rewritten as OCI.
func manifestKind(base v1.Image, c Compression) (v1.Image, types.MediaType, error) {
	layers, err := base.Layers()
	if err != nil {
		return nil, "", fmt.Errorf("build image: base layers: %w", err)
	}
	layerType := c.ociMediaType()
	if len(layers) == 0 {
		base = mutate.ConfigMediaType(mutate.MediaType(base, types.OCIManifestSchema1), types.OCIConfigJSON)
		return base, layerType, nil
	}
	mt, err := base.MediaType()
	if err != nil {
		return nil, "", fmt.Errorf("build image: base manifest: %w", err)
	}
	switch {
	case mt != types.DockerManifestSchema2:
		return base, layerType, nil
	case c == Zstd:
		base, err = dockerToOCI(base, layers)
		return base, layerType, err
	}
	return base, types.DockerLayer, nil
}

// ociLayerTypes are the OCI media types of Docker's layer media types: the
// same blobs, described for an OCI manifest.
var ociLayerTypes = map[types.MediaType]types.MediaType{
	types.DockerLayer:             types.OCILayer,
	types.DockerForeignLayer:      types.OCIRestrictedLayer,
	types.DockerUncompressedLayer: types.OCIUncompressedLayer,
}

// dockerToOCI describes a Docker-format image as an OCI one: the same
// layer blobs and config content under OCI media types.
func dockerToOCI(img v1.Image, layers []v1.Layer) (v1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("build image: read base config: %w", err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("build image: base manifest: %w", err)
	}
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		mt := m.Layers[i].MediaType
		oci, ok := ociLayerTypes[mt]
		if !ok {
			return nil, fmt.Errorf("build image: base layer of media type %s has no OCI equivalent for zstd layers", mt)
		}
		adds[i] = mutate.Addendum{Layer: l, MediaType: oci}
	}
	oci := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if oci, err = mutate.Append(oci, adds...); err != nil {
		return nil, fmt.Errorf("build image: base layers: %w", err)
	}
	// The base's own config: its history and diff IDs describe these layers.
	return mutate.ConfigFile(oci, cf)
}

// imageEnv returns the config's environment: the base's, then the
// activation (PATH first to the prefix's bin), then opts.Env, each later
// value replacing an earlier one of the same name; sorted for a stable
// config. A nil activation leaves it to the entrypoint (images of several
// environments). HOME is left to the engine, which takes it from /etc/passwd for
// the image's user and falls back to / for an unknown --user uid.
func imageEnv(baseEnv []string, activation map[string]string, opts Options) []string {
	env := map[string]string{}
	for _, kv := range baseEnv {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	basePath := env["PATH"]
	if basePath == "" {
		basePath = defaultPath
	}
	path := basePath
	if activation != nil {
		maps.Copy(env, activation)
		path = opts.Prefix + "/bin:" + basePath
		maps.Copy(env, map[string]string{
			"CONDA_PREFIX":      opts.Prefix,
			"CONDA_DEFAULT_ENV": opts.EnvName,
			"CONDA_SHLVL":       "1",
		})
	}
	maps.Copy(env, map[string]string{
		"PATH":              path,
		"MAMBA_ROOT_PREFIX": opts.Prefix,
		"LANG":              "C.UTF-8",
		"LC_ALL":            "C.UTF-8",
	})
	for _, kv := range opts.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// annotate fills the manifest's org.opencontainers.image annotations.
func annotate(img, base v1.Image, opts Options, created time.Time) (v1.Image, error) {
	ann := map[string]string{
		"org.opencontainers.image.created": created.Format(time.RFC3339),
		"org.opencontainers.image.vendor":  "condabox",
	}
	if layers, err := base.Layers(); err == nil && len(layers) > 0 {
		d, err := base.Digest()
		if err != nil {
			return nil, fmt.Errorf("build image: base digest: %w", err)
		}
		ann["org.opencontainers.image.base.digest"] = d.String()
	}
	maps.Copy(ann, opts.Annotations)
	out, ok := mutate.Annotations(img, ann).(v1.Image)
	if !ok {
		return nil, fmt.Errorf("build image: annotations dropped the image") // mutate returns an Image for an Image
	}
	return out, nil
}
