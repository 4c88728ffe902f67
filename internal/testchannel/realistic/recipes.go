package realistic

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/conda"
)

// recipeVersion is part of every cache key: bump it whenever a recipe or the
// way packages are made from Debian files changes, so caches rebuild.
const recipeVersion = "realistic-6"

// glibcDepends is the depend on the system C library. The Debian 12 binaries
// use symbols up to GLIBC_2.36 (Build checks that none needs a newer one),
// so unlike conda-forge's 2.17 the floor is Debian 12's own glibc.
const (
	maxGlibc     = "2.36"
	glibcDepends = "__glibc >=" + maxGlibc + ",<3.0.a0"
)

// pythonABI is the python_abi package every CPython 3.11 build pins, as on
// conda-forge.
const (
	pythonABIVersion = "3.11"
	pythonABIBuild   = "4_cp311"
	pythonABIDepends = "python_abi 3.11.* *_cp311"
)

// pinKind is how dependants pin a package: conda-forge's run_exports
// max_pin.
type pinKind int

const (
	pinMajor pinKind = iota // >=1.2.3,<2.0a0
	pinMinor                // >=1.2.3,<1.3.0a0
)

// recipe describes one conda package made from files of Debian packages.
type recipe struct {
	name string
	// debs are the Debian packages whose files make the package; the first
	// one's version is the package version.
	debs   []string
	noarch conda.NoarchType
	// pin is how packages listing this one in deps pin it; it is also the
	// package's run_exports.
	pin pinKind
	// deps are packages of this channel depended on with their own pin.
	deps []string
	// exactDeps are packages built from the same Debian source, depended on
	// at exactly their version and build (curl → libcurl), as conda-forge does.
	exactDeps []string
	// moreDeps are further depends written as they are: unpinned or
	// loosely pinned ones, mostly of noarch python packages.
	moreDeps []string
	// exclude lists path.Match patterns (of conda paths) of files to leave out.
	exclude []string
	// patches are text edits of Debian files; each must apply.
	patches []patch
	// version overrides condaVersion for odd Debian version schemes.
	version func(debVersion string) (string, error)
	// finish adds what Debian does not ship and sets special metadata.
	finish func(p *pkgbuild.Package, debs map[string][]debEntry) error
	// compileStdlib has the package's own python compile its standard
	// library's .pyc (compileStdlib in pyc.go), after finish.
	compileStdlib bool
	// buildSuffix ends the build string ("_cpython" for the interpreter).
	buildSuffix string
	license     string
	summary     string
}

// patch replaces old by new in the file at path (a conda path).
type patch struct{ path, old, new string }

// pythonDeps are the depends of every noarch python package here.
var pythonDeps = []string{"python >=3.8"}

