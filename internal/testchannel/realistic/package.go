package realistic

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/conda"
)

// TextPlaceholder is the prefix placeholder of text files in this channel:
// conda's classic one. Installers replace it with the install prefix.
const TextPlaceholder = "/opt/anaconda1anaconda2anaconda3"

// BinaryPlaceholder is the prefix placeholder compiled into binaries: the
// classic one padded to 255 bytes like conda-build's "_placehold" host
// prefixes, so that any install prefix up to that length fits in its place.
var BinaryPlaceholder = (TextPlaceholder + strings.Repeat("_placehold", 23))[:255]

// pathRule moves Debian paths starting with from to conda paths starting with to.
type pathRule struct{ from, to string }

// pathRules says where Debian files go in a conda package, by noarch kind.
// Files no rule matches (docs, man pages, lintian overrides …) are left out.
var pathRules = map[conda.NoarchType][]pathRule{
	conda.NoarchNone: {
		{"usr/lib/x86_64-linux-gnu/", "lib/"},
		{"lib/x86_64-linux-gnu/", "lib/"},
		{"usr/lib/python3.11/", "lib/python3.11/"},
		{"usr/bin/", "bin/"},
		{"usr/include/", "include/"},
		{"etc/ssl/", "ssl/"},
	},
	// conda stores noarch python files relative to site-packages and
	// scripts in python-scripts/; the installer moves them into place.
	conda.NoarchPython: {
		{"usr/lib/python3/dist-packages/", "site-packages/"},
		{"usr/bin/", "python-scripts/"},
	},
}

// condaPath maps a Debian path to its conda path, or reports false when the
// file is left out.
func condaPath(r *recipe, debPath string) (string, bool) {
	for _, rule := range pathRules[r.noarch] {
		if rest, ok := strings.CutPrefix(debPath, rule.from); ok && rest != "" {
			p := rule.to + rest
			return p, !r.excluded(p)
		}
	}
	return "", false
}

// excluded reports whether p or one of its parent directories matches an
// exclude pattern of the recipe.
func (r *recipe) excluded(p string) bool {
	for q := p; q != "." && q != "/"; q = path.Dir(q) {
		for _, pat := range r.exclude {
			if ok, _ := path.Match(pat, q); ok {
				return true
			}
		}
	}
	return false
}

// linkInfo is what the channel-wide linkage check needs of a package.
type linkInfo struct {
	Provides []string `json:"provides"` // sonames of lib/ (files and symlinks)
	Needs    []string `json:"needs"`    // DT_NEEDED outside glibc, of all ELF files
}

// makePackage turns the Debian files of a planned package into a conda
// package: files moved to conda paths, ELF files given an $ORIGIN-relative
// RPATH, /usr/bin shebangs turned into prefix placeholders, entry points
// taken from the wheel metadata, python's standard library compiled.
func makePackage(ctx context.Context, pl *planned, debs map[string][]debEntry, tmpDir string) (*pkgbuild.Package, linkInfo, error) {
	r := pl.recipe
	p := &pkgbuild.Package{Record: pl.record, About: pl.about(), RunExports: pl.runExports}
	var info linkInfo
	if r.noarch == conda.NoarchPython {
		for _, d := range r.debs {
			eps, err := entryPoints(debs[d])
			if err != nil {
				return nil, info, fmt.Errorf("%s: %w", d, err)
			}
			p.EntryPoints = append(p.EntryPoints, eps...)
		}
	}
	from := map[string]string{} // conda path → Debian package, to report clashes
	for _, d := range r.debs {
		for _, e := range debs[d] {
			if e.Mode.IsDir() {
				continue // conda packages list files; directories come with them
			}
			to, ok := condaPath(r, e.Name)
			if !ok || isEntryPointScript(p.EntryPoints, to) {
				continue
			}
			if prev, dup := from[to]; dup {
				return nil, info, fmt.Errorf("%s: both %s and %s ship %s", r.name, prev, d, to)
			}
			from[to] = d
			f := pkgbuild.File{Path: to, Mode: e.Mode, Data: e.Data, LinkTarget: e.LinkTarget}
			if err := relocate(ctx, r, &f, tmpDir, &info); err != nil {
				return nil, info, fmt.Errorf("%s: %s from %s: %w", r.name, to, d, err)
			}
			p.Files = append(p.Files, f)
		}
	}
	if err := applyPatches(r, p.Files); err != nil {
		return nil, info, err
	}
	if r.finish != nil {
		if err := r.finish(p, debs); err != nil {
			return nil, info, err
		}
	}
	if r.compileStdlib {
		if err := compileStdlib(ctx, p, tmpDir); err != nil {
			return nil, info, fmt.Errorf("%s: %w", r.name, err)
		}
	}
	if len(p.Files) == 0 && r.finish == nil {
		return nil, info, fmt.Errorf("%s: no files taken from %s", r.name, strings.Join(r.debs, ", "))
	}
	slices.SortFunc(p.Files, func(a, b pkgbuild.File) int { return strings.Compare(a.Path, b.Path) })
	slices.Sort(info.Needs)
	info.Needs = slices.Compact(info.Needs)
	return p, info, nil
}

