package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Fault is a misbehaviour injected into the responses for the paths a
// pattern matches. Fields combine: a Delay before a Status, a Trickle of a
// body with flipped bytes that is then truncated, and so on.
type Fault struct {
	// Times is how many matching requests get the fault before it is removed
	// (so "500 twice, then succeed" is Status 500, Times 2). 0 means every
	// matching request until ClearFaults.
	Times int
	// Reset drops the connection with a TCP RST instead of answering.
	Reset bool
	// Delay waits this long before sending the response headers.
	Delay time.Duration
	// Status, when non-zero, answers with this status and a short text body
	// instead of the file.
	Status int
	// Trickle sends the body in pieces of TrickleChunk bytes (default 1024),
	// flushed one by one, pausing Trickle before each.
	Trickle      time.Duration
	TrickleChunk int
	// Truncate closes the connection after TruncateAfter bytes of body,
	// although the headers announce the full Content-Length.
	Truncate      bool
	TruncateAfter int64
	// FlipAt lists offsets in the response body whose bytes are inverted;
	// lengths and headers (including the ETag) stay those of the real file.
	FlipAt []int64
}

const defaultTrickleChunk = 1024

func (f Fault) validate() error {
	switch {
	case f.Times < 0:
		return fmt.Errorf("times %d is negative", f.Times)
	case f.Delay < 0 || f.Trickle < 0:
		return fmt.Errorf("negative delay or trickle pause")
	case f.TrickleChunk < 0:
		return fmt.Errorf("trickle chunk %d is negative", f.TrickleChunk)
	case f.TruncateAfter < 0:
		return fmt.Errorf("truncate after %d bytes is negative", f.TruncateAfter)
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		// 1xx are interim responses and cannot end a request.
		return fmt.Errorf("status %d is not a final HTTP status (200-599)", f.Status)
	case f.Reset && (f.Status != 0 || f.Truncate || f.Trickle != 0 || len(f.FlipAt) > 0):
		return fmt.Errorf("reset sends no response, so it cannot be combined with status or body faults")
	}
	for _, off := range f.FlipAt {
		if off < 0 {
			return fmt.Errorf("flip offset %d is negative", off)
		}
	}
	return nil
}

// Fault injects f into the responses for the channel paths that pattern
// matches. A pattern is a path.Match pattern over the channel-relative path
// ("linux-64/repodata.json", "*/repodata.json"); a pattern without "/" is
// matched against the file name alone ("*.conda", "repodata.json"). When
// several faults match a request, the first one added applies. Faults act
// before authentication, so they also hit requests that would get a 401.
func (s *Server) Fault(pattern string, f Fault) error {
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("fault pattern %q: %w", pattern, err)
	}
	if err := f.validate(); err != nil {
		return fmt.Errorf("fault for %q: %w", pattern, err)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = append(s.faults.rules, faultRule{pattern: pattern, fault: f, left: f.Times})
	return nil
}

// ClearFaults removes every fault; later requests are served normally.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = nil
}

type faultTable struct {
	mu    sync.Mutex
	rules []faultRule
}

type faultRule struct {
	pattern string
	fault   Fault
	left    int // requests still to fault when fault.Times > 0
}

// take returns the fault for a request of name and uses up one of its times.
func (t *faultTable) take(name string) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, r := range t.rules {
		if !matches(r.pattern, name) {
			continue
		}
		if r.fault.Times > 0 {
			t.rules[i].left--
			if t.rules[i].left == 0 {
				t.rules = append(t.rules[:i:i], t.rules[i+1:]...)
			}
		}
		return r.fault, true
	}
	return Fault{}, false
}

func matches(pattern, name string) bool {
	if !strings.Contains(pattern, "/") {
		name = path.Base(name)
	}
	ok, _ := path.Match(pattern, name) // pattern was checked in Fault
	return ok
}

// recorder wraps a ResponseWriter to record the status and the body bytes
// sent, and to apply the body part of a fault.
type recorder struct {
	http.ResponseWriter
	ctx     context.Context
	status  int   // 0 until headers are sent; stays 0 after a reset
	written int64 // body bytes handed to the connection
	fault   Fault
}

// applyBefore applies the parts of f that act before the response and keeps
// the body parts for Write. It reports whether the file should still be served.
func (w *recorder) applyBefore(f Fault) bool {
	if f.Reset {
		w.reset()
		return false
	}
	if f.Delay > 0 && !sleep(w.ctx, f.Delay) {
		return false
	}
	w.fault = f
	if f.Status != 0 {
		http.Error(w, fmt.Sprintf("%d %s (injected fault)", f.Status, http.StatusText(f.Status)), f.Status)
		return false
	}
	return true
}

// reset closes the connection with SO_LINGER 0, which makes the kernel send
// an RST: the client sees "connection reset by peer", not a clean EOF.
func (w *recorder) reset() {
	conn, _, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // cannot hijack: an abrupt close is the next best thing
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0) //nolint:errcheck // best effort; Close still ends the connection
	}
	conn.Close()
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	f := &w.fault
	p = flip(p, w.written, f.FlipAt)
	truncated := f.Truncate && w.written+int64(len(p)) > f.TruncateAfter
	if truncated {
		p = p[:f.TruncateAfter-w.written]
	}
	chunk := len(p)
	if f.Trickle > 0 {
		chunk = f.TrickleChunk
		if chunk == 0 {
			chunk = defaultTrickleChunk
		}
	}
	total := 0
	for len(p) > 0 {
		piece := p[:min(chunk, len(p))]
		if f.Trickle > 0 && !sleep(w.ctx, f.Trickle) {
			return total, w.ctx.Err()
		}
		n, err := w.ResponseWriter.Write(piece)
		total += n
		w.written += int64(n)
		if err != nil {
			return total, err
		}
		if f.Trickle > 0 {
			w.Flush()
		}
		p = p[n:]
	}
	if truncated {
		// Push what was written onto the wire, then make net/http drop the
		// connection without finishing the body.
		w.Flush()
		panic(http.ErrAbortHandler)
	}
	return total, nil
}

// Flush sends buffered data to the client.
func (w *recorder) Flush() {
	http.NewResponseController(w.ResponseWriter).Flush() //nolint:errcheck // a failed flush shows up in the next Write
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// flip returns p with the bytes at the given body offsets inverted, where p
// starts at body offset start. It copies p rather than change the caller's buffer.
func flip(p []byte, start int64, offsets []int64) []byte {
	copied := false
	for _, off := range offsets {
		if off < start || off >= start+int64(len(p)) {
			continue
		}
		if !copied {
			p = append([]byte(nil), p...)
			copied = true
		}
		p[off-start] ^= 0xFF
	}
	return p
}

// sleep waits d or until ctx is done, and reports whether the full d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
