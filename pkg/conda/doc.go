// Package conda is the pure conda model: versions and their order, version
// specs, match specs, package records, repodata documents, package info
// files, channels, platforms and the virtual package model.
//
// It does no network and no disk I/O; packages that fetch, cache, solve or
// install build on it.
package conda
