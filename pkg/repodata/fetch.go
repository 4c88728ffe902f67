package repodata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/condabox/condabox/pkg/atomicfile"

	"github.com/klauspost/compress/zstd"

	"github.com/condabox/condabox/pkg/httpretry"
	"github.com/condabox/condabox/pkg/redact"
)

// ErrNotFound is wrapped by errors for a file the server does not have (404).
var ErrNotFound = errors.New("not found")

// ErrOffline is wrapped by errors for a file needed offline but not cached.
var ErrOffline = errors.New("not in the cache and offline")

// Stats counts a gateway's traffic since New.
type Stats struct {
	Requests    int64 // HTTP requests made, retries included
	NotModified int64 // 304 answers
	BodyBytes   int64 // response body bytes received (compressed, as sent)
}

// counters are the atomic totals behind Stats.
type counters struct{ requests, notModified, bodyBytes atomic.Int64 }

// withRetries runs attempt under the gateway's retry policy, logging
// each retry.
func (g *Gateway) withRetries(ctx context.Context, what string, attempt func() error) error {
	p := httpretry.Policy{Attempts: g.opts.Attempts, Backoff: g.opts.Backoff,
		OnRetry: func(n int, wait time.Duration, err error) {
			g.log.Debug("retrying", "what", redact.URL(what), "attempt", n, "after", wait, "error", redact.Text(err.Error()))
		}}
	return p.Do(ctx, attempt)
}

// get sends one GET and classifies the answer: a 200 or 304 response is
// returned (body open), anything else becomes an error, retryable for 5xx,
// 429 and transport failures.
func (g *Gateway) get(ctx context.Context, rawURL string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	var auth http.Header
	req.URL, auth = Authenticate(g.opts.Auth, req.URL)
	for k, v := range auth {
		req.Header[k] = v
	}
	g.stats.requests.Add(1)
	resp, err := g.client.Do(req)
	if err == nil {
		g.log.Info("GET", "url", redact.URL(rawURL), "status", resp.StatusCode)
	}
	if err != nil {
		if httpretry.Transient(err) {
			return nil, httpretry.Retryable(err)
		}
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotModified:
		if resp.StatusCode == http.StatusNotModified {
			g.stats.notModified.Add(1)
		}
		return resp, nil
	}
	// Drain a little so that the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	status := httpStatus{code: resp.StatusCode, text: resp.Status}
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound:
		return nil, fmt.Errorf("%w (%w)", ErrNotFound, status)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nil, fmt.Errorf("%w: authentication failed; check the channel's token or credentials", status)
	case httpretry.RetryableStatus(code):
		return nil, httpretry.Retryable(status)
	}
	return nil, status
}

// httpStatus is the error of an answer other than 200 and 304.
type httpStatus struct {
	code int
	text string // "404 Not Found"
}

func (h httpStatus) Error() string { return "HTTP " + h.text }

// hasStatus reports whether err comes from an answer with the given code.
func hasStatus(err error, code int) bool {
	var h httpStatus
	return errors.As(err, &h) && h.code == code
}

// countingReader counts a response body's bytes and remembers its error,
// which tells a cut connection (worth a retry) from bad content (not).
type countingReader struct {
	r   io.Reader
	n   *atomic.Int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// refresh brings a cache entry up to date, with the lock held by the
// caller. consume reads a freshly downloaded body (decompressed) completely,
// validating it, while it is written to the cache; it is not called when the
// cached copy is still good. A 404 is remembered and returned as an error
// wrapping ErrNotFound. tryZst asks for <url>.zst first, as conda does,
// unless the server is known not to have it.
func (g *Gateway) refresh(ctx context.Context, e *entry, tryZst bool, consume func(io.Reader) error) error {
	st, valid := readState(e)
	switch {
	case valid && (g.opts.Offline || !e.local && fresh(st, g.opts.TTL, time.Now())):
		if st.NotFound {
			return fmt.Errorf("%w (remembered from an earlier request)", ErrNotFound)
		}
		return nil
	case g.opts.Offline:
		return fmt.Errorf("%w (%s)", ErrOffline, e.data)
	}
	now := time.Now()
	useZst := tryZst && !g.opts.DisableZst &&
		(st.HasZst == nil || st.HasZst.Value || now.Sub(st.HasZst.LastChecked) > zstRecheck)
	if useZst {
		err := g.download(ctx, e, e.url+".zst", true, st, valid, consume)
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		g.log.Debug("no zst variant", "url", redact.URL(e.url))
		// Validators that were the .zst file's do not fit repodata.json.
		valid = valid && (st.HasZst == nil || !st.HasZst.Value)
		st.HasZst = &checked{Value: false, LastChecked: now}
	}
	err := g.download(ctx, e, e.url, false, st, valid, consume)
	if errors.Is(err, ErrNotFound) {
		st = state{NotFound: true, RefreshNS: time.Now().UnixNano(), HasZst: st.HasZst}
		if werr := writeState(e, st); werr != nil {
			return werr
		}
	}
	return err
}

// download fetches one variant of the entry with retries, revalidating
// when the cached copy's validators belong to that variant.
func (g *Gateway) download(ctx context.Context, e *entry, rawURL string, zst bool, st state, valid bool, consume func(io.Reader) error) error {
	header := http.Header{}
	validatorsMatch := valid && !st.NotFound && (st.HasZst != nil && st.HasZst.Value) == zst
	if validatorsMatch {
		if st.ETag != "" {
			header.Set("If-None-Match", st.ETag)
		}
		if st.Mod != "" {
			header.Set("If-Modified-Since", st.Mod)
		}
	}
	return g.withRetries(ctx, rawURL, func() error {
		resp, err := g.get(ctx, rawURL, header)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		now := time.Now()
		if resp.StatusCode == http.StatusNotModified {
			if !validatorsMatch {
				return fmt.Errorf("HTTP 304 to an unconditional request")
			}
			st.RefreshNS = now.UnixNano()
			return writeState(e, st)
		}
		body := &countingReader{r: resp.Body, n: &g.stats.bodyBytes}
		err = atomicfile.Write(e.data, 0o644, func(w io.Writer) error {
			var r io.Reader = body
			if zst {
				// Decoding in step with the scan measured faster than
				// klauspost's background decoding on a busy 2-core machine.
				dec, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1))
				if err != nil {
					return err
				}
				defer dec.Close()
				r = dec
			}
			return consume(io.TeeReader(r, w))
		})
		if err != nil {
			if body.err != nil && httpretry.Transient(body.err) {
				return httpretry.Retryable(fmt.Errorf("body cut short after %d bytes: %w", body.n.Load(), body.err))
			}
			return err
		}
		if zst || st.HasZst == nil {
			st.HasZst = &checked{Value: zst, LastChecked: now}
		}
		return writeState(e, state{
			ETag:         resp.Header.Get("ETag"),
			Mod:          resp.Header.Get("Last-Modified"),
			CacheControl: resp.Header.Get("Cache-Control"),
			RefreshNS:    now.UnixNano(),
			HasZst:       st.HasZst,
		})
	})
}

// resolve resolves ref (absolute, or relative like "./shards/") against
// base, keeping base's credentials for a relative ref.
func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("parse %q: %w", ref, err)
	}
	u := b.ResolveReference(r)
	if !strings.HasSuffix(u.Path, "/") && strings.HasSuffix(ref, "/") {
		u.Path += "/"
	}
	return u.String(), nil
}
