package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tree lists dir's files as "path=content" (links as "path->target"),
// sorted; "" for a missing dir.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			out = append(out, rel+"->"+target)
			return err
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			out = append(out, rel+"="+string(b))
			return err
		}
		out = append(out, rel+"/")
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// writeTree creates files (path → content; a content starting with "->"
// is a symbolic link) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, path)
		} else {
			err = os.WriteFile(path, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplaceDir(t *testing.T) {
	t.Run("exchange", testReplaceDir)
	// Where the system has no atomic exchange: two renames.
	t.Run("renames", func(t *testing.T) {
		defer func(e func(a, b string) error) { exchange = e }(exchange)
		exchange = func(a, b string) error { return errors.New("no exchange") }
		testReplaceDir(t)
	})
}

func testReplaceDir(t *testing.T) {
	errWrite := errors.New("disk full")
	// The write every case runs: index.json rewritten in place (as
	// go-containerregistry's layout does), a blob added.
	update := func(stage string) error {
		if err := os.WriteFile(filepath.Join(stage, "index.json"), []byte("new index"), 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(stage, "blobs", "b2"), []byte("blob 2"), 0o644)
	}
	old := map[string]string{"index.json": "old index", "blobs/b1": "blob 1", "latest": "->blobs/b1"}
	tests := []struct {
		name    string
		old     map[string]string // nil: dir does not exist
		fail    bool              // the write fails after updating
		want    string
		wantErr error
	}{
		{name: "new", old: nil, want: "./ blobs/ blobs/b2=blob 2 index.json=new index"},
		{name: "replace", old: old, want: "./ blobs/ blobs/b1=blob 1 blobs/b2=blob 2 index.json=new index latest->blobs/b1"},
		{name: "failed write leaves the old tree", old: old, fail: true, want: "./ blobs/ blobs/b1=blob 1 index.json=old index latest->blobs/b1", wantErr: errWrite},
		{name: "failed write of a new tree leaves none", old: nil, fail: true, want: "", wantErr: errWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "layout")
			if tt.old != nil {
				writeTree(t, dir, tt.old)
			}
			err := ReplaceDir(dir, func(rel string) bool { return rel == "index.json" }, func(stage string) error {
				if err := os.MkdirAll(filepath.Join(stage, "blobs"), 0o755); err != nil {
					return err
				}
				if err := update(stage); err != nil {
					return err
				}
				if tt.fail {
					return errWrite
				}
				return nil
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if got := tree(t, dir); got != tt.want {
				t.Errorf("tree\n got %s\nwant %s", got, tt.want)
			}
			// Nothing is left beside it: no stage, no old tree.
			entries, err := os.ReadDir(parent)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() != "layout" {
					t.Errorf("left beside the folder: %s", e.Name())
				}
			}
			if info, err := os.Stat(dir); err == nil && info.Mode().Perm() != 0o755 {
				t.Errorf("folder mode %v, want 0755", info.Mode().Perm())
			}
		})
	}
}

// TestReplaceDirLinks: the stage shares the unchanged files' inodes with
// the old tree (no copy of a layout's blobs), not those it copies.
func TestReplaceDirLinks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	writeTree(t, dir, map[string]string{"index.json": "i", "blobs/b1": "blob 1"})
	before, err := os.Stat(filepath.Join(dir, "blobs", "b1"))
	if err != nil {
		t.Fatal(err)
	}
	var stageBlob, stageIndex fs.FileInfo
	err = ReplaceDir(dir, func(rel string) bool { return rel == "index.json" }, func(stage string) (err error) {
		if stageBlob, err = os.Stat(filepath.Join(stage, "blobs", "b1")); err != nil {
			return err
		}
		stageIndex, err = os.Stat(filepath.Join(stage, "index.json"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, stageBlob) {
		t.Error("blobs/b1 was copied into the stage, want a hard link")
	}
	if idx, err := os.Stat(filepath.Join(dir, "index.json")); err != nil || !os.SameFile(idx, stageIndex) {
		t.Errorf("index.json is not the stage's after the swap (%v)", err)
	}
}

func TestReplaceDirNotADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := ReplaceDir(path, nil, func(string) error { t.Fatal("write ran"); return nil })
	if err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("error %v, want one saying it is not a directory", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "x" {
		t.Errorf("file changed to %q", b)
	}
}
