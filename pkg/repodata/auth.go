package repodata

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// AuthEnv is the environment variable EnvAuth reads first: a comma
// separated list of user:password@host entries, e.g.
// CONDABOX_BASIC_AUTH=ci:s3cret@repo.example.com. A password holding ','
// or '@' is not supported there; use a netrc file.
const AuthEnv = "CONDABOX_BASIC_AUTH"

// Auth is how requests to a channel authenticate: HTTP basic auth, a
// conda token (anaconda.org style: /t/<token>/ after the host), or a bearer
// token (an "Authorization: Bearer" header, prefix.dev style).
type Auth struct {
	User, Password string
	Token          string
	Bearer         string
}

// Apply returns u authenticated by a: with a's user and password, or its
// token as the first path segments. u itself is not changed.
func (a Auth) Apply(u *url.URL) *url.URL {
	out := *u
	switch {
	case a.Token != "":
		out.Path = "/t/" + a.Token + u.Path
		if u.RawPath != "" {
			out.RawPath = "/t/" + url.PathEscape(a.Token) + u.RawPath
		}
	case a.User != "":
		out.User = url.UserPassword(a.User, a.Password)
	}
	return &out
}

// Authenticator returns the Auth for an http(s) URL that carries none of
// its own (no user info, no /t/ token); ok is false when it knows none.
type Authenticator func(u *url.URL) (a Auth, ok bool)

// Authenticate returns how to request u with the credentials auth gives
// for it, when u carries none of its own: the URL (with user info, or a
// token in its path) and the header a bearer token needs (nil without
// one). Go's client sends a URL's user info as basic auth, and drops an
// Authorization header on a redirect to another host (a package store),
// as it must.
func Authenticate(auth Authenticator, u *url.URL) (*url.URL, http.Header) {
	if auth == nil || u.User != nil || strings.HasPrefix(u.Path, "/t/") || (u.Scheme != "http" && u.Scheme != "https") {
		return u, nil
	}
	a, ok := auth(u)
	switch {
	case !ok:
		return u, nil
	case a.Bearer != "":
		return u, http.Header{"Authorization": {"Bearer " + a.Bearer}}
	}
	return a.Apply(u), nil
}

// AuthFile is micromamba's file of channel credentials below the home
// folder, which `condabox auth login` writes.
const AuthFile = ".mamba/auth/authentication.json"

// AuthEntry is one entry of AuthFile, keyed by a host or host/path
// prefix: micromamba's types BasicHTTPAuthentication (user, password),
// CondaToken (token) and BearerToken (token).
type AuthEntry struct {
	Type     string `json:"type"`
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
}

// The AuthEntry types.
const (
	AuthBasic  = "BasicHTTPAuthentication"
	AuthToken  = "CondaToken"
	AuthBearer = "BearerToken"
)

// ReadAuthFile reads an AuthFile; a missing one is empty.
func ReadAuthFile(path string) (map[string]AuthEntry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]AuthEntry{}, nil
	}
	if err != nil {
		return nil, err
	}
	entries := map[string]AuthEntry{}
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return entries, nil
}

// EnvAuth returns the Authenticator of the machine, using lookup
// (os.LookupEnv in production). It looks a URL up in $CONDABOX_BASIC_AUTH
// (by host), then in ~/.mamba/auth/authentication.json (the longest
// host[/path] key the URL starts with), then in the netrc file ($NETRC or
// ~/.netrc, by host). Credentials in a channel URL take precedence over
// all of them. An authentication file that cannot be read is an error
// naming it.
func EnvAuth(lookup func(string) (string, bool)) (Authenticator, error) {
	env := func(k string) string { v, _ := lookup(k); return v }
	home := env("HOME")
	byHost := map[string]Auth{}
	netrc := env("NETRC")
	if netrc == "" && home != "" {
		netrc = filepath.Join(home, ".netrc")
	}
	netrcAuth := readNetrc(netrc)
	for entry := range strings.SplitSeq(env(AuthEnv), ",") {
		i := strings.LastIndexByte(entry, '@')
		user, pass, ok := strings.Cut(entry[:max(i, 0)], ":")
		if i > 0 && ok {
			byHost[strings.TrimSpace(entry[i+1:])] = Auth{User: strings.TrimSpace(user), Password: pass}
		}
	}
	file := map[string]AuthEntry{}
	if home != "" {
		var err error
		if file, err = ReadAuthFile(filepath.Join(home, AuthFile)); err != nil {
			return nil, fmt.Errorf("read channel credentials: %w", err)
		}
	}
	return func(u *url.URL) (Auth, bool) {
		if a, ok := byHost[u.Hostname()]; ok {
			return a, true
		}
		if a, ok := fromAuthFile(file, u); ok {
			return a, true
		}
		a, ok := netrcAuth[u.Hostname()]
		return a, ok
	}, nil
}

// fromAuthFile returns the Auth of the longest key of entries that u's
// host (with its port or without) and path start with, at a "/"
// boundary.
func fromAuthFile(entries map[string]AuthEntry, u *url.URL) (Auth, bool) {
	path := strings.TrimSuffix(u.Path, "/")
	targets := []string{u.Host + path, u.Hostname() + path}
	best, bestLen, found := "", -1, false
	for key := range entries {
		k := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://"), "/")
		for _, target := range targets {
			longer := len(k) > bestLen || len(k) == bestLen && key < best // a tie: the same key each time
			if (target == k || strings.HasPrefix(target, k+"/")) && longer {
				best, bestLen, found = key, len(k), true
			}
		}
	}
	if !found {
		return Auth{}, false
	}
	switch e := entries[best]; e.Type {
	case AuthBasic:
		return Auth{User: e.User, Password: e.Password}, true
	case AuthToken:
		return Auth{Token: e.Token}, true
	case AuthBearer:
		return Auth{Bearer: e.Token}, true
	}
	return Auth{}, false
}

// readNetrc reads the machine/login/password entries of a netrc file; a
// missing or unreadable file gives none. "default" entries are ignored so
// that credentials are never sent to a host they were not written for.
func readNetrc(path string) map[string]Auth {
	out := map[string]Auth{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Split(bufio.ScanWords)
	var machine, login, password string
	flush := func() {
		if machine != "" && login != "" {
			out[machine] = Auth{User: login, Password: password}
		}
		machine, login, password = "", "", ""
	}
	for sc.Scan() {
		switch sc.Text() {
		case "machine", "default":
			flush()
			if sc.Text() == "machine" && sc.Scan() {
				machine = sc.Text()
			}
		case "login":
			if sc.Scan() {
				login = sc.Text()
			}
		case "password":
			if sc.Scan() {
				password = sc.Text()
			}
		}
	}
	flush()
	return out
}
