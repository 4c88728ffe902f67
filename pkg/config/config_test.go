package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// write creates the named files under dir and returns a lookup for env,
// with every value's "$D" replaced by dir.
func setup(t *testing.T, files map[string]string, env map[string]string) func(string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	// The system's folders are the test's: $D/etc and $D/var.
	saved := systemDirs
	systemDirs = []string{filepath.Join(dir, "etc"), filepath.Join(dir, "var")}
	t.Cleanup(func() { systemDirs = saved })
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return func(k string) (string, bool) {
		v, ok := env[k]
		return strings.ReplaceAll(v, "$D", dir), ok
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   map[string]string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "defaults",
			env:  map[string]string{"HOME": "$D/home"},
			check: func(t *testing.T, c *Config) {
				if c.LocalRepodataTTL != DefaultRepodataTTL || c.Offline || len(c.Channels) != 0 {
					t.Errorf("got %+v, want defaults", c)
				}
				if !strings.HasSuffix(c.PkgsDirs[0], "/home/micromamba/pkgs") {
					t.Errorf("PkgsDirs = %v", c.PkgsDirs)
				}
			},
		},
		{
			name: "precedence and merge",
			files: map[string]string{
				"root/.condarc": "channels: [defaults-ish, conda-forge]\nchannel_alias: https://root.example\nlocal_repodata_ttl: 10\n",
				"home/.condarc": "channels: [bioconda]\ncustom_channels: {internal: https://repo.example.com}\n",
				"home/.mambarc": "channel_priority: Strict\noffline: true\n",
				"explicit.yaml": "channel_alias: https://alias.example\nlocal_repodata_ttl: true\npkgs_dirs: [~/pkgs]\n",
			},
			env: map[string]string{"HOME": "$D/home", "MAMBA_ROOT_PREFIX": "$D/root", "CONDARC": "$D/explicit.yaml"},
			check: func(t *testing.T, c *Config) {
				if want := []string{"bioconda", "defaults-ish", "conda-forge"}; !slices.Equal(c.Channels, want) {
					t.Errorf("Channels = %v, want %v", c.Channels, want)
				}
				if c.ChannelAlias != "https://alias.example" || c.ChannelPriority != "strict" || !c.Offline {
					t.Errorf("scalars = %q %q %v", c.ChannelAlias, c.ChannelPriority, c.Offline)
				}
				if c.LocalRepodataTTL != 1 {
					t.Errorf("LocalRepodataTTL = %d, want 1 (true)", c.LocalRepodataTTL)
				}
				if c.CustomChannels["internal"] != "https://repo.example.com" {
					t.Errorf("CustomChannels = %v", c.CustomChannels)
				}
				if len(c.PkgsDirs) != 1 || !strings.HasSuffix(c.PkgsDirs[0], "/home/pkgs") {
					t.Errorf("PkgsDirs = %v, want ~ expanded", c.PkgsDirs)
				}
				if len(c.Files) != 4 {
					t.Errorf("Files = %v", c.Files)
				}
				cc := c.ChannelConfig("/w")
				if cc.ChannelAlias != c.ChannelAlias || cc.WorkDir != "/w" {
					t.Errorf("ChannelConfig = %+v", cc)
				}
			},
		},
		{
			name:  "env overrides pkgs dirs",
			files: map[string]string{"home/.condarc": "pkgs_dirs: [/a]\nlocal_repodata_ttl: false\n"},
			env:   map[string]string{"HOME": "$D/home", "CONDA_PKGS_DIRS": "/x, /y", "MAMBA_ROOT_PREFIX": "$D/r"},
			check: func(t *testing.T, c *Config) {
				if !slices.Equal(c.PkgsDirs, []string{"/x", "/y"}) || c.LocalRepodataTTL != 0 {
					t.Errorf("PkgsDirs = %v ttl %d", c.PkgsDirs, c.LocalRepodataTTL)
				}
			},
		},
		{
			name: "pinned packages, higher precedence first",
			files: map[string]string{
				"home/.condarc": "pinned_packages: [numpy 1.26.*, python 3.11.*]\n",
				"home/.mambarc": "pinned_packages: [python 3.12.*]\n",
			},
			env: map[string]string{"HOME": "$D/home", "MAMBA_ROOT_PREFIX": "$D/r"},
			check: func(t *testing.T, c *Config) {
				if want := []string{"python 3.12.*", "numpy 1.26.*", "python 3.11.*"}; !slices.Equal(c.PinnedPackages, want) {
					t.Errorf("PinnedPackages = %v, want %v", c.PinnedPackages, want)
				}
			},
		},
		{
			name: "environment variables rank above files, MAMBA_ above CONDA_",
			files: map[string]string{
				"home/.condarc": "channels: [from-file]\nchannel_priority: flexible\nssl_verify: /etc/ca.pem\noffline: false\nproxy_servers: {http: http://proxy:3128, 'https://repo.example': http://other:8080}\n",
			},
			env: map[string]string{
				"HOME": "$D/home", "MAMBA_ROOT_PREFIX": "$D/r",
				"CONDA_CHANNELS": "a, b", "MAMBA_CHANNELS": "c",
				"CONDA_CHANNEL_PRIORITY": "disabled", "MAMBA_CHANNEL_PRIORITY": "strict",
				"CONDA_SSL_VERIFY": "false", "MAMBA_SSL_VERIFY": "~/corp-ca.pem",
				"CONDA_OFFLINE": "true", "CONDA_LOCAL_REPODATA_TTL": "0",
				"CONDA_CHANNEL_ALIAS": "", // empty: not set
			},
			check: func(t *testing.T, c *Config) {
				if want := []string{"c", "a", "b", "from-file"}; !slices.Equal(c.Channels, want) {
					t.Errorf("Channels = %v, want %v", c.Channels, want)
				}
				if c.ChannelPriority != "strict" || !c.Offline || c.LocalRepodataTTL != 0 || c.ChannelAlias != "" {
					t.Errorf("priority %q offline %v ttl %d alias %q", c.ChannelPriority, c.Offline, c.LocalRepodataTTL, c.ChannelAlias)
				}
				if !strings.HasSuffix(c.SSLVerify, "/home/corp-ca.pem") {
					t.Errorf("SSLVerify = %q, want MAMBA_SSL_VERIFY's, ~ expanded", c.SSLVerify)
				}
				if c.ProxyServers["http"] != "http://proxy:3128" || c.ProxyServers["https://repo.example"] != "http://other:8080" {
					t.Errorf("ProxyServers = %v", c.ProxyServers)
				}
				if len(c.Env) != 8 || c.Env[0] != "CONDA_CHANNELS" || c.Env[7] != "MAMBA_SSL_VERIFY" {
					t.Errorf("Env = %v", c.Env)
				}
			},
		},
		{
			name:  "no env",
			files: map[string]string{"home/.condarc": "channels: [from-file]\nssl_verify: false\n"},
			env:   map[string]string{"HOME": "$D/home", "MAMBA_ROOT_PREFIX": "$D/r", "CONDABOX_NO_ENV": "1", "CONDA_CHANNELS": "a", "MAMBA_SSL_VERIFY": "true", "CONDA_PKGS_DIRS": "/x", "CONDABOX_CLI_LOCAL_REPODATA_TTL": "7"},
			check: func(t *testing.T, c *Config) {
				if !slices.Equal(c.Channels, []string{"from-file"}) || c.SSLVerify != "false" || !strings.HasSuffix(c.PkgsDirs[0], "/r/pkgs") {
					t.Errorf("channels %v ssl_verify %q pkgs %v: want the files' only", c.Channels, c.SSLVerify, c.PkgsDirs)
				}
				if c.LocalRepodataTTL != 7 || !slices.Equal(c.Env, []string{"CONDABOX_CLI_LOCAL_REPODATA_TTL"}) {
					t.Errorf("ttl %d env %v: want the command line's 7", c.LocalRepodataTTL, c.Env)
				}
			},
		},
		{
			name: "root prefix pkgs",
			env:  map[string]string{"MAMBA_ROOT_PREFIX": "/opt/mamba"},
			check: func(t *testing.T, c *Config) {
				if !slices.Equal(c.PkgsDirs, []string{"/opt/mamba/pkgs"}) {
					t.Errorf("PkgsDirs = %v", c.PkgsDirs)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(setup(t, tt.files, tt.env))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"bad yaml", "channels: [a\n", ".condarc: yaml"},
		{"bad priority", "channel_priority: sometimes\n", `channel_priority "sometimes"`},
		{"bad ttl", "local_repodata_ttl: soon\n", "local_repodata_ttl soon"},
		{"negative ttl", "local_repodata_ttl: -5\n", "local_repodata_ttl -5"},
		{"bad offline", "offline: 3\n", "offline 3"},
		{"bad ssl_verify", "ssl_verify: 3\n", "ssl_verify 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(setup(t, map[string]string{"h/.condarc": tt.body}, map[string]string{"HOME": "$D/h"}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	for name, value := range map[string]string{"CONDA_CHANNEL_PRIORITY": "sometimes", "MAMBA_OFFLINE": "maybe", "CONDA_LOCAL_REPODATA_TTL": "-1"} {
		_, err := Load(setup(t, nil, map[string]string{"HOME": "/h", name: value}))
		if err == nil || !strings.Contains(err.Error(), "environment variable "+name) {
			t.Errorf("%s=%s: err = %v, want one naming the variable", name, value, err)
		}
	}
	if _, err := Load(func(string) (string, bool) { return "", false }); err == nil {
		t.Error("no HOME, no root prefix: want an error")
	}
}

// TestSearchOrder: Load reads every file conda and micromamba search, in
// their order (a later file wins a scalar and comes first in a list), each
// once.
func TestSearchOrder(t *testing.T) {
	files := map[string]string{}
	order := []string{
		"etc/.condarc", "etc/condarc.d/a.yml", "etc/condarc.d/b.yaml", "var/condarc",
		"root/.condarc", "root/.mambarc", "xdg/conda/condarc", "home/.config/conda/.condarc",
		"home/.conda/.condarc", "home/.condarc", "home/.mambarc", "prefix/.condarc", "explicit.yml", "mamba.yml",
	}
	for _, name := range order {
		files[name] = "channel_alias: https://" + strings.NewReplacer("/", "-", ".", "-").Replace(name) + "\nchannels: [" + name + "]\n"
	}
	files["etc/condarc.d/notes.txt"] = "not: [yaml, read]\n"
	lookup := setup(t, files, map[string]string{
		"HOME": "$D/home", "MAMBA_ROOT_PREFIX": "$D/root", "XDG_CONFIG_HOME": "$D/xdg",
		"CONDA_PREFIX": "$D/prefix", "CONDARC": "$D/explicit.yml", "MAMBARC": "$D/mamba.yml",
	})
	c, err := Load(lookup)
	if err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, f := range c.Files {
		for _, name := range order {
			if strings.HasSuffix(filepath.ToSlash(f), "/"+name) {
				read = append(read, name)
			}
		}
	}
	if !slices.Equal(read, order) {
		t.Errorf("read %q,\nwant %q", read, order)
	}
	if c.ChannelAlias != "https://mamba-yml" || c.Channels[0] != "mamba.yml" || c.Channels[len(c.Channels)-1] != "etc/.condarc" {
		t.Errorf("channel_alias %q, channels %q: the last file must win", c.ChannelAlias, c.Channels)
	}
}

func TestPathsOverride(t *testing.T) {
	lookup := setup(t, map[string]string{"home/.condarc": "offline: true\n", "a.yml": "channels: [a]\n", "b.yml": "channels: [b]\n"},
		map[string]string{"HOME": "$D/home", "CONDABOX_RC_FILES": "$D/a.yml" + string(os.PathListSeparator) + "$D/b.yml"})
	c, err := Load(lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 2 || c.Offline || !slices.Equal(c.Channels, []string{"b", "a"}) {
		t.Errorf("CONDABOX_RC_FILES: files %q, offline %v, channels %q", c.Files, c.Offline, c.Channels)
	}
	noRC := func(k string) (string, bool) {
		if k == "CONDABOX_NO_RC" {
			return "1", true
		}
		return lookup(k)
	}
	if paths := Paths(noRC); len(paths) != 0 {
		t.Errorf("CONDABOX_NO_RC: paths %q", paths)
	}
}

// TestKeysAreRead: every key config describe documents is one Load reads
// (setting it to a wrong type fails), and describe prints it.
func TestKeysAreRead(t *testing.T) {
	var out strings.Builder
	if err := Describe(&out, nil); err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys {
		if !strings.Contains(out.String(), "# "+k.Name+"\n#   "+k.Description+"\n") {
			t.Errorf("describe does not show %s", k.Name)
		}
		// A mapping where the key wants a scalar or a list (or the other
		// way round) is refused only for keys the decoder knows.
		bad := k.Name + ": {x: [1]}\n"
		if k.Name == "custom_channels" || k.Name == "proxy_servers" {
			bad = k.Name + ": [x]\n"
		}
		if err := (&Config{}).merge([]byte(bad)); err == nil {
			t.Errorf("%s: a value of the wrong shape is accepted: is the key read at all?", k.Name)
		}
	}
	if err := Describe(&out, []string{"nope"}); err == nil || !strings.Contains(err.Error(), `no configuration key "nope": condabox reads channels, channel_alias`) {
		t.Errorf("unknown key: %v", err)
	}
}
