package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileEdits(t *testing.T) {
	const start = "# my settings\nchannels:\n  - conda-forge # the community\n  - bioconda\nchannel_priority: flexible\nunknown_key: kept\n"
	tests := []struct {
		name    string
		edit    func(f *File) error
		want    string // the file afterwards
		wantErr string
	}{
		{"set replaces a value, comments and other keys kept", func(f *File) error { return f.Set("channel_priority", "strict") },
			"# my settings\nchannels:\n  - conda-forge # the community\n  - bioconda\nchannel_priority: strict\nunknown_key: kept\n", ""},
		{"set adds a key with its YAML type", func(f *File) error { return f.Set("local_repodata_ttl", "60") },
			start + "local_repodata_ttl: 60\n", ""},
		{"set of a boolean", func(f *File) error { return f.Set("offline", "true") }, start + "offline: true\n", ""},
		{"append", func(f *File) error { return f.Append("channels", "defaults", false) },
			"# my settings\nchannels:\n  - conda-forge # the community\n  - bioconda\n  - defaults\nchannel_priority: flexible\nunknown_key: kept\n", ""},
		{"prepend moves an entry to the front", func(f *File) error { return f.Append("channels", "bioconda", true) },
			"# my settings\nchannels:\n  - bioconda\n  - conda-forge # the community\nchannel_priority: flexible\nunknown_key: kept\n", ""},
		{"append creates the list", func(f *File) error { return f.Append("pkgs_dirs", "/cache", false) },
			start + "pkgs_dirs:\n  - /cache\n", ""},
		{"remove", func(f *File) error { return f.Remove("channels", "conda-forge") },
			"# my settings\nchannels:\n  - bioconda\nchannel_priority: flexible\nunknown_key: kept\n", ""},
		{"remove-key", func(f *File) error { return f.RemoveKey("unknown_key") },
			"# my settings\nchannels:\n  - conda-forge # the community\n  - bioconda\nchannel_priority: flexible\n", ""},
		{"set of a list key", func(f *File) error { return f.Set("channels", "x") }, "", "channels is a list: use append, prepend or remove"},
		{"append to a scalar key", func(f *File) error { return f.Append("channel_priority", "x", false) }, "", "channel_priority is not a list key"},
		{"remove of an absent entry", func(f *File) error { return f.Remove("channels", "nope") }, "", `channels has no entry "nope"`},
		{"remove of an absent key", func(f *File) error { return f.RemoveKey("offline") }, "", "no key offline"},
		{"set of a mapping value", func(f *File) error { return f.Set("offline", "{a: 1}") }, "", "want one value"},
		{"a value Load refuses", func(f *File) error { return f.Set("channel_priority", "sometimes") }, "", `channel_priority "sometimes": want strict, flexible or disabled`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFile([]byte(start))
			if err != nil {
				t.Fatal(err)
			}
			err = tt.edit(f)
			var got []byte
			if err == nil {
				got, err = f.Bytes()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("file:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	for _, tt := range []struct {
		name, data, wantErr string
	}{
		{"empty", "", ""},
		{"comment only", "# nothing\n", ""},
		{"null document", "~\n", ""},
		{"a list", "- a\n", "not a mapping"},
		{"bad YAML", "channels: [a\n", "did not find expected"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFile([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Append("channels", "conda-forge", false); err != nil {
				t.Fatal(err)
			}
			if b, err := f.Bytes(); err != nil || string(b) != "channels:\n  - conda-forge\n" {
				t.Errorf("after append: %q, %v", b, err)
			}
		})
	}
}

func TestMerged(t *testing.T) {
	home, root := t.TempDir(), t.TempDir()
	write := func(p, data string) {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, ".condarc"), "channels: [defaults]\ncustom_channels: {a: http://a, b: http://b}\nchannel_priority: flexible\n")
	write(filepath.Join(home, ".condarc"), "channels: [conda-forge, defaults]\ncustom_channels: {b: http://b2}\nchannel_priority: strict\n")
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"HOME": home, "MAMBA_ROOT_PREFIX": root}[k]
		return v, ok
	}
	got, files, err := Merged(lookup, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "channels: [conda-forge, defaults]\ncustom_channels: {a: 'http://a', b: 'http://b2'}\nchannel_priority: strict\n"
	if string(got) != want {
		t.Errorf("merged:\n%s\nwant:\n%s", got, want)
	}
	// Some keys only, each value with its file.
	got, _, err = Merged(lookup, MergeOptions{Keys: []string{"custom_channels", "channel_priority"}, ShowSource: true})
	if err != nil {
		t.Fatal(err)
	}
	r, h := filepath.Join(root, ".condarc"), filepath.Join(home, ".condarc")
	want = "custom_channels:\n  a: http://a # '" + r + "'\n  b: http://b2 # '" + h + "'\nchannel_priority: strict # '" + h + "'\n"
	if string(got) != want {
		t.Errorf("merged with sources:\n%s\nwant:\n%s", got, want)
	}
	if len(files) != 2 || files[0] != filepath.Join(root, ".condarc") || files[1] != filepath.Join(home, ".condarc") {
		t.Errorf("files %q", files)
	}
	c, err := Load(lookup)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Channels, ",") != "conda-forge,defaults" || c.CustomChannels["b"] != "http://b2" || c.ChannelPriority != "strict" {
		t.Errorf("Load disagrees: %+v", c)
	}
}

// FuzzParseFile: a file ParseFile reads either gives an error or YAML that
// reads back to the same bytes, and an edit never panics.
func FuzzParseFile(f *testing.F) {
	for _, s := range []string{"", "channels: [a, b]\n", "# c\nchannel_priority: strict\nx: {a: 1}\n", "- a\n", "a: &x 1\nb: *x\n", "? [a]\n: b\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		file, err := ParseFile([]byte(data))
		if err != nil {
			return
		}
		b, err := file.Bytes()
		if err != nil {
			return
		}
		again, err := ParseFile(b)
		if err != nil {
			t.Fatalf("written %q does not read back: %v", b, err)
		}
		b2, err := again.Bytes()
		if err != nil || string(b2) != string(b) {
			t.Fatalf("not stable: %q then %q (%v)", b, b2, err)
		}
		_ = again.Append("channels", "x", true)
		_ = again.Set("offline", "true")
		_, _ = again.Bytes()
	})
}
