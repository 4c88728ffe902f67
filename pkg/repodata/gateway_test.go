package repodata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/conda"
)

// rec builds a record of a small test channel.
func rec(subdir, name, version string, depends ...string) conda.PackageRecord {
	return conda.PackageRecord{
		Name: name, Version: conda.MustParseVersion(version), Build: "h0_0", Subdir: subdir,
		Depends: depends, FileName: name + "-" + version + "-h0_0.conda",
		MD5: "00112233445566778899aabbccddeeff",
	}
}

// testRecords is a channel where python numpy pandas scipy reach a closure
// that leaves out r-base, r-x and unused.
var testRecords = []conda.PackageRecord{
	rec("linux-64", "python", "3.12.1", "libzlib >=1.3", "__glibc >=2.17"),
	rec("linux-64", "python", "3.11.0", "libzlib >=1.3"),
	rec("linux-64", "libzlib", "1.3.1"),
	rec("linux-64", "numpy", "2.0.0", "python >=3.12,<3.13.0a0", "libblas >=3.9"),
	rec("linux-64", "libblas", "3.9.0", "libopenblas"),
	rec("linux-64", "libopenblas", "0.3.27"),
	rec("linux-64", "scipy", "1.14.0", "numpy >=1.23", "python"),
	rec("linux-64", "r-base", "4.4.0", "libzlib"),
	rec("noarch", "pandas", "2.2.2", "numpy >=1.22", "python-dateutil", "python"),
	rec("noarch", "python-dateutil", "2.9.0", "six"),
	rec("noarch", "six", "1.16.0"),
	rec("noarch", "r-x", "1.0", "r-base"),
	rec("noarch", "unused", "1.0"),
}

var closureNames = []string{"libblas", "libopenblas", "libzlib", "numpy", "pandas", "python", "python-dateutil", "scipy", "six"}

