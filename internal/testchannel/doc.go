// Package testchannel groups the test fixtures that make real conda
// channels without conda-forge: pkgbuild writes conda packages in both
// archive formats, index writes a channel's repodata (JSON, zstd and CEP-16
// shards), and sibling packages serve and populate such channels.
package testchannel
