package virtualpkgs

import (
	"fmt"
	"io/fs"
	"regexp"
)

// glibcBanner is the version glibc prints when libc.so.6 is run as a
// program ("GNU C Library (Debian GLIBC 2.36-9) stable release version
// 2.36."). The text is in the file, so reading it needs neither cgo
// (gnu_get_libc_version) nor running a program; it has been there in every
// glibc release since 2.0, before and after libc.so.6 stopped being a
// symlink to libc-<version>.so in 2.34.
var glibcBanner = regexp.MustCompile(`release version (\d+\.\d+(?:\.\d+)?)`)

// glibcVersion returns the version of the first glibc found in the
// library folders under root, or "" when there is none (musl-based
// systems such as Alpine, or a libc.so.6 that is not glibc).
func glibcVersion(root fs.FS) (string, error) {
	for _, p := range findLib(root, "libc.so.6") {
		data, err := fs.ReadFile(root, p)
		if err != nil {
			return "", fmt.Errorf("read glibc version from /%s: %w", p, err)
		}
		// The regexp's literal prefix makes this a fast substring search.
		if m := glibcBanner.FindSubmatch(data); m != nil {
			return string(m[1]), nil
		}
		// No banner: not glibc (gcompat's libc.so.6 on Alpine); go on.
	}
	return "", nil
}
