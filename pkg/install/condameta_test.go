package install

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condabox/condabox/pkg/conda"
)

// jsonShape names a JSON value's type, for comparing records by shape.
func jsonShape(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// TestCondaMetaMatchesRealRecords compares the record we write with the
// real conda-meta records in shared/realdata: every key that all real
// records carry, with the same JSON type, and paths_data entries with only
// keys real records use.
func TestCondaMetaMatchesRealRecords(t *testing.T) {
	real := filepath.Join(sharedRealdata(t), "prefix-records", "conda-meta")
	names, err := filepath.Glob(filepath.Join(real, "*.json"))
	must(t, err)
	if len(names) == 0 {
		t.Fatalf("no records in %s", real)
	}
	common := map[string]string{} // key → shape, for keys in every record
	pathKeys := map[string]bool{}
	for i, name := range names {
		var m map[string]any
		b, err := os.ReadFile(name)
		must(t, err)
		must(t, json.Unmarshal(b, &m))
		if i == 0 {
			for k, v := range m {
				common[k] = jsonShape(v)
			}
		}
		for k := range common {
			if _, ok := m[k]; !ok {
				delete(common, k)
			}
		}
		for _, p := range m["paths_data"].(map[string]any)["paths"].([]any) {
			for k := range p.(map[string]any) {
				pathKeys[k] = true
			}
		}
		// Our reader must take every real record.
		var r PrefixRecord
		if err := json.Unmarshal(b, &r); err != nil {
			t.Errorf("%s: %v", filepath.Base(name), err)
		}
	}
	for _, k := range []string{"files", "paths_data", "link", "extracted_package_dir", "channel", "url", "md5", "sha256", "fn", "depends"} {
		if _, ok := common[k]; !ok {
			t.Fatalf("real records do not all carry %q: the test's premise is wrong", k)
		}
	}

	root := t.TempDir()
	pkg := testPkg{name: "meta", depends: []string{"libc >=2"}, files: []testFile{
		{path: "bin/meta", content: "#!/bin/sh\necho " + ph + "\n", mode: 0o755, placeholder: ph, fileMode: conda.FileModeText},
		{path: "lib/libmeta.so.1", symlink: "libmeta.so.1.0"},
		{path: "lib/libmeta.so.1.0", content: "\x7fELF"},
	}}.write(t, filepath.Join(root, "pkgs"))
	pkg.RequestedSpec = "meta >=1"
	prefix := filepath.Join(root, "env")
	if _, err := Sync(context.Background(), prefix, []*Package{pkg}, Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(prefix, "conda-meta", "meta-1.0-h0_0.json"))
	must(t, err)
	var ours map[string]any
	must(t, json.Unmarshal(b, &ours))
	for k, shape := range common {
		if v, ok := ours[k]; !ok {
			t.Errorf("our record lacks %q", k)
		} else if jsonShape(v) != shape {
			t.Errorf("%q is a %s, real records have a %s", k, jsonShape(v), shape)
		}
	}
	if ours["requested_spec"] != "meta >=1" || ours["link"].(map[string]any)["source"] != pkg.Dir {
		t.Errorf("requested_spec %v, link %v", ours["requested_spec"], ours["link"])
	}
	for _, p := range ours["paths_data"].(map[string]any)["paths"].([]any) {
		for k := range p.(map[string]any) {
			if !pathKeys[k] {
				t.Errorf("paths_data entry key %q is in no real record", k)
			}
		}
	}
	files := ours["files"].([]any)
	if len(files) != 3 || files[0] != "bin/meta" {
		t.Errorf("files %v", files)
	}
	if !strings.HasSuffix(string(b), "}\n") || !strings.Contains(string(b), "\n  \"build\": \"h0_0\",\n") {
		t.Errorf("not conda's layout (2-space indent, sorted keys, final newline):\n%s", b)
	}
}

// TestPrefixRecordRoundTrip reads each real record and writes it again:
// no key may be lost, including keys PackageRecord does not model.
func TestPrefixRecordRoundTrip(t *testing.T) {
	real := filepath.Join(sharedRealdata(t), "prefix-records", "conda-meta")
	names, err := filepath.Glob(filepath.Join(real, "*.json"))
	must(t, err)
	for _, name := range names {
		b, err := os.ReadFile(name)
		must(t, err)
		var r PrefixRecord
		must(t, json.Unmarshal(b, &r))
		out, err := r.MarshalJSON()
		must(t, err)
		var in, back map[string]any
		must(t, json.Unmarshal(b, &in))
		must(t, json.Unmarshal(out, &back))
		for k, v := range in {
			if v == nil || v == "" {
				continue // empty keys (arch: null, track_features: "") are dropped
			}
			if _, ok := back[k]; !ok {
				t.Errorf("%s: key %q lost", filepath.Base(name), k)
			}
		}
	}
}

func TestHistoryText(t *testing.T) {
	rec := func(name, version, channel, subdir string) conda.PackageRecord {
		return conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: "h_0", Channel: channel, Subdir: subdir}
	}
	old := &PrefixRecord{PackageRecord: rec("zlib", "1.2", "https://conda.anaconda.org/conda-forge/linux-64", "linux-64")}
	py, jq := rec("python", "3.11.9", "https://conda.anaconda.org/conda-forge", "linux-64"), rec("jq", "1.6", "http://127.0.0.1:8080/realistic", "linux-64")
	got := historyText(HistoryEntry{
		Time: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), Cmd: "condabox install -p /env python jq",
		UpdateSpecs: []string{"python", "jq >=1.6"},
	}, []*PrefixRecord{old}, []*conda.PackageRecord{&py, &jq})
	want := `==> 2026-11-22 12:00:00 <==
# cmd: condabox install -p /env python jq
-conda-forge/linux-64::zlib-1.2-h_0
+conda-forge/linux-64::python-3.11.9-h_0
+http://127.0.0.1:8080/realistic/linux-64::jq-1.6-h_0
# update specs: ['python', 'jq >=1.6']
`
	if got != want {
		t.Errorf("history\n got %q\nwant %q", got, want)
	}
}

