package synthetic

import (
	"strconv"
	"strings"
)

// curated is a hand-written package of the core, expanded into one record
// per version × variant × build number. Templates in build, depends and
// constrains use these placeholders:
//
//	{ver} version; {vminor} its major.minor; {vtag} its major and minor digits
//	{py} {pytag} {pynext} the Python variant: 3.12, 312, 3.13
//	{blas} openblas or mkl; {blasdep} the matching implementation dependency
//	{bn} build number; {hash} seven random hex digits
//
// A depends entry "{PY}" stands for the python and python_abi pair of the
// variant, "{NUMPY}" for the NumPy pin conda-forge used with that Python.
type curated struct {
	name       string
	noarch     string // "", "python" or "generic"; non-empty means subdir noarch
	versions   []string
	variants   variantKind
	builds     int // build numbers per version and variant, from bnBase
	bnBase     int
	build      string
	depends    []string
	constrains []string
	license    string
}

// variantKind says what a curated package is built once per.
type variantKind int

const (
	noVariant     variantKind = iota
	pythonVariant             // pythons
	blasVariant               // blasImpls
)

// pythons are the Python minor versions every compiled package is built for.
var pythons = []string{"3.9", "3.10", "3.11", "3.12", "3.13"}

// blasImpl is a BLAS implementation variant of libblas and its siblings.
type blasImpl struct {
	name          string
	dep           string
	trackFeatures string // conda-forge de-prioritises mkl this way
}

var blasImpls = []blasImpl{
	{name: "openblas", dep: "libopenblas >=0.3.27,<1.0a0"},
	{name: "mkl", dep: "mkl >=2024.1.0,<2025.0a0", trackFeatures: "blas_mkl"},
}

// numpyPin is the "{NUMPY}" dependency for a Python variant.
func numpyPin(py string) string {
	if py == "3.13" {
		return "numpy >=2.1.0,<3.0a0"
	}
	return "numpy >=1.23.5,<2.0a0"
}

// pythonDeps is the "{PY}" pair for a Python variant.
func pythonDeps(py string) []string {
	tag := strings.ReplaceAll(py, ".", "")
	return []string{
		"python >=" + py + ",<" + nextMinor(py) + ".0a0",
		"python_abi " + py + ".* *_cp" + tag,
	}
}

const (
	gccLicense = "GPL-3.0-only WITH GCC-exception-3.1"
	glibc      = "__glibc >=2.17"
	libgcc     = "libgcc-ng >=12"
	libstdcxx  = "libstdcxx-ng >=12"
	libzlib    = "libzlib >=1.2.13,<2.0a0"
	blasDeps   = "libblas >=3.9.0,<4.0a0"
	cblasDeps  = "libcblas >=3.9.0,<4.0a0"
	lapackDeps = "liblapack >=3.9.0,<4.0a0"
	noarchPy   = "pyhd8ed1ab_{bn}"
)

