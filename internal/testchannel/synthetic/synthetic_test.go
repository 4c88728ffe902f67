package synthetic_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/synthetic"
	"github.com/condabox/condabox/pkg/conda"
)

// smallNames keeps the per-test channels fast; the default size has its own test.
const smallNames = 1500

// generate returns the repodata.json of subdir for opts.
func generate(t *testing.T, subdir string, opts synthetic.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := synthetic.Generate(&buf, subdir, opts); err != nil {
		t.Fatalf("Generate(%s, %+v): %v", subdir, opts, err)
	}
	return buf.Bytes()
}

// channel decodes both subdirs of opts with the fast decoder.
func channel(t *testing.T, opts synthetic.Options) map[string]*conda.RepoData {
	t.Helper()
	out := map[string]*conda.RepoData{}
	for _, subdir := range synthetic.Subdirs {
		rd, err := conda.ParseRepoData(generate(t, subdir, opts))
		if err != nil {
			t.Fatalf("%s: %v", subdir, err)
		}
		out[subdir] = rd
	}
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	digest := func(seed uint64, subdir string) [32]byte {
		h := sha256.New()
		if err := synthetic.Generate(h, subdir, synthetic.Options{Seed: seed, Names: smallNames}); err != nil {
			t.Fatal(err)
		}
		return [32]byte(h.Sum(nil))
	}
	for _, subdir := range synthetic.Subdirs {
		first, again, other := digest(7, subdir), digest(7, subdir), digest(8, subdir)
		if first != again {
			t.Errorf("%s: seed 7 gave different bytes on a second run", subdir)
		}
		if first == other {
			t.Errorf("%s: seeds 7 and 8 gave the same bytes", subdir)
		}
	}
}

func TestGenerateRejectsBadOptions(t *testing.T) {
	tests := []struct {
		subdir string
		opts   synthetic.Options
		want   string
	}{
		{subdir: "win-64", want: `generate subdir "win-64"`},
		{subdir: "noarch", opts: synthetic.Options{Names: 3}, want: "3 names: want at least"},
	}
	for _, tt := range tests {
		err := synthetic.Generate(io.Discard, tt.subdir, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Generate(%s, %+v) = %v, want an error containing %q", tt.subdir, tt.opts, err, tt.want)
		}
	}
}

func TestGenerateParsesWithBothDecoders(t *testing.T) {
	for _, subdir := range synthetic.Subdirs {
		data := generate(t, subdir, synthetic.Options{Seed: 3, Names: smallNames})
		fast, err := conda.ParseRepoData(data)
		if err != nil {
			t.Fatalf("%s: ParseRepoData: %v", subdir, err)
		}
		var slow conda.RepoData
		if err := json.Unmarshal(data, &slow); err != nil {
			t.Fatalf("%s: encoding/json: %v", subdir, err)
		}
		for _, section := range []map[string]conda.PackageRecord{slow.Packages, slow.Conda} {
			for key, rec := range section {
				rec.FileName = key
				section[key] = rec
			}
		}
		if !reflect.DeepEqual(fast, &slow) {
			t.Errorf("%s: ParseRepoData and encoding/json disagree", subdir)
		}
		if fast.Info.Subdir != subdir || len(fast.Packages) == 0 || len(fast.Conda) == 0 {
			t.Errorf("%s: info %+v, %d .tar.bz2 and %d .conda records", subdir, fast.Info, len(fast.Packages), len(fast.Conda))
		}
	}
}

var packageName = regexp.MustCompile(`^[a-z0-9_][a-z0-9_.-]*$`)

