package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/pkg/conda"
)

func record(name, version, build, subdir, ext string) conda.PackageRecord {
	r := conda.PackageRecord{
		Name: name, Version: conda.MustParseVersion(version), Build: build, Subdir: subdir,
		Depends: []string{"libc >=2.17"}, Timestamp: 1700000000000, Size: 1234,
		MD5:    fmt.Sprintf("%032x", len(name)+len(version)),
		SHA256: fmt.Sprintf("%064x", len(name)*1000+len(build)),
	}
	r.FileName = r.Dist() + ext
	return r
}

// testRecords covers both formats, several names and unusual fields.
func testRecords() map[string][]conda.PackageRecord {
	zlibNoDeps := record("zlib", "1.3", "h0_0", "linux-64", ".tar.bz2")
	zlibNoDeps.Depends = nil                                                     // written as [] like conda-index, read back as []
	zlibNoDeps.URL, zlibNoDeps.Channel = "https://example.org/c/linux-64/x", "c" // loader-only: dropped
	feature := record("blas", "2.0", "mkl_0", "linux-64", ".conda")
	feature.TrackFeatures, feature.Constrains, feature.License = conda.FeatureList{"blas_mkl"}, []string{"openblas <0"}, "BSD-3-Clause"
	py := record("tool-py", "0.1", "pyh_0", "noarch", ".conda")
	py.Noarch = conda.NoarchPython
	py.MD5, py.SHA256 = "", "" // hashes are optional
	return map[string][]conda.PackageRecord{
		"linux-64": {
			record("zlib", "1.3.1", "h0_0", "linux-64", ".conda"),
			record("zlib", "1.3.1", "h0_0", "linux-64", ".tar.bz2"),
			zlibNoDeps,
			feature,
			record("a", "1", "0", "linux-64", ".tar.bz2"),
		},
		"linux-aarch64": {record("zlib", "1.3.1", "h0_0", "linux-aarch64", ".conda")},
		"noarch":        {py},
		"osx-arm64":     nil,
	}
}

// repodata is repodata.json as a client reads it.
type repodata struct {
	Info            map[string]string              `json:"info"`
	Packages        map[string]conda.PackageRecord `json:"packages"`
	PackagesConda   map[string]conda.PackageRecord `json:"packages.conda"`
	Removed         []string                       `json:"removed"`
	RepodataVersion int                            `json:"repodata_version"`
}

