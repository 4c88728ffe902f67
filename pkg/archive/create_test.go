package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/condabox/condabox/internal/testchannel"
)

// walked is one entry as Walk gave it, with its bytes.
type walked struct {
	Header
	data string
}

func (w walked) String() string {
	return fmt.Sprintf("%s %s %v %d %s %q %s", w.Name, w.Type, w.Mode, w.Size, w.Linkname, w.data, w.ModTime.UTC().Format(time.RFC3339))
}

// walkAll returns the entries of the archive at path, sorted by name.
func walkAll(t testing.TB, path string) map[string]walked {
	t.Helper()
	out := map[string]walked{}
	err := Walk(context.Background(), path, func(h *Header, r io.Reader) error {
		b, err := io.ReadAll(r)
		out[h.Name] = walked{*h, string(b)}
		return err
	})
	if err != nil {
		t.Fatalf("Walk %s: %v", path, err)
	}
	return out
}

// sameEntries fails t unless a and b hold the same entries.
func sameEntries(t testing.TB, what string, a, b map[string]walked) {
	t.Helper()
	for name, e := range a {
		if f, ok := b[name]; !ok || e.String() != f.String() {
			t.Errorf("%s: entry %s:\n have %v\n want %v", what, name, f, e)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s: entry %s should not be there", what, name)
		}
	}
}

