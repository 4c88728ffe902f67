package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/env"
)

func newRemoveCmd() *cobra.Command {
	var t transaction
	t.req.Op = env.Remove
	cmd := &cobra.Command{
		Use:   "remove [flags] NAME...",
		Short: "Remove packages from an environment",
		Long: `remove takes the named packages out of the environment together with the
packages that depend on them and, unless --no-prune, the dependencies that no
requested package needs any more, as micromamba does. --force removes only
the named packages and leaves the environment possibly inconsistent.
--all removes every package and leaves the environment empty.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case t.req.RemoveAll && len(args) > 0:
				return fmt.Errorf("remove --all takes no package names (got %v)", args)
			case !t.req.RemoveAll && len(args) == 0:
				return fmt.Errorf("remove: name packages or give --all")
			}
			if err := checkNames("remove", args); err != nil {
				return err
			}
			t.req.Remove = args
			return t.run(cmd)
		},
	}
	t.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.BoolVarP(&t.req.Force, "force", "f", false, "remove only the named packages, not their dependants")
	f.BoolVarP(&t.req.RemoveAll, "all", "a", false, "remove every package; the environment stays, empty")
	var noPrune bool
	f.BoolVar(&noPrune, "no-prune", false, "keep dependencies nothing requested needs any more")
	cmd.PreRun = func(*cobra.Command, []string) { t.req.Prune = !noPrune }
	return cmd
}

// checkNames refuses arguments of cmd that are not plain package names.
func checkNames(cmd string, args []string) error {
	for _, a := range args {
		m, err := conda.ParseMatchSpec(a)
		if err != nil {
			return err
		}
		if !m.Name.IsExact() || !m.Name.Matches(a) {
			return fmt.Errorf("%s %q: give package names, not specs or patterns", cmd, a)
		}
	}
	return nil
}
