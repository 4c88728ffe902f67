package env

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/condabox/condabox/pkg/atomicfile"
	"github.com/condabox/condabox/pkg/config"
)

// DeactivateDir holds the scripts that deactivation sources, *.sh in name
// order, before it unsets the environment's variables.
const DeactivateDir = "etc/conda/deactivate.d"

// Shell is a shell that condabox's shell integration writes code for.
type Shell string

// The shells of `condabox shell -s`. bash, zsh and posix get the same POSIX
// shell code, the name picking the rc file of `shell init`; fish gets its
// own (shell_fish.go).
const (
	Bash  Shell = "bash"
	Zsh   Shell = "zsh"
	Posix Shell = "posix"
	Fish  Shell = "fish"
)

// ParseShell returns the Shell that s names.
func ParseShell(s string) (Shell, error) {
	switch sh := Shell(s); sh {
	case Bash, Zsh, Posix, Fish:
		return sh, nil
	}
	return "", fmt.Errorf("shell %q: not supported (want bash, zsh, fish or posix)", s)
}

// scriptExt is the extension of the activate.d and deactivate.d scripts
// sh sources: conda's packages ship *.sh for POSIX shells, *.fish for fish.
func (sh Shell) scriptExt() string {
	if sh == Fish {
		return ".fish"
	}
	return ".sh"
}

// hookTemplate is the code of Hook after its exports; %[1]s is the shell.
// As micromamba's hook: activate, deactivate and reactivate print code that
// the function evaluates in this shell, since a child process cannot change
// its parent's variables; install, update and remove may change the active
// environment's activation scripts, so they are followed by a reactivate.
// PS1 is passed along because shells do not export it. A failing condabox
// is the function's status, so `condabox activate nope && …` stops. No
// hash -r: bash, zsh and dash forget the commands they found when PATH is
// set (TestShellSession's tool of a, then of b, shows it).
const hookTemplate = `__condabox_xctivate() {
	__condabox_code=$(PS1="${PS1-}" "$CONDABOX_EXE" shell "$@" -s %[1]s) && eval "$__condabox_code"
	__condabox_status=$?
	unset __condabox_code
	return "$__condabox_status"
}
condabox() {
	case "${1-}" in
	activate | deactivate | reactivate)
		__condabox_xctivate "$@"
		;;
	install | update | remove)
		"$CONDABOX_EXE" "$@" || return
		__condabox_xctivate reactivate
		;;
	*)
		"$CONDABOX_EXE" "$@"
		;;
	esac
}
# Deactivating the last environment sets 0: starting from it makes
# activate + deactivate leave the shell's variables as they were.
if [ -z "${CONDA_SHLVL+x}" ]; then
	export CONDA_SHLVL=0
fi
`

