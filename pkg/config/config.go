// Package config reads condabox's settings the way conda and micromamba do:
// YAML .condarc / .mambarc files merged in precedence order, then the
// environment variables that override them. It also edits one file as
// `condabox config` does (File), keeping its comments and other keys.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/condabox/condabox/pkg/conda"
)

// DefaultRepodataTTL is the local_repodata_ttl used when no file sets it:
// cached repodata younger than an hour is used without asking the server.
const DefaultRepodataTTL = 3600

// Config is the merged configuration.
type Config struct {
	// Channels in priority order, highest first.
	Channels []string
	// ChannelAlias is where channels given by name live ("" = conda's default).
	ChannelAlias string
	// CustomChannels maps a channel name to the URL that holds it.
	CustomChannels map[string]string
	// DefaultChannels are what the channel name "defaults" stands for
	// (conda's default_channels); none makes "defaults" an error.
	DefaultChannels []string
	// ChannelPriority is "strict", "flexible" or "disabled" ("" when unset).
	ChannelPriority string
	// LocalRepodataTTL follows conda's local_repodata_ttl: 0 always
	// revalidates, 1 honours the server's Cache-Control max-age, any other
	// value is the number of seconds a cached index is used as is.
	LocalRepodataTTL int
	// PkgsDirs are the package caches, the first one writable.
	PkgsDirs []string
	// Offline uses cached indexes and packages only.
	Offline bool
	// PinnedPackages are match specs every solve must respect for the
	// packages it installs (conda's pinned_packages); they request nothing.
	PinnedPackages []string
	// SSLVerify is conda's ssl_verify: "" verifies servers against the
	// system's certificate authorities, "false" verifies nothing, and
	// anything else is a PEM file or folder of the authorities to trust
	// instead (micromamba's cacert_path).
	SSLVerify string
	// ProxyServers is conda's proxy_servers: a proxy URL per "http",
	// "https", "all", or "scheme://host" of the servers it applies to.
	// Requests it does not match use $HTTP_PROXY, $HTTPS_PROXY, $NO_PROXY.
	ProxyServers map[string]string
	// AlwaysCopy is conda's always_copy: files are copied from the
	// package cache, never hard linked.
	AlwaysCopy bool
	// LockTimeout is micromamba's lock_timeout, in seconds: how long to
	// wait for a cache entry another process holds; 0 waits for ever.
	LockTimeout int
	// Files lists the configuration files read, lowest precedence first.
	Files []string
	// Env lists the environment variables that set keys (CONDA_<KEY>,
	// MAMBA_<KEY>), in the order applied.
	Env []string
}

// ChannelConfig returns what conda.ParseChannel needs, with workDir for
// relative channel paths.
func (c *Config) ChannelConfig(workDir string) conda.ChannelConfig {
	return conda.ChannelConfig{ChannelAlias: c.ChannelAlias, CustomChannels: c.CustomChannels, WorkDir: workDir}
}

// file is one configuration file as written. Pointers and `any` tell an
// absent key from a zero value, so that a later file overrides only what it
// sets; local_repodata_ttl and offline may be written as bool or integer.
type file struct {
	Channels         []string          `yaml:"channels"`
	ChannelAlias     *string           `yaml:"channel_alias"`
	CustomChannels   map[string]string `yaml:"custom_channels"`
	ChannelPriority  *string           `yaml:"channel_priority"`
	LocalRepodataTTL any               `yaml:"local_repodata_ttl"`
	PkgsDirs         []string          `yaml:"pkgs_dirs"`
	Offline          any               `yaml:"offline"`
	PinnedPackages   []string          `yaml:"pinned_packages"`
	DefaultChannels  []string          `yaml:"default_channels"`
	SSLVerify        any               `yaml:"ssl_verify"`
	ProxyServers     map[string]string `yaml:"proxy_servers"`
	AlwaysCopy       *bool             `yaml:"always_copy"`
	LockTimeout      *int              `yaml:"lock_timeout"`
}

// envKeys are the keys an environment variable may set, as conda's
// CONDA_<KEY> and micromamba's MAMBA_<KEY> (which wins): they rank above
// every file. Lists are comma separated; other values are read as YAML
// scalars ("false", "3600"). pkgs_dirs has its own rule: CONDA_PKGS_DIRS
// replaces the files' list. CONDABOX_NO_ENV (micromamba's --no-env)
// ignores them all; CONDABOX_CLI_<KEY>, which command-line flags such as
// --ssl-verify set, ranks above them and counts even then.
var envKeys = []string{"channels", "channel_alias", "channel_priority", "local_repodata_ttl", "offline", "pinned_packages", "ssl_verify", "always_copy", "lock_timeout"}

