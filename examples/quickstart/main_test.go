package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/realistic"
	"github.com/condabox/condabox/internal/testimage"
)

// TestQuickstart runs the steps of `make quickstart` and then, when podman
// works, the commands it prints.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds condabox, the realistic channel and a Debian base")
	}
	if os.Getuid() != 0 {
		t.Skip("the quick start needs root (apt-get download, mmdebstrap)")
	}
	if err := realistic.CheckTools(); err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("mmdebstrap not installed (apt-get install mmdebstrap)")
	}
	var out, log bytes.Buffer
	c := config{EnvFile: "env.yml", Out: t.TempDir(), Log: &log}
	if err := run(t.Context(), &out, c); err != nil {
		t.Fatalf("quickstart: %v\n%s", err, log.String())
	}
	load := "podman load -i " + c.Archive()
	if !strings.Contains(out.String(), load) {
		t.Errorf("instructions lack %q:\n%s", load, out.String())
	}

	podman := testimage.Podman(t)
	if b, err := podman("load", "-i", c.Archive()); err != nil {
		t.Fatalf("%s: %v\n%s", load, err, b)
	}
	t.Cleanup(func() { podman("rmi", "-f", Tag) })
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"printed command", []string{"python3", "-c", "import requests; print(requests.__version__)"}, "2."},
		{"another uid, read-only", []string{"--read-only", "--user", "1001", "python3", "-c", "import requests, sys; print(sys.prefix)"}, "/opt/conda"},
	}
	// --compile-pyc is on: importing writes no byte code into site-packages,
	// even as root, who could.
	t.Run("no pyc written at run time", func(t *testing.T) {
		cid, err := podman("create", "--user", "0", Tag, "python3", "-c", "import requests")
		if err != nil {
			t.Fatalf("podman create: %v\n%s", err, cid)
		}
		cid = strings.TrimSpace(cid)
		defer podman("rm", "-f", cid)
		if b, err := podman("start", "-a", cid); err != nil {
			t.Fatalf("podman start: %v\n%s", err, b)
		}
		diff, err := podman("diff", cid)
		if err != nil {
			t.Fatalf("podman diff: %v\n%s", err, diff)
		}
		for _, line := range strings.Split(diff, "\n") {
			if strings.Contains(line, "/site-packages/") {
				t.Errorf("import requests changed %s", line)
			}
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := len(tt.args) - 3 // podman options come before the image
			args := append(append(append([]string{"run", "--rm"}, tt.args[:i]...), Tag), tt.args[i:]...)
			b, err := podman(args...)
			if err != nil || !strings.Contains(b, tt.want) {
				t.Errorf("podman %v: %v\n%s\nwant %q", args, err, b, tt.want)
			}
		})
	}
}
