package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/condabox/condabox/pkg/httpretry"
	"github.com/condabox/condabox/pkg/redact"
)

// Options configure a Client. Zero fields take the defaults in brackets.
type Options struct {
	// HTTP is the client for every request [a keep-alive client with
	// Concurrency idle connections per host and file:// support].
	HTTP *http.Client
	// Concurrency bounds the downloads in flight at once, over all calls
	// of Download and DownloadAll [5, as micromamba's download threads].
	Concurrency int
	// Attempts bounds the tries of one download, the first included [4].
	Attempts int
	// Backoff is the wait before the first retry; it doubles after each
	// [250ms].
	Backoff time.Duration
	// StallTimeout ends an attempt that receives nothing (no headers, no
	// body bytes) for this long; the next attempt resumes [30s].
	StallTimeout time.Duration
	// Progress, when set, is called as bytes arrive, from the goroutines
	// that download: it must be safe for concurrent use and quick.
	Progress func(Progress)
}

// Request is one file to download and what it must be.
type Request struct {
	URL  string
	Dest string // the file to create; its directory must exist
	// Size, SHA256 (hex) and MD5 (hex) are the expected values; zero ones
	// are not checked, and MD5 only when SHA256 is empty.
	Size   int64
	SHA256 string
	MD5    string
	// Header is added to every request (a bearer token's Authorization).
	Header http.Header
}

// Progress reports the bytes of one download so far.
type Progress struct {
	URL   string // redacted
	Done  int64  // bytes received, counting those of a resumed transfer
	Total int64  // expected size; 0 when unknown
}

// Client downloads files. It is safe for concurrent use.
type Client struct {
	opts  Options
	slots chan struct{} // one token per download in flight
}

// New returns a Client with opts, defaults filled in.
func New(opts Options) *Client {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 5
	}
	if opts.StallTimeout <= 0 {
		opts.StallTimeout = 30 * time.Second
	}
	if opts.HTTP == nil {
		opts.HTTP = httpretry.NewClient(opts.Concurrency, 0)
	}
	return &Client{opts: opts, slots: make(chan struct{}, opts.Concurrency)}
}

// DownloadAll runs the downloads, Options.Concurrency at a time. The first
// failure cancels the others and is returned.
func (c *Client) DownloadAll(ctx context.Context, reqs []Request) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, r := range reqs {
		wg.Go(func() {
			if err := c.Download(ctx, r); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// Download fetches req.URL to req.Dest, resuming and retrying as needed,
// and renames it into place only when size and checksum match. On error
// Dest is untouched and no partial file remains. It waits while
// Options.Concurrency downloads are in flight.
func (c *Client) Download(ctx context.Context, req Request) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("download %s: %w", redact.URL(req.URL), redact.Error(err))
		}
	}()
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	f, err := os.CreateTemp(filepath.Dir(req.Dest), "."+filepath.Base(req.Dest)+".*.part")
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	d := &download{c: c, req: req, url: redact.URL(req.URL), f: f}
	// One digest is checked (verify): hashing both would cost the md5
	// of every byte for nothing.
	switch {
	case req.SHA256 != "":
		d.sum = sha256.New()
	case req.MD5 != "":
		d.sum = md5.New()
	}
	retry := httpretry.Policy{Attempts: c.opts.Attempts, Backoff: c.opts.Backoff}
	if err := retry.Do(ctx, func() error { return d.attempt(ctx) }); err != nil {
		return err
	}
	if err := d.verify(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), req.Dest)
}

// download is the state of one Download across its attempts.
type download struct {
	c         *Client
	req       Request
	url       string // redacted, for progress events
	f         *os.File
	n         int64     // bytes in f
	sum       hash.Hash // of the algorithm verify checks; nil when none
	validator string    // ETag or Last-Modified of the first answer, for If-Range
}

// restart empties the partial file for a transfer from the first byte.
func (d *download) restart() error {
	d.n = 0
	if d.sum != nil {
		d.sum.Reset()
	}
	if _, err := d.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := d.f.Truncate(0); err != nil {
		return err
	}
	return nil
}

