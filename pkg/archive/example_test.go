package archive_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/conda"
)

// Walk streams a package's entries, checked, without writing them: what an
// image builder needs to copy them into a layer.
func ExampleWalk() {
	dir, _ := os.MkdirTemp("", "example-walk-")
	defer os.RemoveAll(dir)
	rec, _ := pkgbuild.WriteFile(dir, &pkgbuild.Package{
		Record: conda.PackageRecord{Name: "hello", Version: conda.MustParseVersion("1.0"), Build: "0", Subdir: "noarch"},
		Files: []pkgbuild.File{
			{Path: "bin/hello", Mode: 0o755, Data: []byte("#!/bin/sh\necho hello\n")},
			{Path: "bin/hi", Mode: fs.ModeSymlink | 0o777, LinkTarget: "hello"},
		},
	}, pkgbuild.FormatConda)

	err := archive.Walk(context.Background(), filepath.Join(dir, rec.FileName), func(h *archive.Header, r io.Reader) error {
		switch h.Type {
		case archive.TypeRegular:
			if h.Name == "bin/hello" {
				fmt.Printf("%s %v %d bytes\n", h.Name, h.Mode, h.Size)
			}
		case archive.TypeSymlink:
			fmt.Printf("%s -> %s\n", h.Name, h.Linkname)
		}
		return nil
	})
	fmt.Println("error:", err)
	// Output:
	// bin/hello -rwxr-xr-x 21 bytes
	// bin/hi -> hello
	// error: <nil>
}

// Create with Walk as its source converts a package into the other format,
// as `condabox package transmute` does.
func ExampleCreate() {
	dir, _ := os.MkdirTemp("", "example-create-")
	defer os.RemoveAll(dir)
	rec, _ := pkgbuild.WriteFile(dir, &pkgbuild.Package{
		Record: conda.PackageRecord{Name: "hello", Version: conda.MustParseVersion("1.0"), Build: "0", Subdir: "noarch"},
		Files:  []pkgbuild.File{{Path: "bin/hello", Mode: 0o755, Data: []byte("#!/bin/sh\necho hello\n")}},
	}, pkgbuild.FormatTarBz2)
	src := filepath.Join(dir, rec.FileName)
	dest := filepath.Join(dir, archive.Dist(rec.FileName)+".conda")

	ctx := context.Background()
	err := archive.Create(ctx, dest, func(fn archive.WalkFunc) error { return archive.Walk(ctx, src, fn) }, archive.CreateOptions{})
	fmt.Println("error:", err)
	archive.Walk(ctx, dest, func(h *archive.Header, _ io.Reader) error {
		if !strings.HasPrefix(h.Name, "info/") || h.Name == "info/index.json" {
			fmt.Println(h.Name, h.Type, h.Mode)
		}
		return nil
	})
	// Output:
	// error: <nil>
	// info/index.json file -rw-r--r--
	// bin/hello file -rwxr-xr-x
}
