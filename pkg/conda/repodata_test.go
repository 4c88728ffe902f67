package conda

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/jsonscan"
	"github.com/condabox/condabox/internal/testchannel"
)

// decodeWithEncodingJSON is the reference decoder: encoding/json plus the
// FileName rule of ParseRepoData.
func decodeWithEncodingJSON(data []byte) (*RepoData, error) {
	var rd RepoData
	if err := json.Unmarshal(data, &rd); err != nil {
		return nil, err
	}
	for _, section := range []map[string]PackageRecord{rd.Packages, rd.Conda} {
		for key, rec := range section {
			rec.FileName = key
			section[key] = rec
		}
	}
	return &rd, nil
}

// checkDecodersAgree fails t unless ParseRepoData and LazyRepoData decode
// data exactly as encoding/json does, or all of them reject it.
func checkDecodersAgree(t testing.TB, data []byte) {
	t.Helper()
	want, wantErr := decodeWithEncodingJSON(data)
	got, gotErr := ParseRepoData(data)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("encoding/json error: %v\nParseRepoData error: %v", wantErr, gotErr)
	}
	if wantErr != nil {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseRepoData differs from encoding/json\n got: %+v\nwant: %+v", got, want)
	}
	lazy, err := NewLazyRepoData(data)
	if err != nil {
		t.Fatalf("NewLazyRepoData: %v", err)
	}
	if lazy.Info() != want.Info {
		t.Fatalf("Info() = %+v, want %+v", lazy.Info(), want.Info)
	}
	var lazyAll []PackageRecord
	for _, name := range lazy.Names() {
		recs, err := lazy.Records(name)
		if err != nil {
			t.Fatalf("Records(%q): %v", name, err)
		}
		lazyAll = append(lazyAll, recs...)
	}
	if wantAll := want.Records(); !reflect.DeepEqual(lazyAll, wantAll) {
		t.Fatalf("LazyRepoData records differ from encoding/json's\n got: %+v\nwant: %+v", lazyAll, wantAll)
	}
}

// realRepodataFiles returns the repodata JSON files of shared/realdata;
// tests skip without it.
func realRepodataFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(testchannel.RealData(t, "repodata"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("list shared/realdata/repodata: %v (%d files)", err, len(files))
	}
	return files
}

func TestDecodersAgreeOnRealRepodata(t *testing.T) {
	for _, path := range realRepodataFiles(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(path)))+"/"+filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			checkDecodersAgree(t, data)
		})
	}
}

func TestRealRepodataShapes(t *testing.T) {
	files := realRepodataFiles(t)
	load := func(suffix string) *RepoData {
		t.Helper()
		i := slices.IndexFunc(files, func(p string) bool { return strings.HasSuffix(p, filepath.FromSlash(suffix)) })
		if i < 0 {
			t.Fatalf("no %s in %v", suffix, files)
		}
		data, err := os.ReadFile(files[i])
		if err != nil {
			t.Fatal(err)
		}
		rd, err := ParseRepoData(data)
		if err != nil {
			t.Fatalf("%s: %v", suffix, err)
		}
		return rd
	}

	// conda-forge writes "depends": null on some records.
	numpy := load("conda-forge-numpy/linux-64/repodata.json")
	nullDepends := 0
	for _, rec := range numpy.Records() {
		if rec.Depends == nil {
			nullDepends++
		}
		if rec.FileName == "" || rec.Version.String() == "" {
			t.Errorf("record %+v lacks a file name or version", rec)
		}
	}
	if nullDepends == 0 {
		t.Error(`conda-forge-numpy: no record with "depends": null decoded as nil`)
	}

	pytorch := load("pytorch/linux-64/repodata.json")
	if pytorch.Version != 1 || pytorch.Info.Subdir != "linux-64" || pytorch.Removed == nil {
		t.Errorf("pytorch: repodata_version %d, info %+v, removed %v", pytorch.Version, pytorch.Info, pytorch.Removed)
	}
	dummy := load("dummy/linux-64/repodata.json")
	if dummy.Version != 2 || dummy.Info.BaseURL != "../linux-64" {
		t.Errorf("dummy: repodata_version %d, info %+v", dummy.Version, dummy.Info)
	}
}

