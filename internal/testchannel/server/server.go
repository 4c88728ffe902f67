// Package server serves a conda channel folder over real HTTP on a loopback
// port, the way anaconda.org and conda-forge mirrors do (ETag, Last-Modified,
// Range, basic auth, /t/<token>/ prefixes), and injects faults into chosen
// responses so that clients can be tested against an unreliable network.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/condabox/condabox/pkg/redact"
)

// Options configures a Server. The zero Options serve without authentication
// on a free loopback port.
type Options struct {
	// Addr is the address to listen on; default "127.0.0.1:0" (a free port).
	Addr string
	// Token, when set, must prefix every path as /t/<Token>/ (anaconda.org
	// style). A request without a /t/ prefix gets 401, one with another token 403.
	Token string
	// User and Password, when User is set, are required as HTTP basic auth;
	// requests without them get 401 and a WWW-Authenticate challenge.
	User, Password string
	// Bearer, when set, is required as an "Authorization: Bearer" header
	// (prefix.dev style); requests without it get 401.
	Bearer string
	// TLS serves HTTPS with a certificate for 127.0.0.1 and localhost
	// signed by an authority made at start, which CACertPEM returns and
	// no system trusts.
	TLS bool
	// Log, when set, receives one line per request. The token and the
	// password are replaced by redact.Token and redact.Password wherever
	// they occur.
	Log io.Writer
}

// Server is a running channel server. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	root *os.Root
	ln   net.Listener
	http *http.Server
	stop func() bool // unregisters the shutdown-on-context-done hook

	closeOnce sync.Once
	closeErr  error

	etagMu sync.Mutex
	etags  map[string]etagEntry

	faults faultTable
	log    requestLog
	caPEM  []byte
}

// CACertPEM returns the PEM certificate of the authority that signed a TLS
// server's certificate (nil without Options.TLS): what a client must be
// told to trust.
func (s *Server) CACertPEM() []byte { return s.caPEM }

// etagEntry caches a file's content hash; it is valid while the file keeps
// its size and modification time, so repeated requests for a large index do
// not re-read it.
type etagEntry struct {
	size    int64
	modTime time.Time
	etag    string
}

// Start serves the channel folder root until Close is called or ctx is done.
func Start(ctx context.Context, root string, opts Options) (*Server, error) {
	if strings.ContainsAny(opts.Token, "/?#") {
		return nil, errors.New("start test channel server: token must not contain '/', '?' or '#'")
	}
	if opts.Password != "" && opts.User == "" {
		return nil, errors.New("start test channel server: password set without a user")
	}
	dir, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("start test channel server for %q: %w", root, err)
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		dir.Close()
		return nil, fmt.Errorf("start test channel server for %q: %w", root, err)
	}
	s := &Server{opts: opts, root: dir, ln: ln, etags: map[string]etagEntry{}}
	if opts.TLS {
		cert, caPEM, err := selfSigned()
		if err != nil {
			ln.Close()
			dir.Close()
			return nil, fmt.Errorf("start test channel server for %q: %w", root, err)
		}
		s.ln, s.caPEM = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}), caPEM
	}
	s.log.init()
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		// net/http reports aborted handlers and bad requests here; none of it
		// is useful to a test and it must not reach the request log.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go s.http.Serve(s.ln) //nolint:errcheck // always returns ErrServerClosed after Close
	s.stop = context.AfterFunc(ctx, func() { s.shutdown() })
	return s, nil
}

// URL returns the channel URL a client should use: scheme, host and port,
// plus the basic-auth credentials and the /t/<token> prefix when configured.
// It has no trailing slash: append "/linux-64/repodata.json" and so on.
func (s *Server) URL() string {
	u := "http://"
	if s.opts.TLS {
		u = "https://"
	}
	if s.opts.User != "" {
		u += s.opts.User + ":" + s.opts.Password + "@"
	}
	u += s.Addr()
	if s.opts.Token != "" {
		u += "/t/" + s.opts.Token
	}
	return u
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server at once, dropping open connections. It is safe to
// call more than once.
func (s *Server) Close() error {
	s.stop()
	return s.shutdown()
}

// shutdown closes the server once. It is apart from Close because the
// context hook runs it and must not read s.stop, which Start sets after
// registering the hook.
func (s *Server) shutdown() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.http.Close(), s.root.Close())
	})
	return s.closeErr
}