// Hook returns the code that `eval "$(condabox shell hook -s SHELL)"`
// runs: it defines the shell function condabox, which runs exe (exported as
// CONDABOX_EXE) and applies `condabox activate|deactivate|reactivate` to the
// shell. A root other than "" is exported as MAMBA_ROOT_PREFIX.
func Hook(sh Shell, exe, root string) string {
	if sh == Fish {
		return fishHook(exe, root)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# condabox shell hook for %s\n", sh)
	b.WriteString("export CONDABOX_EXE=" + shellQuote(exe) + "\n")
	if root != "" {
		b.WriteString("export MAMBA_ROOT_PREFIX=" + shellQuote(root) + "\n")
	}
	fmt.Fprintf(&b, hookTemplate, sh)
	return b.String()
}

// ShellRequest is what `condabox shell activate|deactivate|reactivate` is
// asked.
type ShellRequest struct {
	// Environ is the shell's exported variables and its PS1 (KEY=VALUE, as
	// os.Environ gives them): the activation state lives there.
	Environ []string
	// Target is activate's NAME or PREFIX (a path holds a '/'); "" is base,
	// the root prefix.
	Target string
	// Stack keeps the active environment's bin folder on PATH.
	Stack bool
	// RootPrefix overrides Environ's MAMBA_ROOT_PREFIX.
	RootPrefix string
	// WorkDir resolves a relative PREFIX.
	WorkDir string
	// Shell is the shell the code is for ("" is POSIX).
	Shell Shell
}

// ShellActivate returns the shell code (POSIX, or fish's for req.Shell Fish)
// that activates req.Target in the shell whose variables are req.Environ, as
// conda's activator: the
// active environment, if any, is left (its deactivate.d scripts sourced and
// its variables restored, its bin removed from PATH) unless req.Stack; then
// PATH starts with the target's bin; CONDA_PREFIX, CONDA_DEFAULT_ENV,
// CONDA_SHLVL (one more), CONDA_PREFIX_<n> (the environment of level n,
// for deactivate), CONDA_PROMPT_MODIFIER and the "(name) " prefix of a
// non-empty PS1 are set; then the variables of etc/conda/env_vars.d and
// conda-meta/state (values they replace are kept in
// __CONDA_SHLVL_<n>_<NAME>); then the target's activate.d scripts are
// sourced. Activating the active environment reactivates it.
func ShellActivate(req ShellRequest) (string, error) {
	s, err := newShellState(req)
	if err != nil {
		return "", err
	}
	prefix, err := s.target(req)
	if err != nil {
		return "", err
	}
	if prefix == filepath.Clean(s.current()) {
		return s.reactivate()
	}
	var pre []string
	level := s.level()
	if level > 0 {
		current := s.current()
		s.vars[prefixVar(level)] = current
		if req.Stack {
			s.vars[stackedVar(level+1)] = "true"
		} else {
			if pre, err = s.scripts(current, DeactivateDir); err != nil {
				return "", err
			}
			if err := s.leave(current, level); err != nil {
				return "", err
			}
		}
	}
	if err := s.enter(prefix, level+1); err != nil {
		return "", err
	}
	post, err := s.scripts(prefix, ActivateDir)
	if err != nil {
		return "", err
	}
	return s.script(pre, post), nil
}

// ShellDeactivate returns the shell code (as ShellActivate's) that
// deactivates the active environment (nothing when none is): its
// deactivate.d scripts sourced, then
// every variable its activation set restored or unset; the environment below
// it on the stack (CONDA_PREFIX_<n>) is active again, and reactivated
// (variables, PATH, activate.d) unless it was kept by --stack.
func ShellDeactivate(req ShellRequest) (string, error) {
	s, err := newShellState(req)
	if err != nil {
		return "", err
	}
	level := s.level()
	if level == 0 {
		return "", nil
	}
	current := s.current()
	pre, err := s.scripts(current, DeactivateDir)
	if err != nil {
		return "", err
	}
	if err := s.leave(current, level); err != nil {
		return "", err
	}
	stacked := s.vars[stackedVar(level)] == "true"
	delete(s.vars, stackedVar(level))
	previous := s.vars[prefixVar(level-1)]
	delete(s.vars, prefixVar(level-1))
	switch {
	case previous == "":
		// The last one, or one that `condabox run` activated on top of
		// another without noting it: none is active any more.
		s.setPrompt("")
		delete(s.vars, "CONDA_PREFIX")
		delete(s.vars, "CONDA_DEFAULT_ENV")
		s.vars["CONDA_SHLVL"] = "0"
		return s.script(pre, nil), nil
	case stacked:
		// Its variables and PATH entry stayed: only the names change back.
		s.setActive(previous, level-1)
		return s.script(pre, nil), nil
	}
	if err := s.enter(previous, level-1); err != nil {
		return "", err
	}
	post, err := s.scripts(previous, ActivateDir)
	if err != nil {
		return "", err
	}
	return s.script(pre, post), nil
}

// ShellReactivate returns the shell code (as ShellActivate's) that
// reactivates the active environment (nothing when none is): its
// deactivate.d scripts, its variables read again, its activate.d scripts, as
// after a change to it.
func ShellReactivate(req ShellRequest) (string, error) {
	s, err := newShellState(req)
	if err != nil {
		return "", err
	}
	if s.level() == 0 {
		return "", nil
	}
	return s.reactivate()
}

// shellState is the shell's variables as the code being written leaves
// them: activation is computed on it, then written as the difference from
// what the shell had, so that undoing it restores the shell exactly.
type shellState struct {
	before, vars map[string]string
	// root is the root prefix, which names environments ("" when unknown).
	root string
	sh   Shell
}

func newShellState(req ShellRequest) (*shellState, error) {
	vars := map[string]string{}
	for _, kv := range req.Environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	if shlvl, ok := vars["CONDA_SHLVL"]; ok && shlvl != "" {
		if n, err := strconv.Atoi(shlvl); err != nil || n < 0 {
			return nil, fmt.Errorf("CONDA_SHLVL=%q: want a count of active environments (0, 1, 2 …)", shlvl)
		}
	}
	s := &shellState{before: maps.Clone(vars), vars: vars, sh: req.Shell}
	s.root, _ = config.RootPrefix(s.lookup(req.RootPrefix))
	return s, nil
}

// lookup reads the shell's variables, root (if not "") standing for
// MAMBA_ROOT_PREFIX.
func (s *shellState) lookup(root string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if k == "MAMBA_ROOT_PREFIX" && root != "" {
			return root, true
		}
		v, ok := s.vars[k]
		return v, ok
	}
}

