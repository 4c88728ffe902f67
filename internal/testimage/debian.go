package testimage

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// The bases. Minbase is what mmdebstrap's minbase variant gives; Slim and
// Distroless imitate the bases users really start from.
var (
	// Minbase is plain mmdebstrap --variant=minbase, the earlier tests'
	// base: it also holds usrmerge and perl, and all docs, man pages and
	// locales (170 MB).
	Minbase = &Rootfs{Name: "minbase", file: "bookworm-minbase.tar",
		build: buildMinbase, env: []string{pathEnv}, cmd: []string{"bash"}}
	// Slim is built as Docker's official debian:bookworm-slim is
	// (debuerreotype): minbase with merged /usr set up as debootstrap does
	// (the usr-is-merged package, no usrmerge and perl-modules), the slim
	// variant's dpkg path filters applied and kept in /etc/dpkg/dpkg.cfg.d,
	// no apt lists or caches.
	Slim = &Rootfs{Name: "slim", file: "bookworm-slim-2.tar", build: buildSlim,
		env: []string{pathEnv}, cmd: []string{"bash"}}
	// Distroless imitates gcr.io/distroless/cc-debian12: the files of
	// distrolessPackages (filtered as Slim's), a CA bundle, passwd and group
	// with root, nobody and nonroot (65532), /tmp; no shell, no apt, no dpkg
	// database.
	Distroless = &Rootfs{Name: "distroless", file: "distroless-cc-debian12-1.tar", build: buildDistroless,
		env: []string{pathEnv, "SSL_CERT_FILE=" + caBundle}}
)

// Bases are the bases by name.
var Bases = map[string]*Rootfs{Minbase.Name: Minbase, Slim.Name: Slim, Distroless.Name: Distroless}

const (
	pathEnv  = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	caBundle = "/etc/ssl/certs/ca-certificates.crt"
	// epoch is the time of the files the recipes write themselves, and
	// mmdebstrap's SOURCE_DATE_EPOCH: the same packages give the same tarball.
	epoch = 1700000000
)

// slimRules are dpkg path filters (dpkg(1) --path-exclude/--path-include:
// later rules win) of debuerreotype's slim variant: no docs but the
// copyright files, no man or info pages, no translations.
var slimRules = []string{
	"path-exclude=/usr/share/doc/*",
	"path-exclude=/usr/share/groff/*",
	"path-exclude=/usr/share/info/*",
	"path-exclude=/usr/share/linda/*",
	"path-exclude=/usr/share/lintian/overrides/*",
	"path-exclude=/usr/share/locale/*",
	"path-exclude=/usr/share/man/*",
	"path-include=/usr/share/doc/*/copyright",
	"path-include=/usr/share/doc/kde/HTML/C/*",
	"path-include=/usr/share/gnome/help/*/C/*",
	"path-include=/usr/share/locale/all_languages",
	"path-include=/usr/share/locale/currency/*",
	"path-include=/usr/share/locale/l10n/*",
	"path-include=/usr/share/locale/languages",
	"path-include=/usr/share/locale/locale.alias",
	"path-include=/usr/share/omf/*/*-C.emf",
}

// buildMinbase writes mmdebstrap's minbase variant to out.
func buildMinbase(ctx context.Context, out string, log io.Writer) error {
	if err := lookTools(map[string]string{"mmdebstrap": "mmdebstrap"}); err != nil {
		return err
	}
	cmd := mmdebstrap(ctx, out, log, "--variant=minbase")
	cmd.Stdout = log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("mmdebstrap: %w", err)
	}
	return nil
}

// buildSlim writes Slim to out. dpkg's filters leave out the packages'
// files; mmtarfilter then removes the matching files that maintainer
// scripts made (usr/share/info/dir), as debuerreotype's slimify does.
func buildSlim(ctx context.Context, out string, log io.Writer) error {
	if err := lookTools(map[string]string{"mmdebstrap": "mmdebstrap", "mmtarfilter": "mmdebstrap"}); err != nil {
		return err
	}
	args := []string{"--variant=minbase", "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr"}
	for _, r := range slimRules {
		args = append(args, "--dpkgopt="+r)
	}
	// mmdebstrap removes the apt lists and .debs itself; these are the
	// host's (resolv.conf, hostname) or leftovers of the installation.
	args = append(args, `--customize-hook=rm -f "$1"/etc/resolv.conf "$1"/etc/hostname "$1"/var/cache/apt/*.bin "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old`)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := slimFilter(ctx, mmdebstrap(ctx, "-", log, args...), log, func(r io.Reader) error {
		_, err := io.Copy(f, r)
		return err
	}); err != nil {
		return err
	}
	return f.Close()
}

// mmdebstrap is the command writing a bookworm root file system made with
// args to out ("-": standard output); its messages on standard error go
// to log.
func mmdebstrap(ctx context.Context, out string, log io.Writer, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "mmdebstrap", append(append([]string{"--quiet"}, args...), "bookworm", out)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", epoch))
	cmd.Stderr = log
	return cmd
}

// slimFilter runs src, which writes a tarball to its standard output,
// filters that by slimRules with mmtarfilter and hands the result to read.
// The commands' messages go to log.
func slimFilter(ctx context.Context, src *exec.Cmd, log io.Writer, read func(io.Reader) error) error {
	args := make([]string, len(slimRules))
	for i, r := range slimRules {
		args[i] = "--" + r
	}
	filter := exec.CommandContext(ctx, "mmtarfilter", args...)
	pipe, err := src.StdoutPipe()
	if err != nil {
		return err
	}
	filter.Stdin, src.Stderr, filter.Stderr = pipe, log, log
	filtered, err := filter.StdoutPipe()
	if err != nil {
		return err
	}
	if err := src.Start(); err != nil {
		return err
	}
	if err := filter.Start(); err != nil {
		src.Wait()
		return err
	}
	readErr := read(filtered)
	io.Copy(io.Discard, filtered) // after a read error, let the commands finish
	srcErr, filterErr := src.Wait(), filter.Wait()
	if err := errors.Join(readErr, srcErr, filterErr); err != nil {
		return fmt.Errorf("%s | mmtarfilter: %w", strings.Join(src.Args, " "), err)
	}
	return nil
}

