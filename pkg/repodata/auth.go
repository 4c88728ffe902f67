package repodata

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// AuthEnv is the environment variable EnvCredentials reads first: a comma
// separated list of user:password@host entries, e.g.
// CONDABOX_BASIC_AUTH=ci:s3cret@repo.example.com. A password holding ','
// or '@' is not supported there; use a netrc file.
const AuthEnv = "CONDABOX_BASIC_AUTH"

// EnvCredentials returns an Options.Credentials that looks a host up in
// $CONDABOX_BASIC_AUTH, then in the netrc file ($NETRC or ~/.netrc), using
// lookup (os.LookupEnv in production). Credentials in a channel URL take
// precedence over both.
func EnvCredentials(lookup func(string) (string, bool)) func(host string) (string, string, bool) {
	env := func(k string) string { v, _ := lookup(k); return v }
	creds := map[string][2]string{}
	netrc := env("NETRC")
	if netrc == "" && env("HOME") != "" {
		netrc = filepath.Join(env("HOME"), ".netrc")
	}
	for host, up := range readNetrc(netrc) {
		creds[host] = up
	}
	for entry := range strings.SplitSeq(env(AuthEnv), ",") {
		i := strings.LastIndexByte(entry, '@')
		user, pass, ok := strings.Cut(entry[:max(i, 0)], ":")
		if i > 0 && ok {
			creds[strings.TrimSpace(entry[i+1:])] = [2]string{strings.TrimSpace(user), pass}
		}
	}
	return func(host string) (string, string, bool) {
		up, ok := creds[host]
		return up[0], up[1], ok
	}
}

// readNetrc reads the machine/login/password entries of a netrc file; a
// missing or unreadable file gives none. "default" entries are ignored so
// that credentials are never sent to a host they were not written for.
func readNetrc(path string) map[string][2]string {
	out := map[string][2]string{}
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
			out[machine] = [2]string{login, password}
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
