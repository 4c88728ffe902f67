package install

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// testFile is one payload entry of a hand-made package.
type testFile struct {
	path, content string
	mode          os.FileMode // 0 means 0o644
	placeholder   string
	fileMode      conda.FileMode
	symlink       string // target, for a softlink
	dir, noLink   bool
}

// testPkg describes a hand-made extracted package.
type testPkg struct {
	name, version string
	files         []testFile
	// legacy writes info/files and info/has_prefix instead of paths.json.
	legacy  bool
	depends []string
	noarch  conda.NoarchType
	link    *conda.LinkJSON
}

// write creates the package folder under root and returns it read back.
func (p testPkg) write(t *testing.T, root string) *Package {
	t.Helper()
	version := p.version
	if version == "" {
		version = "1.0"
	}
	rec := conda.PackageRecord{Name: p.name, Version: conda.MustParseVersion(version), Build: "h0_0",
		Depends: p.depends, Noarch: p.noarch, Subdir: "linux-64", FileName: p.name + "-" + version + "-h0_0.conda",
		Channel: "https://conda.anaconda.org/test", URL: "https://conda.anaconda.org/test/linux-64/" + p.name + "-" + version + "-h0_0.conda",
		SHA256: strings.Repeat("ab", 32), MD5: strings.Repeat("cd", 16), Size: 1234, License: "MIT", Timestamp: 1700000000000}
	dir := filepath.Join(root, rec.Dist())
	var paths conda.PathsJSON
	paths.PathsVersion = 1
	var files, hasPrefix, noLink []string
	for _, f := range p.files {
		name := filepath.Join(dir, filepath.FromSlash(f.path))
		must(t, os.MkdirAll(filepath.Dir(name), 0o755))
		e := conda.PathEntry{Path: f.path, PathType: conda.PathHardlink, PrefixPlaceholder: f.placeholder, FileMode: f.fileMode, NoLink: f.noLink}
		switch {
		case f.dir:
			e.PathType = conda.PathDirectory
			must(t, os.MkdirAll(name, 0o755))
		case f.symlink != "":
			e.PathType = conda.PathSoftlink
			must(t, os.Symlink(f.symlink, name))
		default:
			mode := f.mode
			if mode == 0 {
				mode = 0o644
			}
			must(t, os.WriteFile(name, []byte(f.content), mode))
			e.SHA256, e.SizeInBytes = sha256Hex([]byte(f.content)), int64(len(f.content))
		}
		paths.Paths = append(paths.Paths, e)
		files = append(files, f.path)
		if f.placeholder != "" {
			hasPrefix = append(hasPrefix, f.placeholder+" "+string(f.fileMode)+" "+f.path)
		}
		if f.noLink {
			noLink = append(noLink, f.path)
		}
	}
	info := filepath.Join(dir, "info")
	must(t, os.MkdirAll(info, 0o755))
	writeJSONFile(t, filepath.Join(info, "repodata_record.json"), rec)
	if p.legacy {
		must(t, os.WriteFile(filepath.Join(info, "files"), []byte(strings.Join(files, "\n")+"\n"), 0o644))
		must(t, os.WriteFile(filepath.Join(info, "has_prefix"), []byte(strings.Join(hasPrefix, "\n")+"\n"), 0o644))
		must(t, os.WriteFile(filepath.Join(info, "no_link"), []byte(strings.Join(noLink, "\n")+"\n"), 0o644))
	} else {
		writeJSONFile(t, filepath.Join(info, "paths.json"), paths)
	}
	if p.link != nil {
		writeJSONFile(t, filepath.Join(info, "link.json"), p.link)
	}
	pkg, err := ReadPackage(dir)
	must(t, err)
	return pkg
}