// relocate makes one file work from any prefix and records its linkage.
func relocate(ctx context.Context, r *recipe, f *pkgbuild.File, tmpDir string, info *linkInfo) error {
	if f.Mode&fs.ModeSymlink != 0 {
		if isSoname(f.Path) {
			info.Provides = append(info.Provides, path.Base(f.Path))
		}
		if !path.IsAbs(f.LinkTarget) {
			return nil
		}
		// An absolute link into /usr works only on Debian itself; point it
		// at the same file inside the prefix.
		target, ok := condaPath(r, strings.TrimPrefix(f.LinkTarget, "/"))
		if !ok {
			return fmt.Errorf("absolute symlink to %s, which the package does not ship (exclude it?)", f.LinkTarget)
		}
		rel, err := filepath.Rel(path.Dir(f.Path), target)
		if err != nil {
			return err
		}
		f.LinkTarget = filepath.ToSlash(rel)
		return nil
	}
	if isELF(f.Data) {
		needs, err := elfNeeds(f.Data)
		if err != nil {
			return err
		}
		if isSoname(f.Path) {
			info.Provides = append(info.Provides, path.Base(f.Path))
		}
		if len(needs) == 0 {
			return nil
		}
		info.Needs = append(info.Needs, needs...)
		f.Data, err = setRPath(ctx, tmpDir, f.Data, rpathFor(f.Path))
		return err
	}
	if r.noarch == conda.NoarchNone && strings.HasPrefix(f.Path, "bin/") {
		placeholderShebang(f)
	}
	return nil
}

// rpathFor is the RPATH that makes the loader search the prefix's lib/ from
// the file at p: "$ORIGIN/../lib" for bin/x, "$ORIGIN" for lib/x.
func rpathFor(p string) string {
	// Not path.Join: it would clean "$ORIGIN/.." away.
	rel, err := filepath.Rel(path.Dir(p), "lib")
	if err != nil || rel == "." {
		return "$ORIGIN"
	}
	return "$ORIGIN/" + filepath.ToSlash(rel)
}

// isSoname reports whether p is a shared library directly in lib/, where
// the dynamic loader looks through RPATH.
func isSoname(p string) bool {
	return path.Dir(p) == "lib" && strings.Contains(path.Base(p), ".so")
}

// placeholderShebang rewrites a "#!/usr/bin/python3.11" shebang to the
// interpreter in the install prefix, as conda-build leaves it: behind a text
// prefix placeholder.
func placeholderShebang(f *pkgbuild.File) {
	line, rest, _ := bytes.Cut(f.Data, []byte("\n"))
	interp := bytes.TrimSpace(bytes.TrimPrefix(line, []byte("#!")))
	if !bytes.HasPrefix(line, []byte("#!")) || !bytes.HasPrefix(interp, []byte("/usr/bin/")) {
		return
	}
	var b bytes.Buffer
	b.WriteString("#!" + TextPlaceholder + "/bin/")
	b.Write(bytes.TrimPrefix(interp, []byte("/usr/bin/")))
	b.WriteByte('\n')
	b.Write(rest)
	f.Data = b.Bytes()
	f.PrefixPlaceholder = TextPlaceholder
}

// applyPatches applies the recipe's text edits; one that finds nothing to
// replace is an error, so a changed Debian file cannot slip through.
func applyPatches(r *recipe, files []pkgbuild.File) error {
	for _, pt := range r.patches {
		i := slices.IndexFunc(files, func(f pkgbuild.File) bool { return f.Path == pt.path })
		if i < 0 {
			return fmt.Errorf("%s: patch %s: no such file in the package", r.name, pt.path)
		}
		if !bytes.Contains(files[i].Data, []byte(pt.old)) {
			return fmt.Errorf("%s: patch %s: text %q not found", r.name, pt.path, pt.old)
		}
		files[i].Data = bytes.ReplaceAll(files[i].Data, []byte(pt.old), []byte(pt.new))
	}
	return nil
}

// entryPoints returns the console_scripts of the wheel or egg metadata
// (entry_points.txt) among a Debian python package's files, in conda's
// "cmd = module:func" form.
func entryPoints(entries []debEntry) ([]string, error) {
	var eps []string
	for _, e := range entries {
		if path.Base(e.Name) != "entry_points.txt" {
			continue
		}
		got, err := parseConsoleScripts(e.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		eps = append(eps, got...)
	}
	return eps, nil
}

// parseConsoleScripts reads the [console_scripts] section of an
// entry_points.txt (an INI file) as "name = module:func" lines.
func parseConsoleScripts(data []byte) ([]string, error) {
	var eps []string
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: section header %q has no closing ]", n, line)
			}
			section = strings.TrimSpace(line[1 : len(line)-1])
		case section == "console_scripts":
			name, target, ok := strings.Cut(line, "=")
			name, target = strings.TrimSpace(name), strings.TrimSpace(target)
			if !ok || name == "" || !strings.Contains(target, ":") {
				return nil, fmt.Errorf("line %d: entry point %q: want \"name = module:func\"", n, line)
			}
			eps = append(eps, name+" = "+target)
		}
	}
	return eps, sc.Err()
}

// isEntryPointScript reports whether a python-scripts/ file is the wrapper
// Debian generated for an entry point; conda installers write their own.
func isEntryPointScript(eps []string, p string) bool {
	name, ok := strings.CutPrefix(p, "python-scripts/")
	return ok && slices.ContainsFunc(eps, func(ep string) bool {
		cmd, _, _ := strings.Cut(ep, " = ")
		return cmd == name
	})
}