// current returns the active environment's prefix, "" when none is.
func (s *shellState) current() string { return s.vars["CONDA_PREFIX"] }

// level returns how many environments are active: CONDA_SHLVL, but 0
// without CONDA_PREFIX and at least 1 with it (`condabox run` and the
// entrypoint activate without a hook).
func (s *shellState) level() int {
	if s.current() == "" {
		return 0
	}
	n, _ := strconv.Atoi(s.vars["CONDA_SHLVL"]) // checked by newShellState
	return max(n, 1)
}

// target returns the prefix of req.Target, which must be a conda
// environment.
func (s *shellState) target(req ShellRequest) (string, error) {
	target := req.Target
	if target == "" {
		target = "base"
	}
	cr := CreateRequest{Name: target, WorkDir: req.WorkDir}
	if strings.ContainsRune(target, '/') || target == "." || target == ".." {
		cr.Name, cr.Prefix = "", target
	}
	prefix, err := targetPrefix(cr, s.lookup(req.RootPrefix))
	if err != nil {
		return "", fmt.Errorf("activate %s: %w", target, err)
	}
	if st, err := os.Stat(filepath.Join(prefix, "conda-meta")); err != nil || !st.IsDir() {
		return "", fmt.Errorf("activate %s: no conda environment at %s (no conda-meta folder)", target, prefix)
	}
	// As clean as CONDA_PREFIX is compared and names are derived.
	return filepath.Clean(prefix), nil
}

// reactivate leaves and enters the active environment again.
func (s *shellState) reactivate() (string, error) {
	current, level := s.current(), s.level()
	pre, err := s.scripts(current, DeactivateDir)
	if err != nil {
		return "", err
	}
	if err := s.leave(current, level); err != nil {
		return "", err
	}
	if err := s.enter(current, level); err != nil {
		return "", err
	}
	post, err := s.scripts(current, ActivateDir)
	if err != nil {
		return "", err
	}
	return s.script(pre, post), nil
}

// enter makes prefix the active environment at level: its bin first on
// PATH, then its variables, each one it replaces saved for leave.
func (s *shellState) enter(prefix string, level int) error {
	vars, err := shellEnvVars(prefix)
	if err != nil {
		return err
	}
	bin := filepath.Join(prefix, "bin")
	if path, ok := s.vars["PATH"]; ok && path != "" {
		bin += string(os.PathListSeparator) + path
	}
	s.vars["PATH"] = bin
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if old, ok := s.vars[k]; ok {
			s.vars[savedVar(level, k)] = old
		}
		s.vars[k] = vars[k]
	}
	s.setActive(prefix, level)
	return nil
}

// leave undoes enter(prefix, level), reading prefix's variables again (as
// conda does): each is restored to its saved value or unset, then prefix's
// bin leaves PATH.
func (s *shellState) leave(prefix string, level int) error {
	vars, err := shellEnvVars(prefix)
	if err != nil {
		return err
	}
	for k := range vars {
		if old, ok := s.vars[savedVar(level, k)]; ok {
			s.vars[k] = old
			delete(s.vars, savedVar(level, k))
		} else {
			delete(s.vars, k)
		}
	}
	bin := filepath.Join(prefix, "bin")
	entries := filepath.SplitList(s.vars["PATH"])
	if i := slices.Index(entries, bin); i >= 0 {
		s.vars["PATH"] = strings.Join(slices.Delete(entries, i, i+1), string(os.PathListSeparator))
	}
	return nil
}

// setActive sets the variables that name the active environment.
func (s *shellState) setActive(prefix string, level int) {
	name := s.envName(prefix)
	s.vars["CONDA_PREFIX"] = prefix
	s.vars["CONDA_DEFAULT_ENV"] = name
	s.vars["CONDA_SHLVL"] = strconv.Itoa(level)
	s.setPrompt("(" + name + ") ")
}

// setPrompt replaces the prompt modifier at the start of a non-empty PS1
// (an empty one is a shell that shows no prompt) by modifier.
func (s *shellState) setPrompt(modifier string) {
	if ps1 := s.vars["PS1"]; ps1 != "" {
		s.vars["PS1"] = modifier + strings.TrimPrefix(ps1, s.vars["CONDA_PROMPT_MODIFIER"])
	}
	if modifier == "" {
		delete(s.vars, "CONDA_PROMPT_MODIFIER")
	} else {
		s.vars["CONDA_PROMPT_MODIFIER"] = modifier
	}
}

