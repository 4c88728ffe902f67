// Package httpretry is what condabox's downloads (package archives in
// pkg/fetch, channel indexes in pkg/repodata) share about HTTP: a
// keep-alive client that also reads file:// URLs, the rule for which
// failures are worth another attempt (5xx, 429, timeouts, dropped or reset
// connections; never another 4xx), and the retry loop with exponential
// backoff.
package httpretry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Defaults of Policy's zero fields, as micromamba's.
const (
	DefaultAttempts = 4
	DefaultBackoff  = 250 * time.Millisecond
)

// NewClient returns a keep-alive client that keeps idlePerHost idle
// connections per host (net/http keeps 2; concurrent downloads from one
// host want more) and reads file:// URLs (local channels) from the file
// system through the same code path. headerTimeout bounds the wait for
// response headers; 0 means no bound.
func NewClient(idlePerHost int, headerTimeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idlePerHost
	t.ResponseHeaderTimeout = headerTimeout
	t.RegisterProtocol("file", http.NewFileTransport(http.Dir("/")))
	return &http.Client{Transport: t}
}

// retryable marks an error worth another attempt.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }
func (r retryable) Unwrap() error { return r.err }

// Retryable marks err as worth another attempt for Policy.Do; its message
// and chain are err's.
func Retryable(err error) error { return retryable{err} }

// IsRetryable reports whether err was marked by Retryable.
func IsRetryable(err error) bool {
	var r retryable
	return errors.As(err, &r)
}

// RetryableStatus reports whether an HTTP answer with this status code is
// worth another attempt: a server error or 429 Too Many Requests. Other
// 4xx answers will not change.
func RetryableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests
}

// Transient reports whether a transport error is worth a retry: a network
// operation that failed (refused, reset, DNS), a timeout, or a connection
// closed early. Not, say, an unsupported URL scheme or a cancelled context.
func Transient(err error) bool {
	var op *net.OpError
	var ne net.Error
	return errors.As(err, &op) || errors.As(err, &ne) && ne.Timeout() ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET)
}

// Policy bounds the attempts of one operation.
type Policy struct {
	// Attempts bounds the tries, the first included [DefaultAttempts].
	Attempts int
	// Backoff is the wait before the first retry; it doubles after each
	// [DefaultBackoff].
	Backoff time.Duration
	// OnRetry, when set, is told of each retry (attempt counts from 2)
	// before its wait, e.g. to log it.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// Do runs attempt until it succeeds, fails with an error not marked by
// Retryable, the attempts are used up or ctx is done, waiting an
// exponential backoff between attempts. Its error is attempt's last one,
// joined with ctx's when ctx ended a wait, and saying so when the attempts
// ran out.
func (p Policy) Do(ctx context.Context, attempt func() error) error {
	attempts, backoff := p.Attempts, p.Backoff
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	var err error
	for i := range attempts {
		if i > 0 {
			wait := backoff << (i - 1)
			if p.OnRetry != nil {
				p.OnRetry(i+1, wait, err)
			}
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(wait):
			}
		}
		err = attempt()
		if err == nil || !IsRetryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return fmt.Errorf("giving up after %d attempts: %w", attempts, err)
}
