package env

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/fetch"
	"github.com/condabox/condabox/pkg/install"
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
	public, err := conda.ParseChannel("https://conda.example.org/public", conda.ChannelConfig{})
	if err != nil {
		t.Fatal(err)
	}
	creds := func(u *url.URL) (repodata.Auth, bool) {
		return repodata.Auth{User: "ci", Password: "s3cret"}, u.Hostname() == "conda.example.org"
	}
	for _, tc := range []struct {
		name, url, want string
	}{
		{"host credentials added", "https://conda.example.org/public/linux-64/a-1-0.conda", "https://ci:s3cret@conda.example.org/public/linux-64/a-1-0.conda"},
		{"other host as is", "https://other.example.org/x/linux-64/a-1-0.conda", "https://other.example.org/x/linux-64/a-1-0.conda"},
		{"file URL as is", "file:///srv/chan/linux-64/a-1-0.conda", "file:///srv/chan/linux-64/a-1-0.conda"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := conda.PackageRecord{Subdir: "linux-64", Channel: public.RecordChannel("linux-64"), URL: tc.url}
			if got := downloadURL(&rec, []conda.Channel{public}, creds); got != tc.want {
				t.Errorf("downloadURL = %q, want %q", got, tc.want)
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
