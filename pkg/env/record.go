package env

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// packageExtensions are the package file formats conda installs.
var packageExtensions = []string{".conda", ".tar.bz2"}

// splitFileName splits a package file name "name-version-build.ext" into
// its parts. The name may hold dashes; version and build may not.
func splitFileName(fn string) (name, version, build string, err error) {
	stem := ""
	for _, ext := range packageExtensions {
		if s, ok := strings.CutSuffix(fn, ext); ok {
			stem = s
			break
		}
	}
	if stem == "" {
		return "", "", "", fmt.Errorf("package file name %q: not a .conda or .tar.bz2 file", fn)
	}
	i := strings.LastIndexByte(stem, '-')
	j := -1
	if i > 0 {
		j = strings.LastIndexByte(stem[:i], '-')
	}
	if j <= 0 || i == j+1 || i == len(stem)-1 {
		return "", "", "", fmt.Errorf("package file name %q: want name-version-build%s", fn, fn[len(stem):])
	}
	return stem[:j], stem[j+1 : i], stem[i+1:], nil
}

// recordFromURL returns the record a package URL names: name, version and
// build from its file name, subdir and channel from its path.
func recordFromURL(url string) (conda.PackageRecord, error) {
	slash := strings.LastIndexByte(url, '/')
	if slash < 0 {
		return conda.PackageRecord{}, fmt.Errorf("package URL %q: no folder before the file name", url)
	}
	dir, fn := url[:slash], url[slash+1:]
	name, version, build, err := splitFileName(fn)
	if err != nil {
		return conda.PackageRecord{}, fmt.Errorf("package URL %q: %w", url, err)
	}
	v, err := conda.ParseVersion(version)
	if err != nil {
		return conda.PackageRecord{}, fmt.Errorf("package URL %q: %w", url, err)
	}
	ch, err := conda.ParseChannel(dir, conda.ChannelConfig{})
	if err != nil {
		return conda.PackageRecord{}, fmt.Errorf("package URL %q: %w", url, err)
	}
	r := conda.PackageRecord{
		Name:     name,
		Version:  v,
		Build:    build,
		Subdir:   string(ch.Platform()),
		FileName: fn,
		URL:      url,
		Channel:  ch.Name(),
	}
	// A package outside a platform folder (mamba's tests have some) keeps
	// the folder as its channel; the file it came from may name its subdir.
	if r.Subdir != "" {
		r.Channel = ch.RecordChannel(ch.Platform())
	}
	return r, nil
}

// checkDigest reports whether s is empty or a lower- or upper-case hex
// digest of n bytes; what names the digest in the error.
func checkDigest(what, s string, n int) error {
	if s == "" {
		return nil
	}
	if b, err := hex.DecodeString(s); err != nil || len(b) != n {
		return fmt.Errorf("%s %q: want %d hex digits", what, s, 2*n)
	}
	return nil
}

// setDigests validates md5 and sha256 and stores them lower-cased in r.
func setDigests(r *conda.PackageRecord, md5, sha256 string) error {
	if err := checkDigest("md5", md5, 16); err != nil {
		return err
	}
	if err := checkDigest("sha256", sha256, 32); err != nil {
		return err
	}
	r.MD5, r.SHA256 = strings.ToLower(md5), strings.ToLower(sha256)
	return nil
}
