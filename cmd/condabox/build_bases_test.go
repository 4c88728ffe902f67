package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/condabox/condabox/internal/testchannel/server"
	"github.com/condabox/condabox/internal/testimage"
	"github.com/condabox/condabox/internal/testregistry"
)

// TestBuildBasesPodman builds python, requests and jq from the realistic
// channel onto the bases users start from — debian:bookworm-slim-like and
// distroless-like, which has no shell, apt or dpkg — pushes the images to a
// real registry and runs them with podman: a condabox image needs nothing
// from its base but glibc, the activation being in the image config.
func TestBuildBasesPodman(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the realistic channel and Debian bases")
	}
	podman := testimage.Podman(t)
	srv := serve(t, realisticChannel(t), server.Options{})
	reg := testregistry.Start(t, testregistry.Options{})
	home := isolate(t)
	t.Setenv("CONDA_PKGS_DIRS", filepath.Join(home, "pkgs"))
	env := writeFile(t, t.TempDir(), "env.yml", "channels: ["+srv.URL()+"]\ndependencies: [python, requests, jq]\n")

	const importAll = "import requests, ssl, sqlite3, sys; print(sys.prefix, sqlite3.sqlite_version, ssl.OPENSSL_VERSION)"
	tests := []struct {
		name   string
		args   []string          // podman run's flags, then the command
		want   string            // in the output
		fail   bool              // the command must fail
		onlyOn *testimage.Rootfs // nil: on every base
	}{
		{"python imports requests, ssl, sqlite3", []string{"python3", "-c", importAll}, "/opt/conda 3.", false, nil},
		{"jq runs", []string{"jq", "--version"}, "jq-1.", false, nil},
		{"default user", []string{"python3", "-c", "import os, pwd; print(pwd.getpwuid(os.getuid()).pw_name)"}, "mambauser", false, nil},
		{"any uid runs the env", []string{"--user", "1001", "python3", "-c", importAll}, "/opt/conda 3.", false, nil},
		// distroless has ca-certificates' bundle and SSL_CERT_FILE (slim has neither)
		{"the base's CA bundle", []string{"python3", "-c", "import ssl; print('CAs', len(ssl.create_default_context().get_ca_certs()) > 100)"}, "CAs True", false, testimage.Distroless},
		{"no shell", []string{"sh", "-c", "true"}, "", true, testimage.Distroless},
	}
	for _, base := range []*testimage.Rootfs{testimage.Slim, testimage.Distroless} {
		t.Run(base.Name, func(t *testing.T) {
			baseRef, err := name.ParseReference(reg.Host + "/" + base.Name + ":12")
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(baseRef, base.TestImage(t, context.Background())); err != nil {
				t.Fatal(err)
			}
			img := reg.Host + "/env-on-" + base.Name + ":1"
			r := runCLI(t, "build", "-f", env, "--override-channels", "--base", baseRef.String(), "--tag", img, "--push", "--prune", "safe")
			if r.code != 0 {
				t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
			}
			if out, err := podman("pull", "--tls-verify=false", img); err != nil {
				t.Fatalf("podman pull: %v\n%s", err, out)
			}
			t.Cleanup(func() { podman("rmi", "-f", img) })

			for _, tt := range tests {
				if tt.onlyOn != nil && tt.onlyOn != base {
					continue
				}
				t.Run(tt.name, func(t *testing.T) {
					args, cmd := []string{"run", "--rm"}, tt.args
					if cmd[0] == "--user" {
						args, cmd = append(args, cmd[:2]...), cmd[2:]
					}
					out, err := podman(append(append(args, img), cmd...)...)
					if (err != nil) != tt.fail || !strings.Contains(out, tt.want) {
						t.Errorf("podman run %v: error %v, want failure %v\n%s\nwant %q", tt.args, err, tt.fail, out, tt.want)
					}
				})
			}
		})
	}
}
