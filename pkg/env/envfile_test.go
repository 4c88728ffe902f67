package env

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/pkg/conda"
)

// specNames returns the canonical text of specs.
func specNames(specs []conda.MatchSpec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.String())
	}
	return out
}

// canonical parses specs as written and returns their canonical text.
func canonical(t *testing.T, written []string) []string {
	t.Helper()
	return specNames(specs(t, written...))
}

func TestParseEnvironmentFile(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      EnvironmentFile
		linux     []string // Specs(linux-64)
		win       []string // Specs(win-64)
		wantErr   string
	}{{
		name: "full",
		doc: `name: demo
prefix: /opt/demo
channels: [conda-forge, "https://repo.example.com/chan"]
dependencies:
  - python >=3.11
  - conda-forge::numpy=1.26
  - pip
  - pip:
      - requests==2.31
      - "-e ."
  - sel(linux): patchelf
  - sel(win): m2-base
variables:
  A: "1"
  B: 2
platforms: [linux-64, osx-arm64]
`,
		want: EnvironmentFile{
			Name: "demo", Prefix: "/opt/demo",
			Channels:  []string{"conda-forge", "https://repo.example.com/chan"},
			Pip:       []string{"requests==2.31", "-e ."},
			Variables: map[string]string{"A": "1", "B": "2"},
			Platforms: []conda.Platform{"linux-64", "osx-arm64"},
		},
		linux: []string{"python >=3.11", "conda-forge::numpy=1.26", "pip", "patchelf"},
		win:   []string{"python >=3.11", "conda-forge::numpy=1.26", "pip", "m2-base"},
	}, {
		name: "empty", doc: "",
	}, {
		name: "bad spec", doc: "dependencies:\n  - ok\n  - 'numpy >=1..2'\n",
		wantErr: `dependencies, line 3: parse match spec`,
	}, {
		name: "unknown selector", doc: "dependencies:\n  - sel(beos): x\n",
		wantErr: `selector "sel(beos)": unknown (known: linux, osx, unix, win)`,
	}, {
		name: "unknown key", doc: "dependencies:\n  - npm: [x]\n",
		wantErr: `unknown key "npm"`,
	}, {
		name: "pip not a list", doc: "dependencies:\n  - pip: x\n",
		wantErr: `pip: want a list of strings`,
	}, {
		name: "nested list", doc: "dependencies:\n  - [a, b]\n",
		wantErr: `want a spec string`,
	}, {
		name: "not yaml", doc: "name: [",
		wantErr: `parse environment file "env.yml": yaml:`,
	}, {
		name: "channels not a list", doc: "channels: {a: b}\n",
		wantErr: `cannot unmarshal`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEnvironmentFile("env.yml", []byte(tc.doc))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `"env.yml"`) {
					t.Fatalf("error %v, want one naming env.yml with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tc.want.Name || got.Prefix != tc.want.Prefix || !slices.Equal(got.Channels, tc.want.Channels) ||
				!slices.Equal(got.Pip, tc.want.Pip) || !slices.Equal(got.Platforms, tc.want.Platforms) || len(got.Variables) != len(tc.want.Variables) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			for k, v := range tc.want.Variables {
				if got.Variables[k] != v {
					t.Errorf("variable %s = %q, want %q", k, got.Variables[k], v)
				}
			}
			if g := specNames(got.Specs(conda.PlatformLinux64)); !slices.Equal(g, canonical(t, tc.linux)) {
				t.Errorf("linux-64 specs %q, want %q", g, tc.linux)
			}
			if g := specNames(got.Specs(conda.PlatformWin64)); !slices.Equal(g, canonical(t, tc.win)) {
				t.Errorf("win-64 specs %q, want %q", g, tc.win)
			}
		})
	}
}