// errStalled ends an attempt that received nothing for StallTimeout; the
// next attempt resumes.
var errStalled = errors.New("stalled")

// attempt makes one request, continuing the partial file with a Range
// request when it holds bytes already.
func (d *download) attempt(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := time.AfterFunc(d.c.opts.StallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()
	err := d.request(ctx, stall)
	if errors.Is(context.Cause(ctx), errStalled) {
		return httpretry.Retryable(fmt.Errorf("%w: nothing received for %v", errStalled, d.c.opts.StallTimeout))
	}
	return err
}

// request sends one GET and appends its body to the partial file,
// resetting the stall timer whenever bytes arrive.
func (d *download) request(ctx context.Context, stall *time.Timer) error {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, d.req.URL, nil)
	if err != nil {
		return err
	}
	for k, v := range d.req.Header {
		hreq.Header[k] = v
	}
	if d.n > 0 {
		hreq.Header.Set("Range", fmt.Sprintf("bytes=%d-", d.n))
		if d.validator != "" {
			// The server sends the whole file if it changed meanwhile.
			hreq.Header.Set("If-Range", d.validator)
		}
	}
	resp, err := d.c.opts.HTTP.Do(hreq)
	if err != nil {
		if httpretry.Transient(err) {
			return httpretry.Retryable(err)
		}
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		if d.n > 0 {
			if err := d.restart(); err != nil {
				return err
			}
		}
		d.validator = resp.Header.Get("ETag")
		if d.validator == "" {
			d.validator = resp.Header.Get("Last-Modified")
		}
	case resp.StatusCode == http.StatusPartialContent && d.n > 0:
		if start, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || start != d.n {
			if err := d.restart(); err != nil {
				return err
			}
			return httpretry.Retryable(fmt.Errorf("server resumed at the wrong offset (Content-Range %q, have %d bytes)", resp.Header.Get("Content-Range"), d.n))
		}
	case httpretry.RetryableStatus(resp.StatusCode):
		return httpretry.Retryable(fmt.Errorf("server answered %s", resp.Status))
	default:
		return fmt.Errorf("server answered %s", resp.Status)
	}
	return d.copy(resp.Body, stall)
}

// rangeStart parses the first byte offset of "bytes START-END/TOTAL".
func rangeStart(contentRange string) (int64, bool) {
	rest, ok := strings.CutPrefix(contentRange, "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok || start == "" || start[0] < '0' || start[0] > '9' { // no sign
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil
}

// copy appends the body to the partial file, hashing as it goes. A read
// error is worth a retry (it resumes from here); a write error is not.
func (d *download) copy(body io.Reader, stall *time.Timer) error {
	buf := make([]byte, 256<<10)
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			stall.Reset(d.c.opts.StallTimeout)
			if _, err := d.f.Write(buf[:k]); err != nil {
				return err
			}
			if d.sum != nil {
				d.sum.Write(buf[:k])
			}
			d.n += int64(k)
			if d.req.Size > 0 && d.n > d.req.Size {
				return fmt.Errorf("size mismatch: expected %d bytes, got more", d.req.Size)
			}
			if d.c.opts.Progress != nil {
				d.c.opts.Progress(Progress{URL: d.url, Done: d.n, Total: d.req.Size})
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return httpretry.Retryable(rerr) // resumes from here
		}
	}
}

// verify compares the complete file with the request's size and sha256,
// else md5.
func (d *download) verify() error {
	if d.req.Size > 0 && d.n != d.req.Size {
		return fmt.Errorf("size mismatch: expected %d bytes, got %d", d.req.Size, d.n)
	}
	algo, want := "sha256", d.req.SHA256
	if want == "" {
		algo, want = "md5", d.req.MD5
	}
	if want == "" {
		return nil
	}
	if got := hex.EncodeToString(d.sum.Sum(nil)); !strings.EqualFold(got, want) {
		return fmt.Errorf("%s mismatch: expected %s, got %s", algo, want, got)
	}
	return nil
}