func writeJSONFile(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	must(t, os.WriteFile(name, b, 0o644))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const ph = "/opt/anaconda1anaconda2anaconda3"

// TestLinkRules installs one hand-made package per rule and checks the
// file in the prefix and its conda-meta entry.
func TestLinkRules(t *testing.T) {
	binPH := ph + strings.Repeat("_placehold", 10)
	tests := []struct {
		name  string
		file  testFile
		check func(t *testing.T, prefix, src string, pp PrefixPath)
	}{
		{"hardlink from the cache", testFile{path: "share/a.txt", content: "a\n"}, func(t *testing.T, prefix, src string, pp PrefixPath) {
			if !sameFile(t, src, filepath.Join(prefix, "share/a.txt")) {
				t.Error("not hardlinked")
			}
		}},
		{"no_link copies", testFile{path: "share/b.txt", content: "b\n", noLink: true}, func(t *testing.T, prefix, src string, pp PrefixPath) {
			if sameFile(t, src, filepath.Join(prefix, "share/b.txt")) || readFile(t, prefix, "share/b.txt") != "b\n" || !pp.NoLink {
				t.Error("no_link file is hardlinked or wrong")
			}
		}},
		{"text placeholder copied and replaced, mode kept", testFile{path: "bin/tool", content: "#!/bin/sh\necho " + ph + " " + ph + "\n", mode: 0o755, placeholder: ph, fileMode: conda.FileModeText},
			func(t *testing.T, prefix, src string, pp PrefixPath) {
				dst := filepath.Join(prefix, "bin/tool")
				want := "#!/bin/sh\necho " + prefix + " " + prefix + "\n"
				if got := readFile(t, prefix, "bin/tool"); got != want {
					t.Errorf("content %q, want %q", got, want)
				}
				if sameFile(t, src, dst) {
					t.Error("a file with a placeholder is hardlinked to the cache")
				}
				if st, _ := os.Stat(dst); st.Mode().Perm() != 0o755 {
					t.Errorf("mode %v, want 0755", st.Mode().Perm())
				}
				if pp.SHA256InPrefix != sha256Hex([]byte(want)) || pp.SHA256 == pp.SHA256InPrefix || pp.FileMode != conda.FileModeText || pp.PrefixPlaceholder != ph {
					t.Errorf("paths_data entry %+v", pp)
				}
			}},
		{"binary placeholder padded", testFile{path: "lib/libx.so", content: "\x7fELF\x00" + binPH + "/etc\x00tail", placeholder: binPH, fileMode: conda.FileModeBinary},
			func(t *testing.T, prefix, src string, pp PrefixPath) {
				got := readFile(t, prefix, "lib/libx.so")
				want := "\x7fELF\x00" + prefix + "/etc" + strings.Repeat("\x00", len(binPH)-len(prefix)) + "\x00tail"
				if got != want || pp.SizeInBytes != int64(len(want)) {
					t.Errorf("content %q, want %q", got, want)
				}
			}},
		{"softlink", testFile{path: "lib/libx.so.1", symlink: "libx.so.1.2"}, func(t *testing.T, prefix, src string, pp PrefixPath) {
			if target, err := os.Readlink(filepath.Join(prefix, "lib/libx.so.1")); err != nil || target != "libx.so.1.2" || pp.PathType != conda.PathSoftlink {
				t.Errorf("link target %q, %v, entry %+v", target, err, pp)
			}
		}},
		{"empty directory", testFile{path: "var/empty", dir: true}, func(t *testing.T, prefix, src string, pp PrefixPath) {
			if st, err := os.Stat(filepath.Join(prefix, "var/empty")); err != nil || !st.IsDir() || pp.PathType != conda.PathDirectory {
				t.Errorf("directory: %v, entry %+v", err, pp)
			}
		}},
	}
	for _, legacy := range []bool{false, true} {
		for _, tc := range tests {
			if legacy && tc.file.dir {
				continue // info/files cannot list directories
			}
			name := tc.name
			if legacy {
				name += " (info/files and has_prefix)"
			}
			t.Run(name, func(t *testing.T) {
				root := t.TempDir()
				pkg := testPkg{name: "rule", files: []testFile{tc.file}, legacy: legacy}.write(t, filepath.Join(root, "pkgs"))
				prefix := filepath.Join(root, "env")
				if _, err := Sync(context.Background(), prefix, []*Package{pkg}, Options{}); err != nil {
					t.Fatal(err)
				}
				recs, err := ReadPrefix(prefix)
				must(t, err)
				if len(recs) != 1 || len(recs[0].PathsData.Paths) != 1 {
					t.Fatalf("records %+v", recs)
				}
				tc.check(t, prefix, filepath.Join(pkg.Dir, filepath.FromSlash(tc.file.path)), recs[0].PathsData.Paths[0])
				checkConsistent(t, prefix)
			})
		}
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	sa, err := os.Lstat(a)
	must(t, err)
	sb, err := os.Lstat(b)
	must(t, err)
	return os.SameFile(sa, sb)
}

func readFile(t *testing.T, prefix, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(prefix, filepath.FromSlash(rel)))
	must(t, err)
	return string(b)
}

// TestFailuresRollBack checks that a failing transaction leaves the
// prefix exactly as it was, with a clear error.
func TestFailuresRollBack(t *testing.T) {
	binPH := ph + "_pad"
	tests := []struct {
		name    string
		pkg     testPkg
		wantErr string
	}{
		{"binary prefix longer than the placeholder",
			testPkg{name: "longbin", files: []testFile{{path: "a.txt", content: "a"}, {path: "lib/x.so", content: binPH + "\x00", placeholder: binPH, fileMode: conda.FileModeBinary}}},
			"replace prefix in binary file lib/x.so: new prefix"},
		{"post-link script fails",
			testPkg{name: "badscript", files: []testFile{{path: "a.txt", content: "a"}, {path: "bin/.badscript-post-link.sh", content: "echo about to fail\nexit 3\n"}}},
			"post-link script of badscript-1.0-h0_0"},
		{"path outside the prefix",
			testPkg{name: "escape", files: []testFile{{path: "a.txt", content: "a"}}},
			`path "../evil" is not a clean relative path`},
		{"noarch python without python",
			testPkg{name: "nopy", noarch: conda.NoarchPython, files: []testFile{{path: "site-packages/m.py", content: "x=1\n"}},
				link: &conda.LinkJSON{Noarch: conda.NoarchLink{Type: conda.NoarchPython}}},
			"is noarch: python, but the environment has no python"},
		{"bad entry point",
			testPkg{name: "badep", noarch: conda.NoarchPython, depends: []string{"python"}, files: []testFile{{path: "site-packages/m.py", content: "x=1\n"}},
				link: &conda.LinkJSON{Noarch: conda.NoarchLink{Type: conda.NoarchPython, EntryPoints: []string{"x = os; rm -rf /:main"}}}},
			`module "os; rm -rf /" is not a python name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			// A long prefix, so that binary replacement overflows.
			prefix := filepath.Join(root, strings.Repeat("d", 40), "env")
			base := testPkg{name: "base", files: []testFile{{path: "a.txt", content: "base's a\n"}, {path: "share/base.txt", content: "b"}}}.write(t, filepath.Join(root, "pkgs"))
			python := testPkg{name: "python", version: "3.11.9"}.write(t, filepath.Join(root, "pkgs"))
			if _, err := Sync(context.Background(), prefix, []*Package{base, python}, Options{}); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, prefix)
			pkg := tc.pkg.write(t, filepath.Join(root, "pkgs"))
			if tc.pkg.name == "escape" {
				writeJSONFile(t, filepath.Join(pkg.Dir, "info", "paths.json"), conda.PathsJSON{PathsVersion: 1, Paths: []conda.PathEntry{{Path: "../evil", PathType: conda.PathHardlink}}})
			}
			target := []*Package{base, pkg}
			if len(tc.pkg.depends) > 0 {
				target = append(target, python)
			}
			_, err := Sync(context.Background(), prefix, target, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			after := snapshot(t, prefix)
			delete(after, messagesFile) // the failed script's output stays for the user
			if !maps.Equal(before, after) {
				t.Errorf("prefix changed by a failed transaction:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// snapshot maps every file of prefix (except the lock) to its content.
func snapshot(t *testing.T, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	must(t, filepath.WalkDir(prefix, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(prefix, p)
		if rel == filepath.FromSlash(lockName) {
			return nil
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return out
}

func TestParseHasPrefix(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  map[string]placeholder
		err   string
	}{
		{"path only: the old default placeholder", []string{"bin/x"}, map[string]placeholder{"bin/x": {textPlaceholder, conda.FileModeText}}, ""},
		{"three parts, quoted", []string{`"/build/_h_env" binary "lib/libx.so"`}, map[string]placeholder{"lib/libx.so": {"/build/_h_env", conda.FileModeBinary}}, ""},
		{"bad mode", []string{"/p octal bin/x"}, nil, `mode "octal"`},
		{"two parts", []string{"/p bin/x"}, nil, `line "/p bin/x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHasPrefix(tc.lines)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("got %v, %v, want %v", got, err, tc.want)
			}
		})
	}
}

