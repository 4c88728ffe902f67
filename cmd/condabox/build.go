package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/condabox/condabox/pkg/atomicfile"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/env"
	"github.com/condabox/condabox/pkg/image"
	"github.com/condabox/condabox/pkg/image/sbom"
	"github.com/condabox/condabox/pkg/install"
	"github.com/condabox/condabox/pkg/redact"
	"github.com/condabox/condabox/pkg/solve"
)

// buildFlags are the flags of `condabox build` beside image.Options.
type buildFlags struct {
	files, channels           []string
	overrideChannels, offline bool
	excludeNewer              time.Time
	base, tag, output         string
	push, json, reuse         bool
	platform, prune, user     string
	compression               string
	entrypoint, cmd           string
	labels                    []string
	// envNames name the environments of several -f files (see parseEnvs);
	// shims are their entrypoint's condabox binary for each platform,
	// from --shim PLATFORM=FILE (shimFlags) or this condabox.
	envNames, shimFlags, shims []string
	opts                       image.Options
	// platforms are --platform's, with their conda subdirs.
	platforms []v1.Platform
	subdirs   []conda.Platform
}

func newBuildCmd() *cobra.Command {
	var b buildFlags
	cmd := &cobra.Command{
		Use:   "build -f FILE --tag REF (--push | --output oci:DIR | --output docker-archive:FILE)",
		Short: "Build an OCI image from an environment file or lockfile, without Docker",
		Long: `build solves the environment (or takes a lock or @EXPLICIT file as is), fetches
its packages into the package cache and writes them as image layers at
--prefix on top of --base: the biggest packages in a layer each, the rest
together, conda-meta and the user in a last small layer. The same inputs give
the same image digest (file times come from SOURCE_DATE_EPOCH, else from the
packages' timestamps, layer by layer). Layers are cached in the user cache directory
(condabox/image-layers), so a rebuild compresses only what changed.

The activation is baked into the image config (PATH, CONDA_PREFIX,
CONDA_DEFAULT_ENV, LANG, LC_ALL, etc/conda/env_vars.d, the environment
file's variables: (also written to conda-meta/state) and literal
"export KEY=VALUE" lines of etc/conda/activate.d scripts), so commands run in
the environment without a shell; other activate.d lines need a shell and are
reported as warnings. An SPDX SBOM is written beside a file output
(FILE.spdx.json) or pushed as an OCI referrer of each image.

An environment file's pip: section is installed by the environment's own
pip, run in a temporary copy of the environment on this machine (so only
for platforms this machine runs); what pip added goes into the image's last
layer, with that copy's path replaced by the image's prefix, and its .pyc
compiled as --compile-pyc says.

Several -f environment files, each with a name:, make an image of several
environments in micromamba's layout: the one named base (else the first) at
--prefix, the others at --prefix/envs/NAME. Its entrypoint is condabox itself
(copied from this binary, which must be static: CGO_ENABLED=0): it activates
the environment ENV_NAME names (default: that first one) unless
MAMBA_SKIP_ACTIVATE=1, then execs the command. The config activates none, so
"podman exec" needs it too: podman exec CTR condabox entrypoint CMD.

Progress goes to stderr: on a terminal, the layers being written and a
count, redrawn in place; otherwise (CI, a pipe) one line per finished layer.

conda packages link against the system's glibc: an environment whose packages
depend on __glibc needs a --base that has it (distroless/cc, debian slim);
onto scratch, build warns. scratch suits static programs.

--prune safe drops static libraries, docs, man and info pages; aggressive
also drops headers, __pycache__, pip, ensurepip, idlelib, tests and
conda-meta (the image is then no longer an environment conda can update).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBuild(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &b)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&b.files, "file", "f", nil, "environment.yml, conda-lock.yml or @EXPLICIT file")
	f.StringArrayVarP(&b.channels, "channel", "c", nil, "channel to use, highest priority first (repeatable)")
	f.BoolVar(&b.overrideChannels, "override-channels", false, "use only the -c and file channels, not .condarc's")
	f.BoolVar(&b.offline, "offline", false, "use cached channel indexes only")
	addExcludeNewer(f, &b.excludeNewer)
	f.StringVar(&b.base, "base", image.Scratch, "base image: scratch, a registry reference, oci:DIR or docker-archive:FILE")
	f.StringVarP(&b.tag, "tag", "t", "", "image reference, e.g. registry.example/app:1.0 (required)")
	f.BoolVar(&b.push, "push", false, "push the image and its SBOM to the --tag registry")
	f.BoolVar(&b.reuse, "reuse-pushed-layers", true, "with --push, take the layers the tag's image already has instead of writing them again (a rebuild with empty caches, e.g. on a CI runner)")
	f.StringVarP(&b.output, "output", "o", "", "write the image to oci:DIR or docker-archive:FILE")
	f.StringVar(&b.platform, "platform", "linux/amd64", "target platforms, comma-separated: one image each, in an index when several")
	f.StringVar(&b.prune, "prune", "none", "leave files out: none, safe or aggressive (docs/build.md)")
	f.StringVar(&b.compression, "compression", "gzip", "layer compression: gzip (any engine) or zstd (faster and smaller; Docker 23+, containerd 1.5+, podman)")
	f.IntVar(&b.opts.CompressionLevel, "compression-level", 0, "compression level, as podman push takes it: gzip 1 (fastest) to 9 (smallest), zstd 1 to 22 (default: podman's, gzip 5, zstd 3)")
	f.BoolVar(&b.opts.CompilePyc, "compile-pyc", true, "add .pyc files of noarch python packages (platforms this host runs only)")
	f.IntVar(&b.opts.MaxLayers, "max-layers", image.DefaultMaxLayers, "most package layers")
	f.StringVar(&b.opts.Prefix, "prefix", image.DefaultPrefix, "where the environment lives in the image")
	f.StringVar(&b.user, "user", "mambauser:57439:57439", "image user NAME:UID:GID")
	f.StringVar(&b.entrypoint, "entrypoint", "", "entrypoint, a JSON array or one command")
	f.StringVar(&b.cmd, "cmd", "", "command, a JSON array or one command")
	f.StringVar(&b.opts.WorkingDir, "workdir", "", "working directory (default: the user's home)")
	f.StringArrayVar(&b.opts.Env, "env", nil, "extra KEY=VALUE variable (repeatable)")
	f.StringArrayVar(&b.labels, "label", nil, "KEY=VALUE label (repeatable)")
	f.StringArrayVar(&b.shimFlags, "shim", nil, "PLATFORM=FILE: a static condabox built for PLATFORM, the entrypoint of an image of several environments (default: this condabox, for its own platform)")
	f.BoolVar(&b.json, "json", false, "print the result as JSON")
	return cmd
}

// buildResult is what --json prints.
type buildResult struct {
	Tag string `json:"tag"`
	// Digest is the image's, or the index's for several platforms.
	Digest string        `json:"digest"`
	Output string        `json:"output"`
	Images []imageResult `json:"images"`
}

// imageResult is one platform's image.
type imageResult struct {
	Platform string                `json:"platform"`
	Digest   string                `json:"digest"`
	Size     int64                 `json:"size"`
	SBOM     string                `json:"sbom"`
	Layers   []image.LayerReport   `json:"layers"`
	Packages []image.PackageReport `json:"packages"`
	Warnings []string              `json:"warnings"`
}

// platformBuild is the image built for one platform and its SBOM.
type platformBuild struct {
	res  *image.Result
	sbom []byte
}

// runBuild checks every input before it builds, and builds every platform
// before it writes or pushes anything, so that bad input leaves nothing
// behind.
func runBuild(ctx context.Context, stdout, stderr io.Writer, b *buildFlags) error {
	if err := b.parse(); err != nil {
		return err
	}
	ref, err := name.ParseReference(b.tag)
	if err != nil {
		return fmt.Errorf("--tag %q: %w", b.tag, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var up *image.Uploader
	// pushErr is why nothing can be pushed (wrong credentials, an
	// unreachable registry), which the Uploader finds while the build
	// starts: it stops the build and is the error reported.
	pushErr := func() error { return nil }
	if b.push {
		// Layers go up as they are written: their uploads overlap the
		// compression of the others.
		up = image.StartUpload(ctx, ref, authn.DefaultKeychain, image.PushOptions{Remote: pushRemote(), ReuseLayers: b.reuse})
		pushErr = func() error {
			if err := up.Err(); err != nil {
				return pushError(ref, err)
			}
			return nil
		}
		go func() {
			if up.Err() != nil {
				cancel()
			}
		}()
		b.opts.LayerWritten = up.Layer
		if b.reuse {
			b.opts.Reuse = up.Reusable
		}
	}
	b.opts.Annotations = map[string]string{
		"org.opencontainers.image.title":   ref.Context().RepositoryStr(),
		"org.opencontainers.image.version": ref.Identifier(),
	}
	if b.base != image.Scratch && !strings.HasPrefix(b.base, image.OCIPrefix) && !strings.HasPrefix(b.base, image.DockerArchivePrefix) {
		b.opts.Annotations["org.opencontainers.image.base.name"] = b.base // local paths would leak the build host's layout
	}
	work, err := os.MkdirTemp("", "condabox-build-")
	if err != nil {
		return cmp.Or(pushErr(), err)
	}
	defer os.RemoveAll(work)
	b.opts.WorkDir = work
	b.opts.LayerCache = layerCacheDir()
	var builds []platformBuild
	for i := range b.platforms {
		pb, err := b.buildPlatform(ctx, stderr, i)
		if err != nil {
			return cmp.Or(pushErr(), err)
		}
		builds = append(builds, pb)
	}
	if err := pushErr(); err != nil {
		return err
	}
	if up != nil { // the images' other blobs, while the last layers go up
		for _, pb := range builds {
			up.Image(pb.res.Image, pb.sbom)
		}
	}
	out, err := b.publish(ctx, stderr, ref, builds, up)
	if err != nil {
		return err
	}
	if b.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, img := range out.Images {
		for _, w := range img.Warnings {
			fmt.Fprintf(stderr, "warning: %s: %s\n", img.Platform, w)
		}
	}
	if !quiet {
		writeSizeReport(stdout, out)
	}
	return nil
}

// layerCacheDir is build's cache of layers, package listings and compiled
// .pyc files: $XDG_CACHE_HOME/condabox/image-layers; "" (no cache) when
// there is no cache folder.
func layerCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "condabox", "image-layers")
}

// pushRemote is how pushes reach registries: with the credentials of
// docker config.json and its helpers.
func pushRemote() []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
}

// pushError says why nothing can be pushed to ref: err, from the
// Uploader's check.
func pushError(ref name.Reference, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("push to %s: credentials (docker config.json or its credential helper) refused: %w", ref.Context(), err)
	}
	return fmt.Errorf("push to %s: %w", ref.Context(), err)
}

// buildPlatform solves, fetches and builds the image of platform i.
func (b *buildFlags) buildPlatform(ctx context.Context, stderr io.Writer, i int) (platformBuild, error) {
	// The base is read while the environment is solved and fetched. Its
	// error is the one reported, and stops the solve.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var base v1.Image
	var baseErr error
	baseRead := make(chan struct{})
	go func() {
		defer close(baseRead)
		if base, baseErr = image.LoadBase(ctx, b.base, b.platforms[i], remote.WithAuthFromKeychain(authn.DefaultKeychain)); baseErr != nil {
			cancel()
		}
	}()
	withBase := func(err error) error {
		<-baseRead
		if baseErr != nil {
			return baseErr
		}
		return err
	}
	opts := b.opts
	opts.Platform = b.platforms[i]
	if b.shims != nil {
		opts.Shim = b.shims[i]
	}
	opts.CompilePyc = opts.CompilePyc && image.HostRuns(opts.Platform) // the env's python compiles them
	progress := newLayerProgress(stderr, opts.Platform.String())
	defer progress.Close()
	progress.Hook(&opts)
	var err error
	if opts.Epoch, err = buildEpoch(lookupEnv); err != nil {
		return platformBuild{}, withBase(err)
	}
	var res *image.Result
	var pypi []sbom.PypiPackage
	if len(b.envNames) > 1 {
		var envs []image.Env
		envs, pypi, err = b.envs(ctx, stderr, opts.Prefix, i)
		if err = withBase(err); err != nil {
			return platformBuild{}, err
		}
		res, err = image.BuildEnvs(ctx, base, envs, opts)
	} else {
		var pkgs []*install.Package
		var built builtEnv
		pkgs, built, err = b.packages(ctx, stderr, opts.Prefix, b.files, i)
		opts.Variables, opts.Extra = built.vars, built.extra
		pypi = built.pypi
		if err = withBase(err); err != nil {
			return platformBuild{}, err
		}
		res, err = image.Build(ctx, base, pkgs, opts)
	}
	if err != nil {
		return platformBuild{}, err
	}
	doc, err := sbom.Generate(res.Records, sbom.Options{Name: b.tag, Created: res.Created, Tool: "condabox-" + version, Pypi: pypi})
	return platformBuild{res: res, sbom: doc}, err
}

// packages solves the environment of files at prefix for platform i and
// fetches its packages; it returns them and what else the environment
// adds to the image (its files' variables:, what their pip sections
// install).
func (b *buildFlags) packages(ctx context.Context, stderr io.Writer, prefix string, files []string, i int) ([]*install.Package, builtEnv, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, builtEnv{}, err
	}
	plan, err := env.PlanCreate(ctx, env.CreateRequest{Prefix: prefix, Files: files, Channels: b.channels,
		OverrideChannels: b.overrideChannels, Offline: b.offline, Platform: b.subdirs[i].String(),
		LookupEnv: lookupEnv, WorkDir: wd, ExcludeNewer: b.excludeNewer, Log: logger})
	var unsat *solve.UnsatisfiableError
	if errors.As(err, &unsat) {
		fmt.Fprintln(stderr, redact.Text(unsat.Error()))
		return nil, builtEnv{}, exitError{code: 1}
	}
	if err != nil {
		return nil, builtEnv{}, err
	}
	if len(plan.Pip) > 0 && !image.HostRuns(b.platforms[i]) {
		// pip runs the environment's python, which this machine cannot.
		sec := plan.Pip[0]
		return nil, builtEnv{}, fmt.Errorf("%s: its pip packages (%s) cannot be built into a %s image here: pip runs the environment's python, which this machine cannot run; build on a %s machine, or use their conda packages", sec.File, strings.Join(sec.Requirements, ", "), b.platforms[i], b.platforms[i])
	}
	pipFiles, pypi, err := plan.PipFiles(ctx, prefix, b.opts.CompilePyc, env.Progress{})
	if err != nil {
		return nil, builtEnv{}, err
	}
	pkgs, err := plan.Fetch(ctx, env.Progress{})
	built := builtEnv{vars: plan.Variables, extra: pipExtra(pipFiles)}
	for _, p := range pypi {
		built.pypi = append(built.pypi, sbom.PypiPackage{Name: p.Name, Version: p.Version})
	}
	return pkgs, built, err
}

// builtEnv is what an environment adds to its image beside its packages:
// the files' variables:, the files their pip sections installed and those
// packages (for the SBOM).
type builtEnv struct {
	vars  map[string]string
	extra []image.ExtraFile
	pypi  []sbom.PypiPackage
}

// pipExtra turns the files pip installed into the image's extra files.
func pipExtra(files []env.PipFile) []image.ExtraFile {
	out := make([]image.ExtraFile, len(files))
	for i, f := range files {
		out[i] = image.ExtraFile{Path: f.Path, Mode: f.Mode, Data: f.Data, Linkname: f.Linkname}
	}
	return out
}

// parse checks the flags and fills opts.
func (b *buildFlags) parse() error {
	switch {
	case len(b.files) == 0:
		return errors.New("build needs -f FILE")
	case b.tag == "":
		return errors.New("build needs --tag REF")
	case b.push == (b.output != ""):
		return errors.New("build needs either --push or --output oci:DIR|docker-archive:FILE")
	case b.output != "" && !strings.HasPrefix(b.output, image.OCIPrefix) && !strings.HasPrefix(b.output, image.DockerArchivePrefix):
		return fmt.Errorf("--output %q: want oci:DIR or docker-archive:FILE", b.output)
	}
	if err := b.parsePlatforms(); err != nil {
		return err
	}
	if err := b.parseEnvs(); err != nil {
		return err
	}
	var err error
	if b.opts.Prune, err = image.ParsePrune(b.prune); err != nil {
		return fmt.Errorf("--prune: %w", err)
	}
	if b.opts.Compression, err = image.ParseCompression(b.compression); err != nil {
		return fmt.Errorf("--compression: %w", err)
	}
	if err := image.CheckCompressionLevel(b.opts.Compression, b.opts.CompressionLevel); err != nil {
		return fmt.Errorf("--compression-level: %w", err)
	}
	if b.opts.User, err = image.ParseUser(b.user); err != nil {
		return fmt.Errorf("--user: %w", err)
	}
	if b.opts.Entrypoint, err = parseCommand("--entrypoint", b.entrypoint); err != nil {
		return err
	}
	if b.opts.Cmd, err = parseCommand("--cmd", b.cmd); err != nil {
		return err
	}
	for _, kv := range b.opts.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("--env %q: want KEY=VALUE", kv)
		}
	}
	for _, kv := range b.labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--label %q: want KEY=VALUE", kv)
		}
		if b.opts.Labels == nil {
			b.opts.Labels = map[string]string{}
		}
		b.opts.Labels[k] = v
	}
	return nil
}

// parsePlatforms reads --platform: image platforms and their conda subdirs.
func (b *buildFlags) parsePlatforms() error {
	seen := map[conda.Platform]bool{}
	for _, s := range strings.Split(b.platform, ",") {
		s = strings.TrimSpace(s)
		subdir, err := conda.ParseOCIPlatform(s)
		if err != nil {
			return fmt.Errorf("--platform: %w", err)
		}
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return fmt.Errorf("--platform %q: %w", s, err)
		}
		if seen[subdir] {
			return fmt.Errorf("--platform %q: %s given twice", b.platform, s)
		}
		seen[subdir] = true
		b.platforms, b.subdirs = append(b.platforms, *p), append(b.subdirs, subdir)
	}
	if len(b.platforms) > 1 && strings.HasPrefix(b.output, image.DockerArchivePrefix) {
		return fmt.Errorf("--platform %q: a docker archive holds one platform; use --output oci:DIR or --push", b.platform)
	}
	return nil
}

// parseCommand reads --entrypoint or --cmd: a JSON array of strings, or one
// word. "" means not set.
func parseCommand(flag, s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if !strings.HasPrefix(strings.TrimSpace(s), "[") {
		return []string{s}, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("%s %q: want a JSON array of strings: %w", flag, s, err)
	}
	return out, nil
}

// buildEpoch reads SOURCE_DATE_EPOCH: the time of every file when set;
// else zero, and files take their packages' timestamps (image.Options.Epoch).
func buildEpoch(lookup func(string) (string, bool)) (time.Time, error) {
	s, ok := lookup("SOURCE_DATE_EPOCH")
	if !ok || s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// publish writes or pushes the image (an index of them for several
// platforms) and the SBOMs, and describes the result.
func (b *buildFlags) publish(ctx context.Context, stderr io.Writer, ref name.Reference, builds []platformBuild, up *image.Uploader) (*buildResult, error) {
	out := &buildResult{Tag: b.tag, Output: b.output}
	imgs := make([]v1.Image, len(builds))
	docs := make([][]byte, len(builds))
	for i, pb := range builds {
		imgs[i], docs[i] = pb.res.Image, pb.sbom
		r, err := describe(pb.res, b.platforms[i])
		if err != nil {
			return nil, err
		}
		out.Images = append(out.Images, r)
	}
	var idx v1.ImageIndex
	digest, err := imgs[0].Digest()
	if len(imgs) > 1 {
		idx = image.NewIndex(imgs, b.platforms)
		digest, err = idx.Digest()
	}
	if err != nil {
		return nil, err
	}
	out.Digest = digest.String()
	if b.push {
		out.Output = ref.String()
		progress := newPushProgress(stderr, ref.Context().String())
		po := image.PushOptions{Remote: pushRemote(), Progress: progress.Blob}
		po.Uploader = up
		sbomDigests := make([]v1.Hash, 1)
		if idx == nil {
			sbomDigests[0], err = image.Push(ctx, ref, imgs[0], docs[0], po)
		} else {
			sbomDigests, err = image.PushIndex(ctx, ref, idx, imgs, docs, po)
		}
		progress.Close()
		if err != nil {
			return nil, err
		}
		for i, d := range sbomDigests {
			out.Images[i].SBOM = ref.Context().Digest(d.String()).String()
		}
		return out, nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(b.output, image.OCIPrefix), image.DockerArchivePrefix)
	// The SBOMs go beside the output: FILE.spdx.json, or
	// FILE.os-arch.spdx.json for several platforms. They are written
	// first and put in place only once the image is: on a full disk
	// neither is left half-written, nor one without the other.
	var sboms []*atomicfile.Staged
	defer func() {
		for _, s := range sboms {
			s.Abort() // after Commit: nothing left to remove
		}
	}()
	for i := range out.Images {
		out.Images[i].SBOM = strings.TrimSuffix(path, "/") + ".spdx.json"
		if idx != nil {
			out.Images[i].SBOM = strings.TrimSuffix(path, "/") + "." + strings.ReplaceAll(out.Images[i].Platform, "/", "-") + ".spdx.json"
		}
		s, err := atomicfile.Stage(out.Images[i].SBOM, 0o644, func(w io.Writer) error { _, err := w.Write(docs[i]); return err })
		if err != nil {
			return nil, fmt.Errorf("write SBOM %s: %w", out.Images[i].SBOM, err)
		}
		sboms = append(sboms, s)
	}
	switch {
	case strings.HasPrefix(b.output, image.DockerArchivePrefix):
		err = image.WriteDockerArchive(path, imgs[0], b.tag)
	case idx == nil:
		err = image.WriteLayout(path, imgs[0], b.tag)
	default:
		err = image.WriteLayoutIndex(path, idx, b.tag)
	}
	if err != nil {
		return nil, err
	}
	for i, s := range sboms {
		if err := s.Commit(); err != nil {
			return nil, fmt.Errorf("write SBOM %s: %w", out.Images[i].SBOM, err)
		}
	}
	return out, nil
}

// describe reports one platform's image: digest, compressed size of all
// its layers, the added layers and the packages.
func describe(res *image.Result, p v1.Platform) (imageResult, error) {
	r := imageResult{Platform: p.String(), Layers: res.Layers, Packages: res.Packages, Warnings: res.Warnings}
	d, err := res.Image.Digest()
	if err != nil {
		return r, err
	}
	r.Digest = d.String()
	layers, err := res.Image.Layers()
	if err != nil {
		return r, err
	}
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return r, err
		}
		r.Size += n
	}
	return r, nil
}

// writeSizeReport prints the result and each image's biggest packages.
func writeSizeReport(w io.Writer, out *buildResult) {
	fmt.Fprintf(w, "%s %s\n", out.Output, out.Digest)
	for _, img := range out.Images {
		var envSize int64
		for _, p := range img.Packages {
			envSize += p.Size
		}
		fmt.Fprintf(w, "%s: image %s, %s compressed, %d layers added; SBOM %s\n",
			img.Platform, img.Digest, image.FormatSize(img.Size), len(img.Layers), img.SBOM)
		fmt.Fprintf(w, "environment: %s in %d packages; largest:\n", image.FormatSize(envSize), len(img.Packages))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		for i, p := range img.Packages {
			if i == 10 {
				break
			}
			fmt.Fprintf(tw, "  %s\t%s\t\n", image.FormatSize(p.Size), p.Dist)
		}
		tw.Flush()
	}
}

// newLayerProgress reports layers on stderr: redrawn in place on a
// terminal, as plain lines otherwise; nowhere with -q.
func newLayerProgress(stderr io.Writer, platform string) *image.LayerProgress {
	stderr = progressWriter(stderr)
	live, width := terminalWidth(stderr)
	return image.NewLayerProgress(stderr, platform, live, width)
}

// newPushProgress reports a push's blobs on stderr, the same way.
func newPushProgress(stderr io.Writer, repo string) *image.PushProgress {
	stderr = progressWriter(stderr)
	live, width := terminalWidth(stderr)
	return image.NewPushProgress(stderr, repo, live, width)
}

// progressWriter is where progress goes: w, or nowhere with -q.
func progressWriter(w io.Writer) io.Writer {
	if quiet {
		return io.Discard
	}
	return w
}

// terminalWidth tells whether w is a terminal, and its width.
func terminalWidth(w io.Writer) (bool, int) {
	if !isTerminal(w) {
		return false, 0
	}
	width, _, _ := term.GetSize(int(w.(*os.File).Fd()))
	return true, width
}
