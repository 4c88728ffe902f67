package main

import (
	"github.com/spf13/cobra"
)

// version is set at link time: -ldflags "-X main.version=1.2.3".
var version = "0.1.0-dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "condabox",
		Short: "Conda environments and OCI images, in one static binary",
		Long: `condabox manages conda environments like micromamba (same flags, same prefix
layout), is the entrypoint of micromamba-style base images, and builds small,
reproducible OCI images from environment files without Docker.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	var g globalFlags
	g.add(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		return g.apply(cmd.ErrOrStderr())
	}
	root.SetVersionTemplate("condabox {{.Version}}\n")
	root.AddCommand(newCreateCmd())
	root.AddCommand(newInstallCmd())
	root.AddCommand(newRemoveCmd())
	root.AddCommand(newUpdateCmd())
	root.AddCommand(newRunCmd())
	root.AddCommand(newListCmd())
	root.AddCommand(newEnvCmd())
	root.AddCommand(newShellCmd())
	root.AddCommand(newNotInitializedCmd("activate"), newNotInitializedCmd("deactivate"))
	root.AddCommand(newLockCmd())
	root.AddCommand(newCleanCmd())
	root.AddCommand(newInfoCmd())
	root.AddCommand(newSearchCmd())
	root.AddCommand(newConfigCmd())
	root.AddCommand(newRepoqueryCmd())
	root.AddCommand(newAuthCmd())
	root.AddCommand(newPackageCmd())
	root.AddCommand(newBuildCmd())
	root.AddCommand(newEntrypointCmd())
	root.AddCommand(newDockerfileShellCmd())
	root.AddCommand(newShellActivateCmd())
	return root
}
