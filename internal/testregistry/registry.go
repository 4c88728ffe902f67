// Package testregistry starts a real OCI registry — Debian's docker-registry
// (CNCF distribution) — on a loopback port for tests, behind a small proxy
// that counts the blobs pushed to it.
package testregistry

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Binary is where Debian's docker-registry package installs the registry.
const Binary = "/usr/bin/docker-registry"

// Options tunes Start. The zero value starts a registry without auth.
type Options struct {
	// User and Password, when set, require basic auth (htpasswd).
	User, Password string
}

// Registry is a running registry. Host is "127.0.0.1:PORT", the address
// clients use in image references (host/repo:tag).
type Registry struct {
	Host string

	mu      sync.Mutex
	uploads []string // digests of completed blob uploads, in order
	log     bytes.Buffer
}

// Start runs docker-registry with a fresh storage directory and stops it when
// the test ends. It skips the test when the binary is not installed.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Skipf("no registry: %s not installed (apt-get install docker-registry)", Binary)
	}
	dir := t.TempDir()
	backend := freeAddr(t)
	auth := ""
	if opts.User != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(opts.Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(opts.User+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s\n", htpasswd)
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: testregistry
%s`, filepath.Join(dir, "storage"), backend, auth)
	configPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &Registry{}
	cmd := exec.Command(Binary, "serve", configPath)
	cmd.Stdout, cmd.Stderr = &r.log, &r.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", Binary, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if err := waitReady(backend, 10*time.Second); err != nil {
		t.Fatalf("registry on %s: %v\n%s", backend, err, r.log.String())
	}
	r.Host = r.startProxy(t, backend)
	return r
}

// startProxy serves a reverse proxy to backend that records completed blob
// uploads, and returns its address.
func (r *Registry) startProxy(t testing.TB, backend string) string {
	target := &url.URL{Scheme: "http", Host: backend}
	proxy := httputil.NewSingleHostReverseProxy(target)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// A blob upload ends with a PUT carrying ?digest= (monolithic or
		// after PATCHes); blobs the registry already has are never sent.
		if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/blobs/uploads/") {
			if d := req.URL.Query().Get("digest"); d != "" {
				r.mu.Lock()
				r.uploads = append(r.uploads, d)
				r.mu.Unlock()
			}
		}
		proxy.ServeHTTP(w, req)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// Uploads returns the digests of the blobs uploaded so far, in order.
func (r *Registry) Uploads() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.uploads...)
}

// ResetUploads forgets the uploads counted so far.
func (r *Registry) ResetUploads() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.uploads = nil
}

// freeAddr returns a loopback address with a port free at the time of the
// call (docker-registry takes no listener from its parent).
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady polls /v2/ until the registry answers (200, or 401 with auth).
func waitReady(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			err = fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", timeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
