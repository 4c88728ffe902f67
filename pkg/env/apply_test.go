package env

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/fetch"
	"github.com/condabox/condabox/pkg/install"
	"github.com/condabox/condabox/pkg/redact"
	"github.com/condabox/condabox/pkg/repodata"
)

func TestCredentialedURL(t *testing.T) {
	cfg := conda.ChannelConfig{}
	parse := func(s string) conda.Channel {
		c, err := conda.ParseChannel(s, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	withToken := parse("https://repo.example.com/t/tk-123/private")
	withPassword := parse("https://user:pw@mirror.example.com/forge")
	public := parse("https://conda.example.org/public")
	channels := []conda.Channel{public, withToken, withPassword}
	for _, tc := range []struct {
		name, subdir, channel, url, want string
	}{
		{"token", "linux-64", "https://repo.example.com/private/linux-64", "https://repo.example.com/private/linux-64/a-1-0.conda",
			"https://repo.example.com/t/tk-123/private/linux-64/a-1-0.conda"},
		{"password, noarch", "noarch", "https://mirror.example.com/forge/noarch", "https://mirror.example.com/forge/noarch/b-1-0.tar.bz2",
			"https://user:pw@mirror.example.com/forge/noarch/b-1-0.tar.bz2"},
		{"no credentials", "linux-64", "https://conda.example.org/public/linux-64", "https://conda.example.org/public/linux-64/c-1-0.conda",
			"https://conda.example.org/public/linux-64/c-1-0.conda"},
		{"unknown channel", "linux-64", "https://other.example.com/x/linux-64", "https://other.example.com/x/linux-64/d-1-0.conda", ""},
		{"url outside its channel (base_url)", "linux-64", "https://repo.example.com/private/linux-64", "https://cdn.example.com/a-1-0.conda", ""},
		{"bad subdir", "no-such-platform", "https://repo.example.com/private/linux-64", "https://repo.example.com/private/linux-64/a-1-0.conda", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := conda.PackageRecord{Subdir: tc.subdir, Channel: tc.channel, URL: tc.url}
			if got := credentialedURL(&rec, channels); got != tc.want {
				t.Errorf("credentialedURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	rec := func(name string, depends ...string) conda.PackageRecord {
		return conda.PackageRecord{Name: name, Version: conda.MustParseVersion("1"), Build: "0", Depends: depends}
	}
	// app → lib → base; tool → base; orphan was a dependency of a removed package.
	solved := []conda.PackageRecord{rec("base"), rec("lib", "base >=1"), rec("app", "lib"), rec("tool", "base"), rec("orphan")}
	installed := func(requested ...string) []*install.PrefixRecord {
		var out []*install.PrefixRecord
		for _, r := range solved {
			pr := &install.PrefixRecord{PackageRecord: r}
			if slices.Contains(requested, r.Name) {
				pr.RequestedSpec = r.Name
			}
			out = append(out, pr)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		requested []string
		removed   []string
		want      []string
	}{
		{"keeps what requested packages need", []string{"app", "tool"}, nil, []string{"base", "lib", "app", "tool"}},
		{"a removed request no longer roots", []string{"app", "tool"}, []string{"app"}, []string{"base", "tool"}},
		{"nothing requested keeps everything", nil, nil, []string{"base", "lib", "app", "tool", "orphan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range prune(slices.Clone(solved), installed(tc.requested...), tc.removed) {
				got = append(got, r.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("prune = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDownloadURL(t *testing.T) {
	private, err := conda.ParseChannel("https://ci:s3cret@conda.example.org/private", conda.ChannelConfig{})
	if err != nil {
		t.Fatal(err)
	}
	public, err := conda.ParseChannel("https://conda.example.org/public", conda.ChannelConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, url, want string
	}{
		{"the channel's credentials", "https://conda.example.org/private/linux-64/a-1-0.conda", "https://ci:s3cret@conda.example.org/private/linux-64/a-1-0.conda"},
		{"a channel without credentials: as is", "https://conda.example.org/public/linux-64/a-1-0.conda", "https://conda.example.org/public/linux-64/a-1-0.conda"},
		{"another host as is", "https://other.example.org/x/linux-64/a-1-0.conda", "https://other.example.org/x/linux-64/a-1-0.conda"},
		{"file URL as is", "file:///srv/chan/linux-64/a-1-0.conda", "file:///srv/chan/linux-64/a-1-0.conda"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := public
			if strings.Contains(tc.url, "/private/") {
				ch = private
			}
			rec := conda.PackageRecord{Subdir: "linux-64", Channel: ch.RecordChannel("linux-64"), URL: tc.url}
			if got := downloadURL(&rec, []conda.Channel{public, private}); got != tc.want {
				t.Errorf("downloadURL = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAuthFetcherCredentials: a package download carries the credentials
// the Authenticator gives for its URL — a conda token, basic auth or a
// bearer header — and fails without them; no error shows them.
func TestAuthFetcherCredentials(t *testing.T) {
	dir := t.TempDir()
	payload := []byte("package bytes")
	if err := os.MkdirAll(filepath.Join(dir, "linux-64"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "linux-64", "a-1-0.conda"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "SECRET-9f2"
	for _, tc := range []struct {
		name string
		srv  server.Options
		auth repodata.Auth
	}{
		{"conda token", server.Options{Token: secret}, repodata.Auth{Token: secret}},
		{"basic auth", server.Options{User: "ci", Password: secret}, repodata.Auth{User: "ci", Password: secret}},
		{"bearer", server.Options{Bearer: secret}, repodata.Auth{Bearer: secret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := server.Start(t.Context(), dir, tc.srv)
			if err != nil {
				t.Fatal(err)
			}
			pkgURL := "http://" + srv.Addr() + "/linux-64/a-1-0.conda"
			get := func(creds repodata.Authenticator) error {
				f := &authFetcher{client: fetch.New(fetch.Options{Attempts: 1}), creds: creds}
				return f.Download(t.Context(), fetch.Request{URL: pkgURL, Dest: filepath.Join(t.TempDir(), "a.conda"), Size: int64(len(payload))})
			}
			if err := get(func(*url.URL) (repodata.Auth, bool) { return tc.auth, true }); err != nil {
				t.Errorf("with credentials: %v", err)
			}
			err = get(nil)
			if err == nil || !strings.Contains(err.Error(), "401") {
				t.Errorf("without credentials: error %v, want a 401", err)
			}
			if err != nil && strings.Contains(redact.Error(err).Error(), secret) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

// TestDownloadProgress: a line per download, or one status line rewritten
// in place on a terminal; credentials never shown.
func TestDownloadProgress(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a-1-0.conda")
	if err := os.WriteFile(src, []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		inPlace bool
		want    string
	}{
		{false, "Downloaded file://" + src + " (7 bytes)\n"},
		{true, "\r\x1b[KDownloaded 1 packages, 0.0 MB: a-1-0.conda\n"},
	} {
		var out strings.Builder
		f := &authFetcher{client: fetch.New(fetch.Options{}), progress: Progress{W: &out, InPlace: tc.inPlace}}
		err := f.Download(t.Context(), fetch.Request{URL: "file://" + src, Dest: filepath.Join(t.TempDir(), "a.conda"), Size: 7})
		f.endProgress()
		if err != nil || out.String() != tc.want {
			t.Errorf("in place %v: output %q, error %v; want %q", tc.inPlace, out.String(), err, tc.want)
		}
	}
}

func TestStripCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, url, clean string // clean "" means unchanged
	}{
		{"token", "https://repo.example.com/t/tk-9/private/linux-64/a-1-0.conda", "https://repo.example.com/private/linux-64/a-1-0.conda"},
		{"password", "https://u:pw@repo.example.com/private/noarch/a-1-0.tar.bz2", "https://repo.example.com/private/noarch/a-1-0.tar.bz2"},
		{"none", "https://repo.example.com/private/linux-64/a-1-0.conda", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := []conda.PackageRecord{{URL: tc.url}}
			auth := stripCredentials(recs)
			want := map[string]string{}
			if tc.clean != "" {
				want[tc.clean] = tc.url
			} else {
				tc.clean = tc.url
			}
			if recs[0].URL != tc.clean || len(auth) != len(want) || auth[tc.clean] != want[tc.clean] {
				t.Errorf("URL %q, auth %q; want %q, %q", recs[0].URL, auth, tc.clean, want)
			}
		})
	}
}

func TestSelectDeps(t *testing.T) {
	rec := func(name, version string) conda.PackageRecord {
		return conda.PackageRecord{Name: name, Version: conda.MustParseVersion(version), Build: "0"}
	}
	// The solve updates lib (installed 1, solved 2) for app, newly asked for.
	solved := []conda.PackageRecord{rec("base", "1"), rec("lib", "2"), rec("app", "1")}
	installedLib := []*install.PrefixRecord{{PackageRecord: rec("base", "1")}, {PackageRecord: rec("lib", "1")}}
	installedApp := []*install.PrefixRecord{{PackageRecord: rec("app", "0.9")}}
	spec, err := conda.ParseMatchSpec("app")
	if err != nil {
		t.Fatal(err)
	}
	app := []conda.MatchSpec{spec}
	for _, tc := range []struct {
		name      string
		installed []*install.PrefixRecord
		mode      DepsMode
		want      []string
	}{
		{"no deps, new environment", nil, NoDeps, []string{"app-1"}},
		{"no deps keeps the installed as they are", installedLib, NoDeps, []string{"app-1", "base-1", "lib-1"}},
		{"only deps, new environment", nil, OnlyDeps, []string{"base-1", "lib-2"}},
		{"only deps keeps an installed requested package", installedApp, OnlyDeps, []string{"base-1", "lib-2", "app-0.9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range selectDeps(solved, tc.installed, app, tc.mode) {
				got = append(got, r.Name+"-"+r.Version.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
