package index

import (
	"path/filepath"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// FuzzWrite writes an index of records with arbitrary names, builds,
// dependencies and file names: Write must never panic, and what it accepts
// must read back unchanged from repodata.json and from the shards.
func FuzzWrite(f *testing.F) {
	f.Add("zlib", "1.3", "h0_0", "libc >=2.17", ".conda", "linux-64")
	f.Add("a b", "1!2.0+x", "py_0", "", ".tar.bz2", "noarch")
	f.Add("", "1", "0", "\xff", ".zip", "../x")
	f.Fuzz(func(t *testing.T, name, version, build, dep, ext, subdir string) {
		v, err := conda.ParseVersion(version)
		if err != nil {
			return
		}
		r := conda.PackageRecord{Name: name, Version: v, Build: build, Depends: []string{dep}, Subdir: subdir}
		r.FileName = r.Dist() + ext
		channel := t.TempDir()
		records := []conda.PackageRecord{r}
		if err := Write(channel, subdir, records, Options{}); err != nil {
			return
		}
		checkSubdir(t, filepath.Join(channel, subdir), subdir, records, Options{})
	})
}
