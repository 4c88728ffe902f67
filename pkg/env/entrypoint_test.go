package env

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEntrypoint(t *testing.T) {
	root := t.TempDir()
	base, tools, sys := filepath.Join(root, "opt/conda"), filepath.Join(root, "opt/conda/envs/tools"), filepath.Join(root, "usr/bin")
	writeFiles(t, base, map[string]string{
		"bin/python3":                 "#!/bin/sh\n",
		"conda-meta/history":          "",
		"etc/conda/env_vars.d/a.json": `{"FROM_ENV_VARS_D": "base", "BOTH": "env_vars.d"}`,
		"conda-meta/state":            `{"env_vars": {"FROM_STATE": "yes"}}`,
	})
	writeFiles(t, tools, map[string]string{"bin/jq": "#!/bin/sh\n", "conda-meta/history": ""})
	writeFiles(t, sys, map[string]string{"ls": "#!/bin/sh\n"})
	envs := &ImageEnvs{Default: "base", Envs: []ImageEnv{
		{Name: "base", Prefix: base, Baked: map[string]string{"BAKED": "export", "BOTH": "baked"}},
		{Name: "tools", Prefix: tools},
	}}
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
		path    string   // want; "" when err
		want    []string // KEY=VALUE that must be in the environment
		absent  []string // KEYs that must not be
		err     string
	}{
		{"ENV_NAME unset activates the default", []string{"PATH=" + sys}, []string{"python3", "-c", "1"}, base + "/bin/python3",
			[]string{"PATH=" + base + "/bin:" + sys, "CONDA_PREFIX=" + base, "CONDA_DEFAULT_ENV=base", "CONDA_SHLVL=1",
				"BAKED=export", "FROM_ENV_VARS_D=base", "FROM_STATE=yes", "BOTH=env_vars.d"}, nil, ""},
		{"empty ENV_NAME is unset", []string{"PATH=" + sys, "ENV_NAME="}, []string{"python3"}, base + "/bin/python3",
			[]string{"CONDA_DEFAULT_ENV=base"}, nil, ""},
		{"ENV_NAME chooses", []string{"PATH=" + sys, "ENV_NAME=tools"}, []string{"jq", "--version"}, tools + "/bin/jq",
			[]string{"PATH=" + tools + "/bin:" + sys, "CONDA_PREFIX=" + tools, "CONDA_DEFAULT_ENV=tools"},
			[]string{"BAKED", "FROM_STATE"}, ""},
		{"other environments' programs are not on PATH", []string{"PATH=" + sys, "ENV_NAME=tools"}, []string{"python3"}, "", nil, nil,
			"python3: executable file not found"},
		{"base PATH stays reachable", []string{"PATH=" + sys, "ENV_NAME=tools"}, []string{"ls"}, sys + "/ls", nil, nil, ""},
		{"unknown ENV_NAME", []string{"PATH=" + sys, "ENV_NAME=nope"}, []string{"jq"}, "", nil, nil,
			`ENV_NAME="nope": no such environment in this image (it has base, tools)`},
		{"MAMBA_SKIP_ACTIVATE=1 leaves the environment", []string{"PATH=" + sys, "MAMBA_SKIP_ACTIVATE=1", "ENV_NAME=nope"}, []string{"ls"}, sys + "/ls",
			[]string{"PATH=" + sys}, []string{"CONDA_PREFIX", "BAKED"}, ""},
		{"MAMBA_SKIP_ACTIVATE=1 puts no env on PATH", []string{"PATH=" + sys, "MAMBA_SKIP_ACTIVATE=1"}, []string{"python3"}, "", nil, nil,
			"python3: executable file not found"},
		{"other MAMBA_SKIP_ACTIVATE values activate", []string{"PATH=" + sys, "MAMBA_SKIP_ACTIVATE=0"}, []string{"python3"}, base + "/bin/python3",
			[]string{"CONDA_PREFIX=" + base}, nil, ""},
		{"a path is not looked up", []string{"ENV_NAME=tools"}, []string{"/bin/true"}, "/bin/true", []string{"CONDA_PREFIX=" + tools}, nil, ""},
		{"no command", []string{"PATH=" + sys}, nil, "", nil, nil, "no command given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, env, err := Entrypoint(envs, tc.environ, tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if path != tc.path {
				t.Errorf("path = %q, want %q", path, tc.path)
			}
			for _, kv := range tc.want {
				if !slices.Contains(env, kv) {
					t.Errorf("missing %s in %q", kv, env)
				}
			}
			for _, k := range tc.absent {
				if slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }) {
					t.Errorf("%s set in %q", k, env)
				}
			}
		})
	}
}

func TestReadImageEnvs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, data, err string
	}{
		{"good", `{"default": "base", "envs": [{"name": "base", "prefix": "/opt/conda"}]}`, ""},
		{"not JSON", `default: base`, "want a JSON object with default and envs"},
		{"default not listed", `{"default": "base", "envs": [{"name": "tools", "prefix": "/opt/conda"}]}`, `default environment "base" is not among envs`},
		{"variable with NUL", `{"default": "base", "envs": [{"name": "base", "prefix": "/opt/conda", "baked": {"A": "x\u0000"}}]}`, `environment "base": variable "A"`},
		{"missing", "", "this image lists no environments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".json")
			if tc.data != "" {
				if err := os.WriteFile(file, []byte(tc.data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			envs, err := ReadImageEnvs(file)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || envs.Default != "base" || len(envs.Envs) != 1 || envs.Envs[0].Prefix != "/opt/conda" {
				t.Fatalf("got %+v, %v", envs, err)
			}
		})
	}
}

func FuzzEntrypoint(f *testing.F) {
	f.Add([]byte(`{"default": "base", "envs": [{"name": "base", "prefix": "/opt/conda", "baked": {"A": "1"}}, {"name": "t", "prefix": "/opt/conda/envs/t"}]}`), "t", false)
	f.Add([]byte(`{"default": "", "envs": [{"name": ""}]}`), "", true)
	f.Add([]byte(`{"default": "a=b", "envs": [{"name": "a=b", "baked": {"PATH": "/x"}}]}`), "", false)
	f.Fuzz(func(t *testing.T, data []byte, envName string, skip bool) {
		envs, err := ParseImageEnvs("envs.json", data)
		if err != nil {
			return
		}
		environ := []string{"PATH=/nonexistent", "ENV_NAME=" + envName}
		if skip {
			environ = append(environ, "MAMBA_SKIP_ACTIVATE=1")
		}
		// /bin/sh is a path: no lookup, so success depends on ENV_NAME only.
		path, env, err := Entrypoint(envs, environ, []string{"/bin/sh"})
		if err != nil {
			return
		}
		if path != "/bin/sh" {
			t.Errorf("path %q, want /bin/sh", path)
		}
		if skip {
			if !slices.Equal(env, environ) {
				t.Errorf("MAMBA_SKIP_ACTIVATE=1 changed the environment to %q", env)
			}
			return
		}
		name := envName
		if name == "" {
			name = envs.Default
		}
		if !slices.Contains(env, "CONDA_DEFAULT_ENV="+name) {
			t.Errorf("ENV_NAME %q: CONDA_DEFAULT_ENV not set in %q", envName, env)
		}
	})
}
