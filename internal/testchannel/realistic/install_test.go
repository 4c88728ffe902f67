package realistic

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/condabox/condabox/pkg/conda"
)

// This file is a deliberately naive installer for the verification test:
// it extracts packages into a prefix, replaces prefix placeholders and
// writes entry points. The real installer (pkg/install) comes later.

// sitePackages is where noarch python files go in this channel's python.
const sitePackages = "lib/python3.11/site-packages/"

// extractArchive unpacks a .conda or .tar.bz2 package into dir.
func extractArchive(archive, dir string) error {
	if strings.HasSuffix(archive, ".tar.bz2") {
		f, err := os.Open(archive)
		if err != nil {
			return err
		}
		defer f.Close()
		return untar(bzip2.NewReader(f), dir)
	}
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".tar.zst") {
			continue // metadata.json
		}
		if err := untarZstd(zf, dir); err != nil {
			return fmt.Errorf("%s: %s: %w", archive, zf.Name, err)
		}
	}
	return nil
}

// untarZstd unpacks one zstd tarball member of a .conda zip into dir.
func untarZstd(zf *zip.File, dir string) error {
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	zr, err := zstd.NewReader(rc)
	if err != nil {
		return err
	}
	defer zr.Close()
	return untar(zr, dir)
}

// untar unpacks a tar stream into dir.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+h.Name)))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(dst, 0o755)
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, dst)
		case tar.TypeReg:
			var data []byte
			if data, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(dst, data, fs.FileMode(h.Mode).Perm())
			}
			if err == nil {
				// Archives' mtimes are kept: python's .pyc rely on them.
				err = os.Chtimes(dst, h.ModTime, h.ModTime)
			}
		default:
			err = fmt.Errorf("%s: unexpected tar type %q", h.Name, h.Typeflag)
		}
		if err != nil {
			return err
		}
	}
}