func writeChannel(t *testing.T, recs []conda.PackageRecord) string {
	t.Helper()
	dir := t.TempDir()
	if err := index.WriteChannel(dir, recs, index.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func serve(t *testing.T, dir string, opts server.Options) *server.Server {
	t.Helper()
	s, err := server.Start(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newGateway returns a gateway over pkgs with fast retries.
func newGateway(t *testing.T, pkgs string, opts Options) *Gateway {
	t.Helper()
	opts.PkgsDir = pkgs
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	g, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func channel(t *testing.T, s string) conda.Channel {
	t.Helper()
	ch, err := conda.ParseChannel(s, conda.ChannelConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func specs(t *testing.T, ss ...string) []conda.MatchSpec {
	t.Helper()
	var out []conda.MatchSpec
	for _, s := range ss {
		m, err := conda.ParseMatchSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func load(t *testing.T, g *Gateway, url string, ss ...string) (*Index, error) {
	t.Helper()
	return g.Load(t.Context(), []conda.Channel{channel(t, url)}, []conda.Platform{conda.PlatformLinux64}, specs(t, ss...))
}

// paths returns the paths of the request log, sorted, with their statuses.
func paths(s *server.Server) []string {
	var out []string
	for _, r := range s.Requests() {
		p := r.Path
		if strings.HasPrefix(p, "linux-64/shards/") || strings.HasPrefix(p, "noarch/shards/") {
			p = p[:strings.Index(p, "/")] + "/shards/*"
		}
		out = append(out, fmt.Sprintf("%s %d", p, r.Status))
	}
	slices.Sort(out)
	return out
}

func TestLoadModes(t *testing.T) {
	dir := writeChannel(t, testRecords)
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{
			name: "sharded: shard index and only the reachable shards",
			want: append(slices.Repeat([]string{"linux-64/shards/* 200"}, 6),
				append(slices.Repeat([]string{"noarch/shards/* 200"}, 3),
					"linux-64/repodata_shards.msgpack.zst 200", "noarch/repodata_shards.msgpack.zst 200")...),
		},
		{
			name: "zst preferred",
			opts: Options{DisableShards: true},
			want: []string{"linux-64/repodata.json.zst 200", "noarch/repodata.json.zst 200"},
		},
		{
			name: "plain json",
			opts: Options{DisableShards: true, DisableZst: true},
			want: []string{"linux-64/repodata.json 200", "noarch/repodata.json 200"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, dir, server.Options{})
			g := newGateway(t, t.TempDir(), tt.opts)
			ix, err := load(t, g, s.URL(), "python", "numpy", "pandas", "scipy")
			if err != nil {
				t.Fatal(err)
			}
			if got := ix.Names(); !slices.Equal(got, closureNames) {
				t.Errorf("Names = %v, want %v", got, closureNames)
			}
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if got := paths(s); !slices.Equal(got, want) {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			py := ix.Records("python")
			if len(py) != 2 {
				t.Fatalf("python records = %d, want 2", len(py))
			}
			wantURL := s.URL() + "/linux-64/" + py[0].FileName
			if py[0].URL != wantURL || py[0].Channel != s.URL()+"/linux-64" || py[0].Version.String() != "3.11.0" {
				t.Errorf("python[0] = url %q channel %q version %s, want url %q", py[0].URL, py[0].Channel, py[0].Version, wantURL)
			}
			if st := g.Stats(); st.Requests != int64(len(want)) || st.BodyBytes != s.Stats().BodyBytes {
				t.Errorf("gateway stats %+v, server stats %+v", st, s.Stats())
			}
		})
	}
}

// TestCacheReuse loads twice and checks what the second load asks: nothing
// within the TTL, a 304 with no body when revalidating.
func TestCacheReuse(t *testing.T) {
	dir := writeChannel(t, testRecords)
	tests := []struct {
		name      string
		opts      Options
		wantReqs  int
		want304   int
		wantBytes int64
	}{
		{"ttl fresh: no request", Options{TTL: 3600, DisableShards: true}, 0, 0, 0},
		{"ttl 0: 304 without body", Options{TTL: 0, DisableShards: true}, 2, 2, 0},
		{"ttl 1 without max-age: 304", Options{TTL: 1, DisableShards: true, DisableZst: true}, 2, 2, 0},
		{"sharded ttl 0: index 304, shards from cache", Options{TTL: 0}, 2, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, dir, server.Options{})
			pkgs := t.TempDir()
			first, err := load(t, newGateway(t, pkgs, tt.opts), s.URL(), "pandas")
			if err != nil {
				t.Fatal(err)
			}
			s.ResetRequests()
			second, err := load(t, newGateway(t, pkgs, tt.opts), s.URL(), "pandas")
			if err != nil {
				t.Fatal(err)
			}
			st := s.Stats()
			if st.Requests != tt.wantReqs || st.ByStatus[304].Requests != tt.want304 || st.BodyBytes != tt.wantBytes {
				t.Errorf("second load: %d requests, %d × 304, %d body bytes; want %d, %d, %d (%v)",
					st.Requests, st.ByStatus[304].Requests, st.BodyBytes, tt.wantReqs, tt.want304, tt.wantBytes, paths(s))
			}
			if !slices.Equal(first.Names(), second.Names()) || len(second.Names()) == 0 {
				t.Errorf("names differ: %v vs %v", first.Names(), second.Names())
			}
		})
	}
}

// cacheFiles lists the cache's files, so tests can check that a failure
// left nothing behind.
func cacheFiles(t *testing.T, pkgs string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Join(pkgs, "cache"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".lock") {
			out = append(out, filepath.Base(p))
		}
		return nil
	})
	return out
}

// checkCache fails unless every cached index is whole: no temporary file
// is left and each <hash>.json is the file its state describes.
func checkCache(t *testing.T, pkgs string) {
	t.Helper()
	for _, f := range cacheFiles(t, pkgs) {
		if strings.HasPrefix(f, ".tmp") {
			t.Errorf("temporary file left: %s", f)
		}
		stem, ok := strings.CutSuffix(f, ".info.json")
		if !ok {
			continue
		}
		base := filepath.Join(pkgs, "cache", stem)
		if st, valid := readState(&entry{data: base + ".json", state: base + ".info.json"}); !valid {
			t.Errorf("%s does not describe its data file: %+v", f, st)
		}
	}
}

func TestFaults(t *testing.T) {
	dir := writeChannel(t, testRecords)
	tests := []struct {
		name    string
		pattern string
		fault   server.Fault
		opts    Options
		wantErr string // "" = recovers
		// wantFaults, when set, is how many requests met the fault: the
		// retries made, or none for a 4xx.
		wantFaults int
	}{
		{"500 twice then ok", "linux-64/repodata.json.zst", server.Fault{Status: 500, Times: 2}, Options{DisableShards: true}, "", 2},
		{"503 forever", "linux-64/repodata.json.zst", server.Fault{Status: 503}, Options{DisableShards: true}, "linux-64/repodata.json: giving up after 4 attempts: HTTP 503", 4},
		{"truncated once then ok", "linux-64/repodata.json", server.Fault{Truncate: true, TruncateAfter: 100, Times: 1}, Options{DisableShards: true, DisableZst: true}, "", 0},
		{"truncated zst once", "linux-64/repodata.json.zst", server.Fault{Truncate: true, TruncateAfter: 50, Times: 1}, Options{DisableShards: true}, "", 0},
		{"truncated forever", "linux-64/repodata.json", server.Fault{Truncate: true, TruncateAfter: 100}, Options{DisableShards: true, DisableZst: true}, "body cut short", 0},
		{"reset once", "noarch/repodata.json", server.Fault{Reset: true, Times: 1}, Options{DisableShards: true, DisableZst: true}, "", 0},
		{"bad json", "linux-64/repodata.json", server.Fault{FlipAt: []int64{0}}, Options{DisableShards: true, DisableZst: true}, "linux-64/repodata.json: parse repodata: offset 0: invalid character", 0},
		{"403 not retried", "noarch/repodata.json", server.Fault{Status: 403}, Options{DisableShards: true, DisableZst: true}, "HTTP 403 Forbidden: authentication failed", 1},
		{"slow headers once: timeout, retry", "noarch/repodata.json", server.Fault{Delay: time.Second, Times: 1}, Options{DisableShards: true, DisableZst: true, HeaderTimeout: 100 * time.Millisecond}, "", 0},
		{"slow headers forever", "noarch/repodata.json", server.Fault{Delay: time.Second}, Options{DisableShards: true, DisableZst: true, HeaderTimeout: 100 * time.Millisecond, Attempts: 2}, "timeout awaiting response headers", 0},
		{"corrupt shard retried", "linux-64/shards/*", server.Fault{FlipAt: []int64{10}, Times: 1}, Options{}, "", 0},
		{"shard 500 forever", "linux-64/shards/*", server.Fault{Status: 500}, Options{}, "HTTP 500", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, dir, server.Options{})
			if err := s.Fault(tt.pattern, tt.fault); err != nil {
				t.Fatal(err)
			}
			pkgs := t.TempDir()
			ix, err := load(t, newGateway(t, pkgs, tt.opts), s.URL(), "python", "pandas")
			if n := s.Stats().Faults; tt.wantFaults != 0 && n != tt.wantFaults {
				t.Errorf("%d requests met the fault, want %d", n, tt.wantFaults)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("want recovery, got %v", err)
				}
				if len(ix.Records("python")) != 2 {
					t.Errorf("python records %d, want 2", len(ix.Records("python")))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), s.URL()) {
				t.Fatalf("err = %v, want it to name %s and say %q", err, s.URL(), tt.wantErr)
			}
			checkCache(t, pkgs)
			// The failing entry has no cached copy; retry after clearing
			// the fault succeeds.
			s.ClearFaults()
			if _, err := load(t, newGateway(t, pkgs, tt.opts), s.URL(), "python", "pandas"); err != nil {
				t.Errorf("after the fault cleared: %v", err)
			}
		})
	}
}

// TestNoZst checks that a server without .zst costs one 404 and is then
// remembered, as conda's has_zst.
func TestNoZst(t *testing.T) {
	dir := writeChannel(t, testRecords)
	for _, sub := range []string{"linux-64", "noarch"} {
		if err := os.Remove(filepath.Join(dir, sub, index.RepodataZstFile)); err != nil {
			t.Fatal(err)
		}
	}
	s := serve(t, dir, server.Options{})
	pkgs := t.TempDir()
	opts := Options{DisableShards: true}
	for i, want := range [][]string{
		{"linux-64/repodata.json 200", "linux-64/repodata.json.zst 404", "noarch/repodata.json 200", "noarch/repodata.json.zst 404"},
		{"linux-64/repodata.json 304", "noarch/repodata.json 304"},
	} {
		s.ResetRequests()
		if _, err := load(t, newGateway(t, pkgs, opts), s.URL(), "six"); err != nil {
			t.Fatal(err)
		}
		if got := paths(s); !slices.Equal(got, want) {
			t.Errorf("load %d: requests %v, want %v", i+1, got, want)
		}
	}
	checkCache(t, pkgs)
}

// TestBaseURL checks that records get their URL from a CEP-15 base_url.
func TestBaseURL(t *testing.T) {
	dir := t.TempDir()
	if err := index.WriteChannel(dir, testRecords, index.Options{BaseURL: "https://pkgs.example/files/"}); err != nil {
		t.Fatal(err)
	}
	s := serve(t, dir, server.Options{})
	for _, opts := range []Options{{}, {DisableShards: true}} {
		ix, err := load(t, newGateway(t, t.TempDir(), opts), s.URL(), "six")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ix.Records("six")[0].URL, "https://pkgs.example/files/six-1.16.0-h0_0.conda"; got != want {
			t.Errorf("shards=%v: URL = %q, want %q", !opts.DisableShards, got, want)
		}
	}
}

func TestMissingSubdir(t *testing.T) {
	dir := writeChannel(t, testRecords)
	s := serve(t, dir, server.Options{})
	g := newGateway(t, t.TempDir(), Options{TTL: 3600})
	ch := channel(t, s.URL())
	// No osx-arm64 subdir: conda treats it as empty.
	ix, err := g.Load(t.Context(), []conda.Channel{ch}, []conda.Platform{conda.PlatformOSXArm64}, specs(t, "pandas"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.Names(); !slices.Equal(got, []string{"pandas", "python-dateutil", "six"}) {
		t.Errorf("Names = %v", got)
	}
	// The 404 is remembered within the TTL.
	s.ResetRequests()
	if _, err := g.Load(t.Context(), []conda.Channel{ch}, []conda.Platform{conda.PlatformOSXArm64}, specs(t, "pandas")); err != nil {
		t.Fatal(err)
	}
	if n := s.Stats().Requests; n != 0 {
		t.Errorf("second load made %d requests: %v", n, paths(s))
	}

	// A platform subdir answering 403 is empty too, as in conda.
	s.Fault("linux-64/*", server.Fault{Status: 403})
	ix, err = load(t, newGateway(t, t.TempDir(), Options{}), s.URL(), "pandas", "numpy")
	if err != nil {
		t.Fatal(err)
	}
	if got := ix.Names(); !slices.Equal(got, []string{"pandas", "python-dateutil", "six"}) {
		t.Errorf("with linux-64 forbidden: Names = %v", got)
	}
	s.ClearFaults()

	// No noarch: an error naming the channel and subdir.
	if err := os.RemoveAll(filepath.Join(dir, "noarch")); err != nil {
		t.Fatal(err)
	}
	_, err = load(t, newGateway(t, t.TempDir(), Options{}), s.URL(), "pandas")
	if want := "channel " + s.URL() + " has no subdir noarch"; err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestUnreachable(t *testing.T) {
	dir := writeChannel(t, testRecords)
	s := serve(t, dir, server.Options{})
	url := s.URL()
	s.Close()
	_, err := load(t, newGateway(t, t.TempDir(), Options{Attempts: 2}), url, "python")
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "giving up after 2 attempts") {
		t.Errorf("err = %v", err)
	}
}

func TestOffline(t *testing.T) {
	dir := writeChannel(t, testRecords)
	for _, opts := range []Options{{}, {DisableShards: true}} {
		t.Run(fmt.Sprintf("shards=%v", !opts.DisableShards), func(t *testing.T) {
			s := serve(t, dir, server.Options{})
			pkgs := t.TempDir()
			online, err := load(t, newGateway(t, pkgs, opts), s.URL(), "pandas", "scipy")
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			opts.Offline = true
			offline, err := load(t, newGateway(t, pkgs, opts), s.URL(), "pandas", "scipy")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(online.Names(), offline.Names()) {
				t.Errorf("offline names %v, online %v", offline.Names(), online.Names())
			}
			// A name whose shard was never fetched is not available offline.
			_, err = load(t, newGateway(t, pkgs, opts), s.URL(), "r-x")
			if !opts.DisableShards && (err == nil || !errors.Is(err, ErrOffline)) {
				t.Errorf("r-x offline: err = %v, want ErrOffline", err)
			}
			_, err = load(t, newGateway(t, t.TempDir(), opts), s.URL(), "pandas")
			if err == nil || !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), "not in the cache and offline") {
				t.Errorf("empty cache offline: err = %v, want ErrOffline", err)
			}
		})
	}
}

func TestPriorityAndPins(t *testing.T) {
	high := writeChannel(t, []conda.PackageRecord{rec("linux-64", "numpy", "1.26.0"), rec("linux-64", "six", "1.0")})
	low := writeChannel(t, testRecords)
	sh, sl := serve(t, high, server.Options{}), serve(t, low, server.Options{})
	g := newGateway(t, t.TempDir(), Options{})
	chans := []conda.Channel{channel(t, sh.URL()), channel(t, sl.URL())}
	lin := []conda.Platform{conda.PlatformLinux64}

	tests := []struct {
		specs []string
		name  string
		want  []string // channel of each record, in order
	}{
		{[]string{"numpy"}, "numpy", []string{sh.URL() + "/linux-64", sl.URL() + "/linux-64"}},
		{[]string{"pandas"}, "six", []string{sh.URL() + "/linux-64", sl.URL() + "/noarch"}},
		{[]string{sl.URL() + "::numpy"}, "numpy", []string{sl.URL() + "/linux-64"}},
		{[]string{sh.URL() + "::numpy"}, "numpy", []string{sh.URL() + "/linux-64"}},
		{[]string{sl.URL() + "/noarch::six"}, "six", []string{sl.URL() + "/noarch"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.specs, " "), func(t *testing.T) {
			ix, err := g.Load(t.Context(), chans, lin, specs(t, tt.specs...))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range ix.Records(tt.name) {
				got = append(got, r.Channel)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s from %v, want %v", tt.name, got, tt.want)
			}
		})
	}

	// A spec naming a channel not in the list loads that channel.
	ix, err := g.Load(t.Context(), chans[:1], lin, specs(t, sl.URL()+"::pandas"))
	if err != nil || len(ix.Records("pandas")) != 1 {
		t.Errorf("pinned to an extra channel: %v, %v", ix, err)
	}
}

func TestLocalChannels(t *testing.T) {
	dir := writeChannel(t, testRecords)
	for _, ch := range []string{"file://" + dir, dir} {
		t.Run(ch, func(t *testing.T) {
			ix, err := load(t, newGateway(t, t.TempDir(), Options{}), ch, "numpy")
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"libblas", "libopenblas", "libzlib", "numpy", "python"}
			if got := ix.Names(); !slices.Equal(got, want) {
				t.Errorf("Names = %v, want %v", got, want)
			}
			if u := ix.Records("numpy")[0].URL; u != "file://"+dir+"/linux-64/numpy-2.0.0-h0_0.conda" {
				t.Errorf("URL = %q", u)
			}
		})
	}
}

