package env

import (
	"os"
	"os/exec"
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
			p, err := Entrypoint(envs, tc.environ, tc.args, "")
			path, env := p.Path, p.Env
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

func TestReadImageEnvsAbsent(t *testing.T) {
	envs, err := ReadImageEnvs(filepath.Join(t.TempDir(), "envs.json"))
	if envs != nil || err != nil {
		t.Errorf("no file: got %+v, %v; want nil, nil (a base image)", envs, err)
	}
}

// TestEntrypointRootPrefix: without an image list, ENV_NAME is resolved
// against MAMBA_ROOT_PREFIX as micromamba-docker's activation does.
func TestEntrypointRootPrefix(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"conda-meta/history":            "",
		"bin/python3":                   "#!/bin/sh\n",
		"envs/tools/conda-meta/history": "",
		"envs/tools/bin/jq":             "#!/bin/sh\n",
		"envs/broken/bin/jq":            "#!/bin/sh\n", // no conda-meta: not an environment
	})
	sys := "/nonexistent/bin"
	for _, tc := range []struct {
		name    string
		environ []string
		args    []string
		path    string // want, "" on error
		prefix  string // CONDA_PREFIX wanted, "" for none
		envName string // CONDA_DEFAULT_ENV wanted
		err     string
	}{
		{"base by default", []string{"PATH=" + sys, "MAMBA_ROOT_PREFIX=" + root}, []string{"python3"}, root + "/bin/python3", root, "base", ""},
		{"empty ENV_NAME is base", []string{"ENV_NAME=", "PATH=" + sys, "MAMBA_ROOT_PREFIX=" + root}, []string{"python3"}, root + "/bin/python3", root, "base", ""},
		{"ENV_NAME=base is the root prefix", []string{"ENV_NAME=base", "MAMBA_ROOT_PREFIX=" + root}, []string{"python3"}, root + "/bin/python3", root, "base", ""},
		{"another name is under envs", []string{"ENV_NAME=tools", "MAMBA_ROOT_PREFIX=" + root}, []string{"jq"}, root + "/envs/tools/bin/jq", root + "/envs/tools", "tools", ""},
		{"the last ENV_NAME counts", []string{"ENV_NAME=base", "ENV_NAME=tools", "MAMBA_ROOT_PREFIX=" + root}, []string{"jq"}, root + "/envs/tools/bin/jq", root + "/envs/tools", "tools", ""},
		{"missing environment", []string{"ENV_NAME=nope", "MAMBA_ROOT_PREFIX=" + root}, []string{"jq"}, "", "", "",
			`ENV_NAME="nope": no conda environment at ` + root + `/envs/nope (MAMBA_ROOT_PREFIX=` + root + `)`},
		{"a folder without conda-meta", []string{"ENV_NAME=broken", "MAMBA_ROOT_PREFIX=" + root}, []string{"jq"}, "", "", "",
			`no conda environment at ` + root + `/envs/broken`},
		{"a name with a slash", []string{"ENV_NAME=../tools", "MAMBA_ROOT_PREFIX=" + root}, []string{"jq"}, "", "", "",
			`ENV_NAME="../tools": environment name "../tools": must not hold a path separator`},
		{"MAMBA_ROOT_PREFIX defaults to /opt/conda", []string{"ENV_NAME=condabox-test-nope"}, []string{"jq"}, "", "", "",
			"no conda environment at /opt/conda/envs/condabox-test-nope (MAMBA_ROOT_PREFIX=/opt/conda)"},
		{"MAMBA_SKIP_ACTIVATE=1 needs no environment", []string{"MAMBA_SKIP_ACTIVATE=1", "ENV_NAME=nope", "MAMBA_ROOT_PREFIX=" + root}, []string{"/bin/true"}, "/bin/true", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Entrypoint(nil, tc.environ, tc.args, "")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Path != tc.path || !slices.Equal(p.Args, tc.args) {
				t.Errorf("exec %q %q, want %q %q", p.Path, p.Args, tc.path, tc.args)
			}
			if got := lookup(p.Env, "CONDA_PREFIX"); got != tc.prefix {
				t.Errorf("CONDA_PREFIX=%q, want %q", got, tc.prefix)
			}
			if got := lookup(p.Env, "CONDA_DEFAULT_ENV"); got != tc.envName {
				t.Errorf("CONDA_DEFAULT_ENV=%q, want %q", got, tc.envName)
			}
		})
	}
}

