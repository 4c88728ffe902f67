package main

import (
	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

func newInfoCmd() *cobra.Command {
	var (
		req      env.CreateRequest
		jsonFlag bool
		envs     bool
	)
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show where environments and packages go, the active environment, virtual packages and channels",
		Long: `info reports, as micromamba's info does: the envs and package cache folders,
the active environment ($CONDA_PREFIX), the configuration files read, the
virtual packages and channels a solve for --platform would use (channel
tokens redacted), the base environment (root prefix) and the platform.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fromProcess(&req); err != nil {
				return err
			}
			if envs {
				return writeEnvs(cmd, req, jsonFlag)
			}
			info, err := env.ReadInfo(cmd.Context(), req, version)
			if err != nil {
				return err
			}
			if jsonFlag {
				return info.WriteJSON(cmd.OutOrStdout())
			}
			return info.WriteText(cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&req.Channels, "channel", "c", nil, "channel to use, highest priority first (repeatable)")
	f.BoolVar(&req.OverrideChannels, "override-channels", false, "use only the -c channels, not .condarc's")
	f.StringVarP(&req.RootPrefix, "root-prefix", "r", "", "root prefix (default $MAMBA_ROOT_PREFIX)")
	f.StringVar(&req.Platform, "platform", "", "target platform, e.g. linux-aarch64 (default: this machine's)")
	f.BoolVar(&jsonFlag, "json", false, "print the report as JSON")
	f.BoolVarP(&envs, "envs", "e", false, "list the environments instead, as env list does")
	return cmd
}
