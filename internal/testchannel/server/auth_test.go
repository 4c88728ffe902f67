package server

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func TestBasicAuth(t *testing.T) {
	c := newChannel(t)
	var logText bytes.Buffer
	s := start(t, c.dir, Options{User: "alice", Password: "s3cret-pw", Log: &logText})
	client := newClient(t, true)
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	checkAuthorization(t, client, "http://"+s.Addr()+"/noarch/repodata.json", "Basic ", []authCase{
		{"no credentials", "", http.StatusUnauthorized},
		{"wrong password", basic("alice", "guess"), http.StatusUnauthorized},
		{"wrong user", basic("bob", "s3cret-pw"), http.StatusUnauthorized},
		{"right credentials", basic("alice", "s3cret-pw"), http.StatusOK},
	})
	// URL() carries the credentials, so a plain client gets in with it.
	if r := fetch(t, client, "GET", s.URL()+"/noarch/repodata.json", nil); r.status != http.StatusOK {
		t.Errorf("GET via URL(): status %d, err %v", r.status, r.err)
	}
	assertNoSecret(t, s, logText.String(), "s3cret-pw")
}

// authCase is a request with an Authorization header ("" for none) and
// the status it must get.
type authCase struct {
	name, header string
	status       int
}

// checkAuthorization sends each case's request to url and checks its
// status, and that exactly the refused ones carry a challenge of scheme.
func checkAuthorization(t *testing.T, client *http.Client, url, scheme string, cases []authCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if challenge := resp.Header.Get("WWW-Authenticate"); (tc.status == http.StatusUnauthorized) != strings.HasPrefix(challenge, scheme) {
				t.Errorf("status %d with WWW-Authenticate %q", resp.StatusCode, challenge)
			}
		})
	}
}

func TestToken(t *testing.T) {
	c := newChannel(t)
	var logText bytes.Buffer
	const token = "xy-0123456789abcdef"
	s := start(t, c.dir, Options{Token: token, Log: &logText})
	client := newClient(t, true)
	origin := "http://" + s.Addr()
	for _, tc := range []struct {
		name   string
		url    string
		status int
	}{
		{"no token", origin + "/noarch/repodata.json", http.StatusUnauthorized},
		{"wrong token", origin + "/t/xy-wrong/noarch/repodata.json", http.StatusForbidden},
		{"token prefix of the right one", origin + "/t/xy-0123/noarch/repodata.json", http.StatusForbidden},
		{"empty token", origin + "/t//noarch/repodata.json", http.StatusForbidden},
		{"right token", origin + "/t/" + token + "/noarch/repodata.json", http.StatusOK},
		{"URL()", s.URL() + "/noarch/repodata.json", http.StatusOK},
		{"right token, missing file", s.URL() + "/noarch/nope.json", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fetch(t, client, "GET", tc.url, nil)
			if r.err != nil || r.status != tc.status {
				t.Fatalf("status %d, err %v; want %d", r.status, r.err, tc.status)
			}
			if tc.status == http.StatusOK && !bytes.Equal(r.body, c.repo) {
				t.Errorf("body %q, want %q", r.body, c.repo)
			}
		})
	}
	for _, r := range s.Requests() {
		if r.Path != "noarch/repodata.json" && r.Path != "noarch/nope.json" {
			t.Errorf("logged path %q, want the channel path without /t/<token>", r.Path)
		}
	}
	assertNoSecret(t, s, logText.String(), token, "xy-wrong")
}

// assertNoSecret checks the text log and the request log for secrets.
func assertNoSecret(t *testing.T, s *Server, logText string, secrets ...string) {
	t.Helper()
	if logText == "" {
		t.Fatal("the server wrote no log lines; the check below would prove nothing")
	}
	var logged strings.Builder
	for _, r := range s.Requests() {
		logged.WriteString(r.String() + "\n")
	}
	for _, secret := range secrets {
		for what, text := range map[string]string{"log": logText, "request log": logged.String()} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains the secret %q:\n%s", what, secret, text)
			}
		}
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		root string
		opts Options
		want string
	}{
		{"token with slash", dir, Options{Token: "a/b"}, "token must not contain"},
		{"password without user", dir, Options{Password: "pw"}, "password set without a user"},
		{"missing root", dir + "/nope", Options{}, dir + "/nope"},
		{"bad address", dir, Options{Addr: "127.0.0.1:not-a-port"}, "not-a-port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Start(t.Context(), tc.root, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestBearer(t *testing.T) {
	c := newChannel(t)
	var logText bytes.Buffer
	const token = "bearer-0123456789"
	s := start(t, c.dir, Options{Bearer: token, Log: &logText})
	checkAuthorization(t, newClient(t, true), "http://"+s.Addr()+"/noarch/repodata.json", "Bearer ", []authCase{
		{"no header", "", http.StatusUnauthorized},
		{"another token", "Bearer nope", http.StatusUnauthorized},
		{"basic instead", "Basic " + token, http.StatusUnauthorized},
		{"the token", "Bearer " + token, http.StatusOK},
	})
	assertNoSecret(t, s, logText.String(), token)
}
