package pkgbuild

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/pkg/conda"
)

// archived is one tar entry as read back from a package.
type archived struct {
	Type  byte
	Mode  int64
	Data  string
	Link  string
	MTime time.Time
	Owner string // "uid:gid:uname:gname"
}

// readPackage is an independent reader of both formats: it returns every
// tar entry by path (info/ included) and checks the container layout.
func readPackage(t *testing.T, b []byte, f Format, dist string) map[string]archived {
	t.Helper()
	out := map[string]archived{}
	readTar := func(r io.Reader, want func(name string) bool) {
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("read tar: %v", err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("read tar entry %s: %v", h.Name, err)
			}
			name := strings.TrimSuffix(h.Name, "/")
			if !want(name) {
				t.Errorf("tar entry %q is in the wrong archive", name)
			}
			if _, dup := out[name]; dup {
				t.Errorf("tar entry %q appears twice", name)
			}
			out[name] = archived{Type: h.Typeflag, Mode: h.Mode, Data: string(data), Link: h.Linkname,
				MTime: h.ModTime.UTC(), Owner: strings.Join([]string{strconv.Itoa(h.Uid), strconv.Itoa(h.Gid), h.Uname, h.Gname}, ":")}
		}
	}
	isInfo := func(n string) bool { return strings.HasPrefix(n, "info/") }
	switch f {
	case FormatTarBz2:
		readTar(bzip2.NewReader(bytes.NewReader(b)), func(string) bool { return true })
	case FormatConda:
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("read zip: %v", err)
		}
		var names []string
		for _, zf := range zr.File {
			names = append(names, zf.Name)
			if zf.Method != zip.Store || zf.Flags&0x8 != 0 {
				t.Errorf("zip member %s: method %d flags %#x, want stored without data descriptor", zf.Name, zf.Method, zf.Flags)
			}
			rc, err := zf.Open()
			if err != nil {
				t.Fatalf("open zip member %s: %v", zf.Name, err)
			}
			data, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("read zip member %s: %v", zf.Name, err)
			}
			switch zf.Name {
			case "metadata.json":
				var md struct {
					Version int `json:"conda_pkg_format_version"`
				}
				if err := json.Unmarshal(data, &md); err != nil || md.Version != 2 {
					t.Errorf("metadata.json = %s (%v), want format version 2", data, err)
				}
			case "info-" + dist + ".tar.zst", "pkg-" + dist + ".tar.zst":
				zr, err := zstd.NewReader(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				infoPart := strings.HasPrefix(zf.Name, "info-")
				readTar(zr, func(n string) bool { return isInfo(n) == infoPart })
				zr.Close()
			}
		}
		want := []string{"metadata.json", "pkg-" + dist + ".tar.zst", "info-" + dist + ".tar.zst"}
		if !slices.Equal(names, want) {
			t.Errorf("zip members %q, want %q", names, want)
		}
	}
	return out
}

// demoPackage exercises every kind of entry and info file.
func demoPackage() *Package {
	return &Package{
		Record: conda.PackageRecord{
			Name: "demo", Version: conda.MustParseVersion("1.2.3"), Build: "h1234_0", BuildNumber: 0,
			Depends: []string{"libc >=2.17"}, Constrains: []string{"other <2"}, Subdir: "linux-64",
			License: "MIT", Timestamp: 1700000000123, TrackFeatures: conda.FeatureList{"feat"},
		},
		Files: []File{
			{Path: "share/with space.txt", Mode: 0o644, Data: []byte("at /opt/ph\n"), PrefixPlaceholder: "/opt/ph"},
			{Path: "bin/demo", Mode: 0o775, Data: []byte("#!/opt/ph/bin/sh\necho hi\n"), PrefixPlaceholder: "/opt/ph"},
			{Path: "lib/libdemo.so.1", Mode: 0o640, Data: []byte("\x7fELF\x00/opt/ph\x00"), PrefixPlaceholder: "/opt/ph", Binary: true},
			{Path: "lib/libdemo.so", Mode: fs.ModeSymlink | 0o777, LinkTarget: "libdemo.so.1"},
			{Path: "lib/dangling", Mode: fs.ModeSymlink, LinkTarget: "nowhere"},
			{Path: "share/empty", Mode: fs.ModeDir | 0o700},
			{Path: "etc/zero", Mode: 0o644},
			{Path: "etc/nolink.cfg", Mode: 0o600, Data: []byte("x=1\n"), NoLink: true},
		},
		RunExports: &conda.RunExports{Weak: []string{"demo >=1.2"}},
		About:      map[string]any{"summary": "a demo", "home": "https://example.org"},
	}
}

