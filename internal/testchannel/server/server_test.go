package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// channel is a small channel folder written by the test.
type channel struct {
	dir     string
	pkg     []byte // linux-64/pkg-1.0-0.conda
	repo    []byte // noarch/repodata.json
	modTime time.Time
}

func newChannel(t testing.TB) channel {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	pkg := make([]byte, 100_000) // larger than net/http's buffers, so bodies are streamed
	for i := range pkg {
		pkg[i] = byte(rng.Uint32())
	}
	c := channel{dir: dir, pkg: pkg, repo: []byte(`{"info":{"subdir":"noarch"},"packages":{}}`),
		modTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for name, data := range map[string][]byte{"linux-64/pkg-1.0-0.conda": c.pkg, "noarch/repodata.json": c.repo} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, c.modTime, c.modTime); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink out of the channel must not be followed.
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "noarch", "escape")); err != nil {
		t.Fatal(err)
	}
	return c
}

func start(t *testing.T, dir string, opts Options) *Server {
	t.Helper()
	s, err := Start(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newClient returns a client with its own connection pool. Without
// keep-alive, net/http never silently retries a request whose connection
// broke, which the fault tests rely on.
func newClient(t *testing.T, keepAlive bool) *http.Client {
	tr := &http.Transport{DisableKeepAlives: !keepAlive, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

type response struct {
	status int
	header http.Header
	body   []byte
	err    error // from the request or from reading the body
}

func fetch(t *testing.T, c *http.Client, method, url string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: body, err: err}
}

func sha256Tag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func TestServeFile(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	client := newClient(t, true)
	for _, tc := range []struct {
		path string
		want []byte
	}{
		{"/linux-64/pkg-1.0-0.conda", c.pkg},
		{"/noarch/repodata.json", c.repo},
		{"/noarch/./../noarch/repodata.json", c.repo},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := fetch(t, client, "GET", s.URL()+tc.path, nil)
			if r.err != nil || r.status != http.StatusOK {
				t.Fatalf("GET %s: status %d, err %v", tc.path, r.status, r.err)
			}
			if !bytes.Equal(r.body, tc.want) {
				t.Errorf("body differs from the file (%d bytes, want %d)", len(r.body), len(tc.want))
			}
			if got, want := r.header.Get("ETag"), sha256Tag(tc.want); got != want {
				t.Errorf("ETag %s, want strong content hash %s", got, want)
			}
			if got, want := r.header.Get("Last-Modified"), c.modTime.Format(http.TimeFormat); got != want {
				t.Errorf("Last-Modified %q, want %q", got, want)
			}
			if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(tc.want)) {
				t.Errorf("Content-Length %q, want %d", got, len(tc.want))
			}
		})
	}
}

func TestHead(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	r := fetch(t, newClient(t, true), "HEAD", s.URL()+"/linux-64/pkg-1.0-0.conda", nil)
	if r.status != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("HEAD: status %d with %d body bytes", r.status, len(r.body))
	}
	if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(c.pkg)) {
		t.Errorf("HEAD Content-Length %q, want %d", got, len(c.pkg))
	}
	if got := s.Requests()[0].BodyBytes; got != 0 {
		t.Errorf("HEAD logged %d body bytes", got)
	}
}

func TestNotServed(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	client := newClient(t, true)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/missing.json", http.StatusNotFound},
		{"GET", "/linux-64", http.StatusNotFound},      // directory: no listing
		{"GET", "/", http.StatusNotFound},              // channel root
		{"GET", "/noarch/escape", http.StatusNotFound}, // symlink out of the channel
		{"GET", "/../../../../etc/hostname", http.StatusNotFound},
		{"POST", "/noarch/repodata.json", http.StatusMethodNotAllowed},
		{"GET", "/t/anything/noarch/repodata.json", http.StatusForbidden}, // no token configured
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			r := fetch(t, client, tc.method, s.URL()+tc.path, nil)
			if r.err != nil || r.status != tc.status {
				t.Fatalf("status %d, err %v; want %d", r.status, r.err, tc.status)
			}
		})
	}
}

