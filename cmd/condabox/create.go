package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/condabox/condabox/pkg/env"
	"github.com/condabox/condabox/pkg/redact"
	"github.com/condabox/condabox/pkg/solve"
)

func newCreateCmd() *cobra.Command {
	var t transaction
	t.req.Op = env.Create
	t.req.AllowEmpty = true // as micromamba: `create -n NAME` alone makes an empty environment
	cmd := &cobra.Command{
		Use:   "create [flags] [SPEC...]",
		Short: "Create an environment from specs or files",
		Long: `create solves the requested specs against the channels, downloads the
packages into the package cache and links them into a new environment (an
existing one at the prefix is replaced); without specs or files, an empty
environment. A failed create into a new prefix leaves no folder behind. --dry-run only shows what it would install; --json
prints micromamba's JSON document.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t.req.Specs = args
			return t.run(cmd)
		},
	}
	t.addFlags(cmd.Flags())
	return cmd
}

// transaction is the flags and the run of create, install and remove.
type transaction struct {
	req  env.ApplyRequest
	json bool
	// The flags that set req.Deps, req.ChannelPriority and req.SkipPyc in
	// run.
	noDeps, onlyDeps                  bool
	strictPriority, noChannelPriority bool
	pyc, noPyc                        bool
	retryCleanCache                   bool
}

// addFlags adds micromamba's flags shared by create, install and remove.
func (t *transaction) addFlags(f *pflag.FlagSet) {
	r := &t.req
	f.StringVarP(&r.Prefix, "prefix", "p", "", "path of the environment")
	f.StringVarP(&r.Name, "name", "n", "", "name of the environment, under <root prefix>/envs")
	f.StringVarP(&r.RootPrefix, "root-prefix", "r", "", "root prefix (default $MAMBA_ROOT_PREFIX)")
	f.StringArrayVarP(&r.Channels, "channel", "c", nil, "channel to use, highest priority first (repeatable)")
	f.BoolVar(&r.OverrideChannels, "override-channels", false, "use only the -c and file channels, not .condarc's")
	f.StringVar(&r.Platform, "platform", "", "target platform, e.g. linux-aarch64 (default: this machine's)")
	f.StringVar(&r.ChannelPriority, "channel-priority", "", "strict, flexible or disabled (default: .condarc's, else strict)")
	f.BoolVar(&r.Offline, "offline", false, "use cached channel indexes only")
	f.BoolVar(&r.DryRun, "dry-run", false, "only show what would be done")
	f.BoolVar(&t.json, "json", false, "print micromamba's JSON output")
	// -y is global (global.go): condabox never prompts here.
	f.BoolVar(&t.strictPriority, "strict-channel-priority", false, "same as --channel-priority strict")
	f.BoolVar(&t.noChannelPriority, "no-channel-priority", false, "same as --channel-priority disabled")
	f.BoolVar(&r.NoPin, "no-pin", false, "ignore pinned_packages and the environment's conda-meta/pinned")
	f.BoolVar(&r.SkipLinkScripts, "skip-run-link-scripts", false, "run no package's post-link or pre-unlink script")
	f.BoolVar(&t.retryCleanCache, "retry-clean-cache", false, "when the specs cannot be satisfied, ask the servers for fresh indexes and solve again")
	// menuinst shortcuts are made on Windows and macOS; condabox makes none.
	f.Bool("shortcuts", false, "accepted as micromamba's: condabox creates no menu shortcuts")
	f.Bool("no-shortcuts", false, "accepted as micromamba's: condabox creates no menu shortcuts")
	if r.Op == env.Remove {
		return
	}
	// create, install and update
	f.StringArrayVarP(&r.Files, "file", "f", nil, "environment.yml, spec list, lock or @EXPLICIT file (repeatable)")
	f.StringSliceVar(&r.Categories, "category", nil, "lock file categories to install (repeatable or comma-separated; default main)")
	f.BoolVar(&r.DownloadOnly, "download-only", false, "only download and extract the packages into the package cache; link nothing")
	f.BoolVar(&t.noDeps, "no-deps", false, "install the requested packages only, not what they need (the environment may break)")
	f.BoolVar(&t.onlyDeps, "only-deps", false, "install what the requested packages need, not the packages themselves")
	addExcludeNewer(f, &r.ExcludeNewer)
	f.BoolVar(&r.AlwaysCopy, "always-copy", false, "copy files from the package cache instead of hard linking them (.condarc's always_copy)")
	f.BoolVar(&r.AlwaysCopy, "copy", false, "same as --always-copy")
	f.StringVar(&r.RelocatePrefix, "relocate-prefix", "", "write the files for this prefix instead of the one they go to (placeholders, entry points), for an environment to be moved there")
	f.BoolVar(&t.noPyc, "no-pyc", false, "do not compile the .pyc files of noarch python packages")
	f.BoolVar(&t.pyc, "pyc", true, "compile the .pyc files of noarch python packages (--pyc=false is --no-pyc)")
	if r.Op == env.Create {
		return
	}
	// install and update
	f.BoolVar(&r.FreezeInstalled, "freeze-installed", false, "keep every installed package not named as it is")
	f.BoolVar(&r.ForceReinstall, "force-reinstall", false, "unlink and link again the named packages even when installed unchanged")
	f.BoolVar(&r.NoDowngrade, "no-allow-downgrade", false, "never move an installed package, unless a spec names it, to an older version")
	f.Bool("allow-downgrade", true, "let the solve move installed packages to older versions where needed (the default)")
	f.BoolVar(&r.NoPyPin, "no-py-pin", false, "let an installed python change its minor version (by default it is pinned, as micromamba does, unless a spec names python)")
}

// settle turns the shorthand flags into the request's fields, refusing
// those that contradict each other.
func (t *transaction) settle() error {
	r := &t.req
	r.SkipPyc = t.noPyc || (r.Op != env.Remove && !t.pyc)
	if r.RelocatePrefix != "" {
		if !filepath.IsAbs(r.RelocatePrefix) {
			return fmt.Errorf("--relocate-prefix %q: want an absolute path", r.RelocatePrefix)
		}
		r.RelocatePrefix = filepath.Clean(r.RelocatePrefix)
	}
	switch {
	case t.noDeps && t.onlyDeps:
		return errors.New("--no-deps and --only-deps exclude each other")
	case t.noDeps:
		r.Deps = env.NoDeps
	case t.onlyDeps:
		r.Deps = env.OnlyDeps
	}
	for _, short := range []struct {
		set   bool
		flag  string
		value string
	}{{t.strictPriority, "--strict-channel-priority", "strict"}, {t.noChannelPriority, "--no-channel-priority", "disabled"}} {
		if !short.set {
			continue
		}
		if r.ChannelPriority != "" && r.ChannelPriority != short.value {
			return fmt.Errorf("%s contradicts --channel-priority %s", short.flag, r.ChannelPriority)
		}
		r.ChannelPriority = short.value
	}
	return nil
}

// fromProcess gives req this process's environment (configuration,
// MAMBA_ROOT_PREFIX, CONDA_PREFIX, credentials) and working directory
// (relative -p and channel paths), as every command reads them.
func fromProcess(req *env.CreateRequest) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	req.LookupEnv, req.WorkDir, req.Log = lookupEnv, wd, logger
	return nil
}

// run applies the request and reports as micromamba does: the result on
// stdout (JSON with --json), progress and errors on stderr.
func (t *transaction) run(cmd *cobra.Command) error {
	if err := t.settle(); err != nil {
		return err
	}
	if err := fromProcess(&t.req.CreateRequest); err != nil {
		return err
	}
	t.req.Cmd = strings.Join(append([]string{"condabox"}, os.Args[1:]...), " ")
	if w := progressWriter(cmd.ErrOrStderr()); w != io.Discard {
		t.req.Progress = env.Progress{W: w, InPlace: isTerminal(w)}
	}
	done, err := env.Apply(cmd.Context(), t.req)
	var unsat *solve.UnsatisfiableError
	if errors.As(err, &unsat) && t.retryCleanCache {
		// The cached indexes may predate what the specs need.
		cached := t.req.LookupEnv
		t.req.LookupEnv = func(k string) (string, bool) {
			if k == "CONDABOX_CLI_LOCAL_REPODATA_TTL" {
				return "0", true
			}
			return cached(k)
		}
		done, err = env.Apply(cmd.Context(), t.req)
	}
	switch {
	case errors.As(err, &unsat):
		fmt.Fprintln(cmd.ErrOrStderr(), redact.Text(unsat.Error()))
		if t.json {
			if err := env.WriteProblemsJSON(cmd.OutOrStdout(), unsat); err != nil {
				return err
			}
		}
		return exitError{code: 1}
	case err != nil:
		return err
	case t.json:
		return done.WriteJSON(cmd.OutOrStdout(), t.req.DryRun)
	case quiet:
		return nil
	}
	return done.WriteText(cmd.OutOrStdout(), t.req.DryRun)
}

// isTerminal reports whether w is a terminal, where progress is rewritten
// in place rather than printed as lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