// recipes lists the packages made from Debian 12 binaries. A package may
// only name packages listed before it in deps and exactDeps.
var recipes = []*recipe{
	{name: "libzlib", debs: []string{"zlib1g"}, license: "Zlib", summary: "zlib compression library (shared library)"},
	{name: "zlib", debs: []string{"zlib1g-dev"}, exactDeps: []string{"libzlib"}, exclude: []string{"lib/*.a", "lib/pkgconfig"},
		license: "Zlib", summary: "zlib headers and development symlink"},
	{name: "openssl", debs: []string{"libssl3", "openssl"}, moreDeps: []string{"ca-certificates"}, exclude: []string{"bin/c_rehash"},
		license: "Apache-2.0", summary: "OpenSSL 3 libraries and command line tool"},
	{name: "libffi", debs: []string{"libffi8"}, license: "MIT", summary: "Foreign function interface library"},
	{name: "libexpat", debs: []string{"libexpat1"}, license: "MIT", summary: "Expat XML parser library"},
	{name: "bzip2", debs: []string{"libbz2-1.0"}, license: "bzip2-1.0.6", summary: "bzip2 compression library"},
	{name: "xz", debs: []string{"liblzma5"}, license: "0BSD", summary: "LZMA compression library"},
	{name: "libuuid", debs: []string{"libuuid1"}, license: "BSD-3-Clause", summary: "UUID library from util-linux"},
	{name: "libxcrypt", debs: []string{"libcrypt1"}, license: "LGPL-2.1-or-later", summary: "crypt(3) library"},
	{name: "libsqlite", debs: []string{"libsqlite3-0"}, license: "blessing", summary: "SQLite library"},
	{name: "libdb", debs: []string{"libdb5.3"}, license: "AGPL-3.0-only", summary: "Berkeley DB 5.3 library"},
	{name: "ncurses", debs: []string{"libncursesw6", "libtinfo6"}, license: "X11", summary: "ncurses terminal libraries"},
	{name: "readline", debs: []string{"libreadline8"}, deps: []string{"ncurses"}, license: "GPL-3.0-only", summary: "GNU readline library"},
	{name: "krb5", debs: []string{"libgssapi-krb5-2", "libkrb5-3", "libk5crypto3", "libkrb5support0", "libcom-err2", "libkeyutils1"},
		deps: []string{"openssl"}, pin: pinMinor, license: "MIT", summary: "Kerberos 5 libraries"},
	{name: "libnsl", debs: []string{"libnsl2", "libtirpc3"}, deps: []string{"krb5"}, license: "LGPL-2.1-only", summary: "NIS library with libtirpc"},
	{name: "oniguruma", debs: []string{"libonig5"}, license: "BSD-2-Clause", summary: "Regular expression library"},
	{name: "libjq", debs: []string{"libjq1"}, deps: []string{"oniguruma"}, license: "MIT", summary: "jq library"},
	{name: "jq", debs: []string{"jq"}, exactDeps: []string{"libjq"}, license: "MIT", summary: "Command-line JSON processor"},
	{name: "libcurl", debs: []string{
		"libcurl4",
		// curl's own private libraries, which no other package here needs.
		"libbrotli1", "libidn2-0", "libunistring2", "libldap-2.5-0", "libsasl2-2", "libsasl2-modules-db",
		"libgnutls30", "libp11-kit0", "libtasn1-6", "libnettle8", "libhogweed6", "libgmp10",
		"libnghttp2-14", "libpsl5", "librtmp1", "libssh2-1", "libzstd1",
	}, deps: []string{"libzlib", "openssl", "krb5", "libdb", "libffi"}, license: "curl", summary: "URL transfer library"},
	{name: "curl", debs: []string{"curl"}, deps: []string{"libzlib", "openssl"}, exactDeps: []string{"libcurl"},
		license: "curl", summary: "Command line tool for transferring data with URLs"},
	{name: "ca-certificates", debs: []string{"ca-certificates"}, noarch: conda.NoarchGeneric,
		version: dateVersion, finish: finishCACertificates, license: "MPL-2.0", summary: "Mozilla CA certificates"},
	{name: "python",
		debs: []string{"python3.11", "python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib"},
		deps: []string{"bzip2", "libexpat", "libffi", "libnsl", "libsqlite", "libuuid", "libxcrypt",
			"libzlib", "ncurses", "openssl", "readline", "xz", "libdb"},
		moreDeps: []string{pythonABIDepends},
		// Debian's sitecustomize.py is an absolute link into /etc; finishPython writes ours.
		// EXTERNALLY-MANAGED (PEP 668) hands the interpreter to apt: pip
		// refuses to install into it. conda's python has no such file.
		exclude: []string{"lib/python3.11/sitecustomize.py", "lib/python3.11/EXTERNALLY-MANAGED"},
		// Debian installs into <prefix>/local/lib/python3.11/dist-packages
		// by default; conda's python (and pip in it) into site-packages.
		patches: []patch{{"lib/python3.11/sysconfig.py",
			"        else:\n            prefix_scheme = 'posix_local'\n",
			"        else:\n            prefix_scheme = 'posix_prefix'  # condabox: conda's site-packages\n"}},
		finish:        finishPython,
		compileStdlib: true,
		buildSuffix:   "_cpython",
		license:       "Python-2.0", summary: "CPython 3.11 interpreter and standard library"},
	{name: "six", debs: []string{"python3-six"}, noarch: conda.NoarchPython, moreDeps: pythonDeps,
		license: "MIT", summary: "Python 2 and 3 compatibility utilities"},
	{name: "idna", debs: []string{"python3-idna"}, noarch: conda.NoarchPython, moreDeps: pythonDeps,
		license: "BSD-3-Clause", summary: "Internationalized domain names for Python"},
	{name: "certifi", debs: []string{"python3-certifi"}, noarch: conda.NoarchPython, moreDeps: pythonDeps,
		// Debian's certifi answers the system bundle in /etc; a conda
		// certifi answers the cacert.pem it ships.
		patches: []patch{{"site-packages/certifi/core.py",
			"DEBIAN_CA_CERTS_PATH = '/etc/ssl/certs/ca-certificates.crt'",
			"DEBIAN_CA_CERTS_PATH = __file__.rpartition('/')[0] + '/cacert.pem'"}},
		license: "MPL-2.0", summary: "Mozilla CA bundle for Python"},
	{name: "charset-normalizer", debs: []string{"python3-charset-normalizer"}, noarch: conda.NoarchPython, moreDeps: pythonDeps,
		license: "MIT", summary: "Charset detection for Python"},
	{name: "urllib3", debs: []string{"python3-urllib3"}, noarch: conda.NoarchPython,
		moreDeps: append([]string{"six >=1.12"}, pythonDeps...), // Debian's 1.26 imports the real six, not a vendored copy
		license:  "MIT", summary: "HTTP library with thread-safe connection pooling"},
	// Debian's pip is unbundled; its wheel (python3-pip-whl, for venvs)
	// holds the vendored libraries, as conda-forge's pip does.
	{name: "pip", debs: []string{"python3-pip-whl"}, noarch: conda.NoarchPython, moreDeps: pythonDeps, finish: finishPip,
		license: "MIT", summary: "The PyPA recommended tool for installing Python packages"},
	{name: "requests", debs: []string{"python3-requests"}, noarch: conda.NoarchPython,
		moreDeps: append([]string{"certifi >=2017.4.17", "charset-normalizer >=2", "idna >=2.5,<4", "urllib3 >=1.21.1,<1.27"}, pythonDeps...),
		license:  "Apache-2.0", summary: "HTTP for Humans"},
}

