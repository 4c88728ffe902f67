package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/repodata"
)

// TestAuth: credentials stored with auth login let search reach channels
// that need a token or basic auth, given by their plain URL; logout takes
// them away; no output shows them.
func TestAuth(t *testing.T) {
	home := isolate(t)
	const token, user, password = "tk-AUTH-SECRET", "ci", "pw-AUTH-SECRET"
	tokenSrv, err := server.Start(t.Context(), testChannel(t), server.Options{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	basicSrv, err := server.Start(t.Context(), testChannel(t), server.Options{User: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	bearerSrv, err := server.Start(t.Context(), testChannel(t), server.Options{Bearer: token})
	if err != nil {
		t.Fatal(err)
	}
	var outputs []string
	cli := func(stdin string, args ...string) result {
		t.Helper()
		r := runCLIIn(t, stdin, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}
	search := func(srv *server.Server) result {
		return cli("", "search", "--override-channels", "-c", "http://"+srv.Addr(), "--platform", "linux-64", "--json", "python")
	}
	if r := search(tokenSrv); r.code == 0 {
		t.Fatalf("search without credentials succeeded: %s", r.stdout)
	}
	tokenHost := tokenSrv.Addr()
	if r := cli("", "auth", "login", tokenHost, "--token", token); r.code != 0 {
		t.Fatalf("login --token: %s", r.stderr)
	}
	if r := cli(password+"\n", "auth", "login", "http://"+basicSrv.Addr()+"/", "--username", user); r.code != 0 {
		t.Fatalf("login --username, password on stdin: %s", r.stderr)
	}
	if r := cli("", "auth", "login", bearerSrv.Addr(), "--bearer", token); r.code != 0 {
		t.Fatalf("login --bearer: %s", r.stderr)
	}
	for _, srv := range []*server.Server{tokenSrv, basicSrv, bearerSrv} {
		r := search(srv)
		var out struct {
			Result struct{ Pkgs []struct{ Name string } }
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 || len(out.Result.Pkgs) != 2 {
			t.Errorf("search %s with stored credentials: exit %d, %v, %s %s", srv.Addr(), r.code, err, r.stdout, r.stderr)
		}
	}
	path := filepath.Join(home, repodata.AuthFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, mode %v; want 0600", path, err, st.Mode())
	}
	entries, err := repodata.ReadAuthFile(path)
	if err != nil || entries[tokenHost].Type != repodata.AuthToken || entries[basicSrv.Addr()].User != user {
		t.Errorf("authentication.json: %+v, %v", entries, err)
	}
	if r := cli("", "auth", "logout", tokenHost); r.code != 0 {
		t.Fatalf("logout: %s", r.stderr)
	}
	t.Setenv("CONDA_PKGS_DIRS", t.TempDir()) // no cached index: the search asks the server
	if r := search(tokenSrv); r.code == 0 || !strings.Contains(r.stderr, "401") {
		t.Errorf("search after logout: exit %d, stderr %s", r.code, r.stderr)
	}
	for _, bad := range [][]string{
		{"auth", "login", "h.example"},
		{"auth", "login", "h.example", "--token", "t", "--username", "u"},
		{"auth", "login", "h.example", "--token", "t", "--bearer", "b"},
		{"auth", "login", "https://u:p@h.example", "--token", "t"},
		{"auth", "logout", "never.example"},
	} {
		if r := cli("", bad...); r.code == 0 {
			t.Errorf("%q: no error", bad)
		}
	}
	for _, out := range outputs {
		if strings.Contains(out, token) || strings.Contains(out, password) {
			t.Errorf("a secret shown:\n%s", out)
		}
	}
}