// RootPrefix returns the root prefix, which holds the envs/ and pkgs/
// folders: $MAMBA_ROOT_PREFIX, else micromamba's default ~/micromamba.
func RootPrefix(lookup func(string) (string, bool)) (string, error) {
	if root, _ := lookup("MAMBA_ROOT_PREFIX"); root != "" {
		return root, nil
	}
	if home, _ := lookup("HOME"); home != "" {
		return filepath.Join(home, "micromamba"), nil
	}
	return "", errors.New("set MAMBA_ROOT_PREFIX or HOME")
}

// Load reads the configuration files and environment variables that
// lookup (os.LookupEnv in production) reveals, in micromamba's precedence,
// lowest first: $MAMBA_ROOT_PREFIX/.condarc, ~/.condarc, ~/.mambarc,
// $CONDARC. Lists from several files are merged, higher precedence first;
// other keys are overridden. CONDA_PKGS_DIRS (comma separated) replaces
// pkgs_dirs. Without any, the package cache is <RootPrefix>/pkgs.
func Load(lookup func(string) (string, bool)) (*Config, error) {
	env := func(k string) string { v, _ := lookup(k); return v }
	home := env("HOME")
	c := &Config{LocalRepodataTTL: DefaultRepodataTTL}
	for _, p := range Paths(lookup) {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if err := c.merge(data); err != nil {
			return nil, fmt.Errorf("read config %s: %w", p, err)
		}
		c.Files = append(c.Files, p)
	}

	noEnv := env("CONDABOX_NO_ENV") != ""
	if err := c.mergeEnv(lookup, noEnv); err != nil {
		return nil, err
	}
	if dirs := env("CONDA_PKGS_DIRS"); dirs != "" && !noEnv {
		c.PkgsDirs = nil
		for d := range strings.SplitSeq(dirs, ",") {
			if d = strings.TrimSpace(d); d != "" {
				c.PkgsDirs = append(c.PkgsDirs, d)
			}
		}
	}
	if len(c.PkgsDirs) == 0 {
		root, err := RootPrefix(lookup)
		if err != nil {
			return nil, fmt.Errorf("read config: no package cache: %w", err)
		}
		c.PkgsDirs = []string{filepath.Join(root, "pkgs")}
	}
	for i, d := range c.PkgsDirs {
		c.PkgsDirs[i] = expandHome(d, home)
	}
	if c.SSLVerify != "" && c.SSLVerify != "false" {
		c.SSLVerify = expandHome(c.SSLVerify, home)
	}
	return c, nil
}

// mergeEnv applies the CONDA_<KEY> and MAMBA_<KEY> variables of envKeys
// over the files, unless noEnv, then the CONDABOX_CLI_<KEY> ones that
// condabox's command-line flags set, each as if it were a file of one key.
func (c *Config) mergeEnv(lookup func(string) (string, bool), noEnv bool) error {
	prefixes := []string{"CONDA_", "MAMBA_", "CONDABOX_CLI_"}
	if noEnv {
		prefixes = prefixes[2:]
	}
	for _, key := range envKeys {
		for _, prefix := range prefixes {
			name := prefix + strings.ToUpper(key)
			v, ok := lookup(name)
			if !ok || strings.TrimSpace(v) == "" {
				continue
			}
			var value any
			if IsListKey(key) {
				var list []string
				for item := range strings.SplitSeq(v, ",") {
					if item = strings.TrimSpace(item); item != "" {
						list = append(list, item)
					}
				}
				value = list
			} else if err := yaml.Unmarshal([]byte(v), &value); err != nil || value == nil {
				value = v // not a YAML scalar: the text itself
			}
			doc, err := yaml.Marshal(map[string]any{key: value})
			if err == nil {
				err = c.merge(doc)
			}
			if err != nil {
				return fmt.Errorf("read config: environment variable %s: %w", name, err)
			}
			c.Env = append(c.Env, name)
		}
	}
	return nil
}

