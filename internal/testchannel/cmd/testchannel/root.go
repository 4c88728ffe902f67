package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/internal/testchannel/realistic"
)

// buildFlags are the root command's flags, which build a channel.
type buildFlags struct {
	out       string
	cacheDir  string
	formats   []string
	synthetic int
	seed      uint64
}

func newRootCmd() *cobra.Command {
	var f buildFlags
	root := &cobra.Command{
		Use:   "testchannel --out DIR [--synthetic N [--seed S]]",
		Short: "Build and serve condabox's test channels",
		Long: `Build condabox's test channels and serve them over HTTP.

  testchannel --out DIR                            realistic channel: Debian 12 binaries
                                                   repackaged as conda packages, plus
                                                   edge-case packages (needs apt, dpkg-deb,
                                                   patchelf, gcc)
  testchannel --synthetic N --out DIR [--seed S]   conda-forge-scale index of N package
                                                   names (~16 records each; 32000 is
                                                   conda-forge's size)
  testchannel serve DIR                            serve a channel folder

See docs/testing.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case f.out == "":
				return errors.New("--out DIR is required (or use the serve command)")
			case f.synthetic < 0:
				return fmt.Errorf("--synthetic %d: want a positive number of package names", f.synthetic)
			case cmd.Flags().Changed("seed") && f.synthetic == 0:
				return errors.New("--seed applies to --synthetic only")
			case f.synthetic > 0:
				return buildSynthetic(cmd, f)
			}
			return buildRealistic(cmd, f)
		},
	}
	root.Flags().StringVar(&f.out, "out", "", "channel folder to write")
	root.Flags().StringVar(&f.cacheDir, "cache", "", "realistic: cache of .debs and built packages (default: user cache dir)")
	root.Flags().StringSliceVar(&f.formats, "format", []string{"conda", "tar.bz2"}, "realistic: package formats to write")
	root.Flags().IntVar(&f.synthetic, "synthetic", 0, "write a synthetic index of N package names instead (32000: conda-forge's size)")
	root.Flags().Uint64Var(&f.seed, "seed", 1, "synthetic: random seed (same seed, same index)")
	root.AddCommand(newServeCmd())
	return root
}

func buildRealistic(cmd *cobra.Command, f buildFlags) error {
	opts := realistic.Options{
		CacheDir: f.cacheDir,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", args...)
		},
	}
	for _, name := range f.formats {
		switch name {
		case "conda":
			opts.Formats = append(opts.Formats, pkgbuild.FormatConda)
		case "tar.bz2":
			opts.Formats = append(opts.Formats, pkgbuild.FormatTarBz2)
		default:
			return fmt.Errorf("--format %q: want conda or tar.bz2", name)
		}
	}
	return realistic.Build(cmd.Context(), f.out, opts)
}
