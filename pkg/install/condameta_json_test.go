package install

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// reflectPrefixPath is how PrefixPath was encoded with reflection: the
// reference the hand-written MarshalJSON must equal byte for byte.
func reflectPrefixPath(p PrefixPath) ([]byte, error) {
	type plain PrefixPath
	if p.PathType != conda.PathHardlink && p.PathType != conda.PathSoftlink {
		return json.Marshal(plain(p))
	}
	return json.Marshal(struct {
		plain
		SizeInBytes int64 `json:"size_in_bytes"`
	}{plain(p), p.SizeInBytes})
}

func checkPrefixPathJSON(t *testing.T, p PrefixPath) {
	t.Helper()
	got, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want, err := reflectPrefixPath(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("MarshalJSON(%+v)\n got %s\nwant %s", p, got, want)
	}
}

func TestPrefixPathJSON(t *testing.T) {
	for _, p := range []PrefixPath{
		{Path: "bin/python3.11", PathType: conda.PathHardlink, SHA256: "ab", SHA256InPrefix: "cd", SizeInBytes: 12, FileMode: conda.FileModeBinary, PrefixPlaceholder: "/opt/anaconda1anaconda2anaconda3"},
		{Path: "empty", PathType: conda.PathHardlink},
		{Path: "lib/libz.so", PathType: conda.PathSoftlink, SizeInBytes: 0},
		{Path: "lib", PathType: conda.PathDirectory},
		{Path: "bin/greet", PathType: PathUnixPythonEntryPoint, SHA256InPrefix: "ef", SizeInBytes: 99},
		{Path: "lib/python3.11/site-packages/__pycache__/a.cpython-311.pyc", PathType: PathPycFile},
		{Path: "share/x", PathType: conda.PathHardlink, NoLink: true, SizeInBytes: 3},
		{Path: `odd "quoted" \ name <&> é` + "\t\x01\xff", PathType: conda.PathHardlink},
	} {
		checkPrefixPathJSON(t, p)
	}
}

func FuzzPrefixPathJSON(f *testing.F) {
	f.Add("bin/x", "hardlink", "ab", "", int64(3), "text", "/opt/ph", false)
	f.Add("a<b>&\"c\\", "directory", "", "", int64(0), "", "", true)
	f.Fuzz(func(t *testing.T, path, pathType, sha, shaIn string, size int64, mode, ph string, noLink bool) {
		checkPrefixPathJSON(t, PrefixPath{Path: path, PathType: conda.PathType(pathType), SHA256: sha, SHA256InPrefix: shaIn,
			SizeInBytes: size, FileMode: conda.FileMode(mode), PrefixPlaceholder: ph, NoLink: noLink})
	})
}

// reflectRecord is how PrefixRecord was encoded before files and
// paths_data were written by hand: the reference.
func reflectRecord(p *PrefixRecord) ([]byte, error) {
	type plain PrefixRecord
	q := plain(*p)
	if q.Depends == nil {
		q.Depends = []string{}
	}
	if q.Files == nil {
		q.Files = []string{}
	}
	if q.PathsData.Paths == nil {
		q.PathsData.Paths = []PrefixPath{}
	}
	b, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if _, ok := m["constrains"]; !ok {
		m["constrains"] = json.RawMessage("[]")
	}
	for k, v := range p.extra {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return conda.IndentJSON(m, "")
}

// TestPrefixRecordJSONRealRecords encodes the real conda-meta records of
// shared/realdata both ways: the same bytes.
func TestPrefixRecordJSONRealRecords(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(sharedRealdata(t), "prefix-records", "conda-meta", "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no real records: %v", err)
	}
	records := []*PrefixRecord{{}} // an empty one too
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var r PrefixRecord
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		records = append(records, &r)
	}
	for _, r := range records {
		got, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want, err := reflectRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: hand-written encoding differs from the reference", r.Dist())
		}
	}
}

// referenceUnknown is how unknownMembers was computed before, with
// encoding/json: the reference it must equal.
func referenceUnknown(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	extra := map[string]json.RawMessage{}
	for k, v := range m {
		if !knownKeys[k] {
			extra[k] = v
		}
	}
	return extra, nil
}

func checkUnknownMembers(t *testing.T, doc []byte) {
	t.Helper()
	want, werr := referenceUnknown(doc)
	if werr != nil {
		return // not a record object: UnmarshalJSON fails before unknownMembers
	}
	got, err := unknownMembers(doc)
	if err != nil {
		t.Fatalf("unknownMembers(%q): %v", doc, err)
	}
	if len(got) != len(want) {
		t.Fatalf("unknownMembers(%q) = %q, want %q", doc, got, want)
	}
	for k, v := range want {
		if string(got[k]) != string(v) {
			t.Errorf("unknownMembers(%q)[%q] = %q, want %q", doc, k, got[k], v)
		}
	}
}

