package conda

import (
	"encoding/json"
	"strings"
	"testing"
)

// secretMarker starts every secret the fuzz target plants; inputs that
// hold it elsewhere are skipped, so finding it in an output is a leak.
const secretMarker = "SeCrEt"

// plantSecret maps arbitrary fuzz bytes onto characters a token or a
// password may hold unescaped, behind secretMarker.
func plantSecret(raw string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"
	var b strings.Builder
	b.WriteString(secretMarker)
	for i := 0; i < len(raw); i++ {
		b.WriteByte(alphabet[int(raw[i])%len(alphabet)])
	}
	return b.String()
}

func FuzzParseChannel(f *testing.F) {
	for _, s := range []string{
		"conda-forge", "conda-forge/label/dev/linux-64", "https://conda.anaconda.org/conda-forge/noarch/x-1-0.conda",
		"file:///opt/chan", "./chan", "../x/osx-arm64", "https://u:p@h:8080/t/tok/c/", "https://[::1]/c",
		"https://h/%zz", "http://h/c?x#y", "defaults", "internal/label/x", "s3://b/c", "~/c", "a//b",
	} {
		f.Add(s, "xy-1234")
	}
	cfg := ChannelConfig{
		WorkDir:        "/work",
		CustomChannels: map[string]string{"internal": "https://repo.example.com/mirror"},
	}
	f.Fuzz(func(t *testing.T, s, raw string) {
		if strings.Contains(s, secretMarker) {
			t.Skip()
		}
		secret := plantSecret(raw)
		// Arbitrary input must never panic; its own token must not show.
		if c, err := ParseChannel(s, cfg); err == nil && c.token != "" && strings.Count(s, c.token) == 1 {
			assertHidden(t, s, c, c.token)
		}
		// Secrets planted in a URL, in the alias or in a custom channel
		// stay out of every output and every error.
		planted := []struct {
			in  string
			cfg ChannelConfig
		}{
			{"https://user:" + secret + "@conda.anaconda.org/t/" + secret + "/" + s, cfg},
			{s, ChannelConfig{WorkDir: "/w", ChannelAlias: "https://conda.anaconda.org/t/" + secret}},
			{s, ChannelConfig{WorkDir: "/w", CustomChannels: map[string]string{s: "https://u:" + secret + "@h/" + s}}},
		}
		for _, p := range planted {
			c, err := ParseChannel(p.in, p.cfg)
			if err != nil {
				if strings.Contains(err.Error(), secretMarker) {
					t.Fatalf("ParseChannel(%q) error leaks the secret: %v", p.in, err)
				}
				continue
			}
			assertHidden(t, p.in, c, secretMarker)
		}
	})
}

// assertHidden fails when secret shows in any output meant to be seen.
func assertHidden(t *testing.T, in string, c Channel, secret string) {
	t.Helper()
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("marshal channel of %q: %v", in, err)
	}
	for what, out := range map[string]string{
		"Name": c.Name(), "String": c.String(), "JSON": string(js), "RecordChannel": c.RecordChannel(PlatformNoArch),
	} {
		if strings.Contains(out, secret) {
			t.Fatalf("ParseChannel(%q).%s = %q leaks the secret %q", in, what, out, secret)
		}
	}
}
