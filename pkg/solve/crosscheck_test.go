package solve_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/repodata"
	"github.com/condabox/condabox/pkg/solve"
)

// The cross-check compares condabox's solutions with rattler's (resolvo,
// through the rattler-js WebAssembly build of shared/peers). `make
// crosscheck` sets CONDABOX_CROSSCHECK to an npm-installed copy of it.
const crosscheckEnv = "CONDABOX_CROSSCHECK"

// crossVirtual are the virtual packages both solvers get.
var crossVirtual = []conda.VirtualPackage{
	{Name: "__archspec", Version: conda.MustParseVersion("1"), Build: "x86_64"},
	{Name: "__glibc", Version: conda.MustParseVersion("2.36"), Build: "0"},
	{Name: "__linux", Version: conda.MustParseVersion("6.1"), Build: "0"},
	{Name: "__unix", Version: conda.MustParseVersion("0"), Build: "0"},
}

// answer is one solver's result: "name version build" lines sorted by
// name, or unsat with the solver's explanation.
type answer struct {
	lines []string
	unsat string
}

func (a answer) String() string {
	if a.unsat != "" {
		return "unsatisfiable: " + a.unsat
	}
	return strings.Join(a.lines, "\n")
}

// rattlerSolve runs solve.mjs; exit status 1 means unsatisfiable.
func rattlerSolve(t *testing.T, dir, channel string, specs []string) answer {
	t.Helper()
	args := []string{filepath.Join(dir, "solve.mjs"), "-c", channel, "-p", "linux-64"}
	for _, v := range crossVirtual {
		args = append(args, "-V", v.Name+"="+v.Version.String()+"="+v.Build)
	}
	cmd := exec.Command("node", append(args, specs...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		return answer{unsat: strings.TrimSpace(stderr.String())}
	}
	if err != nil {
		t.Fatalf("rattler-js %v: %v\n%s", specs, err, stderr.String())
	}
	var a answer
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if !strings.HasPrefix(line, "time_ms ") && !strings.HasPrefix(line, "__") {
			a.lines = append(a.lines, line)
		}
	}
	return a
}

