package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Where a transaction keeps its undo information, inside the prefix so that
// every move is a rename on one filesystem.
const (
	journalName = "conda-meta/.condabox-journal"
	trashName   = ".condabox-trash"
	lockName    = "conda-meta/.condabox-lock"
)

// journalEntry is one line of the journal (JSON lines, each fsynced).
type journalEntry struct {
	// Op is "begin", "create" or "commit".
	Op string `json:"op"`
	// Unlink and Link name the transaction's packages (begin).
	Unlink []string `json:"unlink,omitempty"`
	Link   []string `json:"link,omitempty"`
	// HistorySize is conda-meta/history's length before the transaction,
	// -1 when it did not exist (begin).
	HistorySize int64 `json:"history_size,omitempty"`
	// Paths are prefix-relative paths about to be created (create).
	Paths []string `json:"paths,omitempty"`
}

// journal records a running transaction. Files the transaction removes or
// replaces are renamed into the trash (a mirror of the prefix), never
// deleted, until the commit line is on disk; files it creates are listed in
// the journal before they are written. Undo is therefore: delete the listed
// files, rename the trash back, truncate history.
type journal struct {
	prefix string
	f      *os.File
	// created holds the paths this transaction created, so that replacing
	// one of them (a clobber inside the transaction) deletes it instead of
	// trashing it: the trash must only hold the prefix's old state.
	created map[string]bool
}

// beginJournal creates the journal with its begin line. It fails when a
// journal exists: that transaction must be recovered first.
func beginJournal(prefix string, begin journalEntry) (*journal, error) {
	name := filepath.Join(prefix, journalName)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start transaction in %s: %w", prefix, err)
	}
	j := &journal{prefix: prefix, f: f, created: map[string]bool{}}
	begin.Op = "begin"
	if err := j.append(begin); err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(filepath.Dir(name)); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

// append writes one entry and syncs it: once append returns, a crash
// cannot lose it.
func (j *journal) append(e journalEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	return nil
}

// willCreate makes room for paths and records that the transaction creates
// them. A path that exists is moved to the trash, or deleted when this
// transaction created it.
func (j *journal) willCreate(paths ...string) error {
	for _, p := range paths {
		if err := j.remove(p); err != nil {
			return err
		}
	}
	if err := j.append(journalEntry{Op: "create", Paths: paths}); err != nil {
		return err
	}
	for _, p := range paths {
		j.created[p] = true
	}
	return nil
}

// remove takes a prefix path out of the way: into the trash if it belongs
// to the prefix's old state, deleted if this transaction created it.
// Directories are left alone (they are shared); a missing path is fine.
func (j *journal) remove(rel string) error {
	src := filepath.Join(j.prefix, filepath.FromSlash(rel))
	st, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && st.IsDir()) {
		return nil
	}
	if err != nil {
		return err
	}
	if j.created[rel] {
		return os.Remove(src)
	}
	dst := filepath.Join(j.prefix, trashName, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("move %s aside: %w", rel, err)
	}
	return nil
}

// commit writes the commit line, after which the transaction counts as
// done, then drops the undo information.
func (j *journal) commit() error {
	if err := j.append(journalEntry{Op: "commit"}); err != nil {
		return err
	}
	j.f.Close()
	return finish(j.prefix)
}

// rollback undoes the transaction and removes the journal.
func (j *journal) rollback() error {
	j.f.Close()
	entries, err := readJournal(j.prefix)
	if err != nil {
		return err
	}
	return undo(j.prefix, entries)
}

// Recover completes or undoes a transaction that a crash interrupted in
// prefix: committed ones are finished, others rolled back. It reports
// whether there was one. Recovery is itself safe to interrupt and repeat.
func Recover(prefix string) (bool, error) {
	entries, err := readJournal(prefix)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if len(entries) > 0 && entries[len(entries)-1].Op == "commit" {
		return true, finish(prefix)
	}
	return true, undo(prefix, entries)
}

// readJournal reads the journal's entries. A torn last line (a crash while
// appending it) is ignored: its step had not started.
func readJournal(prefix string) ([]journalEntry, error) {
	name := filepath.Join(prefix, journalName)
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	entries, err := parseJournal(b)
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", name, err)
	}
	return entries, nil
}

