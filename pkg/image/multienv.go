package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	condaenv "github.com/condabox/condabox/pkg/env"
	"github.com/condabox/condabox/pkg/install"
)

// An image of several environments has micromamba's layout: the default
// environment (the one named base, else the first) at Options.Prefix, each
// other at Prefix/envs/NAME. Its config activates none of them: its
// entrypoint is condabox itself (`condabox entrypoint`, at ShimPath), which
// activates the environment ENV_NAME names and execs the command, as
// micromamba-docker's _entrypoint.sh does. What a shell-less entrypoint
// cannot run (activate.d scripts) is baked at build time into
// condaenv.ImageEnvsPath, as for a single environment.
//
// A package two environments share gets a layer in each: its files sit under
// other paths, and files holding the prefix differ in content too, so no
// layer can serve both.

// ShimPath is where an image of several environments holds condabox, its
// entrypoint.
const ShimPath = "/usr/local/bin/condabox"

// Env is one environment of an image holding several.
type Env struct {
	// Name is ENV_NAME's value that chooses it, and its CONDA_DEFAULT_ENV.
	Name string
	// Packages are its extracted packages in install order.
	Packages []*install.Package
	// Variables are its own variables (Options.Variables).
	Variables map[string]string
	// Extra are its files beside the packages' (Options.Extra).
	Extra []ExtraFile
}

// EnvPrefixes returns where each named environment lives under prefix and
// the index of the default one. Names must be unique path elements.
func EnvPrefixes(prefix string, names []string) ([]string, int, error) {
	def := max(slices.Index(names, DefaultEnvName), 0)
	out := make([]string, len(names))
	for i, n := range names {
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") {
			return nil, 0, fmt.Errorf("environment name %q: want a non-empty name without '/'", n)
		}
		if slices.Index(names, n) != i {
			return nil, 0, fmt.Errorf("environment name %q given twice", n)
		}
		out[i] = path.Join(prefix, "envs", n)
	}
	if len(names) > 0 {
		out[def] = prefix
	}
	return out, def, nil
}

// BuildEnvs is Build for an image of several environments (see ShimPath):
// each environment's packages in layers as Build lays them out, opts.Shim
// in a layer of its own, and the conda-meta of all and the list of
// environments in the metadata layer. opts.EnvName is not used: each Env
// has its name.
func BuildEnvs(ctx context.Context, base v1.Image, envs []Env, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	if err := checkPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if len(envs) == 0 {
		return nil, errors.New("build image: no environment given")
	}
	if err := CheckCompressionLevel(opts.Compression, opts.CompressionLevel); err != nil {
		return nil, err
	}
	if err := CheckShim(opts.Shim, opts.Platform); err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	names := make([]string, len(envs))
	for i, e := range envs {
		names[i] = e.Name
	}
	prefixes, def, err := EnvPrefixes(opts.Prefix, names)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	readBase := startReadBase(base, opts.LayerCache)
	defer readBase() // a failed build returns only once the read stops writing to the cache
	res := &Result{}
	list := condaenv.ImageEnvs{Default: names[def]}
	var all []*packageFiles
	var metas []prefixFiles
	recorded := map[string]bool{}
	for i, e := range envs {
		eo := opts
		eo.Prefix, eo.EnvName = prefixes[i], e.Name
		files, act, err := collect(ctx, e.Packages, eo)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", e.Name, err)
		}
		var warnings []string
		if opts.CompilePyc {
			// One environment at a time: its python compiles its packages.
			if warnings, err = startPyc(ctx, e.Packages, files, eo)(); err != nil {
				return nil, fmt.Errorf("build image: environment %s: %w", e.Name, err)
			}
		}
		baked, actWarnings, err := activationEnv(act, eo.Prefix)
		if err != nil {
			return nil, fmt.Errorf("build image: environment %s: %w", e.Name, err)
		}
		maps.Copy(baked, e.Variables)
		libc, err := libcWarning(base, e.Packages)
		if err != nil {
			return nil, fmt.Errorf("build image: %w", err)
		}
		if libc != "" {
			warnings = append(warnings, libc)
		}
		warnings = append(warnings, linkScriptWarnings(files, eo.Prefix)...)
		for _, w := range append(actWarnings, warnings...) {
			res.Warnings = append(res.Warnings, e.Name+": "+w)
		}
		list.Envs = append(list.Envs, condaenv.ImageEnv{Name: e.Name, Prefix: eo.Prefix, Baked: baked})
		for _, f := range files {
			f.dist = e.Name + "/" + f.dist // reports and layer plans tell the environments apart
		}
		all = append(all, files...)
		metas = append(metas, prefixFiles{eo.Prefix, files, e.Variables})
		for _, p := range e.Packages {
			// A package two environments share is one package in the SBOM.
			if key := p.Record.URL + " " + p.Record.Dist(); !recorded[key] {
				recorded[key] = true
				res.Records = append(res.Records, p.Record)
			}
		}
	}
	layers, reports, err := writePackageLayers(ctx, all, opts)
	if err != nil {
		return nil, err
	}
	shim, shimReport, err := writeShimLayer(ctx, opts)
	if err != nil {
		return nil, err
	}
	baseFS, err := readBase()
	if err != nil {
		return nil, err
	}
	listJSON, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("build image: encode %s: %w", condaenv.ImageEnvsPath, err)
	}
	listEntry := entry{Name: strings.TrimPrefix(condaenv.ImageEnvsPath, "/"), Type: tar.TypeReg, Mode: 0o644, Data: listJSON, Size: int64(len(listJSON))}
	res.Created = packagesTime(opts, all)
	extra := []entry{listEntry}
	for _, e := range envs {
		extra = append(extra, extraEntries(e.Extra)...)
	}
	metaLayer, metaReport, err := writeMetaLayer(ctx, metas, extra, baseFS, opts, res.Created)
	if err != nil {
		return nil, err
	}
	layers, reports = append(layers, shim, metaLayer), append(reports, shimReport, metaReport)
	if opts.Entrypoint == nil {
		// The shim goes in front of the base's entrypoint and command,
		// which a new entrypoint would reset, as docker does.
		cf, err := base.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("build image: read base config: %w", err)
		}
		opts.Entrypoint = cf.Config.Entrypoint
		if opts.Cmd == nil {
			opts.Cmd = cf.Config.Cmd
		}
	}
	// The user's (or base's) entrypoint runs activated too.
	opts.Entrypoint = append([]string{ShimPath, "entrypoint"}, opts.Entrypoint...)
	if res.Image, err = assemble(base, layers, reports, nil, opts, res.Created); err != nil {
		return nil, err
	}
	res.Layers = reports
	for _, f := range all {
		res.Packages = append(res.Packages, PackageReport{Dist: f.dist, Size: f.size + f.pycSize})
	}
	sort.SliceStable(res.Packages, func(i, j int) bool { return res.Packages[i].Size > res.Packages[j].Size })
	return res, nil
}