// TestEntrypointSourcesActivateScripts: with a shell and activate.d
// scripts, the entrypoint execs the shell, which sources them and execs the
// command; without a shell the command is exec'd directly.
func TestEntrypointSourcesActivateScripts(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"conda-meta/history": "", "etc/conda/activate.d/x.sh": "export X=1\n"})
	environ := []string{"MAMBA_ROOT_PREFIX=" + root, "PATH=/usr/bin:/bin"}
	args := []string{"/bin/echo", "hi"}
	for _, tc := range []struct {
		shell, path string
	}{{"/bin/sh", "/bin/sh"}, {"", "/bin/echo"}} {
		p, err := Entrypoint(nil, environ, args, tc.shell)
		if err != nil {
			t.Fatal(err)
		}
		if p.Path != tc.path || !slices.Equal(p.Args[len(p.Args)-2:], args) {
			t.Errorf("shell %q: exec %q %q, want %s ending with %q", tc.shell, p.Path, p.Args, tc.path, args)
		}
		if tc.shell != "" && !strings.Contains(strings.Join(p.Args, " "), filepath.Join(root, ActivateDir, "x.sh")) {
			t.Errorf("shell %q: %q does not source x.sh", tc.shell, p.Args)
		}
	}
}

func TestDockerfileShell(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"conda-meta/history": ""})
	const line = "python -c 'import requests' | cat"
	for _, tc := range []struct {
		name    string
		shell   string
		environ []string
		args    []string
		want    []string // argv
		prefix  string   // CONDA_PREFIX wanted, "" for none
		err     string
	}{
		{"not activated by default", "/bin/bash", []string{"MAMBA_ROOT_PREFIX=" + root}, []string{line},
			[]string{"/bin/bash", "-o", "pipefail", "-c", line}, "", ""},
		{"MAMBA_DOCKERFILE_ACTIVATE=1 activates", "/bin/bash", []string{"MAMBA_ROOT_PREFIX=" + root, "MAMBA_DOCKERFILE_ACTIVATE=1"}, []string{line},
			[]string{"/bin/bash", "-o", "pipefail", "-c", line}, root, ""},
		{"other values do not", "/bin/bash", []string{"MAMBA_ROOT_PREFIX=" + root, "MAMBA_DOCKERFILE_ACTIVATE=true"}, []string{line},
			[]string{"/bin/bash", "-o", "pipefail", "-c", line}, "", ""},
		{"MAMBA_SKIP_ACTIVATE=1 wins", "/bin/bash", []string{"MAMBA_ROOT_PREFIX=" + root, "MAMBA_DOCKERFILE_ACTIVATE=1", "MAMBA_SKIP_ACTIVATE=1"}, []string{line},
			[]string{"/bin/bash", "-o", "pipefail", "-c", line}, "", ""},
		{"sh has no pipefail; extra arguments are $0 and on", "/bin/sh", []string{"MAMBA_DOCKERFILE_ACTIVATE=1", "MAMBA_ROOT_PREFIX=" + root}, []string{"echo $0 $1", "zero", "one"},
			[]string{"/bin/sh", "-c", "echo $0 $1", "zero", "one"}, root, ""},
		{"missing environment", "/bin/sh", []string{"MAMBA_DOCKERFILE_ACTIVATE=1", "MAMBA_ROOT_PREFIX=" + root, "ENV_NAME=tools"}, []string{line},
			nil, "", "dockerfile-shell: ENV_NAME=\"tools\": no conda environment at " + root + "/envs/tools"},
		{"missing environment unused", "/bin/sh", []string{"MAMBA_ROOT_PREFIX=" + root, "ENV_NAME=tools"}, []string{line},
			[]string{"/bin/sh", "-c", line}, "", ""},
		{"no line", "/bin/sh", nil, nil, nil, "", "no command given"},
		{"no shell", "", nil, []string{line}, nil, "", "no /bin/bash or /bin/sh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DockerfileShell(nil, tc.environ, tc.args, tc.shell)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Path != tc.shell || !slices.Equal(p.Args, tc.want) {
				t.Errorf("exec %q %q, want %q %q", p.Path, p.Args, tc.shell, tc.want)
			}
			if got := lookup(p.Env, "CONDA_PREFIX"); got != tc.prefix {
				t.Errorf("CONDA_PREFIX=%q, want %q", got, tc.prefix)
			}
		})
	}
}

