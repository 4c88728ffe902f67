package image

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	condaenv "github.com/condabox/condabox/pkg/env"
)

// writeELF writes the smallest ELF executable debug/elf reads: a header for
// machine and, when interp, a PT_INTERP program header (dynamic linking).
func writeELF(t testing.TB, machine elf.Machine, interp bool) string {
	t.Helper()
	h := elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Ehsize: 64, Phentsize: 56, Shentsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	var progs []elf.Prog64
	if interp {
		h.Phoff, h.Phnum = 64, 1
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_INTERP)})
	}
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	if err := binary.Write(&buf, binary.LittleEndian, progs); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "condabox")
	if err := os.WriteFile(file, buf.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestCheckShim(t *testing.T) {
	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		file     string
		platform v1.Platform
		err      string
	}{
		{"static amd64", writeELF(t, elf.EM_X86_64, false), LinuxAMD64, ""},
		{"dynamic", writeELF(t, elf.EM_X86_64, true), LinuxAMD64, "build condabox with CGO_ENABLED=0"},
		{"other machine", writeELF(t, elf.EM_AARCH64, false), LinuxAMD64, "built for EM_AARCH64 (ELFDATA2LSB), want EM_X86_64 for linux/amd64"},
		{"static arm64", writeELF(t, elf.EM_AARCH64, false), v1.Platform{OS: "linux", Architecture: "arm64"}, ""},
		{"not ELF", notELF, LinuxAMD64, "not a linux executable"},
		{"missing", filepath.Join(t.TempDir(), "none"), LinuxAMD64, "not a linux executable"},
		{"amd64 binary for an arm64 image", writeELF(t, elf.EM_X86_64, false), v1.Platform{OS: "linux", Architecture: "arm64"}, "want EM_AARCH64 for linux/arm64"},
		{"unknown architecture", writeELF(t, elf.EM_X86_64, false), v1.Platform{OS: "linux", Architecture: "mips"}, "not built for linux/mips"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckShim(tc.file, tc.platform)
			if tc.err == "" && err != nil {
				t.Fatal(err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestEnvPrefixes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		want  []string
		def   int
		err   string
	}{
		{"first is default", []string{"py", "tools"}, []string{"/opt/conda", "/opt/conda/envs/tools"}, 0, ""},
		{"base is default wherever it is", []string{"tools", "base"}, []string{"/opt/conda/envs/tools", "/opt/conda"}, 1, ""},
		{"duplicate", []string{"a", "b", "a"}, nil, 0, `"a" given twice`},
		{"slash", []string{"a/b"}, nil, 0, "without '/'"},
		{"dot dot", []string{"base", ".."}, nil, 0, "without '/'"},
		{"empty", []string{""}, nil, 0, "non-empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, def, err := EnvPrefixes("/opt/conda", tc.names)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) || def != tc.def {
				t.Fatalf("got %q, %d, %v; want %q, %d", got, def, err, tc.want, tc.def)
			}
		})
	}
}

func TestBuildEnvs(t *testing.T) {
	tool := testEnv("v1")[1] // with a prefix placeholder and an activate.d export
	jq := &pkgbuild.Package{Record: rec("jq", "1.7", "0", ""), Files: []pkgbuild.File{{Path: "bin/jq", Mode: 0o755, Data: []byte("jq")}}}
	shim := writeELF(t, elf.EM_X86_64, false)
	envs := []Env{
		{Name: "tools", Packages: extractPackages(t, []*pkgbuild.Package{jq, tool})},
		{Name: "base", Packages: extractPackages(t, testEnv("v1"))},
	}
	res, err := BuildEnvs(context.Background(), empty.Image, envs, Options{Shim: shim, Entrypoint: []string{"tini", "--"}, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	fs := flatten(t, res.Image)
	for _, tc := range []struct{ path, want string }{
		{"opt/conda/envs/tools/bin/jq", "jq"},
		{"opt/conda/bin/python3.11", "\x7fELF python v1"},
		// The package both hold, each with its own prefix.
		{"opt/conda/bin/tool", "#!/bin/sh\necho /opt/conda/share\n"},
		{"opt/conda/envs/tools/bin/tool", "#!/bin/sh\necho /opt/conda/envs/tools/share\n"},
		{"opt/conda/envs/tools/conda-meta/history", ""},
		{"opt/conda/conda-meta/history", ""},
	} {
		if got, ok := fs[tc.path]; !ok || got.data != tc.want {
			t.Errorf("%s = %q (present %v), want %q", tc.path, got.data, ok, tc.want)
		}
	}
	if _, ok := fs["opt/conda/envs/tools/conda-meta/jq-1.7-0.json"]; !ok {
		t.Error("no conda-meta record of tools' jq")
	}
	if _, ok := fs["opt/conda/conda-meta/jq-1.7-0.json"]; ok {
		t.Error("base has the conda-meta record of tools' jq")
	}
	if s, ok := fs["usr/local/bin/condabox"]; !ok || s.hdr.Mode&0o755 != 0o755 {
		t.Errorf("no executable usr/local/bin/condabox in the image")
	}
	var list condaenv.ImageEnvs
	if err := json.Unmarshal([]byte(fs["etc/condabox/envs.json"].data), &list); err != nil {
		t.Fatalf("etc/condabox/envs.json: %v", err)
	}
	wantList := condaenv.ImageEnvs{Default: "base", Envs: []condaenv.ImageEnv{
		{Name: "tools", Prefix: "/opt/conda/envs/tools", Baked: map[string]string{"TOOL_HOME": "/opt/conda/envs/tools/share/tool"}},
		{Name: "base", Prefix: "/opt/conda", Baked: map[string]string{"TOOL_HOME": "/opt/conda/share/tool"}},
	}}
	got, err := json.Marshal(list)
	want, err2 := json.Marshal(wantList)
	if err != nil || err2 != nil || !bytes.Equal(got, want) {
		t.Errorf("envs.json = %s, want %s", got, want)
	}
	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ShimPath, "entrypoint", "tini", "--"}; !slices.Equal(cf.Config.Entrypoint, want) {
		t.Errorf("entrypoint %q, want %q", cf.Config.Entrypoint, want)
	}
	// No environment is activated by the config: the entrypoint chooses.
	for _, kv := range cf.Config.Env {
		if strings.HasPrefix(kv, "CONDA_") || strings.HasPrefix(kv, "TOOL_HOME=") || strings.Contains(kv, "/opt/conda/bin") {
			t.Errorf("config activates an environment: %s", kv)
		}
	}
	if !slices.Contains(cf.Config.Env, "PATH="+defaultPath) {
		t.Errorf("config PATH: %q", cf.Config.Env)
	}
	if !slices.ContainsFunc(res.Packages, func(p PackageReport) bool { return p.Dist == "tools/jq-1.7-0" }) {
		t.Errorf("packages %v do not name their environment", res.Packages)
	}
	if len(res.Warnings) != 2 || !strings.HasPrefix(res.Warnings[0], "tools: ") || !strings.HasPrefix(res.Warnings[1], "base: ") {
		t.Errorf("warnings %q: want one per environment's unbakeable activate.d line", res.Warnings)
	}
}

func TestBuildEnvsRefuses(t *testing.T) {
	pkgs := extractPackages(t, testEnv("v1"))
	static := writeELF(t, elf.EM_X86_64, false)
	for _, tc := range []struct {
		name string
		envs []Env
		opts Options
		err  string
	}{
		{"no environment", nil, Options{Shim: static}, "no environment given"},
		{"dynamic condabox", []Env{{Name: "base", Packages: pkgs}}, Options{Shim: writeELF(t, elf.EM_X86_64, true)}, "CGO_ENABLED=0"},
		{"same name twice", []Env{{Name: "a", Packages: pkgs}, {Name: "a", Packages: pkgs}}, Options{Shim: static}, `"a" given twice`},
		{"bad prefix", []Env{{Name: "base", Packages: pkgs}}, Options{Shim: static, Prefix: "opt/conda"}, "not a clean absolute path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.WorkDir = t.TempDir()
			_, err := BuildEnvs(context.Background(), empty.Image, tc.envs, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestBuildEnvsEntrypoint(t *testing.T) {
	base, err := mutate.Config(empty.Image, v1.Config{Entrypoint: []string{"tini", "--"}, Cmd: []string{"bash"}})
	if err != nil {
		t.Fatal(err)
	}
	envs := []Env{{Name: "base", Packages: extractPackages(t, testEnv("v1"))}}
	shim := writeELF(t, elf.EM_X86_64, false)
	for _, tc := range []struct {
		name                    string
		entrypoint, cmd         []string
		wantEntrypoint, wantCmd []string
	}{
		{"base's kept behind the shim", nil, nil, []string{ShimPath, "entrypoint", "tini", "--"}, []string{"bash"}},
		{"--cmd replaces the base's command", nil, []string{"python3"}, []string{ShimPath, "entrypoint", "tini", "--"}, []string{"python3"}},
		{"--entrypoint resets the base's command", []string{"python3"}, nil, []string{ShimPath, "entrypoint", "python3"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := BuildEnvs(context.Background(), base, envs, Options{Shim: shim, Entrypoint: tc.entrypoint, Cmd: tc.cmd, WorkDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			cf, err := res.Image.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cf.Config.Entrypoint, tc.wantEntrypoint) || !slices.Equal(cf.Config.Cmd, tc.wantCmd) {
				t.Errorf("entrypoint %q cmd %q, want %q %q", cf.Config.Entrypoint, cf.Config.Cmd, tc.wantEntrypoint, tc.wantCmd)
			}
		})
	}
}