func noarchPythonPackage() *Package {
	return &Package{
		Record: conda.PackageRecord{
			Name: "pydemo", Version: conda.MustParseVersion("0.1"), Build: "pyh_0", Subdir: "noarch",
			Noarch: conda.NoarchPython, Depends: []string{"python >=3.9"},
		},
		Files:       []File{{Path: "site-packages/pydemo/__init__.py", Mode: 0o644, Data: []byte("def main(): pass\n")}},
		EntryPoints: []string{"pydemo = pydemo:main"},
	}
}

func write(t *testing.T, p *Package, f Format) ([]byte, conda.PackageRecord) {
	t.Helper()
	var buf bytes.Buffer
	rec, err := Write(&buf, p, f)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes(), rec
}

// wantPayload is what extraction of p must give for its payload.
func wantPayload(p *Package) map[string]archived {
	want := map[string]archived{}
	for _, f := range p.Files {
		switch f.Mode.Type() {
		case fs.ModeSymlink:
			want[f.Path] = archived{Type: tar.TypeSymlink, Mode: 0o777, Link: f.LinkTarget}
		case fs.ModeDir:
			want[f.Path] = archived{Type: tar.TypeDir, Mode: 0o755}
		default:
			mode := int64(0o644)
			if f.Mode&0o111 != 0 {
				mode = 0o755
			}
			want[f.Path] = archived{Type: tar.TypeReg, Mode: mode, Data: string(f.Data)}
		}
	}
	return want
}

func TestWriteRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pkg    *Package
		format Format
	}{
		{"conda", demoPackage(), FormatConda},
		{"tar.bz2", demoPackage(), FormatTarBz2},
		{"noarch python conda", noarchPythonPackage(), FormatConda},
		{"noarch python tar.bz2", noarchPythonPackage(), FormatTarBz2},
		{"empty package", &Package{Record: conda.PackageRecord{Name: "e", Version: conda.MustParseVersion("1"), Build: "0", Subdir: "noarch"}}, FormatConda},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, rec := write(t, tc.pkg, tc.format)
			dist := tc.pkg.Record.Dist()
			if rec.FileName != dist+tc.format.Extension() || rec.Size != int64(len(b)) ||
				rec.MD5 != hexSum(md5.New(), b) || rec.SHA256 != hexSum(sha256.New(), b) {
				t.Errorf("record fn=%s size=%d md5=%s sha256=%s does not describe the %d written bytes",
					rec.FileName, rec.Size, rec.MD5, rec.SHA256, len(b))
			}
			got := readPackage(t, b, tc.format, dist)

			wantTime := time.Unix(0, 0).UTC()
			if tc.pkg.Record.Timestamp != 0 {
				wantTime = tc.pkg.Record.Time().Truncate(time.Second)
			}
			info := map[string]string{}
			for name, e := range got {
				if e.MTime != wantTime || e.Owner != "0:0::" {
					t.Errorf("%s: mtime %v owner %q, want %v and 0:0::", name, e.MTime, e.Owner, wantTime)
				}
				if strings.HasPrefix(name, "info/") {
					info[name] = e.Data
					delete(got, name)
					continue
				}
				e.MTime, e.Owner = time.Time{}, ""
				got[name] = e
			}
			if want := wantPayload(tc.pkg); !reflect.DeepEqual(got, want) {
				t.Errorf("payload\n got %+v\nwant %+v", got, want)
			}
			checkInfo(t, tc.pkg, info)
		})
	}
}