// distrolessPackages are gcr.io/distroless/cc-debian12's Debian packages:
// its base image's (libssl3 included) and the C++ runtime. The realistic
// channel's programs need only glibc (their other libraries are conda
// packages); libgcc-s1 is also what glibc loads to unwind threads.
var distrolessPackages = []string{"base-files", "netbase", "tzdata", "ca-certificates", "libc6", "libgcc-s1", "libstdc++6", "libssl3"}

// rootFile is a file or directory a recipe writes itself.
type rootFile struct {
	hdr  tar.Header
	data string
}

// distrolessFiles are what distroless has beside its packages' files.
// They are written first: the directories' modes win over the packages'.
var distrolessFiles = []rootFile{
	{tar.Header{Name: "./etc/passwd", Mode: 0o644}, "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"},
	{tar.Header{Name: "./etc/group", Mode: 0o644}, "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n"},
	{tar.Header{Name: "./etc/nsswitch.conf", Mode: 0o644}, "passwd: files\ngroup: files\nhosts: files dns\n"},
	{tar.Header{Name: "./home/nonroot/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 65532, Gid: 65532}, ""},
	{tar.Header{Name: "./root/", Typeflag: tar.TypeDir, Mode: 0o700}, ""},
	{tar.Header{Name: "./tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}, ""},
}

// buildDistroless downloads distrolessPackages with apt-get (the host's
// sources: Debian 12 here) and writes distrolessFiles, the packages' files
// filtered by slimRules with mmtarfilter, and a CA bundle to one tarball at
// out. Maintainer scripts do not run (there is no shell to run them), so
// the bundle that ca-certificates' postinst would make is made here.
func buildDistroless(ctx context.Context, out string, log io.Writer) error {
	if err := lookTools(map[string]string{"apt-get": "apt", "dpkg-deb": "dpkg", "mmtarfilter": "mmdebstrap"}); err != nil {
		return err
	}
	dir := filepath.Dir(out)
	get := exec.CommandContext(ctx, "apt-get", append([]string{"download", "-q", "-o", "APT::Sandbox::User=root"}, distrolessPackages...)...)
	get.Dir, get.Stdout, get.Stderr = dir, log, log
	if err := get.Run(); err != nil {
		return fmt.Errorf("apt-get download %s: %w", strings.Join(distrolessPackages, " "), err)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := &rootfsWriter{tw: tar.NewWriter(f), seen: map[string]bool{}}
	if err := w.addFiles(distrolessFiles); err != nil {
		return err
	}
	for _, pkg := range distrolessPackages {
		debs, err := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
		if err != nil || len(debs) != 1 {
			return fmt.Errorf("apt-get download %s: want one %s_*.deb in %s, found %q", pkg, pkg, dir, debs)
		}
		if err := w.addDeb(ctx, debs[0], log); err != nil {
			return err
		}
	}
	if len(w.certs) == 0 {
		return errors.New("ca-certificates: no certificates under usr/share/ca-certificates/mozilla")
	}
	if err := w.addFiles([]rootFile{{tar.Header{Name: "." + caBundle, Mode: 0o644}, strings.Join(w.certs, "")}}); err != nil {
		return err
	}
	if err := w.tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// rootfsWriter merges the data of .debs into one tarball.
type rootfsWriter struct {
	tw *tar.Writer
	// seen holds the paths written (cleaned): packages share directories.
	seen map[string]bool
	// certs are ca-certificates' PEM certificates, in the package's order.
	certs []string
}

// addDeb writes the files of the .deb at deb, filtered by slimRules.
func (w *rootfsWriter) addDeb(ctx context.Context, deb string, log io.Writer) error {
	return slimFilter(ctx, exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", deb), log, w.addTar)
}

// addFiles writes files dated epoch.
func (w *rootfsWriter) addFiles(files []rootFile) error {
	for _, file := range files {
		hdr := file.hdr
		if hdr.Typeflag == 0 {
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(file.data))
		}
		hdr.ModTime = time.Unix(epoch, 0)
		if err := w.add(&hdr, strings.NewReader(file.data)); err != nil {
			return err
		}
	}
	return nil
}

// addTar writes the entries of the tar stream r, keeping the certificates.
func (w *rootfsWriter) addTar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var body io.Reader = tr
		if hdr.Typeflag == tar.TypeReg && path.Dir(hdr.Name) == "usr/share/ca-certificates/mozilla" && strings.HasSuffix(hdr.Name, ".crt") {
			pem, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			w.certs = append(w.certs, string(pem))
			body = bytes.NewReader(pem)
		}
		if err := w.add(hdr, body); err != nil {
			return err
		}
	}
}

// add writes one entry. A directory seen again is skipped (the first
// one's mode wins); any other path seen again is an error: packages and
// recipe would disagree on a file.
func (w *rootfsWriter) add(hdr *tar.Header, body io.Reader) error {
	name := path.Clean(hdr.Name)
	if w.seen[name] {
		if hdr.Typeflag == tar.TypeDir {
			return nil
		}
		return fmt.Errorf("%s: written twice", hdr.Name)
	}
	w.seen[name] = true
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := io.Copy(w.tw, body)
	return err
}
