package main

import (
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
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/env"
	"github.com/condabox/condabox/pkg/fetch"
	"github.com/condabox/condabox/pkg/image"
	"github.com/condabox/condabox/pkg/image/sbom"
	"github.com/condabox/condabox/pkg/install"
	"github.com/condabox/condabox/pkg/pkgcache"
	"github.com/condabox/condabox/pkg/redact"
	"github.com/condabox/condabox/pkg/solve"
)

// buildFlags are the flags of `condabox build` beside image.Options.
type buildFlags struct {
	files, channels           []string
	overrideChannels, offline bool
	base, tag, output         string
	push, json                bool
	platform, prune, user     string
	entrypoint, cmd           string
	labels                    []string
	opts                      image.Options
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
the same image digest (file times come from SOURCE_DATE_EPOCH, else the newest
package's timestamp). The activation is baked into the image config, so
commands run in the environment without a shell. An SPDX SBOM is written
beside a file output (FILE.spdx.json) or pushed as an OCI referrer.`,
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
	f.StringVar(&b.base, "base", image.Scratch, "base image: scratch, a registry reference, oci:DIR or docker-archive:FILE")
	f.StringVarP(&b.tag, "tag", "t", "", "image reference, e.g. registry.example/app:1.0 (required)")
	f.BoolVar(&b.push, "push", false, "push the image and its SBOM to the --tag registry")
	f.StringVarP(&b.output, "output", "o", "", "write the image to oci:DIR or docker-archive:FILE")
	f.StringVar(&b.platform, "platform", "linux/amd64", "target platform (only linux/amd64 so far)")
	f.StringVar(&b.prune, "prune", "none", "leave files out: none, safe or aggressive (see docs)")
	f.IntVar(&b.opts.MaxLayers, "max-layers", image.DefaultMaxLayers, "most package layers")
	f.StringVar(&b.opts.Prefix, "prefix", image.DefaultPrefix, "where the environment lives in the image")
	f.StringVar(&b.user, "user", "mambauser:57439:57439", "image user NAME:UID:GID")
	f.StringVar(&b.entrypoint, "entrypoint", "", "entrypoint, a JSON array or one command")
	f.StringVar(&b.cmd, "cmd", "", "command, a JSON array or one command")
	f.StringVar(&b.opts.WorkingDir, "workdir", "", "working directory (default: the user's home)")
	f.StringArrayVar(&b.opts.Env, "env", nil, "extra KEY=VALUE variable (repeatable)")
	f.StringArrayVar(&b.labels, "label", nil, "KEY=VALUE label (repeatable)")
	f.BoolVar(&b.json, "json", false, "print the result as JSON")
	return cmd
}

// buildResult is what --json prints.
type buildResult struct {
	Tag      string                `json:"tag"`
	Digest   string                `json:"digest"`
	Size     int64                 `json:"size"`
	Output   string                `json:"output"`
	SBOM     string                `json:"sbom"`
	Layers   []image.LayerReport   `json:"layers"`
	Packages []image.PackageReport `json:"packages"`
	Warnings []string              `json:"warnings"`
}

// runBuild checks every input before it builds, and builds before it
// writes or pushes anything, so that bad input leaves nothing behind.
func runBuild(ctx context.Context, stdout, stderr io.Writer, b *buildFlags) error {
	if err := b.parse(); err != nil {
		return err
	}
	ref, err := name.ParseReference(b.tag)
	if err != nil {
		return fmt.Errorf("--tag %q: %w", b.tag, err)
	}
	keychain := remote.WithAuthFromKeychain(authn.DefaultKeychain)
	if b.push {
		// Fails fast on an unreachable registry or wrong credentials.
		if err := remote.CheckPushPermission(ref, authn.DefaultKeychain, http.DefaultTransport); err != nil {
			var terr *transport.Error
			if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
				return fmt.Errorf("push to %s: credentials (docker config.json or its credential helper) refused: %w", ref.Context(), err)
			}
			return fmt.Errorf("push to %s: %w", ref.Context(), err)
		}
	}
	base, err := image.LoadBase(ctx, b.base, image.LinuxAMD64, keychain)
	if err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	plan, err := env.PlanCreate(ctx, env.CreateRequest{Prefix: b.opts.Prefix, Files: b.files, Channels: b.channels,
		OverrideChannels: b.overrideChannels, Offline: b.offline, Platform: string(conda.PlatformLinux64),
		LookupEnv: os.LookupEnv, WorkDir: wd})
	var unsat *solve.UnsatisfiableError
	if errors.As(err, &unsat) {
		fmt.Fprintln(stderr, redact.Text(unsat.Error()))
		return exitError{code: 1}
	}
	if err != nil {
		return err
	}
	pkgs, err := fetchPackages(ctx, plan.Records)
	if err != nil {
		return err
	}
	if b.opts.Epoch, err = buildEpoch(os.LookupEnv, plan.Records); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "condabox-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b.opts.WorkDir = work
	if dir, err := os.UserCacheDir(); err == nil {
		b.opts.LayerCache = filepath.Join(dir, "condabox", "image-layers")
	}
	res, err := image.Build(ctx, base, pkgs, b.opts)
	if err != nil {
		return err
	}
	doc, err := sbom.Generate(res.Records, sbom.Options{Name: b.tag, Created: b.opts.Epoch, Tool: "condabox-" + version})
	if err != nil {
		return err
	}
	out := buildResult{Tag: b.tag, Layers: res.Layers, Packages: res.Packages, Warnings: res.Warnings}
	if err := b.publish(ctx, ref, res, doc, keychain, &out); err != nil {
		return err
	}
	d, err := res.Image.Digest()
	if err != nil {
		return err
	}
	out.Digest = d.String()
	if out.Size, err = imageSize(res); err != nil {
		return err
	}
	if b.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	writeSizeReport(stdout, &out)
	return nil
}

// parse checks the flags and fills opts.
func (b *buildFlags) parse() error {
	switch {
	case len(b.files) != 1:
		return errors.New("build needs exactly one -f FILE (several environments in one image are not supported yet)")
	case b.tag == "":
		return errors.New("build needs --tag REF")
	case b.push == (b.output != ""):
		return errors.New("build needs either --push or --output oci:DIR|docker-archive:FILE")
	case b.output != "" && !strings.HasPrefix(b.output, image.OCIPrefix) && !strings.HasPrefix(b.output, image.DockerArchivePrefix):
		return fmt.Errorf("--output %q: want oci:DIR or docker-archive:FILE", b.output)
	case b.platform != image.LinuxAMD64.String():
		return fmt.Errorf("--platform %q: only linux/amd64 is supported so far", b.platform)
	}
	var err error
	if b.opts.Prune, err = image.ParsePrune(b.prune); err != nil {
		return fmt.Errorf("--prune: %w", err)
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

// buildEpoch is the time of every file: SOURCE_DATE_EPOCH, else the newest
// package's timestamp, which the lock or solution fixes.
func buildEpoch(lookup func(string) (string, bool), recs []conda.PackageRecord) (time.Time, error) {
	if s, ok := lookup("SOURCE_DATE_EPOCH"); ok && s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	var newest time.Time
	for i := range recs {
		if t := recs[i].Time(); t.After(newest) {
			newest = t
		}
	}
	return newest, nil
}

// fetchPackages downloads and extracts the records into the package cache
// (pkgs_dirs of the configuration) and reads them, in the records' order.
func fetchPackages(ctx context.Context, recs []conda.PackageRecord) ([]*install.Package, error) {
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	cache, err := pkgcache.Open(cfg.PkgsDirs...)
	if err != nil {
		return nil, err
	}
	client := fetch.New(fetch.Options{})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pkgs := make([]*install.Package, len(recs))
	errs := make([]error, len(recs))
	sem := make(chan struct{}, 4) // downloads overlap; extraction is CPU bound
	var wg sync.WaitGroup
	for i := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			dir, err := cache.Get(ctx, recs[i], client)
			if err == nil {
				pkgs[i], err = install.ReadPackage(dir)
			}
			if err != nil {
				errs[i] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	return pkgs, errors.Join(errs...)
}

// publish writes or pushes the image and its SBOM and notes where.
func (b *buildFlags) publish(ctx context.Context, ref name.Reference, res *image.Result, doc []byte, auth remote.Option, out *buildResult) error {
	switch {
	case b.push:
		d, err := image.Push(ctx, ref, res.Image, doc, auth)
		if err != nil {
			return err
		}
		out.Output, out.SBOM = ref.String(), ref.Context().Digest(d.String()).String()
		return nil
	case strings.HasPrefix(b.output, image.OCIPrefix):
		dir := strings.TrimPrefix(b.output, image.OCIPrefix)
		if err := image.WriteLayout(dir, res.Image, b.tag); err != nil {
			return err
		}
		out.Output, out.SBOM = b.output, strings.TrimSuffix(dir, "/")+".spdx.json"
	default:
		file := strings.TrimPrefix(b.output, image.DockerArchivePrefix)
		if err := image.WriteDockerArchive(file, res.Image, b.tag); err != nil {
			return err
		}
		out.Output, out.SBOM = b.output, file+".spdx.json"
	}
	if err := os.WriteFile(out.SBOM, doc, 0o644); err != nil {
		return fmt.Errorf("write SBOM: %w", err)
	}
	return nil
}

// imageSize is the compressed size of all the image's layers.
func imageSize(res *image.Result) (int64, error) {
	layers, err := res.Image.Layers()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// writeSizeReport prints the result and the biggest packages.
func writeSizeReport(w io.Writer, out *buildResult) {
	fmt.Fprintf(w, "%s %s\n", out.Output, out.Digest)
	fmt.Fprintf(w, "image: %s compressed, %d layers added; SBOM: %s\n", humanBytes(out.Size), len(out.Layers), out.SBOM)
	var envSize int64
	for _, p := range out.Packages {
		envSize += p.Size
	}
	fmt.Fprintf(w, "environment: %s in %d packages; largest:\n", humanBytes(envSize), len(out.Packages))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for i, p := range out.Packages {
		if i == 10 {
			break
		}
		fmt.Fprintf(tw, "  %s\t%s\t\n", humanBytes(p.Size), p.Dist)
	}
	tw.Flush()
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
