package realistic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/conda"
)

// edgeSpec describes one synthetic edge-case package; doc.go says what each
// one is for.
type edgeSpec struct {
	name, version string
	buildNumber   uint64
	subdir        string
	noarch        conda.NoarchType
	depends       []string
	constrains    []string
	trackFeatures []string
	files         []pkgbuild.File
	summary       string
}

// file, exe, link and dir shorten the payload tables below.
func file(p, data string) pkgbuild.File {
	return pkgbuild.File{Path: p, Mode: 0o644, Data: []byte(data)}
}
func exe(p, data string) pkgbuild.File {
	return pkgbuild.File{Path: p, Mode: 0o755, Data: []byte(data)}
}
func dir(p string) pkgbuild.File { return pkgbuild.File{Path: p, Mode: fs.ModeDir | 0o755} }
func link(p, target string) pkgbuild.File {
	return pkgbuild.File{Path: p, Mode: fs.ModeSymlink | 0o777, LinkTarget: target}
}

// textPlaceholder marks f as holding TextPlaceholder.
func textPlaceholder(f pkgbuild.File) pkgbuild.File {
	f.PrefixPlaceholder = TextPlaceholder
	return f
}

// binaryPrefixSource is the C program of edge-binary-placeholder. conda
// replaces a binary placeholder in place and pads the string with NULs, so
// the string read at run time is the install prefix.
var binaryPrefixSource = `#include <stdio.h>

static const char prefix[] = "` + BinaryPlaceholder + `";

int main(void) {
	puts(prefix);
	return 0;
}
`

// linkScript is a link script that leaves a marker file in the prefix
// root, where a test can find it even after the package is removed.
func linkScript(kind string) string {
	return `#!/bin/sh
# conda runs this with PREFIX, PKG_NAME, PKG_VERSION and PKG_BUILDNUM set.
echo "` + kind + ` $PKG_NAME $PKG_VERSION $PKG_BUILDNUM" > "$PREFIX/.edge-link-scripts-` + kind + `.marker"
echo "edge-link-scripts: ` + kind + ` ran" >> "$PREFIX/.messages.txt"
`
}

// edgeSpecs returns the edge-case packages; compiled is the binary of
// binaryPrefixSource.
func edgeSpecs(compiled []byte) []edgeSpec {
	versions := func(version string, build uint64) edgeSpec {
		return edgeSpec{name: "edge-versions", version: version, buildNumber: build, subdir: "linux-64",
			files:   []pkgbuild.File{file("share/edge-versions/version.txt", fmt.Sprintf("%s build %d\n", version, build))},
			summary: "One name in two versions, the newer in two builds"}
	}
	features := func(track []string) edgeSpec {
		return edgeSpec{name: "edge-features", version: "1.0.0", subdir: "linux-64", trackFeatures: track,
			files:   []pkgbuild.File{file("share/edge-features/features.txt", fmt.Sprintf("track_features: %v\n", track))},
			summary: "Two builds, one de-prioritised by track_features"}
	}
	arch := func(subdir, machine string) edgeSpec {
		return edgeSpec{name: "edge-arch", version: "1.0.0", subdir: subdir,
			files:   []pkgbuild.File{exe("bin/edge-arch", "#!/bin/sh\necho "+machine+"\n")},
			summary: "A package for linux-64 and for linux-aarch64"}
	}
	return []edgeSpec{
		{name: "edge-text-placeholder", version: "1.0.0", subdir: "linux-64",
			files: []pkgbuild.File{
				textPlaceholder(exe("bin/edge-text-prefix", "#!/bin/sh\n# The installer replaces the placeholder with the prefix.\necho \""+TextPlaceholder+"\"\n")),
				textPlaceholder(file("share/edge-text-placeholder/prefix.txt", "prefix="+TextPlaceholder+"\nlib="+TextPlaceholder+"/lib\n")),
			},
			summary: "A script and a data file with a text prefix placeholder"},
		{name: "edge-binary-placeholder", version: "1.0.0", subdir: "linux-64", depends: []string{glibcDepends},
			files: []pkgbuild.File{{Path: "bin/edge-binary-prefix", Mode: 0o755, Data: compiled,
				PrefixPlaceholder: BinaryPlaceholder, Binary: true}},
			summary: "A C program printing the prefix compiled into it as a binary placeholder"},
		{name: "edge-link-scripts", version: "1.0.0", subdir: "linux-64",
			files: []pkgbuild.File{
				exe("bin/.edge-link-scripts-post-link.sh", linkScript("post-link")),
				exe("bin/.edge-link-scripts-pre-unlink.sh", linkScript("pre-unlink")),
				file("share/edge-link-scripts/README.txt", "The link scripts in bin/ leave marker files in the prefix.\n"),
			},
			summary: "post-link and pre-unlink scripts"},
		{name: "edge-activate", version: "1.0.0", subdir: "noarch", noarch: conda.NoarchGeneric,
			files: []pkgbuild.File{
				file("etc/conda/activate.d/edge-activate.sh", "export EDGE_ACTIVATE_PREFIX=\"$CONDA_PREFIX\"\n"),
				file("etc/conda/deactivate.d/edge-activate.sh", "unset EDGE_ACTIVATE_PREFIX\n"),
				file("etc/conda/env_vars.d/edge-activate.json", "{\"EDGE_ACTIVATE_VAR\": \"set-by-env-vars-d\"}\n"),
			},
			summary: "Activation and deactivation scripts and an env_vars.d file"},
		{name: "edge-symlinks", version: "1.0.0", subdir: "noarch", noarch: conda.NoarchGeneric,
			files: []pkgbuild.File{
				exe("share/edge-symlinks/data/run.sh", "#!/bin/sh\necho edge-symlinks\n"),
				file("share/edge-symlinks/data/hello.txt", "hello\n"),
				link("share/edge-symlinks/file-link", "data/hello.txt"),
				link("share/edge-symlinks/dir-link", "data"),
				link("share/edge-symlinks/chained-link", "dir-link/hello.txt"),
				link("bin/edge-symlinks", "../share/edge-symlinks/data/run.sh"),
				dir("share/edge-symlinks/empty"),
				dir("share/edge-symlinks/nested/empty"),
			},
			summary: "Relative symlinks to a file, to a directory and through one; empty directories"},
		{name: "edge-constrains", version: "1.0.0", subdir: "linux-64",
			constrains: []string{"edge-versions <2", "openssl >=3.0,<4.0a0"},
			files:      []pkgbuild.File{file("share/edge-constrains/README.txt", "Installed with edge-versions, it keeps it below 2.\n")},
			summary:    "constrains on a package it does not depend on"},
		features(nil),
		features([]string{"edge_debug"}),
		versions("1.0.0", 0),
		versions("2.0.0", 0),
		versions("2.0.0", 1),
		arch("linux-64", "x86_64"),
		arch("linux-aarch64", "aarch64"),
	}
}

