package realistic

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
)

// TestPythonBytecode installs python from the channel and checks that the
// standard library comes with its .pyc and that imports use them: none is
// stale after extraction, none is written at run time.
func TestPythonBytecode(t *testing.T) {
	channel := buildForTest(t)
	prefix := filepath.Join(t.TempDir(), "env")
	install(t, channel, prefix, closure(t, channelRecords(t, channel), ".conda", "linux-64", "python"))

	t.Run("every module compiled", func(t *testing.T) {
		excluded := regexp.MustCompile(compileExclude)
		var sources, pycs []string
		err := filepath.WalkDir(filepath.Join(prefix, stdlibDir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err // symlinked sources count: compileall compiles them under their own name
			}
			rel, err := filepath.Rel(prefix, p)
			rel = filepath.ToSlash(rel)
			switch {
			case strings.HasSuffix(rel, ".py") && !excluded.MatchString(rel):
				sources = append(sources, rel)
			case strings.HasSuffix(rel, ".pyc"):
				pycs = append(pycs, rel)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, s := range sources {
			want = append(want, pycPath(s))
		}
		slices.Sort(want)
		slices.Sort(pycs)
		// Exactly one level 0 .pyc per source: no optimized levels, no orphans.
		if !slices.Equal(pycs, want) {
			t.Errorf("installed .pyc differ from one %s per .py source:\nmissing: %q\nunexpected: %q",
				pycSuffix, difference(want, pycs), difference(pycs, want))
		}
		if len(sources) < 500 {
			t.Errorf("%d stdlib sources, want Debian's full standard library (> 500)", len(sources))
		}
	})

	t.Run("imports load the .pyc", func(t *testing.T) {
		cmd := exec.Command(filepath.Join(prefix, "bin", "python3"), "-v", "-c", "import json, email.parser")
		cmd.Env = cleanEnv(t.TempDir())
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("python -v: %v\n%s", err, stderr.String())
		}
		log := stderr.String()
		for _, src := range []string{"json/__init__.py", "json/decoder.py", "email/parser.py", "email/feedparser.py", "sitecustomize.py"} {
			pyc := filepath.Join(prefix, pycPath(path.Join(stdlibDir, src)))
			if !strings.Contains(log, "# code object from '"+pyc+"'") {
				t.Errorf("python -v did not load %s from %s", src, pyc)
			}
		}
		for _, line := range strings.Split(log, "\n") {
			// "bytecode is stale": a source mtime or size differs from the
			// .pyc's; "created": the interpreter compiled a module itself.
			if strings.Contains(line, "bytecode is stale") || strings.HasPrefix(line, "# created ") {
				t.Errorf("python -v: %s", line)
			}
		}
	})
}

// TestPythonPackageReproducible makes the python package twice, in
// different temporary directories, and wants identical archives: the
// compiled .pyc must depend on nothing but the Debian files.
func TestPythonPackageReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("realistic channel: repackages Debian's python; skipped with -short")
	}
	skipUnlessBuildable(t)
	ctx := t.Context()
	versions, err := candidateVersions(ctx, allDebs(recipes), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := plan(recipes, versions)
	if err != nil {
		t.Fatal(err)
	}
	pl := plans[slices.IndexFunc(plans, func(pl *planned) bool { return pl.recipe.name == "python" })]
	debDir := filepath.Join(testCache, "debs")
	if err := os.MkdirAll(debDir, 0o755); err != nil {
		t.Fatal(err)
	}
	debPaths, err := downloadDebs(ctx, debDir, versions, pl.recipe.debs, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	debs, err := readDebs(ctx, pl.recipe, debPaths)
	if err != nil {
		t.Fatal(err)
	}
	var sums []string
	for range 2 {
		p, _, err := makePackage(ctx, pl, debs, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if n := countPyc(p.Files); n < 500 {
			t.Fatalf("python package has %d .pyc, want the standard library's (> 500)", n)
		}
		rec, err := pkgbuild.Write(&bytes.Buffer{}, p, pkgbuild.FormatConda)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, rec.SHA256)
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds of python differ: sha256 %s and %s", sums[0], sums[1])
	}
}

// countPyc counts the package's .pyc files.
func countPyc(files []pkgbuild.File) int {
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f.Path, ".pyc") {
			n++
		}
	}
	return n
}

// pycPath is where CPython 3.11 caches the bytecode of the source file p
// ("lib/python3.11/json/__init__.py" → "lib/python3.11/json/__pycache__/__init__.cpython-311.pyc").
func pycPath(p string) string {
	return path.Join(path.Dir(p), "__pycache__", strings.TrimSuffix(path.Base(p), ".py")+pycSuffix)
}

// difference returns the elements of a not in b.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
