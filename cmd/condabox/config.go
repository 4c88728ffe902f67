package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/atomicfile"
	"github.com/condabox/condabox/pkg/config"
)

// configTarget is the file config's get and edits work on: --file, else
// the root prefix's .condarc with --system, the active environment's with
// --env, else ~/.condarc (micromamba's defaults).
type configTarget struct {
	file        string
	system, env bool
}

func (t *configTarget) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.file, "file", "", "the configuration file to use (default: ~/.condarc)")
	cmd.Flags().BoolVar(&t.system, "system", false, "use the root prefix's .condarc ($MAMBA_ROOT_PREFIX/.condarc)")
	cmd.Flags().BoolVar(&t.env, "env", false, "use the active environment's .condarc ($CONDA_PREFIX/.condarc)")
	cmd.MarkFlagsMutuallyExclusive("file", "system", "env")
}

func (t *configTarget) path() (string, error) {
	switch {
	case t.file != "":
		return t.file, nil
	case t.env:
		prefix, _ := lookupEnv("CONDA_PREFIX")
		if prefix == "" {
			return "", errors.New("--env: no active environment ($CONDA_PREFIX is not set)")
		}
		return filepath.Join(prefix, ".condarc"), nil
	case t.system:
		root, err := config.RootPrefix(lookupEnv)
		if err != nil {
			return "", err
		}
		return filepath.Join(root, ".condarc"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".condarc"), nil
}

// read parses the target file; an absent one is empty.
func (t *configTarget) read() (string, *config.File, error) {
	p, err := t.path()
	if err != nil {
		return "", nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", nil, err
	}
	f, err := config.ParseFile(data)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", p, err)
	}
	return p, f, nil
}

// edit applies change to the target file and writes it whole, or not at
// all when the change or the result is refused.
func (t *configTarget) edit(change func(*config.File) error) error {
	p, f, err := t.read()
	if err != nil {
		return err
	}
	if err := change(f); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	b, err := f.Bytes()
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, b, 0o644)
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show and edit the configuration files (.condarc)",
		Long: `config shows the configuration that condabox reads — $MAMBA_ROOT_PREFIX/.condarc,
~/.condarc, ~/.mambarc and $CONDARC, lowest precedence first — and edits one
file, as micromamba's config does: ~/.condarc unless --file or --system says
otherwise. Edits keep the file's comments and other keys, and a file is
written only when condabox can read the result.`,
	}
	var showSource bool
	list := &cobra.Command{
		Use:   "list [KEY...]",
		Short: "Print the merged configuration of every file (only KEYs when given)",
		RunE: func(cmd *cobra.Command, args []string) error {
			b, _, err := config.Merged(lookupEnv, config.MergeOptions{Keys: args, ShowSource: showSource})
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	list.Flags().BoolVar(&showSource, "show-source", false, "end each value with the file that set it, as micromamba")
	cmd.AddCommand(list)
	cmd.AddCommand(&cobra.Command{
		Use:   "describe [KEY...]",
		Short: "Describe the configuration keys condabox reads",
		RunE: func(cmd *cobra.Command, args []string) error {
			return config.Describe(cmd.OutOrStdout(), args)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "sources",
		Short: "Print the configuration files read, then the variables that set keys, lowest precedence first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := config.Load(lookupEnv)
			if err != nil {
				return err
			}
			for _, f := range c.Files {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			for _, v := range c.Env {
				if strings.HasPrefix(v, "CONDABOX_CLI_") {
					v = "command line: " + strings.ToLower(strings.TrimPrefix(v, "CONDABOX_CLI_"))
				} else {
					v = "environment variable " + v
				}
				fmt.Fprintln(cmd.OutOrStdout(), v)
			}
			return nil
		},
	})

	var t configTarget
	get := &cobra.Command{
		Use:   "get KEY",
		Short: "Print a key of the file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, f, err := t.read()
			if err != nil {
				return err
			}
			v, ok, err := f.Get(args[0])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s: no key %s", p, args[0])
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), v)
			return err
		},
	}
	t.flags(get)
	cmd.AddCommand(get)

	edits := []struct {
		use, short string
		args       int
		change     func(f *config.File, args []string) error
	}{
		{"set KEY VALUE", "Set a key to a value (true, 3600, strict)", 2, func(f *config.File, a []string) error { return f.Set(a[0], a[1]) }},
		{"append KEY VALUE", "Add a value at the end of a list key (channels, pkgs_dirs, …)", 2, func(f *config.File, a []string) error { return f.Append(a[0], a[1], false) }},
		{"prepend KEY VALUE", "Add a value at the start of a list key", 2, func(f *config.File, a []string) error { return f.Append(a[0], a[1], true) }},
		{"remove KEY VALUE", "Remove a value from a list key", 2, func(f *config.File, a []string) error { return f.Remove(a[0], a[1]) }},
		{"remove-key KEY", "Remove a key and its value", 1, func(f *config.File, a []string) error { return f.RemoveKey(a[0]) }},
	}
	for _, e := range edits {
		c := &cobra.Command{
			Use:   e.use,
			Short: e.short,
			Args:  cobra.ExactArgs(e.args),
			RunE: func(_ *cobra.Command, args []string) error {
				return t.edit(func(f *config.File) error { return e.change(f, args) })
			},
		}
		t.flags(c)
		cmd.AddCommand(c)
	}
	return cmd
}
