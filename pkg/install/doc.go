// Package install links extracted conda packages into a prefix and removes
// them again, as transactions that survive a crash.
//
// Input is the package cache's layout: a folder per package holding info/
// (index.json, paths.json, repodata_record.json, link.json, or for old
// packages files and has_prefix) and the payload. Sync makes a prefix hold
// exactly a target set of packages (install, update and removal are the
// same operation on different sets); Remove unlinks packages by name.
//
// The steps follow conda and rattler, one file each: link.go places files
// (hardlink from the cache on the same filesystem, else copy; softlinks;
// directories), prefix.go replaces prefix placeholders (text, with the
// long-shebang rewrite, and NUL-padded binary), python.go maps noarch
// python packages and compiles their .pyc files, entrypoints.go writes
// entry point scripts, scripts.go runs post-link and pre-unlink scripts,
// condameta.go writes conda-meta records and history (condameta_decode.go
// reads their big members by hand, on internal/jsonscan), clobber.go resolves
// two packages writing one path, unlink.go removes a package, and
// transaction.go and journal.go order and protect the whole.
//
// Any error rolls the transaction back, a failing post-link script
// included (its output is in the error). A failing pre-unlink script only
// warns, as in conda, so that a broken script cannot pin its package.
// Transactions on one prefix are serialized by a lock file in conda-meta.
//
// # Crash safety
//
// Invariant: after Recover (which every transaction runs first, under the
// prefix's lock), a prefix is in the state before the last transaction or
// in the state after it, whatever point a kill -9 interrupted it at. Every
// conda-meta record then describes files that exist with the recorded
// content, and no file that the transaction created is left without a
// record. Files written by link scripts are not tracked (neither conda nor
// rattler tracks them) and .messages.txt may remain.
//
// It holds because nothing of the old state is deleted before the commit:
// files to remove or replace are renamed into <prefix>/.condabox-trash, and
// every path the transaction creates is written, fsynced, to
// conda-meta/.condabox-journal before the file is. Rolling back deletes the
// journaled paths, renames the trash back and truncates conda-meta/history;
// each of those steps is idempotent, so an interrupted rollback is simply
// run again. The fsynced "commit" line is the point after which Recover
// finishes (drops the trash) instead of rolling back. Payload files are not
// fsynced: the guarantee covers process crashes; after a power loss the
// journal and conda-meta records are intact but file contents may not be.
package install
