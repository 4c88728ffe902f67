package pkgcache_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/fetch"
	"github.com/condabox/condabox/pkg/pkgcache"
)

// channel serves one small package in each format.
type channel struct {
	srv  *server.Server
	recs map[pkgbuild.Format]conda.PackageRecord
}

func newChannel(t *testing.T) *channel {
	t.Helper()
	root := t.TempDir()
	sub := filepath.Join(root, "linux-64")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	pkg := &pkgbuild.Package{
		Record: conda.PackageRecord{Name: "demo", Version: conda.MustParseVersion("1.0"), Build: "h0_0", Subdir: "linux-64", Depends: []string{}},
		Files: []pkgbuild.File{
			{Path: "bin/demo", Mode: 0o755, Data: []byte("#!/bin/sh\necho demo\n")},
			{Path: "lib/libdemo.so", Mode: 0o644, Data: []byte(strings.Repeat("demo", 20_000))},
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Start(ctx, root, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); cancel() })
	ch := &channel{srv: srv, recs: map[pkgbuild.Format]conda.PackageRecord{}}
	for _, f := range []pkgbuild.Format{pkgbuild.FormatConda, pkgbuild.FormatTarBz2} {
		rec, err := pkgbuild.WriteFile(sub, pkg, f)
		if err != nil {
			t.Fatal(err)
		}
		rec.URL = srv.URL() + "/linux-64/" + rec.FileName
		rec.Channel = srv.URL()
		ch.recs[f] = rec
	}
	return ch
}

// downloads counts the GET requests for file names ending in ext.
func (ch *channel) downloads(ext string) int {
	n := 0
	for _, r := range ch.srv.Requests() {
		if strings.HasSuffix(r.Path, ext) {
			n++
		}
	}
	return n
}

func fetcher() *fetch.Client { return fetch.New(fetch.Options{Backoff: time.Millisecond}) }

