package main

import (
	"encoding/json"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/conda"
)

// TestSSLVerify installs from a channel served over HTTPS with a
// certificate no system trusts: refused by default, naming the channel;
// installed when the authority is given (--cacert-path, --ssl-verify,
// .condarc's ssl_verify) or verification is off (--ssl-verify false,
// CONDA_SSL_VERIFY, which --no-env ignores). Bad values are errors naming
// them.
func TestSSLVerify(t *testing.T) {
	srv, err := server.Start(t.Context(), pinChannel(t), server.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ca := writeFile(t, t.TempDir(), "ca.pem", string(srv.CACertPEM()))
	rc := writeFile(t, t.TempDir(), "condarc", "ssl_verify: "+ca+"\n")
	install := func(extra ...string) (result, string) {
		prefix := filepath.Join(t.TempDir(), "env")
		return runCLI(t, append([]string{"create", "-y", "-p", prefix, "--override-channels", "-c", srv.URL(), "app"}, extra...)...), prefix
	}
	for _, tt := range []struct {
		name  string
		env   map[string]string
		flags []string
		want  string // in stderr when the install must fail
	}{
		{name: "untrusted", want: "certificate signed by unknown authority"},
		{name: "cacert-path", flags: []string{"--cacert-path", ca}},
		{name: "ssl-verify file", flags: []string{"--ssl-verify", ca}},
		{name: "ssl-verify false", flags: []string{"--ssl-verify", "false"}},
		{name: "condarc", flags: []string{"--rc-file", rc}},
		{name: "environment", env: map[string]string{"CONDA_SSL_VERIFY": "false"}},
		{name: "no-env", env: map[string]string{"CONDA_SSL_VERIFY": "false"}, flags: []string{"--no-env"}, want: "certificate signed by unknown authority"},
		{name: "missing CA", flags: []string{"--ssl-verify", filepath.Join(filepath.Dir(ca), "nope.pem")}, want: "ssl_verify " + filepath.Join(filepath.Dir(ca), "nope.pem")},
		{name: "both", flags: []string{"--ssl-verify", "false", "--cacert-path", ca}, want: "--ssl-verify and --cacert-path exclude each other"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t) // no cached index or package from another case
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			r, prefix := install(tt.flags...)
			if tt.want != "" {
				if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
					t.Errorf("exit %d, stderr %q: want an error saying %q", r.code, r.stderr, tt.want)
				}
				if tt.name == "untrusted" && !strings.Contains(r.stderr, srv.Addr()) {
					t.Errorf("stderr %q does not name the channel", r.stderr)
				}
				if _, err := os.Stat(prefix); err == nil {
					t.Errorf("%s was created", prefix)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(prefix, "share", "app.txt")); err != nil {
				t.Errorf("app not installed: %v", err)
			}
		})
	}
}

// TestProxyServers: .condarc's proxy_servers sends index requests and
// package downloads through the proxy named for their scheme.
func TestProxyServers(t *testing.T) {
	isolate(t)
	srv, err := server.Start(t.Context(), pinChannel(t), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var mu sync.Mutex
	var proxied []string
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		mu.Lock()
		proxied = append(proxied, r.In.URL.String())
		mu.Unlock()
		r.Out.URL = r.In.URL // a forward proxy's request holds the whole URL
	}}
	proxySrv := httptest.NewServer(proxy)
	defer proxySrv.Close()
	rc := writeFile(t, t.TempDir(), "condarc", "proxy_servers:\n  http: "+proxySrv.URL+"\n")
	prefix := filepath.Join(t.TempDir(), "env")
	r := runCLI(t, "create", "-y", "-p", prefix, "--rc-file", rc, "--override-channels", "-c", srv.URL(), "app")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(proxied, "\n")
	if !strings.Contains(all, srv.URL()+"/noarch/repodata_shards.msgpack.zst") || !strings.Contains(all, srv.URL()+"/noarch/app-2.0-0.conda") {
		t.Errorf("the proxy saw:\n%s\nwant the index and the package downloads", all)
	}
}

