package archive

import (
	"archive/tar"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzExtract feeds arbitrary bytes to the extractor as the payload tarball
// of a .conda. Whatever they hold, extraction must not panic, must write
// nothing outside its destination, and must leave nothing behind on error.
func FuzzExtract(f *testing.F) {
	for _, seed := range [][]te{
		{file("bin/a", "x"), symlink("bin/b", "a"), hardlink("bin/c", "bin/a"), dir("share/")},
		{file("./lib/x", "1"), symlink("lib/up", ".."), symlink("lib/y", "up/lib/x")},
		{symlink("d/up", ".."), symlink("d/x", "up/..")},
		{dir("real"), symlink("lib", "real"), file("lib/evil", "x")},
		{file("../evil", "x")},
		{hardlink("x", "../y")},
	} {
		f.Add(tarBytes(f, seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) { extractConfined(t, payload) })
}

// FuzzExtractEntries builds the payload tarball from lines "TYPE NAME
// [LINK]" (TYPE: f file, d directory, l symlink, h hardlink, c device), so
// the fuzzer explores names and link targets rather than tar checksums.
func FuzzExtractEntries(f *testing.F) {
	for _, seed := range []string{
		"f bin/a\nl bin/b a\nh bin/c bin/a\nd share",
		"l d/up ..\nl d/x up/..",
		"l a b\nl b a/c",
		"d real\nl lib real\nf lib/evil",
		"f ./lib/x\nl lib/y ../lib/./x\nf lib//z",
		"c dev/null",
	} {
		f.Add(seed)
	}
	types := map[string]byte{"f": tar.TypeReg, "d": tar.TypeDir, "l": tar.TypeSymlink, "h": tar.TypeLink, "c": tar.TypeChar}
	f.Fuzz(func(t *testing.T, spec string) {
		var entries []te
		for line := range strings.Lines(spec) {
			fields := strings.Fields(line)
			if len(fields) < 2 || types[fields[0]] == 0 {
				continue
			}
			e := te{typ: types[fields[0]], name: fields[1], body: "data"}
			if len(fields) > 2 {
				e.link = fields[2]
			}
			entries = append(entries, e)
		}
		payload, err := tryTarBytes(entries)
		if err != nil {
			return // archive/tar refuses to write it, so no reader sees it either
		}
		extractConfined(t, payload)
	})
}

// extractConfined extracts a .conda whose payload tarball is payload and
// checks nothing is written outside the destination, nothing is left on
// error, and every symlink that resolves stays inside the package. Load
// must accept the archive exactly when Extract does, and hold what Extract
// wrote; Create must write it again in both formats with the same files.
func extractConfined(t *testing.T, payload []byte) {
	root := t.TempDir()
	box := filepath.Join(root, "box") // everything must stay in here
	if err := os.Mkdir(box, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(box, "x-1-0.conda")
	writeConda(t, path,
		zipMember{"info-x-1-0.tar.zst", zstdEnc.EncodeAll(tarBytes(t, validInfo), nil)},
		zipMember{"pkg-x-1-0.tar.zst", zstdEnc.EncodeAll(payload, nil)})
	dest := filepath.Join(box, "x-1-0")
	x := Extractor{Limits: Limits{MaxTotalSize: 1 << 20, MaxEntries: 1000}}
	err := x.Extract(context.Background(), path, dest)
	files, loadErr := x.Load(context.Background(), path)
	if (err == nil) != (loadErr == nil) {
		t.Fatalf("Extract: %v; Load: %v", err, loadErr)
	}
	if err == nil {
		loadedLikeExtracted(t, files, dest)
		// Whatever Extract takes, Create can write again, in either
		// format, and the result holds the same files.
		for _, name := range []string{"y-1-0.conda", "y-1-0.tar.bz2"} {
			again := filepath.Join(root, name)
			if err := Create(context.Background(), again, func(fn WalkFunc) error { return x.Walk(context.Background(), path, fn) }, CreateOptions{Level: 1}); err != nil {
				t.Fatalf("Create %s from an archive Extract takes: %v", name, err)
			}
			written, err := x.Load(context.Background(), again)
			if err != nil {
				t.Fatalf("Load %s, written by Create: %v", name, err)
			}
			loadedLikeExtracted(t, written, dest)
			os.Remove(again)
		}
	}

	if es, _ := os.ReadDir(root); len(es) != 1 {
		t.Fatalf("wrote beside the box: %v", es)
	}
	es, _ := os.ReadDir(box)
	if err != nil {
		if len(es) != 1 {
			t.Fatalf("failed with %v but left %v", err, es)
		}
		return
	}
	if len(es) != 2 {
		t.Fatalf("box holds %v, want the archive and the package", es)
	}
	symlinksInside(t, dest)
	// ExtractSome writes a part of what Extract took, from the archive and
	// from memory alike, confined the same way.
	keep := func(name string) bool { return len(name)%2 == 1 }
	for i, extract := range []func(dest string) error{
		func(d string) error { return x.ExtractSome(context.Background(), path, d, keep) },
		func(d string) error { return files.ExtractSome(d, keep) },
	} {
		some := filepath.Join(t.TempDir(), "some")
		if err := extract(some); err != nil {
			t.Fatalf("ExtractSome (%d) of an archive Extract takes: %v", i, err)
		}
		filepath.WalkDir(some, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == some || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(some, p)
			if !keep(filepath.ToSlash(rel)) {
				t.Errorf("ExtractSome (%d) wrote %s, which keep refuses", i, rel)
			}
			return nil
		})
		symlinksInside(t, some)
	}
}

// symlinksInside checks that every symlink below dest that resolves
// resolves inside dest.
func symlinksInside(t *testing.T, dest string) {
	filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type() != fs.ModeSymlink {
			return err
		}
		if real, err := filepath.EvalSymlinks(p); err == nil && real != dest && !strings.HasPrefix(real, dest+string(filepath.Separator)) {
			t.Errorf("symlink %s resolves to %s, outside %s", p, real, dest)
		}
		return nil
	})
}

// loadedLikeExtracted checks that every path of dest is in files with the
// same type, bytes or link target, and that files has no other path.
func loadedLikeExtracted(t *testing.T, files *Files, dest string) {
	n := 0
	err := filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dest {
			return err
		}
		n++
		rel, _ := filepath.Rel(dest, p)
		rel = filepath.ToSlash(rel)
		fi, err := files.Lstat(rel)
		if err != nil {
			t.Errorf("%s: extracted, not loaded: %v", rel, err)
			return nil
		}
		switch {
		case d.Type() != fi.Mode().Type():
			t.Errorf("%s: loaded as %v, extracted as %v", rel, fi.Mode().Type(), d.Type())
		case d.Type().IsRegular():
			want, _ := os.ReadFile(p)
			if have, err := files.Content(rel); err != nil || string(have) != string(want) {
				t.Errorf("%s: loaded %q (%v), extracted %q", rel, have, err, want)
			}
		case d.Type() == fs.ModeSymlink:
			want, _ := os.Readlink(p)
			if have, err := files.ReadLink(rel); err != nil || have != want {
				t.Errorf("%s: loaded link %q (%v), extracted %q", rel, have, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	loaded := 0
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != "." {
			loaded++
			files.Stat(p) // must end, whatever the links
		}
		return nil
	})
	if loaded != n {
		t.Errorf("loaded %d paths, extracted %d", loaded, n)
	}
}