// TestGeneratedRecordsAreWellFormed checks every record of a small channel:
// each depends entry is "name [version [build]]" naming a package of the
// channel (or a virtual package), names are unique to one subdir, and every
// record carries the fields conda-forge's do.
func TestGeneratedRecordsAreWellFormed(t *testing.T) {
	opts := synthetic.Options{Seed: 11, Names: smallNames}
	subdirOf := map[string]string{}
	var all []conda.PackageRecord
	for subdir, rd := range channel(t, opts) {
		for _, rec := range slices.Concat(slices.Collect(maps.Values(rd.Packages)), slices.Collect(maps.Values(rd.Conda))) {
			if s, ok := subdirOf[rec.Name]; ok && s != subdir {
				t.Fatalf("name %s is in both %s and %s", rec.Name, s, subdir)
			}
			subdirOf[rec.Name] = subdir
			if rec.Subdir != subdir || rec.MD5 == "" || len(rec.SHA256) != 64 || rec.Size <= 0 || rec.Timestamp <= 0 || rec.License == "" {
				t.Fatalf("record %s lacks a field: %+v", rec.FileName, rec)
			}
			all = append(all, rec)
		}
	}
	if len(subdirOf) != opts.Names {
		t.Errorf("%d names, want %d", len(subdirOf), opts.Names)
	}
	if perName := len(all) / len(subdirOf); perName < 10 {
		t.Errorf("%d records for %d names: want conda-forge's ten or more builds per name", len(all), len(subdirOf))
	}
	for _, rec := range all {
		for _, dep := range rec.Depends {
			fields := strings.Fields(dep)
			if len(fields) < 1 || len(fields) > 3 || strings.Join(fields, " ") != dep || !packageName.MatchString(fields[0]) {
				t.Fatalf("%s: depends %q is not `name [version [build]]`", rec.FileName, dep)
			}
			if _, ok := subdirOf[fields[0]]; !ok && !strings.HasPrefix(fields[0], "__") {
				t.Fatalf("%s: depends %q names no package of the channel", rec.FileName, dep)
			}
			if len(fields) > 1 {
				if _, err := conda.ParseVersionSpec(fields[1]); err != nil {
					t.Fatalf("%s: depends %q: %v", rec.FileName, dep, err)
				}
			}
			if len(fields) > 2 {
				if _, err := conda.ParseStringMatcher(fields[2]); err != nil {
					t.Fatalf("%s: depends %q: %v", rec.FileName, dep, err)
				}
			}
			if _, err := conda.ParseMatchSpec(dep); err != nil {
				t.Fatalf("%s: depends %q: %v", rec.FileName, dep, err)
			}
		}
	}
}

// TestCoreClosure checks that the scientific Python stack resolves through
// the curated core: the closure of python numpy pandas scipy (following
// every depends name) holds the runtimes conda-forge's does.
func TestCoreClosure(t *testing.T) {
	depNames := map[string][]string{}
	for _, rd := range channel(t, synthetic.Options{Seed: 5, Names: 200}) {
		for _, rec := range slices.Concat(slices.Collect(maps.Values(rd.Packages)), slices.Collect(maps.Values(rd.Conda))) {
			for _, dep := range rec.Depends {
				name, _, _ := strings.Cut(dep, " ")
				depNames[rec.Name] = append(depNames[rec.Name], name)
			}
		}
	}
	closure := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if closure[name] {
			return
		}
		closure[name] = true
		for _, d := range depNames[name] {
			visit(d)
		}
	}
	for _, root := range []string{"python", "numpy", "pandas", "scipy"} {
		visit(root)
	}
	for _, want := range []string{"python_abi", "libblas", "libopenblas", "mkl", "libgfortran5", "python-dateutil",
		"six", "pytz", "python-tzdata", "tzdata", "openssl", "_libgcc_mutex", "__glibc"} {
		if !closure[want] {
			t.Errorf("closure of python numpy pandas scipy lacks %s", want)
		}
	}
	if len(closure) < 35 {
		t.Errorf("closure has %d names, want a non-trivial one (≥ 35): %v", len(closure), closure)
	}
}

// TestDefaultChannelSize checks the default channel is conda-forge sized.
func TestDefaultChannelSize(t *testing.T) {
	if testing.Short() {
		t.Skip("generates ~330 MB; skipped with -short")
	}
	names := map[string]bool{}
	records := 0
	for _, subdir := range synthetic.Subdirs {
		data := generate(t, subdir, synthetic.Options{})
		if subdir == "linux-64" && (len(data) < 200<<20 || len(data) > 300<<20) {
			t.Errorf("linux-64 repodata.json is %d MB, want about 250", len(data)>>20)
		}
		lazy, err := conda.NewLazyRepoData(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range lazy.Names() {
			recs, err := lazy.Records(name)
			if err != nil {
				t.Fatal(err)
			}
			names[name] = true
			records += len(recs)
		}
	}
	if len(names) < 30000 || records < 500000 {
		t.Errorf("%d names and %d records (.conda preferred), want ≥ 30,000 and ≥ 500,000", len(names), records)
	}
}
