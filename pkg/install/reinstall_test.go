package install

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSyncReinstall: an installed package whose file was removed by hand
// comes back when Sync reinstalls it, and not otherwise; the other
// packages are kept.
func TestSyncReinstall(t *testing.T) {
	root := t.TempDir()
	tool := testPkg{name: "tool", files: []testFile{{path: "bin/tool", content: "#!/bin/sh\necho tool\n", mode: 0o755}}}.write(t, filepath.Join(root, "pkgs"))
	lib := testPkg{name: "lib", files: []testFile{{path: "lib/liblib.so", content: "\x7fELF"}}}.write(t, filepath.Join(root, "pkgs"))
	prefix := filepath.Join(root, "env")
	target := []*Package{lib, tool}
	if _, err := Sync(context.Background(), prefix, target, Options{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(prefix, "bin", "tool")
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	res, err := Sync(context.Background(), prefix, target, Options{})
	if err != nil || len(res.Linked)+len(res.Unlinked) != 0 {
		t.Fatalf("Sync of the same target: %+v, %v; want nothing done", res, err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("the file came back without a reinstall: the test proves nothing")
	}
	res, err = Sync(context.Background(), prefix, target, Options{Reinstall: []string{"tool"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Unlinked, []string{"tool-1.0-h0_0"}) || !slices.Equal(res.Linked, []string{"tool-1.0-h0_0"}) {
		t.Errorf("reinstall: unlinked %q, linked %q; want tool alone", res.Unlinked, res.Linked)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("reinstalled tool lacks its file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta", "tool-1.0-h0_0.json")); err != nil {
		t.Errorf("reinstalled tool lacks its conda-meta record: %v", err)
	}
}
