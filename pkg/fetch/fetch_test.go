package fetch_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/fetch"
)

const token = "tk-0123456789-secret"

// fixture is a channel with one random file, served with a token.
type fixture struct {
	srv  *server.Server
	data []byte
	req  fetch.Request
	dir  string // download directory
}

func newFixture(t *testing.T, size int) *fixture {
	t.Helper()
	ch := t.TempDir()
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(data)
	if err := os.MkdirAll(filepath.Join(ch, "noarch"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ch, "noarch", "pkg-1-0.conda"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Start(ctx, ch, server.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); cancel() })
	sum := sha256.Sum256(data)
	dir := t.TempDir()
	return &fixture{srv: srv, data: data, dir: dir, req: fetch.Request{
		URL:  srv.URL() + "/noarch/pkg-1-0.conda",
		Dest: filepath.Join(dir, "pkg-1-0.conda"), Size: int64(size), SHA256: hex.EncodeToString(sum[:]),
	}}
}

// client retries fast and gives up on a silent server after 200ms so that
// tests of faults stay quick.
func client(progress func(fetch.Progress)) *fetch.Client {
	return fetch.New(fetch.Options{Attempts: 3, Backoff: time.Millisecond, StallTimeout: 200 * time.Millisecond, Progress: progress})
}

// assertNothingLeft checks the download directory is empty.
func (fx *fixture) assertNothingLeft(t *testing.T) {
	t.Helper()
	if es, _ := os.ReadDir(fx.dir); len(es) != 0 {
		t.Errorf("left in the download directory: %v", es)
	}
}

func (fx *fixture) assertDownloaded(t *testing.T) {
	t.Helper()
	got, err := os.ReadFile(fx.req.Dest)
	if err != nil || string(got) != string(fx.data) {
		t.Fatalf("downloaded file differs from the served one (%d vs %d bytes, %v)", len(got), len(fx.data), err)
	}
	if es, _ := os.ReadDir(fx.dir); len(es) != 1 {
		t.Errorf("download directory holds %v, want the file alone", es)
	}
}

func TestDownload(t *testing.T) {
	tests := []struct {
		name  string
		fault *server.Fault
		// wantRanges lists the Range header of each request in order.
		wantRanges []string
		wantStatus []int
	}{
		{"plain", nil, []string{""}, []int{200}},
		{"500 twice then served", &server.Fault{Status: 500, Times: 2}, []string{"", "", ""}, []int{500, 500, 200}},
		{"truncated then resumed", &server.Fault{Truncate: true, TruncateAfter: 100_000, Times: 1}, []string{"", "bytes=100000-"}, []int{200, 206}},
		{"connection reset then served", &server.Fault{Reset: true, Times: 1}, []string{"", ""}, []int{0, 200}},
		{"stalled body then served", &server.Fault{Trickle: time.Second, TrickleChunk: 100_000, Times: 1}, []string{"", ""}, []int{200, 200}},
		{"stalled headers then served", &server.Fault{Delay: time.Second, Times: 1}, []string{"", ""}, []int{0, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, 300_000)
			if tt.fault != nil {
				if err := fx.srv.Fault("*.conda", *tt.fault); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			var last fetch.Progress
			err := client(func(p fetch.Progress) {
				mu.Lock()
				last = p
				mu.Unlock()
			}).Download(context.Background(), fx.req)
			if err != nil {
				t.Fatal(err)
			}
			fx.assertDownloaded(t)
			if last.Done != int64(len(fx.data)) || last.Total != int64(len(fx.data)) || strings.Contains(last.URL, token) {
				t.Errorf("last progress event %+v, want done = total = %d and a redacted URL", last, len(fx.data))
			}
			reqs := fx.srv.Requests()
			if len(reqs) != len(tt.wantRanges) {
				t.Fatalf("requests %v, want %d", reqs, len(tt.wantRanges))
			}
			for i, r := range reqs {
				if r.Range != tt.wantRanges[i] || r.Status != tt.wantStatus[i] {
					t.Errorf("request %d: %v, want range %q status %d", i, r, tt.wantRanges[i], tt.wantStatus[i])
				}
			}
		})
	}
}

func TestDownloadFailures(t *testing.T) {
	tests := []struct {
		name     string
		fault    server.Fault
		edit     func(r *fetch.Request, data []byte)
		want     []string // substrings of the error
		requests int
	}{
		{"wrong bytes", server.Fault{FlipAt: []int64{1000}}, nil, []string{"sha256 mismatch: expected "}, 1},
		{"persistent 500", server.Fault{Status: 500}, nil, []string{"500"}, 3},
		{"not found is final", server.Fault{Status: 404}, nil, []string{"404"}, 1},
		{"size mismatch", server.Fault{}, func(r *fetch.Request, _ []byte) { r.Size-- }, []string{"size mismatch: expected 299999 bytes"}, 1},
		{"md5 mismatch", server.Fault{}, func(r *fetch.Request, _ []byte) { r.SHA256, r.MD5 = "", strings.Repeat("0", 32) }, []string{"md5 mismatch: expected 00000000000000000000000000000000, got "}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t, 300_000)
			if err := fx.srv.Fault("*.conda", tt.fault); err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				tt.edit(&fx.req, fx.data)
			}
			err := client(nil).Download(context.Background(), fx.req)
			if err == nil {
				t.Fatal("download succeeded")
			}
			msg := err.Error()
			for _, w := range append(tt.want, "/t/<TOKEN>/noarch/pkg-1-0.conda") {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, token) {
				t.Errorf("error %q shows the token", msg)
			}
			if n := len(fx.srv.Requests()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			fx.assertNothingLeft(t)
		})
	}
}

