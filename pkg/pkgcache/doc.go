// Package pkgcache is conda's package cache: for each package, its archive
// and the folder it extracts to, side by side in a pkgs directory.
//
//	<pkgs_dir>/<dist>.conda            (or .tar.bz2) the verified download
//	<pkgs_dir>/<dist>/                 the extracted package (pkg/archive)
//	<pkgs_dir>/<dist>/info/repodata_record.json   the record: url, channel,
//	                                   fn, md5, sha256, size ...; written last,
//	                                   so its presence marks a complete entry
//	<pkgs_dir>/urls.txt                every downloaded URL, one a line
//
// where <dist> is <name>-<version>-<build>. Open takes the pkgs
// directories in order, as pkg/config resolves them (CONDA_PKGS_DIRS,
// pkgs_dirs, else $MAMBA_ROOT_PREFIX/pkgs); the first writable one receives
// new packages, the others are read when they hold a valid entry.
//
// Cache.Get ensures a package is downloaded, verified and extracted and
// returns its folder; pkg/install links from there. It is safe under
// concurrency, also between processes sharing one cache: each entry is
// guarded by a file lock (<dist>.lock, github.com/gofrs/flock), and files
// appear by atomic rename. An entry found partial or corrupt (no or
// mismatching repodata_record.json, archive of the wrong size or checksum,
// an extraction cut short) is extracted or fetched again. Cache.GetArchive
// is for readers that need no folder (the image builder reads archives into
// memory): the folder if the cache has one, else the archive, which
// Cache.Ready downloads or verifies only when the reader reads it.
//
// Clean is micromamba's clean over the writable pkgs directories: the
// repodata index cache (<pkgs_dir>/cache, pkg/repodata's), the archives,
// the extracted folders no environment uses, the lock files, or every
// entry. It takes each entry's lock without waiting and skips what another
// process holds, so a running create is never cut short.
package pkgcache
