package env

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKnownEnvironments(t *testing.T) {
	home := t.TempDir()
	root := filepath.Join(home, "micromamba")
	base := writePrefix(t, root, "../", "") // the root prefix itself
	a := writePrefix(t, root, "a", "")
	b := writePrefix(t, root, "b", "")
	if err := os.MkdirAll(filepath.Join(root, "envs", "not-an-env", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	elsewhere := writePrefix(t, filepath.Join(home, "projects"), "x", "")
	registered := strings.Join([]string{elsewhere, "", a, filepath.Join(home, "deleted"), "relative/ignored", elsewhere + "/"}, "\n")
	if err := os.MkdirAll(filepath.Join(home, ".conda"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".conda", "environments.txt"), []byte(registered), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		root string // -r
		want string // name:prefix:active, space separated
	}{
		{"all", map[string]string{"HOME": home, "MAMBA_ROOT_PREFIX": root},
			"", "base:" + base + ": a:" + a + ": b:" + b + ": :" + elsewhere + ":"},
		{"active", map[string]string{"HOME": home, "MAMBA_ROOT_PREFIX": root, "CONDA_PREFIX": b + "/"},
			"", "base:" + base + ": a:" + a + ": b:" + b + ":* :" + elsewhere + ":"},
		{"-r", map[string]string{"HOME": home, "MAMBA_ROOT_PREFIX": "/nonexistent", "CONDA_PREFIX": elsewhere},
			root, "base:" + base + ": a:" + a + ": b:" + b + ": :" + elsewhere + ":*"},
		{"no environments.txt", map[string]string{"HOME": t.TempDir(), "MAMBA_ROOT_PREFIX": root},
			"", "base:" + base + ": a:" + a + ": b:" + b + ":"},
		{"empty root", map[string]string{"MAMBA_ROOT_PREFIX": t.TempDir()}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			envs, err := KnownEnvironments(context.Background(), CreateRequest{RootPrefix: tc.root, LookupEnv: lookupOf(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range envs {
				mark := ""
				if e.Active {
					mark = "*"
				}
				got = append(got, e.Name+":"+e.Prefix+":"+mark)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got  %s\nwant %s", g, tc.want)
			}
		})
	}
	if _, err := KnownEnvironments(context.Background(), CreateRequest{LookupEnv: lookupOf(nil)}); err == nil || !strings.Contains(err.Error(), "MAMBA_ROOT_PREFIX") {
		t.Errorf("without a root prefix: error %v, want one asking for MAMBA_ROOT_PREFIX", err)
	}
}

func TestWriteEnvList(t *testing.T) {
	envs := []KnownEnv{
		{Name: "base", Prefix: "/opt/conda"},
		{Name: "py", Prefix: "/opt/conda/envs/py", Active: true},
		{Prefix: "/srv/env"},
	}
	var text, js bytes.Buffer
	if err := WriteEnvList(&text, envs); err != nil {
		t.Fatal(err)
	}
	if err := WriteEnvListJSON(&js, envs); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "envs.txt", text.String())
	checkGolden(t, "envs.json", js.String())
	js.Reset()
	if err := WriteEnvListJSON(&js, nil); err != nil || js.String() != "{\n    \"envs\": []\n}\n" {
		t.Errorf("no environments: %q, %v", js.String(), err)
	}
}
