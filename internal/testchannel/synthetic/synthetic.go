package synthetic

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultNames is the number of package names of the default channel,
// about conda-forge's count for linux-64 and noarch together.
const DefaultNames = 36000

// Subdirs are the subdirs Generate writes.
var Subdirs = []string{"linux-64", "noarch"}

// Options tunes Generate. The zero value gives the default channel.
type Options struct {
	// Seed selects the channel: the same Options give the same bytes.
	Seed uint64
	// Names is the number of package names over all Subdirs, at least the
	// curated core (about 50); 0 means DefaultNames. The record count grows
	// in proportion, about 14 per name.
	Names int
}

// Generate writes the repodata.json of one of Subdirs of the channel opts
// describes. It streams: memory stays small whatever the channel size.
func Generate(w io.Writer, subdir string, opts Options) error {
	if !slices.Contains(Subdirs, subdir) {
		return fmt.Errorf("synthetic: generate subdir %q: want one of %v", subdir, Subdirs)
	}
	u, err := newUniverse(opts)
	if err != nil {
		return err
	}
	out := &writer{w: bufio.NewWriterSize(w, 1<<20)}
	out.printf("{\n  \"info\": {\n    \"subdir\": %q\n  },\n", subdir)
	for _, ext := range []string{".tar.bz2", ".conda"} {
		section := "packages"
		if ext == ".conda" {
			section = "packages.conda"
		}
		out.printf("  %q: {", section)
		first := true
		u.packages(subdir, func(recs []record) {
			for i := range recs {
				if r := &recs[i]; (ext == ".conda" && r.inConda) || (ext == ".tar.bz2" && r.inTarBz2) {
					out.record(r, ext, first)
					first = false
				}
			}
		})
		out.printf("\n  },\n")
	}
	out.printf("  \"removed\": [],\n  \"repodata_version\": 1\n}\n")
	if out.err != nil {
		return fmt.Errorf("synthetic: generate %s: %w", subdir, out.err)
	}
	if err := out.w.Flush(); err != nil {
		return fmt.Errorf("synthetic: generate %s: %w", subdir, err)
	}
	return nil
}

// record is one repodata record being written.
type record struct {
	stem                 string // name-version-build, the file name without extension
	name, version, build string
	buildNumber          int
	depends, constrains  []string
	trackFeatures        string
	noarch               string // "", "python" or "generic"
	license              string
	licenseFamily        string
	md5, sha256          string
	size, timestamp      int64
	subdir               string
	inTarBz2, inConda    bool
}

// family is the kind of a generated package, which decides its subdir,
// build strings and the packages it may depend on.
type family int

const (
	pyCompiled family = iota // linux-64, built per Python
	cLibrary                 // linux-64 C/C++ library
	rCompiled                // linux-64 R package, built per r-base
	pyNoarch                 // noarch: python
	rNoarch                  // noarch R package
	dataNoarch               // noarch: generic data/fonts/metapackages
)

// families describes each family: its share of names in percent, its name
// prefix, its subdir and the ecosystem its dependencies come from.
var families = []struct {
	percent   int
	prefix    string
	noarch    string
	ecosystem int
}{
	pyCompiled: {percent: 25, ecosystem: ecoPython},
	cLibrary:   {percent: 19, prefix: "lib", ecosystem: ecoC},
	rCompiled:  {percent: 18, prefix: "r-", ecosystem: ecoR},
	pyNoarch:   {percent: 28, noarch: "python", ecosystem: ecoPython},
	rNoarch:    {percent: 7, prefix: "r-", noarch: "generic", ecosystem: ecoR},
	dataNoarch: {percent: 3, prefix: "data-", noarch: "generic", ecosystem: ecoData},
}

// Ecosystems: packages depend on earlier packages of their own ecosystem
// (and compiled ones also on C libraries).
const (
	ecoPython = iota
	ecoC
	ecoR
	ecoData
	numEcosystems
)

// generated is a generated package name with what its records share.
type generated struct {
	name       string
	fam        family
	versions   []string
	deps       []int // indexes of earlier generated packages
	constrains []int
	numpy      bool // built once per NumPy pin too
	stream     uint64
}