// FuzzParseHasPrefix checks that every accepted line gives a non-empty
// placeholder with a valid mode, and that nothing panics.
func FuzzParseHasPrefix(f *testing.F) {
	f.Add("/opt/anaconda1anaconda2anaconda3 text bin/x\nlib/y")
	f.Add(`"/a b" binary "c"`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseHasPrefix(strings.Split(s, "\n"))
		if err != nil {
			return
		}
		for path, p := range got {
			if p.text == "" || (p.mode != conda.FileModeText && p.mode != conda.FileModeBinary) {
				t.Fatalf("%q: path %q got placeholder %+v", s, path, p)
			}
		}
	})
}

// TestCopyAcrossFilesystems installs from a cache on another filesystem
// (/dev/shm, a tmpfs): files are copied and the record says so.
func TestCopyAcrossFilesystems(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "condabox-install-test-")
	if err != nil {
		t.Skipf("no /dev/shm to put a prefix on another filesystem: %v", err)
	}
	defer os.RemoveAll(shm)
	root := t.TempDir()
	var a, b syscall.Stat_t
	must(t, syscall.Stat(root, &a))
	must(t, syscall.Stat(shm, &b))
	if a.Dev == b.Dev {
		t.Skip("/dev/shm is on the same filesystem as the temporary directory")
	}
	pkg := testPkg{name: "cp", files: []testFile{{path: "bin/x", content: "#!/bin/sh\n", mode: 0o755}}}.write(t, root)
	prefix := filepath.Join(shm, "env")
	if _, err := Sync(context.Background(), prefix, []*Package{pkg}, Options{}); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadPrefix(prefix)
	must(t, err)
	if len(recs) != 1 || recs[0].Link == nil || recs[0].Link.Type != LinkCopy {
		t.Fatalf("records %+v, want one with link type %d (copy)", recs, LinkCopy)
	}
	if st, err := os.Stat(filepath.Join(prefix, "bin/x")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("copied file: %v, mode %v, want 0755", err, st.Mode())
	}
	checkConsistent(t, prefix)
}