// envName returns the name of the environment at prefix: base for the root
// prefix, NAME for <root>/envs/NAME, else the prefix itself (as conda).
func (s *shellState) envName(prefix string) string {
	switch {
	case s.root == "":
		return prefix
	case prefix == filepath.Clean(s.root):
		return "base"
	case filepath.Dir(prefix) == filepath.Join(s.root, "envs"):
		return filepath.Base(prefix)
	}
	return prefix
}

// scripts returns the activate.d or deactivate.d (dir) scripts of prefix
// that s's shell sources.
func (s *shellState) scripts(prefix, dir string) ([]string, error) {
	return shellScripts(prefix, dir, s.sh.scriptExt())
}

// script returns the code taking the shell from s.before to s.vars: the
// pre scripts sourced, unsets, exports, then the post scripts sourced.
func (s *shellState) script(pre, post []string) string {
	if s.sh == Fish {
		return s.fishScript(pre, post)
	}
	var b strings.Builder
	for _, f := range pre {
		b.WriteString(". " + shellQuote(f) + "\n")
	}
	for _, k := range slices.Sorted(maps.Keys(s.before)) {
		if _, ok := s.vars[k]; !ok {
			b.WriteString("unset " + k + "\n")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.vars)) {
		old, ok := s.before[k]
		switch {
		case ok && old == s.vars[k]:
		case k == "PS1":
			// Exported, PS1 would reach child shells of other kinds.
			b.WriteString("PS1=" + shellQuote(s.vars[k]) + "\n")
		default:
			b.WriteString("export " + k + "=" + shellQuote(s.vars[k]) + "\n")
		}
	}
	for _, f := range post {
		b.WriteString(". " + shellQuote(f) + "\n")
	}
	return b.String()
}

// shellEnvVars returns prefix's env_vars.d and conda-meta/state variables
// that a shell activation may set: names a shell can hold (others must not
// become code) that are not the activation's own bookkeeping.
func shellEnvVars(prefix string) (map[string]string, error) {
	vars, err := prefixEnvVars(prefix)
	if err != nil {
		return nil, fmt.Errorf("activate %s: %w", prefix, err)
	}
	maps.DeleteFunc(vars, func(k, _ string) bool { return !isShellName(k) || isActivationVar(k) })
	return vars, nil
}

// isActivationVar reports whether k is a variable the shell activation
// keeps its state in.
func isActivationVar(k string) bool {
	switch k {
	case "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_SHLVL", "CONDA_PROMPT_MODIFIER", "PS1":
		return true
	}
	return strings.HasPrefix(k, "CONDA_PREFIX_") || strings.HasPrefix(k, "CONDA_STACKED_") || strings.HasPrefix(k, "__CONDA_SHLVL_")
}

// prefixVar is conda's name of the prefix of the environment at level,
// while another is active above it.
func prefixVar(level int) string { return "CONDA_PREFIX_" + strconv.Itoa(level) }

// stackedVar is conda's mark of a level activated with --stack.
func stackedVar(level int) string { return "CONDA_STACKED_" + strconv.Itoa(level) }

// savedVar is conda's name of the value that k had before the environment
// at level set it.
func savedVar(level int, k string) string {
	return "__CONDA_SHLVL_" + strconv.Itoa(level-1) + "_" + k
}

// The lines around the block that `condabox shell init` adds to an rc file.
const (
	initBegin = "# >>> condabox initialize >>>"
	initEnd   = "# <<< condabox initialize <<<"
)

// InitBlock returns the block of an rc file that evaluates the hook of
// exe for sh, with root as MAMBA_ROOT_PREFIX (unless "").
func InitBlock(sh Shell, exe, root string) string {
	quote := shellQuote
	if sh == Fish {
		quote = fishQuote
	}
	hook := quote(exe) + " shell hook -s " + string(sh)
	if root != "" {
		hook += " -r " + quote(root)
	}
	b := initBegin + "\n" + "# !! Contents within this block are managed by 'condabox shell init' !!\n"
	if sh == Fish {
		return b + hook + " | source\n" + initEnd + "\n"
	}
	return b + `__condabox_setup="$(` + hook + `)" && eval "$__condabox_setup"` + "\n" +
		"unset __condabox_setup\n" +
		initEnd + "\n"
}

