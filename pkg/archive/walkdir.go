package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrNotPackage is WalkDir's error for a folder without info/index.json.
var ErrNotPackage = errors.New("not a conda package folder: no info/index.json")

// WalkDir hands the files of the extracted package folder dir to fn as
// archive entries, the source of Create for micromamba's `package
// compress`: info/ first, then the payload, each in name order; regular
// files with their permission bits and modification times, symlinks as
// they are (never followed), and directories only when empty (the others
// are implied by their files). A folder without info/index.json, or holding
// a device, fifo or socket, is an error naming it.
func WalkDir(ctx context.Context, dir string, fn WalkFunc) error {
	if _, err := os.Stat(filepath.Join(dir, "info", "index.json")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", dir, ErrNotPackage)
		}
		return err
	}
	var info, payload []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel := filepath.ToSlash(p[len(dir)+1:])
		if d.IsDir() {
			empty, err := isEmptyDir(p)
			if err != nil || !empty {
				return err
			}
		}
		if isInfo(rel) {
			info = append(info, rel)
		} else {
			payload = append(payload, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(info)
	slices.Sort(payload)
	for _, rel := range slices.Concat(info, payload) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := dirEntry(dir, rel, fn); err != nil {
			return err
		}
	}
	return nil
}

// dirEntry hands the file rel of the folder dir to fn.
func dirEntry(dir, rel string, fn WalkFunc) error {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	st, err := os.Lstat(p)
	if err != nil {
		return err
	}
	h := &Header{Name: rel, Mode: st.Mode().Perm(), ModTime: st.ModTime().Truncate(1e9)}
	switch st.Mode().Type() {
	case 0:
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h.Type, h.Size = TypeRegular, st.Size()
		return fn(h, io.LimitReader(f, h.Size))
	case fs.ModeDir:
		h.Type = TypeDir
	case fs.ModeSymlink:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		h.Type, h.Linkname = TypeSymlink, target
	default:
		return fmt.Errorf("%s: cannot pack a %s into a conda package", p, strings.TrimSpace(st.Mode().Type().String()))
	}
	return fn(h, noBody{})
}

// isEmptyDir reports whether the directory p has no entries.
func isEmptyDir(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if err == io.EOF {
		return true, nil
	}
	return false, err
}