var unknownMembersCases = []string{
	`{}`,
	`null`,
	`{"name":"a","files":["x"],"paths_data":{"paths":[{"_path":"x","path_type":"hardlink"}]}}`,
	`{"name":"a","purls":["pkg:pypi/a"],"run_exports":{"weak":["b >=1"]},"x":null}`,
	` { "arch" : "x86_64" , "arch" : 1 , "timestamp":1.5e3 } `,                   // repeated: the last
	`{"Name":"capital: not a known key","fIles":[],"\u006eame":"escaped known"}`, // exact keys only
	`{"\ud83d\ude00":"emoji key","bad\ud800":"lone surrogate","nested":{"a":[1,{"b":[]}]}}`,
}

func TestUnknownMembers(t *testing.T) {
	for _, doc := range unknownMembersCases {
		checkUnknownMembers(t, []byte(doc))
	}
	t.Run("real records", func(t *testing.T) { forRealRecords(t, checkUnknownMembers) })
}

// forRealRecords calls check with each real conda-meta record of
// shared/realdata (skipping when it is absent).
func forRealRecords(t *testing.T, check func(*testing.T, []byte)) {
	names, _ := filepath.Glob(filepath.Join(sharedRealdata(t), "prefix-records", "conda-meta", "*.json"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		check(t, b)
	}
}

func FuzzUnknownMembers(f *testing.F) {
	for _, doc := range unknownMembersCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkUnknownMembers(t, doc)
	})
}

// referenceRecord decodes a record with encoding/json alone, as
// UnmarshalJSON did before it decoded files and paths_data by hand.
func referenceRecord(b []byte) (*PrefixRecord, error) {
	type plain PrefixRecord
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return nil, err
	}
	extra, err := referenceUnknown(b)
	if err != nil {
		return nil, err
	}
	r := PrefixRecord(q)
	r.extra = extra
	return &r, nil
}

func checkDecodeRecord(t *testing.T, doc []byte) {
	t.Helper()
	want, werr := referenceRecord(doc)
	var got PrefixRecord
	gerr := json.Unmarshal(doc, &got)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("decode %q: error %v, encoding/json's %v", doc, gerr, werr)
	}
	if werr != nil {
		return
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("decode %q:\n got %+v\nwant %+v", doc, got, *want)
	}
	checkCompactJSON(t, &got)
}

// checkCompactJSON: CompactJSON gives json.Marshal's bytes.
func checkCompactJSON(t *testing.T, r *PrefixRecord) {
	t.Helper()
	want, werr := json.Marshal(r)
	got, err := r.CompactJSON()
	if (err == nil) != (werr == nil) || string(got) != string(want) {
		t.Errorf("CompactJSON:\n got %s (%v)\nwant %s (%v)", got, err, want, werr)
	}
}

var decodeRecordCases = []string{
	`{"name":"a","version":"1","build":"0","files":["bin/a","lib/b"],"paths_data":{"paths_version":1,"paths":[{"_path":"bin/a","path_type":"hardlink","sha256":"ab","sha256_in_prefix":"cd","size_in_bytes":12,"file_mode":"text","prefix_placeholder":"/opt/p","no_link":true},null,{"_path":"lib/b","path_type":"softlink","size_in_bytes":0,"extra":[1,{"x":null}]}]}}`,
	`{"files":null,"paths_data":null}`,
	`{"files":[],"paths_data":{"paths":null,"paths_version":null}}`,
	`{"FILES":["x"],"Paths_Data":{"PATHS":[{"_PATH":"x","Size_In_Bytes":3,"NO_LINK":false}]}}`,
	`{"files":["a"],"files":["b","c"]}`, // repeated: encoding/json merges
	`{"paths_data":{"paths":[{"_path":"a","sha256":"x"}],"paths":[{"_path":"b"}]}}`,
	`{"paths_data":{"paths":[{"_path":"a","_path":"b"}]}}`,
	`{"files":["\u00e9\ud83d\ude00","\ud800","tab\there"]}`,
	`{"files":[1]}`,
	`{"paths_data":{"paths":[{"size_in_bytes":1.5}]}}`,
	`{"paths_data":{"paths":[{"size_in_bytes":"12"}]}}`,
	`{"paths_data":{"paths":[{"size_in_bytes":99999999999999999999}]}}`,
	`{"paths_data":{"paths":[{"no_link":"true"}]}}`,
	`{"paths_data":[]}`,
	`{"name":"a"} trailing`,
	`null`,
	`[]`,
	`{"depends":["python >=3.8"],"Name":"case","purls":[],"timestamp":1700000000000}`,
	`{"name":"<a&b>","files":["x<y>&\u2028"],"kept":{ "html" : "<&>\u2029" , "n" : [ 1 , 2 ] },"<key>":1}`,
}

// TestDecodeRecordMatchesEncodingJSON: the hand-decoded record equals
// encoding/json's, and fails where it fails.
func TestDecodeRecordMatchesEncodingJSON(t *testing.T) {
	for _, doc := range decodeRecordCases {
		checkDecodeRecord(t, []byte(doc))
	}
	t.Run("real records", func(t *testing.T) { forRealRecords(t, checkDecodeRecord) })
}

func FuzzDecodeRecord(f *testing.F) {
	for _, doc := range decodeRecordCases {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkDecodeRecord(t, doc)
	})
}