// assertEntry checks an extracted entry: payload and a repodata_record.json
// that carries the record's identity and checksums.
func assertEntry(t *testing.T, dir string, rec conda.PackageRecord) {
	t.Helper()
	if b, err := os.ReadFile(filepath.Join(dir, "bin", "demo")); err != nil || !strings.Contains(string(b), "echo demo") {
		t.Errorf("bin/demo: %q, %v", b, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "info", "repodata_record.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got conda.PackageRecord
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != rec.Name || got.URL != rec.URL || got.Channel != rec.Channel || got.FileName != rec.FileName ||
		got.SHA256 != rec.SHA256 || got.MD5 != rec.MD5 || got.Size != rec.Size {
		t.Errorf("repodata_record.json %+v\nwant %+v", got, rec)
	}
}

func TestGet(t *testing.T) {
	for _, format := range []pkgbuild.Format{pkgbuild.FormatConda, pkgbuild.FormatTarBz2} {
		t.Run(format.Extension(), func(t *testing.T) {
			ch := newChannel(t)
			rec := ch.recs[format]
			c, err := pkgcache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			dir, err := c.Get(context.Background(), rec, fetcher())
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(c.Dir(), strings.TrimSuffix(rec.FileName, format.Extension())); dir != want {
				t.Errorf("dir %s, want %s", dir, want)
			}
			assertEntry(t, dir, rec)
			if b, _ := os.ReadFile(filepath.Join(c.Dir(), "urls.txt")); string(b) != rec.URL+"\n" {
				t.Errorf("urls.txt %q", b)
			}
			// A second Get is served from the cache.
			if _, err := c.Get(context.Background(), rec, fetcher()); err != nil {
				t.Fatal(err)
			}
			if n := ch.downloads(format.Extension()); n != 1 {
				t.Errorf("%d downloads, want 1", n)
			}
		})
	}
}

// TestGetRepairs damages a cache entry in each way a crash, a disk error or
// another tool can, and checks the next Get repairs it, downloading only
// when the archive itself is bad.
func TestGetRepairs(t *testing.T) {
	tests := []struct {
		name         string
		damage       func(t *testing.T, pkgs, dir, file string)
		wantDownload bool
	}{
		{"record missing (extraction cut short)", func(t *testing.T, _, dir, _ string) {
			os.Remove(filepath.Join(dir, "info", "repodata_record.json"))
			os.Remove(filepath.Join(dir, "bin", "demo"))
		}, false},
		{"record of another build", func(t *testing.T, _, dir, _ string) {
			rewriteRecord(t, dir, func(r *conda.PackageRecord) { r.SHA256 = strings.Repeat("0", 64) })
		}, false},
		{"record unreadable", func(t *testing.T, _, dir, _ string) {
			os.WriteFile(filepath.Join(dir, "info", "repodata_record.json"), []byte("{"), 0o644)
		}, false},
		{"archive corrupt and entry gone", func(t *testing.T, _, dir, file string) {
			os.RemoveAll(dir)
			b, _ := os.ReadFile(file)
			b[len(b)/2] ^= 1
			os.WriteFile(file, b, 0o644)
		}, true},
		{"archive truncated and record missing", func(t *testing.T, _, dir, file string) {
			os.Remove(filepath.Join(dir, "info", "repodata_record.json"))
			os.Truncate(file, 100)
		}, true},
		{"leftovers of a killed process", func(t *testing.T, pkgs, dir, file string) {
			os.RemoveAll(dir)
			os.Remove(file)
			os.WriteFile(filepath.Join(pkgs, "."+filepath.Base(file)+".123.part"), []byte("half"), 0o644)
			os.MkdirAll(filepath.Join(pkgs, "."+filepath.Base(dir)+".extract-9", "lib"), 0o755)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := newChannel(t)
			rec := ch.recs[pkgbuild.FormatConda]
			c, err := pkgcache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			dir, err := c.Get(context.Background(), rec, fetcher())
			if err != nil {
				t.Fatal(err)
			}
			tt.damage(t, c.Dir(), dir, filepath.Join(c.Dir(), rec.FileName))
			ch.srv.ResetRequests()
			dir, err = c.Get(context.Background(), rec, fetcher())
			if err != nil {
				t.Fatal(err)
			}
			assertEntry(t, dir, rec)
			if got := ch.downloads(".conda") == 1; got != tt.wantDownload {
				t.Errorf("downloaded again: %v, want %v", got, tt.wantDownload)
			}
			es, _ := os.ReadDir(c.Dir())
			var names []string
			for _, e := range es {
				names = append(names, e.Name())
			}
			if want := []string{"demo-1.0-h0_0", "demo-1.0-h0_0.conda", "demo-1.0-h0_0.lock", "urls.txt"}; fmt.Sprint(names) != fmt.Sprint(want) {
				t.Errorf("cache holds %q, want %q", names, want)
			}
		})
	}
}

func rewriteRecord(t *testing.T, dir string, edit func(*conda.PackageRecord)) {
	t.Helper()
	p := filepath.Join(dir, "info", "repodata_record.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var r conda.PackageRecord
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	edit(&r)
	if b, err = json.Marshal(&r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGetFailsCleanly(t *testing.T) {
	ch := newChannel(t)
	rec := ch.recs[pkgbuild.FormatConda]
	rec.SHA256 = strings.Repeat("ab", 32)
	c, err := pkgcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), rec, fetcher())
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), rec.FileName) {
		t.Fatalf("error %v, want a sha256 mismatch naming %s", err, rec.FileName)
	}
	es, _ := os.ReadDir(c.Dir())
	for _, e := range es {
		if e.Name() != "demo-1.0-h0_0.lock" {
			t.Errorf("left in the cache: %s", e.Name())
		}
	}
}

func TestGetRejectsUnsafeFileNames(t *testing.T) {
	c, err := pkgcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"../evil-1-0.conda", "sub/x-1-0.conda", ".hidden-1-0.conda", "..conda", "x-1-0.zip"} {
		rec := conda.PackageRecord{FileName: fn, URL: "http://127.0.0.1:1/" + fn}
		if _, err := c.Get(context.Background(), rec, fetcher()); err == nil || !strings.Contains(err.Error(), fn) {
			t.Errorf("Get(%q): %v, want an error naming it", fn, err)
		}
	}
	if es, _ := os.ReadDir(c.Dir()); len(es) != 0 {
		t.Errorf("cache holds %v", es)
	}
}