// Paths are the configuration files Load reads when they exist, lowest
// precedence first, as conda and micromamba search for them: the system's
// (/etc/conda, /var/lib/conda), the root prefix's ($MAMBA_ROOT_PREFIX),
// the user's ($XDG_CONFIG_HOME/conda, ~/.config/conda, ~/.conda,
// ~/.condarc, ~/.mambarc), the active environment's ($CONDA_PREFIX), then
// $CONDARC and $MAMBARC. Each folder is searched for .condarc, condarc,
// .mambarc and the *.yml and *.yaml files of condarc.d, in name order. A
// file met twice (the root prefix is the active environment in an image)
// counts once, where it is met first.
//
// CONDABOX_NO_RC set to a non-empty value reads no file, and
// CONDABOX_RC_FILES (a list of paths, separated by the OS's list
// separator) reads those files instead of the search: micromamba's --no-rc
// and --rc-file, which condabox's flags of the same names set.
func Paths(lookup func(string) (string, bool)) []string {
	env := func(k string) string { v, _ := lookup(k); return v }
	if env("CONDABOX_NO_RC") != "" {
		return nil
	}
	if files := env("CONDABOX_RC_FILES"); files != "" {
		return filepath.SplitList(files)
	}
	home := env("HOME")
	var dirs []string
	dirs = append(dirs, systemDirs...)
	if root := env("MAMBA_ROOT_PREFIX"); root != "" {
		dirs = append(dirs, root)
	}
	if xdg := env("XDG_CONFIG_HOME"); xdg != "" {
		dirs = append(dirs, filepath.Join(xdg, "conda"))
	}
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".config", "conda"), filepath.Join(home, ".conda"))
	}
	var paths []string
	add := func(p string) {
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	searchDir := func(dir string) {
		for _, name := range []string{".condarc", "condarc", ".mambarc"} {
			add(filepath.Join(dir, name))
		}
		files, _ := filepath.Glob(filepath.Join(dir, "condarc.d", "*"))
		slices.Sort(files)
		for _, f := range files {
			if strings.HasSuffix(f, ".yml") || strings.HasSuffix(f, ".yaml") {
				add(f)
			}
		}
	}
	for _, dir := range dirs {
		searchDir(dir)
	}
	if home != "" {
		add(filepath.Join(home, ".condarc"))
		add(filepath.Join(home, ".mambarc"))
	}
	if prefix := env("CONDA_PREFIX"); prefix != "" {
		searchDir(prefix)
	}
	for _, k := range []string{"CONDARC", "MAMBARC"} {
		if p := env(k); p != "" {
			add(p)
		}
	}
	return paths
}

// systemDirs are the system-wide configuration folders; a variable for
// tests.
var systemDirs = []string{"/etc/conda", "/var/lib/conda"}

// merge applies one file over c.
func (c *Config) merge(data []byte) error {
	var f file
	if err := yaml.Unmarshal(data, &f); err != nil {
		return err
	}
	// A higher-precedence file's list entries come first, as in conda.
	c.Channels = mergeList(f.Channels, c.Channels)
	c.PkgsDirs = mergeList(f.PkgsDirs, c.PkgsDirs)
	c.PinnedPackages = mergeList(f.PinnedPackages, c.PinnedPackages)
	c.DefaultChannels = mergeList(f.DefaultChannels, c.DefaultChannels)
	if f.ChannelAlias != nil {
		c.ChannelAlias = *f.ChannelAlias
	}
	for name, loc := range f.CustomChannels {
		if c.CustomChannels == nil {
			c.CustomChannels = map[string]string{}
		}
		c.CustomChannels[name] = loc
	}
	if f.ChannelPriority != nil {
		switch p := strings.ToLower(*f.ChannelPriority); p {
		case "strict", "flexible", "disabled":
			c.ChannelPriority = p
		default:
			return fmt.Errorf("channel_priority %q: want strict, flexible or disabled", *f.ChannelPriority)
		}
	}
	if f.LocalRepodataTTL != nil {
		ttl, err := intOrBool(f.LocalRepodataTTL)
		if err != nil || ttl < 0 {
			return fmt.Errorf("local_repodata_ttl %v: want a number of seconds or a boolean", f.LocalRepodataTTL)
		}
		c.LocalRepodataTTL = ttl
	}
	if f.Offline != nil {
		off, ok := f.Offline.(bool)
		if !ok {
			return fmt.Errorf("offline %v: want true or false", f.Offline)
		}
		c.Offline = off
	}
	if f.SSLVerify != nil {
		switch v := f.SSLVerify.(type) {
		case bool:
			c.SSLVerify = ""
			if !v {
				c.SSLVerify = "false"
			}
		case string:
			switch strings.ToLower(v) {
			case "", "true", "yes":
				c.SSLVerify = ""
			case "false", "no", "<false>":
				c.SSLVerify = "false"
			default:
				c.SSLVerify = v
			}
		default:
			return fmt.Errorf("ssl_verify %v: want true, false or the path of a CA bundle", f.SSLVerify)
		}
	}
	if f.AlwaysCopy != nil {
		c.AlwaysCopy = *f.AlwaysCopy
	}
	if f.LockTimeout != nil {
		if *f.LockTimeout < 0 {
			return fmt.Errorf("lock_timeout %d: want 0 or more seconds", *f.LockTimeout)
		}
		c.LockTimeout = *f.LockTimeout
	}
	for scheme, proxy := range f.ProxyServers {
		if c.ProxyServers == nil {
			c.ProxyServers = map[string]string{}
		}
		c.ProxyServers[scheme] = proxy
	}
	return nil
}

// intOrBool reads a YAML integer, or a boolean as conda does (true = 1).
func intOrBool(v any) (int, error) {
	switch v := v.(type) {
	case int:
		return v, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case string:
		return strconv.Atoi(v)
	}
	return 0, fmt.Errorf("not a number: %v", v)
}

// mergeList returns first followed by the entries of rest not in first.
func mergeList(first, rest []string) []string {
	out := slices.Clone(first)
	for _, s := range rest {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// expandHome expands a leading "~/" as conda does for pkgs_dirs.
func expandHome(p, home string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok && home != "" {
		return filepath.Join(home, rest)
	}
	return p
}
