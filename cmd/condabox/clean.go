package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
	"github.com/condabox/condabox/pkg/image"
	"github.com/condabox/condabox/pkg/pkgcache"
)

func newCleanCmd() *cobra.Command {
	var (
		req        env.CreateRequest
		opts       pkgcache.CleanOptions
		all, yes   bool
		keepLocks  bool
		trash      bool
		asJSON     bool
		buildCache bool
	)
	cmd := &cobra.Command{
		Use:   "clean [flags]",
		Short: "Remove unused packages, tarballs, index caches and locks",
		Long: `clean empties the writable package caches (CONDA_PKGS_DIRS, .condarc's
pkgs_dirs, else <root prefix>/pkgs) as micromamba's clean does:
-i the repodata index cache (pkgs/cache), -t the package archives, -p the
extracted packages no known environment uses (the root prefix, its envs/,
~/.conda/environments.txt and the active one), -l the lock files; -a all
four. -f removes every entry of the caches, used or not, after asking
unless -y. Environments keep working: their files are hard links or
copies, not references into the cache. What another condabox holds locked
(a download or extraction under way) is skipped with a note. --dry-run
only lists what would go.

--trash removes the *.conda_trash and *.mamba_trash files that conda and
mamba leave in environments when a file in use cannot be deleted;
--keep-locks keeps the lock files out of -a.

--build-cache (not part of -a) removes condabox build's own cache
($XDG_CACHE_HOME/condabox/image-layers: compressed layers, package
listings, compiled .pyc files): the next build compresses every layer
again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all {
				opts.IndexCache, opts.Tarballs, opts.Packages, opts.Locks = true, true, true, !keepLocks
			}
			if !opts.IndexCache && !opts.Tarballs && !opts.Packages && !opts.Locks && !opts.Force && !buildCache && !trash {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), "Nothing to do: give -a, -i, -p, -t, -l, -f, --trash or --build-cache.")
				return err
			}
			ctx := cmd.Context()
			req.LookupEnv = lookupEnv
			if trash {
				envs, err := env.KnownEnvironments(ctx, req)
				if err != nil {
					return fmt.Errorf("clean --trash: %w", err)
				}
				for _, e := range envs {
					opts.TrashIn = append(opts.TrashIn, e.Prefix)
				}
			}
			dirs, err := env.PkgsDirs(req)
			if err != nil {
				return err
			}
			if opts.Packages && !opts.Force {
				if opts.InUse, err = env.PackagesInUse(ctx, req); err != nil {
					return fmt.Errorf("clean --packages: which packages are in use: %w", err)
				}
			}
			if opts.Force && !opts.DryRun && !yes {
				question := fmt.Sprintf("Remove every entry of %s, used or not?", strings.Join(dirs, ", "))
				if ok, err := confirm(cmd, question); err != nil || !ok {
					return errors.Join(errors.New("clean --force-pkgs-dirs: not confirmed (give -y)"), err)
				}
			}
			if buildCache {
				opts.BuildCache = layerCacheDir()
			}
			report, err := pkgcache.Clean(ctx, dirs, opts)
			if asJSON {
				return errors.Join(writeCleanJSON(cmd.OutOrStdout(), report, err == nil), err)
			}
			return errors.Join(writeClean(cmd.OutOrStdout(), report), err)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "remove the index cache, tarballs, unused packages and locks")
	f.BoolVarP(&opts.IndexCache, "index-cache", "i", false, "remove the repodata index cache")
	f.BoolVarP(&opts.Packages, "packages", "p", false, "remove extracted packages no environment uses")
	f.BoolVarP(&opts.Tarballs, "tarballs", "t", false, "remove the package archives (.conda, .tar.bz2)")
	f.BoolVarP(&opts.Locks, "locks", "l", false, "remove the lock files no process holds")
	f.BoolVarP(&opts.Force, "force-pkgs-dirs", "f", false, "remove every entry of the writable package caches (not part of --all)")
	f.BoolVar(&buildCache, "build-cache", false, "remove condabox build's layer cache (not part of --all)")
	f.BoolVar(&trash, "trash", false, "remove the *.conda_trash and *.mamba_trash files conda and mamba left in environments")
	f.BoolVar(&keepLocks, "keep-locks", false, "with --all, keep the lock files")
	f.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	f.BoolVar(&opts.DryRun, "dry-run", false, "only show what would be removed")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVarP(&req.RootPrefix, "root-prefix", "r", "", "root prefix (default $MAMBA_ROOT_PREFIX)")
	return cmd
}

// writeClean writes the report for a person: a row per removed entry with
// its size, the entries skipped and why, and the total.
func writeClean(w io.Writer, r *pkgcache.CleanReport) error {
	verb := map[bool]string{false: "Removed", true: "Would remove"}[r.DryRun]
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range r.Removed {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", e.Kind, image.FormatSize(e.Size), e.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "  skipped %s: %s\n", s.Path, s.Reason)
	}
	where := "no package cache found"
	if len(r.Dirs) > 0 {
		where = "from " + strings.Join(r.Dirs, ", ")
	}
	_, err := fmt.Fprintf(w, "%s %d entries, %s, %s\n", verb, len(r.Removed), image.FormatSize(r.TotalSize()), where)
	return err
}

// writeCleanJSON writes the report with its total and success.
func writeCleanJSON(w io.Writer, r *pkgcache.CleanReport, success bool) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*pkgcache.CleanReport
		TotalSize int64 `json:"total_size"`
		Success   bool  `json:"success"`
	}{r, r.TotalSize(), success})
}

// confirm asks question on stderr and reads the answer from stdin: only y
// or yes agrees, so that no input (a script, a Dockerfile) declines.
func confirm(cmd *cobra.Command, question string) (bool, error) {
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read the answer: %w", err)
	}
	if !strings.HasSuffix(line, "\n") {
		fmt.Fprintln(cmd.ErrOrStderr()) // end the question's line
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes", nil
}
