package conda

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseChannel(t *testing.T) {
	custom := ChannelConfig{
		CustomChannels: map[string]string{
			"internal":        "https://u:pw@repo.example.com/mirror",
			"internal/legacy": "https://old.example.com",
		},
	}
	tokenAlias := ChannelConfig{ChannelAlias: "https://conda.anaconda.org/t/tk-123"}
	tests := []struct {
		in       string
		cfg      ChannelConfig
		name     string
		base     string // BaseURL, secrets included
		str      string // String, redacted
		platform Platform
	}{
		{"conda-forge", ChannelConfig{}, "conda-forge",
			"https://conda.anaconda.org/conda-forge", "https://conda.anaconda.org/conda-forge", ""},
		{"  conda-forge  ", ChannelConfig{}, "conda-forge",
			"https://conda.anaconda.org/conda-forge", "https://conda.anaconda.org/conda-forge", ""},
		{"conda-forge/label/dev", ChannelConfig{}, "conda-forge/label/dev",
			"https://conda.anaconda.org/conda-forge/label/dev", "https://conda.anaconda.org/conda-forge/label/dev", ""},
		{"conda-forge/linux-64", ChannelConfig{}, "conda-forge",
			"https://conda.anaconda.org/conda-forge", "https://conda.anaconda.org/conda-forge/linux-64", PlatformLinux64},
		{"bioconda", ChannelConfig{ChannelAlias: "https://mirror.example.org/conda/"}, "bioconda",
			"https://mirror.example.org/conda/bioconda", "https://mirror.example.org/conda/bioconda", ""},
		{"conda-forge", tokenAlias, "conda-forge",
			"https://conda.anaconda.org/t/tk-123/conda-forge", "https://conda.anaconda.org/t/<TOKEN>/conda-forge", ""},
		{"internal", custom, "internal",
			"https://u:pw@repo.example.com/mirror/internal", "https://u:********@repo.example.com/mirror/internal", ""},
		{"internal/label/dev", custom, "internal/label/dev",
			"https://u:pw@repo.example.com/mirror/internal/label/dev", "https://u:********@repo.example.com/mirror/internal/label/dev", ""},
		{"internal/legacy/noarch", custom, "internal/legacy",
			"https://old.example.com/internal/legacy", "https://old.example.com/internal/legacy/noarch", PlatformNoArch},
		{"internalx", custom, "internalx",
			"https://conda.anaconda.org/internalx", "https://conda.anaconda.org/internalx", ""},

		// URLs under the alias or a custom channel get its name.
		{"https://conda.anaconda.org/conda-forge", ChannelConfig{}, "conda-forge",
			"https://conda.anaconda.org/conda-forge", "https://conda.anaconda.org/conda-forge", ""},
		{"https://conda.anaconda.org/conda-forge/", ChannelConfig{}, "conda-forge",
			"https://conda.anaconda.org/conda-forge", "https://conda.anaconda.org/conda-forge", ""},
		{"HTTPS://Conda.Anaconda.org/conda-forge/osx-arm64", ChannelConfig{}, "conda-forge",
			"https://Conda.Anaconda.org/conda-forge", "https://Conda.Anaconda.org/conda-forge/osx-arm64", PlatformOSXArm64},
		{"https://conda.anaconda.org/t/abc-123/conda-forge/linux-64/", ChannelConfig{}, "conda-forge",
			"https://conda.anaconda.org/t/abc-123/conda-forge", "https://conda.anaconda.org/t/<TOKEN>/conda-forge/linux-64", PlatformLinux64},
		{"https://conda.anaconda.org/conda-forge/noarch/pip-23.0-pyhd8ed1ab_0.conda", ChannelConfig{}, "conda-forge",
			"https://conda.anaconda.org/conda-forge", "https://conda.anaconda.org/conda-forge/noarch", PlatformNoArch},
		{"https://conda.anaconda.org/conda-forge/win-64/xz-5.2.6-h8d14728_0.tar.bz2", ChannelConfig{}, "conda-forge",
			"https://conda.anaconda.org/conda-forge", "https://conda.anaconda.org/conda-forge/win-64", PlatformWin64},
		{"https://repo.example.com/mirror/internal/label/dev/linux-aarch64", custom, "internal/label/dev",
			"https://repo.example.com/mirror/internal/label/dev", "https://repo.example.com/mirror/internal/label/dev/linux-aarch64", PlatformLinuxAarch64},
		{"https://old.example.com/internal/legacy", custom, "internal/legacy",
			"https://old.example.com/internal/legacy", "https://old.example.com/internal/legacy", ""},

		// Other URLs are named by their URL without secrets.
		{"https://repo.example.com/chan", ChannelConfig{}, "https://repo.example.com/chan",
			"https://repo.example.com/chan", "https://repo.example.com/chan", ""},
		{"http://localhost:8080/my-channel/", ChannelConfig{}, "http://localhost:8080/my-channel",
			"http://localhost:8080/my-channel", "http://localhost:8080/my-channel", ""},
		{"https://user:s3cret@repo.example.com/chan/linux-64", ChannelConfig{}, "https://repo.example.com/chan",
			"https://user:s3cret@repo.example.com/chan", "https://user:********@repo.example.com/chan/linux-64", PlatformLinux64},
		{"https://repo.example.com/api/t/tok/chan", ChannelConfig{}, "https://repo.example.com/api/chan",
			"https://repo.example.com/api/t/tok/chan", "https://repo.example.com/api/t/<TOKEN>/chan", ""},
		{"https://repo.example.com/t/a/t/b/chan", ChannelConfig{}, "https://repo.example.com/t/<TOKEN>/chan",
			"https://repo.example.com/t/a/t/b/chan", "https://repo.example.com/t/<TOKEN>/t/<TOKEN>/chan", ""},
		{"https://repo.example.com", ChannelConfig{}, "https://repo.example.com",
			"https://repo.example.com", "https://repo.example.com", ""},
		{"https://repo.example.com/linux-64", ChannelConfig{}, "https://repo.example.com",
			"https://repo.example.com", "https://repo.example.com/linux-64", PlatformLinux64},
		{"s3://bucket/chan", ChannelConfig{}, "s3://bucket/chan", "s3://bucket/chan", "s3://bucket/chan", ""},

		// Paths become file URLs.
		{"file:///opt/channels/local", ChannelConfig{}, "file:///opt/channels/local",
			"file:///opt/channels/local", "file:///opt/channels/local", ""},
		{"file:///opt/channels/local/noarch/", ChannelConfig{}, "file:///opt/channels/local",
			"file:///opt/channels/local", "file:///opt/channels/local/noarch", PlatformNoArch},
		{"/opt/channels/../channels/local", ChannelConfig{}, "file:///opt/channels/local",
			"file:///opt/channels/local", "file:///opt/channels/local", ""},
		{"/opt/my channel", ChannelConfig{}, "file:///opt/my%20channel",
			"file:///opt/my%20channel", "file:///opt/my%20channel", ""},
		{"./local/linux-64", ChannelConfig{WorkDir: "/home/me/proj"}, "file:///home/me/proj/local",
			"file:///home/me/proj/local", "file:///home/me/proj/local/linux-64", PlatformLinux64},
		{"../shared", ChannelConfig{WorkDir: "/home/me/proj"}, "file:///home/me/shared",
			"file:///home/me/shared", "file:///home/me/shared", ""},
		{"file://localhost/srv/chan", ChannelConfig{}, "file://localhost/srv/chan", "file://localhost/srv/chan", "file://localhost/srv/chan", ""},
		{".", ChannelConfig{WorkDir: "/srv/chan"}, "file:///srv/chan", "file:///srv/chan", "file:///srv/chan", ""},
		{"./x", ChannelConfig{ChannelAlias: "file:///srv", WorkDir: "/srv"}, "x", "file:///srv/x", "file:///srv/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ParseChannel(tt.in, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Name(); got != tt.name {
				t.Errorf("Name() = %q, want %q", got, tt.name)
			}
			if got := c.BaseURL(); got != tt.base {
				t.Errorf("BaseURL() = %q, want %q", got, tt.base)
			}
			if got := c.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := c.Platform(); got != tt.platform {
				t.Errorf("Platform() = %q, want %q", got, tt.platform)
			}
			if got, want := c.SubdirURL(PlatformNoArch), tt.base+"/noarch/"; got != want {
				t.Errorf("SubdirURL(noarch) = %q, want %q", got, want)
			}
			// Parsing what String shows gives the same channel back, as long as
			// it holds no masked secret.
			if !strings.Contains(tt.str, "<TOKEN>") && !strings.Contains(tt.str, "****") {
				again, err := ParseChannel(c.String(), tt.cfg)
				if err != nil {
					t.Fatalf("reparse %q: %v", c.String(), err)
				}
				if again != c {
					t.Errorf("reparse of %q = %+v, want %+v", c.String(), again, c)
				}
			}
		})
	}
}

