package pkgbuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// emptySHA256 is the digest conda-build writes for symlinks whose target is
// not a file of the package (dangling, a directory, or outside it).
var emptySHA256 = sha256Hex(nil)

// infoEntries returns the files of info/, sorted by name, as conda-build
// writes them: JSON with sorted keys and two-space indent.
func infoEntries(p *Package, t *tree) ([]entry, error) {
	files := map[string][]byte{}
	add := func(name string, v any) error {
		b, err := conda.IndentJSON(v, "")
		if err != nil {
			return fmt.Errorf("info/%s: %w", name, err)
		}
		files[name] = b
		return nil
	}

	index, err := indexJSON(&p.Record)
	if err != nil {
		return nil, err
	}
	if err := add("index.json", index); err != nil {
		return nil, err
	}
	if err := add("paths.json", pathsJSON(t)); err != nil {
		return nil, err
	}
	about := p.About
	if about == nil {
		about = map[string]any{} // conda-build always writes about.json
	}
	if err := add("about.json", about); err != nil {
		return nil, err
	}
	if p.Record.Noarch != conda.NoarchNone {
		link := conda.LinkJSON{
			Noarch:                 conda.NoarchLink{Type: p.Record.Noarch, EntryPoints: p.EntryPoints},
			PackageMetadataVersion: 1,
		}
		if err := add("link.json", link); err != nil {
			return nil, err
		}
	}
	if p.RunExports != nil {
		if err := add("run_exports.json", p.RunExports); err != nil {
			return nil, err
		}
	}

	var list, prefix strings.Builder
	for _, f := range t.files {
		list.WriteString(f.Path + "\n")
		if f.PrefixPlaceholder != "" {
			fmt.Fprintf(&prefix, "%s %s %s\n", quote(f.PrefixPlaceholder), fileMode(&f), quote(f.Path))
		}
	}
	files["files"] = []byte(list.String())
	if prefix.Len() > 0 {
		files["has_prefix"] = []byte(prefix.String())
	}

	entries := make([]entry, 0, len(files))
	for name, data := range files {
		entries = append(entries, entry{name: "info/" + name, kind: kindFile, mode: 0o644, data: data})
	}
	sortEntries(entries)
	return entries, nil
}

// indexJSON is the record as info/index.json: without the archive's own
// file name, size and hashes, and with depends always a list.
func indexJSON(r *conda.PackageRecord) (map[string]any, error) {
	rec := *r
	rec.FileName, rec.URL, rec.Channel = "", "", ""
	rec.Size, rec.MD5, rec.SHA256 = 0, "", ""
	rec.LegacyBZ2MD5, rec.LegacyBZ2Size = "", 0
	if rec.Depends == nil {
		rec.Depends = []string{}
	}
	m, err := rec.Fields()
	if err != nil {
		return nil, fmt.Errorf("info/index.json: %w", err)
	}
	return m, nil
}

// pathsJSON describes every payload entry for info/paths.json.
func pathsJSON(t *tree) conda.PathsJSON {
	paths := make([]conda.PathEntry, 0, len(t.files))
	for _, f := range t.files {
		e := conda.PathEntry{Path: f.Path, NoLink: f.NoLink}
		switch f.Mode.Type() {
		case fs.ModeDir:
			e.PathType = conda.PathDirectory
		case fs.ModeSymlink:
			// Like conda-build: hash and size of the file the link points
			// to, or of nothing when it does not point to a package file.
			e.PathType = conda.PathSoftlink
			e.SHA256 = emptySHA256
			if target, ok := t.resolve(f.Path); ok {
				if tf := t.byPath[target]; tf != nil && tf.Mode.Type() == 0 {
					e.SHA256, e.SizeInBytes = sha256Hex(tf.Data), int64(len(tf.Data))
				}
			}
		default:
			e.PathType = conda.PathHardlink
			e.SHA256, e.SizeInBytes = sha256Hex(f.Data), int64(len(f.Data))
			if f.PrefixPlaceholder != "" {
				e.PrefixPlaceholder, e.FileMode = f.PrefixPlaceholder, fileMode(&f)
			}
		}
		paths = append(paths, e)
	}
	return conda.PathsJSON{Paths: paths, PathsVersion: 1}
}

func fileMode(f *File) conda.FileMode {
	if f.Binary {
		return conda.FileModeBinary
	}
	return conda.FileModeText
}

// quote wraps s in double quotes when it has blanks, so that conda's
// shell-like split of a has_prefix line keeps it one field.
func quote(s string) string {
	if strings.ContainsAny(s, " \t") {
		return `"` + s + `"`
	}
	return s
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