// installPackage links one extracted package (pkgDir) into prefix the way
// conda does, naively: every paths.json entry copied, placeholders replaced,
// noarch python paths mapped, entry points written.
func installPackage(pkgDir, prefix string) error {
	var paths conda.PathsJSON
	if err := readJSON(filepath.Join(pkgDir, "info", "paths.json"), &paths); err != nil {
		return err
	}
	var link conda.LinkJSON
	if err := readJSON(filepath.Join(pkgDir, "info", "link.json"), &link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	noarchPython := link.Noarch.Type == conda.NoarchPython
	for _, e := range paths.Paths {
		dst := e.Path
		if noarchPython {
			dst = mapNoarchPython(dst)
		}
		src, dstAbs := filepath.Join(pkgDir, e.Path), filepath.Join(prefix, dst)
		if err := os.MkdirAll(filepath.Dir(dstAbs), 0o755); err != nil {
			return err
		}
		if err := linkPath(e, src, dstAbs, prefix); err != nil {
			return fmt.Errorf("%s: %w", e.Path, err)
		}
	}
	for _, ep := range link.Noarch.EntryPoints {
		cmd, target, _ := strings.Cut(ep, " = ")
		mod, fn, _ := strings.Cut(target, ":")
		script := fmt.Sprintf("#!%s/bin/python3.11\nimport sys\nfrom %s import %s\nsys.exit(%s())\n", prefix, mod, fn, fn)
		if err := os.WriteFile(filepath.Join(prefix, "bin", cmd), []byte(script), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// mapNoarchPython maps a noarch python package path to its place in the prefix.
func mapNoarchPython(p string) string {
	if rest, ok := strings.CutPrefix(p, "site-packages/"); ok {
		return sitePackages + rest
	}
	if rest, ok := strings.CutPrefix(p, "python-scripts/"); ok {
		return "bin/" + rest
	}
	return p
}

// linkPath places one paths.json entry.
func linkPath(e conda.PathEntry, src, dst, prefix string) error {
	switch e.PathType {
	case conda.PathDirectory:
		return os.MkdirAll(dst, 0o755)
	case conda.PathSoftlink:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	switch {
	case e.PrefixPlaceholder == "":
	case e.FileMode == conda.FileModeBinary:
		if data, err = replaceBinary(data, e.PrefixPlaceholder, prefix); err != nil {
			return err
		}
	default:
		data = bytes.ReplaceAll(data, []byte(e.PrefixPlaceholder), []byte(prefix))
	}
	if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
		return err
	}
	// The package's mtime, as conda's hard links keep it.
	return os.Chtimes(dst, st.ModTime(), st.ModTime())
}

// replaceBinary replaces placeholder by prefix inside every NUL-terminated
// string that holds it, padding the string with NULs to its old length, as
// conda does for binary files.
func replaceBinary(data []byte, placeholder, prefix string) ([]byte, error) {
	if len(prefix) > len(placeholder) {
		return nil, fmt.Errorf("prefix %q is longer than the binary placeholder (%d bytes)", prefix, len(placeholder))
	}
	out := bytes.Clone(data)
	for start := 0; ; {
		i := bytes.Index(out[start:], []byte(placeholder))
		if i < 0 {
			return out, nil
		}
		i += start
		end := i + bytes.IndexByte(out[i:], 0)
		if end < i {
			end = len(out) // no terminating NUL: the string runs to the end
		}
		s := bytes.ReplaceAll(out[i:end], []byte(placeholder), []byte(prefix))
		n := copy(out[i:end], s)
		clear(out[i+n : end])
		start = end
	}
}

// readJSON decodes a JSON file.
func readJSON(name string, v any) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// channelRecords reads the records of every subdir of a channel, keyed by
// file name.
func channelRecords(t *testing.T, channel string) map[string]conda.PackageRecord {
	t.Helper()
	all := map[string]conda.PackageRecord{}
	for _, subdir := range []string{"linux-64", "noarch", "linux-aarch64"} {
		b, err := os.ReadFile(filepath.Join(channel, subdir, "repodata.json"))
		if err != nil {
			t.Fatal(err)
		}
		rd, err := conda.ParseRepoData(b)
		if err != nil {
			t.Fatalf("%s repodata: %v", subdir, err)
		}
		for fn, r := range rd.Packages {
			all[fn] = r
		}
		for fn, r := range rd.Conda {
			all[fn] = r
		}
	}
	return all
}

// closure returns the records in ext (".conda" or ".tar.bz2") of subdir or
// noarch of the named packages and everything they depend on, following depends by name. It
// fails when a name has more than one candidate: the install sets here are
// chosen to need no solver.
func closure(t *testing.T, records map[string]conda.PackageRecord, ext, subdir string, names ...string) []conda.PackageRecord {
	t.Helper()
	byName := map[string][]conda.PackageRecord{}
	for fn, r := range records {
		if strings.HasSuffix(fn, ext) && (r.Subdir == "noarch" || r.Subdir == subdir) {
			byName[r.Name] = append(byName[r.Name], r)
		}
	}
	var out []conda.PackageRecord
	seen := map[string]bool{}
	for len(names) > 0 {
		n := names[0]
		names = names[1:]
		if seen[n] || strings.HasPrefix(n, "__") {
			continue
		}
		seen[n] = true
		rs := byName[n]
		if len(rs) != 1 {
			t.Fatalf("package %s: %d candidates in the channel, want exactly 1", n, len(rs))
		}
		out = append(out, rs[0])
		names = append(names, depNames(rs[0].Depends)...)
	}
	return out
}

// install extracts and links records from the channel into prefix.
func install(t *testing.T, channel, prefix string, records []conda.PackageRecord) {
	t.Helper()
	work := t.TempDir()
	for _, r := range records {
		pkgDir := filepath.Join(work, r.FileName)
		if err := extractArchive(filepath.Join(channel, r.Subdir, r.FileName), pkgDir); err != nil {
			t.Fatalf("extract %s: %v", r.FileName, err)
		}
		if err := installPackage(pkgDir, prefix); err != nil {
			t.Fatalf("install %s into %s: %v", r.FileName, prefix, err)
		}
	}
}
