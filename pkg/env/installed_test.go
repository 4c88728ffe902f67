package env

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/install"
)

// The package's tests share one -update flag: another test file of the
// package may define it already (package variables are set before init runs).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata")
	}
}

// updateGolden reports whether -update was given.
func updateGolden() bool { return flag.Lookup("update").Value.String() == "true" }

// fixtureHistory asks for python, requests and mylib, removes mylib (a
// --force remove that left it installed) and asks for python again.
const fixtureHistory = `==> 2024-01-01 00:00:00 <==
# cmd: condabox create -n demo python=3.11 requests mylib
+conda-forge/linux-64::python-3.11.9-h_0
# update specs: ['python=3.11', 'requests', 'mylib']
==> 2024-01-02 00:00:00 <==
# cmd: condabox remove --force -n demo mylib
# remove specs: ['mylib']
==> 2024-01-03 00:00:00 <==
# cmd: condabox install -n demo "python>=3.11"
# update specs: ["python>=3.11"]
`

// fixtureRecord makes a conda-meta record with digests derived from its
// file name.
func fixtureRecord(channel, subdir, name, version, build, requested string) *install.PrefixRecord {
	fn := name + "-" + version + "-" + build + ".conda"
	m, s := md5.Sum([]byte(fn)), sha256.Sum256([]byte(fn))
	return &install.PrefixRecord{
		PackageRecord: conda.PackageRecord{
			Name: name, Version: conda.MustParseVersion(version), Build: build, BuildNumber: 1, Subdir: subdir,
			FileName: fn, URL: channel + "/" + subdir + "/" + fn, Channel: channel + "/" + subdir,
			MD5: hex.EncodeToString(m[:]), SHA256: hex.EncodeToString(s[:]),
		},
		RequestedSpec: requested,
	}
}