// TestSecretsNeverShown loads from channels needing a token and basic auth,
// and makes every output a user could see — errors, debug logs, the cache's
// state files, the index as JSON — then looks for the secrets in them.
func TestSecretsNeverShown(t *testing.T) {
	const token, user, password = "tk-SECRET-1", "ci", "pw-SECRET-2"
	dir := writeChannel(t, testRecords)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tests := []struct {
		name    string
		srv     server.Options
		chanURL func(s *server.Server) string
		creds   Authenticator
	}{
		{"token", server.Options{Token: token}, (*server.Server).URL, nil},
		{"basic auth in URL", server.Options{User: user, Password: password}, (*server.Server).URL, nil},
		{"basic auth from env", server.Options{User: user, Password: password},
			func(s *server.Server) string { return "http://" + s.Addr() },
			envAuth(t, map[string]string{AuthEnv: user + ":" + password + "@127.0.0.1"})},
		{"token from authentication.json", server.Options{Token: token},
			func(s *server.Server) string { return "http://" + s.Addr() },
			envAuth(t, map[string]string{"HOME": authHome(t, `{"127.0.0.1": {"type": "CondaToken", "token": "`+token+`"}}`)})},
		{"bearer token from authentication.json", server.Options{Bearer: token},
			func(s *server.Server) string { return "http://" + s.Addr() },
			envAuth(t, map[string]string{"HOME": authHome(t, `{"127.0.0.1": {"type": "BearerToken", "token": "`+token+`"}}`)})},
		{"basic auth from authentication.json", server.Options{User: user, Password: password},
			func(s *server.Server) string { return "http://" + s.Addr() },
			envAuth(t, map[string]string{"HOME": authHome(t, `{"127.0.0.1": {"type": "BasicHTTPAuthentication", "user": "`+user+`", "password": "`+password+`"}}`)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, dir, tt.srv)
			pkgs := t.TempDir()
			g := newGateway(t, pkgs, Options{Log: logger, Auth: tt.creds, Attempts: 2})
			url := tt.chanURL(s)
			ix, err := load(t, g, url, "pandas", "scipy")
			if err != nil {
				t.Fatal(err)
			}
			var shown []string
			js, _ := json.Marshal(ix.byName)
			shown = append(shown, string(js))
			// Errors: a fault forever, an auth failure.
			s.Fault("*", server.Fault{Status: 500})
			_, err = load(t, newGateway(t, t.TempDir(), Options{Log: logger, Auth: tt.creds, Attempts: 2}), url, "pandas")
			if err == nil {
				t.Fatal("want an error")
			}
			shown = append(shown, err.Error())
			s.ClearFaults()
			_, err = load(t, newGateway(t, t.TempDir(), Options{Log: logger}), strings.NewReplacer(token, "wrong", password, "wrong").Replace(url), "pandas")
			if err == nil {
				t.Fatal("want an auth error")
			}
			shown = append(shown, err.Error())
			for _, f := range cacheFiles(t, pkgs) {
				if strings.HasSuffix(f, ".info.json") {
					b, _ := os.ReadFile(filepath.Join(pkgs, "cache", f))
					shown = append(shown, string(b))
				}
			}
			shown = append(shown, logs.String())
			for _, out := range shown {
				if strings.Contains(out, token) || strings.Contains(out, password) {
					t.Errorf("secret shown in:\n%s", out)
				}
			}
			if !strings.Contains(logs.String(), "retrying") {
				t.Errorf("log has no retry line; the check above proves little:\n%s", logs.String())
			}
		})
	}
}