// pkg turns the spec into a package whose build string hashes its
// content ("h<7 hex>_<build number>"), as conda-forge's hash builds do.
func (s edgeSpec) pkg() (*pkgbuild.Package, error) {
	v, err := conda.ParseVersion(s.version)
	if err != nil {
		return nil, fmt.Errorf("edge package %s: %w", s.name, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%d\n%q\n%q\n%q\n", recipeVersion, s.name, s.buildNumber, s.depends, s.constrains, s.trackFeatures)
	for _, f := range s.files {
		fmt.Fprintf(h, "%s %o %q %d\n", f.Path, f.Mode, f.LinkTarget, len(f.Data))
		h.Write(f.Data)
	}
	depends := s.depends
	if depends == nil {
		depends = []string{} // conda writes "depends": [] even when empty
	}
	return &pkgbuild.Package{
		Record: conda.PackageRecord{
			Name: s.name, Version: v, Build: fmt.Sprintf("h%s_%d", hex.EncodeToString(h.Sum(nil))[:7], s.buildNumber),
			BuildNumber: s.buildNumber, Depends: depends, Constrains: s.constrains,
			TrackFeatures: s.trackFeatures, Noarch: s.noarch, Subdir: s.subdir,
			License: "BSD-3-Clause", Timestamp: buildTimestamp,
		},
		Files: s.files,
		About: map[string]any{"summary": s.summary, "license": "BSD-3-Clause",
			"description": "Synthetic edge case of condabox's realistic test channel"},
	}, nil
}

// writeSynthetic writes python_abi and the edge-case packages into the
// channel in every format. They are cheap, so they are always rebuilt.
func writeSynthetic(ctx context.Context, outDir string, formats []pkgbuild.Format) ([]conda.PackageRecord, error) {
	tmp, err := os.MkdirTemp("", "condabox-edge-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	compiled, err := compileBinaryPrefix(ctx, tmp)
	if err != nil {
		return nil, err
	}
	pkgs := []*pkgbuild.Package{pythonABIPackage()}
	for _, s := range edgeSpecs(compiled) {
		p, err := s.pkg()
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, p)
	}
	var records []conda.PackageRecord
	for _, p := range pkgs {
		dir := filepath.Join(outDir, p.Record.Subdir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		for _, f := range formats {
			rec, err := pkgbuild.WriteFile(dir, p, f)
			if err != nil {
				return nil, err
			}
			records = append(records, rec)
		}
	}
	return records, nil
}

// compileBinaryPrefix compiles binaryPrefixSource with gcc in dir. The
// source is given by a relative name and the result stripped, so the binary
// does not depend on the temporary directory's name.
func compileBinaryPrefix(ctx context.Context, dir string) ([]byte, error) {
	const src, out = "edge-binary-prefix.c", "edge-binary-prefix"
	if err := os.WriteFile(filepath.Join(dir, src), []byte(binaryPrefixSource), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "gcc", "-O2", "-s", "-o", out, src)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("gcc %s: %w: %s", src, err, lastLines(b, 5))
	}
	bin, err := os.ReadFile(filepath.Join(dir, out))
	if err != nil {
		return nil, err
	}
	if n := bytes.Count(bin, []byte(BinaryPlaceholder)); n != 1 {
		return nil, fmt.Errorf("gcc %s: binary holds the placeholder %d times, want once", src, n)
	}
	return bin, nil
}