// universe is every package name of the channel.
type universe struct {
	seed uint64
	gen  []generated
}

const (
	chainLength  = 40 // every package depends on the one before it, in runs this long
	longDepsRate = 1  // percent of packages with 25–60 depends
)

// newUniverse chooses the generated names, their versions and dependencies.
func newUniverse(opts Options) (*universe, error) {
	names := opts.Names
	if names == 0 {
		names = DefaultNames
	}
	if names < len(core) {
		return nil, fmt.Errorf("synthetic: %d names: want at least the %d of the curated core", names, len(core))
	}
	u := &universe{seed: opts.Seed, gen: make([]generated, 0, names-len(core))}
	rng := rand.New(rand.NewPCG(opts.Seed, 0))
	var byEco [numEcosystems][]int
	var lastOfFamily, countOfFamily [dataNoarch + 1]int
	for i := range names - len(core) {
		g := generated{fam: pickFamily(rng), stream: uint64(i) + 1}
		f := families[g.fam]
		g.name = f.prefix + word(i)
		g.versions = versionList(rng)
		pool := byEco[f.ecosystem]
		if prev := lastOfFamily[g.fam]; prev > 0 && countOfFamily[g.fam]%chainLength != 0 {
			g.deps = append(g.deps, prev-1)
		}
		n := rng.IntN(4)
		if rng.IntN(100) < longDepsRate {
			n = 25 + rng.IntN(36)
		}
		for range n {
			from := pool
			if (g.fam == pyCompiled || g.fam == rCompiled) && rng.IntN(3) == 0 {
				from = byEco[ecoC] // compiled extensions link C libraries
			}
			if len(from) > 0 {
				g.deps = append(g.deps, from[rng.IntN(len(from))])
			}
		}
		g.deps = slices.Compact(slices.Sorted(slices.Values(g.deps)))
		if len(pool) > 0 && rng.IntN(100) < 15 {
			g.constrains = []int{pool[rng.IntN(len(pool))]}
		}
		g.numpy = g.fam == pyCompiled && rng.IntN(100) < 30
		u.gen = append(u.gen, g)
		byEco[f.ecosystem] = append(byEco[f.ecosystem], i)
		lastOfFamily[g.fam] = i + 1 // 0 means none yet
		countOfFamily[g.fam]++
	}
	return u, nil
}

// pickFamily draws a family by its share.
func pickFamily(rng *rand.Rand) family {
	n := rng.IntN(100)
	for fam, f := range families {
		if n < f.percent {
			return family(fam)
		}
		n -= f.percent
	}
	return dataNoarch
}

// syllables make pronounceable, unique names: word(i) spells i in base 40.
var syllables = strings.Fields(`ba be bi bo bu da de di do du fa fe fi fo fu ka ke ki ko ku
	la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru`)

// word returns the i-th name stem, at least three syllables long.
func word(i int) string {
	var b strings.Builder
	for n := 0; n < 3 || i > 0; n++ {
		b.WriteString(syllables[i%len(syllables)])
		i /= len(syllables)
	}
	return b.String()
}

// versionList draws a package's ascending versions: semantic ones mostly,
// calendar ones sometimes.
func versionList(rng *rand.Rand) []string {
	n := 1 + rng.IntN(4)
	if rng.IntN(3) == 0 {
		n += rng.IntN(14)
	}
	v := [3]int{rng.IntN(4), rng.IntN(10), rng.IntN(5)}
	calendar := rng.IntN(10) == 0
	if calendar {
		v = [3]int{2019 + rng.IntN(3), 1 + rng.IntN(12), 1 + rng.IntN(28)}
	}
	versions := make([]string, n)
	for i := range versions {
		versions[i] = fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
		switch r := rng.IntN(10); {
		case calendar:
			v[1], v[2] = v[1]%12+1, 1+rng.IntN(28)
			if v[1] == 1 {
				v[0]++
			}
		case r < 6:
			v[2]++
		case r < 9:
			v[1], v[2] = v[1]+1, 0
		default:
			v[0], v[1], v[2] = v[0]+1, 0, 0
		}
	}
	return versions
}