// RCFile returns the rc file that `condabox shell init` changes for sh:
// ~/.bashrc, $ZDOTDIR/.zshrc (default ~/.zshrc), or fish's
// $XDG_CONFIG_HOME/fish/config.fish (default ~/.config/fish/config.fish).
func RCFile(sh Shell, lookup func(string) (string, bool)) (string, error) {
	home, _ := lookup("HOME")
	switch sh {
	case Fish:
		if dir, _ := lookup("XDG_CONFIG_HOME"); dir != "" {
			return filepath.Join(dir, "fish", "config.fish"), nil
		}
		if home != "" {
			return filepath.Join(home, ".config", "fish", "config.fish"), nil
		}
	case Bash:
		if home != "" {
			return filepath.Join(home, ".bashrc"), nil
		}
	case Zsh:
		if dir, _ := lookup("ZDOTDIR"); dir != "" {
			return filepath.Join(dir, ".zshrc"), nil
		}
		if home != "" {
			return filepath.Join(home, ".zshrc"), nil
		}
	default:
		return "", fmt.Errorf("shell init -s %s: only bash, zsh and fish have an rc file to change (add eval \"$(condabox shell hook -s %s)\" to yours)", sh, sh)
	}
	return "", fmt.Errorf("shell init -s %s: HOME is not set", sh)
}

// WriteInitBlock puts block into the rc file (created if missing): in
// place of the condabox block it has, or appended. It reports whether the
// file changed.
func WriteInitBlock(rcFile, block string) (bool, error) {
	return editRCFile(rcFile, func(rc []byte) ([]byte, error) { return addInitBlock(rcFile, rc, block) })
}

// RemoveInitBlock removes the condabox block from the rc file, if it has
// one. It reports whether the file changed.
func RemoveInitBlock(rcFile string) (bool, error) {
	return editRCFile(rcFile, func(rc []byte) ([]byte, error) { return removeInitBlock(rcFile, rc) })
}

// addInitBlock returns rc (the content of the rc file name) with block in
// place of its condabox block, or appended on a line of its own.
func addInitBlock(name string, rc []byte, block string) ([]byte, error) {
	start, end, err := findInitBlock(name, rc)
	switch {
	case err != nil:
		return nil, err
	case start >= 0:
		return slices.Concat(rc[:start], []byte(block), rc[end:]), nil
	case len(rc) > 0 && !bytes.HasSuffix(rc, []byte("\n")):
		rc = append(slices.Clip(rc), '\n')
	}
	return append(slices.Clip(rc), block...), nil
}

// removeInitBlock returns rc (the content of the rc file name) without its
// condabox block.
func removeInitBlock(name string, rc []byte) ([]byte, error) {
	start, end, err := findInitBlock(name, rc)
	if err != nil || start < 0 {
		return rc, err
	}
	return slices.Concat(rc[:start], rc[end:]), nil
}

// editRCFile replaces the rc file's content by edit's, whole or not at all,
// keeping its mode; a missing file is empty. A symbolic link (a dotfiles
// manager's) is followed, so that the link stays.
func editRCFile(rcFile string, edit func([]byte) ([]byte, error)) (bool, error) {
	if target, err := filepath.EvalSymlinks(rcFile); err == nil {
		rcFile = target
	}
	mode := os.FileMode(0o644)
	rc, err := os.ReadFile(rcFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return false, err
	default:
		st, err := os.Stat(rcFile)
		if err != nil {
			return false, err
		}
		mode = st.Mode().Perm()
	}
	edited, err := edit(rc)
	if err != nil || bytes.Equal(edited, rc) {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(rcFile), 0o755); err != nil { // a ZDOTDIR, a fresh HOME
		return false, err
	}
	if err := atomicfile.WriteFile(rcFile, edited, mode); err != nil {
		return false, err
	}
	return true, nil
}

// findInitBlock returns the byte range of rc's condabox block, its first
// line to its last line's newline included; start is -1 without one.
func findInitBlock(name string, rc []byte) (start, end int, err error) {
	start = lineIndex(rc, initBegin, 0)
	if start < 0 {
		return -1, -1, nil
	}
	end = lineIndex(rc, initEnd, start)
	if end < 0 {
		line := bytes.Count(rc[:start], []byte("\n")) + 1
		return -1, -1, fmt.Errorf("%s: the condabox block of line %d has no closing %q line: fix or remove it by hand", name, line, initEnd)
	}
	if next := bytes.IndexByte(rc[end:], '\n'); next >= 0 {
		return start, end + next + 1, nil
	}
	return start, len(rc), nil
}

// lineIndex returns the offset of the first line of rc from offset from on
// that is line (a trailing \r allowed), or -1.
func lineIndex(rc []byte, line string, from int) int {
	for i := from; i < len(rc); {
		next := bytes.IndexByte(rc[i:], '\n')
		if next < 0 {
			next = len(rc) - i
		}
		if string(bytes.TrimSuffix(rc[i:i+next], []byte("\r"))) == line {
			return i
		}
		i += next + 1
	}
	return -1
}
