package httpretry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "timeout awaiting response headers" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestIsTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"refused", &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"header timeout", &url.Error{Op: "Get", URL: "http://x", Err: timeoutErr{}}, true},
		{"cut body", fmt.Errorf("read at offset 9: %w", io.ErrUnexpectedEOF), true},
		{"server closed", &url.Error{Op: "Get", URL: "http://x", Err: io.EOF}, true},
		{"bad scheme", &url.Error{Op: "Get", URL: "ftp://x", Err: errors.New(`unsupported protocol scheme "ftp"`)}, false},
		{"cancelled", &url.Error{Op: "Get", URL: "http://x", Err: context.Canceled}, false},
		{"bad JSON", fmt.Errorf("parse repodata.json: %w", errors.New("invalid JSON at offset 3")), false},
	}
	for _, tt := range tests {
		if got := Transient(tt.err); got != tt.want {
			t.Errorf("%s: Transient(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestRetryableStatus(t *testing.T) {
	for code, want := range map[int]bool{
		http.StatusInternalServerError: true, http.StatusBadGateway: true, http.StatusServiceUnavailable: true,
		http.StatusTooManyRequests: true, http.StatusNotFound: false, http.StatusForbidden: false,
		http.StatusUnauthorized: false, http.StatusBadRequest: false,
	} {
		if got := RetryableStatus(code); got != want {
			t.Errorf("RetryableStatus(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestPolicyDo(t *testing.T) {
	flaky := errors.New("503")
	final := errors.New("404")
	tests := []struct {
		name     string
		errs     []error // what the attempts return, in turn; the last repeats
		attempts int
		wantErr  string // "" for success
		wantRuns int
	}{
		{"first try", []error{nil}, 4, "", 1},
		{"recovers", []error{Retryable(flaky), Retryable(flaky), nil}, 4, "", 3},
		{"not retryable", []error{final}, 4, "404", 1},
		{"retryable then final", []error{Retryable(flaky), final}, 4, "404", 2},
		{"gives up", []error{Retryable(flaky)}, 3, "giving up after 3 attempts: 503", 3},
		{"default attempts", []error{Retryable(flaky)}, 0, "giving up after 4 attempts: 503", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs, retries := 0, 0
			p := Policy{Attempts: tt.attempts, Backoff: time.Microsecond,
				OnRetry: func(attempt int, _ time.Duration, err error) {
					retries++
					if attempt != runs+1 || !IsRetryable(err) {
						t.Errorf("OnRetry(%d, %v) after %d runs", attempt, err, runs)
					}
				}}
			err := p.Do(context.Background(), func() error {
				runs++
				return tt.errs[min(runs, len(tt.errs))-1]
			})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if runs != tt.wantRuns || retries != runs-1 {
				t.Errorf("%d runs and %d retries, want %d runs", runs, retries, tt.wantRuns)
			}
		})
	}
}

// A cancelled context ends the wait between attempts and is in the error.
func TestPolicyDoCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	flaky := errors.New("503")
	p := Policy{Attempts: 4, Backoff: time.Hour, OnRetry: func(int, time.Duration, error) { cancel() }}
	err := p.Do(ctx, func() error { return Retryable(flaky) })
	if !errors.Is(err, context.Canceled) || !errors.Is(err, flaky) {
		t.Errorf("error %v, want the attempt's joined with context.Canceled", err)
	}
}
