package install

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/conda"
)

// inMemory returns p read from its archive into memory, without its folder.
func inMemory(t testing.TB, p *Package, archivePath string) *Package {
	t.Helper()
	files, err := archive.Load(context.Background(), archivePath)
	if err != nil {
		t.Fatal(err)
	}
	return &Package{FS: files, Record: p.Record, RequestedSpec: p.RequestedSpec, TarballPath: archivePath, extra: p.extra}
}

// sameImageFiles checks that ImageFiles gives the same files and record for
// a package read from its folder and from its archive in memory.
func sameImageFiles(t *testing.T, onDisk, inMem *Package, python *conda.PackageRecord, prefix string) {
	t.Helper()
	want, wantRec, wantErr := ImageFiles(onDisk, python, prefix)
	have, haveRec, err := ImageFiles(inMem, python, prefix)
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("from memory: no error; from the folder: %v", wantErr)
	case wantErr != nil:
		return // a package rattler made broken on purpose: broken both ways
	case err != nil:
		t.Fatal(err)
	}
	if len(have) != len(want) {
		t.Fatalf("%d files from memory, %d from the folder", len(have), len(want))
	}
	for i := range want {
		w, h := want[i], have[i]
		if h.Path != w.Path || h.Type != w.Type || h.Mode != w.Mode&^0o022|h.Mode&0o022 || h.Linkname != w.Linkname ||
			h.Size != w.Size || !h.ModTime.Equal(w.ModTime) || h.SHA256 != w.SHA256 {
			t.Errorf("file %d: from memory %+v, from the folder %+v", i, brief(h), brief(w))
			continue
		}
		if h.Source != "" {
			t.Errorf("%s: a file read from memory names a source on disk, %s", h.Path, h.Source)
		}
		wantData := w.Data
		if w.Source != "" {
			if wantData, err = os.ReadFile(w.Source); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(h.Data, wantData) {
			t.Errorf("%s: content from memory differs from the folder's", h.Path)
		}
	}
	wj, _ := wantRec.CompactJSON()
	hj, _ := haveRec.CompactJSON()
	if !bytes.Equal(hj, wj) {
		t.Errorf("conda-meta record from memory:\n%s\nfrom the folder:\n%s", hj, wj)
	}
}

// brief leaves the content out of a file's description.
func brief(f ImageFile) ImageFile { f.Data = nil; return f }

// TestImageFilesFromMemory lists the realistic channel's packages (python,
// its noarch packages and entry points, the edge cases: placeholders,
// symlinks, link scripts) and real conda-forge packages of ../shared from
// their folders and from their archives read into memory: the image
// builder takes either, and the image must not depend on which.
func TestImageFilesFromMemory(t *testing.T) {
	t.Run("realistic", func(t *testing.T) {
		pkgs := realisticPackages(t, []string{"python", "requests", "jq", "edge-binary-placeholder", "edge-text-placeholder",
			"edge-symlinks", "edge-link-scripts", "edge-activate"}, nil)
		var python *conda.PackageRecord
		for _, p := range pkgs {
			if p.Record.Name == "python" {
				python = &p.Record
			}
		}
		channel, err := realisticChannel()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkgs {
			t.Run(p.Record.Dist(), func(t *testing.T) {
				archivePath := filepath.Join(channel, p.Record.Subdir, p.Record.FileName)
				sameImageFiles(t, p, inMemory(t, p, archivePath), python, "/opt/conda")
			})
		}
	})
	t.Run("conda-forge", func(t *testing.T) {
		root := filepath.Join(sharedRealdata(t), "packages")
		python := &fakePython(t).Record
		n := 0
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".conda") && !strings.HasSuffix(path, ".tar.bz2") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			t.Run(rel, func(t *testing.T) {
				p := extractPackage(t, path, "https://conda.anaconda.org/conda-forge")
				files, err := archive.Load(context.Background(), path)
				if err != nil {
					t.Skipf("not loadable, nor extractable by the cache: %v", err)
				}
				mem := &Package{FS: files, Record: p.Record, RequestedSpec: p.RequestedSpec, extra: p.extra}
				sameImageFiles(t, p, mem, python, "/opt/conda")
				n++
			})
			return nil
		})
		if n < 30 {
			t.Errorf("compared %d real packages, expected the whole set", n)
		}
	})
}
