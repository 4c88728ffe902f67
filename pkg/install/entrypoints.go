package install

import (
	"fmt"
	"regexp"
	"strings"
)

// entryPoint is one "command = module:function" line of link.json's
// noarch.entry_points.
type entryPoint struct {
	Command, Module, Func string
}

// identifier matches a dotted python name; entry points are generated into
// scripts, so anything else is refused rather than written into code.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// commandName matches the file names entry point commands may have
// ("jupyter-lab", "pip3.11"): no separators, spaces or control bytes.
var commandName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.+-]*$`)

// parseEntryPoint parses "jlpm = jupyterlab.jlpmapp:main".
func parseEntryPoint(s string) (entryPoint, error) {
	cmd, target, ok := strings.Cut(s, "=")
	if !ok {
		return entryPoint{}, fmt.Errorf("parse entry point %q: no '='", s)
	}
	mod, fn, ok := strings.Cut(target, ":")
	if !ok {
		return entryPoint{}, fmt.Errorf("parse entry point %q: no ':' between module and function", s)
	}
	ep := entryPoint{Command: strings.TrimSpace(cmd), Module: strings.TrimSpace(mod), Func: strings.TrimSpace(fn)}
	switch {
	case !commandName.MatchString(ep.Command):
		return entryPoint{}, fmt.Errorf("parse entry point %q: command %q is not a file name", s, ep.Command)
	case !identifier.MatchString(ep.Module):
		return entryPoint{}, fmt.Errorf("parse entry point %q: module %q is not a python name", s, ep.Module)
	case !identifier.MatchString(ep.Func):
		return entryPoint{}, fmt.Errorf("parse entry point %q: function %q is not a python name", s, ep.Func)
	}
	return ep, nil
}

// path is where the entry point's script goes, relative to the prefix.
func (ep entryPoint) path() string {
	return "bin/" + ep.Command
}

// file is the entry point's script for a prefix at prefix.
func (ep entryPoint) file(prefix, pythonExe string) ImageFile {
	data := ep.script(prefix, pythonExe)
	return ImageFile{Path: ep.path(), Type: PathUnixPythonEntryPoint, Mode: 0o755, Data: data,
		Size: int64(len(data)), SHA256: sha256Hex(data)}
}

// script returns the entry point script as conda writes it, with a shebang
// to the environment's python (shortened to /usr/bin/env when too long).
func (ep entryPoint) script(prefix, pythonExe string) []byte {
	importName, _, _ := strings.Cut(ep.Func, ".")
	s := fmt.Sprintf(`#!%s/%s
# -*- coding: utf-8 -*-
import re
import sys

from %s import %s

if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\.pyw?|\.exe)?$', '', sys.argv[0])
    sys.exit(%s())
`, prefix, pythonExe, ep.Module, importName, ep.Func)
	return shortenShebang([]byte(s), prefix)
}
