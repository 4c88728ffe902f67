package repodata

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/condabox/condabox/internal/testchannel/index"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/pkg/conda"
	"github.com/condabox/condabox/pkg/config"
)

// TestCondarcChannels resolves channel names through a .condarc's
// channel_alias and custom_channels and loads them, pins included.
func TestCondarcChannels(t *testing.T) {
	root := t.TempDir()
	for _, ch := range []string{"aliased", "elsewhere/internal"} {
		if err := index.WriteChannel(filepath.Join(root, ch), testRecords, index.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	s := serve(t, root, server.Options{})
	home := t.TempDir()
	rc := "channel_alias: " + s.URL() + "\ncustom_channels:\n  internal: " + s.URL() + "/elsewhere\nchannels: [aliased, internal]\n"
	if err := os.WriteFile(filepath.Join(home, ".condarc"), []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(k string) (string, bool) { return map[string]string{"HOME": home}[k], k == "HOME" })
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.ChannelConfig("")
	var chans []conda.Channel
	for _, name := range cfg.Channels {
		ch, err := conda.ParseChannel(name, cc)
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	g := newGateway(t, cfg.PkgsDirs[0], Options{TTL: cfg.LocalRepodataTTL, ChannelConfig: cc})
	ix, err := g.Load(t.Context(), chans, []conda.Platform{conda.PlatformLinux64}, specs(t, "internal::numpy", "six"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, name := range []string{"numpy", "six"} {
		for _, r := range ix.Records(name) {
			got = append(got, name+" "+r.Channel)
		}
	}
	want := []string{
		"numpy " + s.URL() + "/elsewhere/internal/linux-64",
		"six " + s.URL() + "/aliased/noarch",
		"six " + s.URL() + "/elsewhere/internal/noarch",
	}
	if !slices.Equal(got, want) {
		t.Errorf("records from\n%v\nwant\n%v", got, want)
	}
}

func TestFresh(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		ttl          int
		age          time.Duration
		cacheControl string
		want         bool
	}{
		{0, 0, "max-age=600", false},
		{1, 5 * time.Minute, "public, max-age=600", true},
		{1, 11 * time.Minute, "public, max-age=600", false},
		{1, time.Second, "no-cache", false},
		{1, time.Second, "max-age=bad", false},
		{3600, 59 * time.Minute, "", true},
		{3600, 61 * time.Minute, "max-age=999999", false},
	}
	for _, tt := range tests {
		st := state{RefreshNS: now.Add(-tt.age).UnixNano(), CacheControl: tt.cacheControl}
		if got := fresh(st, tt.ttl, now); got != tt.want {
			t.Errorf("ttl %d, age %v, %q: fresh = %v, want %v", tt.ttl, tt.age, tt.cacheControl, got, tt.want)
		}
	}
}
