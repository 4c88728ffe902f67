package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/conda"
)

// TestPackage runs micromamba's package commands on a package: transmute
// each way, extract, and compress the extracted folder again; every
// archive extracts to the same files. Bad input fails naming it and leaves
// nothing behind.
func TestPackage(t *testing.T) {
	dir := t.TempDir()
	rec, err := pkgbuild.WriteFile(dir, &pkgbuild.Package{
		Record: conda.PackageRecord{Name: "tool", Version: conda.MustParseVersion("1.0"), Build: "0", Subdir: "linux-64"},
		Files: []pkgbuild.File{
			{Path: "bin/tool", Mode: 0o755, Data: []byte("#!/bin/sh\necho tool\n")},
			{Path: "bin/tool2", Mode: fs.ModeSymlink | 0o777, LinkTarget: "tool"},
			{Path: "share/tool/data", Mode: 0o644, Data: []byte(strings.Repeat("data ", 1000))},
		},
	}, pkgbuild.FormatTarBz2)
	if err != nil {
		t.Fatal(err)
	}
	bz2 := filepath.Join(dir, rec.FileName)
	conda := strings.TrimSuffix(bz2, ".tar.bz2") + ".conda"

	ok := func(args ...string) string {
		t.Helper()
		r := runCLI(t, args...)
		if r.code != 0 {
			t.Fatalf("condabox %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}
	if out := ok("package", "transmute", bz2); !strings.Contains(out, "Transmuting "+bz2+" to "+conda) {
		t.Errorf("transmute said %q", out)
	}
	fromBz2, fromConda := filepath.Join(dir, "from-bz2"), filepath.Join(dir, "from-conda")
	ok("package", "extract", bz2, fromBz2)
	ok("package", "extract", conda, fromConda)
	want := tree(t, fromBz2)
	if !strings.Contains(want, "bin/tool 755") || !strings.Contains(want, "bin/tool2 -> tool") || !strings.Contains(want, "info/index.json") {
		t.Fatalf("extracted:\n%s", want)
	}
	if got := tree(t, fromConda); got != want {
		t.Errorf("the transmuted .conda holds\n%s\nthe .tar.bz2\n%s", got, want)
	}

	// compress the extracted folder into both formats; transmuting the
	// .conda back gives the bytes compress wrote for .tar.bz2.
	packed := filepath.Join(dir, "packed")
	os.Mkdir(packed, 0o755)
	ok("package", "compress", fromConda, filepath.Join(packed, "tool-1.0-0.conda"), "-c", "3")
	ok("package", "compress", fromConda, filepath.Join(packed, "tool-1.0-0.tar.bz2"))
	compressed, _ := os.ReadFile(filepath.Join(packed, "tool-1.0-0.tar.bz2"))
	ok("package", "transmute", filepath.Join(packed, "tool-1.0-0.conda"))
	if again, _ := os.ReadFile(filepath.Join(packed, "tool-1.0-0.tar.bz2")); string(again) != string(compressed) {
		t.Errorf("compress and transmute wrote different .tar.bz2 bytes from the same files")
	}
	for _, name := range []string{"tool-1.0-0.conda", "tool-1.0-0.tar.bz2"} {
		x := filepath.Join(dir, "x-"+name)
		ok("package", "extract", filepath.Join(packed, name), x)
		if got := tree(t, x); got != want {
			t.Errorf("%s, compressed from the folder, holds\n%s\nwant\n%s", name, got, want)
		}
	}

	notPackage := t.TempDir()
	os.WriteFile(filepath.Join(notPackage, "a"), []byte("a"), 0o644)
	corrupt := filepath.Join(t.TempDir(), "bad-1-0.conda")
	os.WriteFile(corrupt, []byte("PK\x03\x04 not a zip"), 0o644)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"extract", conda, fromBz2}, "destination " + fromBz2 + " is not empty"},
		{[]string{"extract", corrupt, filepath.Join(dir, "bad")}, corrupt},
		{[]string{"extract", filepath.Join(dir, "tool.zip"), filepath.Join(dir, "z")}, "not a conda package"},
		{[]string{"compress", notPackage, filepath.Join(dir, "out-1-0.conda")}, notPackage + ": not a conda package folder: no info/index.json"},
		{[]string{"compress", fromBz2, filepath.Join(dir, "out-1-0.conda"), "-c", "30"}, "zstd compression level 30"},
		{[]string{"transmute", corrupt}, corrupt},
	} {
		before := tree(t, dir)
		r := runCLI(t, append([]string{"package"}, tt.args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("package %s: exit %d, stderr %q: want an error saying %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
		}
		if after := tree(t, dir); after != before {
			t.Errorf("package %s changed %s:\n%s\nwas\n%s", strings.Join(tt.args, " "), dir, after, before)
		}
	}
}

// tree lists the paths below dir with their permission bits, the size of
// files and the target of links.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case st.Mode().Type() == fs.ModeSymlink:
			l, _ := os.Readlink(p)
			fmt.Fprintf(&b, "%s -> %s\n", rel, l)
		case st.IsDir():
			fmt.Fprintf(&b, "%s/\n", rel)
		default:
			fmt.Fprintf(&b, "%s %o %d\n", rel, st.Mode().Perm(), st.Size())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
