package realistic

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// glibcSonames are the libraries of the C library itself. conda packages
// take them from the system (the __glibc virtual package) and never ship them.
var glibcSonames = map[string]bool{
	"libc.so.6": true, "libm.so.6": true, "libmvec.so.1": true, "libpthread.so.0": true,
	"libdl.so.2": true, "librt.so.1": true, "libutil.so.1": true, "libresolv.so.2": true,
	"libanl.so.1": true, "libBrokenLocale.so.1": true, "libthread_db.so.1": true,
	"libc_malloc_debug.so.0": true, "ld-linux-x86-64.so.2": true, "ld-linux-aarch64.so.1": true,
}

// isELF reports whether data starts with the ELF magic.
func isELF(data []byte) bool { return bytes.HasPrefix(data, []byte(elf.ELFMAG)) }

// elfNeeds returns the DT_NEEDED libraries of an ELF file that glibc does
// not provide. It fails when the file needs a glibc symbol version newer
// than maxGlibc, which would make glibcDepends a lie.
func elfNeeds(data []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read ELF: %w", err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		return nil, fmt.Errorf("read ELF dynamic section: %w", err)
	}
	var needs []string
	for _, l := range libs {
		if !glibcSonames[l] {
			needs = append(needs, l)
		}
	}
	syms, err := f.ImportedSymbols()
	if err != nil && len(libs) > 0 {
		return nil, fmt.Errorf("read ELF imported symbols: %w", err)
	}
	for _, s := range syms {
		if v, ok := strings.CutPrefix(s.Version, "GLIBC_"); ok && newerGlibc(v, maxGlibc) {
			return nil, fmt.Errorf("symbol %s needs GLIBC_%s, newer than the %s declared in %q", s.Name, v, maxGlibc, glibcDepends)
		}
	}
	return needs, nil
}

// newerGlibc compares dotted glibc versions ("2.36") numerically.
func newerGlibc(v, than string) bool {
	a, b := strings.Split(v, "."), strings.Split(than, ".")
	for i := 0; i < len(a) || i < len(b); i++ {
		x, y := glibcPart(a, i), glibcPart(b, i)
		if x != y {
			return x > y
		}
	}
	return false
}

// glibcPart is the i-th number of a split version, 0 when missing or not a number.
func glibcPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, _ := strconv.Atoi(parts[i])
	return n
}

// setRPath returns the ELF file data with its run path set to rpath by
// patchelf. --force-rpath writes DT_RPATH like conda-build does: unlike
// DT_RUNPATH it also serves the libraries the file loads, and it wins over
// LD_LIBRARY_PATH.
func setRPath(ctx context.Context, tmpDir string, data []byte, rpath string) ([]byte, error) {
	f, err := os.CreateTemp(tmpDir, "patchelf-*")
	if err != nil {
		return nil, err
	}
	name := f.Name()
	defer os.Remove(name)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "patchelf", "--force-rpath", "--set-rpath", rpath, name).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("patchelf --set-rpath %s: %w: %s", rpath, err, lastLines(out, 3))
	}
	return os.ReadFile(name)
}