// dateVersion turns a date-versioned Debian package ("20250419~deb12u2")
// into conda-forge's form for ca-certificates ("2025.4.19").
func dateVersion(debVersion string) (string, error) {
	v, err := condaVersion(debVersion)
	if err != nil {
		return "", err
	}
	var y, m, d int
	if n, _ := fmt.Sscanf(v, "%4d%2d%2d", &y, &m, &d); n != 3 || len(v) != 8 {
		return "", fmt.Errorf("date version of Debian version %q: want YYYYMMDD, got %q", debVersion, v)
	}
	return fmt.Sprintf("%d.%d.%d", y, m, d), nil
}

// finishCACertificates concatenates Debian's Mozilla certificates into the
// bundle conda-forge's ca-certificates ships, ssl/cacert.pem (with the
// ssl/cert.pem alias), in the sorted order of their file names.
func finishCACertificates(p *pkgbuild.Package, debs map[string][]debEntry) error {
	var bundle bytes.Buffer
	for _, e := range debs["ca-certificates"] {
		if path.Dir(e.Name) == "usr/share/ca-certificates/mozilla" && strings.HasSuffix(e.Name, ".crt") {
			bundle.Write(e.Data)
		}
	}
	if bundle.Len() == 0 {
		return fmt.Errorf("ca-certificates: no usr/share/ca-certificates/mozilla/*.crt in the Debian package")
	}
	p.Files = append(p.Files,
		pkgbuild.File{Path: "ssl/cacert.pem", Mode: 0o644, Data: bundle.Bytes()},
		pkgbuild.File{Path: "ssl/cert.pem", Mode: fs.ModeSymlink | 0o777, LinkTarget: "cacert.pem"})
	return nil
}