// condaboxSolve loads the channel through the repodata gateway, as the CLI
// does, and solves.
func condaboxSolve(t *testing.T, channel string, specs []string) (answer, []conda.PackageRecord, *repodata.Index) {
	t.Helper()
	ch, err := conda.ParseChannel("file://"+channel, conda.ChannelConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var ms []conda.MatchSpec
	for _, s := range specs {
		m, err := conda.ParseMatchSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	gw, err := repodata.New(repodata.Options{PkgsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := gw.Load(t.Context(), []conda.Channel{ch}, []conda.Platform{conda.PlatformLinux64}, ms)
	if err != nil {
		t.Fatal(err)
	}
	var virtual []conda.PackageRecord
	for _, v := range crossVirtual {
		virtual = append(virtual, v.Record())
	}
	recs, err := solve.Solve(t.Context(), ix, solve.Request{Specs: ms, Virtual: virtual, Channels: []conda.Channel{ch}})
	var unsat *solve.UnsatisfiableError
	if errors.As(err, &unsat) {
		return answer{unsat: strings.Join(unsat.Problems, "; ")}, nil, ix
	}
	if err != nil {
		t.Fatal(err)
	}
	var a answer
	for _, r := range recs {
		a.lines = append(a.lines, r.Name+" "+r.Version.String()+" "+r.Build)
	}
	slices.Sort(a.lines)
	return a, recs, ix
}

// documented are the differences docs/solver.md explains, by spec list.
var documented = map[string]string{
	`["issue_717"]`:      "unparsable metadata: pkg/conda reads the constraint rattler rejects",
	`["track-features"]`: "track features are counted, as conda does; resolvo only asks whether there are any",
}

// crossCase solves specs with both solvers and reports what differs.
// A disagreement on whether a solution exists, or an invalid condabox
// solution, is an error; two different valid solutions are logged with
// both answers, for docs/solver.md.
func crossCase(t *testing.T, dir, channel string, specs []string) (differs bool) {
	t.Helper()
	theirs := rattlerSolve(t, dir, channel, specs)
	ours, recs, ix := condaboxSolve(t, channel, specs)
	ms := make([]conda.MatchSpec, len(specs))
	for i, s := range specs {
		ms[i], _ = conda.ParseMatchSpec(s)
	}
	var virtual []conda.PackageRecord
	for _, v := range crossVirtual {
		virtual = append(virtual, v.Record())
	}
	switch {
	case documented[fmt.Sprintf("%q", specs)] != "":
		if !slices.Equal(ours.lines, theirs.lines) || ours.unsat != theirs.unsat {
			t.Logf("DOCUMENTED DIFFERENCE %q (%s)\ncondabox:\n%s\nrattler:\n%s", specs, documented[fmt.Sprintf("%q", specs)], ours, theirs)
		}
		return true
	case (ours.unsat == "") != (theirs.unsat == ""):
		t.Errorf("%q: solvers disagree on whether a solution exists\ncondabox:\n%s\nrattler:\n%s", specs, ours, theirs)
		return true
	case ours.unsat != "":
		return false
	}
	if err := solve.Validate(append(recs, virtual...), ms); err != nil {
		t.Errorf("%q: condabox's solution is not valid: %v", specs, err)
	}
	if slices.Equal(ours.lines, theirs.lines) {
		return false
	}
	// rattler's answer, checked with the same rules, tells whether the
	// difference is a preference or a mistake of one side.
	verdict := "rattler's answer is valid too: a difference of preference"
	if theirRecs, err := recordsOf(ix, theirs.lines); err != nil {
		verdict = "rattler's answer cannot be checked: " + err.Error()
	} else if err := solve.Validate(append(theirRecs, virtual...), ms); err != nil {
		verdict = "rattler's answer is not valid by condabox's rules: " + err.Error()
	}
	t.Logf("DIFFERENCE %q (%s)\ncondabox:\n%s\nrattler:\n%s", specs, verdict, ours, theirs)
	return true
}

// recordsOf finds the records "name version build" lines name.
func recordsOf(ix *repodata.Index, lines []string) ([]conda.PackageRecord, error) {
	var out []conda.PackageRecord
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("line %q", line)
		}
		i := slices.IndexFunc(ix.Records(f[0]), func(r conda.PackageRecord) bool { return r.Version.String() == f[1] && r.Build == f[2] })
		if i < 0 {
			return nil, fmt.Errorf("no record %s", line)
		}
		out = append(out, ix.Records(f[0])[i])
	}
	return out, nil
}

func crosscheckDir(t *testing.T) string {
	dir := os.Getenv(crosscheckEnv)
	if dir == "" {
		t.Skipf("set %s to an npm-installed copy of shared/peers/rattler-js (make crosscheck does)", crosscheckEnv)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	return dir
}

// genChannel writes a random channel — names with several versions and
// builds, dependencies (mostly on later names, so that solutions chain) with
// version ranges drawn from the target's versions, some constraints — and
// returns specs on its first names.
func genChannel(t *testing.T, seed uint64) (string, []string) {
	rng := rand.New(rand.NewPCG(seed, 7))
	n := 6 + rng.IntN(9)
	allVersions := []string{"1.0", "1.1", "1.2", "2.0", "2.1", "3.0"}
	versions := make([][]string, n)
	for i := range versions {
		versions[i] = allVersions[:2+rng.IntN(len(allVersions)-1)]
	}
	name := func(i int) string { return fmt.Sprintf("pkg%d", i) }
	// spec returns a spec on name i: any version half of the time, else a
	// range around one of its versions.
	spec := func(i int) string {
		if rng.IntN(2) == 0 {
			return name(i)
		}
		v := versions[i][rng.IntN(len(versions[i]))]
		return name(i) + []string{" >=" + v, " <" + v, " ==" + v, " !=" + v, " " + v[:1] + ".*", " >=" + v + ",<3"}[rng.IntN(6)]
	}
	var recs []conda.PackageRecord
	for i := range n {
		for _, v := range versions[i] {
			for b := range 1 + rng.IntN(2) {
				r := conda.PackageRecord{
					Name: name(i), Version: conda.MustParseVersion(v), Build: fmt.Sprintf("h%d_%d", i, b),
					BuildNumber: uint64(b), Subdir: "linux-64", Depends: []string{},
				}
				for range 1 + rng.IntN(3) {
					d := i + 1 + rng.IntN(max(1, n-i-1))
					if rng.IntN(6) == 0 {
						d = rng.IntN(n) // sometimes backwards: cycles
					}
					if d < n && d != i {
						r.Depends = append(r.Depends, spec(d))
					}
				}
				if rng.IntN(5) == 0 {
					if d := rng.IntN(n); d != i {
						r.Constrains = []string{spec(d)}
					}
				}
				r.FileName = r.Dist() + ".tar.bz2"
				recs = append(recs, r)
			}
		}
	}
	dir := t.TempDir()
	if err := index.WriteChannel(dir, recs, index.Options{}); err != nil {
		t.Fatal(err)
	}
	var specs []string
	for range 1 + rng.IntN(3) {
		if s := spec(rng.IntN(min(n, 4))); !slices.ContainsFunc(specs, func(o string) bool { return strings.Fields(o)[0] == strings.Fields(s)[0] }) {
			specs = append(specs, s)
		}
	}
	return dir, specs
}

func TestCrosscheckGenerated(t *testing.T) {
	dir := crosscheckDir(t)
	const cases = 40
	differ := 0
	for seed := range uint64(cases) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			channel, specs := genChannel(t, seed)
			if crossCase(t, dir, channel, specs) {
				differ++
			}
		})
	}
	t.Logf("%d of %d generated cases differ", differ, cases)
}

