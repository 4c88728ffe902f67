package repodata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
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
		{"bad JSON", fmt.Errorf("%w: at offset 3", errSyntax), false},
	}
	for _, tt := range tests {
		if got := isTransient(tt.err); got != tt.want {
			t.Errorf("%s: isTransient(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}
