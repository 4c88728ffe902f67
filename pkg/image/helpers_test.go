package image

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/install"
)

// textPH and binPH are prefix placeholders as conda-build writes them.
const (
	textPH = "/opt/anaconda1anaconda2anaconda3"
	binPH  = "/home/builder/placeholder_placehold_placeholder_placeholder_placehold"
)

func rec(name, version, build string, noarch conda.NoarchType) conda.PackageRecord {
	r := conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: build, Noarch: noarch, Subdir: "linux-64",
		License: "MIT", URL: "https://conda.example/test/linux-64/" + name + "-" + version + "-" + build + ".conda",
		Channel: "https://conda.example/test"}
	if noarch != "" {
		r.Subdir = "noarch"
	}
	return r
}

// testEnv is a small environment exercising every kind of file: python with
// a noarch python package and its entry point, placeholders in text and
// binary files, symlinks, an activation script, pruneable files and a
// clobbered path.
func testEnv(payload string) []*pkgbuild.Package {
	python := rec("python", "3.11.9", "h_0", "")
	// A new build of python is also a newer one: its layer's mtimes change.
	python.Timestamp = 1700000000000 + int64(len(payload)+int(payload[len(payload)-1]))*1000
	return []*pkgbuild.Package{
		{Record: python, Files: []pkgbuild.File{
			{Path: "bin/python3.11", Mode: 0o755, Data: []byte("\x7fELF python " + payload)},
			{Path: "bin/python3", Mode: fs.ModeSymlink | 0o777, LinkTarget: "python3.11"},
			{Path: "lib/libpython3.11.a", Mode: 0o644, Data: []byte("static")},
			{Path: "lib/python3.11/os.py", Mode: 0o600, Data: []byte("# os\n")},
			{Path: "share/man/man1/python.1", Mode: 0o644, Data: []byte("man")},
			{Path: "include/python3.11/Python.h", Mode: 0o644, Data: []byte("/* h */")},
			{Path: "etc/clobbered", Mode: 0o644, Data: []byte("from python")},
		}},
		{Record: rec("tool", "1.0", "0", ""), Files: []pkgbuild.File{
			{Path: "bin/tool", Mode: 0o755, Data: []byte("#!/bin/sh\necho " + textPH + "/share\n"), PrefixPlaceholder: textPH},
			{Path: "lib/libtool.so", Mode: 0o755, Data: []byte("ELF\x00" + binPH + "/lib\x00tail"), PrefixPlaceholder: binPH, Binary: true},
			{Path: "etc/conda/activate.d/tool.sh", Mode: 0o644, Data: []byte("export TOOL_HOME=\"$CONDA_PREFIX/share/tool\"\nif [ -n \"$X\" ]; then :; fi\n")},
			{Path: "etc/clobbered", Mode: 0o644, Data: []byte("from tool")},
		}},
		{Record: rec("greet", "2.0", "pyh_0", conda.NoarchPython), Files: []pkgbuild.File{
			{Path: "site-packages/greet/__init__.py", Mode: 0o644, Data: []byte("def main(): print('hi')\n")},
			{Path: "site-packages/greet/tests/test_greet.py", Mode: 0o644, Data: []byte("")},
		}, EntryPoints: []string{"greet = greet:main"}},
	}
}

// extractPackages writes and extracts the packages as the package cache
// would, and reads them for Build.
func extractPackages(t testing.TB, pkgs []*pkgbuild.Package) []*install.Package {
	t.Helper()
	dir := t.TempDir()
	var out []*install.Package
	for _, p := range pkgs {
		r, err := pkgbuild.WriteFile(dir, p, pkgbuild.FormatConda)
		if err != nil {
			t.Fatal(err)
		}
		dest := filepath.Join(dir, r.Dist())
		if err := archive.Extract(context.Background(), filepath.Join(dir, r.Dist()+".conda"), dest); err != nil {
			t.Fatal(err)
		}
		ip, err := install.ReadPackage(dest)
		if err != nil {
			t.Fatal(err)
		}
		ip.Record.URL, ip.Record.Channel = p.Record.URL, p.Record.Channel
		out = append(out, ip)
	}
	return out
}

// build builds pkgs onto scratch with opts and a fresh work dir.
func build(t testing.TB, pkgs []*install.Package, opts Options) *Result {
	t.Helper()
	opts.WorkDir = t.TempDir()
	res, err := Build(context.Background(), empty.Image, pkgs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// fsEntry is a file of a flattened image.
type fsEntry struct {
	hdr  *tar.Header
	data string
}

// flatten returns the image's file system by path (no leading slash).
func flatten(t testing.TB, img v1.Image) map[string]fsEntry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	out := map[string]fsEntry{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(hdr.Name, "/")] = fsEntry{hdr: hdr, data: string(b)}
	}
}

func digest(t testing.TB, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}
