package main

import (
	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

func newSearchCmd() *cobra.Command {
	var (
		req      env.CreateRequest
		jsonFlag bool
	)
	cmd := &cobra.Command{
		Use:   "search SPEC...",
		Short: "Find the packages of the channels that match specs",
		Long: `search lists, as micromamba's search does, the packages of the channels (-c
first, then .condarc's unless --override-channels) for --platform and noarch
that match each spec: a name with optional version and build, such as numpy,
"numpy >=2" or "python 3.12.*". The name may be a pattern with * as conda
search takes it ("*numpy*", "py* >=3"): it is matched against every name of
the channels. Newest versions come first.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := fromProcess(&req); err != nil {
				return err
			}
			res, err := env.Search(cmd.Context(), req, args)
			if err != nil {
				return err
			}
			if jsonFlag {
				return res.WriteJSON(cmd.OutOrStdout())
			}
			return res.WriteText(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&req.Channels, "channel", "c", nil, "channel to use, highest priority first (repeatable)")
	f.BoolVar(&req.OverrideChannels, "override-channels", false, "use only the -c channels, not .condarc's")
	f.StringVar(&req.Platform, "platform", "", "target platform, e.g. linux-aarch64 (default: this machine's)")
	f.BoolVar(&req.Offline, "offline", false, "use cached channel indexes only")
	f.BoolVar(&jsonFlag, "json", false, "print micromamba's JSON")
	return cmd
}
