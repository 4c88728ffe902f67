package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

func newEnvCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Environments: create, update, remove, list, export, config vars",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	// env create is create, as in micromamba, which has both.
	cmd.AddCommand(newCreateCmd(), newEnvUpdateCmd(), newEnvRemoveCmd(), newEnvListCmd(), newEnvExportCmd(), newEnvConfigCmd())
	return cmd
}

// newEnvUpdateCmd is conda's env update: an existing environment brought to
// what its files ask for.
func newEnvUpdateCmd() *cobra.Command {
	var (
		t     transaction
		prune bool
	)
	t.req.Op = env.Install
	cmd := &cobra.Command{
		Use:   "update -f FILE [-n NAME | -p PREFIX] [--prune]",
		Short: "Update an existing environment from environment files",
		Long: `env update installs what the -f files ask for into an existing environment
(-n, -p, else the files' name:, else the active one), as install -f does. With --prune it also removes what the files no longer
need: the environment is solved from the files alone, as create would, and
only the differences are applied.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(t.req.Files) == 0 {
				return errors.New("env update: give the environment file with -f")
			}
			if t.req.Prefix == "" && t.req.Name == "" { // as conda: the file's name:
				name, err := env.FilesEnvName(cmd.Context(), t.req.Files)
				if err != nil {
					return err
				}
				t.req.Name = name
			}
			if prune {
				t.req.Op, t.req.Existing = env.Create, true
			}
			return t.run(cmd)
		},
	}
	t.addFlags(cmd.Flags())
	cmd.Flags().BoolVar(&prune, "prune", false, "remove the packages the files no longer need")
	return cmd
}

func newEnvRemoveCmd() *cobra.Command {
	var (
		req         env.CreateRequest
		yes, dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "remove -n NAME | -p PREFIX [flags]",
		Short: "Delete a whole environment",
		Long: `env remove deletes the environment -n or -p names, after asking unless
-y, and takes it out of ~/.conda/environments.txt. It refuses the root
prefix (base), the active environment ($CONDA_PREFIX) and a folder without
conda-meta. The package cache keeps the packages: condabox clean -p
removes those no environment uses any more.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fromProcess(&req); err != nil {
				return err
			}
			prefix, err := env.RemovableEnvironment(req)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if dryRun {
				_, err := fmt.Fprintf(out, "Would remove environment %s\n", prefix)
				return err
			}
			if !yes {
				if ok, err := confirm(cmd, fmt.Sprintf("Remove environment %s?", prefix)); err != nil || !ok {
					return errors.Join(fmt.Errorf("remove environment %s: not confirmed (give -y)", prefix), err)
				}
			}
			if err := env.RemoveEnvironment(cmd.Context(), req); err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "Removed environment %s\n", prefix)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&req.Prefix, "prefix", "p", "", "path of the environment")
	f.StringVarP(&req.Name, "name", "n", "", "name of the environment, under <root prefix>/envs")
	f.StringVarP(&req.RootPrefix, "root-prefix", "r", "", "root prefix (default $MAMBA_ROOT_PREFIX)")
	f.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	f.BoolVar(&dryRun, "dry-run", false, "only show what would be removed")
	return cmd
}

func newEnvListCmd() *cobra.Command {
	var (
		req    env.CreateRequest
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [flags]",
		Short: "List the known environments",
		Long: `env list shows the environments: the root prefix (base), the folders of
<root prefix>/envs and those ~/.conda/environments.txt records, each a
folder with conda-meta; the active one ($CONDA_PREFIX) is marked *. --json
prints {"envs": [...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req.LookupEnv = lookupEnv
			return writeEnvs(cmd, req, asJSON)
		},
	}
	cmd.Flags().StringVarP(&req.RootPrefix, "root-prefix", "r", "", "root prefix (default $MAMBA_ROOT_PREFIX)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"envs": [prefix, ...]}`)
	return cmd
}

// writeEnvs prints the known environments, for env list and info --envs.
func writeEnvs(cmd *cobra.Command, req env.CreateRequest, asJSON bool) error {
	envs, err := env.KnownEnvironments(cmd.Context(), req)
	if err != nil {
		return err
	}
	if asJSON {
		return env.WriteEnvListJSON(cmd.OutOrStdout(), envs)
	}
	return env.WriteEnvList(cmd.OutOrStdout(), envs)
}

func newEnvExportCmd() *cobra.Command {
	var (
		req                env.CreateRequest
		opts               env.ExportOptions
		explicit, asJSON   bool
		md5, noMD5, sha256 bool
	)
	cmd := &cobra.Command{
		Use:   "export [flags]",
		Short: "Export an environment as environment.yml or @EXPLICIT file",
		Long: `env export writes an environment as an environment.yml: its name, the
channels its packages came from (-c channels first) and every package as
name=version=build (--no-build: name=version; --from-history: the specs
the user asked for, from conda-meta/history). --json writes the same as
JSON. --explicit writes an @EXPLICIT file instead: one package URL per line
with its md5 (as micromamba; --no-md5 leaves it out, --sha256 gives the
sha256 instead). condabox create -f reads both back. Without -n or -p it
exports the active environment ($CONDA_PREFIX), else the root prefix.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if explicit && asJSON {
				return errors.New("--explicit and --json: give one")
			}
			in, err := readInstalled(cmd, req)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			opts.MD5, opts.SHA256 = md5, sha256
			switch {
			case explicit:
				// md5 is the default of an explicit file, as in micromamba.
				return in.WriteExplicit(w, env.ExplicitOptions{MD5: md5 || (!noMD5 && !sha256), SHA256: sha256})
			case asJSON:
				return in.WriteExportJSON(w, opts)
			}
			return in.WriteExport(w, opts)
		},
	}
	f := cmd.Flags()
	addPrefixFlags(f, &req)
	f.BoolVarP(&explicit, "explicit", "e", false, "write an @EXPLICIT file of package URLs")
	f.BoolVar(&md5, "md5", false, "add each package's md5 ([md5=...]; the default with --explicit)")
	f.BoolVar(&noMD5, "no-md5", false, "with --explicit, write the URLs without md5")
	f.BoolVar(&sha256, "sha256", false, "add each package's sha256 ([sha256=...]; with --explicit, #sha256:... instead of the md5)")
	f.BoolVar(&opts.NoBuild, "no-build", false, "write name=version, without the build string")
	f.BoolVar(&opts.NoBuild, "no-builds", false, "same as --no-build (conda's spelling)")
	f.BoolVar(&opts.FromHistory, "from-history", false, "write the specs the user asked for, not every package")
	f.StringArrayVarP(&opts.Channels, "channel", "c", nil, "channel to list first (repeatable)")
	f.BoolVar(&asJSON, "json", false, "write the environment.yml's content as JSON")
	return cmd
}
