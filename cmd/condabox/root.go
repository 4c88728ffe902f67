package main

import (
	"errors"
	"os"
	"strings"

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
	var rcFiles []string
	var noRC bool
	root.PersistentFlags().StringArrayVar(&rcFiles, "rc-file", nil, "read this configuration file instead of searching for .condarc files (repeatable)")
	root.PersistentFlags().BoolVar(&noRC, "no-rc", false, "read no configuration file")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if noRC && len(rcFiles) > 0 {
			return errors.New("--no-rc and --rc-file exclude each other")
		}
		lookupEnv = configLookup(rcFiles, noRC)
		return nil
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

// lookupEnv reads the process environment for every command: os.LookupEnv,
// with --rc-file and --no-rc answered as the configuration's
// CONDABOX_RC_FILES and CONDABOX_NO_RC.
var lookupEnv = os.LookupEnv

// configLookup returns os.LookupEnv with the configuration files the flags
// chose.
func configLookup(rcFiles []string, noRC bool) func(string) (string, bool) {
	if !noRC && len(rcFiles) == 0 {
		return os.LookupEnv
	}
	return func(k string) (string, bool) {
		switch {
		case k == "CONDABOX_NO_RC" && noRC:
			return "1", true
		case k == "CONDABOX_RC_FILES" && len(rcFiles) > 0:
			return strings.Join(rcFiles, string(os.PathListSeparator)), true
		}
		return os.LookupEnv(k)
	}
}