// TestReadOnlyDirFirst checks a valid entry in a read-only cache directory
// is used as is, and that new packages go to the first writable one.
func TestReadOnlyDirFirst(t *testing.T) {
	ch := newChannel(t)
	rec := ch.recs[pkgbuild.FormatConda]
	filled := t.TempDir()
	first, err := pkgcache.Open(filled)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Get(context.Background(), rec, fetcher()); err != nil {
		t.Fatal(err)
	}
	ro := readOnly(t, filled)
	rw := t.TempDir()
	c, err := pkgcache.Open(ro, rw)
	if err != nil || c.Dir() != rw {
		t.Fatalf("Open: %v, writable dir %s, want %s", err, c.Dir(), rw)
	}
	want := filepath.Join(ro, "demo-1.0-h0_0")
	if dir, err := c.Get(context.Background(), rec, fetcher()); err != nil || dir != want {
		t.Errorf("Get: %s, %v; want %s", dir, err, want)
	}
	if n := ch.downloads(".conda"); n != 1 {
		t.Errorf("%d downloads, want 1 (the read-only entry serves)", n)
	}
}

// readOnly returns a read-only view of dir: a read-only bind mount for
// root (who may write anywhere), else dir itself with its write bits off.
func readOnly(t *testing.T, dir string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		os.Chmod(dir, 0o555)
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return dir
	}
	ro := t.TempDir()
	if out, err := exec.Command("mount", "--bind", "-o", "ro", dir, ro).CombinedOutput(); err != nil {
		t.Skipf("cannot bind-mount read-only: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", ro).Run() })
	return ro
}