// TestHistoryAppended checks conda-meta/history grows by one block per
// transaction.
func TestHistoryAppended(t *testing.T) {
	root := t.TempDir()
	a := testPkg{name: "a"}.write(t, filepath.Join(root, "pkgs"))
	b := testPkg{name: "b"}.write(t, filepath.Join(root, "pkgs"))
	prefix := filepath.Join(root, "env")
	for _, target := range [][]*Package{{a}, {a, b}, {a, b}, {b}} { // the third does nothing
		if _, err := Sync(context.Background(), prefix, target, Options{History: HistoryEntry{Cmd: "test"}}); err != nil {
			t.Fatal(err)
		}
	}
	h := readFile(t, prefix, "conda-meta/history")
	var changes []string
	for _, l := range strings.Split(h, "\n") {
		if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
			changes = append(changes, l)
		}
	}
	want := []string{"+test/linux-64::a-1.0-h0_0", "+test/linux-64::b-1.0-h0_0", "-test/linux-64::a-1.0-h0_0"}
	if strings.Count(h, "==> ") != 3 || !slices.Equal(changes, want) {
		t.Errorf("history:\n%s\nchanges %q, want %q", h, changes, want)
	}
}

func TestDiff(t *testing.T) {
	rec := func(name, version string, depends ...string) conda.PackageRecord {
		return conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: "h_0", Depends: depends, SHA256: name + version}
	}
	installed := []*PrefixRecord{
		{PackageRecord: rec("app", "1", "lib")}, {PackageRecord: rec("lib", "1")}, {PackageRecord: rec("old", "1", "lib")}, {PackageRecord: rec("zlib", "1")},
	}
	target := []*Package{
		{Record: rec("app", "2", "lib", "new")}, {Record: rec("new", "1", "zlib")}, {Record: rec("lib", "1")}, {Record: rec("zlib", "1")},
	}
	tr := Diff(installed, target)
	var unlink, link, keep []string
	for _, r := range tr.Unlink {
		unlink = append(unlink, r.Dist())
	}
	for _, p := range tr.Link {
		link = append(link, p.Record.Dist())
	}
	for _, r := range tr.Keep {
		keep = append(keep, r.Dist())
	}
	// Unlink: dependants first; link: dependencies first (new before app).
	if want := []string{"old-1-h_0", "app-1-h_0"}; !slices.Equal(unlink, want) {
		t.Errorf("unlink %v, want %v", unlink, want)
	}
	if want := []string{"new-1-h_0", "app-2-h_0"}; !slices.Equal(link, want) {
		t.Errorf("link %v, want %v", link, want)
	}
	if want := []string{"lib-1-h_0", "zlib-1-h_0"}; !slices.Equal(keep, want) {
		t.Errorf("keep %v, want %v", keep, want)
	}
}

func TestPrefixPathSizeInBytes(t *testing.T) {
	tests := []struct {
		p    PrefixPath
		want string
	}{
		{PrefixPath{Path: "empty", PathType: conda.PathHardlink, SHA256: "e3b0"}, `{"_path":"empty","path_type":"hardlink","sha256":"e3b0","size_in_bytes":0}`},
		{PrefixPath{Path: "l", PathType: conda.PathSoftlink, SizeInBytes: 3}, `{"_path":"l","path_type":"softlink","size_in_bytes":3}`},
		{PrefixPath{Path: "x.pyc", PathType: PathPycFile}, `{"_path":"x.pyc","path_type":"pyc_file"}`},
		{PrefixPath{Path: "d", PathType: conda.PathDirectory}, `{"_path":"d","path_type":"directory"}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.p)
		if err != nil || string(b) != tc.want {
			t.Errorf("%+v: %s, %v; want %s", tc.p, b, err, tc.want)
		}
	}
}
