// Package synthetic writes a conda-forge-sized channel index that exists
// only as repodata.json, shaped like conda-forge. By default (seed 1) it has
// 36,000 package names and 517,205 records: linux-64 397,190 records in
// 262 MB, noarch 120,015 records in 69 MB.
//
// The shape copied from conda-forge:
//   - compiled Python packages built once per Python 3.9–3.13 (build strings
//     like py312h1a2b3c4_0, depends "python >=3.12,<3.13.0a0" and
//     "python_abi 3.12.* *_cp312"), some also per NumPy pin
//     ("numpy >=1.23.5,<2.0a0");
//   - noarch: python packages (pyhd8ed1ab_0), R packages per r-base, C
//     libraries with run_exports-style pins ("libfoo >=1.2.3,<1.3.0a0") and
//     "__glibc >=2.17" on every linux-64 binary;
//   - BLAS variants: libblas 3.9.0 *_openblas and *_mkl, the mkl ones with
//     track_features;
//   - several versions per name and several builds per version, chains of
//     dependencies forty packages long, a few packages with 25–60 depends,
//     constrains, md5/sha256/size/timestamp/license on every record;
//   - older records in "packages" (.tar.bz2), newer ones in
//     "packages.conda", a few in both.
//
// A curated core — python, numpy, pandas, scipy, scikit-learn, the BLAS
// stack and the compiler runtimes — has conda-forge's real dependency
// closures, so resolving "python numpy pandas scipy" is a real problem.
// Every other name is generated (r-kalomi, libtesuna, …) and depends only
// on names generated before it or on the core, so the index has no cycles
// and every dependency names a package in the channel.
//
// Output is a pure function of Options: the same seed gives the same bytes.
// Generate streams: it keeps one package's records at a time.
package synthetic