// TestConcurrentGet runs Get for the same packages from several goroutines
// and from two processes sharing one cache: every caller gets a complete
// entry and each archive is downloaded once.
func TestConcurrentGet(t *testing.T) {
	if os.Getenv("PKGCACHE_HELPER_DIR") != "" {
		t.Skip("running as a helper process")
	}
	ch := newChannel(t)
	pkgs := t.TempDir()
	recs, err := json.Marshal([]conda.PackageRecord{ch.recs[pkgbuild.FormatConda], ch.recs[pkgbuild.FormatTarBz2]})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range outs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGet$", "-test.v")
		cmd.Env = append(os.Environ(), "PKGCACHE_HELPER_DIR="+pkgs, "PKGCACHE_HELPER_RECORDS="+string(recs))
		wg.Go(func() { outs[i], errs[i] = cmd.CombinedOutput() })
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil || !strings.Contains(string(outs[i]), "--- PASS: TestHelperGet") {
			t.Errorf("helper process %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	for _, ext := range []string{".conda", ".tar.bz2"} {
		if n := ch.downloads(ext); n != 1 {
			t.Errorf("%s downloaded %d times, want once", ext, n)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(pkgs, "urls.txt")); strings.Count(string(b), "\n") != 2 {
		t.Errorf("urls.txt %q, want two lines", b)
	}
}

// TestHelperGet is the body of TestConcurrentGet's processes: four
// goroutines Get every record.
func TestHelperGet(t *testing.T) {
	pkgs := os.Getenv("PKGCACHE_HELPER_DIR")
	if pkgs == "" {
		t.Skip("helper of TestConcurrentGet")
	}
	var recs []conda.PackageRecord
	if err := json.Unmarshal([]byte(os.Getenv("PKGCACHE_HELPER_RECORDS")), &recs); err != nil {
		t.Fatal(err)
	}
	c, err := pkgcache.Open(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		for _, rec := range recs {
			wg.Go(func() {
				dir, err := c.Get(context.Background(), rec, fetcher())
				if err != nil {
					t.Error(err)
					return
				}
				assertEntry(t, dir, rec)
			})
		}
	}
	wg.Wait()
}

// TestGetHostileArchive serves a package whose checksum matches its record
// but whose payload escapes: Get fails, keeps neither archive nor folder.
func TestGetHostileArchive(t *testing.T) {
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	tw.WriteHeader(&tar.Header{Name: "../../evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	enc, _ := zstd.NewWriter(nil)
	var pkg bytes.Buffer
	zw := zip.NewWriter(&pkg)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "info-evil-1-0.tar.zst", Method: zip.Store})
	w.Write(enc.EncodeAll(tarball.Bytes(), nil))
	zw.Close()

	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "noarch"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "noarch", "evil-1-0.conda"), pkg.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(context.Background(), root, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sum := sha256.Sum256(pkg.Bytes())
	rec := conda.PackageRecord{Name: "evil", FileName: "evil-1-0.conda", URL: srv.URL() + "/noarch/evil-1-0.conda",
		Size: int64(pkg.Len()), SHA256: hex.EncodeToString(sum[:])}
	c, err := pkgcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), rec, fetcher())
	if !errors.Is(err, archive.ErrUnsafePath) || !strings.Contains(err.Error(), "../../evil") {
		t.Fatalf("error %v, want the unsafe path named", err)
	}
	es, _ := os.ReadDir(c.Dir())
	for _, e := range es {
		if e.Name() != "evil-1-0.lock" && e.Name() != "urls.txt" {
			t.Errorf("left in the cache: %s", e.Name())
		}
	}
}

// TestOpenFromConfig follows CONDA_PKGS_DIRS as pkg/config resolves it:
// the first writable directory receives packages.
func TestOpenFromConfig(t *testing.T) {
	ro := readOnly(t, t.TempDir())
	rw := filepath.Join(t.TempDir(), "created", "pkgs")
	env := map[string]string{"HOME": t.TempDir(), "CONDA_PKGS_DIRS": ro + "," + rw}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	c, err := pkgcache.Open(cfg.PkgsDirs...)
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir() != rw {
		t.Errorf("writable dir %s, want %s (created)", c.Dir(), rw)
	}
	if _, err := pkgcache.Open(ro); err == nil || !strings.Contains(err.Error(), ro) {
		t.Errorf("Open of a read-only dir alone: %v, want an error naming it", err)
	}
}