// writePrefix writes an environment of recs (and history, when not "")
// under root/envs/name and returns its folder.
func writePrefix(t *testing.T, root, name, history string, recs ...*install.PrefixRecord) string {
	t.Helper()
	prefix := filepath.Join(root, "envs", name)
	meta := filepath.Join(prefix, "conda-meta")
	if err := os.MkdirAll(meta, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(meta, r.Dist()+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if history != "" {
		if err := os.WriteFile(filepath.Join(meta, "history"), []byte(history), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return prefix
}

// fixture writes the demo environment: packages of two channels, one
// requested only through requested_spec.
func fixture(t *testing.T) (root, prefix string) {
	t.Helper()
	root = t.TempDir()
	const cf, private = "https://conda.anaconda.org/conda-forge", "https://repo.example.com/private"
	prefix = writePrefix(t, root, "demo", fixtureHistory,
		fixtureRecord(cf, "linux-64", "python", "3.11.9", "h_0", ""),
		fixtureRecord(cf, "noarch", "requests", "2.31.0", "pyhd_0", ""),
		fixtureRecord(private, "linux-64", "mylib", "1.0", "0", ""),
		fixtureRecord(cf, "linux-64", "zlib", "1.3.1", "h_1", "zlib >=1.3"),
	)
	return root, prefix
}

// lookupOf returns a LookupEnv of the given variables only.
func lookupOf(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// checkGolden compares got with testdata/installed/name, or rewrites it
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "installed", name)
	if updateGolden() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (-update rewrites it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestInstalledFormats(t *testing.T) {
	root, prefix := fixture(t)
	for _, tc := range []struct {
		golden string
		filter string
		write  func(in *Installed, w *bytes.Buffer) error
	}{
		{"list.txt", "", func(in *Installed, w *bytes.Buffer) error { return in.WriteList(w) }},
		{"list-filtered.txt", "py|^zl", func(in *Installed, w *bytes.Buffer) error { return in.WriteList(w) }},
		{"list.json", "", func(in *Installed, w *bytes.Buffer) error { return in.WriteListJSON(w) }},
		{"export.yml", "", func(in *Installed, w *bytes.Buffer) error { return in.WriteExport(w, ExportOptions{}) }},
		{"export-no-build-channel.yml", "", func(in *Installed, w *bytes.Buffer) error {
			return in.WriteExport(w, ExportOptions{NoBuild: true, Channels: []string{"defaults", "conda-forge"}})
		}},
		{"export-from-history.yml", "", func(in *Installed, w *bytes.Buffer) error {
			return in.WriteExport(w, ExportOptions{FromHistory: true, MD5: true})
		}},
		{"export-md5.json", "", func(in *Installed, w *bytes.Buffer) error {
			return in.WriteExportJSON(w, ExportOptions{MD5: true, SHA256: true})
		}},
		{"explicit.txt", "", func(in *Installed, w *bytes.Buffer) error { return in.WriteExplicit(w, ExplicitOptions{}) }},
		{"explicit-md5.txt", "", func(in *Installed, w *bytes.Buffer) error { return in.WriteExplicit(w, ExplicitOptions{MD5: true}) }},
		{"explicit-sha256.txt", "", func(in *Installed, w *bytes.Buffer) error {
			return in.WriteExplicit(w, ExplicitOptions{SHA256: true})
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			in, err := ReadInstalled(context.Background(), CreateRequest{Name: "demo", LookupEnv: lookupOf(map[string]string{"MAMBA_ROOT_PREFIX": root})})
			if err != nil {
				t.Fatal(err)
			}
			if err := in.Filter(tc.filter, false); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := tc.write(in, &b); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.golden, strings.ReplaceAll(b.String(), prefix, "<PREFIX>"))
		})
	}
}

// TestExportReadsBack checks that what export writes parses as the file
// it claims to be and names exactly the installed packages.
func TestExportReadsBack(t *testing.T) {
	root, _ := fixture(t)
	in, err := ReadInstalled(context.Background(), CreateRequest{Name: "demo", LookupEnv: lookupOf(map[string]string{"MAMBA_ROOT_PREFIX": root})})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []ExportOptions{{}, {MD5: true}, {SHA256: true, MD5: true}} {
		var b bytes.Buffer
		if err := in.WriteExport(&b, opts); err != nil {
			t.Fatal(err)
		}
		f, err := ParseEnvironmentFile("export.yml", b.Bytes())
		if err != nil {
			t.Fatalf("%+v: %v\n%s", opts, err, b.String())
		}
		if len(f.Dependencies) != len(in.Records) || f.Name != "demo" {
			t.Fatalf("%+v: name %q, %d dependencies for %d records", opts, f.Name, len(f.Dependencies), len(in.Records))
		}
		for i, d := range f.Dependencies {
			for j, r := range in.Records {
				if got, want := d.Spec.Matches(&r.PackageRecord), i == j; got != want {
					t.Errorf("%+v: spec %s matches %s: %v, want %v", opts, d.Spec, r.Dist(), got, want)
				}
			}
		}
	}
	for _, opts := range []ExplicitOptions{{}, {MD5: true}, {SHA256: true}} {
		var b bytes.Buffer
		if err := in.WriteExplicit(&b, opts); err != nil {
			t.Fatal(err)
		}
		e, err := ParseExplicit("explicit.txt", b.Bytes())
		if err != nil {
			t.Fatalf("%+v: %v\n%s", opts, err, b.String())
		}
		if len(e.Records) != len(in.Records) || e.Platform != "linux-64" {
			t.Fatalf("%+v: %d records for %d, platform %q", opts, len(e.Records), len(in.Records), e.Platform)
		}
		for i, got := range e.Records {
			want := in.Records[i]
			wantMD5, wantSHA := "", ""
			if opts.MD5 {
				wantMD5 = want.MD5
			}
			if opts.SHA256 {
				wantSHA = want.SHA256
			}
			if got.URL != want.URL || got.Dist() != want.Dist() || got.MD5 != wantMD5 || got.SHA256 != wantSHA {
				t.Errorf("%+v: read back %s %s md5 %q sha256 %q, want %s %s", opts, got.URL, got.Dist(), got.MD5, got.SHA256, want.URL, want.Dist())
			}
		}
	}
	if err := in.WriteExplicit(&bytes.Buffer{}, ExplicitOptions{MD5: true, SHA256: true}); err == nil {
		t.Error("explicit export with md5 and sha256: no error")
	}
}

func TestEnvironmentPrefix(t *testing.T) {
	for _, tc := range []struct {
		name    string
		req     CreateRequest
		env     map[string]string
		want    string
		wantErr string
	}{
		{"prefix", CreateRequest{Prefix: "/opt/env"}, map[string]string{"CONDA_PREFIX": "/active"}, "/opt/env", ""},
		{"relative prefix", CreateRequest{Prefix: "env", WorkDir: "/work"}, nil, "/work/env", ""},
		{"name", CreateRequest{Name: "demo"}, map[string]string{"MAMBA_ROOT_PREFIX": "/root", "CONDA_PREFIX": "/active"}, "/root/envs/demo", ""},
		{"base by name", CreateRequest{Name: "base"}, map[string]string{"MAMBA_ROOT_PREFIX": "/root"}, "/root", ""},
		{"active", CreateRequest{}, map[string]string{"MAMBA_ROOT_PREFIX": "/root", "CONDA_PREFIX": "/active"}, "/active", ""},
		{"base without active", CreateRequest{}, map[string]string{"MAMBA_ROOT_PREFIX": "/root", "CONDA_PREFIX": ""}, "/root", ""},
		{"-r over MAMBA_ROOT_PREFIX", CreateRequest{RootPrefix: "/r"}, map[string]string{"MAMBA_ROOT_PREFIX": "/root"}, "/r", ""},
		{"no root", CreateRequest{}, nil, "", "root prefix"},
		{"both", CreateRequest{Name: "a", Prefix: "/b"}, nil, "", "not both"},
		{"name with slash", CreateRequest{Name: "a/b"}, map[string]string{"MAMBA_ROOT_PREFIX": "/root"}, "", `"a/b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.LookupEnv = lookupOf(tc.env)
			got, err := EnvironmentPrefix(tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestReadInstalledErrors(t *testing.T) {
	dir := t.TempDir()
	brokenRecord := writePrefix(t, dir, "brokenrecord", "")
	if err := os.WriteFile(filepath.Join(brokenRecord, "conda-meta", "x-1-0.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix  string
		wantErr string
		is      error
	}{
		{dir, "not a conda environment (no conda-meta)", ErrNotEnvironment},
		{filepath.Join(dir, "missing"), "missing: not a conda environment", ErrNotEnvironment},
		{brokenRecord, "x-1-0.json", nil},
	} {
		_, err := ReadInstalled(context.Background(), CreateRequest{Prefix: tc.prefix, LookupEnv: lookupOf(nil)})
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), tc.prefix) {
			t.Errorf("%s: error %v, want one naming the prefix and containing %q", tc.prefix, err, tc.wantErr)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: error %v is not %v", tc.prefix, err, tc.is)
		}
	}
}

// TestBadHistory checks that an unreadable conda-meta/history fails only
// the export of the requested specs.
func TestBadHistory(t *testing.T) {
	prefix := writePrefix(t, t.TempDir(), "bad", "# update specs: ['python' 'x']\n",
		fixtureRecord("https://conda.anaconda.org/conda-forge", "noarch", "x", "1", "0", "x"))
	in, err := ReadInstalled(context.Background(), CreateRequest{Prefix: prefix, LookupEnv: lookupOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []ExportOptions{{}, {NoBuild: true}} {
		if err := in.WriteExport(io.Discard, opts); err != nil {
			t.Errorf("export %+v: %v", opts, err)
		}
	}
	if err := in.WriteList(io.Discard); err != nil {
		t.Errorf("list: %v", err)
	}
	for _, write := range []func(io.Writer, ExportOptions) error{in.WriteExport, in.WriteExportJSON} {
		err := write(io.Discard, ExportOptions{FromHistory: true})
		if want := `line 1: spec list "['python' 'x']": want ','`; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), prefix) {
			t.Errorf("export --from-history: error %v, want one naming the prefix and containing %q", err, want)
		}
	}
}

func TestFilter(t *testing.T) {
	root, _ := fixture(t)
	for _, tc := range []struct {
		pattern  string
		fullName bool
		want     string
		wantErr  bool
	}{
		{"", false, "mylib python requests zlib", false},
		{"py", false, "python", false},
		{"^r|b$", false, "mylib requests zlib", false},
		{"PY", false, "", false},
		{"python", true, "python", false},
		{"pyth", true, "", false},
		{"py|zlib", true, "zlib", false}, // the whole alternation is anchored
		{"(", false, "", true},
	} {
		in, err := ReadInstalled(context.Background(), CreateRequest{Name: "demo", LookupEnv: lookupOf(map[string]string{"MAMBA_ROOT_PREFIX": root})})
		if err != nil {
			t.Fatal(err)
		}
		err = in.Filter(tc.pattern, tc.fullName)
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), tc.pattern) {
				t.Errorf("%q: error %v, want one quoting the pattern", tc.pattern, err)
			}
			continue
		}
		var names []string
		for _, r := range in.Records {
			names = append(names, r.Name)
		}
		if got := strings.Join(names, " "); err != nil || got != tc.want {
			t.Errorf("%q (full name %v): %q, %v; want %q", tc.pattern, tc.fullName, got, err, tc.want)
		}
	}
}

func TestEnvName(t *testing.T) {
	for _, tc := range []struct{ root, prefix, want string }{
		{"/r", "/r", "base"},
		{"/r/", "/r", "base"},
		{"/r", "/r/envs/a", "a"},
		{"/r", "/r/envs/a/b", "a/b"},
		{"/r", "/r/envs", ""},
		{"/r", "/r/other", ""},
		{"/r", "/elsewhere/envs/a", ""},
	} {
		if got := envName(tc.root, tc.prefix); got != tc.want {
			t.Errorf("envName(%q, %q) = %q, want %q", tc.root, tc.prefix, got, tc.want)
		}
	}
}

// realPrefix copies the real conda-meta records into a new prefix and
// returns it with the number of records.
func realPrefix(tb testing.TB) (string, int) {
	tb.Helper()
	src := testchannel.RealData(tb, "prefix-records", "conda-meta")
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no records in %s (%v)", src, err)
	}
	prefix := filepath.Join(tb.TempDir(), "real")
	if err := os.MkdirAll(filepath.Join(prefix, "conda-meta"), 0o755); err != nil {
		tb.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil {
			err = os.WriteFile(filepath.Join(prefix, "conda-meta", filepath.Base(f)), data, 0o644)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	return prefix, len(files)
}

// BenchmarkListReal reads the real conda-meta records (python, numpy,
// scipy … with their paths_data) and writes list's table: the work of
// `condabox list`.
func BenchmarkListReal(b *testing.B) {
	prefix, _ := realPrefix(b)
	req := CreateRequest{Prefix: prefix, LookupEnv: lookupOf(nil)}
	for b.Loop() {
		in, err := ReadInstalled(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if err := in.WriteList(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRealPrefixRecords lists and exports real conda-forge conda-meta
// records (of two platforms, two versions of some names).
func TestRealPrefixRecords(t *testing.T) {
	prefix, n := realPrefix(t)
	in, err := ReadInstalled(context.Background(), CreateRequest{Prefix: prefix, LookupEnv: lookupOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Records) != n || in.Platform != "" {
		t.Errorf("%d records of %d files, platform %q (want none: the records mix osx-arm64 and win-64)", len(in.Records), n, in.Platform)
	}
	var list []listEntryJSON
	var b bytes.Buffer
	if err := in.WriteListJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if e.Channel != "conda-forge" || e.BaseURL != "https://conda.anaconda.org/conda-forge" || e.Platform == "" ||
			e.DistName != e.Name+"-"+e.Version+"-"+e.BuildString {
			t.Errorf("list --json entry %+v", e)
		}
	}
	for name, write := range map[string]func(*bytes.Buffer) error{
		"list":         func(w *bytes.Buffer) error { return in.WriteList(w) },
		"export":       func(w *bytes.Buffer) error { return in.WriteExport(w, ExportOptions{MD5: true}) },
		"from-history": func(w *bytes.Buffer) error { return in.WriteExportJSON(w, ExportOptions{FromHistory: true}) },
	} {
		b.Reset()
		if err := write(&b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if lines := strings.Count(b.String(), "\n"); lines < 4 {
			t.Errorf("%s: only %d lines", name, lines)
		}
	}
	b.Reset()
	if err := in.WriteExplicit(&b, ExplicitOptions{SHA256: true}); err != nil {
		t.Fatal(err)
	}
	e, err := ParseExplicit("real", b.Bytes())
	if err != nil || len(e.Records) != n {
		t.Errorf("explicit export of the real records reads back as %v (%v)", e, err)
	}
}