// cleanChannel copies a real repodata.json into a channel folder rattler-js
// accepts: "depends": null and "constrains": null become empty lists, and
// an empty noarch subdir is added.
func cleanChannel(t *testing.T, src string) string {
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"packages", "packages.conda"} {
		pkgs, _ := doc[key].(map[string]any)
		for _, p := range pkgs {
			rec := p.(map[string]any)
			for _, list := range []string{"depends", "constrains"} {
				if v, ok := rec[list]; ok && v == nil {
					rec[list] = []any{}
				}
			}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for subdir, body := range map[string][]byte{"linux-64": out, "noarch": []byte(`{"info":{"subdir":"noarch"},"packages":{},"packages.conda":{}}`)} {
		if err := os.MkdirAll(filepath.Join(dir, subdir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, subdir, "repodata.json"), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCrosscheckRealRepodata(t *testing.T) {
	dir := crosscheckDir(t)
	for _, tc := range []struct {
		repodata string
		specs    [][]string
	}{
		{"dummy/linux-64/repodata.json", [][]string{
			{"foo"}, {"foobar"}, {"bors<2"}, {"xfoo"}, {"xbar"}, {"bar"}, {"baz"}, {"issue_717"},
			{"track-features"}, {"foo<4", "foobar"}, {"cuda-version"}, {"conda-only"},
		}},
		{"conda-forge-numpy/linux-64/repodata.json", [][]string{
			{"numpy"}, {"python=3.11", "numpy"}, {"numpy<2"}, {"python=3.10"}, {"numpy", "python<3.10"},
			{"libopenblas"}, {"numpy=1.26", "python=3.12"},
		}},
	} {
		t.Run(tc.repodata, func(t *testing.T) {
			channel := cleanChannel(t, testchannel.RealData(t, "repodata", filepath.FromSlash(tc.repodata)))
			for _, specs := range tc.specs {
				crossCase(t, dir, channel, specs)
			}
		})
	}
}