// wantEntries is what the repodata entries of records must decode to.
func wantEntries(records []conda.PackageRecord) (tarBz2, dotConda map[string]conda.PackageRecord) {
	tarBz2, dotConda = map[string]conda.PackageRecord{}, map[string]conda.PackageRecord{}
	for _, r := range records {
		fn := r.FileName
		r.FileName, r.URL, r.Channel = "", "", ""
		if r.Depends == nil {
			r.Depends = []string{}
		}
		if strings.HasSuffix(fn, ".conda") {
			dotConda[fn] = r
		} else {
			tarBz2[fn] = r
		}
	}
	return tarBz2, dotConda
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unzstd(t *testing.T, b []byte) []byte {
	t.Helper()
	d, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	out, err := d.DecodeAll(b, nil)
	if err != nil {
		t.Fatalf("zstd: %v", err)
	}
	return out
}

// checkSubdir decodes everything Write wrote for one subdir and compares
// it with the records.
func checkSubdir(t *testing.T, dir, subdir string, records []conda.PackageRecord, opts Options) {
	t.Helper()
	raw := readFile(t, filepath.Join(dir, RepodataFile))
	var rd repodata
	if err := json.Unmarshal(raw, &rd); err != nil {
		t.Fatalf("repodata.json: %v", err)
	}
	wantTar, wantConda := wantEntries(records)
	wantVersion, wantInfo := 1, map[string]string{"subdir": subdir}
	if opts.BaseURL != "" {
		wantVersion, wantInfo["base_url"] = 2, opts.BaseURL
	}
	if !reflect.DeepEqual(rd.Info, wantInfo) || rd.RepodataVersion != wantVersion || rd.Removed == nil || len(rd.Removed) != 0 {
		t.Errorf("repodata.json info %v version %d removed %v, want %v, %d and []", rd.Info, rd.RepodataVersion, rd.Removed, wantInfo, wantVersion)
	}
	if !reflect.DeepEqual(rd.Packages, wantTar) || !reflect.DeepEqual(rd.PackagesConda, wantConda) {
		t.Errorf("repodata.json entries\n got %+v\n     %+v\nwant %+v\n     %+v", rd.Packages, rd.PackagesConda, wantTar, wantConda)
	}
	checkSortedKeys(t, raw)
	if bytes.Contains(raw, []byte(`\u003e`)) {
		t.Errorf("repodata.json escapes '>' as \\u003e, conda writes it literally")
	}
	// The project's own fast decoder must read it the same way.
	parsed, err := conda.ParseRepoData(raw)
	if err != nil {
		t.Fatalf("conda.ParseRepoData: %v", err)
	}
	for _, part := range []struct {
		got, want map[string]conda.PackageRecord
	}{{parsed.Packages, wantTar}, {parsed.Conda, wantConda}} {
		for fn, w := range part.want {
			w.FileName = fn
			if g := part.got[fn]; !reflect.DeepEqual(g, w) {
				t.Errorf("conda.ParseRepoData entry %s = %+v, want %+v", fn, g, w)
			}
		}
		if len(part.got) != len(part.want) {
			t.Errorf("conda.ParseRepoData read %d entries, want %d", len(part.got), len(part.want))
		}
	}
	if z := unzstd(t, readFile(t, filepath.Join(dir, RepodataZstFile))); !bytes.Equal(z, raw) {
		t.Errorf("repodata.json.zst does not decompress to repodata.json")
	}

	var index struct {
		Version int               `msgpack:"version"`
		Info    map[string]string `msgpack:"info"`
		Shards  map[string][]byte `msgpack:"shards"`
	}
	if err := msgpack.Unmarshal(unzstd(t, readFile(t, filepath.Join(dir, ShardIndexFile))), &index); err != nil {
		t.Fatalf("shard index: %v", err)
	}
	wantIndexInfo := map[string]string{"base_url": "./", "shards_base_url": "./shards/", "subdir": subdir, "created_at": "1970-01-01T00:00:00Z"}
	if opts.BaseURL != "" {
		wantIndexInfo["base_url"] = opts.BaseURL
	}
	if opts.ShardsBaseURL != "" {
		wantIndexInfo["shards_base_url"] = opts.ShardsBaseURL
	}
	if !opts.CreatedAt.IsZero() {
		wantIndexInfo["created_at"] = opts.CreatedAt.UTC().Format(time.RFC3339)
	}
	if index.Version != 1 || !reflect.DeepEqual(index.Info, wantIndexInfo) {
		t.Errorf("shard index version %d info %v, want 1 and %v", index.Version, index.Info, wantIndexInfo)
	}

	if files, err := os.ReadDir(filepath.Join(dir, ShardsDir)); err != nil || len(files) != len(index.Shards) {
		t.Errorf("shards/ holds %d files (%v), the index names %d shards", len(files), err, len(index.Shards))
	}
	gotTar, gotConda := map[string]conda.PackageRecord{}, map[string]conda.PackageRecord{}
	for name, hash := range index.Shards {
		file := readFile(t, filepath.Join(dir, ShardsDir, hex.EncodeToString(hash)+".msgpack.zst"))
		if sum := sha256.Sum256(file); !bytes.Equal(sum[:], hash) {
			t.Errorf("shard %s: sha256 %x, index says %x", name, sum, hash)
		}
		var shard struct {
			Packages      map[string]map[string]any `msgpack:"packages"`
			PackagesConda map[string]map[string]any `msgpack:"packages.conda"`
			Removed       []string                  `msgpack:"removed"`
		}
		if err := msgpack.Unmarshal(unzstd(t, file), &shard); err != nil {
			t.Fatalf("shard %s: %v", name, err)
		}
		if shard.Removed == nil || len(shard.Removed) != 0 {
			t.Errorf("shard %s: removed = %v, want []", name, shard.Removed)
		}
		for _, part := range []struct {
			entries map[string]map[string]any
			into    map[string]conda.PackageRecord
		}{{shard.Packages, gotTar}, {shard.PackagesConda, gotConda}} {
			for fn, fields := range part.entries {
				if fields["name"] != name {
					t.Errorf("shard %s holds %s of package %v", name, fn, fields["name"])
				}
				part.into[fn] = shardRecord(t, fields)
			}
		}
	}
	if !reflect.DeepEqual(gotTar, wantTar) || !reflect.DeepEqual(gotConda, wantConda) {
		t.Errorf("shard entries\n got %+v\n     %+v\nwant %+v\n     %+v", gotTar, gotConda, wantTar, wantConda)
	}
}

// shardRecord turns a shard entry back into a record: md5 and sha256 must
// be raw bytes of the right length.
func shardRecord(t *testing.T, fields map[string]any) conda.PackageRecord {
	t.Helper()
	for key, size := range map[string]int{"md5": 16, "sha256": 32} {
		v, ok := fields[key]
		if !ok {
			continue
		}
		b, isBytes := v.([]byte)
		if !isBytes || len(b) != size {
			t.Errorf("shard entry %v: %s = %#v, want %d raw bytes", fields["name"], key, v, size)
			continue
		}
		fields[key] = hex.EncodeToString(b)
	}
	js, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	var r conda.PackageRecord
	if err := json.Unmarshal(js, &r); err != nil {
		t.Fatalf("shard entry %s: %v", js, err)
	}
	return r
}

// checkSortedKeys walks a JSON document and fails on an object whose keys
// are not in sorted order.
func checkSortedKeys(t *testing.T, doc []byte) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(doc))
	var walk func() error
	walk = func() error {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			prev := ""
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return err
				}
				if key := k.(string); key < prev {
					return fmt.Errorf("key %q after %q", key, prev)
				} else {
					prev = key
				}
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = d.Token()
		case json.Delim('['):
			for d.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = d.Token()
		}
		return err
	}
	if err := walk(); err != nil {
		t.Errorf("repodata.json keys are not sorted: %v", err)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	for _, opts := range []Options{
		{},
		{BaseURL: "https://example.org/pkgs/", ShardsBaseURL: "https://cdn.example.org/shards/", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	} {
		t.Run(fmt.Sprintf("base_url=%q", opts.BaseURL), func(t *testing.T) {
			channel := t.TempDir()
			for subdir, records := range testRecords() {
				if err := Write(channel, subdir, records, opts); err != nil {
					t.Fatal(err)
				}
				t.Run(subdir, func(t *testing.T) {
					checkSubdir(t, filepath.Join(channel, subdir), subdir, records, opts)
				})
			}
		})
	}
}

func TestWriteDeterministic(t *testing.T) {
	records := testRecords()["linux-64"]
	a, b := t.TempDir(), t.TempDir()
	if err := Write(a, "linux-64", records, Options{}); err != nil {
		t.Fatal(err)
	}
	// Input order must not matter.
	reversed := make([]conda.PackageRecord, len(records))
	for i, r := range records {
		reversed[len(records)-1-i] = r
	}
	if err := Write(b, "linux-64", reversed, Options{}); err != nil {
		t.Fatal(err)
	}
	ta, tb := treeBytes(t, a), treeBytes(t, b)
	if len(ta) != len(tb) {
		t.Errorf("two writes of the same records give %d and %d files", len(ta), len(tb))
	}
	for name, content := range ta {
		if tb[name] != content {
			t.Errorf("two writes of the same records differ in %s", name)
		}
	}
}

// treeBytes maps every file under root to its content.
func treeBytes(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteChannel(t *testing.T) {
	channel := t.TempDir()
	records := testRecords()["linux-64"]
	if err := WriteChannel(channel, records, Options{}); err != nil {
		t.Fatal(err)
	}
	checkSubdir(t, filepath.Join(channel, "linux-64"), "linux-64", records, Options{})
	// No noarch record, yet conda clients need noarch: an empty index.
	checkSubdir(t, filepath.Join(channel, "noarch"), "noarch", nil, Options{})

	noSubdir := records[0]
	noSubdir.Subdir = ""
	if err := WriteChannel(channel, []conda.PackageRecord{noSubdir}, Options{}); err == nil || !strings.Contains(err.Error(), noSubdir.FileName) {
		t.Errorf("WriteChannel of a record without subdir: error %v, want one naming %s", err, noSubdir.FileName)
	}
}

func TestWriteRejects(t *testing.T) {
	good := record("zlib", "1.3", "h0_0", "linux-64", ".conda")
	with := func(edit func(r *conda.PackageRecord)) []conda.PackageRecord {
		r := good
		edit(&r)
		return []conda.PackageRecord{r}
	}
	for _, tc := range []struct {
		name    string
		subdir  string
		records []conda.PackageRecord
		error   string
	}{
		{"no file name", "linux-64", with(func(r *conda.PackageRecord) { r.FileName = "" }), "not <dist>.conda"},
		{"other extension", "linux-64", with(func(r *conda.PackageRecord) { r.FileName = "x.zip" }), "not <dist>.conda"},
		{"slash in file name", "linux-64", with(func(r *conda.PackageRecord) { r.FileName = "../x.conda" }), "not <dist>.conda"},
		{"empty name", "linux-64", with(func(r *conda.PackageRecord) { r.Name = "" }), "empty name"},
		{"not utf-8", "linux-64", with(func(r *conda.PackageRecord) { r.Depends = []string{"\xbb"} }), "not valid UTF-8"},
		{"duplicate", "linux-64", []conda.PackageRecord{good, good}, "duplicate"},
		{"other subdir", "linux-64", with(func(r *conda.PackageRecord) { r.Subdir = "osx-64" }), `subdir "osx-64"`},
		{"bad sha256", "linux-64", with(func(r *conda.PackageRecord) { r.SHA256 = "zz" }), "sha256 \"zz\" is not 32 hex-encoded bytes"},
		{"bad md5", "linux-64", with(func(r *conda.PackageRecord) { r.MD5 = "abc" }), "md5 \"abc\" is not 16 hex-encoded bytes"},
		{"short md5", "linux-64", with(func(r *conda.PackageRecord) { r.MD5 = "abcd" }), "md5 \"abcd\" is not 16"},
		{"empty subdir", "", nil, "not a directory name"},
		{"subdir with slash", "a/b", nil, "not a directory name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			channel := t.TempDir()
			err := Write(channel, tc.subdir, tc.records, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("Write error = %v, want one containing %q", err, tc.error)
			}
			if _, statErr := os.Stat(filepath.Join(channel, tc.subdir, RepodataFile)); !errors.Is(statErr, fs.ErrNotExist) {
				t.Errorf("a rejected index still wrote repodata.json (%v)", statErr)
			}
		})
	}
}

// TestWriteRealRepodata round-trips real channel records.
func TestWriteRealRepodata(t *testing.T) {
	for _, channel := range []string{"conda-forge-numpy", "pytorch"} {
		t.Run(channel, func(t *testing.T) {
			roundTripRealRepodata(t, testchannel.RealData(t, "repodata", channel, "linux-64", "repodata.json"))
		})
	}
}

func roundTripRealRepodata(t *testing.T, path string) {
	var rd repodata
	if err := json.Unmarshal(readFile(t, path), &rd); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var records []conda.PackageRecord
	for _, m := range []map[string]conda.PackageRecord{rd.Packages, rd.PackagesConda} {
		for fn, r := range m {
			r.FileName = fn
			records = append(records, r)
		}
	}
	if len(records) < 20 {
		t.Fatalf("%s: only %d records", path, len(records))
	}
	// The fixtures mix noarch records into linux-64: WriteChannel splits them.
	channel := t.TempDir()
	if err := WriteChannel(channel, records, Options{}); err != nil {
		t.Fatal(err)
	}
	bySubdir := map[string][]conda.PackageRecord{}
	for _, r := range records {
		bySubdir[r.Subdir] = append(bySubdir[r.Subdir], r)
	}
	for subdir, recs := range bySubdir {
		checkSubdir(t, filepath.Join(channel, subdir), subdir, recs, Options{})
	}
}

// BenchmarkWrite writes synthetic subdirs: 10k records, and the 500k of
// the synthetic channel (run with -benchtime 1x).
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{10_000, 500_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			records := syntheticRecords(n)
			for b.Loop() {
				if err := Write(b.TempDir(), "linux-64", records, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// syntheticRecords returns n records, 20 versions per name, with deps.
func syntheticRecords(n int) []conda.PackageRecord {
	records := make([]conda.PackageRecord, n)
	names := max(n/20, 1)
	for i := range records {
		ext := ".conda"
		if i%3 == 0 {
			ext = ".tar.bz2"
		}
		records[i] = record(fmt.Sprintf("pkg%d", i/20), fmt.Sprintf("1.%d", i%20), "h0_0", "linux-64", ext)
		records[i].Depends = []string{fmt.Sprintf("pkg%d >=1", (i/20+1)%names), "libc >=2.17"}
	}
	return records
}
