package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ReplaceDir creates or replaces the directory dir with what write puts in
// a staging directory beside it, so that dir is the old tree or the whole
// new one, never a part: on an error (a full disk, say) or a killed process
// dir is left as it was. Like Write, it does no fsync.
//
// The stage starts as dir's current tree: regular files are hard-linked
// (copied where linking fails), but those copy names (slash-separated,
// relative to dir) are copied, for write changes them in place — a change
// in place of a linked file would change dir's too. Then write fills the
// stage, and the stage takes dir's place: with one atomic exchange where
// the system has it (Linux), else with two renames. A stage left by a
// killed process is named ".NAME.partial-*" beside dir.
func ReplaceDir(dir string, copy func(rel string) bool, write func(stage string) error) (err error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	old, statErr := os.Lstat(dir)
	switch {
	case statErr == nil && !old.IsDir():
		return fmt.Errorf("%s exists and is not a directory", dir)
	case statErr != nil && !errors.Is(statErr, fs.ErrNotExist):
		return statErr
	}
	stage, err := os.MkdirTemp(parent, "."+base+".partial-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(stage)
		}
	}()
	perm := fs.FileMode(0o755) // MkdirTemp makes 0700 folders
	if statErr == nil {
		perm = old.Mode().Perm()
		if err := seed(stage, dir, copy); err != nil {
			return err
		}
	}
	if err := os.Chmod(stage, perm); err != nil {
		return err
	}
	if err := write(stage); err != nil {
		return err
	}
	if statErr != nil {
		return os.Rename(stage, dir)
	}
	if err := exchange(stage, dir); err == nil {
		os.RemoveAll(stage) // the old tree now
		return nil
	}
	// No atomic exchange: move the old tree aside, then the new one in.
	aside := stage + ".old"
	if err := os.Rename(dir, aside); err != nil {
		return err
	}
	if err := os.Rename(stage, dir); err != nil {
		os.Rename(aside, dir)
		return err
	}
	os.RemoveAll(aside)
	return nil
}

// seed makes stage a copy of src's tree: directories and symbolic links
// made again, regular files hard-linked, or copied where copy says so or
// linking fails.
func seed(stage, src string, copy func(rel string) bool) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil || rel == "." {
			return err
		}
		if strings.HasPrefix(rel, "..") {
			return fmt.Errorf("%s is outside %s", path, src)
		}
		dst := filepath.Join(stage, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(dst, info.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file, folder or symbolic link", path)
		}
		if copy == nil || !copy(filepath.ToSlash(rel)) {
			if os.Link(path, dst) == nil {
				return nil
			}
		}
		return copyFile(dst, path, info.Mode().Perm())
	})
}

// copyFile copies src's content to a new file dst.
func copyFile(dst, src string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