func hexSum(h interface {
	io.Writer
	Sum([]byte) []byte
}, b []byte) string {
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// checkInfo checks the info/ files against the package they describe.
func checkInfo(t *testing.T, p *Package, info map[string]string) {
	t.Helper()
	var index conda.PackageRecord
	if err := json.Unmarshal([]byte(info["info/index.json"]), &index); err != nil {
		t.Fatalf("info/index.json: %v", err)
	}
	wantIndex := p.Record
	if wantIndex.Depends == nil {
		wantIndex.Depends = []string{}
	}
	if !reflect.DeepEqual(index, wantIndex) {
		t.Errorf("info/index.json = %+v, want %+v", index, wantIndex)
	}
	if strings.Contains(info["info/index.json"], `"depends": null`) || strings.Contains(info["info/index.json"], `\u003e`) {
		t.Errorf("info/index.json has depends null or escapes '>', unlike conda-build:\n%s", info["info/index.json"])
	}

	var paths conda.PathsJSON
	if err := json.Unmarshal([]byte(info["info/paths.json"]), &paths); err != nil {
		t.Fatalf("info/paths.json: %v", err)
	}
	if paths.PathsVersion != 1 || len(paths.Paths) != len(p.Files) {
		t.Fatalf("paths.json version %d with %d paths, want 1 and %d", paths.PathsVersion, len(paths.Paths), len(p.Files))
	}
	byPath := map[string]File{}
	var list []string
	var prefixLines []string
	files := slices.Clone(p.Files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range files {
		byPath[f.Path] = f
		list = append(list, f.Path)
		if f.PrefixPlaceholder != "" {
			mode := "text"
			if f.Binary {
				mode = "binary"
			}
			pth := f.Path
			if strings.Contains(pth, " ") {
				pth = `"` + pth + `"`
			}
			prefixLines = append(prefixLines, f.PrefixPlaceholder+" "+mode+" "+pth)
		}
	}
	for i, e := range paths.Paths {
		if e.Path != list[i] {
			t.Errorf("paths.json entry %d is %q, want %q (sorted)", i, e.Path, list[i])
		}
		f := byPath[e.Path]
		want := conda.PathEntry{Path: f.Path, NoLink: f.NoLink, PathType: conda.PathHardlink}
		switch f.Mode.Type() {
		case fs.ModeDir:
			want.PathType = conda.PathDirectory
		case fs.ModeSymlink:
			want.PathType, want.SHA256 = conda.PathSoftlink, hexSum(sha256.New(), nil)
			if target, ok := byPath[path.Join(path.Dir(f.Path), f.LinkTarget)]; ok {
				want.SHA256, want.SizeInBytes = hexSum(sha256.New(), target.Data), int64(len(target.Data))
			}
		default:
			want.SHA256, want.SizeInBytes = hexSum(sha256.New(), f.Data), int64(len(f.Data))
			if f.PrefixPlaceholder != "" {
				want.PrefixPlaceholder, want.FileMode = f.PrefixPlaceholder, conda.FileModeText
				if f.Binary {
					want.FileMode = conda.FileModeBinary
				}
			}
		}
		if e != want {
			t.Errorf("paths.json entry %+v, want %+v", e, want)
		}
	}
	if got, want := info["info/files"], lines(list); got != want {
		t.Errorf("info/files = %q, want %q", got, want)
	}
	// has_prefix exists only when some file has a placeholder.
	if got, ok := info["info/has_prefix"]; ok != (len(prefixLines) > 0) || got != lines(prefixLines) {
		t.Errorf("info/has_prefix = %q (present %v), want %q", got, ok, lines(prefixLines))
	}

	var about map[string]any
	if err := json.Unmarshal([]byte(info["info/about.json"]), &about); err != nil {
		t.Errorf("info/about.json: %v", err)
	}
	if len(about) != len(p.About) || (p.About != nil && !reflect.DeepEqual(about, p.About)) {
		t.Errorf("info/about.json = %v, want %v", about, p.About)
	}

	raw, ok := info["info/run_exports.json"]
	if ok != (p.RunExports != nil) {
		t.Errorf("info/run_exports.json present %v, want %v", ok, p.RunExports != nil)
	} else if ok {
		var re conda.RunExports
		if err := json.Unmarshal([]byte(raw), &re); err != nil || !reflect.DeepEqual(&re, p.RunExports) {
			t.Errorf("info/run_exports.json = %s (%v), want %+v", raw, err, p.RunExports)
		}
	}

	raw, ok = info["info/link.json"]
	if ok != (p.Record.Noarch != "") {
		t.Errorf("info/link.json present %v, want %v", ok, p.Record.Noarch != "")
	} else if ok {
		var link conda.LinkJSON
		want := conda.LinkJSON{Noarch: conda.NoarchLink{Type: p.Record.Noarch, EntryPoints: p.EntryPoints}, PackageMetadataVersion: 1}
		if err := json.Unmarshal([]byte(raw), &link); err != nil || !reflect.DeepEqual(link, want) {
			t.Errorf("info/link.json = %s (%v), want %+v", raw, err, want)
		}
	}
}

// lines joins ls as newline-terminated lines.
func lines(ls []string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func TestWriteDeterministic(t *testing.T) {
	for _, f := range []Format{FormatConda, FormatTarBz2} {
		first, _ := write(t, demoPackage(), f)
		shuffled := demoPackage()
		slices.Reverse(shuffled.Files)
		second, _ := write(t, shuffled, f)
		if !bytes.Equal(first, second) {
			t.Errorf("%s: same package written twice (files in another order) gives different bytes", f.Extension())
		}
		changed := demoPackage()
		changed.Files[0].Data = []byte("changed")
		if third, _ := write(t, changed, f); bytes.Equal(first, third) {
			t.Errorf("%s: a changed file gives the same bytes", f.Extension())
		}
	}
}

func TestWriteRejects(t *testing.T) {
	file := func(p string) File { return File{Path: p, Mode: 0o644, Data: []byte("x")} }
	link := func(p, target string) File { return File{Path: p, Mode: fs.ModeSymlink, LinkTarget: target} }
	for _, tc := range []struct {
		name  string
		edit  func(p *Package)
		error string
	}{
		{"absolute path", func(p *Package) { p.Files = []File{file("/etc/passwd")} }, "absolute"},
		{"dot-dot path", func(p *Package) { p.Files = []File{file("../evil")} }, "leaves the prefix"},
		{"dot-dot inside", func(p *Package) { p.Files = []File{file("a/../../x")} }, "not clean"},
		{"unclean path", func(p *Package) { p.Files = []File{file("a//b")} }, "not clean"},
		{"empty path", func(p *Package) { p.Files = []File{file("")} }, "empty path"},
		{"not utf-8", func(p *Package) { p.Files = []File{file("\xbe")} }, "not UTF-8"},
		{"backslash", func(p *Package) { p.Files = []File{file(`a\b`)} }, "backslash"},
		{"duplicate", func(p *Package) { p.Files = []File{file("a"), file("a")} }, "duplicate"},
		{"inside info", func(p *Package) { p.Files = []File{file("info/index.json")} }, "inside info/"},
		{"absolute link", func(p *Package) { p.Files = []File{link("a", "/etc/passwd")} }, "absolute"},
		{"link escapes", func(p *Package) { p.Files = []File{link("lib/a", "../../x")} }, "leaves the prefix"},
		{"link chain escapes", func(p *Package) {
			p.Files = []File{link("d/up", ".."), link("d/b", "up/../..")}
		}, "leaves the prefix"},
		{"link loop", func(p *Package) { p.Files = []File{link("a", "b"), link("b", "a")} }, "loops"},
		{"file under symlink", func(p *Package) { p.Files = []File{link("lib", "."), file("lib/x")} }, "not a directory"},
		{"file under file", func(p *Package) { p.Files = []File{file("a"), file("a/b")} }, "not a directory"},
		{"link without target", func(p *Package) { p.Files = []File{link("a", "")} }, "needs a link target"},
		{"device", func(p *Package) { p.Files = []File{{Path: "dev", Mode: fs.ModeDevice}} }, "unsupported file type"},
		{"placeholder on link", func(p *Package) {
			f := link("a", "b")
			f.PrefixPlaceholder = "/opt"
			p.Files = []File{f}
		}, "only regular files"},
		{"quote in placeholder", func(p *Package) {
			f := file("a")
			f.PrefixPlaceholder = `/o"pt`
			p.Files = []File{f}
		}, "quote"},
		{"binary without placeholder", func(p *Package) {
			f := file("a")
			f.Binary = true
			p.Files = []File{f}
		}, "without a prefix placeholder"},
		{"slash in name", func(p *Package) { p.Record.Name = "a/b" }, "file name"},
		{"empty build", func(p *Package) { p.Record.Build = "" }, "build is empty"},
		{"empty subdir", func(p *Package) { p.Record.Subdir = "" }, "subdir is empty"},
		{"entry points without noarch python", func(p *Package) { p.EntryPoints = []string{"a = b:c"} }, "need noarch python"},
		{"bad entry point", func(p *Package) {
			p.Record.Noarch = conda.NoarchPython
			p.EntryPoints = []string{"a = b"}
		}, "cmd = module:func"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := demoPackage()
			tc.edit(p)
			var buf bytes.Buffer
			_, err := Write(&buf, p, FormatConda)
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("Write error = %v, want one containing %q", err, tc.error)
			}
			if !strings.Contains(err.Error(), p.Record.Dist()) {
				t.Errorf("error %q does not name the package %s", err, p.Record.Dist())
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []Format{FormatConda, FormatTarBz2} {
		rec, err := WriteFile(dir, demoPackage(), f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "demo-1.2.3-h1234_0"+f.Extension()))
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := write(t, demoPackage(), f); !bytes.Equal(b, want) || rec.SHA256 != hexSum(sha256.New(), b) {
			t.Errorf("%s: file differs from Write's output or its record", rec.FileName)
		}
	}
	if _, err := WriteFile(dir, &Package{}, FormatConda); err == nil {
		t.Error("WriteFile of an invalid package succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("dir holds %d entries, want the 2 packages and no temporary files", len(ents))
	}
}

func TestFilesFromDir(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "share/empty"), 0o755))
	must(os.WriteFile(filepath.Join(root, "bin/tool"), []byte("#!/bin/sh\n"), 0o755))
	must(os.WriteFile(filepath.Join(root, "a.txt"), []byte("a"), 0o644))
	must(os.Symlink("tool", filepath.Join(root, "bin/alias")))

	got, err := FilesFromDir(root)
	must(err)
	want := []File{
		{Path: "a.txt", Mode: 0o644, Data: []byte("a")},
		{Path: "bin/alias", Mode: fs.ModeSymlink | 0o777, LinkTarget: "tool"},
		{Path: "bin/tool", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
		{Path: "share/empty", Mode: fs.ModeDir | 0o755},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FilesFromDir\n got %+v\nwant %+v", got, want)
	}
	if _, err := FilesFromDir(filepath.Join(root, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("FilesFromDir of a missing dir: error %v, want one naming it", err)
	}
}

// TestCPHExtract cross-checks with conda-package-handling, the library
// conda itself uses: what cph extracts must be the package's files and info.
func TestCPHExtract(t *testing.T) {
	cph, err := exec.LookPath("cph")
	if err != nil {
		t.Skip("cph not installed (apt-get install conda-package-handling): skipping the cross-check")
	}
	dir := t.TempDir()
	for _, f := range []Format{FormatConda, FormatTarBz2} {
		for _, p := range []*Package{demoPackage(), noarchPythonPackage()} {
			t.Run(p.Record.Name+f.Extension(), func(t *testing.T) {
				rec, err := WriteFile(dir, p, f)
				if err != nil {
					t.Fatal(err)
				}
				archive, err := os.ReadFile(filepath.Join(dir, rec.FileName))
				if err != nil {
					t.Fatal(err)
				}
				// The input files, plus the info/ files as our reader sees them
				// (TestWriteRoundTrip checks those against the input).
				want := wantPayload(p)
				for name, e := range readPackage(t, archive, f, p.Record.Dist()) {
					if strings.HasPrefix(name, "info/") {
						want[name] = archived{Type: e.Type, Mode: e.Mode, Data: e.Data}
					}
				}
				for name, w := range want {
					if w.Type == tar.TypeSymlink {
						w.Mode = 0 // the file system reports no mode for links
						want[name] = w
					}
				}
				dest := filepath.Join(dir, "x-"+rec.FileName)
				if out, err := exec.Command(cph, "x", filepath.Join(dir, rec.FileName), "--dest", dest).CombinedOutput(); err != nil {
					t.Fatalf("cph x %s: %v\n%s", rec.FileName, err, out)
				}
				got := extractedTree(t, dest)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("cph extracted\n %+v\nwant\n %+v", got, want)
				}
			})
		}
	}
}

// extractedTree reads an extracted package back into the archived form.
func extractedTree(t *testing.T, root string) map[string]archived {
	t.Helper()
	out := map[string]archived{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch info.Mode().Type() {
		case fs.ModeSymlink:
			target, err := os.Readlink(p)
			out[rel] = archived{Type: tar.TypeSymlink, Link: target}
			return err
		case fs.ModeDir:
			// Only empty directories are entries of the package.
			if ents, err := os.ReadDir(p); err != nil || len(ents) > 0 {
				return err
			}
			out[rel] = archived{Type: tar.TypeDir, Mode: int64(info.Mode().Perm())}
		default:
			data, err := os.ReadFile(p)
			out[rel] = archived{Type: tar.TypeReg, Mode: int64(info.Mode().Perm()), Data: string(data)}
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRebuildRealPackages rebuilds real conda-build packages from their
// contents and metadata: paths.json and files must come out byte for byte
// as conda-build wrote them (hashes and sizes of symlinks included).
func TestRebuildRealPackages(t *testing.T) {
	for _, rel := range []string{
		"packages/mamba/cph_test_data-0.0.1-0.tar.bz2",
		"packages/mamba/_r-mutex-1.0.1-anacondar_1.tar.bz2",
	} {
		t.Run(path.Base(rel), func(t *testing.T) {
			archive, err := os.ReadFile(testchannel.RealData(t, rel))
			if err != nil {
				t.Fatal(err)
			}
			real := readPackage(t, archive, FormatTarBz2, "")
			p := &Package{}
			if err := json.Unmarshal([]byte(real["info/index.json"].Data), &p.Record); err != nil {
				t.Fatalf("info/index.json: %v", err)
			}
			for name, e := range real {
				if strings.HasPrefix(name, "info/") {
					continue
				}
				f := File{Path: name, Mode: fs.FileMode(e.Mode).Perm(), Data: []byte(e.Data)}
				switch e.Type {
				case tar.TypeSymlink:
					f.Mode, f.LinkTarget = fs.ModeSymlink|0o777, e.Link
				case tar.TypeDir:
					f.Mode |= fs.ModeDir
				}
				p.Files = append(p.Files, f)
			}
			for _, f := range []Format{FormatConda, FormatTarBz2} {
				b, _ := write(t, p, f)
				rebuilt := readPackage(t, b, f, p.Record.Dist())
				for _, name := range []string{"info/paths.json", "info/files"} {
					if got, want := rebuilt[name].Data, real[name].Data; got != want {
						t.Errorf("%s%s: %s\n got %s\nwant %s", p.Record.Dist(), f.Extension(), name, got, want)
					}
				}
			}
		})
	}
}

// BenchmarkWrite writes a package of 200 files (about 4 MB) in each format.
func BenchmarkWrite(b *testing.B) {
	p := demoPackage()
	for i := range 200 {
		data := bytes.Repeat([]byte(strconv.Itoa(i)+" some text of a source file\n"), 20<<10/32)
		p.Files = append(p.Files, File{Path: "lib/python3.12/site-packages/m/f" + strconv.Itoa(i) + ".py", Mode: 0o644, Data: data})
	}
	for _, f := range []Format{FormatConda, FormatTarBz2} {
		b.Run(strings.TrimPrefix(f.Extension(), "."), func(b *testing.B) {
			for b.Loop() {
				if _, err := Write(io.Discard, p, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
