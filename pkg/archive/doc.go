// Package archive reads and writes conda package archives — `.conda` (a
// zip holding info-<dist>.tar.zst and pkg-<dist>.tar.zst) and legacy
// `.tar.bz2` — as streams, and extracts them into conda's package-cache
// layout:
//
//	<pkgs_dir>/<name>-<version>-<build>/
//	    info/index.json, info/paths.json, ...   (metadata)
//	    bin/..., lib/..., site-packages/...     (payload, as in the prefix)
//
// It owns the safety of that step. Every entry is checked before anything is
// written, and an archive is rejected with one *Error naming the archive and
// the entry when it holds an absolute path, a `..` component, a symlink or
// hardlink that points outside the package, a device, fifo or socket, a
// duplicate entry, a path below a file or symlink, or more bytes than Limits
// allow (size of an entry, total size, compression ratio: zip bombs).
//
// Entry points:
//
//   - Extract writes the whole package into a temporary directory beside
//     dest and renames it into place only on success, so a failure leaves
//     nothing behind. The two inner tarballs of a .conda are decoded
//     concurrently.
//   - ExtractInfo does the same for info/ only (cheap metadata access), and
//     ExtractSome for the entries a predicate keeps.
//   - ReadInfo returns the info/ files in memory.
//   - Walk streams every entry (info/ first for .conda) to a callback without
//     writing anything.
//   - Load reads a whole package into memory as Files, a read-only fs.FS
//     (with Lstat and ReadLink), for consumers such as the image builder
//     that copy package contents straight into tar layers without
//     extracting them: creating a package's files costs more than
//     decompressing it on many disks. Files.Extract writes them out.
//   - Create writes an archive in either format from the entries a walk
//     gives: Walk's of another archive (converting it, micromamba's
//     `package transmute`) or WalkDir's of an extracted package folder
//     (`package compress`). Write does the same to an io.Writer; the
//     test channels' package writer uses it too.
//
// Extractor carries the Limits; the package-level functions use
// DefaultLimits.
package archive
