package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/condabox/condabox/pkg/config"
	"github.com/condabox/condabox/pkg/env"
)

// shellFlags are the flags every `condabox shell` subcommand takes.
type shellFlags struct {
	shell, root string
}

// parse returns -s's shell, else the login shell's ($SHELL) when condabox
// supports it.
func (f *shellFlags) parse(cmd string) (env.Shell, error) {
	if f.shell != "" {
		return env.ParseShell(f.shell)
	}
	if login, ok := lookupEnv("SHELL"); ok && login != "" {
		if sh, err := env.ParseShell(filepath.Base(login)); err == nil {
			return sh, nil
		}
	}
	return "", fmt.Errorf("shell %s: give the shell with -s bash, -s zsh, -s fish or -s posix ($SHELL names none of them)", cmd)
}

func newShellCmd() *cobra.Command {
	var flags shellFlags
	cmd := &cobra.Command{
		Use:   "shell",
		Short: "Shell integration: hook, activate, deactivate, init",
		Long: `shell makes condabox activate environments in an interactive shell, as
micromamba does. Once

  eval "$(condabox shell hook -s bash)"

has run (shell init adds it to ~/.bashrc or ~/.zshrc; fish:
condabox shell hook -s fish | source, in config.fish), the shell function
condabox runs

  condabox activate [NAME|PREFIX] [--stack]
  condabox deactivate
  condabox reactivate

in the shell itself; install, update and remove reactivate the active
environment afterwards. The other subcommands print or write shell code.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&flags.shell, "shell", "s", "", "the shell: bash, zsh, fish or posix (dash, ash …); default: $SHELL's")
	pf.StringVarP(&flags.root, "root-prefix", "r", "", "root prefix (default $MAMBA_ROOT_PREFIX)")
	cmd.AddCommand(newShellHookCmd(&flags), newShellActivateCodeCmd(&flags))
	cmd.AddCommand(newShellXctivateCmd(&flags, "deactivate", "Print the code deactivating the active environment", env.ShellDeactivate))
	cmd.AddCommand(newShellXctivateCmd(&flags, "reactivate", "Print the code reactivating the active environment", env.ShellReactivate))
	cmd.AddCommand(newShellInitCmd(&flags), newShellDeinitCmd(&flags))
	return cmd
}

// helpToStderr makes c's help go to stderr: the condabox shell function
// evaluates c's stdout, where help text would run as commands.
func helpToStderr(c *cobra.Command) {
	c.SetHelpFunc(func(c *cobra.Command, args []string) {
		c.SetOut(c.ErrOrStderr())
		c.Parent().HelpFunc()(c, args)
	})
}

func newShellHookCmd(flags *shellFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "hook -s SHELL [-r ROOT]",
		Short: "Print the code defining the condabox shell function",
		Long: `hook prints the code that defines the shell function condabox, for
  eval "$(condabox shell hook -s bash)"
It exports CONDABOX_EXE (this condabox) and, with -r, MAMBA_ROOT_PREFIX.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sh, err := flags.parse("hook")
			if err != nil {
				return err
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("shell hook: find condabox's own path: %w", err)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), env.Hook(sh, exe, flags.root))
			return err
		},
	}
}

