package httpretry

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNetworkSSLVerify: a server whose certificate no system authority
// signed is refused by default, reached with its authority given as a file
// or a folder, or with verification off; a bad CA path is an error naming it.
func TestNetworkSSLVerify(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("not a certificate"), 0o644)

	tests := []struct {
		verify  string
		wantErr string // of Client, or of the request when prefixed "get: "
	}{
		{"", "get: certificate signed by unknown authority"},
		{caFile, ""},
		{dir, ""},
		{"false", ""},
		{filepath.Join(dir, "missing.pem"), "ssl_verify " + filepath.Join(dir, "missing.pem") + ": stat"},
		{empty, "ssl_verify " + empty + ": no PEM certificate"},
	}
	for _, tt := range tests {
		c, err := Network{SSLVerify: tt.verify}.Client(2, time.Second)
		if err != nil {
			if tt.wantErr == "" || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ssl_verify %q: %v, want %q", tt.verify, err, tt.wantErr)
			}
			continue
		}
		resp, err := c.Get(srv.URL)
		switch {
		case err != nil && (!strings.HasPrefix(tt.wantErr, "get: ") || !strings.Contains(err.Error(), strings.TrimPrefix(tt.wantErr, "get: "))):
			t.Errorf("ssl_verify %q: get: %v, want %q", tt.verify, err, tt.wantErr)
		case err == nil && tt.wantErr != "":
			t.Errorf("ssl_verify %q: reached the server, want %q", tt.verify, tt.wantErr)
		}
		if err == nil {
			resp.Body.Close()
		}
	}
}

// TestNetworkProxies: requests go through the proxy proxy_servers names
// for their scheme or host, most specific first; others go straight.
func TestNetworkProxies(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "direct") }))
	defer target.Close()
	var mu sync.Mutex
	var seen []string
	proxy := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, name+" "+r.URL.String())
			mu.Unlock()
			io.WriteString(w, "via "+name)
		}))
	}
	a, b := proxy("a"), proxy("b")
	defer a.Close()
	defer b.Close()
	host := strings.TrimPrefix(target.URL, "http://")
	hostname := host[:strings.LastIndex(host, ":")]
	tests := []struct {
		proxies map[string]string
		want    string
	}{
		{map[string]string{"http": a.URL}, "via a"},
		{map[string]string{"http": a.URL, "http://" + hostname: b.URL}, "via b"},
		{map[string]string{"all": b.URL, "https": a.URL}, "via b"},
		{map[string]string{"https": a.URL, "http://elsewhere.example": b.URL}, "direct"},
	}
	for _, tt := range tests {
		c, err := Network{Proxies: tt.proxies}.Client(2, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Get(target.URL + "/x/repodata.json")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tt.want {
			t.Errorf("proxies %v: %q, want %q", tt.proxies, body, tt.want)
		}
	}
	if len(seen) != 3 || !strings.HasSuffix(seen[0], target.URL+"/x/repodata.json") {
		t.Errorf("the proxies saw %q: want three absolute requests for the target", seen)
	}
	if _, err := (Network{Proxies: map[string]string{"http": "proxy:3128"}}).Client(2, time.Second); err == nil || !strings.Contains(err.Error(), `proxy_servers http: "proxy:3128" is not a proxy URL`) {
		t.Errorf("bad proxy: %v", err)
	}
}
