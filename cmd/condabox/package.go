package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/archive"
)

func newPackageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Extract, compress or convert conda package archives",
		Long: `package works on single package archives, as micromamba's does:

  extract ARCHIVE DEST     unpack a .conda or .tar.bz2 into the folder DEST
  compress FOLDER DEST     pack an extracted package folder (with
                           info/index.json) into DEST, a .conda or .tar.bz2
  transmute ARCHIVE        convert a .tar.bz2 into a .conda beside it, or a
                           .conda into a .tar.bz2

Archives are checked as every install checks them (no paths outside the
package, no devices, size limits) and written to a temporary file renamed
into place, so a failure leaves nothing behind. -c sets the compression
level: zstd 1–22 for .conda (default 15), bzip2 1–9 for .tar.bz2
(default 9). The same input gives the same bytes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPackageExtractCmd(), newPackageCompressCmd(), newPackageTransmuteCmd())
	return cmd
}

func newPackageExtractCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "extract ARCHIVE DEST",
		Short: "Extract a package archive into a folder",
		Long: `extract unpacks ARCHIVE (.conda or .tar.bz2) into DEST, which must not
exist or be empty: the package is written beside it and renamed into place.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, dest, err := absPaths(args[0], args[1])
			if err != nil {
				return err
			}
			if _, err := archive.FormatOf(src); err != nil {
				return err
			}
			if err := emptyOrMissing(dest); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Extracting %s to %s\n", src, dest)
			return archive.Extract(cmd.Context(), src, dest)
		},
	}
}

// emptyOrMissing refuses a destination that holds something: extracting
// replaces the folder.
func emptyOrMissing(dest string) error {
	f, err := os.Open(dest)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); err != io.EOF {
		if err == nil {
			return fmt.Errorf("destination %s is not empty: extract into a new folder", dest)
		}
		return fmt.Errorf("destination %s: %w", dest, err)
	}
	return nil
}

func newPackageCompressCmd() *cobra.Command {
	var opts archive.CreateOptions
	cmd := &cobra.Command{
		Use:   "compress FOLDER DEST",
		Short: "Pack an extracted package folder into a .conda or .tar.bz2",
		Long: `compress packs FOLDER, an extracted package (info/index.json and its
files, as in a package cache), into DEST; DEST's name gives the format
(.conda or .tar.bz2) and, for .conda, the names of its inner tarballs.
info/ comes first; files keep their permission bits and modification
times, symlinks are stored as links.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, dest, err := absPaths(args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Compressing %s to %s\n", src, dest)
			ctx := cmd.Context()
			return archive.Create(ctx, dest, func(fn archive.WalkFunc) error { return archive.WalkDir(ctx, src, fn) }, opts)
		},
	}
	compressionFlags(cmd, &opts)
	return cmd
}

func newPackageTransmuteCmd() *cobra.Command {
	var opts archive.CreateOptions
	cmd := &cobra.Command{
		Use:   "transmute ARCHIVE",
		Short: "Convert a .tar.bz2 into a .conda, or a .conda into a .tar.bz2",
		Long: `transmute writes ARCHIVE's package in the other format beside it:
name-version-build.tar.bz2 becomes name-version-build.conda and the other
way round, with the same entries (names, modes, times, links).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := filepath.Abs(args[0])
			if err != nil {
				return err
			}
			format, err := archive.FormatOf(src)
			if err != nil {
				return err
			}
			dest := strings.TrimSuffix(src, ".tar.bz2") + ".conda"
			if format == archive.FormatConda {
				dest = strings.TrimSuffix(src, ".conda") + ".tar.bz2"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Transmuting %s to %s\n", src, dest)
			ctx := cmd.Context()
			return archive.Create(ctx, dest, func(fn archive.WalkFunc) error { return archive.Walk(ctx, src, fn) }, opts)
		},
	}
	compressionFlags(cmd, &opts)
	return cmd
}

// compressionFlags adds micromamba's -c and --compression-threads.
func compressionFlags(cmd *cobra.Command, opts *archive.CreateOptions) {
	cmd.Flags().IntVarP(&opts.Level, "compression-level", "c", 0, "zstd 1–22 for .conda (default 15), bzip2 1–9 for .tar.bz2 (default 9)")
	cmd.Flags().IntVar(&opts.Threads, "compression-threads", 0, "zstd encoder threads (default: every core; the bytes do not change)")
}

// absPaths makes both paths absolute, as micromamba's messages show them.
func absPaths(a, b string) (string, string, error) {
	a, err := filepath.Abs(a)
	if err != nil {
		return "", "", err
	}
	b, err = filepath.Abs(b)
	return a, b, err
}