func TestParseChannelErrors(t *testing.T) {
	tests := []struct {
		in   string
		cfg  ChannelConfig
		want string
	}{
		{"", ChannelConfig{}, `parse channel "": empty channel`},
		{"   ", ChannelConfig{}, `empty channel`},
		{"defaults", ChannelConfig{}, `the defaults multichannel stands for .condarc's default_channels, which are not set`},
		{"~/chan", ChannelConfig{}, `must be expanded`},
		{"./chan", ChannelConfig{}, `relative path needs an absolute working directory, have ""`},
		{"./chan", ChannelConfig{WorkDir: "rel"}, `have "rel"`},
		{"conda-forge//dev", ChannelConfig{}, `empty name segment at offset 12`},
		{"conda-forge/", ChannelConfig{}, `empty name segment at offset 12`},
		{"conda forge", ChannelConfig{}, `invalid character ' ' in name segment "conda forge" (offset 5 in the segment) at offset 0`},
		{"a/b?c", ChannelConfig{}, `invalid character '?'`},
		{"a/../b", ChannelConfig{}, `segment ".." is not a name at offset 2`},
		{"x/t/y", ChannelConfig{}, `segment "t" is reserved`},
		{"linux-64", ChannelConfig{}, `a platform is not a channel name`},
		{"conda-forge", ChannelConfig{ChannelAlias: "conda.anaconda.org"}, `channel alias "conda.anaconda.org": missing URL scheme`},
		{"internal", ChannelConfig{CustomChannels: map[string]string{"internal": "https://u:pw@h:x/"}},
			`custom channel "internal": location "https://u:********@h:x/": invalid port ":x" after host`},
		{"https:///chan", ChannelConfig{}, `missing host`},
		{"file://./chan", ChannelConfig{}, `a file URL names no host`},
		{"file:chan", ChannelConfig{}, `invalid character ':' in name segment "file:chan"`},
		{"a:b://c", ChannelConfig{}, `URL is not hierarchical`},
		{"https://h/c?x=1", ChannelConfig{}, `a channel URL has no query`},
		{"https://h/c#f", ChannelConfig{}, `a channel URL has no fragment`},
		{"https://h//c", ChannelConfig{}, `empty path segment`},
		{"https://u:pw@h:bad/t/tok/c", ChannelConfig{}, `parse channel "https://u:********@h:bad/t/<TOKEN>/c": invalid port ":bad" after host`},
		{"https://h/%zz", ChannelConfig{}, `invalid URL escape "%zz"`},
		{"://h/c", ChannelConfig{}, `missing protocol scheme`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseChannel(tt.in, tt.cfg)
			if err == nil {
				t.Fatalf("ParseChannel(%q) succeeded, want error containing %q", tt.in, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			for _, secret := range []string{"pw", "tok"} {
				if strings.Contains(tt.in, secret) && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks %q", err, secret)
				}
			}
		})
	}
}