func TestParseRepoData(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    []PackageRecord // RepoData.Records()
		wantErr string          // substring; "" for success
	}{
		{
			name: "null depends and constrains",
			doc:  `{"packages":{"a-1-0.tar.bz2":{"name":"a","version":"1","build":"0","depends":null,"constrains":null}}}`,
			want: []PackageRecord{{Name: "a", Version: MustParseVersion("1"), Build: "0", FileName: "a-1-0.tar.bz2"}},
		},
		{
			name: "conda preferred over tar.bz2 of the same build only",
			doc: `{"packages":{"a-1-0.tar.bz2":{"name":"a","version":"1","build":"0"},"a-1-1.tar.bz2":{"name":"a","version":"1","build":"1"}},
			       "packages.conda":{"a-1-0.conda":{"name":"a","version":"1","build":"0","depends":["b >=2"]}}}`,
			want: []PackageRecord{
				{Name: "a", Version: MustParseVersion("1"), Build: "0", Depends: []string{"b >=2"}, FileName: "a-1-0.conda"},
				{Name: "a", Version: MustParseVersion("1"), Build: "1", FileName: "a-1-1.tar.bz2"},
			},
		},
		{
			name: "all scalar kinds, escapes and unknown nested keys",
			doc: `{"info":{"subdir":"noarch"},"packages.conda":{"b-2-py_0.conda":{"name":"b","version":"2","build":"py_0",
			       "build_number":3,"timestamp":1700000000000,"size":-0,"noarch":true,"track_features":"x, y",
			       "license":"caf\u00e9 \ud83d\ude00","extra":{"k":[1,{"n":null}]},"NAME":"b"}}}`,
			want: []PackageRecord{{Name: "b", Version: MustParseVersion("2"), Build: "py_0", BuildNumber: 3,
				Timestamp: 1700000000000, Noarch: NoarchGeneric, TrackFeatures: FeatureList{"x", "y"},
				License: "café 😀", FileName: "b-2-py_0.conda"}},
		},
		{
			name: "later duplicate key replaces the record",
			doc:  `{"packages":{"a-1-0.tar.bz2":{"name":"old","version":"1"},"a-1-0.tar.bz2":{"name":"a","version":"2"}}}`,
			want: []PackageRecord{{Name: "a", Version: MustParseVersion("2"), FileName: "a-1-0.tar.bz2"}},
		},
		{
			name: "later duplicate of a regular key replaces the record",
			doc:  `{"packages":{"a-1-0.tar.bz2":{"name":"a","version":"1","build":"x"},"a-1-0.tar.bz2":{"name":"a","version":"1","build":"0"}}}`,
			want: []PackageRecord{{Name: "a", Version: MustParseVersion("1"), Build: "0", FileName: "a-1-0.tar.bz2"}},
		},
		{
			name: "null section drops the records read before it",
			doc: `{"packages":{"a-1-0.tar.bz2":{"name":"a","version":"1"}},"packages.conda":{"b-1-0.conda":{"name":"b","version":"1"}},
			       "packages":null,"packages":{"c-1-0.tar.bz2":{"name":"c","version":"1"}}}`,
			want: []PackageRecord{
				{Name: "b", Version: MustParseVersion("1"), FileName: "b-1-0.conda"},
				{Name: "c", Version: MustParseVersion("1"), FileName: "c-1-0.tar.bz2"},
			},
		},
		{name: "empty document object", doc: ` {} `},
		{name: "trailing garbage", doc: `{} x`, wantErr: "offset 3: invalid character 'x' after top-level value"},
		{name: "truncated", doc: `{"packages":{"a.conda":{"name":"a"`, wantErr: "unexpected end of input"},
		{name: "control character in string", doc: "{\"info\":{\"subdir\":\"a\tb\"}}", wantErr: "offset 20: invalid character '\\t' in string literal"},
		{name: "bad escape", doc: `{"info":{"subdir":"\x"}}`, wantErr: `invalid character 'x' in string escape code`},
		{name: "bad number", doc: `{"x":01}`, wantErr: "offset 6: invalid character '1' after object key:value pair"},
		{name: "document not an object", doc: `[]`, wantErr: "document: want an object, got list"},
		{
			name:    "name not a string",
			doc:     `{"packages":{"a-1-0.tar.bz2":{"name":5}}}`,
			wantErr: `packages["a-1-0.tar.bz2"]: offset 37: name: want a string, got number`,
		},
		{
			name:    "negative build number",
			doc:     `{"packages.conda":{"a-1-0.conda":{"name":"a","version":"1","build_number":-1}}}`,
			wantErr: `packages.conda["a-1-0.conda"]: offset 74: build_number: want a non-negative integer that fits 64 bits, got -1`,
		},
		{
			name:    "fractional size",
			doc:     `{"packages":{"a-1-0.tar.bz2":{"name":"a","size":1.5}}}`,
			wantErr: `packages["a-1-0.tar.bz2"]: offset 48: size: want an integer that fits 64 bits, got 1.5`,
		},
		{
			name:    "depends not a list",
			doc:     `{"packages":{"a-1-0.tar.bz2":{"name":"a","depends":"b"}}}`,
			wantErr: `packages["a-1-0.tar.bz2"]: offset 51: depends: want a list of strings, got string`,
		},
		{
			name:    "unknown noarch",
			doc:     `{"packages":{"a-1-0.tar.bz2":{"name":"a","noarch":"rust"}}}`,
			wantErr: `noarch: unknown kind "rust" (want generic or python)`,
		},
		{name: "too deep", doc: `{"x":` + strings.Repeat("[", jsonscan.MaxDepth) + strings.Repeat("]", jsonscan.MaxDepth) + `}`, wantErr: "exceeded max depth 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDecodersAgree(t, []byte(tt.doc))
			rd, err := ParseRepoData([]byte(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := rd.Records(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Records() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestFastDecoderKnowsEveryField sets each PackageRecord key in turn and
// checks that the fast decoder fills the field as encoding/json does, so a
// field added to PackageRecord cannot be silently dropped.
func TestFastDecoderKnowsEveryField(t *testing.T) {
	typ := reflect.TypeFor[PackageRecord]()
	for i := range typ.NumField() {
		key, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if key == "fn" {
			continue // overwritten by the record's key
		}
		value := map[string]string{"version": `"1.2"`, "noarch": `"python"`}[key]
		if value == "" {
			switch typ.Field(i).Type.Kind() {
			case reflect.String:
				value = `"v"`
			case reflect.Int64, reflect.Uint64:
				value = `7`
			case reflect.Slice:
				value = `["v"]`
			default:
				t.Fatalf("field %s: no sample value for kind %s", key, typ.Field(i).Type.Kind())
			}
		}
		t.Run(key, func(t *testing.T) {
			doc := fmt.Sprintf(`{"packages":{"a-1-0.tar.bz2":{"name":"a",%q:%s}}}`, key, value)
			checkDecodersAgree(t, []byte(doc))
			rd, err := ParseRepoData([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			rec := rd.Packages["a-1-0.tar.bz2"]
			if key != "name" && reflect.ValueOf(rec).Field(i).IsZero() {
				t.Errorf("key %q left %s zero", key, typ.Field(i).Name)
			}
		})
	}
}

func TestLazyRepoDataRecords(t *testing.T) {
	doc := []byte(`{"packages":{"b-1-0.tar.bz2":{"name":"b","version":"1"},"a-2-0.tar.bz2":{"name":"a","version":"2"},
		"a-1-0.tar.bz2":{"name":"a","version":"1"}},"packages.conda":{"a-2-0.conda":{"name":"a","version":"2"},
		"c-1-0.conda":{"name":"c","version":"1","depends":5}}}`)
	lazy, err := NewLazyRepoData(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lazy.Names(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	tests := []struct {
		name      string
		wantFiles []string
		wantErr   string
	}{
		{name: "a", wantFiles: []string{"a-1-0.tar.bz2", "a-2-0.conda"}},
		{name: "b", wantFiles: []string{"b-1-0.tar.bz2"}},
		{name: "missing"},
		// A bad field surfaces only when its record is decoded.
		{name: "c", wantErr: `parse repodata: packages.conda["c-1-0.conda"]: offset`},
	}
	for _, tt := range tests {
		recs, err := lazy.Records(tt.name)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Records(%q) error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		var files []string
		for _, r := range recs {
			files = append(files, r.FileName)
		}
		if err != nil || !slices.Equal(files, tt.wantFiles) {
			t.Errorf("Records(%q) = %v, %v; want %v", tt.name, files, err, tt.wantFiles)
		}
	}
}
