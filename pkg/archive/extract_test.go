package archive_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/conda"
)

// checkPaths proves an extracted package matches its info/paths.json: every
// hardlink is a file with the listed size and sha256, every softlink a
// symlink, every directory a directory. It returns the number of paths.
func checkPaths(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "info", "paths.json"))
	if err != nil {
		t.Fatalf("paths.json: %v", err)
	}
	var pj conda.PathsJSON
	if err := json.Unmarshal(b, &pj); err != nil {
		t.Fatalf("paths.json: %v", err)
	}
	for _, p := range pj.Paths {
		full := filepath.Join(dir, filepath.FromSlash(p.Path))
		st, err := os.Lstat(full)
		if err != nil {
			t.Errorf("%s: %v", p.Path, err)
			continue
		}
		switch p.PathType {
		case conda.PathSoftlink:
			if st.Mode().Type() != fs.ModeSymlink {
				t.Errorf("%s: %v, want a symlink", p.Path, st.Mode())
			}
		case conda.PathDirectory:
			if !st.IsDir() {
				t.Errorf("%s: %v, want a directory", p.Path, st.Mode())
			}
		default:
			data, err := os.ReadFile(full)
			if err != nil {
				t.Errorf("%s: %v", p.Path, err)
				continue
			}
			sum := sha256.Sum256(data)
			if int64(len(data)) != p.SizeInBytes || p.SHA256 != "" && hex.EncodeToString(sum[:]) != p.SHA256 {
				t.Errorf("%s: %d bytes sha256 %x, paths.json says %d bytes sha256 %s", p.Path, len(data), sum, p.SizeInBytes, p.SHA256)
			}
		}
	}
	return len(pj.Paths)
}

