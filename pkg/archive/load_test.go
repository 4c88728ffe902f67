package archive_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/pkg/archive"
)

// sameAsExtracted checks that files holds what Extract wrote to dir: the
// same paths, types, bytes, symlink targets, mtimes of regular files and
// permission bits (less the umask Extract's creates went through). It
// reports whether the package has a symlink to nothing (zlib's lib/libz.so
// names a file of libzlib).
func sameAsExtracted(t *testing.T, files *archive.Files, dir string, umask fs.FileMode) (dangling bool) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		want, err := os.Lstat(p)
		if err != nil {
			return err
		}
		have, err := files.Lstat(rel)
		if err != nil {
			t.Errorf("%s: extracted but not loaded: %v", rel, err)
			return nil
		}
		n++
		switch {
		case want.Mode().Type() != have.Mode().Type():
			t.Errorf("%s: type %v, extracted %v", rel, have.Mode().Type(), want.Mode().Type())
		case want.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			content, err := files.Content(rel)
			if err != nil || !bytes.Equal(content, data) {
				t.Errorf("%s: content differs from the extracted file (%v)", rel, err)
			}
			if have.Mode().Perm()&^umask != want.Mode().Perm() {
				t.Errorf("%s: mode %v, extracted %v", rel, have.Mode().Perm(), want.Mode().Perm())
			}
			if !have.ModTime().Equal(want.ModTime()) {
				t.Errorf("%s: mtime %v, extracted %v", rel, have.ModTime(), want.ModTime())
			}
		case want.Mode()&fs.ModeSymlink != 0:
			if _, err := os.Stat(p); err != nil {
				dangling = true
			}
			wt, _ := os.Readlink(p)
			if ht, err := files.ReadLink(rel); err != nil || ht != wt {
				t.Errorf("%s: symlink to %q (%v), extracted to %q", rel, ht, err, wt)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// And nothing more: every loaded path was extracted.
	loaded := 0
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			loaded++
		}
		return err
	})
	if loaded != n {
		t.Errorf("loaded %d paths, extracted %d", loaded, n)
	}
	return dangling
}

// currentUmask returns the process's umask.
func currentUmask() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}

// TestLoadMatchesExtract loads every real conda-forge package of
// ../shared and the realistic channel's packages in both formats and
// compares them with their extraction; fstest.TestFS checks the file
// system's own consistency on each.
func TestLoadMatchesExtract(t *testing.T) {
	var archives []string
	root := testchannel.RealData(t, "packages")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".conda") || strings.HasSuffix(p, ".tar.bz2")) {
			archives = append(archives, p)
		}
		return err
	})
	if !testing.Short() {
		archives = append(archives, realisticChannel(t, ".conda")...)
		archives = append(archives, realisticChannel(t, ".tar.bz2")...)
	}
	umask := currentUmask()
	for _, p := range archives {
		t.Run(filepath.Base(p), func(t *testing.T) {
			files, err := archive.Load(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(t.TempDir(), "x")
			if err := archive.Extract(context.Background(), p, dest); err != nil {
				t.Fatal(err)
			}
			// fstest.TestFS opens every file: not with links to nothing.
			if !sameAsExtracted(t, files, dest, umask) {
				if err := fstest.TestFS(files, "info/index.json"); err != nil {
					t.Error(err)
				}
			}
			// Written back out, the files are the archive's extraction.
			again := filepath.Join(t.TempDir(), "y")
			if err := files.Extract(again); err != nil {
				t.Fatal(err)
			}
			sameAsExtracted(t, files, again, umask)
		})
	}
}