func TestChannelSecretsStayHidden(t *testing.T) {
	c, err := ParseChannel("https://alice:hunter2@conda.anaconda.org/t/tk-secret/conda-forge/linux-64", ChannelConfig{})
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(struct{ C Channel }{c})
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{
		"Name": c.Name(), "String": c.String(), "JSON": string(js),
		"RecordChannel": c.RecordChannel(PlatformLinux64),
	} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "tk-secret") {
			t.Errorf("%s = %q leaks a secret", what, s)
		}
	}
	if want := "https://alice:hunter2@conda.anaconda.org/t/tk-secret/conda-forge/linux-64/"; c.SubdirURL(PlatformLinux64) != want {
		t.Errorf("SubdirURL = %q, want %q: requests need the secrets", c.SubdirURL(PlatformLinux64), want)
	}
}

func TestRecordChannel(t *testing.T) {
	tests := []struct {
		in   string
		cfg  ChannelConfig
		p    Platform
		want string
	}{
		{"conda-forge", ChannelConfig{}, PlatformLinux64, "https://conda.anaconda.org/conda-forge/linux-64"},
		{"conda-forge", ChannelConfig{ChannelAlias: "https://conda.anaconda.org/t/tok"}, PlatformNoArch, "https://conda.anaconda.org/conda-forge/noarch"},
		{"https://u:pw@h/t/tok/chan", ChannelConfig{}, PlatformOSXArm64, "https://h/chan/osx-arm64"},
		{"/opt/chan", ChannelConfig{}, PlatformNoArch, "file:///opt/chan/noarch"},
	}
	for _, tt := range tests {
		c, err := ParseChannel(tt.in, tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.RecordChannel(tt.p); got != tt.want {
			t.Errorf("%q.RecordChannel(%s) = %q, want %q", tt.in, tt.p, got, tt.want)
		}
	}
}

func TestChannelMatches(t *testing.T) {
	custom := ChannelConfig{CustomChannels: map[string]string{"internal": "https://repo.example.com"}}
	tests := []struct {
		spec, record string
		cfg          ChannelConfig
		want         bool
	}{
		{"conda-forge", "conda-forge", ChannelConfig{}, true},
		{"conda-forge", "https://conda.anaconda.org/conda-forge", ChannelConfig{}, true},
		{"conda-forge", "https://conda.anaconda.org/conda-forge/", ChannelConfig{}, true},
		{"conda-forge", "https://conda.anaconda.org/conda-forge/noarch", ChannelConfig{}, true},
		{"conda-forge", "https://conda.anaconda.org/t/tok/conda-forge/linux-64", ChannelConfig{}, true},
		{"conda-forge", "https://conda.anaconda.org/conda-forge/noarch/pip-23.0-pyhd8ed1ab_0.conda", ChannelConfig{}, true},
		{"https://conda.anaconda.org/conda-forge", "conda-forge", ChannelConfig{}, true},
		{"conda-forge", "bioconda", ChannelConfig{}, false},
		{"conda-forge", "conda-forge/label/dev", ChannelConfig{}, false},
		{"conda-forge/label/dev", "https://conda.anaconda.org/conda-forge/label/dev/linux-64", ChannelConfig{}, true},
		{"conda-forge", "https://mirror.example.com/conda-forge", ChannelConfig{}, false},
		{"conda-forge/linux-64", "https://conda.anaconda.org/conda-forge/linux-64", ChannelConfig{}, true},
		{"conda-forge/linux-64", "https://conda.anaconda.org/conda-forge/noarch", ChannelConfig{}, false},
		{"conda-forge/linux-64", "conda-forge", ChannelConfig{}, true},
		{"internal", "https://repo.example.com/internal/linux-64", custom, true},
		{"https://repo.example.com/internal", "internal", custom, true},
		{"internal", "https://conda.anaconda.org/internal/linux-64", custom, false},
		{"https://h/chan", "https://u:pw@h/t/tok/chan/noarch", ChannelConfig{}, true},
		{"https://h/chan", "http://H/chan", ChannelConfig{}, true},
		{"https://h/chan", "https://h/other/chan", ChannelConfig{}, false},
		{"https://h/chan", "https://h:8080/chan", ChannelConfig{}, false},
		{"/opt/chan", "file:///opt/chan/noarch", ChannelConfig{}, true},
		{"conda-forge", "", ChannelConfig{}, false},
		{"conda-forge", "not a channel", ChannelConfig{}, false},
	}
	for _, tt := range tests {
		got, err := ChannelMatches(tt.spec, tt.record, tt.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("ChannelMatches(%q, %q) = %v, want %v", tt.spec, tt.record, got, tt.want)
		}
	}
	if _, err := ChannelMatches("conda forge", "conda-forge", ChannelConfig{}); err == nil {
		t.Error("an invalid spec is not an error")
	}
}

// TestChannelMatchesRealRecords reads conda-meta records of real
// conda-forge installs, written by conda, mamba and rattler with three
// spellings of the channel, and checks each belongs to conda-forge.
func TestChannelMatchesRealRecords(t *testing.T) {
	dir := realdata(t, "prefix-records/conda-meta")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no records in %s: %v", dir, err)
	}
	conda, err := ParseChannel("conda-forge", ChannelConfig{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := ParseChannel("bioconda", ChannelConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Channel, URL string }
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, field := range []string{r.Channel, r.URL} {
			if !conda.Includes(field, ChannelConfig{}) {
				t.Errorf("%s: %q is not in conda-forge", filepath.Base(f), field)
			}
			if other.Includes(field, ChannelConfig{}) {
				t.Errorf("%s: %q is in bioconda", filepath.Base(f), field)
			}
		}
	}
}

// BenchmarkChannelIncludes measures the per-record cost of matching
// "conda-forge::name" against the channel field of an installed record.
func BenchmarkChannelIncludes(b *testing.B) {
	cfg := ChannelConfig{CustomChannels: map[string]string{"internal": "https://repo.example.com"}}
	c, err := ParseChannel("conda-forge", cfg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !c.Includes("https://conda.anaconda.org/conda-forge/linux-64", cfg) {
			b.Fatal("no match")
		}
	}
}