// core is the curated part of the channel, with conda-forge's real
// dependency closures for python, numpy, pandas, scipy and scikit-learn.
var core = []curated{
	{name: "_libgcc_mutex", versions: []string{"0.1"}, build: "conda_forge", license: "None"},
	{name: "libgomp", versions: []string{"13.2.0", "14.1.0"}, builds: 3, build: "h77fa898_{bn}",
		depends: []string{"_libgcc_mutex 0.1 conda_forge"}, license: gccLicense},
	{name: "_openmp_mutex", versions: []string{"4.5"}, bnBase: 2, build: "{bn}_gnu",
		depends: []string{"_libgcc_mutex 0.1 conda_forge", "libgomp >=7.5.0"}, license: "BSD-3-Clause"},
	{name: "libgcc-ng", versions: []string{"12.3.0", "13.2.0", "14.1.0"}, builds: 3, build: "h{hash}_{bn}",
		depends: []string{"_libgcc_mutex 0.1 conda_forge", "_openmp_mutex >=4.5"}, license: gccLicense},
	{name: "libstdcxx-ng", versions: []string{"12.3.0", "13.2.0", "14.1.0"}, builds: 3, build: "h{hash}_{bn}",
		depends: []string{libgcc}, license: gccLicense},
	{name: "libgfortran5", versions: []string{"13.2.0", "14.1.0"}, builds: 2, build: "h{hash}_{bn}",
		depends: []string{libgcc}, constrains: []string{"libgfortran-ng {ver} *_{bn}"}, license: gccLicense},
	{name: "libgfortran-ng", versions: []string{"13.2.0", "14.1.0"}, builds: 2, build: "h{hash}_{bn}",
		depends: []string{"libgfortran5 {ver} *_{bn}"}, license: gccLicense},
	{name: "libzlib", versions: []string{"1.2.13", "1.3.1"}, builds: 2, build: "h{hash}_{bn}",
		depends: []string{libgcc, glibc}, constrains: []string{"zlib {ver} *_{bn}"}, license: "Zlib"},
	{name: "zlib", versions: []string{"1.2.13", "1.3.1"}, builds: 2, build: "h{hash}_{bn}",
		depends: []string{libgcc, "libzlib {ver} *_{bn}", glibc}, license: "Zlib"},
	{name: "bzip2", versions: []string{"1.0.8"}, builds: 3, build: "h{hash}_{bn}",
		depends: []string{libgcc, glibc}, license: "bzip2-1.0.6"},
	{name: "xz", versions: []string{"5.2.6", "5.4.6"}, build: "h{hash}_{bn}",
		depends: []string{libgcc, glibc}, license: "LGPL-2.1 and GPL-2.0"},
	{name: "libffi", versions: []string{"3.4.2", "3.4.6"}, builds: 2, build: "h{hash}_{bn}",
		depends: []string{libgcc, glibc}, license: "MIT"},
	{name: "ncurses", versions: []string{"6.4", "6.4.20240210", "6.5"}, build: "h{hash}_{bn}",
		depends: []string{libgcc, glibc}, license: "X11 AND BSD-3-Clause"},
	{name: "readline", versions: []string{"8.2"}, builds: 2, build: "h{hash}_{bn}",
		depends: []string{libgcc, "ncurses >=6.3,<7.0a0", glibc}, license: "GPL-3.0-only"},
	{name: "tk", versions: []string{"8.6.13"}, build: "noxft_h{hash}_{bn}",
		depends: []string{libgcc, libzlib, glibc}, license: "TCL"},
	{name: "libsqlite", versions: []string{"3.45.3", "3.46.0"}, build: "h{hash}_{bn}",
		depends: []string{libgcc, libzlib, glibc}, license: "Unlicense"},
	{name: "libuuid", versions: []string{"2.38.1"}, build: "h{hash}_{bn}",
		depends: []string{libgcc, glibc}, license: "BSD-3-Clause"},
	{name: "libnsl", versions: []string{"2.0.1"}, build: "h{hash}_{bn}",
		depends: []string{libgcc, glibc}, license: "LGPL-2.1-only"},
	{name: "libxcrypt", versions: []string{"4.4.36"}, build: "h{hash}_{bn}",
		depends: []string{libgcc, glibc}, license: "LGPL-2.1-or-later"},
	{name: "libexpat", versions: []string{"2.6.2"}, build: "h{hash}_{bn}",
		depends: []string{libgcc, glibc}, constrains: []string{"expat 2.6.2.*"}, license: "MIT"},
	{name: "ca-certificates", versions: []string{"2024.2.2", "2024.7.4"}, build: "hbcca054_{bn}",
		license: "ISC"},
	{name: "openssl", versions: []string{"3.2.1", "3.3.1"}, builds: 2, build: "h{hash}_{bn}",
		depends: []string{"ca-certificates", libgcc, glibc}, constrains: []string{"pyopenssl >=22.1"},
		license: "Apache-2.0"},
	{name: "ld_impl_linux-64", versions: []string{"2.40"}, build: "hf3520f5_{bn}",
		constrains: []string{"binutils_impl_linux-64 2.40"}, license: "GPL-3.0-only"},
	{name: "python", versions: []string{"3.9.19", "3.10.14", "3.11.8", "3.11.9", "3.12.3", "3.12.4", "3.13.0"},
		builds: 2, build: "h{hash}_{bn}_cpython",
		depends: []string{"bzip2 >=1.0.8,<2.0a0", "ld_impl_linux-64 >=2.36.1", "libexpat >=2.6.2,<3.0a0",
			"libffi >=3.4,<4.0a0", libgcc, "libnsl >=2.0.1,<2.1.0a0", "libsqlite >=3.45.3,<4.0a0",
			"libuuid >=2.38.1,<3.0a0", "libxcrypt >=4.4.36", libzlib, "ncurses >=6.4.20240210,<7.0a0",
			"openssl >=3.2.1,<4.0a0", "readline >=8.2,<9.0a0", "tk >=8.6.13,<8.7.0a0", "tzdata",
			"xz >=5.2.6,<6.0a0", glibc},
		constrains: []string{"python_abi {vminor}.* *_cp{vtag}"}, license: "Python-2.0"},
	{name: "python_abi", versions: pythons, bnBase: 5, build: "{bn}_cp{vtag}",
		constrains: []string{"python {ver}.* *_cpython"}, license: "BSD-3-Clause"},
	{name: "libopenblas", versions: []string{"0.3.25", "0.3.27"}, builds: 2, build: "pthreads_h{hash}_{bn}",
		depends:    []string{libgcc, "libgfortran-ng", "libgfortran5 >=12.3.0", glibc},
		constrains: []string{"openblas {ver} *_{bn}"}, license: "BSD-3-Clause"},
	{name: "tbb", versions: []string{"2021.12.0"}, build: "h{hash}_{bn}",
		depends: []string{libgcc, libstdcxx, glibc}, license: "Apache-2.0"},
	{name: "mkl", versions: []string{"2023.2.0", "2024.1.0"}, build: "h{hash}_{bn}",
		depends: []string{"_openmp_mutex >=4.5", "tbb 2021.*", glibc},
		license: "LicenseRef-IntelSimplifiedSoftwareOct2022"},
	{name: "libblas", versions: []string{"3.9.0"}, variants: blasVariant, builds: 3, bnBase: 20,
		build: "{bn}_linux64_{blas}", depends: []string{"{blasdep}"},
		constrains: []string{"libcblas 3.9.0 {bn}_linux64_{blas}", "liblapack 3.9.0 {bn}_linux64_{blas}",
			"liblapacke 3.9.0 {bn}_linux64_{blas}"}, license: "BSD-3-Clause"},
	{name: "libcblas", versions: []string{"3.9.0"}, variants: blasVariant, builds: 3, bnBase: 20,
		build: "{bn}_linux64_{blas}", depends: []string{"libblas 3.9.0 {bn}_linux64_{blas}"},
		constrains: []string{"liblapack 3.9.0 {bn}_linux64_{blas}"}, license: "BSD-3-Clause"},
	{name: "liblapack", versions: []string{"3.9.0"}, variants: blasVariant, builds: 3, bnBase: 20,
		build: "{bn}_linux64_{blas}", depends: []string{"libblas 3.9.0 {bn}_linux64_{blas}"},
		constrains: []string{"libcblas 3.9.0 {bn}_linux64_{blas}"}, license: "BSD-3-Clause"},
	{name: "numpy", versions: []string{"1.24.4", "1.26.4", "2.0.0", "2.1.0"}, variants: pythonVariant, builds: 2,
		build:      "py{pytag}h{hash}_{bn}",
		depends:    []string{blasDeps, cblasDeps, libgcc, lapackDeps, libstdcxx, "{PY}", glibc},
		constrains: []string{"numpy-base <0a0"}, license: "BSD-3-Clause"},
	{name: "pandas", versions: []string{"2.1.4", "2.2.1", "2.2.2"}, variants: pythonVariant, builds: 2,
		build: "py{pytag}h{hash}_{bn}",
		depends: []string{libgcc, libstdcxx, "{NUMPY}", "{PY}", "python-dateutil >=2.8.1",
			"python-tzdata >=2022a", "pytz >=2020.1", glibc},
		constrains: []string{"openpyxl >=3.1.0", "pyarrow >=10.0.1", "matplotlib-base >=3.6.3"},
		license:    "BSD-3-Clause"},
	{name: "scipy", versions: []string{"1.11.4", "1.13.1", "1.14.0"}, variants: pythonVariant, builds: 2,
		build: "py{pytag}h{hash}_{bn}",
		depends: []string{blasDeps, cblasDeps, libgcc, "libgfortran-ng", "libgfortran5 >=12.3.0", lapackDeps,
			libstdcxx, "{NUMPY}", "{PY}", glibc},
		license: "BSD-3-Clause AND MIT"},
	{name: "scikit-learn", versions: []string{"1.4.2", "1.5.1"}, variants: pythonVariant, builds: 2,
		build: "py{pytag}h{hash}_{bn}",
		depends: []string{"_openmp_mutex >=4.5", "joblib >=1.2.0", libgcc, libstdcxx, "{NUMPY}", "{PY}",
			"scipy", "threadpoolctl >=3.1.0", glibc},
		license: "BSD-3-Clause"},
	{name: "r-base", versions: []string{"4.2.3", "4.3.3"}, builds: 2, build: "h{hash}_{bn}",
		depends: []string{blasDeps, libgcc, "libgfortran-ng", "libgfortran5 >=12.3.0", lapackDeps, libstdcxx,
			"readline >=8.2,<9.0a0", libzlib, "xz >=5.2.6,<6.0a0", glibc},
		license: "GPL-2.0-or-later"},
	{name: "tzdata", noarch: "generic", versions: []string{"2024a", "2024b"}, build: "h0c530f3_{bn}",
		license: "LicenseRef-Public-Domain"},
	{name: "pip", noarch: "python", versions: []string{"24.0", "24.2"}, build: noarchPy,
		depends: []string{"python >=3.8", "setuptools", "wheel"}, license: "MIT"},
	{name: "setuptools", noarch: "python", versions: []string{"70.0.0", "72.1.0"}, build: noarchPy,
		depends: []string{"python >=3.8"}, license: "MIT"},
	{name: "wheel", noarch: "python", versions: []string{"0.43.0", "0.44.0"}, build: noarchPy,
		depends: []string{"python >=3.8"}, license: "MIT"},
	{name: "six", noarch: "python", versions: []string{"1.16.0"}, build: noarchPy,
		depends: []string{"python"}, license: "MIT"},
	{name: "pytz", noarch: "python", versions: []string{"2024.1"}, build: noarchPy,
		depends: []string{"python >=3.7"}, license: "MIT"},
	{name: "python-dateutil", noarch: "python", versions: []string{"2.9.0"}, build: noarchPy,
		depends: []string{"python >=3.6", "six >=1.5"}, license: "Apache-2.0"},
	{name: "python-tzdata", noarch: "python", versions: []string{"2024.1"}, build: noarchPy,
		depends: []string{"python >=3.6"}, license: "Apache-2.0"},
	{name: "joblib", noarch: "python", versions: []string{"1.4.2"}, build: noarchPy,
		depends: []string{"python >=3.8", "setuptools"}, license: "BSD-3-Clause"},
	{name: "threadpoolctl", noarch: "python", versions: []string{"3.5.0"}, build: noarchPy,
		depends: []string{"python >=3.8"}, license: "BSD-3-Clause"},
}

// nextMinor returns the minor version after a "major.minor" one: 3.12 → 3.13.
func nextMinor(v string) string {
	major, minor, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(minor)
	return major + "." + strconv.Itoa(n+1)
}

// majorMinor returns the first two components of a version: 3.12.4 → 3.12.
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	return strings.Join(parts[:min(2, len(parts))], ".")
}