// newShellActivateCodeCmd is `condabox shell activate` (newShellActivateCmd
// is the image's hidden shell-activate).
func newShellActivateCodeCmd(flags *shellFlags) *cobra.Command {
	var (
		stack        bool
		prefix, name string
	)
	cmd := &cobra.Command{
		Use:   "activate -s SHELL [NAME|PREFIX|-n NAME|-p PREFIX] [--stack]",
		Short: "Print the code activating an environment (default base)",
		Long: `activate prints the code that activates the environment NAME (under the root
prefix's envs/, base being the root prefix itself) or PREFIX (a path, with a
'/'): PATH, CONDA_PREFIX, CONDA_DEFAULT_ENV, CONDA_SHLVL, the prompt, the
variables of etc/conda/env_vars.d and conda-meta/state, then the environment's
etc/conda/activate.d/*.sh (fish: *.fish) sourced. The active environment is deactivated
first, unless --stack keeps it (its bin stays on PATH). The condabox shell
function evaluates it: condabox activate NAME.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := shellRequest(flags, "activate")
			if err != nil {
				return err
			}
			switch given := len(args) + min(len(prefix), 1) + min(len(name), 1); {
			case given > 1:
				return errors.New("shell activate: give one of NAME, PREFIX, -n NAME and -p PREFIX")
			case len(args) == 1:
				req.Target = args[0]
			case name != "":
				req.Target = name
			case prefix != "":
				if req.Target = prefix; !strings.Contains(prefix, "/") {
					req.Target = "./" + prefix // a path, not a name
				}
			}
			req.Stack = stack
			return writeShellCode(cmd, env.ShellActivate, req)
		},
	}
	cmd.Flags().BoolVar(&stack, "stack", false, "keep the active environment's bin on PATH")
	cmd.Flags().StringVarP(&prefix, "prefix", "p", "", "the environment's folder (micromamba's form of PREFIX)")
	cmd.Flags().StringVarP(&name, "name", "n", "", "the environment's name (micromamba's form of NAME)")
	helpToStderr(cmd)
	return cmd
}

// newShellXctivateCmd is deactivate or reactivate, which differ only in
// what they print.
func newShellXctivateCmd(flags *shellFlags, name, short string, code func(env.ShellRequest) (string, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   name + " -s SHELL",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := shellRequest(flags, name)
			if err != nil {
				return err
			}
			return writeShellCode(cmd, code, req)
		},
	}
	helpToStderr(cmd)
	return cmd
}

// shellRequest returns the request of the process's environment, which
// is the shell's (the hook passes PS1 along).
func shellRequest(flags *shellFlags, cmd string) (env.ShellRequest, error) {
	sh, err := flags.parse(cmd)
	if err != nil {
		return env.ShellRequest{}, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return env.ShellRequest{}, err
	}
	return env.ShellRequest{Environ: os.Environ(), RootPrefix: flags.root, WorkDir: wd, Shell: sh}, nil
}

func writeShellCode(cmd *cobra.Command, code func(env.ShellRequest) (string, error), req env.ShellRequest) error {
	script, err := code(req)
	if err != nil {
		return err
	}
	_, err = io.WriteString(cmd.OutOrStdout(), script)
	return err
}

func newShellInitCmd(flags *shellFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init -s bash|zsh|fish [-r ROOT]",
		Short: "Make ~/.bashrc, ~/.zshrc or fish's config.fish evaluate the hook",
		Long: `init adds a marked block to ~/.bashrc (bash), ~/.zshrc ($ZDOTDIR/.zshrc) or
~/.config/fish/config.fish ($XDG_CONFIG_HOME/fish) that evaluates this
condabox's hook, with the root prefix -r (default $MAMBA_ROOT_PREFIX, else
~/micromamba) as MAMBA_ROOT_PREFIX. Running it again replaces the block;
shell deinit removes it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sh, rcFile, err := initTarget(flags, "init")
			if err != nil {
				return err
			}
			root := flags.root
			if root == "" {
				if root, err = config.RootPrefix(lookupEnv); err != nil {
					return fmt.Errorf("shell init: %w (or give -r)", err)
				}
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("shell init: find condabox's own path: %w", err)
			}
			changed, err := env.WriteInitBlock(rcFile, env.InitBlock(sh, exe, root))
			if err != nil {
				return fmt.Errorf("shell init: %w", err)
			}
			return reportRCFile(cmd, rcFile, changed, "now evaluates condabox's hook (open a new shell)", "evaluates condabox's hook already")
		},
	}
	// micromamba 1's spelling of the root prefix in shell init.
	cmd.Flags().StringVarP(&flags.root, "prefix", "p", "", "same as -r/--root-prefix (micromamba 1's spelling)")
	return cmd
}

func newShellDeinitCmd(flags *shellFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "deinit -s bash|zsh|fish",
		Short: "Remove the block of shell init",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, rcFile, err := initTarget(flags, "deinit")
			if err != nil {
				return err
			}
			changed, err := env.RemoveInitBlock(rcFile)
			if err != nil {
				return fmt.Errorf("shell deinit: %w", err)
			}
			return reportRCFile(cmd, rcFile, changed, "no longer evaluates condabox's hook", "has no condabox block")
		},
	}
}

// initTarget returns -s's shell and the rc file init and deinit change.
func initTarget(flags *shellFlags, cmd string) (env.Shell, string, error) {
	sh, err := flags.parse(cmd)
	if err != nil {
		return "", "", err
	}
	rcFile, err := env.RCFile(sh, lookupEnv)
	return sh, rcFile, err
}

// reportRCFile tells on stderr what init or deinit did to rcFile.
func reportRCFile(cmd *cobra.Command, rcFile string, changed bool, done, already string) error {
	msg := already
	if changed {
		msg = done
	}
	_, err := fmt.Fprintf(cmd.ErrOrStderr(), "%s %s\n", rcFile, msg)
	return err
}

// newNotInitializedCmd is `condabox activate` or `condabox deactivate` run
// as a program: the shell function of `condabox shell hook` handles both,
// so reaching the binary means the shell has no hook. As micromamba, say
// how to add it instead of "unknown command".
func newNotInitializedCmd(name string) *cobra.Command {
	return &cobra.Command{
		Use:                name,
		Short:              name + " needs the shell function of `condabox shell hook`",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The login shell's instructions; bash's by default.
			sh, hook := "bash", `eval "$(condabox shell hook -s bash)"`
			login, _ := lookupEnv("SHELL")
			switch filepath.Base(login) {
			case "zsh":
				sh, hook = "zsh", `eval "$(condabox shell hook -s zsh)"`
			case "fish":
				sh, hook = "fish", "condabox shell hook -s fish | source"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), `condabox is running as a program and cannot change the shell that started it,
so %[1]s needs condabox's shell function. For this %[2]s shell, run
    %[3]s
then "condabox %[1]s" again; for every new %[2]s shell, run once
    condabox shell init -s %[2]s
(bash, zsh and fish: -s bash, -s zsh, -s fish; other POSIX shells: shell hook -s posix).
`, name, sh, hook)
			return exitError{code: 1}
		},
	}
}
