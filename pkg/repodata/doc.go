// Package repodata is the repodata gateway: it fetches channel indexes,
// caches them the way conda does and loads the records a solve needs.
//
// For each channel × platform (noarch always included), at once and over
// one keep-alive HTTP client, Load uses, in order of preference:
//
//   - CEP-16 sharded repodata (repodata_shards.msgpack.zst): only the
//     shards of the names reachable from the specs are fetched, and cached
//     by their sha256 so a cached shard is never fetched again;
//   - repodata.json.zst, remembered per URL (has_zst) as conda does;
//   - repodata.json.
//
// The cache is conda's: <pkgs_dir>/cache/<hash>.json holds the index and
// <hash>.info.json its ETag, Last-Modified, Cache-Control and has_zst, where
// <hash> is the first 8 hex digits of the md5 of the subdir URL. Entries are
// revalidated with If-None-Match / If-Modified-Since after local_repodata_ttl,
// so an unchanged index costs a 304 and no body. Processes share the cache:
// a file lock per entry serialises refreshes, and files are written to a
// temporary name and renamed, so no reader sees a partial file and a failed
// download leaves the previous copy.
//
// A repodata.json is never decoded whole: one streaming scan, made while it
// downloads, notes where each package name's records lie in the cached file
// (saved as <hash>.names, so a later load skips the scan), and only the names
// reachable from the specs are read back and decoded, keeping memory small
// for a conda-forge-sized index. Shards are cached as
// <pkgs_dir>/cache/shards/<sha256>.msgpack.zst.
//
// Secrets in channel URLs (/t/<token>/, user:password@) are sent to the
// server and nowhere else: errors, logs and the cache's state files carry
// redacted URLs.
package repodata