func TestConditional(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	client := newClient(t, true)
	url := s.URL() + "/linux-64/pkg-1.0-0.conda"
	etag := sha256Tag(c.pkg)
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
	}{
		{"matching etag", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"etag in list", map[string]string{"If-None-Match": `"other", ` + etag}, http.StatusNotModified},
		{"weak form matches", map[string]string{"If-None-Match": "W/" + etag}, http.StatusNotModified},
		{"other etag", map[string]string{"If-None-Match": `"0123"`}, http.StatusOK},
		{"not modified since", map[string]string{"If-Modified-Since": c.modTime.Format(http.TimeFormat)}, http.StatusNotModified},
		{"modified since", map[string]string{"If-Modified-Since": c.modTime.Add(-time.Hour).Format(http.TimeFormat)}, http.StatusOK},
		// If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
		{"etag changed, date not", map[string]string{"If-None-Match": `"0123"`, "If-Modified-Since": c.modTime.Format(http.TimeFormat)}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.ResetRequests()
			r := fetch(t, client, "GET", url, tc.header)
			if r.err != nil || r.status != tc.status {
				t.Fatalf("status %d, err %v; want %d", r.status, r.err, tc.status)
			}
			logged := s.Requests()
			if len(logged) != 1 {
				t.Fatalf("logged %d requests, want 1", len(logged))
			}
			if tc.status == http.StatusNotModified {
				if len(r.body) != 0 || logged[0].BodyBytes != 0 || !logged[0].NotModified() {
					t.Errorf("304 sent %d body bytes (logged %+v)", len(r.body), logged[0])
				}
				if got := r.header.Get("ETag"); got != etag {
					t.Errorf("304 ETag %q, want %q", got, etag)
				}
			} else if logged[0].BodyBytes != int64(len(c.pkg)) {
				t.Errorf("200 logged %d body bytes, want %d", logged[0].BodyBytes, len(c.pkg))
			}
		})
	}
}

func TestRange(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	client := newClient(t, true)
	url := s.URL() + "/linux-64/pkg-1.0-0.conda"
	n := len(c.pkg)
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
		want   [][2]int // byte ranges [from, to) expected in the body, in order
	}{
		{"first bytes", map[string]string{"Range": "bytes=0-99"}, 206, [][2]int{{0, 100}}},
		{"resume", map[string]string{"Range": "bytes=60000-"}, 206, [][2]int{{60000, n}}},
		{"suffix", map[string]string{"Range": "bytes=-10"}, 206, [][2]int{{n - 10, n}}},
		{"past the end is clipped", map[string]string{"Range": "bytes=99990-200000"}, 206, [][2]int{{99990, n}}},
		{"multiple", map[string]string{"Range": "bytes=0-1,50-59"}, 206, [][2]int{{0, 2}, {50, 60}}},
		{"unsatisfiable", map[string]string{"Range": "bytes=200000-"}, 416, nil},
		{"if-range current", map[string]string{"Range": "bytes=0-9", "If-Range": sha256Tag(c.pkg)}, 206, [][2]int{{0, 10}}},
		{"if-range stale sends all", map[string]string{"Range": "bytes=0-9", "If-Range": `"stale"`}, 200, [][2]int{{0, n}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.ResetRequests()
			r := fetch(t, client, "GET", url, tc.header)
			if r.err != nil || r.status != tc.status {
				t.Fatalf("status %d, err %v; want %d", r.status, r.err, tc.status)
			}
			parts := [][]byte{r.body}
			if len(tc.want) > 1 {
				parts = multipartBodies(t, r)
			}
			if tc.want == nil {
				return
			}
			if len(parts) != len(tc.want) {
				t.Fatalf("%d parts, want %d", len(parts), len(tc.want))
			}
			for i, w := range tc.want {
				if !bytes.Equal(parts[i], c.pkg[w[0]:w[1]]) {
					t.Errorf("part %d is not bytes %d-%d of the file", i, w[0], w[1]-1)
				}
			}
			logged := s.Requests()[0]
			if logged.Partial() != (tc.status == 206) || logged.BodyBytes != int64(len(r.body)) || logged.Range != tc.header["Range"] {
				t.Errorf("logged %+v for a %d response of %d bytes", logged, r.status, len(r.body))
			}
		})
	}
}

func multipartBodies(t *testing.T, r response) [][]byte {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/byteranges" {
		t.Fatalf("Content-Type %q, want multipart/byteranges", r.header.Get("Content-Type"))
	}
	var parts [][]byte
	mr := multipart.NewReader(bytes.NewReader(r.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b)
	}
}

func TestKeepAlive(t *testing.T) {
	c := newChannel(t)
	s := start(t, c.dir, Options{})
	client := newClient(t, true)
	var reused []bool
	for range 3 {
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = append(reused, info.Reused) }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", s.URL()+"/noarch/repodata.json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if want := []bool{false, true, true}; !slices.Equal(reused, want) {
		t.Errorf("connection reused %v, want %v", reused, want)
	}
}
