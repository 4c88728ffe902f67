package main

import (
	"errors"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/condabox/condabox/pkg/env"
)

func newListCmd() *cobra.Command {
	var (
		req       env.CreateRequest
		asJSON    bool
		fullName  bool
		export    bool
		canonical bool
		explicit  bool
		md5       bool
		sha256    bool
		revisions bool
		noPip     bool
	)
	cmd := &cobra.Command{
		Use:   "list [flags] [REGEX]",
		Short: "List the packages of an environment",
		Long: `list shows the packages installed in an environment (its conda-meta records),
sorted by name: name, version, build and channel, or, with --json, conda's
list --json objects. REGEX keeps the packages whose name it matches
anywhere (--full-name: the whole name). Without -n or -p it lists the
active environment ($CONDA_PREFIX), else the root prefix (base).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := readInstalled(cmd, req)
			if err != nil {
				return err
			}
			if revisions {
				revs, err := env.ReadRevisions(in.Prefix)
				if err != nil {
					return err
				}
				return env.WriteRevisions(cmd.OutOrStdout(), revs)
			}
			if noPip {
				in.Pip = nil
			}
			if len(args) == 1 {
				if err := in.Filter(args[0], fullName); err != nil {
					return err
				}
			}
			switch {
			case asJSON:
				return in.WriteListJSON(cmd.OutOrStdout())
			case export:
				return in.WriteListExport(cmd.OutOrStdout())
			case canonical:
				return in.WriteListCanonical(cmd.OutOrStdout())
			case explicit:
				return in.WriteExplicit(cmd.OutOrStdout(), env.ExplicitOptions{MD5: md5, SHA256: sha256})
			case md5 || sha256:
				return errors.New("--md5 and --sha256 go with --explicit")
			}
			return in.WriteList(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	addPrefixFlags(f, &req)
	f.BoolVar(&asJSON, "json", false, "print conda's list --json output")
	f.BoolVarP(&fullName, "full-name", "f", false, "REGEX must match the whole name (^REGEX$)")
	f.BoolVarP(&export, "export", "e", false, "print name=version=build lines, a file create --file reads back")
	f.BoolVarP(&canonical, "canonical", "c", false, "print channel/subdir::name-version-build lines")
	f.BoolVar(&explicit, "explicit", false, "print an @EXPLICIT file of the packages' URLs, as conda list --explicit")
	f.BoolVar(&md5, "md5", false, "with --explicit, add each URL's #md5")
	f.BoolVar(&sha256, "sha256", false, "with --explicit, add each URL's #sha256:")
	f.BoolVar(&noPip, "no-pip", false, "leave out the Python packages pip installed, as conda list --no-pip")
	f.BoolVar(&revisions, "revisions", false, "list the environment's revisions (conda-meta/history), as conda list --revisions")
	cmd.MarkFlagsMutuallyExclusive("json", "export", "canonical", "explicit", "revisions")
	cmd.MarkFlagsMutuallyExclusive("md5", "sha256")
	return cmd
}

// addPrefixFlags adds micromamba's flags naming an existing environment.
func addPrefixFlags(f *pflag.FlagSet, req *env.CreateRequest) {
	f.StringVarP(&req.Prefix, "prefix", "p", "", "path of the environment (default: $CONDA_PREFIX, else the root prefix)")
	f.StringVarP(&req.Name, "name", "n", "", "name of the environment, under <root prefix>/envs")
	f.StringVarP(&req.RootPrefix, "root-prefix", "r", "", "root prefix (default $MAMBA_ROOT_PREFIX)")
}

// readInstalled reads the environment the flags name, relative paths
// taken from the working directory.
func readInstalled(cmd *cobra.Command, req env.CreateRequest) (*env.Installed, error) {
	if err := fromProcess(&req); err != nil {
		return nil, err
	}
	return env.ReadInstalled(cmd.Context(), req)
}
