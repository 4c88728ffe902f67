package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.yaml.in/yaml/v3"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/internal/testimage"
	"github.com/condabox/condabox/internal/testregistry"
	"github.com/condabox/condabox/pkg/conda"
)

// TestPipSection: create -f env.yml installs the conda packages, then the
// file's pip: section with the environment's own pip, from a package index
// served on loopback. The lines mean what they mean in a requirements file
// beside env.yml (an --index-url line, a relative -r file); pip comes
// along when the file does not list it, as in micromamba. A requirement
// pip cannot meet fails the create, naming the file and leaving no folder.
func TestPipSection(t *testing.T) {
	ch := realisticChannel(t)
	isolate(t)
	srv := serve(t, ch, server.Options{})
	index := pipIndex(t, map[string]string{"cbdemo": "1.0", "cbextra": "2.0"})

	dir := t.TempDir()
	writeFile(t, dir, "extra.txt", "cbextra\n")
	envYML := func(name string, deps ...string) string {
		return writeFile(t, dir, name, "channels: ["+srv.URL()+"]\ndependencies:\n  - "+strings.Join(deps, "\n  - ")+"\n")
	}
	pipList := func(reqs ...string) string {
		return "pip:\n    - --index-url " + index + "/simple\n    - " + strings.Join(reqs, "\n    - ")
	}
	envYML("env.yml", "python", "pip", pipList("cbdemo==1.0", "-r extra.txt"))
	prefix := filepath.Join(t.TempDir(), "env")
	// -f as a relative path, from the folder above: pip runs in env.yml's.
	t.Chdir(filepath.Dir(dir))
	r := runCLI(t, "create", "-y", "-p", prefix, "-f", filepath.Join(filepath.Base(dir), "env.yml"), "--override-channels")
	if r.code != 0 {
		t.Fatalf("create: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if got := runIn(t, filepath.Join(prefix, "bin", "python"), "-c", "import cbdemo, cbextra; print(cbdemo.VALUE, cbextra.VALUE)"); got != "1.0 2.0" {
		t.Errorf("the pip packages say %q, want 1.0 2.0", got)
	}
	if es, _ := os.ReadDir(dir); len(es) != 2 { // env.yml, extra.txt: the requirements file is gone
		t.Errorf("%s holds %v after the create", dir, es)
	}

	// list shows what pip installed as conda does; env export writes it
	// under pip:, and a create from the export installs it again.
	if r := runCLI(t, "list", "-p", prefix, "cb"); !regexp.MustCompile(`(?m)^\s*cbdemo\s+1\.0\s+pypi_0\s+pypi$`).MatchString(r.stdout) || !strings.Contains(r.stdout, "cbextra") {
		t.Errorf("list: %q", r.stdout)
	}
	if r := runCLI(t, "list", "-p", prefix, "--no-pip"); strings.Contains(r.stdout, "pypi") || !regexp.MustCompile(`(?m)^\s*pip\s+23`).MatchString(r.stdout) {
		t.Errorf("list --no-pip shows pip's packages, or not the conda ones:\n%s", r.stdout)
	}
	// pip's own dist-info belongs to the conda package pip: not a pypi row.
	if r := runCLI(t, "list", "-p", prefix); regexp.MustCompile(`(?m)^\s*pip\s.*pypi$`).MatchString(r.stdout) || !regexp.MustCompile(`(?m)^\s*pip\s+23`).MatchString(r.stdout) {
		t.Errorf("list shows pip as a pypi package, or not at all:\n%s", r.stdout)
	}
	r = runCLI(t, "env", "export", "-p", prefix)
	if !strings.Contains(r.stdout, "- pip:\n      - cbdemo==1.0\n      - cbextra==2.0\n") {
		t.Fatalf("env export: exit %d\n%s", r.code, r.stdout)
	}
	exported := writeFile(t, t.TempDir(), "exported.yml", r.stdout)
	t.Setenv("PIP_INDEX_URL", index+"/simple") // the export names no index
	again := filepath.Join(t.TempDir(), "again")
	if r := runCLI(t, "create", "-y", "-p", again, "-f", exported); r.code != 0 {
		t.Fatalf("create from the export: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if got := runIn(t, filepath.Join(again, "bin", "python"), "-c", "import cbdemo, cbextra; print(cbdemo.VALUE, cbextra.VALUE)"); got != "1.0 2.0" {
		t.Errorf("from the export, the pip packages say %q", got)
	}
	if r := runCLI(t, "env", "export", "--from-history", "-p", prefix); strings.Contains(r.stdout, "pip:") {
		t.Errorf("env export --from-history wrote pip packages:\n%s", r.stdout)
	}

	// As micromamba, a pip: section brings pip along when the file does
	// not list it.
	noPip := filepath.Join(t.TempDir(), "env")
	if r := runCLI(t, "create", "-y", "-p", noPip, "-f", envYML("no-pip.yml", "python", pipList("cbdemo")), "--override-channels"); r.code != 0 {
		t.Fatalf("create without pip listed: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if got := runIn(t, filepath.Join(noPip, "bin", "python"), "-c", "import cbdemo, pip; print(cbdemo.VALUE)"); got != "1.0" {
		t.Errorf("without pip listed: %q", got)
	}

	for _, tt := range []struct {
		name string
		deps []string
		want []string
	}{
		{"missing.yml", []string{"python", "pip", pipList("cbdemo==9.9")}, []string{"missing.yml: pip install of its pip: section failed (exit 1)", "cbdemo==9.9"}},
	} {
		p := filepath.Join(t.TempDir(), "env")
		r := runCLI(t, "create", "-y", "-p", p, "-f", envYML(tt.name, tt.deps...), "--override-channels")
		for _, w := range tt.want {
			if r.code == 0 || !strings.Contains(r.stderr, w) {
				t.Errorf("%s: exit %d, stderr %q: want %q", tt.name, r.code, r.stderr, w)
			}
		}
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s: the failed create left %s", tt.name, p)
		}
	}

}

// pipIndex serves a PEP 503 package index on loopback holding one pure
// Python wheel per name (module NAME with VALUE = version) and returns its
// URL.
func pipIndex(t *testing.T, pkgs map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, version := range pkgs {
		whl := fmt.Sprintf("%s-%s-py3-none-any.whl", name, version)
		data := wheel(t, name, version)
		mkdir(t, filepath.Join(root, "files"))
		writeFile(t, filepath.Join(root, "files"), whl, string(data))
		sum := sha256.Sum256(data)
		page := fmt.Sprintf("<!DOCTYPE html><html><body><a href=\"../../files/%s#sha256=%s\">%s</a></body></html>\n", whl, hex.EncodeToString(sum[:]), whl)
		writeFile(t, mkdir(t, filepath.Join(root, "simple", name)), "index.html", page)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// wheel returns a wheel of the module name, its RECORD hashing each file.
func wheel(t *testing.T, name, version string) []byte {
	t.Helper()
	info := name + "-" + version + ".dist-info/"
	files := []struct{ path, data string }{
		{name + "/__init__.py", fmt.Sprintf("VALUE = %q\n\ndef main():\n    print(%q, VALUE)\n", version, name)},
		{info + "METADATA", "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + version + "\n"},
		{info + "WHEEL", "Wheel-Version: 1.0\nGenerator: condabox-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
		{info + "entry_points.txt", "[console_scripts]\n" + name + " = " + name + ":main\n"},
	}
	var record strings.Builder
	for _, f := range files {
		sum := sha256.Sum256([]byte(f.data))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", f.path, base64.RawURLEncoding.EncodeToString(sum[:]), len(f.data))
	}
	record.WriteString(info + "RECORD,,\n")
	files = append(files, struct{ path, data string }{info + "RECORD", record.String()})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.path)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLockedPipPackages: a conda-lock file's pip packages are installed by
// the environment's pip, exactly (name @ URL, checked against their
// sha256, --no-deps), for the categories asked (--category; main by
// default); a wrong hash fails the create, leaving no folder.
func TestLockedPipPackages(t *testing.T) {
	ch := realisticChannel(t)
	isolate(t)
	t.Setenv("CONDA_OVERRIDE_GLIBC", "2.36") // the channel's floor: Debian 12's glibc
	srv := serve(t, ch, server.Options{})
	index := pipIndex(t, map[string]string{"cbdemo": "1.0", "cbextra": "2.0"})
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yml", "channels: ["+srv.URL()+"]\ndependencies: [python, pip]\n")
	lockFile := filepath.Join(dir, "conda-lock.yml")
	if r := runCLI(t, "lock", "-f", envFile, "-p", "linux-64", "--lockfile", lockFile); r.code != 0 {
		t.Fatalf("lock: exit %d, stderr %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	var lock map[string]any
	if err := yaml.Unmarshal(data, &lock); err != nil {
		t.Fatal(err)
	}
	wheelSHA := func(name, version string) string {
		sum := sha256.Sum256(wheel(t, name, version))
		return hex.EncodeToString(sum[:])
	}
	withPip := func(name string, demoSHA string) string {
		doc := maps.Clone(lock)
		pkgs := slices.Clone(doc["package"].([]any))
		for _, p := range []struct{ name, version, sha, category string }{
			{"cbdemo", "1.0", demoSHA, "main"}, {"cbextra", "2.0", wheelSHA("cbextra", "2.0"), "dev"},
		} {
			pkgs = append(pkgs, map[string]any{
				"name": p.name, "version": p.version, "manager": "pip", "platform": "linux-64", "dependencies": map[string]any{},
				"url": fmt.Sprintf("%s/files/%s-%s-py3-none-any.whl", index, p.name, p.version), "hash": map[string]any{"sha256": p.sha},
				"category": p.category, "optional": p.category != "main",
			})
		}
		doc["package"] = pkgs
		out, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, t.TempDir(), name, string(out))
	}
	good := withPip("conda-lock.yml", wheelSHA("cbdemo", "1.0"))
	check := `import importlib.util as u; print(u.find_spec("cbdemo") is not None, u.find_spec("cbextra") is not None)`
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{nil, "True False"},
		{[]string{"--category", "main,dev"}, "True True"},
	} {
		prefix := filepath.Join(t.TempDir(), "env")
		r := runCLI(t, append([]string{"create", "-y", "-p", prefix, "-f", good}, tt.flags...)...)
		if r.code != 0 {
			t.Fatalf("create %v: exit %d, stderr %s", tt.flags, r.code, r.stderr)
		}
		if got := runIn(t, filepath.Join(prefix, "bin", "python"), "-c", check); got != tt.want {
			t.Errorf("create %v: cbdemo, cbextra installed: %s, want %s", tt.flags, got, tt.want)
		}
	}
	bad := withPip("conda-lock.yml", strings.Repeat("0", 64))
	prefix := filepath.Join(t.TempDir(), "env")
	r := runCLI(t, "create", "-y", "-p", prefix, "-f", bad)
	if r.code == 0 || !strings.Contains(r.stderr, bad+": pip install of its pip: section failed") || !strings.Contains(r.stderr, "HASHES") {
		t.Errorf("a wrong hash: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(prefix); err == nil {
		t.Errorf("the failed create left %s", prefix)
	}

	// A lock is what it is: with pip packages but no pip, the create is
	// refused before anything is linked.
	var pipless []any
	for _, p := range lock["package"].([]any) {
		if p.(map[string]any)["name"] != "pip" {
			pipless = append(pipless, p)
		}
	}
	lock["package"] = pipless
	noPip := withPip("conda-lock.yml", wheelSHA("cbdemo", "1.0"))
	prefix = filepath.Join(t.TempDir(), "env")
	if r := runCLI(t, "create", "-y", "-p", prefix, "-f", noPip); r.code == 0 || !strings.Contains(r.stderr, noPip+": its pip packages need pip in the environment") {
		t.Errorf("a lock without pip: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(prefix); err == nil {
		t.Errorf("the refused create left %s", prefix)
	}
}

// TestBuildPipPodman: build runs an environment file's pip: section in a
// temporary environment on this machine and puts what pip installed into
// the image, entry points pointing at the image's python: podman runs
// them from a real registry.
func TestBuildPipPodman(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the realistic channel and a Debian base")
	}
	podman := testimage.Podman(t)
	ch := realisticChannel(t)
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	srv := serve(t, ch, server.Options{})
	index := pipIndex(t, map[string]string{"cbdemo": "1.0", "cbextra": "2.0"})
	reg := testregistry.Start(t, testregistry.Options{})
	baseRef, err := name.ParseReference(reg.Host + "/debian:12")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(baseRef, testimage.DebianBase(t, t.Context())); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	envFile := writeFile(t, dir, "env.yml", "channels: ["+srv.URL()+"]\ndependencies:\n  - python\n  - pip\n  - pip:\n    - --index-url "+index+"/simple\n    - cbdemo==1.0\n    - cbextra\n")
	img := reg.Host + "/pip:v1"
	r := runCLI(t, "build", "-f", envFile, "--override-channels", "--base", baseRef.String(), "--tag", img, "--push")
	if r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
	}
	if out, err := podman("pull", "--tls-verify=false", img); err != nil {
		t.Fatalf("podman pull: %v\n%s", err, out)
	}
	t.Cleanup(func() { podman("rmi", "-f", img) })
	checkContainerRuns(t, podman, img, []containerRun{
		{"the pip packages import", nil, []string{"python3", "-c", "import cbdemo, cbextra; print(cbdemo.VALUE, cbextra.VALUE)"}, "1.0 2.0", 0},
		{"an entry point pip wrote runs the image's python", nil, []string{"cbdemo"}, "cbdemo 1.0", 0},
		{"its #! names the image's python", nil, []string{"head", "-1", "/opt/conda/bin/cbextra"}, "#!/opt/conda/bin/python", 0},
		{"pip lists them", nil, []string{"python3", "-m", "pip", "list"}, "cbdemo", 0},
		{"their .pyc were compiled at build, with the image's paths", nil, []string{"python3", "-v", "-c", "import cbdemo"},
			"code object from '/opt/conda/lib/python3.11/site-packages/cbdemo/__pycache__/__init__.cpython-311.pyc'", 0},
		{"the .pyc record the image's source path", nil, []string{"python3", "-c", "import cbdemo; print(cbdemo.main.__code__.co_filename)"},
			"/opt/conda/lib/python3.11/site-packages/cbdemo/__init__.py", 0},
	})

	// The SBOM describes what pip installed, as pkg:pypi packages.
	out := decodeBuild(t, runCLI(t, "build", "--json", "-f", envFile, "--override-channels", "--tag", img+"-oci", "--output", "oci:"+filepath.Join(t.TempDir(), "oci")))
	if b, err := os.ReadFile(out.Images[0].SBOM); err != nil || !strings.Contains(string(b), `"referenceLocator": "pkg:pypi/cbdemo@1.0"`) || !strings.Contains(string(b), `"referenceLocator": "pkg:pypi/cbextra@2.0"`) {
		t.Errorf("SBOM %s (%v) lacks the pip packages:\n%s", out.Images[0].SBOM, err, b)
	}

	// pip replacing a conda package's files (here pip's own, upgraded)
	// would leave conda's in the image: refused, naming both.
	index99 := pipIndex(t, map[string]string{"pip": "99.0"})
	upgrade := writeFile(t, dir, "upgrade.yml", "channels: ["+srv.URL()+"]\ndependencies:\n  - python\n  - pip\n  - pip:\n    - --index-url "+index99+"/simple\n    - pip==99.0\n")
	r = runCLI(t, "build", "-f", upgrade, "--override-channels", "--tag", img+"-up", "--output", "oci:"+filepath.Join(t.TempDir(), "oci"))
	if r.code == 0 || !strings.Contains(r.stderr, upgrade+": its pip packages replace ") || !strings.Contains(r.stderr, "of the conda package pip-23") {
		t.Errorf("pip upgrading a conda package: exit %d, stderr %q", r.code, r.stderr)
	}

	// A machine that cannot run the image's python cannot run its pip (a
	// channel of noarch stand-ins solves for any platform).
	stub := func(name string) *pkgbuild.Package {
		return &pkgbuild.Package{Record: conda.PackageRecord{Name: name, Version: conda.MustParseVersion("1.0"), Build: "0",
			Subdir: "noarch", Noarch: conda.NoarchGeneric, License: "MIT", Timestamp: 1700000000000},
			Files: []pkgbuild.File{{Path: "share/" + name, Mode: 0o644, Data: []byte(name)}}}
	}
	stubs := "file://" + writeChannel(t, []*pkgbuild.Package{stub("python"), stub("pip")})
	armFile := writeFile(t, dir, "arm.yml", "channels: ["+stubs+"]\ndependencies:\n  - python\n  - pip\n  - pip:\n    - cbdemo\n")
	r = runCLI(t, "build", "-f", armFile, "--override-channels", "--platform", "linux/arm64", "--tag", img+"-arm", "--output", "oci:"+filepath.Join(t.TempDir(), "oci"))
	if r.code == 0 || !strings.Contains(r.stderr, "cannot be built into a linux/arm64 image here") {
		t.Errorf("pip for another platform: exit %d, stderr %q", r.code, r.stderr)
	}
}
