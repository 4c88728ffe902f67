package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzServeHTTP feeds arbitrary paths and Range headers to the handler of a
// token-protected channel. It checks that nothing panics, that only files of
// the channel are ever served, that a 200 carries the whole file, and that
// neither log holds the token.
func FuzzServeHTTP(f *testing.F) {
	const token = "tk-42"
	for _, seed := range []struct{ path, rng string }{
		{"/t/tk-42/noarch/repodata.json", ""},
		{"/t/tk-42/linux-64/pkg-1.0-0.conda", "bytes=0-9,20-"},
		{"/t/tk-42/../../etc/passwd", ""},
		{"/t/tk-42/noarch/../noarch/./repodata.json", "bytes=-5"},
		{"/noarch/repodata.json", ""},
		{"/t/tk-4/noarch/repodata.json", ""},
		{"/t/tk-42", "bytes=a-b"},
		{"/t//t/tk-42/x", "bytes=99999999999999999999-"},
	} {
		f.Add(seed.path, seed.rng)
	}
	c := newChannel(f)
	var logText bytes.Buffer
	s, err := Start(f.Context(), c.dir, Options{Token: token, Log: &logText})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	files := map[string][]byte{"noarch/repodata.json": c.repo, "linux-64/pkg-1.0-0.conda": c.pkg}
	f.Fuzz(func(t *testing.T, p, rng string) {
		s.ResetRequests()
		logText.Reset()
		req := &http.Request{Method: "GET", URL: &url.URL{Path: p}, Header: http.Header{}}
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)

		logged := s.Requests()[0]
		if logged.Status != w.Code {
			t.Errorf("logged status %d, sent %d", logged.Status, w.Code)
		}
		if path.IsAbs(logged.Path) || logged.Path != strings.TrimPrefix(path.Clean("/"+logged.Path), "/") {
			t.Errorf("logged path %q is not a clean channel-relative path", logged.Path)
		}
		want, isFile := files[logged.Path]
		switch w.Code {
		case http.StatusOK:
			if !isFile || !bytes.Equal(w.Body.Bytes(), want) {
				t.Errorf("200 for %q with %d bytes that are not a channel file", p, w.Body.Len())
			}
		case http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
			if !isFile {
				t.Errorf("%d for %q, which is not a channel file", w.Code, p)
			}
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		default:
			t.Errorf("unexpected status %d for path %q range %q", w.Code, p, rng)
		}
		if strings.Contains(logText.String()+logged.String(), token) {
			t.Errorf("the log shows the token for path %q: %s", p, logText.String())
		}
	})
}
