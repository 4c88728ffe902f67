// Package realistic builds the realistic test channel: real Debian 12
// binaries repackaged as conda packages, plus synthetic packages for the
// edge cases installers must handle. Build writes it; testchannel's CLI and
// tests call Build.
//
// # Packages made from Debian binaries
//
// `apt-get download` fetches the .debs (the only network access);
// `dpkg-deb --fsys-tarfile` unpacks them. Files move to conda paths
// (/usr/lib/x86_64-linux-gnu → lib/, /usr/bin → bin/, dist-packages →
// site-packages/ of noarch python packages); docs and man pages are left out.
// Every ELF file that needs a non-glibc library gets an RPATH relative to
// $ORIGIN pointing at the prefix's lib/ (bin/ → $ORIGIN/../lib,
// lib-dynload → $ORIGIN/../..), so nothing needs LD_LIBRARY_PATH. Build
// proves that each needed library comes from the package or its depends,
// and that no file needs a glibc newer than the declared __glibc floor.
//
// The linux-64 packages are named, split and pinned as on conda-forge:
// python 3.11 (with python_abi, sitecustomize.py adding the prefix's
// site-packages, which Debian's site.py would not), openssl, ca-certificates
// (noarch generic, ssl/cacert.pem), libzlib and zlib, jq with libjq and
// oniguruma, curl with libcurl (which bundles curl's private libraries),
// krb5, ncurses, readline, xz, bzip2, libffi, libexpat, libsqlite, libuuid,
// libxcrypt, libnsl and libdb. python ships its standard library's
// __pycache__/*.cpython-311.pyc, as conda-forge's does: compiled at build
// time by the packaged interpreter in timestamp mode against sources given
// the archive's mtime, so they are valid after extraction (pyc.go).
// Libraries carry run_exports-like
// pins in their dependants' depends. The noarch python packages requests,
// urllib3, six, idna, certifi (answering its own cacert.pem) and
// charset-normalizer (entry point "normalizer" in info/link.json, from the
// wheel's entry_points.txt) store site-packages/ as conda does; so does pip,
// unpacked from Debian's pip wheel (python3-pip-whl, which keeps pip's
// vendored libraries), with its pip, pip3 and pip3.11 entry points.
//
// Packages from .debs are cached under Options.CacheDir, keyed by the
// exact Debian versions of their inputs and recipeVersion: a warm rebuild
// runs neither a download nor packaging. On the 2-core development machine
// a cold build of both formats takes about 40 s (10 s for .conda only;
// compiling and packing python's .pyc adds about 3 s of CPU), a warm one
// 2–3 s (BenchmarkBuildWarm).
//
// # Edge-case packages
//
//   - python_abi 3.11 4_cp311: empty package with constrains, as conda-forge's.
//   - edge-text-placeholder: bin/edge-text-prefix, a shell script, and a data
//     file holding the text placeholder TextPlaceholder; after install the
//     script prints the prefix.
//   - edge-binary-placeholder: bin/edge-binary-prefix, a C program (compiled
//     with gcc at build time) holding BinaryPlaceholder as a binary
//     placeholder; it prints the string, so after a correct NUL-padded
//     replacement it prints the install prefix.
//   - edge-link-scripts: bin/.edge-link-scripts-post-link.sh and
//     -pre-unlink.sh, which write $PREFIX/.edge-link-scripts-<kind>.marker
//     with $PKG_NAME $PKG_VERSION $PKG_BUILDNUM and append to
//     $PREFIX/.messages.txt.
//   - edge-activate (noarch generic): etc/conda/activate.d and deactivate.d
//     scripts (EDGE_ACTIVATE_PREFIX) and etc/conda/env_vars.d/edge-activate.json
//     (EDGE_ACTIVATE_VAR=set-by-env-vars-d).
//   - edge-symlinks (noarch generic): relative symlinks to a file, to a
//     directory and through that directory link, a bin/ link to a script,
//     and two empty directories (one nested).
//   - edge-constrains: constrains "edge-versions <2" and an openssl range
//     without depending on either.
//   - edge-features 1.0.0: two builds, one with track_features "edge_debug".
//   - edge-versions: 1.0.0 and 2.0.0, the latter in build numbers 0 and 1.
//   - edge-arch: a script printing the machine, in linux-64 and in
//     linux-aarch64 (the channel's only linux-aarch64 package).
package realistic
