package main

import (
	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

func newRepoqueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repoquery",
		Short: "Query packages: search, depends, whoneeds",
		Long: `repoquery answers micromamba's three queries. search is condabox search.
depends lists what a package depends on, whoneeds which packages depend on
it: in the installed environment (-n, -p, else the active one, else base),
or with -c (or --remote, for .condarc's channels) in the channels for
--platform and noarch. For depends, the newest package the spec matches is
asked about and each dependency is the newest package that satisfies it;
no solve is run.`,
	}
	search := newSearchCmd()
	search.Short = "Find the packages of the channels that match specs (as condabox search)"
	cmd.AddCommand(search)
	for _, kind := range []env.QueryKind{env.Depends, env.WhoNeeds} {
		var (
			req            env.QueryRequest
			asJSON, asTree bool
		)
		short := map[env.QueryKind]string{
			env.Depends:  "List the dependencies of a package",
			env.WhoNeeds: "List the packages that depend on a package",
		}[kind]
		c := &cobra.Command{
			Use:   string(kind) + " SPEC",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := fromProcess(&req.CreateRequest); err != nil {
					return err
				}
				req.Kind, req.Spec = kind, args[0]
				req.Remote = req.Remote || len(req.Channels) > 0
				res, err := env.Query(cmd.Context(), req)
				if err != nil {
					return err
				}
				if asJSON {
					return res.WriteJSON(cmd.OutOrStdout())
				}
				return res.WriteText(cmd.OutOrStdout(), asTree)
			},
		}
		f := c.Flags()
		addPrefixFlags(f, &req.CreateRequest)
		f.StringArrayVarP(&req.Channels, "channel", "c", nil, "query this channel instead of the environment (repeatable)")
		f.BoolVar(&req.Remote, "remote", false, "query the channels (-c, .condarc's) instead of the environment")
		f.BoolVar(&req.OverrideChannels, "override-channels", false, "use only the -c channels, not .condarc's")
		f.StringVar(&req.Platform, "platform", "", "the channels' platform, e.g. linux-aarch64 (default: this machine's)")
		f.BoolVar(&req.Offline, "offline", false, "use cached channel indexes only")
		f.BoolVar(&req.Recursive, "recursive", false, "follow the answer transitively")
		f.BoolVarP(&asTree, "tree", "t", false, "print a tree (implies --recursive)")
		f.BoolVar(&asJSON, "json", false, "print micromamba's JSON")
		c.PreRun = func(*cobra.Command, []string) { req.Recursive = req.Recursive || asTree }
		cmd.AddCommand(c)
	}
	return cmd
}