// TestRealEnvironmentFiles reads the environment.yml files of rattler's and
// mamba's tests; what each must give is read off the file by hand.
func TestRealEnvironmentFiles(t *testing.T) {
	root := testchannel.RealData(t, "locks")
	for _, tc := range []struct {
		rel, name string
		channels  []string
		specs     int // conda specs for linux-64
		pip       int
		variables map[string]string
	}{
		{"rattler/environments/asymmetric_vqgan.environment.yaml", "", []string{"pytorch", "defaults"}, 6, 19, nil},
		{"rattler/environments/channel_inversion.environment.yaml", "", []string{"rapidsai", "nvidia", "conda-forge"}, 2, 0, nil},
		{"rattler/environments/conda_lock_dev.environment.yaml", "conda-lock-dev", []string{"conda-forge", "nodefaults"}, 32, 1, nil},
		{"rattler/environments/mamba_dev_extra.environment.yaml", "", []string{"conda-forge"}, 14, 0, nil},
		{"rattler/environments/variables.environment.yaml", "test", []string{"conda-forge"}, 1, 0, map[string]string{"MY_ENV_VAR": "My Value"}},
		{"rattler/python/environment.yml", "python", []string{"conda-forge"}, 1, 0, nil},
		{"mamba/env_file/env_1.yaml", "env_1", []string{"conda-forge", "bioconda"}, 3, 0, nil},
		// sel(win) and sel(osx) drop two of six on linux-64.
		{"mamba/env_file/env_2.yaml", "env_2", []string{"conda-forge", "bioconda"}, 4, 0, nil},
		{"mamba/env_file/env_3.yaml", "env_3", []string{"conda-forge", "bioconda"}, 3, 2, nil},
		{"mamba/env_file/env_4.yaml", "env_4", []string{"conda-forge", "bioconda"}, 3, 2, nil},
		{"mamba/env_file/minrk_downgrade.yml", "xeus-cling", []string{"conda-forge"}, 5, 0, nil},
	} {
		t.Run(tc.rel, func(t *testing.T) {
			f, err := ReadFile(t.Context(), filepath.Join(root, tc.rel))
			if err != nil {
				t.Fatal(err)
			}
			e := f.Environment
			if e == nil {
				t.Fatalf("read as %+v, want an environment file", f)
			}
			if e.Name != tc.name || !slices.Equal(e.Channels, tc.channels) || len(e.Specs(conda.PlatformLinux64)) != tc.specs || len(e.Pip) != tc.pip {
				t.Errorf("name %q channels %q, %d specs, %d pip", e.Name, e.Channels, len(e.Specs(conda.PlatformLinux64)), len(e.Pip))
			}
			for k, v := range tc.variables {
				if e.Variables[k] != v {
					t.Errorf("variable %s = %q, want %q", k, e.Variables[k], v)
				}
			}
		})
	}
}

func TestReadFileKinds(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"env.yml":        "dependencies: [python]\n",
		"specs.txt":      "# comment\npython >=3.11\n\nnumpy\n",
		"explicit.txt":   "@EXPLICIT\nhttps://c.example/linux-64/a-1-0.conda\n",
		"conda-lock.yml": "version: 1\npackage: []\n",
		"x-lock.yml":     "version: 6\nenvironments: {}\npackages: []\n",
		"bad.txt":        "numpy >=1..2\n",
	}
	for name, doc := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		file, kind, wantErr string
	}{
		{"env.yml", "environment", ""},
		{"specs.txt", "environment", ""},
		{"explicit.txt", "explicit", ""},
		{"x-lock.yml", "lock", ""},
		{"conda-lock.yml", "lock", ""},
		{"bad.txt", "", `parse spec file "` + filepath.Join(dir, "bad.txt") + `": line 1`},
		{"missing.yml", "", "no such file"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := ReadFile(t.Context(), filepath.Join(dir, tc.file))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			kind := map[bool]string{f.Environment != nil: "environment", f.Explicit != nil: "explicit", f.Lock != nil: "lock"}[true]
			if kind != tc.kind {
				t.Errorf("read as %s, want %s", kind, tc.kind)
			}
		})
	}
}