// packageFolder writes an extracted package: info/, an executable, a
// symlink, an empty directory, a name longer than USTAR holds, and a file
// that compresses well.
func packageFolder(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	long := "lib/python3.11/site-packages/" + strings.Repeat("deep/", 20) + "module.py"
	files := []struct {
		name, data string
		mode       fs.FileMode
	}{
		{"info/index.json", `{"name":"x","version":"1","build":"0","build_number":0,"depends":[]}`, 0o644},
		{"info/paths.json", `{"paths":[],"paths_version":1}`, 0o644},
		{"bin/tool", "#!/bin/sh\necho tool\n", 0o755},
		{"share/x/data.txt", strings.Repeat("conda ", 10000), 0o644},
		{long, "print('deep')\n", 0o644},
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil { // umask
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("tool", filepath.Join(dir, "bin", "tool-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "share", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCreateFromFolder packs a folder into both formats and reads back
// every file with its mode, time and bytes; reading back the archive with
// Walk and writing it again (transmuting) gives the same bytes every time.
func TestCreateFromFolder(t *testing.T) {
	ctx := context.Background()
	dir := packageFolder(t)
	var want map[string]walked
	for _, name := range []string{"x-1-0.conda", "x-1-0.tar.bz2"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), name)
			err := Create(ctx, out, func(fn WalkFunc) error { return WalkDir(ctx, dir, fn) }, CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := walkAll(t, out)
			if want == nil {
				want = got
			}
			sameEntries(t, name, want, got)
			for _, e := range []string{"info/index.json", "bin/tool", "bin/tool-link", "share/empty", "share/x/data.txt"} {
				if _, ok := got[e]; !ok {
					t.Errorf("%s missing", e)
				}
			}
			if _, ok := got["share/x"]; ok {
				t.Errorf("share/x, a directory with files, should be implied, not stored")
			}
			if e := got["bin/tool"]; e.Mode != 0o755 || e.ModTime.Year() != 2024 {
				t.Errorf("bin/tool: mode %v, mtime %v: want 0755 and the file's time", e.Mode, e.ModTime)
			}
			if e := got["bin/tool-link"]; e.Type != TypeSymlink || e.Linkname != "tool" {
				t.Errorf("bin/tool-link: %v", e)
			}
			dest := filepath.Join(t.TempDir(), "x")
			if err := Extract(ctx, out, dest); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(dest, "bin", "tool")); err != nil || string(b) != "#!/bin/sh\necho tool\n" {
				t.Errorf("extracted bin/tool: %q, %v", b, err)
			}

			// Transmuting: the archive's own entries written again give
			// the same bytes, whatever the zstd encoder's goroutines.
			first, _ := os.ReadFile(out)
			for _, threads := range []int{1, 4} {
				again := filepath.Join(t.TempDir(), name)
				err := Create(ctx, again, func(fn WalkFunc) error { return Walk(ctx, out, fn) }, CreateOptions{Threads: threads})
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := os.ReadFile(again); !bytes.Equal(b, first) {
					t.Errorf("threads %d: written again, the archive differs (%d bytes against %d)", threads, len(b), len(first))
				}
			}
		})
	}
}

// TestTransmute converts each format into the other and back: the entries
// survive both conversions.
func TestTransmute(t *testing.T) {
	ctx := context.Background()
	info := append([]te{file("info/paths.json", `{"paths":[]}`)}, validInfo...)
	payload := []te{file("bin/a", "a"), symlink("bin/b", "a"), hardlink("bin/c", "bin/a"), dir("share/empty"), file("lib/x", "x")}
	for _, from := range []Format{FormatConda, FormatTarBz2} {
		src := craft(t, from, info, payload)
		want := walkAll(t, src)
		if want["bin/c"].Type != TypeHardlink {
			t.Fatalf("crafted bin/c is %v", want["bin/c"])
		}
		other := ".tar.bz2"
		if from == FormatTarBz2 {
			other = ".conda"
		}
		there := filepath.Join(t.TempDir(), "x-1-0"+other)
		if err := Create(ctx, there, func(fn WalkFunc) error { return Walk(ctx, src, fn) }, CreateOptions{Level: 1}); err != nil {
			t.Fatal(err)
		}
		sameEntries(t, filepath.Base(src)+" → "+other, want, walkAll(t, there))
		back := filepath.Join(t.TempDir(), filepath.Base(src))
		if err := Create(ctx, back, func(fn WalkFunc) error { return Walk(ctx, there, fn) }, CreateOptions{Level: 1}); err != nil {
			t.Fatal(err)
		}
		sameEntries(t, "and back", want, walkAll(t, back))
	}
}

// TestCreateBadInput: each failure names what is wrong and leaves no file
// where the archive was to be.
func TestCreateBadInput(t *testing.T) {
	ctx := context.Background()
	noInfo := t.TempDir()
	os.WriteFile(filepath.Join(noInfo, "a"), []byte("a"), 0o644)
	withFifo := packageFolder(t)
	if err := syscall.Mkfifo(filepath.Join(withFifo, "bin", "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	crossing := craft(t, FormatTarBz2, validInfo, []te{hardlink("bin/c", "info/index.json")})
	fromDir := func(dir string) func(WalkFunc) error {
		return func(fn WalkFunc) error { return WalkDir(ctx, dir, fn) }
	}
	fromArchive := func(p string) func(WalkFunc) error {
		return func(fn WalkFunc) error { return Walk(ctx, p, fn) }
	}
	tests := []struct {
		name, out string
		walk      func(WalkFunc) error
		level     int
		want      string
		is        error
	}{
		{"not a package folder", "x-1-0.conda", fromDir(noInfo), 0, "no info/index.json", ErrNotPackage},
		{"missing folder", "x-1-0.conda", fromDir(filepath.Join(noInfo, "nope")), 0, "no info/index.json", ErrNotPackage},
		{"fifo", "x-1-0.tar.bz2", fromDir(withFifo), 0, "bin/pipe: cannot pack a", nil},
		{"zstd level", "x-1-0.conda", fromDir(withFifo), 23, "zstd compression level 23", nil},
		{"bzip2 level", "x-1-0.tar.bz2", fromDir(withFifo), 10, "bzip2 compression level 10", nil},
		{"name", "x-1-0.zip", fromDir(withFifo), 0, "not a conda package", nil},
		{"hard link across tarballs", "x-1-0.conda", fromArchive(crossing), 0, `"bin/c": a hard link to "info/index.json" cannot cross`, nil},
		{"corrupt source", "x-1-0.conda", fromArchive(corruptCopy(t, crossing)), 0, "corrupt", ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, tt.out)
			err := Create(ctx, out, tt.walk, CreateOptions{Level: tt.level})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), out) {
				t.Fatalf("error %v: want one naming %s and saying %q", err, out, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if es, _ := os.ReadDir(dir); len(es) != 0 {
				t.Errorf("left %v behind", es)
			}
		})
	}
}

// corruptCopy copies the archive at p with bytes in its middle flipped.
func corruptCopy(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 3; i < len(b)/3+16 && i < len(b); i++ {
		b[i] ^= 0xff
	}
	out := filepath.Join(t.TempDir(), filepath.Base(p))
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTransmuteReadByCph: conda-package-handling, the library conda itself
// extracts packages with, reads what Create writes, and finds in it the
// files of the original; for every real package in ../shared, both ways.
func TestTransmuteReadByCph(t *testing.T) {
	cph, err := exec.LookPath("cph")
	if err != nil {
		t.Skip("cph (conda-package-handling; apt-get install cph) is not installed")
	}
	root := testchannel.RealData(t, "packages")
	var pkgs []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".conda") || strings.HasSuffix(p, ".tar.bz2")) && !strings.Contains(p, "/sparse/") {
			pkgs = append(pkgs, p)
		}
		return nil
	})
	if len(pkgs) < 4 {
		t.Fatalf("found %d real packages under %s", len(pkgs), root)
	}
	ctx := context.Background()
	for _, src := range pkgs {
		rel, _ := filepath.Rel(root, src)
		t.Run(rel, func(t *testing.T) {
			dist := Dist(filepath.Base(src))
			out := filepath.Join(t.TempDir(), dist+".conda")
			if strings.HasSuffix(src, ".conda") {
				out = filepath.Join(t.TempDir(), dist+".tar.bz2")
			}
			if err := Create(ctx, out, func(fn WalkFunc) error { return Walk(ctx, src, fn) }, CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			sameEntries(t, "walked", walkAll(t, src), walkAll(t, out))
			ours, theirs := filepath.Join(t.TempDir(), "ours"), filepath.Join(t.TempDir(), "theirs")
			for _, x := range []struct{ archive, dest string }{{out, ours}, {src, theirs}} {
				if b, err := exec.Command(cph, "x", x.archive, "--dest", x.dest).CombinedOutput(); err != nil {
					t.Fatalf("cph x %s: %v\n%s", x.archive, err, b)
				}
			}
			if a, b := treeOf(t, ours), treeOf(t, theirs); a != b {
				t.Errorf("cph extracts from the transmuted archive:\n%s\nfrom the original:\n%s", a, b)
			}
		})
	}
}

// treeOf describes every path below dir: type, permission bits, and the
// bytes of files or the target of links.
func treeOf(t *testing.T, dir string) string {
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v", rel, st.Mode())
		switch {
		case st.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %d %x", len(data), data[:min(len(data), 16)])
		case st.Mode().Type() == fs.ModeSymlink:
			l, _ := os.Readlink(p)
			fmt.Fprintf(&b, " -> %s", l)
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
