package env

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
)

// fishHookTemplate is fish's version of hookTemplate: the same function
// condabox, evaluating `condabox shell activate|deactivate|reactivate -s
// fish` in this shell: piped into source, not captured, since fish 3.6
// lets a command substitution's stderr past the function's redirection
// (condabox activate nope 2>/dev/null). fish has no PS1: the prompt shows the active
// environment by fish_prompt printing CONDA_PROMPT_MODIFIER before the
// prompt it had, as conda's fish integration does.
const fishHookTemplate = `function __condabox_xctivate
	$CONDABOX_EXE shell $argv -s fish | source
	return $pipestatus[1]
end
function condabox --description 'condabox; activate, deactivate and reactivate change this shell'
	switch "$argv[1]"
		case activate deactivate reactivate
			__condabox_xctivate $argv
		case install update remove
			$CONDABOX_EXE $argv; or return
			__condabox_xctivate reactivate
		case '*'
			$CONDABOX_EXE $argv
	end
end
# Deactivating the last environment sets 0: starting from it makes
# activate + deactivate leave the shell's variables as they were.
if not set -q CONDA_SHLVL
	set -gx CONDA_SHLVL 0
end
if functions -q fish_prompt; and not functions -q __condabox_fish_prompt
	functions -c fish_prompt __condabox_fish_prompt
	function fish_prompt
		set -q CONDA_PROMPT_MODIFIER; and echo -n -s $CONDA_PROMPT_MODIFIER
		__condabox_fish_prompt
	end
end
`

// fishHook is Hook for fish, for `condabox shell hook -s fish | source`.
func fishHook(exe, root string) string {
	var b strings.Builder
	b.WriteString("# condabox shell hook for fish\n")
	b.WriteString("set -gx CONDABOX_EXE " + fishQuote(exe) + "\n")
	if root != "" {
		b.WriteString("set -gx MAMBA_ROOT_PREFIX " + fishQuote(root) + "\n")
	}
	b.WriteString(fishHookTemplate)
	return b.String()
}

// fishScript is script for fish: the pre scripts (*.fish) sourced, the
// variables erased and set (PATH as fish's list of folders; no PS1, which
// fish has not), then the post scripts sourced.
func (s *shellState) fishScript(pre, post []string) string {
	var b strings.Builder
	for _, f := range pre {
		b.WriteString("source " + fishQuote(f) + "\n")
	}
	for _, k := range slices.Sorted(maps.Keys(s.before)) {
		if _, ok := s.vars[k]; !ok && k != "PS1" {
			b.WriteString("set -e -g " + k + "\n")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.vars)) {
		old, ok := s.before[k]
		switch {
		case ok && old == s.vars[k], k == "PS1":
		case k == "PATH":
			b.WriteString("set -gx PATH")
			for _, dir := range filepath.SplitList(s.vars[k]) {
				b.WriteString(" " + fishQuote(dir))
			}
			b.WriteString("\n")
		default:
			fmt.Fprintf(&b, "set -gx %s %s\n", k, fishQuote(s.vars[k]))
		}
	}
	for _, f := range post {
		b.WriteString("source " + fishQuote(f) + "\n")
	}
	return b.String()
}

// fishQuote quotes s as one word for fish: in single quotes only \\ and \'
// are escapes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