// finishPip unpacks the pip wheel of python3-pip-whl into site-packages/
// and takes pip's entry points from its entry_points.txt.
func finishPip(p *pkgbuild.Package, debs map[string][]debEntry) error {
	var whl []byte
	for _, e := range debs["python3-pip-whl"] {
		if b := path.Base(e.Name); strings.HasPrefix(b, "pip-") && strings.HasSuffix(b, ".whl") {
			whl = e.Data
		}
	}
	if whl == nil {
		return fmt.Errorf("pip: no usr/share/python-wheels/pip-*.whl in python3-pip-whl")
	}
	zr, err := zip.NewReader(bytes.NewReader(whl), int64(len(whl)))
	if err != nil {
		return fmt.Errorf("pip: the wheel: %w", err)
	}
	var entries []debEntry
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if !fs.ValidPath(f.Name) {
			return fmt.Errorf("pip: the wheel holds %q", f.Name)
		}
		r, err := f.Open()
		if err != nil {
			return fmt.Errorf("pip: the wheel's %s: %w", f.Name, err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return fmt.Errorf("pip: the wheel's %s: %w", f.Name, err)
		}
		p.Files = append(p.Files, pkgbuild.File{Path: "site-packages/" + f.Name, Mode: 0o644, Data: data})
		entries = append(entries, debEntry{Name: f.Name, Data: data})
	}
	eps, err := entryPoints(entries)
	if err != nil {
		return fmt.Errorf("pip: %w", err)
	}
	p.EntryPoints = append(p.EntryPoints, eps...)
	return nil
}

// sitecustomize makes the interpreter see the site-packages of its conda
// prefix: Debian's site.py only adds dist-packages directories of /usr.
const sitecustomize = `# Added by condabox's realistic test channel: Debian's site.py looks for
# dist-packages under /usr only, conda packages live in this prefix.
import os
import site
import sys

site.addsitedir(os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2], "site-packages"))
`

// finishPython adds the conda python layout Debian lacks: the python3 and
// python commands, sitecustomize.py and the run_exports every CPython has.
func finishPython(p *pkgbuild.Package, _ map[string][]debEntry) error {
	p.Files = append(p.Files,
		pkgbuild.File{Path: "bin/python3", Mode: fs.ModeSymlink | 0o777, LinkTarget: "python3.11"},
		pkgbuild.File{Path: "bin/python", Mode: fs.ModeSymlink | 0o777, LinkTarget: "python3.11"},
		pkgbuild.File{Path: "lib/python3.11/sitecustomize.py", Mode: 0o644, Data: []byte(sitecustomize)},
	)
	p.RunExports = &conda.RunExports{Weak: []string{pythonABIDepends}, Noarch: []string{"python"}}
	return nil
}

// pythonABIPackage is the empty python_abi package that ties compiled
// packages to CPython 3.11, as conda-forge's does.
func pythonABIPackage() *pkgbuild.Package {
	return &pkgbuild.Package{
		Record: conda.PackageRecord{
			Name: "python_abi", Version: conda.MustParseVersion(pythonABIVersion), Build: pythonABIBuild, BuildNumber: 4,
			Depends: []string{}, Constrains: []string{"python 3.11.* *_cpython"}, Subdir: "linux-64",
			License: "BSD-3-Clause", Timestamp: buildTimestamp,
		},
		About: map[string]any{"summary": "Metapackage to select the Python ABI", "license": "BSD-3-Clause"},
	}
}

// pinSpec is how a dependant depends on name at version, by kind.
func pinSpec(name, version string, kind pinKind) (string, error) {
	parts := strings.Split(version, ".")
	var major, minor int
	if _, err := fmt.Sscanf(parts[0], "%d", &major); err != nil {
		return "", fmt.Errorf("pin %s %q: version does not start with a number", name, version)
	}
	if kind == pinMajor {
		return fmt.Sprintf("%s >=%s,<%d.0a0", name, version, major+1), nil
	}
	if len(parts) < 2 {
		return "", fmt.Errorf("pin %s %q: version has no minor component", name, version)
	}
	if _, err := fmt.Sscanf(parts[1], "%d", &minor); err != nil {
		return "", fmt.Errorf("pin %s %q: minor component is not a number", name, version)
	}
	return fmt.Sprintf("%s >=%s,<%d.%d.0a0", name, version, major, minor+1), nil
}

// allDebs returns every Debian package the recipes use, sorted.
func allDebs(rs []*recipe) []string {
	var names []string
	for _, r := range rs {
		names = append(names, r.debs...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
