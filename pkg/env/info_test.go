package env

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestReadInfo(t *testing.T) {
	home := t.TempDir()
	root := filepath.Join(home, "root")
	condarc := filepath.Join(home, ".condarc")
	if err := os.WriteFile(condarc, []byte("channels: [conda-forge]\npkgs_dirs: ["+filepath.Join(home, "cache")+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := map[string]string{"HOME": home, "MAMBA_ROOT_PREFIX": root, "CONDA_OVERRIDE_GLIBC": "2.31"}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for bk, bv := range base {
			m[bk] = bv
		}
		return m
	}
	for _, tc := range []struct {
		name          string
		vars          map[string]string
		req           CreateRequest
		env, location string
		channels      []string
	}{
		{"nothing active", base, CreateRequest{Platform: "linux-64"}, "None", "-",
			[]string{"https://conda.anaconda.org/conda-forge/linux-64", "https://conda.anaconda.org/conda-forge/noarch"}},
		{"base active", with("CONDA_PREFIX", root), CreateRequest{Platform: "linux-64"}, "base (active)", root, nil},
		{"named env active", with("CONDA_PREFIX", filepath.Join(root, "envs", "tools")), CreateRequest{Platform: "linux-64"}, "tools (active)", filepath.Join(root, "envs", "tools"), nil},
		{"env elsewhere active", with("CONDA_PREFIX", "/opt/other"), CreateRequest{Platform: "linux-64"}, "/opt/other (active)", "/opt/other", nil},
		{"-c first, token redacted, --override-channels", base,
			CreateRequest{Platform: "linux-aarch64", Channels: []string{"https://x.example/t/tk-secret/ch"}, OverrideChannels: true}, "None", "-",
			[]string{"https://x.example/t/<TOKEN>/ch/linux-aarch64", "https://x.example/t/<TOKEN>/ch/noarch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.LookupEnv = lookupOf(tc.vars)
			info, err := ReadInfo(context.Background(), tc.req, "9.9")
			if err != nil {
				t.Fatal(err)
			}
			if info.Environment != tc.env || info.EnvLocation != tc.location {
				t.Errorf("environment %q at %q, want %q at %q", info.Environment, info.EnvLocation, tc.env, tc.location)
			}
			if tc.channels != nil && !slices.Equal(info.Channels, tc.channels) {
				t.Errorf("channels %q, want %q", info.Channels, tc.channels)
			}
			if info.BaseEnvironment != root || !slices.Equal(info.EnvsDirs, []string{filepath.Join(root, "envs")}) ||
				!slices.Equal(info.PkgsDirs, []string{filepath.Join(home, "cache")}) || !slices.Contains(info.ConfigFiles, condarc) {
				t.Errorf("folders: base %q envs %q pkgs %q config %q", info.BaseEnvironment, info.EnvsDirs, info.PkgsDirs, info.ConfigFiles)
			}
			if info.Platform != tc.req.Platform || !slices.Contains(info.VirtualPackages, "__glibc=2.31=0") {
				t.Errorf("platform %q, virtual packages %q: want %s and __glibc=2.31=0 (CONDA_OVERRIDE_GLIBC)", info.Platform, info.VirtualPackages, tc.req.Platform)
			}
			var text, js bytes.Buffer
			if err := info.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"       condabox version : 9.9\n", "            environment : " + tc.env + "\n", "\n                          " + info.VirtualPackages[1] + "\n"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("text output lacks %q:\n%s", want, text.String())
				}
			}
			if err := info.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(js.Bytes(), &m); err != nil || m["env location"] != tc.location || m["channels"] == nil {
				t.Errorf("JSON %s (%v): want micromamba's keys, lists never null", js.String(), err)
			}
		})
	}
}