// shimMachines are the ELF machines (and byte orders) of the platforms a
// condabox binary can be built for, by OCI architecture.
var shimMachines = map[string]struct {
	machine elf.Machine
	order   elf.Data
}{
	"amd64":   {elf.EM_X86_64, elf.ELFDATA2LSB},
	"arm64":   {elf.EM_AARCH64, elf.ELFDATA2LSB},
	"ppc64le": {elf.EM_PPC64, elf.ELFDATA2LSB},
	"s390x":   {elf.EM_S390, elf.ELFDATA2MSB},
}

// CheckShim checks that file is a binary an image of platform can run
// without anything beside it: a statically linked linux executable for
// the platform's architecture.
func CheckShim(file string, p v1.Platform) error {
	want, ok := shimMachines[p.Architecture]
	if p.OS != "linux" || !ok {
		return fmt.Errorf("several environments need condabox as the entrypoint, which is not built for %s", p.String())
	}
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("condabox binary %s for the entrypoint: not a linux executable: %w", file, err)
	}
	defer f.Close()
	if f.Machine != want.machine || f.Data != want.order {
		return fmt.Errorf("condabox binary %s for the entrypoint: built for %s (%s), want %s for %s", file, f.Machine, f.Data, want.machine, p.String())
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("condabox binary %s for the entrypoint is dynamically linked; an image may lack its libraries: build condabox with CGO_ENABLED=0", file)
		}
	}
	return nil
}

// writeShimLayer writes the layer holding opts.Shim at ShimPath; the layer
// cache keeps it while the binary stays the same.
func writeShimLayer(ctx context.Context, opts Options) (*fileLayer, LayerReport, error) {
	fh, err := os.Open(opts.Shim)
	if err != nil {
		return nil, LayerReport{}, fmt.Errorf("build image: %w", err)
	}
	defer fh.Close()
	h := sha256.New()
	size, err := io.Copy(h, fh)
	if err != nil {
		return nil, LayerReport{}, fmt.Errorf("build image: read %s: %w", opts.Shim, err)
	}
	e := entry{Name: strings.TrimPrefix(ShimPath, "/"), Type: tar.TypeReg, Mode: 0o755, Source: opts.Shim, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}
	l, err := cachedWriteLayer(ctx, opts.LayerCache, opts.WorkDir, sortEntries([]entry{e}), packagesTime(opts, nil), opts.codec(), nil, opts.Reuse)
	if err != nil {
		return nil, LayerReport{}, fmt.Errorf("build image: condabox layer: %w", err)
	}
	opts.written(l)
	// Named by its path, so that the layer's history and reports say what it is.
	return l, LayerReport{Digest: l.digest.String(), Size: l.size, Packages: []string{ShimPath}}, nil
}