// Timestamps run from 2019 to late 2024; conda-forge moved new uploads to
// .conda in late 2022.
var (
	firstUpload = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	lastUpload  = time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	condaSince  = time.Date(2022, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
)

// packages calls emit with the records of each package of subdir, packages
// by name and records by file name, the order of conda-index's sorted keys.
func (u *universe) packages(subdir string, emit func([]record)) {
	type pkg struct {
		name string
		c    *curated
		g    *generated
	}
	var pkgs []pkg
	for i := range core {
		if subdirOf(core[i].noarch) == subdir {
			pkgs = append(pkgs, pkg{name: core[i].name, c: &core[i]})
		}
	}
	for i := range u.gen {
		if g := &u.gen[i]; subdirOf(families[g.fam].noarch) == subdir {
			pkgs = append(pkgs, pkg{name: g.name, g: g})
		}
	}
	slices.SortFunc(pkgs, func(a, b pkg) int { return strings.Compare(a.name, b.name) })
	var r record
	var recs []record
	collect := func(r *record) {
		c := *r
		c.depends = slices.Clone(r.depends) // r's slices are reused
		recs = append(recs, c)
	}
	for _, p := range pkgs {
		recs = recs[:0]
		if p.c != nil {
			h := fnv.New64a()
			h.Write([]byte(p.name))
			u.curatedRecords(p.c, rand.New(rand.NewPCG(u.seed, h.Sum64())), &r, collect)
		} else {
			u.generatedRecords(p.g, rand.New(rand.NewPCG(u.seed, p.g.stream)), &r, collect)
		}
		slices.SortFunc(recs, func(a, b record) int { return strings.Compare(a.stem, b.stem) })
		emit(recs)
	}
}

// subdirOf returns the subdir of a package with the given noarch kind.
func subdirOf(noarch string) string {
	if noarch != "" {
		return "noarch"
	}
	return "linux-64"
}

// curatedRecords emits every record of a curated package.
func (u *universe) curatedRecords(c *curated, rng *rand.Rand, r *record, emit func(*record)) {
	type variant struct {
		py   string
		blas blasImpl
	}
	variants := []variant{{}}
	switch c.variants {
	case pythonVariant:
		variants = nil
		for _, py := range pythons {
			variants = append(variants, variant{py: py})
		}
	case blasVariant:
		variants = nil
		for _, b := range blasImpls {
			variants = append(variants, variant{blas: b})
		}
	}
	builds := max(c.builds, 1)
	ts := firstUpload + rng.Int64N(condaSince-firstUpload)
	for _, ver := range c.versions {
		vminor := majorMinor(ver)
		for _, v := range variants {
			for b := range builds {
				bn := c.bnBase + b
				expand := strings.NewReplacer(
					"{ver}", ver, "{vminor}", vminor, "{vtag}", strings.ReplaceAll(vminor, ".", ""),
					"{py}", v.py, "{pytag}", strings.ReplaceAll(v.py, ".", ""),
					"{blas}", v.blas.name, "{blasdep}", v.blas.dep,
					"{bn}", strconv.Itoa(bn), "{hash}", hexString(rng, 7),
				).Replace
				*r = record{name: c.name, version: ver, build: expand(c.build), buildNumber: bn,
					noarch: c.noarch, license: c.license, trackFeatures: v.blas.trackFeatures}
				for _, d := range c.depends {
					switch d {
					case "{PY}":
						r.depends = append(r.depends, pythonDeps(v.py)...)
					case "{NUMPY}":
						r.depends = append(r.depends, numpyPin(v.py))
					default:
						r.depends = append(r.depends, expand(d))
					}
				}
				for _, d := range c.constrains {
					r.constrains = append(r.constrains, expand(d))
				}
				ts = min(ts+rng.Int64N(90*24*3600*1000), lastUpload)
				u.finish(r, rng, ts)
				emit(r)
			}
		}
	}
}

// generatedRecords emits every record of a generated package.
func (u *universe) generatedRecords(g *generated, rng *rand.Rand, r *record, emit func(*record)) {
	f := families[g.fam]
	license, licenseFamily := licenseOf(rng)
	ts := firstUpload + rng.Int64N(lastUpload-firstUpload)*3/4
	for vi, ver := range g.versions {
		deps := u.depSpecs(g, rng)
		var constrains []string
		for _, c := range g.constrains {
			constrains = append(constrains, u.gen[c].name+" >="+u.gen[c].versions[0])
		}
		ts = min(ts+rng.Int64N(120*24*3600*1000), lastUpload)
		for _, b := range u.builds(g, vi, rng) {
			*r = record{name: g.name, version: ver, build: b.build, buildNumber: b.number,
				noarch: f.noarch, license: license, licenseFamily: licenseFamily, constrains: constrains,
				depends: append(append(r.depends[:0], b.depends...), deps...)}
			u.finish(r, rng, ts+rng.Int64N(3600*1000))
			emit(r)
		}
	}
}

// build is one build of a generated package version.
type build struct {
	build   string
	number  int
	depends []string // the variant's own depends
}

// builds returns the builds of the vi-th version of g: per Python (and NumPy
// pin) for compiled Python packages, per r-base for R packages.
func (u *universe) builds(g *generated, vi int, rng *rand.Rand) []build {
	numbers := 1 + rng.IntN(2)
	var out []build
	add := func(prefix string, depends ...string) {
		for n := range numbers {
			out = append(out, build{build: prefix + "h" + hexString(rng, 7) + "_" + strconv.Itoa(n), number: n, depends: depends})
		}
	}
	switch g.fam {
	case pyCompiled:
		// Older versions were built for older Pythons only.
		newest := len(pythons) - min(3, len(g.versions)-1-vi)
		for _, py := range pythons[:newest] {
			deps := slices.Concat(pythonDeps(py), []string{"libgcc-ng >=12", "__glibc >=2.17"})
			prefix := "py" + strings.ReplaceAll(py, ".", "")
			if !g.numpy {
				add(prefix, deps...)
				continue
			}
			add(prefix, slices.Concat(deps, []string{numpyPin(py)})...)
			if py != "3.13" {
				add(prefix, slices.Concat(deps, []string{"numpy >=1.22.4,<2.0a0"})...)
			}
		}
	case cLibrary:
		add("", "libgcc-ng >=12", "libstdcxx-ng >=12", "__glibc >=2.17")
	case rCompiled:
		add("r42", "r-base >=4.2,<4.3.0a0", "libgcc-ng >=12", "__glibc >=2.17")
		add("r43", "r-base >=4.3,<4.4.0a0", "libgcc-ng >=12", "__glibc >=2.17")
	case pyNoarch:
		// Pure-Python packages are rebuilt more often: new pins, metadata fixes.
		for n := range numbers + rng.IntN(2) {
			out = append(out, build{build: "pyhd8ed1ab_" + strconv.Itoa(n), number: n, depends: []string{"python >=3.8"}})
		}
	case rNoarch:
		add("r4", "r-base >=4.2")
	case dataNoarch:
		add("")
	}
	return out
}

// depSpecs returns the dependency specs of one version of g: a bare name,
// a lower bound or a run_exports-style pin on a version that exists.
func (u *universe) depSpecs(g *generated, rng *rand.Rand) []string {
	specs := make([]string, 0, len(g.deps))
	for _, d := range g.deps {
		dep := &u.gen[d]
		v := dep.versions[rng.IntN(len(dep.versions))]
		switch rng.IntN(10) {
		case 0, 1, 2:
			specs = append(specs, dep.name)
		case 3, 4, 5, 6:
			specs = append(specs, dep.name+" >="+v)
		default:
			specs = append(specs, dep.name+" >="+v+",<"+nextMinor(majorMinor(v))+".0a0")
		}
	}
	return specs
}

// finish fills the fields every record has: checksums, size, time, subdir
// and the archive formats it is published in.
func (u *universe) finish(r *record, rng *rand.Rand, ts int64) {
	r.stem = r.name + "-" + r.version + "-" + r.build
	r.subdir = subdirOf(r.noarch)
	r.md5 = hexString(rng, 32)
	r.sha256 = hexString(rng, 64)
	r.size = 2000 + rng.Int64N(1<<(10+rng.IntN(16)))
	r.timestamp = ts
	r.inConda = ts >= condaSince || rng.IntN(40) == 0
	r.inTarBz2 = ts < condaSince
}

// licenses are common conda-forge licenses with their license_family.
var licenses = [][2]string{
	{"MIT", "MIT"}, {"BSD-3-Clause", "BSD"}, {"Apache-2.0", "Apache"}, {"GPL-3.0-or-later", "GPL3"},
	{"LGPL-2.1-or-later", "LGPL"}, {"MPL-2.0", "MOZILLA"}, {"ISC", "ISC"}, {"BSD-2-Clause", "BSD"},
	{"GPL-2.0-or-later", "GPL2"}, {"Zlib", "Other"},
}

// licenseOf draws a license and its family, which many recipes leave out.
func licenseOf(rng *rand.Rand) (string, string) {
	l := licenses[rng.IntN(len(licenses))]
	if rng.IntN(2) == 0 {
		return l[0], ""
	}
	return l[0], l[1]
}

// hexString returns n random lower-case hex digits.
func hexString(rng *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	var bits uint64
	for i := range b {
		if i%16 == 0 {
			bits = rng.Uint64()
		}
		b[i] = digits[bits&15]
		bits >>= 4
	}
	return string(b)
}

// writer writes repodata JSON as conda-index does (two-space indent, keys
// sorted), remembering the first error. Every generated string is plain
// ASCII without quotes or backslashes, so strings need no escaping.
type writer struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (o *writer) printf(format string, args ...any) {
	if o.err == nil {
		_, o.err = fmt.Fprintf(o.w, format, args...)
	}
}

// record writes `"<file name>": {…}` as one member of a packages section.
func (o *writer) record(r *record, ext string, first bool) {
	b := o.buf[:0]
	if !first {
		b = append(b, ',')
	}
	b = append(b, "\n    \""...)
	b = append(b, r.stem...)
	b = append(b, ext...)
	b = append(b, "\": {"...)
	b = appendField(b, "build", r.build, true)
	b = appendInt(b, "build_number", int64(r.buildNumber))
	if len(r.constrains) > 0 {
		b = appendList(b, "constrains", r.constrains)
	}
	b = appendList(b, "depends", r.depends)
	b = appendField(b, "license", r.license, false)
	if r.licenseFamily != "" {
		b = appendField(b, "license_family", r.licenseFamily, false)
	}
	b = appendField(b, "md5", r.md5, false)
	b = appendField(b, "name", r.name, false)
	if r.noarch != "" {
		b = appendField(b, "noarch", r.noarch, false)
	}
	b = appendField(b, "sha256", r.sha256, false)
	b = appendInt(b, "size", r.size)
	b = appendField(b, "subdir", r.subdir, false)
	b = appendInt(b, "timestamp", r.timestamp)
	if r.trackFeatures != "" {
		b = appendField(b, "track_features", r.trackFeatures, false)
	}
	b = appendField(b, "version", r.version, false)
	b = append(b, "\n    }"...)
	o.buf = b
	if o.err == nil {
		_, o.err = o.w.Write(b)
	}
}

func appendKey(b []byte, key string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, "\n      \""...)
	b = append(b, key...)
	return append(b, "\": "...)
}

func appendField(b []byte, key, value string, first bool) []byte {
	b = appendKey(b, key, first)
	b = append(b, '"')
	b = append(b, value...)
	return append(b, '"')
}

func appendInt(b []byte, key string, n int64) []byte {
	return strconv.AppendInt(appendKey(b, key, false), n, 10)
}

func appendList(b []byte, key string, list []string) []byte {
	b = appendKey(b, key, false)
	if len(list) == 0 {
		return append(b, "[]"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n        \""...)
		b = append(b, s...)
		b = append(b, '"')
	}
	return append(b, "\n      ]"...)
}
