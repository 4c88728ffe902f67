package server

import (
	"fmt"
	"io"
	"net/http"
	"sync"
)

// Request is one entry of the request log.
type Request struct {
	Method string
	// Path is channel-relative ("linux-64/repodata.json"), without the
	// /t/<token> prefix. Here and in Method and Range, any other occurrence
	// of the token or password is replaced by redact.Token or redact.Password.
	Path string
	// Range is the request's Range header, if any.
	Range string
	// Status is the HTTP status sent; 0 when no response was sent (a Reset
	// fault, or the client left during a Delay).
	Status int
	// BodyBytes counts the response body bytes handed to the connection
	// (headers excluded).
	BodyBytes int64
	// Fault reports whether an injected fault applied to this request.
	Fault bool
}

// NotModified reports whether the answer was 304 Not Modified.
func (r Request) NotModified() bool { return r.Status == http.StatusNotModified }

// Partial reports whether the answer was 206 Partial Content.
func (r Request) Partial() bool { return r.Status == http.StatusPartialContent }

// String formats the entry as a log line, e.g.
// "GET linux-64/repodata.json 200 1234B" or "GET x.conda 206 100B range=bytes=0-99 fault".
func (r Request) String() string {
	s := fmt.Sprintf("%s %s %d %dB", r.Method, r.Path, r.Status, r.BodyBytes)
	if r.Range != "" {
		s += " range=" + r.Range
	}
	if r.Fault {
		s += " fault"
	}
	return s
}

// Counter totals the requests of one kind and the body bytes they sent.
type Counter struct {
	Requests  int
	BodyBytes int64
}

// Stats totals the request log.
type Stats struct {
	Counter
	Faults   int             // requests an injected fault applied to
	ByStatus map[int]Counter // per HTTP status; 0 counts requests without a response
}

// requestLog holds the finished requests. It also counts requests in flight
// so that readers can wait for them: a client may have read a whole body
// before the handler that sent it has returned and logged it.
type requestLog struct {
	mu       sync.Mutex
	idle     sync.Cond // signalled when inflight drops to 0
	inflight int
	entries  []Request
}

func (l *requestLog) init() { l.idle.L = &l.mu }

func (l *requestLog) begin() {
	l.mu.Lock()
	l.inflight++
	l.mu.Unlock()
}

// end records a finished request and writes its line to out, if any.
func (l *requestLog) end(r Request, out io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, r)
	if out != nil {
		fmt.Fprintln(out, r.String()) // under the lock so lines never interleave
	}
	l.inflight--
	if l.inflight == 0 {
		l.idle.Broadcast()
	}
}

// settled locks the log once no request is in flight; the caller unlocks.
func (l *requestLog) settled() {
	l.mu.Lock()
	for l.inflight > 0 {
		l.idle.Wait()
	}
}

// Requests returns the log of requests in the order they finished. It first
// waits for requests in flight to finish, so it blocks while a client keeps
// a (for example trickled) response open.
func (s *Server) Requests() []Request {
	s.log.settled()
	defer s.log.mu.Unlock()
	return append([]Request(nil), s.log.entries...)
}

// ResetRequests empties the request log, after waiting for requests in flight.
func (s *Server) ResetRequests() {
	s.log.settled()
	defer s.log.mu.Unlock()
	s.log.entries = nil
}

// Stats totals the request log, after waiting for requests in flight.
func (s *Server) Stats() Stats {
	st := Stats{ByStatus: map[int]Counter{}}
	for _, r := range s.Requests() {
		st.Requests++
		st.BodyBytes += r.BodyBytes
		if r.Fault {
			st.Faults++
		}
		c := st.ByStatus[r.Status]
		c.Requests++
		c.BodyBytes += r.BodyBytes
		st.ByStatus[r.Status] = c
	}
	return st
}