// TestGlobalOptions: -q prints nothing but --json's document; -v logs the
// requests and the solve on stderr; --log-level takes micromamba's names;
// --channel-alias resolves channels given by name; --repodata-ttl 0 asks
// the server again.
func TestGlobalOptions(t *testing.T) {
	isolate(t)
	ch := pinChannel(t)
	srv, err := server.Start(t.Context(), filepath.Dir(ch), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	byName := []string{"--override-channels", "--channel-alias", srv.URL(), "-c", filepath.Base(ch)}
	create := func(flags ...string) result {
		return runCLI(t, append(append([]string{"create", "-y", "-p", filepath.Join(t.TempDir(), "env")}, byName...), append(flags, "app")...)...)
	}
	if r := create("-q"); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("-q: exit %d, stdout %q, stderr %q: want nothing", r.code, r.stdout, r.stderr)
	}
	r := create("-q", "--json")
	var doc map[string]any
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &doc) != nil || doc["success"] != true || r.stderr != "" {
		t.Errorf("-q --json: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	before := len(srv.Requests())
	r = create("-v", "--repodata-ttl", "0")
	if r.code != 0 || !strings.Contains(r.stderr, "msg=GET url="+srv.URL()+"/"+filepath.Base(ch)+"/noarch/repodata_shards.msgpack.zst status=304") || !strings.Contains(r.stderr, "msg=solved") {
		t.Errorf("-v --repodata-ttl 0: exit %d, stderr %q: want the revalidation (304) and the solve logged", r.code, r.stderr)
	}
	if len(srv.Requests()) == before {
		t.Errorf("--repodata-ttl 0 sent no request")
	}
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--log-level", "loud"}, `--log-level "loud": want critical, error, warning, info, debug, trace or off`},
		{[]string{"--repodata-ttl", "-3"}, "--repodata-ttl -3"},
	} {
		if r := create(tt.flags...); r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q: want %q", tt.flags, r.code, r.stderr, tt.want)
		}
	}
	if r := create("--log-level", "debug", "--ssl-no-revoke"); r.code != 0 || !strings.Contains(r.stderr, "level=INFO msg=solved") {
		t.Errorf("--log-level debug: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestRetryCleanCache: specs the cached index cannot satisfy are solved
// again against fresh indexes with --retry-clean-cache, and fail without.
func TestRetryCleanCache(t *testing.T) {
	isolate(t)
	served := t.TempDir()
	pkg := func(version string) *pkgbuild.Package {
		return &pkgbuild.Package{Record: conda.PackageRecord{Name: "tool", Version: conda.MustParseVersion(version), Build: "0",
			Subdir: "noarch", Noarch: conda.NoarchGeneric, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "share/tool.txt", Mode: 0o644, Data: []byte(version)}}}
	}
	publish := func(pkgs ...*pkgbuild.Package) { // the served folder's content, replaced
		old, _ := os.ReadDir(served)
		for _, e := range old {
			os.RemoveAll(filepath.Join(served, e.Name()))
		}
		if err := os.CopyFS(served, os.DirFS(writeChannel(t, pkgs))); err != nil {
			t.Fatal(err)
		}
	}
	publish(pkg("1.0"))
	srv, err := server.Start(t.Context(), served, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := []string{"--override-channels", "-c", srv.URL(), "-y"}
	if r := runCLI(t, append([]string{"create", "-p", filepath.Join(t.TempDir(), "a"), "tool"}, base...)...); r.code != 0 {
		t.Fatalf("first create: exit %d, stderr %q", r.code, r.stderr)
	}
	// tool 2.0 appears; the cached index (an hour's TTL) does not know it.
	publish(pkg("1.0"), pkg("2.0"))
	if r := runCLI(t, append([]string{"create", "-p", filepath.Join(t.TempDir(), "b"), "tool>=2"}, base...)...); r.code == 0 {
		t.Fatalf("tool>=2 solved from a cache that has no tool 2.0")
	}
	prefix := filepath.Join(t.TempDir(), "c")
	r := runCLI(t, append([]string{"create", "-p", prefix, "tool>=2", "--retry-clean-cache"}, base...)...)
	if b, err := os.ReadFile(filepath.Join(prefix, "share", "tool.txt")); r.code != 0 || err != nil || string(b) != "2.0" {
		t.Errorf("--retry-clean-cache: exit %d, stderr %q, tool.txt %q (%v)", r.code, r.stderr, b, err)
	}
}

// TestAlwaysCopy: files are hard links into the package cache by default,
// copies with --copy (or .condarc's always_copy), which conda-meta records
// as link type 3.
func TestAlwaysCopy(t *testing.T) {
	home := isolate(t)
	ch := pinChannel(t)
	cached := filepath.Join(home, "root", "pkgs", "tool-2.0-0", "share", "tool.txt")
	rc := writeFile(t, t.TempDir(), "condarc", "always_copy: true\n")
	for _, tt := range []struct {
		flags  []string
		shared bool
		link   int
	}{
		{nil, true, 1},
		{[]string{"--copy"}, false, 3},
		{[]string{"--always-copy"}, false, 3},
		{[]string{"--rc-file", rc}, false, 3},
	} {
		prefix := filepath.Join(t.TempDir(), "env")
		r := runCLI(t, append([]string{"create", "-y", "-p", prefix, "--override-channels", "-c", ch, "tool"}, tt.flags...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", tt.flags, r.code, r.stderr)
		}
		a, err1 := os.Stat(filepath.Join(prefix, "share", "tool.txt"))
		b, err2 := os.Stat(cached)
		if err1 != nil || err2 != nil || os.SameFile(a, b) != tt.shared {
			t.Errorf("%v: shares the cache's inode: %v, want %v (%v, %v)", tt.flags, os.SameFile(a, b), tt.shared, err1, err2)
		}
		var rec struct {
			Link struct{ Type int } `json:"link"`
		}
		data, _ := os.ReadFile(filepath.Join(prefix, "conda-meta", "tool-2.0-0.json"))
		if err := json.Unmarshal(data, &rec); err != nil || rec.Link.Type != tt.link {
			t.Errorf("%v: conda-meta link type %d (%v), want %d", tt.flags, rec.Link.Type, err, tt.link)
		}
	}
}