func TestDownloadMD5Only(t *testing.T) {
	fx := newFixture(t, 10_000)
	sum := md5.Sum(fx.data)
	fx.req.SHA256, fx.req.MD5 = "", hex.EncodeToString(sum[:])
	if err := client(nil).Download(context.Background(), fx.req); err != nil {
		t.Fatal(err)
	}
	fx.assertDownloaded(t)
}

func TestDownloadCancelledDuringBackoff(t *testing.T) {
	fx := newFixture(t, 1000)
	fx.srv.Fault("*.conda", server.Fault{Status: 503})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c := fetch.New(fetch.Options{Attempts: 5, Backoff: time.Hour})
	err := c.Download(ctx, fx.req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's", err)
	}
	fx.assertNothingLeft(t)
}

func TestDownloadAll(t *testing.T) {
	fx := newFixture(t, 50_000)
	var reqs []fetch.Request
	for i := range 8 {
		r := fx.req
		r.Dest = filepath.Join(fx.dir, "copy"+string(rune('a'+i)))
		reqs = append(reqs, r)
	}
	if err := client(nil).DownloadAll(context.Background(), reqs); err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if b, err := os.ReadFile(r.Dest); err != nil || string(b) != string(fx.data) {
			t.Errorf("%s: wrong content (%v)", r.Dest, err)
		}
	}

	reqs[3].SHA256 = strings.Repeat("0", 64)
	err := client(nil).DownloadAll(context.Background(), reqs)
	if err == nil || !strings.Contains(err.Error(), "sha256 mismatch") {
		t.Errorf("DownloadAll with one bad request: %v, want its mismatch", err)
	}
}

// TestDownloadDiskFull downloads onto a 1 MiB tmpfs (needs root): a clear
// error and no partial file.
func TestDownloadDiskFull(t *testing.T) {
	fx := newFixture(t, 3<<20)
	mountSmallTmpfs(t, fx.dir)
	err := client(nil).Download(context.Background(), fx.req)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("error %v, want ENOSPC", err)
	}
	if n := len(fx.srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1: a full disk is not worth a retry", n)
	}
	fx.assertNothingLeft(t)
}

func mountSmallTmpfs(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
}

// countingTransport records the most requests it had in flight at once.
type countingTransport struct {
	mu            sync.Mutex
	inFlight, max int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.inFlight++
	c.max = max(c.max, c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		// Hold the slot until the body is read, as the download does.
		resp.Body = readAll(resp.Body)
	}
	return resp, err
}

// readAll reads a body to the end before handing it on.
func readAll(rc io.ReadCloser) io.ReadCloser {
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return io.NopCloser(iotest.ErrReader(err))
	}
	return io.NopCloser(bytes.NewReader(b))
}

// TestConcurrencyBound checks Options.Concurrency holds over separate
// Download calls, as when a package cache is filled from many goroutines.
func TestConcurrencyBound(t *testing.T) {
	fx := newFixture(t, 1000)
	fx.srv.Fault("*.conda", server.Fault{Delay: 50 * time.Millisecond})
	ct := &countingTransport{}
	c := fetch.New(fetch.Options{Concurrency: 2, HTTP: &http.Client{Transport: ct}})
	var wg sync.WaitGroup
	for i := range 6 {
		r := fx.req
		r.Dest = filepath.Join(fx.dir, fmt.Sprint(i))
		wg.Go(func() {
			if err := c.Download(context.Background(), r); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ct.max != 2 {
		t.Errorf("at most %d requests in flight, want 2", ct.max)
	}
}

// TestDownloadFileURL reads a local channel's file:// URL through the same
// verified path.
func TestDownloadFileURL(t *testing.T) {
	src := filepath.Join(t.TempDir(), "pkg-1-0.conda")
	data := []byte("local package bytes")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	req := fetch.Request{URL: "file://" + src, Dest: filepath.Join(t.TempDir(), "out.conda"), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	if err := client(nil).Download(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(req.Dest); string(got) != string(data) {
		t.Errorf("got %q", got)
	}
	req.URL += ".missing"
	if err := client(nil).Download(context.Background(), req); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing file: %v, want a 404", err)
	}
}

// failingTransport fails every request with err, counting them.
type failingTransport struct {
	err   error
	calls int
}

func (f *failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls++
	return nil, f.err
}

// A transport failure is retried only when another attempt may succeed.
func TestDownloadTransportErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"refused is retried", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, 3},
		{"reset is retried", syscall.ECONNRESET, 3},
		{"bad certificate is final", errors.New("tls: failed to verify certificate"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ft := &failingTransport{err: tt.err}
			c := fetch.New(fetch.Options{Attempts: 3, Backoff: time.Millisecond, HTTP: &http.Client{Transport: ft}})
			req := fetch.Request{URL: "https://example.invalid/pkg-1-0.conda", Dest: filepath.Join(t.TempDir(), "pkg-1-0.conda")}
			err := c.Download(context.Background(), req)
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v, want it to wrap %v", err, tt.err)
			}
			if ft.calls != tt.wantCalls {
				t.Errorf("%d requests, want %d", ft.calls, tt.wantCalls)
			}
		})
	}
}
