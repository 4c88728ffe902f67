package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/env"
)

// newEnvConfigCmd is conda's `env config vars list|set|unset`: the
// variables activation sets, in the environment's conda-meta/state.
func newEnvConfigCmd() *cobra.Command {
	var req env.CreateRequest
	config := &cobra.Command{Use: "config", Short: "Environment configuration: vars", Args: cobra.NoArgs}
	vars := &cobra.Command{
		Use:   "vars",
		Short: "The variables activation sets (conda-meta/state)",
		Long: `vars lists, sets or unsets the variables that activation (condabox run,
condabox activate, the image entrypoint) sets in an environment, kept in
its conda-meta/state as conda's env config vars keeps them. The
environment is -n or -p, else the active one, else base.`,
		Args: cobra.NoArgs,
	}
	prefix := func(cmd *cobra.Command) (string, error) {
		in, err := readInstalled(cmd, req)
		if err != nil {
			return "", err
		}
		return in.Prefix, nil
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Print NAME = VALUE per variable",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := prefix(cmd)
			if err != nil {
				return err
			}
			vars, err := env.StateVars(p)
			if err != nil {
				return err
			}
			for _, k := range slices.Sorted(maps.Keys(vars)) {
				fmt.Fprintf(cmd.OutOrStdout(), "%s = %s\n", k, vars[k])
			}
			return nil
		},
	}
	set := &cobra.Command{
		Use:   "set NAME=VALUE...",
		Short: "Set variables (reactivate to see them)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := map[string]string{}
			for _, a := range args {
				k, v, ok := strings.Cut(a, "=")
				if !ok || k == "" {
					return fmt.Errorf("env config vars set %q: want NAME=VALUE", a)
				}
				vars[k] = v
			}
			p, err := prefix(cmd)
			if err != nil {
				return err
			}
			return env.SetStateVars(p, vars)
		},
	}
	unset := &cobra.Command{
		Use:   "unset NAME...",
		Short: "Unset variables",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := prefix(cmd)
			if err != nil {
				return err
			}
			return env.UnsetStateVars(p, args)
		},
	}
	for _, c := range []*cobra.Command{list, set, unset} {
		addPrefixFlags(c.Flags(), &req)
		vars.AddCommand(c)
	}
	config.AddCommand(vars)
	return config
}