// TestUnlinkRefusesPathsOutsideThePrefix edits a conda-meta record to list
// a file outside the prefix: removing the package fails and the file stays.
func TestUnlinkRefusesPathsOutsideThePrefix(t *testing.T) {
	root := t.TempDir()
	victim := filepath.Join(root, "victim.txt")
	must(t, os.WriteFile(victim, []byte("keep me"), 0o644))
	pkg := testPkg{name: "p", files: []testFile{{path: "a.txt", content: "a"}}}.write(t, filepath.Join(root, "pkgs"))
	prefix := filepath.Join(root, "env")
	if _, err := Sync(context.Background(), prefix, []*Package{pkg}, Options{}); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadPrefix(prefix)
	must(t, err)
	recs[0].PathsData.Paths = append(recs[0].PathsData.Paths, PrefixPath{Path: "../victim.txt", PathType: conda.PathHardlink})
	must(t, writeRecord(prefix, recs[0]))
	_, err = Remove(context.Background(), prefix, []string{"p"}, Options{})
	if err == nil || !strings.Contains(err.Error(), `"../victim.txt"`) {
		t.Errorf("error %v, want one naming ../victim.txt", err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
		t.Errorf("file outside the prefix: %q, %v", b, err)
	}
	if got := installedDists(t, prefix); len(got) != 1 {
		t.Errorf("after the refused removal: %v", got)
	}
}
