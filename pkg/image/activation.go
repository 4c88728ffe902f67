package image

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	condaenv "github.com/condabox/condabox/pkg/env"
)

// What activation can be baked into an image config, which holds only fixed
// KEY=VALUE pairs:
//
//   - etc/conda/env_vars.d/*.json of the packages (objects of strings), in
//     file name order;
//   - in etc/conda/activate.d/*.sh, lines `export KEY=VALUE` whose value is a
//     literal (bare word, 'single' or "double" quoted) that may name the
//     prefix as $CONDA_PREFIX or ${CONDA_PREFIX}.
//
// Everything else in an activate.d script (conditionals, commands, other
// variable references, functions, PATH edits) runs only in a shell that
// sources it; Build reports each such line as a warning. conda-meta/state's
// env_vars are Options.Variables (an environment file's variables:), baked
// after the env_vars.d files and written to conda-meta/state. A package's
// post-link script (bin/.NAME-post-link.sh) is not run either: nothing of
// the image runs at build time; Build warns of it too.

const (
	activateDir = "etc/conda/activate.d/"
	envVarsDir  = "etc/conda/env_vars.d/"
)

// exportLine matches `export KEY=VALUE` with optional surrounding blanks.
var exportLine = regexp.MustCompile(`^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$`)

// prefixRef is a reference to the prefix: $CONDA_PREFIX or ${CONDA_PREFIX}.
var prefixRef = regexp.MustCompile(`\$\{CONDA_PREFIX\}|\$CONDA_PREFIX\b`)

// bareValue is a value that needs no quoting and holds no expansion.
var bareValue = regexp.MustCompile(`^[A-Za-z0-9_./:,@%+=-]*$`)

// activationFile is one activation script or env_vars.d file of the
// environment, by prefix-relative path.
type activationFile struct {
	Path string
	Data []byte
}

// isActivationFile reports whether a prefix-relative path is one of those
// activation looks at.
func isActivationFile(rel string) bool {
	return (strings.HasPrefix(rel, activateDir) && strings.HasSuffix(rel, ".sh")) ||
		(strings.HasPrefix(rel, envVarsDir) && strings.HasSuffix(rel, ".json"))
}

// activationEnv returns the variables the files set, sorted by name, and
// a warning for each line it could not bake. env_vars.d files are applied
// before activate.d scripts, as conda activates.
func activationEnv(files []activationFile, prefix string) (map[string]string, []string, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	env := map[string]string{}
	var warnings []string
	for _, f := range files {
		if !strings.HasPrefix(f.Path, envVarsDir) {
			continue
		}
		vars, err := condaenv.ParseEnvVars(f.Path, f.Data)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range vars {
			env[k] = v
		}
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Path, activateDir) {
			continue
		}
		s := bufio.NewScanner(bytes.NewReader(f.Data))
		for n := 1; s.Scan(); n++ {
			line := strings.TrimSpace(s.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := bakeExport(line, prefix)
			if !ok {
				warnings = append(warnings, fmt.Sprintf("%s line %d not baked into the image config (needs a shell): %s", f.Path, n, line))
				continue
			}
			env[k] = v
		}
		if err := s.Err(); err != nil && err != io.EOF {
			return nil, nil, fmt.Errorf("read %s: %w", f.Path, err)
		}
	}
	return env, warnings, nil
}

// bakeExport returns the variable a literal export line sets.
func bakeExport(line, prefix string) (key, value string, ok bool) {
	m := exportLine.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	key, v := m[1], m[2]
	doubleQuoted := len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"'
	switch {
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		v = v[1 : len(v)-1]
		return key, v, !strings.Contains(v, "'")
	case doubleQuoted:
		v = v[1 : len(v)-1]
	}
	v = prefixRef.ReplaceAllLiteralString(v, prefix)
	// Any other expansion, escape or quote needs a shell; so do blanks and
	// shell operators outside quotes.
	if strings.ContainsAny(v, "$`\\\"'") || (!doubleQuoted && !bareValue.MatchString(v)) {
		return "", "", false
	}
	return key, v, true
}
