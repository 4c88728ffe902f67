package realistic

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// debEntry is one file, symlink or directory of a Debian package's data
// tarball. Name is relative and slash-separated ("usr/bin/jq").
type debEntry struct {
	Name       string
	Mode       fs.FileMode // permission bits plus fs.ModeSymlink or fs.ModeDir
	Data       []byte
	LinkTarget string
}

// candidateVersions asks apt for the version it would download of each
// Debian package. When apt's package lists are empty (a fresh container) it
// runs `apt-get update` once and asks again.
func candidateVersions(ctx context.Context, names []string, logf func(string, ...any)) (map[string]string, error) {
	versions, missing, err := aptPolicy(ctx, names)
	if err != nil || len(missing) == 0 {
		return versions, err
	}
	logf("realistic: apt knows no version of %s; running apt-get update", strings.Join(missing, ", "))
	if out, err := exec.CommandContext(ctx, "apt-get", "update").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("apt-get update: %w: %s", err, lastLines(out, 5))
	}
	versions, missing, err = aptPolicy(ctx, names)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("apt-cache policy: no candidate version for %s (is a Debian 12 source in /etc/apt/sources.list?)", strings.Join(missing, ", "))
	}
	return versions, nil
}

// aptPolicy runs `apt-cache policy` once for all names and returns the
// candidate versions, plus the names apt has no candidate for.
func aptPolicy(ctx context.Context, names []string) (versions map[string]string, missing []string, err error) {
	cmd := exec.CommandContext(ctx, "apt-cache", append([]string{"policy"}, names...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C") // the parser reads the English keys
	out, err := cmd.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("apt-cache policy: %w", err)
	}
	versions = parsePolicy(string(out))
	for _, n := range names {
		if versions[n] == "" {
			missing = append(missing, n)
		}
	}
	return versions, missing, nil
}

// parsePolicy reads `apt-cache policy` output: a "name:" line at column 0
// starts a package, and its "  Candidate: V" line gives the version. A
// candidate of "(none)" means apt knows the name but has no version of it.
func parsePolicy(out string) map[string]string {
	versions := map[string]string{}
	var current string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line != "" && line[0] != ' ' && strings.HasSuffix(line, ":") {
			current = strings.TrimSuffix(line, ":")
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Candidate:"); ok && current != "" {
			if v = strings.TrimSpace(v); v != "" && v != "(none)" {
				versions[current] = v
			}
		}
	}
	return versions
}

// debGlob is the pattern of the file `apt-get download` writes for a package
// version: name_version_arch.deb with the epoch colon escaped as %3a.
func debGlob(name, version string) string {
	return name + "_" + strings.ReplaceAll(version, ":", "%3a") + "_*.deb"
}

// findDeb returns the cached .deb of name at version, or "" when absent.
func findDeb(dir, name, version string) (string, error) {
	m, err := filepath.Glob(filepath.Join(dir, debGlob(name, version)))
	if err != nil || len(m) == 0 {
		return "", err
	}
	return m[0], nil
}

// downloadDebs makes sure dir holds the .deb of every name at its version,
// fetching the missing ones with one `apt-get download` call. Files are
// downloaded into a temporary directory first so an interrupted run never
// leaves a truncated .deb in the cache.
func downloadDebs(ctx context.Context, dir string, versions map[string]string, names []string, logf func(string, ...any)) (map[string]string, error) {
	paths := map[string]string{}
	var want []string
	for _, n := range names {
		p, err := findDeb(dir, n, versions[n])
		if err != nil {
			return nil, err
		}
		if p == "" {
			want = append(want, n+"="+versions[n])
		}
		paths[n] = p
	}
	if len(want) > 0 {
		logf("realistic: apt-get download %d Debian packages", len(want))
		tmp, err := os.MkdirTemp(dir, ".download-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		// apt drops privileges to _apt, which cannot write into a private
		// cache directory; running the download as root is what apt itself
		// falls back to, without the warning.
		args := append([]string{"download", "-q", "-o", "APT::Sandbox::User=root"}, want...)
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("apt-get download %s: %w: %s", strings.Join(want, " "), err, lastLines(out, 5))
		}
		files, err := os.ReadDir(tmp)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := os.Rename(filepath.Join(tmp, f.Name()), filepath.Join(dir, f.Name())); err != nil {
				return nil, err
			}
		}
	}
	for _, n := range names {
		if paths[n] != "" {
			continue
		}
		p, err := findDeb(dir, n, versions[n])
		if err != nil {
			return nil, err
		}
		if p == "" {
			return nil, fmt.Errorf("apt-get download %s=%s: no %s in %s afterwards", n, versions[n], debGlob(n, versions[n]), dir)
		}
		paths[n] = p
	}
	return paths, nil
}

// readDeb returns the entries of a .deb's data tarball, read through
// `dpkg-deb --fsys-tarfile` so every compression Debian uses is handled.
// Hard links become copies of their target's data.
func readDeb(ctx context.Context, debPath string) ([]debEntry, error) {
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", debPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w", debPath, err)
	}
	entries, readErr := readDataTar(stdout)
	io.Copy(io.Discard, stdout) // let dpkg-deb finish even if the tar reader stopped early
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w: %s", debPath, err, lastLines(stderr.Bytes(), 3))
	}
	if readErr != nil {
		return nil, fmt.Errorf("read data of %s: %w", debPath, readErr)
	}
	return entries, nil
}

// readDataTar reads a Debian data tarball ("./usr/bin/x" names).
func readDataTar(r io.Reader) ([]debEntry, error) {
	var entries []debEntry
	byName := map[string]int{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if name == "" {
			continue // the "./" root entry
		}
		e := debEntry{Name: name, Mode: fs.FileMode(h.Mode).Perm()}
		switch h.Typeflag {
		case tar.TypeDir:
			e.Mode |= fs.ModeDir
		case tar.TypeSymlink:
			e.Mode = fs.ModeSymlink | 0o777
			e.LinkTarget = h.Linkname
		case tar.TypeLink:
			target := strings.TrimPrefix(path.Clean("/"+h.Linkname), "/")
			i, ok := byName[target]
			if !ok {
				return nil, fmt.Errorf("hard link %s: target %s not seen before it", name, h.Linkname)
			}
			e.Mode, e.Data = entries[i].Mode, entries[i].Data // one inode: the target's mode
		case tar.TypeReg:
			if e.Data, err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		default:
			return nil, fmt.Errorf("%s: unsupported tar entry type %q", name, h.Typeflag)
		}
		byName[name] = len(entries)
		entries = append(entries, e)
	}
}

// condaVersion turns a Debian version into the upstream version conda-forge
// would publish: epoch, Debian revision and repack suffixes go
// ("1:1.2.13.dfsg-1" → "1.2.13", "3.0.17-1~deb12u2" → "3.0.17").
func condaVersion(debVersion string) (string, error) {
	v := debVersion
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	if i := strings.IndexAny(v, "+~"); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSuffix(v, ".dfsg")
	if v == "" {
		return "", fmt.Errorf("conda version of Debian version %q: no upstream version left", debVersion)
	}
	if _, err := conda.ParseVersion(v); err != nil {
		return "", fmt.Errorf("conda version of Debian version %q: %w", debVersion, err)
	}
	return v, nil
}

// lastLines returns the last n lines of a command's output, for errors.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