// ServeHTTP answers one request: it strips and checks the token, applies a
// fault if one matches, checks basic auth, then serves the file.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.log.begin()
	name, tokenStatus := s.channelPath(r.URL.Path)
	rec := &recorder{ResponseWriter: w, ctx: r.Context()}
	entry := Request{Method: s.redact(r.Method), Path: s.redact(name), Range: s.redact(r.Header.Get("Range"))}
	// Deferred so that aborted responses (truncation, reset) are logged too.
	defer func() {
		entry.Status, entry.BodyBytes = rec.status, rec.written
		s.log.end(entry, s.opts.Log)
	}()

	if f, ok := s.faults.take(name); ok {
		entry.Fault = true
		if !rec.applyBefore(f) {
			return
		}
	}
	switch {
	case s.opts.Bearer != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+s.opts.Bearer)) != 1:
		rec.Header().Set("WWW-Authenticate", `Bearer realm="testchannel"`)
		http.Error(rec, "401 unauthorized: bearer token required", http.StatusUnauthorized)
	case s.opts.User != "" && !s.basicAuthOK(r):
		rec.Header().Set("WWW-Authenticate", `Basic realm="testchannel"`)
		http.Error(rec, "401 unauthorized: basic auth required", http.StatusUnauthorized)
	case tokenStatus == http.StatusUnauthorized:
		rec.Header().Set("WWW-Authenticate", `Token realm="testchannel"`)
		http.Error(rec, "401 unauthorized: this channel needs a /t/<token>/ prefix", tokenStatus)
	case tokenStatus == http.StatusForbidden:
		http.Error(rec, "403 forbidden: the token is not valid for this channel", tokenStatus)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		rec.Header().Set("Allow", "GET, HEAD")
		http.Error(rec, "405 method not allowed", http.StatusMethodNotAllowed)
	default:
		s.serveFile(rec, r, name)
	}
}

// channelPath returns the channel-relative path of a request path, with
// the /t/<token> prefix removed, and the HTTP status the token check calls
// for: 200, 401 (no prefix) or 403 (another token).
func (s *Server) channelPath(p string) (name string, status int) {
	status = http.StatusOK
	if rest, ok := strings.CutPrefix(p, "/t/"); ok {
		token, after, _ := strings.Cut(rest, "/")
		p = "/" + after
		if s.opts.Token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.Token)) != 1 {
			status = http.StatusForbidden
		}
	} else if s.opts.Token != "" {
		status = http.StatusUnauthorized
	}
	return strings.TrimPrefix(path.Clean("/"+p), "/"), status
}

// redact replaces the token and the password wherever they occur in text
// taken from a request, which may carry them anywhere (a doubled /t/ prefix,
// a confused client), before the text reaches a log.
func (s *Server) redact(text string) string {
	if s.opts.Bearer != "" {
		text = strings.ReplaceAll(text, s.opts.Bearer, redact.Token)
	}
	if s.opts.Token != "" {
		text = strings.ReplaceAll(text, s.opts.Token, redact.Token)
	}
	if s.opts.Password != "" {
		text = strings.ReplaceAll(text, s.opts.Password, redact.Password)
	}
	return text
}

func (s *Server) basicAuthOK(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	// Both compared in constant time so a timing test cannot learn either.
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.User))
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Password))
	return ok && userOK&passOK == 1
}

// serveFile serves a regular file of the channel with a strong ETag; Range,
// If-None-Match, If-Modified-Since, HEAD and Content-Length are handled by
// http.ServeContent. Directories are not listed, like a real channel.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	if name == "" {
		name = "."
	}
	f, err := s.root.Open(name)
	if err != nil {
		http.Error(w, "404 not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		http.Error(w, "404 not found", http.StatusNotFound)
		return
	}
	etag, err := s.etag(name, info, f)
	if err != nil {
		http.Error(w, "500 cannot read file", http.StatusInternalServerError)
		return
	}
	w.Header().Set("ETag", etag)
	http.ServeContent(w, r, name, info.ModTime(), f)
}

// etag returns the strong ETag of the file: its SHA-256 in quotes. It leaves
// f positioned at the start.
func (s *Server) etag(name string, info fs.FileInfo, f io.ReadSeeker) (string, error) {
	s.etagMu.Lock()
	e, ok := s.etags[name]
	s.etagMu.Unlock()
	if ok && e.size == info.Size() && e.modTime.Equal(info.ModTime()) {
		return e.etag, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", name, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("hash %s: %w", name, err)
	}
	e = etagEntry{size: info.Size(), modTime: info.ModTime(), etag: `"` + hex.EncodeToString(h.Sum(nil)) + `"`}
	s.etagMu.Lock()
	s.etags[name] = e
	s.etagMu.Unlock()
	return e.etag, nil
}
