package archive

import (
	"context"
	"errors"
	"io/fs"
	"testing"
)

// TestLoadFollowsLinks reads through symlinks (in the last element and in
// directories) and hardlinks as Stat and ReadFile on an extraction would.
func TestLoadFollowsLinks(t *testing.T) {
	payload := []te{
		file("lib/libz.so.1.3", "ELF"),
		symlink("lib/libz.so", "libz.so.1.3"),
		symlink("lib64", "lib"),
		file("bin/tool", "#!/bin/sh"),
		hardlink("bin/tool2", "bin/tool"),
	}
	for _, format := range []Format{FormatConda, FormatTarBz2} {
		t.Run(format.ext(), func(t *testing.T) {
			files, err := Load(context.Background(), craft(t, format, validInfo, payload))
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"lib/libz.so": "ELF", "lib64/libz.so": "ELF", "lib64/libz.so.1.3": "ELF", "bin/tool2": "#!/bin/sh"} {
				if b, err := fs.ReadFile(files, name); err != nil || string(b) != want {
					t.Errorf("ReadFile(%s) = %q, %v; want %q", name, b, err, want)
				}
			}
			if fi, err := files.Lstat("lib/libz.so"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("Lstat(lib/libz.so) = %v, %v; want a symlink", fi, err)
			}
			if fi, err := files.Stat("lib64"); err != nil || !fi.IsDir() {
				t.Errorf("Stat(lib64) = %v, %v; want the directory it names", fi, err)
			}
			if target, err := files.ReadLink("lib64"); err != nil || target != "lib" {
				t.Errorf("ReadLink(lib64) = %q, %v", target, err)
			}
			if _, err := files.Stat("lib/missing"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Stat(lib/missing) = %v, want fs.ErrNotExist", err)
			}
			if _, err := files.Content("lib"); err == nil {
				t.Error("Content(lib) of a directory: no error")
			}
			want := int64(len("ELF") + len("#!/bin/sh") + len(validInfo[0].body)) // a hardlink shares its file's bytes
			if files.Size() != want {
				t.Errorf("Size() = %d, want %d", files.Size(), want)
			}
		})
	}
}
