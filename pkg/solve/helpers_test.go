package solve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// index is a Source built in test code: records by name, in the order given.
type index map[string][]conda.PackageRecord

func (ix index) Records(name string) []conda.PackageRecord { return ix[name] }

// add appends records to the index.
func (ix index) add(recs ...conda.PackageRecord) index {
	for _, r := range recs {
		ix[r.Name] = append(ix[r.Name], r)
	}
	return ix
}

// opt changes a test record.
type opt func(*conda.PackageRecord)

func deps(d ...string) opt { return func(r *conda.PackageRecord) { r.Depends = d } }
func cons(c ...string) opt { return func(r *conda.PackageRecord) { r.Constrains = c } }
func tracks(f ...string) opt {
	return func(r *conda.PackageRecord) { r.TrackFeatures = f }
}
func buildNum(n uint64) opt         { return func(r *conda.PackageRecord) { r.BuildNumber = n } }
func stamp(ts int64) opt            { return func(r *conda.PackageRecord) { r.Timestamp = ts } }
func channel(c string) opt          { return func(r *conda.PackageRecord) { r.Channel = c } }
func noarch(n conda.NoarchType) opt { return func(r *conda.PackageRecord) { r.Noarch = n } }

// rec makes a record from "name version [build]", on channel "main" unless
// an option says otherwise.
func rec(t testing.TB, nvb string, opts ...opt) conda.PackageRecord {
	t.Helper()
	f := strings.Fields(nvb)
	if len(f) == 2 {
		f = append(f, "0")
	}
	v, err := conda.ParseVersion(f[1])
	if err != nil {
		t.Fatal(err)
	}
	r := conda.PackageRecord{Name: f[0], Version: v, Build: f[2], Channel: "main", Subdir: "linux-64"}
	for _, o := range opts {
		o(&r)
	}
	r.FileName = r.Name + "-" + r.Version.String() + "-" + r.Build + ".conda"
	r.URL = "https://example.invalid/" + r.Channel + "/" + r.Subdir + "/" + r.FileName
	return r
}

// specs parses match specs.
func specs(t testing.TB, texts ...string) []conda.MatchSpec {
	t.Helper()
	out := make([]conda.MatchSpec, 0, len(texts))
	for _, s := range texts {
		m, err := conda.ParseMatchSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// channels parses channel names.
func channels(t testing.TB, names ...string) []conda.Channel {
	t.Helper()
	var out []conda.Channel
	for _, n := range names {
		c, err := conda.ParseChannel(n, conda.ChannelConfig{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// solveValid solves and checks the answer with Validate, virtual packages
// included.
func solveValid(t testing.TB, src Source, req Request) ([]conda.PackageRecord, error) {
	t.Helper()
	got, err := Solve(context.Background(), src, req)
	if err != nil {
		return nil, err
	}
	all := append(append([]conda.PackageRecord(nil), got...), req.Virtual...)
	if err := Validate(all, req.Specs); err != nil {
		t.Fatalf("invalid solution %v:\n%v", dists(got), err)
	}
	for _, pin := range req.Pinned {
		for _, r := range got {
			if r.Name == pin.Name.String() && !pin.Matches(&r) {
				t.Fatalf("%s violates pin %s", r.Dist(), pin)
			}
		}
	}
	return got, nil
}

func dists(recs []conda.PackageRecord) []string {
	out := make([]string, len(recs))
	for i := range recs {
		out[i] = recs[i].Dist()
	}
	return out
}

// realdata returns the path of a file under shared/realdata, found by
// walking up from the test's directory, or skips the test.
func realdata(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "realdata", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("shared/realdata/%s not found beside the checkout: skipping real-data test", rel)
		}
		dir = parent
	}
}

// loadRepodata reads a repodata.json into an index, each record's channel
// and URL set from channelName.
func loadRepodata(t testing.TB, path, channelName string) index {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := conda.ParseRepoData(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ix := index{}
	for _, r := range rd.Records() {
		r.Channel = channelName
		r.URL = channelName + "/" + r.FileName
		ix.add(r)
	}
	return ix
}
