package archive

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExtractSome writes only the entries the predicate keeps, from the
// archive on disk and from memory alike: no info/, no skipped file, no
// hard link to a skipped file; kept entries deep in skipped folders get
// their folders.
func TestExtractSome(t *testing.T) {
	payload := []te{
		dir("lib"),
		file("lib/libz.so.1.3", "ELF"),
		symlink("lib/libz.so", "libz.so.1.3"),
		file("lib/libz.a", "archive"),
		file("include/zlib.h", "header"),
		file("share/doc/zlib/README", "doc"),
		file("share/keep/deep/data", "kept"),
		file("bin/tool", "#!/bin/sh"),
		hardlink("bin/tool2", "bin/tool"),
		hardlink("lib/tool3", "bin/tool"),
	}
	keep := func(name string) bool {
		return strings.HasPrefix(name, "lib/") && !strings.HasSuffix(name, ".a") || name == "share/keep/deep/data"
	}
	want := []string{"lib", "lib/libz.so", "lib/libz.so.1.3", "share", "share/keep", "share/keep/deep", "share/keep/deep/data"}
	for _, format := range []Format{FormatConda, FormatTarBz2} {
		p := craft(t, format, validInfo, payload)
		files, err := Load(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, from := range []struct {
			name    string
			extract func(dest string) error
		}{
			{"disk", func(dest string) error { return ExtractSome(context.Background(), p, dest, keep) }},
			{"memory", func(dest string) error { return files.ExtractSome(dest, keep) }},
		} {
			t.Run(format.ext()+"/"+from.name, func(t *testing.T) {
				dest := filepath.Join(t.TempDir(), "x-1-0")
				if err := from.extract(dest); err != nil {
					t.Fatal(err)
				}
				var got []string
				err := filepath.WalkDir(dest, func(path string, d fs.DirEntry, err error) error {
					if err != nil || path == dest {
						return err
					}
					rel, _ := filepath.Rel(dest, path)
					got = append(got, filepath.ToSlash(rel))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("extracted %q, want %q", got, want)
				}
				if b, err := os.ReadFile(filepath.Join(dest, "lib", "libz.so")); err != nil || string(b) != "ELF" {
					t.Errorf("lib/libz.so reads %q, %v", b, err)
				}
			})
		}
	}
}
