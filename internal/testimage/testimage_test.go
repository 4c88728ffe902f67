package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeRootfs is a Rootfs whose build writes a one-file tarball and counts
// its runs, or fails with err.
func fakeRootfs(t *testing.T, builds *atomic.Int32, err error) *Rootfs {
	t.Setenv("CONDABOX_TEST_CACHE", t.TempDir())
	return &Rootfs{Name: "fake", file: "fake.tar", env: []string{"PATH=/bin"}, cmd: []string{"sh"},
		build: func(_ context.Context, out string, _ io.Writer) error {
			builds.Add(1)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			if err := tw.WriteHeader(&tar.Header{Name: "./hello", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			tw.Write([]byte("hi\n"))
			tw.Close()
			return os.WriteFile(out, buf.Bytes(), 0o644)
		}}
}

func TestBasesBuildOnceAndCache(t *testing.T) {
	var builds atomic.Int32
	r := fakeRootfs(t, &builds, nil)
	var wg sync.WaitGroup
	paths := make([]string, 4)
	errs := make([]error, 4)
	for i := range paths {
		wg.Go(func() { paths[i], errs[i] = r.Build(t.Context(), io.Discard) })
	}
	wg.Wait()
	for i := range paths {
		if errs[i] != nil || paths[i] != r.Path() {
			t.Errorf("Build %d: %q, %v; want %q", i, paths[i], errs[i], r.Path())
		}
	}
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds for 4 concurrent callers, want 1", n)
	}
	if left, _ := filepath.Glob(filepath.Join(CacheDir(), "rootfs-*")); len(left) != 0 {
		t.Errorf("work folders left: %q", left)
	}

	img, err := r.Image(t.Context(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || !slices.Equal(cf.Config.Env, r.env) || !slices.Equal(cf.Config.Cmd, r.cmd) || len(layers) != 1 {
		t.Errorf("image: %s/%s env %q cmd %q, %d layers", cf.OS, cf.Architecture, cf.Config.Env, cf.Config.Cmd, len(layers))
	}
}

func TestBasesBuildFailureLeavesNothing(t *testing.T) {
	var builds atomic.Int32
	cause := errors.New("mirror unreachable")
	r := fakeRootfs(t, &builds, cause)
	_, err := r.Build(t.Context(), io.Discard)
	if !errors.Is(err, cause) || !strings.Contains(err.Error(), "fake base") {
		t.Errorf("error %v: want the cause, naming the base", err)
	}
	if _, err := os.Stat(r.Path()); !os.IsNotExist(err) {
		t.Errorf("a failed build left %s: %v", r.Path(), err)
	}
	if _, err := r.Build(t.Context(), io.Discard); err == nil || builds.Load() != 2 {
		t.Errorf("retry: %v after %d builds, want a second failing build", err, builds.Load())
	}
}

func TestBasesWriterDuplicates(t *testing.T) {
	tests := []struct {
		name    string
		entries []tar.Header
		wantErr string
		want    []string // names written
	}{
		{"shared directory written once", []tar.Header{
			{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755},
			{Name: "./usr", Typeflag: tar.TypeDir, Mode: 0o700},
			{Name: "./usr/a", Typeflag: tar.TypeReg},
		}, "", []string{"./usr/", "./usr/a"}},
		{"file twice", []tar.Header{
			{Name: "./etc/passwd", Typeflag: tar.TypeReg},
			{Name: "etc/passwd", Typeflag: tar.TypeReg},
		}, "etc/passwd: written twice", nil},
		{"file where a directory was", []tar.Header{
			{Name: "./tmp/", Typeflag: tar.TypeDir},
			{Name: "./tmp", Typeflag: tar.TypeSymlink, Linkname: "var/tmp"},
		}, "./tmp: written twice", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := &rootfsWriter{tw: tar.NewWriter(&buf), seen: map[string]bool{}}
			var err error
			for i := range tt.entries {
				if err = w.add(&tt.entries[i], strings.NewReader("")); err != nil {
					break
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w.tw.Close()
			if got := tarNames(t, &buf); !slices.Equal(got, tt.want) {
				t.Errorf("written %q, want %q", got, tt.want)
			}
		})
	}
}

// tarNames lists a tarball's entry names.
func tarNames(t *testing.T, r io.Reader) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
}

// entry is a file of a built root file system.
type entry struct {
	hdr  *tar.Header
	data []byte // regular files under 1 MB
}

// builtRootfs builds r (or skips as TestImage does) and reads its tarball.
func builtRootfs(t *testing.T, r *Rootfs) map[string]entry {
	t.Helper()
	r.TestImage(t, t.Context()) // skips when it cannot be built here
	f, err := os.Open(r.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string]entry{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		e := entry{hdr: hdr}
		if hdr.Typeflag == tar.TypeReg && hdr.Size < 1<<20 {
			if e.data, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
		files[path.Clean(hdr.Name)] = e
	}
}

// slimmed reports a regular file that the slim rules should have left out.
func slimmed(name string) bool {
	switch {
	case strings.HasPrefix(name, "usr/share/doc/"):
		return path.Base(name) != "copyright"
	case strings.HasPrefix(name, "usr/share/locale/"):
		return name != "usr/share/locale/locale.alias" && name != "usr/share/locale/languages"
	}
	for _, dir := range []string{"usr/share/man/", "usr/share/info/", "usr/share/groff/"} {
		if strings.HasPrefix(name, dir) {
			return true
		}
	}
	return false
}

func TestBasesContents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Debian bases")
	}
	has := func(e entry, ok bool) bool { return ok }
	lacks := func(e entry, ok bool) bool { return !ok }
	contains := func(s string) func(entry, bool) bool {
		return func(e entry, ok bool) bool { return ok && bytes.Contains(e.data, []byte(s)) }
	}
	tests := []struct {
		base  *Rootfs
		path  string
		check func(e entry, ok bool) bool
		what  string
	}{
		{Slim, "usr/bin/bash", has, "a shell"},
		{Slim, "usr/bin/apt-get", has, "apt"},
		{Slim, "bin", func(e entry, ok bool) bool { return ok && e.hdr.Linkname == "usr/bin" }, "merged /usr"},
		{Slim, "etc/dpkg/dpkg.cfg.d/99mmdebstrap", contains("path-exclude=/usr/share/doc/*\npath-exclude=/usr/share/groff/*"), "the slim dpkg filters, for later installs"},
		{Slim, "var/lib/dpkg/status", contains("Package: usr-is-merged"), "usr-is-merged"},
		{Slim, "var/lib/dpkg/status", func(e entry, ok bool) bool { return ok && !bytes.Contains(e.data, []byte("Package: usrmerge\n")) }, "no usrmerge"},
		{Slim, "usr/share/perl", lacks, "no perl-modules"},
		{Slim, "var/cache/apt/pkgcache.bin", lacks, "no apt cache"},
		{Slim, "etc/resolv.conf", lacks, "not the host's resolv.conf"},
		{Distroless, "usr/bin/sh", lacks, "no shell"},
		{Distroless, "bin/sh", lacks, "no shell"},
		{Distroless, "usr/bin/apt-get", lacks, "no apt"},
		{Distroless, "usr/bin/dpkg", lacks, "no dpkg"},
		{Distroless, "var/lib/dpkg/status", lacks, "no dpkg database"},
		{Distroless, "lib/x86_64-linux-gnu/libc.so.6", has, "glibc"},
		{Distroless, "usr/lib/x86_64-linux-gnu/libstdc++.so.6", has, "the C++ runtime"},
		{Distroless, "lib/x86_64-linux-gnu/libgcc_s.so.1", has, "libgcc_s"},
		{Distroless, "usr/share/zoneinfo/UTC", has, "tzdata"},
		{Distroless, "etc/services", has, "netbase"},
		{Distroless, "etc/passwd", contains("\nnonroot:x:65532:65532:"), "user nonroot"},
		{Distroless, "etc/group", contains("root:x:0:\n"), "group root"},
		{Distroless, "etc/ssl/certs/ca-certificates.crt", func(e entry, ok bool) bool {
			return ok && bytes.Count(e.data, []byte("-----BEGIN CERTIFICATE-----")) > 100
		}, "the CA bundle"},
		{Distroless, "tmp", func(e entry, ok bool) bool { return ok && e.hdr.Mode&0o1777 == 0o1777 }, "a sticky, world-writable /tmp"},
		{Distroless, "home/nonroot", func(e entry, ok bool) bool { return ok && e.hdr.Uid == 65532 }, "nonroot's home"},
	}
	rootfs := map[*Rootfs]map[string]entry{}
	for _, tt := range tests {
		t.Run(tt.base.Name+"/"+tt.what, func(t *testing.T) {
			if rootfs[tt.base] == nil {
				rootfs[tt.base] = builtRootfs(t, tt.base)
			}
			e, ok := rootfs[tt.base][tt.path]
			if !tt.check(e, ok) {
				t.Errorf("%s: want %s; present %v", tt.path, tt.what, ok)
			}
		})
	}
	for base, files := range rootfs {
		for name, e := range files {
			if e.hdr.Typeflag == tar.TypeReg && slimmed(name) {
				t.Errorf("%s: %s should be left out by the slim rules", base.Name, name)
			}
		}
	}
}

// TestBasesDistrolessReproducible builds the distroless root file system
// twice: the same packages give the same bytes.
func TestBasesDistrolessReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads Debian packages")
	}
	if os.Getuid() != 0 {
		t.Skip("apt-get download needs root here")
	}
	var sums [2][sha256.Size]byte
	for i := range sums {
		out := filepath.Join(t.TempDir(), "rootfs.tar")
		if err := buildDistroless(t.Context(), out, io.Discard); errors.Is(err, ErrNoTool) {
			t.Skip(err)
		} else if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = sha256.Sum256(b)
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds differ: %x and %x", sums[0], sums[1])
	}
}