func TestRoundTripFromPkgbuild(t *testing.T) {
	pkg := &pkgbuild.Package{
		Record: conda.PackageRecord{Name: "rt", Version: conda.MustParseVersion("1.0"), Build: "h0_0", Subdir: "linux-64"},
		Files: []pkgbuild.File{
			{Path: "bin/tool", Mode: 0o755, Data: []byte("#!/bin/sh\necho /opt/anaconda1anaconda2anaconda3\n"), PrefixPlaceholder: "/opt/anaconda1anaconda2anaconda3"},
			{Path: "lib/libx.so.1", Mode: 0o644, Data: []byte(strings.Repeat("\x7fELF", 5000))},
			{Path: "lib/libx.so", Mode: fs.ModeSymlink | 0o777, LinkTarget: "libx.so.1"},
			{Path: "share/empty", Mode: fs.ModeDir | 0o755},
		},
	}
	for _, format := range []pkgbuild.Format{pkgbuild.FormatConda, pkgbuild.FormatTarBz2} {
		t.Run(format.Extension(), func(t *testing.T) {
			d := t.TempDir()
			rec, err := pkgbuild.WriteFile(d, pkg, format)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(d, rec.FileName)
			dest := filepath.Join(d, archive.Dist(rec.FileName))
			if err := archive.Extract(context.Background(), path, dest); err != nil {
				t.Fatal(err)
			}
			if n := checkPaths(t, dest); n != len(pkg.Files) {
				t.Errorf("paths.json lists %d paths, want %d", n, len(pkg.Files))
			}
			for _, f := range pkg.Files {
				st, err := os.Lstat(filepath.Join(dest, f.Path))
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Type() != f.Mode.Type() || st.Mode().IsRegular() && st.Mode().Perm() != f.Mode.Perm() {
					t.Errorf("%s: mode %v, want %v", f.Path, st.Mode(), f.Mode)
				}
			}
			if target, _ := os.Readlink(filepath.Join(dest, "lib/libx.so")); target != "libx.so.1" {
				t.Errorf("symlink target %q", target)
			}

			info, err := archive.ReadInfo(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			var idx conda.PackageRecord
			if err := json.Unmarshal(info["info/index.json"], &idx); err != nil || idx.Name != "rt" || idx.Build != "h0_0" {
				t.Errorf("ReadInfo index.json: %+v, %v", idx, err)
			}
			for name := range info {
				if !strings.HasPrefix(name, "info/") {
					t.Errorf("ReadInfo returned %q", name)
				}
			}

			infoDest := filepath.Join(d, "info-only")
			if err := archive.ExtractInfo(context.Background(), path, infoDest); err != nil {
				t.Fatal(err)
			}
			es, _ := os.ReadDir(infoDest)
			if len(es) != 1 || es[0].Name() != "info" {
				t.Errorf("ExtractInfo wrote %v, want info/ alone", es)
			}

			// Walk sees the same entries as Extract wrote; a .conda's info/ first.
			var names []string
			err = archive.Walk(context.Background(), path, func(h *archive.Header, r io.Reader) error {
				b, err := io.ReadAll(r)
				if int64(len(b)) != h.Size {
					t.Errorf("%s: read %d bytes, header says %d", h.Name, len(b), h.Size)
				}
				names = append(names, h.Name)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if format == pkgbuild.FormatConda && !strings.HasPrefix(names[0], "info/") {
				t.Errorf("Walk began with %q, want info/ first", names[0])
			}
			if !containsAll(names, "bin/tool", "lib/libx.so", "share/empty", "info/paths.json") {
				t.Errorf("Walk saw %q", names)
			}
		})
	}
}

func containsAll(have []string, want ...string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

func TestWalkStopsOnSkipAll(t *testing.T) {
	dir := testchannel.RealData(t, "packages", "rattler", "sparse")
	n := 0
	err := archive.Walk(context.Background(), filepath.Join(dir, "sparse-test-1.0.0-0.conda"), func(*archive.Header, io.Reader) error {
		n++
		return fs.SkipAll
	})
	if err != nil || n != 1 {
		t.Errorf("Walk after SkipAll: %d calls, error %v; want 1 call, no error", n, err)
	}
	boom := errors.New("boom")
	err = archive.Walk(context.Background(), filepath.Join(dir, "sparse-test-1.0.0-0.conda"), func(*archive.Header, io.Reader) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("Walk returned %v, want the callback's error", err)
	}
}

// TestRealPackages extracts every real package of ../shared/realdata and
// checks the result against its paths.json where it has one.
func TestRealPackages(t *testing.T) {
	root := testchannel.RealData(t, "packages")
	var archives []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".conda") || strings.HasSuffix(p, ".tar.bz2")) {
			archives = append(archives, p)
		}
		return err
	})
	if len(archives) < 30 {
		t.Fatalf("found %d packages under %s, expected the whole set", len(archives), root)
	}
	for _, p := range archives {
		rel, _ := filepath.Rel(root, p)
		t.Run(rel, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), archive.Dist(filepath.Base(p)))
			if err := archive.Extract(context.Background(), p, dest); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dest, "info", "index.json")); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dest, "info", "paths.json")); err == nil {
				checkPaths(t, dest)
			}
		})
	}
}

// TestRealisticChannel extracts every package of the realistic channel
// (real Debian binaries: python, openssl, curl ...) in both formats and
// checks each against its paths.json.
func TestRealisticChannel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the realistic channel")
	}
	for _, ext := range []string{".conda", ".tar.bz2"} {
		files := realisticChannel(t, ext)
		if len(files) < 30 {
			t.Fatalf("%d %s packages in the realistic channel, expected all", len(files), ext)
		}
		out := t.TempDir()
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				dest := filepath.Join(out, filepath.Base(f))
				if err := archive.Extract(context.Background(), f, dest); err != nil {
					t.Fatal(err)
				}
				checkPaths(t, dest)
			})
		}
	}
}

