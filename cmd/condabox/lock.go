package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/atomicfile"
	"github.com/condabox/condabox/pkg/env"
)

func newLockCmd() *cobra.Command {
	var (
		req      env.LockRequest
		platform []string
		check    bool
	)
	cmd := &cobra.Command{
		Use:   "lock -f FILE [-f FILE...] [-p PLATFORM...] [--lockfile conda-lock.yml] [--check]",
		Short: "Solve an environment file into a conda-lock.yml, without installing",
		Long: `lock solves environment files (environment.yml or spec lists) for each
platform, with each platform's default virtual packages (CONDA_OVERRIDE_*
applied), and writes the result in the conda-lock tool's format (version 1),
which condabox create -f and condabox build -f install as it is. The
platforms are the -p flags, else the files' platforms: key, else this
machine's. Nothing is installed or downloaded but the channels' indexes; an
unsatisfiable platform writes no file.

--check only compares the lock file's content hashes with the inputs': it
exits 0 when they match and 1 when the environment files or channels changed
since the lock was made (for CI).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			req.Platforms, req.LookupEnv, req.WorkDir = platform, lookupEnv, wd
			if !env.IsLockFileName(req.Lockfile) {
				return fmt.Errorf("--lockfile %s: name it *-lock.yml (or *-lock.yaml), as create -f, build -f and micromamba tell lock files from environment files by name", req.Lockfile)
			}
			if check {
				return checkLock(cmd, req)
			}
			return writeLock(cmd, req)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&req.Files, "file", "f", nil, "environment.yml or spec list to lock (repeatable)")
	f.StringArrayVarP(&platform, "platform", "p", nil, "platform to lock for, e.g. linux-aarch64 (repeatable; default: the files' platforms:, else this machine's)")
	f.StringArrayVarP(&req.Channels, "channel", "c", nil, "channel to use, highest priority first (repeatable)")
	f.BoolVar(&req.OverrideChannels, "override-channels", false, "use only the -c and file channels, not .condarc's")
	f.StringVar(&req.ChannelPriority, "channel-priority", "", "strict, flexible or disabled (default: .condarc's, else strict)")
	f.BoolVar(&req.Offline, "offline", false, "use cached channel indexes only")
	addExcludeNewer(f, &req.ExcludeNewer)
	f.StringVarP(&req.Lockfile, "lockfile", "o", "conda-lock.yml", "lock file to write (or to check)")
	f.BoolVar(&check, "check", false, "only check that the lock file matches the inputs (exit 1 when not)")
	return cmd
}

// writeLock solves and writes the lock file whole, or nothing when a
// platform cannot be solved.
func writeLock(cmd *cobra.Command, req env.LockRequest) error {
	lock, err := env.SolveLock(cmd.Context(), req)
	if err != nil {
		// An unsatisfiable platform's error names it before the solver's
		// explanation.
		return fmt.Errorf("%s not written: %w", req.Lockfile, err)
	}
	for _, pip := range lock.UnlockedPip {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: pip requirement %q is not locked: condabox locks conda packages only\n", pip)
	}
	data, err := env.MarshalCondaLock(lock, filepath.Base(req.Lockfile))
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(req.Lockfile, data, 0o644); err != nil {
		return err
	}
	for _, p := range lock.Metadata.Platforms {
		fmt.Fprintf(cmd.OutOrStdout(), "Locked %d packages for %s into %s\n", len(lock.Environment.Packages[p]), p, req.Lockfile)
	}
	return nil
}

// checkLock fails, naming the platforms, when the lock file is stale.
func checkLock(cmd *cobra.Command, req env.LockRequest) error {
	data, err := os.ReadFile(req.Lockfile)
	if err != nil {
		return err
	}
	byContent, err := env.CheckLock(cmd.Context(), req, req.Lockfile, data)
	if err != nil {
		return err // a stale lock too: exit status 1, as for any error
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s is up to date\n", req.Lockfile)
	if len(byContent) > 0 {
		names := make([]string, len(byContent))
		for i, p := range byContent {
			names[i] = string(p)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "(%s checked by content: the lock's content hashes are another tool's; conda-lock's also cover its virtual packages)\n", strings.Join(names, ", "))
	}
	return nil
}