// TestGetArchive: a package the cache lacks is left pending, neither
// downloaded nor extracted, with the record Get would write; Ready
// downloads it, once; once extracted by Get, its folder is what GetArchive
// gives; an archive of the right size is taken by its size, and Ready
// replaces a damaged one.
func TestGetArchive(t *testing.T) {
	for _, format := range []pkgbuild.Format{pkgbuild.FormatConda, pkgbuild.FormatTarBz2} {
		t.Run(format.Extension(), func(t *testing.T) {
			ch := newChannel(t)
			rec := ch.recs[format]
			c, err := pkgcache.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			h, err := c.GetArchive(ctx, rec, fetcher())
			if err != nil {
				t.Fatal(err)
			}
			dist := strings.TrimSuffix(rec.FileName, format.Extension())
			if h.Dir != "" || h.Archive != filepath.Join(c.Dir(), rec.FileName) || !h.Pending {
				t.Fatalf("GetArchive = %+v, want the archive %s, pending, and no folder", h, rec.FileName)
			}
			if n := ch.downloads(format.Extension()); n != 0 {
				t.Errorf("GetArchive downloaded %d times, want none before Ready", n)
			}
			if err := c.Ready(ctx, rec, fetcher()); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(h.Archive); err != nil {
				t.Fatalf("after Ready: %v", err)
			}
			if _, err := os.Stat(filepath.Join(c.Dir(), dist)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Ready extracted the package: %v", err)
			}
			// Its record is the one Get writes once it extracts, and Get
			// reuses the archive Ready downloaded.
			dir, err := c.Get(ctx, rec, fetcher())
			if err != nil {
				t.Fatal(err)
			}
			written, err := os.ReadFile(filepath.Join(dir, "info", "repodata_record.json"))
			if err != nil {
				t.Fatal(err)
			}
			if string(h.Record) != string(written) {
				t.Errorf("GetArchive's record:\n%s\nGet's:\n%s", h.Record, written)
			}
			if n := ch.downloads(format.Extension()); n != 1 {
				t.Errorf("%d downloads, want 1", n)
			}
			if h, err = c.GetArchive(ctx, rec, fetcher()); err != nil || h.Dir != dir || h.Archive != "" {
				t.Errorf("GetArchive after Get = %+v, %v; want the folder %s", h, err, dir)
			}
			// Without the folder, a damaged archive of the right size is
			// pending; Ready downloads it again.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			good, err := os.ReadFile(filepath.Join(c.Dir(), rec.FileName))
			if err != nil {
				t.Fatal(err)
			}
			bad := append([]byte(nil), good...)
			bad[len(bad)/2] ^= 0xff
			if err := os.WriteFile(filepath.Join(c.Dir(), rec.FileName), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			if h, err = c.GetArchive(ctx, rec, fetcher()); err != nil || !h.Pending {
				t.Fatalf("GetArchive of a damaged archive = %+v, %v; want it pending", h, err)
			}
			if err := c.Ready(ctx, rec, fetcher()); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(h.Archive); string(b) != string(good) {
				t.Error("Ready left the damaged archive")
			}
			if n := ch.downloads(format.Extension()); n != 2 {
				t.Errorf("%d downloads, want 2", n)
			}
			// A good archive: Ready hashes it and downloads nothing.
			if err := c.Ready(ctx, rec, fetcher()); err != nil {
				t.Fatal(err)
			}
			if n := ch.downloads(format.Extension()); n != 2 {
				t.Errorf("%d downloads, want still 2", n)
			}
		})
	}
}

// TestReadyFails: an archive that cannot be downloaded fails Ready with
// an error naming it.
func TestReadyFails(t *testing.T) {
	ch := newChannel(t)
	rec := ch.recs[pkgbuild.FormatConda]
	rec.URL += ".missing"
	c, err := pkgcache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.GetArchive(context.Background(), rec, fetcher())
	if err != nil || !h.Pending {
		t.Fatalf("GetArchive = %+v, %v", h, err)
	}
	if err := c.Ready(context.Background(), rec, fetcher()); err == nil || !strings.Contains(err.Error(), rec.FileName) {
		t.Errorf("Ready of a missing download: %v, want an error naming %s", err, rec.FileName)
	}
}

// TestGetArchiveExtractsBigOnes: with ExtractAbove, an archive bigger than
// it is extracted and its folder returned; smaller ones stay archives.
func TestGetArchiveExtractsBigOnes(t *testing.T) {
	ch := newChannel(t)
	rec := ch.recs[pkgbuild.FormatConda]
	for _, tc := range []struct {
		above  int64
		folder bool
	}{{0, false}, {rec.Size, false}, {rec.Size - 1, true}} {
		c, err := pkgcache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		c.ExtractAbove = tc.above
		h, err := c.GetArchive(context.Background(), rec, fetcher())
		if err != nil {
			t.Fatal(err)
		}
		if (h.Dir != "") != tc.folder || tc.folder && h.Pending {
			t.Errorf("ExtractAbove %d, archive of %d bytes: %+v, want a folder: %v", tc.above, rec.Size, h, tc.folder)
		}
	}
}