// authHome returns a home folder whose authentication.json is js.
func authHome(t *testing.T, js string) string {
	t.Helper()
	home := t.TempDir()
	p := filepath.Join(home, AuthFile)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// envAuth is EnvAuth over env.
func envAuth(t *testing.T, env map[string]string) Authenticator {
	t.Helper()
	a, err := EnvAuth(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestEnvAuth(t *testing.T) {
	home := authHome(t, `{
	  "b.example": {"type": "BasicHTTPAuthentication", "user": "file", "password": "pf"},
	  "e.example": {"type": "CondaToken", "token": "tk-e"},
	  "https://f.example/private/": {"type": "CondaToken", "token": "tk-private"},
	  "f.example": {"type": "BasicHTTPAuthentication", "user": "fuser", "password": "pf2"},
	  "g.example": {"type": "BearerToken", "token": "unusable"}
	}`)
	netrc := "machine a.example login alice password pa\ndefault login any password x\nmachine b.example\n  login bob\n  password pb\nmachine d.example login dan password pd\n"
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte(netrc), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := envAuth(t, map[string]string{"HOME": home, AuthEnv: "carol:pc@c.example, dave:p:d@d.example,broken"})
	tests := []struct{ url, want string }{
		{"https://a.example/ch/noarch/repodata.json", "https://alice:pa@a.example/ch/noarch/repodata.json"},
		{"https://b.example/ch", "https://file:pf@b.example/ch"},    // the file wins over netrc
		{"https://d.example/ch", "https://dave:p%3Ad@d.example/ch"}, // the env var wins over netrc
		{"https://c.example/ch", "https://carol:pc@c.example/ch"},
		{"https://e.example/ch/linux-64/x.conda", "https://e.example/t/tk-e/ch/linux-64/x.conda"},
		{"https://f.example/private/linux-64/x.conda", "https://f.example/t/tk-private/private/linux-64/x.conda"}, // the longest key
		{"https://f.example/privateer/x", "https://fuser:pf2@f.example/privateer/x"},                              // at a / boundary only
		{"https://g.example/ch", "https://g.example/ch"},                                                          // a bearer token: a header, below
		{"https://other.example/ch", "https://other.example/ch"},
		{"https://me:mine@a.example/ch", "https://me:mine@a.example/ch"}, // the URL's own
		{"https://e.example/t/own/ch", "https://e.example/t/own/ch"},     // the URL's own token
		{"file:///srv/a.example/ch", "file:///srv/a.example/ch"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := Authenticate(creds, u); got.String() != tt.want {
			t.Errorf("%s: got %s, want %s", tt.url, got, tt.want)
		}
	}
	u, err := url.Parse("https://g.example/ch/noarch/repodata.json")
	if err != nil {
		t.Fatal(err)
	}
	if got, h := Authenticate(creds, u); h.Get("Authorization") != "Bearer unusable" || got.String() != u.String() {
		t.Errorf("bearer: Authorization %q, URL %s", h.Get("Authorization"), got)
	}
	if _, h := Authenticate(creds, &url.URL{Scheme: "https", Host: "a.example", Path: "/ch"}); h != nil {
		t.Errorf("basic auth: header %v, want none", h)
	}
	bad := authHome(t, "{not json")
	if _, err := EnvAuth(func(k string) (string, bool) { return bad, k == "HOME" }); err == nil || !strings.Contains(err.Error(), AuthFile) {
		t.Errorf("a broken authentication.json: error %v, want one naming it", err)
	}
}

// TestCacheLayout checks conda's cache file names and state fields.
func TestCacheLayout(t *testing.T) {
	// The name conda and mamba give conda-forge's linux-64 cache, seen in
	// any of their pkgs/cache folders.
	if got := cacheKey("https://conda.anaconda.org/conda-forge/linux-64/", "repodata.json"); got != "497deca9" {
		t.Errorf("cacheKey = %s", got)
	}
	if a, b := cacheKey("https://x/c/linux-64", "repodata.json"), cacheKey("https://x/c/linux-64/", "repodata.json"); a != b {
		t.Errorf("trailing slash changes the key: %s %s", a, b)
	}
	dir := writeChannel(t, testRecords)
	s := serve(t, dir, server.Options{})
	pkgs := t.TempDir()
	if _, err := load(t, newGateway(t, pkgs, Options{DisableShards: true}), s.URL(), "six"); err != nil {
		t.Fatal(err)
	}
	key := cacheKey(s.URL()+"/noarch/", "repodata.json")
	var st map[string]any
	b, err := os.ReadFile(filepath.Join(pkgs, "cache", key+".info.json"))
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(pkgs, "cache", key+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if st["url"] != s.URL()+"/noarch/repodata.json" || st["etag"] == "" || st["mod"] == "" ||
		st["size"] != float64(fi.Size()) || st["mtime_ns"] != float64(fi.ModTime().UnixNano()) {
		t.Errorf("state = %v", st)
	}
	if z, _ := st["has_zst"].(map[string]any); z["value"] != true || z["last_checked"] == "" {
		t.Errorf("has_zst = %v", st["has_zst"])
	}
}

// TestNames: every name of the channel's platform and noarch, sorted, from
// a sharded index without fetching a shard, and from repodata.json.
func TestNames(t *testing.T) {
	dir := writeChannel(t, testRecords)
	want := []string{"libblas", "libopenblas", "libzlib", "numpy", "pandas", "python", "python-dateutil", "r-base", "r-x", "scipy", "six", "unused"}
	for _, tt := range []struct {
		name string
		opts Options
	}{
		{"sharded", Options{}},
		{"repodata.json", Options{DisableShards: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, dir, server.Options{})
			g := newGateway(t, t.TempDir(), tt.opts)
			got, err := g.Names(t.Context(), []conda.Channel{channel(t, s.URL())}, []conda.Platform{conda.PlatformLinux64})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Names = %v, want %v", got, want)
			}
			for _, p := range paths(s) {
				if strings.Contains(p, "/shards/") {
					t.Errorf("fetched a shard: %s", p)
				}
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		g := newGateway(t, t.TempDir(), Options{})
		if _, err := g.Names(t.Context(), []conda.Channel{channel(t, "http://127.0.0.1:1/nothing")}, []conda.Platform{conda.PlatformLinux64}); err == nil {
			t.Error("no error for an unreachable channel")
		}
	})
}
