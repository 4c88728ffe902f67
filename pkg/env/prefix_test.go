package env

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestTargetPrefix(t *testing.T) {
	root := "/opt/mamba"
	lookup := func(k string) (string, bool) {
		if k == "MAMBA_ROOT_PREFIX" {
			return root, true
		}
		return "", false
	}
	tests := []struct {
		name    string
		req     CreateRequest
		want    string
		wantErr string
	}{
		{name: "absolute -p", req: CreateRequest{Prefix: "/srv/env/"}, want: "/srv/env"},
		{name: "relative -p", req: CreateRequest{Prefix: "env", WorkDir: "/work"}, want: "/work/env"},
		{name: "-n base is the root prefix, as micromamba", req: CreateRequest{Name: "base"}, want: root},
		{name: "-n other env", req: CreateRequest{Name: "tools"}, want: filepath.Join(root, "envs", "tools")},
		{name: "both", req: CreateRequest{Prefix: "/p", Name: "x"}, wantErr: "not both"},
		{name: "neither", req: CreateRequest{}, wantErr: "no target environment"},
		{name: "path in name", req: CreateRequest{Name: "a/b"}, wantErr: "path separator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := targetPrefix(tt.req, lookup)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("targetPrefix() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("targetPrefix() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
