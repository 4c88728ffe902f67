package config

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Key describes a configuration key condabox reads, for `condabox config
// describe`.
type Key struct {
	Name string
	// Description says what the key does, in one or two sentences.
	Description string
}

// Keys are the keys Load reads, in the order `config describe` prints them.
var Keys = []Key{
	{"channels", "Channels to search, highest priority first (a list; CONDA_CHANNELS, comma-separated)."},
	{"channel_alias", "The URL under which channels given by name live (default https://conda.anaconda.org)."},
	{"default_channels", "The channels the name defaults stands for (a list); condabox knows none by itself, so without this key defaults is an error."},
	{"custom_channels", "A mapping of channel names to the URLs that hold them, overriding channel_alias for those names."},
	{"channel_priority", "strict (default: a package comes from the highest-priority channel that has it), flexible (priority only breaks ties) or disabled."},
	{"local_repodata_ttl", "Seconds a cached channel index is used without asking the server; 0 always asks, 1 (or true) follows the server's Cache-Control."},
	{"pkgs_dirs", "The package caches, the first writable one used (a list; CONDA_PKGS_DIRS replaces it)."},
	{"offline", "Use cached channel indexes and packages only (true or false)."},
	{"pinned_packages", "Match specs every solve must respect for the packages it installs, without requesting them (a list)."},
	{"ssl_verify", "Verify servers' TLS certificates: true (default), false, or the path of a PEM bundle of the authorities to trust instead."},
	{"proxy_servers", "A mapping of http, https, all or scheme://host to the proxy URL for those requests; others use HTTP_PROXY, HTTPS_PROXY and NO_PROXY."},
	{"lock_timeout", "Seconds to wait for a package cache or index cache entry that another process holds; 0 (default) waits as long as it takes."},
	{"always_copy", "Copy files from the package cache into environments instead of hard linking them (true or false)."},
}

// Describe writes the description of each named key, or of every key when
// names is empty, as micromamba's config describe does: "# key" lines with
// the description below. An unknown key is an error listing the known ones.
func Describe(w io.Writer, names []string) error {
	keys := Keys
	if len(names) > 0 {
		keys = nil
		for _, n := range names {
			i := slices.IndexFunc(Keys, func(k Key) bool { return k.Name == n })
			if i < 0 {
				var known []string
				for _, k := range Keys {
					known = append(known, k.Name)
				}
				return fmt.Errorf("no configuration key %q: condabox reads %s", n, strings.Join(known, ", "))
			}
			keys = append(keys, Keys[i])
		}
	}
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# %s\n#   %s\n", k.Name, k.Description)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