// parseJournal decodes the journal's JSON lines.
func parseJournal(b []byte) ([]journalEntry, error) {
	lines := bytes.Split(b, []byte("\n"))
	var out []journalEntry
	for n, l := range lines {
		if len(l) == 0 {
			continue
		}
		var e journalEntry
		if err := json.Unmarshal(l, &e); err != nil {
			if n == len(lines)-1 {
				break // torn last line: no newline yet
			}
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// undo restores the prefix's state before the journal's transaction.
func undo(prefix string, entries []journalEntry) error {
	historySize := int64(-1)
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Op == "begin" {
			historySize = e.HistorySize
		}
		for k := len(e.Paths) - 1; k >= 0; k-- {
			if err := removeCreated(prefix, e.Paths[k]); err != nil {
				return fmt.Errorf("roll back: %w", err)
			}
		}
	}
	if err := restoreTrash(prefix); err != nil {
		return fmt.Errorf("roll back: %w", err)
	}
	if err := restoreHistory(prefix, historySize, len(entries) > 0); err != nil {
		return fmt.Errorf("roll back: %w", err)
	}
	return finish(prefix)
}

// removeCreated deletes a path the transaction created. For a .pyc file it
// also deletes the temporary "<name>.pyc.<number>" files python writes
// before renaming: a compileall killed with us leaves them behind.
func removeCreated(prefix, rel string) error {
	if strings.HasSuffix(rel, ".pyc") {
		dir, base := filepath.Split(filepath.Join(prefix, filepath.FromSlash(rel)))
		entries, _ := os.ReadDir(dir) // a missing dir has no leftovers
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), base+".") {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		}
	}
	return removeFile(prefix, rel)
}

// removeFile deletes a prefix path if it exists, and the directories it
// leaves empty.
func removeFile(prefix, rel string) error {
	name := filepath.Join(prefix, filepath.FromSlash(rel))
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		st, serr := os.Lstat(name)
		if serr == nil && st.IsDir() {
			return nil // a non-empty directory: shared with others
		}
		return err
	}
	pruneEmptyDirs(prefix, filepath.Dir(name))
	return nil
}

// pruneEmptyDirs removes dir and its parents while they are empty, up to
// (not including) prefix, and never conda-meta.
func pruneEmptyDirs(prefix, dir string) {
	for dir != prefix && strings.HasPrefix(dir, prefix+string(filepath.Separator)) &&
		dir != filepath.Join(prefix, "conda-meta") {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// restoreTrash renames every trashed file back to its place and then
// recreates the directory entries of the restored conda-meta records.
func restoreTrash(prefix string) error {
	trash := filepath.Join(prefix, trashName)
	var restored []string
	err := filepath.WalkDir(trash, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == trash {
			return filepath.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(trash, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(prefix, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if filepath.Dir(rel) == "conda-meta" {
			restored = append(restored, dst)
		}
		return os.Rename(p, dst)
	})
	if err != nil {
		return err
	}
	for _, name := range restored {
		var r PrefixRecord
		if err := readJSON(name, &r); err != nil {
			return err
		}
		for _, p := range r.PathsData.Paths {
			if p.PathType == "directory" {
				if err := os.MkdirAll(filepath.Join(prefix, filepath.FromSlash(p.Path)), 0o755); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// restoreHistory cuts conda-meta/history back to size (-1: remove it).
// Without a begin entry nothing was appended.
func restoreHistory(prefix string, size int64, begun bool) error {
	if !begun {
		return nil
	}
	name := filepath.Join(prefix, "conda-meta", "history")
	if size < 0 {
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return os.Truncate(name, size)
}

// finish drops the trash and then the journal: the journal goes last, so
// a crash in between repeats the cleanup.
func finish(prefix string) error {
	if err := os.RemoveAll(filepath.Join(prefix, trashName)); err != nil {
		return fmt.Errorf("remove %s: %w", trashName, err)
	}
	name := filepath.Join(prefix, journalName)
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(name))
}

// syncDir fsyncs a directory so that renames and creations in it persist.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