// TestSparsePackages checks what rattler's extraction stress cases must
// produce.
func TestSparsePackages(t *testing.T) {
	dir := testchannel.RealData(t, "packages", "rattler", "sparse")
	tests := []struct {
		pkg   string
		check func(t *testing.T, dest string)
	}{
		{"dotslash-test-1.0.0-0", func(t *testing.T, dest string) { wantFile(t, dest, "lib/data.txt") }},
		{"zip64-test-1.0.0-0", func(t *testing.T, dest string) { wantFile(t, dest, "bin/hello.txt") }},
		{"info-only-1.0.0-0", func(t *testing.T, dest string) {
			if es, _ := os.ReadDir(dest); len(es) != 1 {
				t.Errorf("entries %v, want info/ alone", es)
			}
		}},
		{"sparse-test-1.0.0-0", func(t *testing.T, dest string) {
			for _, f := range []string{"bin/first-file.txt", "lib/blob.bin", "share/last-file.txt"} {
				wantFile(t, dest, f)
			}
		}},
		{"symlink-test-1.0.0-0", func(t *testing.T, dest string) {
			if target, err := os.Readlink(filepath.Join(dest, "lib/liblink.so")); err != nil || target != "libreal.so.1" {
				t.Errorf("lib/liblink.so → %q, %v", target, err)
			}
			real, _ := os.Stat(filepath.Join(dest, "lib/libreal.so.1"))
			hard, err := os.Stat(filepath.Join(dest, "lib/libhard.so"))
			if err != nil || !os.SameFile(real, hard) {
				t.Errorf("lib/libhard.so is not a hardlink of lib/libreal.so.1: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), tt.pkg)
			if err := archive.Extract(context.Background(), filepath.Join(dir, tt.pkg+".conda"), dest); err != nil {
				t.Fatal(err)
			}
			wantFile(t, dest, "info/index.json")
			tt.check(t, dest)
		})
	}
}

func wantFile(t *testing.T, dir, name string) {
	t.Helper()
	if st, err := os.Lstat(filepath.Join(dir, name)); err != nil || !st.Mode().IsRegular() {
		t.Errorf("%s: not a regular file (%v)", name, err)
	}
}

func TestExtractReplacesAStaleDir(t *testing.T) {
	src := filepath.Join(testchannel.RealData(t, "packages", "rattler", "sparse"), "zip64-test-1.0.0-0.conda")
	dest := filepath.Join(t.TempDir(), "zip64-test-1.0.0-0")
	if err := os.MkdirAll(filepath.Join(dest, "stale", "half"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := archive.Extract(context.Background(), src, dest); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dest, "stale")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale content survived: %v", err)
	}
	wantFile(t, dest, "bin/hello.txt")
	if es, _ := os.ReadDir(filepath.Dir(dest)); len(es) != 1 {
		t.Errorf("left beside dest: %v", es)
	}
}

// TestExtractDiskFull extracts onto a 1 MiB tmpfs (needs root): a clear
// error naming the archive and the entry, and nothing half-written.
func TestExtractDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	data := make([]byte, 3<<20)
	rand.NewChaCha8([32]byte{7}).Read(data) // incompressible, so the archive is small only on disk
	pkg := &pkgbuild.Package{
		Record: conda.PackageRecord{Name: "big", Version: conda.MustParseVersion("1"), Build: "0", Subdir: "linux-64"},
		Files:  []pkgbuild.File{{Path: "lib/big.bin", Mode: 0o644, Data: data}},
	}
	for _, format := range []pkgbuild.Format{pkgbuild.FormatConda, pkgbuild.FormatTarBz2} {
		t.Run(format.Extension(), func(t *testing.T) {
			src := t.TempDir()
			rec, err := pkgbuild.WriteFile(src, pkg, format)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(src, rec.FileName)
			full := t.TempDir()
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", full).CombinedOutput(); err != nil {
				t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
			}
			t.Cleanup(func() { exec.Command("umount", full).Run() })
			err = archive.Extract(context.Background(), path, filepath.Join(full, "big-1-0"))
			if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "lib/big.bin") {
				t.Fatalf("error %v, want ENOSPC naming the archive and lib/big.bin", err)
			}
			if archive.Rejected(err) {
				t.Errorf("a full disk counts as a bad archive: %v", err)
			}
			if es, _ := os.ReadDir(full); len(es) != 0 {
				t.Errorf("left on the full disk: %v", es)
			}
		})
	}
}

func TestExtractCancelled(t *testing.T) {
	src := filepath.Join(testchannel.RealData(t, "packages", "rattler", "sparse"), "sparse-test-1.0.0-0.conda")
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := archive.Extract(ctx, src, filepath.Join(out, "sparse-test-1.0.0-0")); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if es, _ := os.ReadDir(out); len(es) != 0 {
		t.Errorf("left behind: %v", es)
	}
}