func TestDockerfileUmask(t *testing.T) {
	for _, tc := range []struct {
		value string
		mask  int
		ok    bool
		err   bool
	}{
		{"", 0, false, false},
		{"022", 0o22, true, false},
		{"0077", 0o77, true, false},
		{"0", 0, true, false},
		{"8", 0, false, true},
		{"1000", 0, false, true},
		{"-1", 0, false, true},
		{"u=rwx", 0, false, true},
	} {
		mask, ok, err := DockerfileUmask([]string{"DOCKERFILE_UMASK=" + tc.value})
		if mask != tc.mask || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("DOCKERFILE_UMASK=%q: %o %v %v, want %o %v error %v", tc.value, mask, ok, err, tc.mask, tc.ok, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), `DOCKERFILE_UMASK="`+tc.value+`"`) {
			t.Errorf("error %q does not quote the value", err)
		}
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
		p, err := Entrypoint(envs, environ, []string{"/bin/sh"}, "")
		if err != nil {
			return
		}
		path, env := p.Path, p.Env
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

// FuzzDockerfileShell: for any RUN line and variables, the line is the
// shell's -c argument unchanged, the environment is left alone unless
// MAMBA_DOCKERFILE_ACTIVATE=1, only an existing environment is activated,
// and an accepted DOCKERFILE_UMASK is octal digits within 0777.
func FuzzDockerfileShell(f *testing.F) {
	root := f.TempDir()
	writeFiles(f, root, map[string]string{"conda-meta/history": "", "envs/t/conda-meta/history": ""})
	f.Add("python -c 'import x' | cat", "base", "1", "022")
	f.Add("echo $0", "t", "1", "0777")
	f.Add("", "../t", "0", "8")
	f.Fuzz(func(t *testing.T, line, envName, activate, umask string) {
		environ := []string{"MAMBA_ROOT_PREFIX=" + root, "ENV_NAME=" + envName, "MAMBA_DOCKERFILE_ACTIVATE=" + activate, "DOCKERFILE_UMASK=" + umask}
		if mask, ok, err := DockerfileUmask(environ); ok && (err != nil || mask > 0o777 || strings.Trim(umask, "01234567") != "") {
			t.Errorf("DOCKERFILE_UMASK=%q accepted as %o", umask, mask)
		}
		p, err := DockerfileShell(nil, environ, []string{line}, "/bin/bash")
		if err != nil {
			if activate != "1" {
				t.Fatalf("not activated, yet %v", err)
			}
			return
		}
		if want := []string{"/bin/bash", "-o", "pipefail", "-c", line}; p.Path != "/bin/bash" || !slices.Equal(p.Args, want) {
			t.Errorf("exec %q %q, want /bin/bash %q", p.Path, p.Args, want)
		}
		wantPrefix := map[string]string{"": root, "base": root, "t": filepath.Join(root, "envs", "t")}[envName]
		switch got := lookup(p.Env, "CONDA_PREFIX"); {
		case activate != "1" && !slices.Equal(p.Env, environ):
			t.Errorf("not activated, yet the environment became %q", p.Env)
		case activate == "1" && (wantPrefix == "" || got != wantPrefix):
			t.Errorf("ENV_NAME=%q activated CONDA_PREFIX=%q, want %q", envName, got, wantPrefix)
		}
	})
}

// TestActivationScript evaluates the script in a real shell: the
// environment is active after it, and it is empty when it would do nothing.
func TestActivationScript(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"conda-meta/history":                    "",
		"envs/it's/conda-meta/history":          "",
		"envs/it's/etc/conda/activate.d/x.sh":   "export FROM_SCRIPT=\"$CONDA_PREFIX\"\n",
		"envs/it's/etc/conda/env_vars.d/v.json": `{"QUOTED": "a 'b' $c", "X;touch injected;Y": "1", "1X": "2"}`,
	})
	env := root + "/envs/it's"
	environ := []string{"PATH=/usr/bin:/bin", "MAMBA_ROOT_PREFIX=" + root, "ENV_NAME=it's"}
	script, err := ActivationScript(nil, environ)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", script+`printf '%s|%s|%s|%s|%s\n' "$CONDA_PREFIX" "$CONDA_DEFAULT_ENV" "$FROM_SCRIPT" "$QUOTED" "${PATH%%:*}"`)
	cmd.Env = environ
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh: %v\nscript:\n%s", err, script)
	}
	if want := env + "|it's|" + env + "|a 'b' $c|" + env + "/bin\n"; string(out) != want {
		t.Errorf("activated shell printed %q, want %q\nscript:\n%s", out, want, script)
	}
	if strings.Contains(script, "injected") || strings.Contains(script, "1X") {
		t.Errorf("names that are no shell variables made it into the script:\n%s", script)
	}
	for _, tc := range []struct {
		name    string
		environ []string
	}{
		{"already active", append(slices.Clone(environ), "CONDA_PREFIX="+env)},
		{"MAMBA_SKIP_ACTIVATE=1", append(slices.Clone(environ), "MAMBA_SKIP_ACTIVATE=1")},
	} {
		if s, err := ActivationScript(nil, tc.environ); err != nil || s != "" {
			t.Errorf("%s: script %q, %v; want none", tc.name, s, err)
		}
	}
	if _, err := ActivationScript(nil, []string{"MAMBA_ROOT_PREFIX=" + root, "ENV_NAME=nope"}); err == nil || !strings.Contains(err.Error(), `ENV_NAME="nope"`) {
		t.Errorf("missing environment: %v", err)
	}
}
