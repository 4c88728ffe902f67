package install

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/internal/testchannel/realistic"
	"github.com/condabox/condabox/pkg/archive"
	"github.com/condabox/condabox/pkg/conda"
)

// sharedRealdata returns ../shared/realdata beside the repository, found by
// walking up from the test's directory, or skips.
func sharedRealdata(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "shared", "realdata")); err == nil && st.IsDir() {
			return filepath.Join(dir, "shared", "realdata")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/realdata not found beside the repository: real-data tests skipped")
		}
		dir = parent
	}
}

// extractDir is where tests extract packages: one folder per archive per
// test process, shared by the tests as a package cache is.
var extractDir = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "condabox-install-test-pkgs-") })

var extractMu sync.Mutex

// extractPackage extracts a package archive into the test package cache
// with pkg/archive and writes info/repodata_record.json
// as the package cache does. channel is the record's channel URL.
func extractPackage(t testing.TB, archivePath, channel string) *Package {
	t.Helper()
	extractMu.Lock()
	defer extractMu.Unlock()
	root, err := extractDir()
	if err != nil {
		t.Fatal(err)
	}
	fn := filepath.Base(archivePath)
	dir := filepath.Join(root, strings.TrimSuffix(strings.TrimSuffix(fn, ".conda"), ".tar.bz2"))
	if _, err := os.Stat(filepath.Join(dir, "info", "repodata_record.json")); err != nil {
		if err := archive.Extract(context.Background(), archivePath, dir); err != nil {
			t.Fatal(err)
		}
		writeRepodataRecord(t, archivePath, dir, channel)
	}
	p, err := ReadPackage(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeRepodataRecord writes info/repodata_record.json from index.json and
// the archive's name, URL, size and digests.
func writeRepodataRecord(t testing.TB, archive, dir, channel string) {
	t.Helper()
	var rec map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "info", "index.json"))
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	m, s := md5.Sum(data), sha256.Sum256(data)
	fn := filepath.Base(archive)
	subdir, _ := rec["subdir"].(string)
	rec["fn"], rec["url"], rec["channel"] = fn, channel+"/"+subdir+"/"+fn, channel
	rec["md5"], rec["sha256"], rec["size"] = hex.EncodeToString(m[:]), hex.EncodeToString(s[:]), len(data)
	out, err := conda.IndentJSON(rec, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "info", "repodata_record.json"), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// realisticChannel builds the realistic test channel (.conda only) once
// per test process, or skips when the machine cannot.
var realisticChannel = sync.OnceValues(func() (string, error) {
	if os.Getuid() != 0 {
		return "", errSkip("realistic channel: apt-get download needs root")
	}
	if err := realistic.CheckTools(); err != nil {
		return "", errSkip(err.Error())
	}
	out, err := os.MkdirTemp("", "condabox-install-test-channel-")
	if err != nil {
		return "", err
	}
	channelDir = out
	opts := realistic.Options{CacheDir: filepath.Join(os.TempDir(), "condabox-realistic-test-cache"),
		Formats: []pkgbuild.Format{pkgbuild.FormatConda}}
	return out, realistic.Build(context.Background(), out, opts)
})

// channelDir is the built channel, removed by TestMain.
var channelDir string

type errSkip string

func (e errSkip) Error() string { return string(e) }

// realisticPackages extracts the named packages of the realistic channel
// and everything they depend on (the channel is built so that each name
// has one candidate, except the names in pick, chosen by
// "version=build_number").
func realisticPackages(t testing.TB, names []string, pick map[string]string) []*Package {
	t.Helper()
	if testing.Short() {
		t.Skip("realistic channel: builds from Debian packages; skipped with -short")
	}
	channel, err := realisticChannel()
	var skip errSkip
	if errors.As(err, &skip) {
		t.Skip(string(skip))
	}
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string][]conda.PackageRecord{}
	for _, subdir := range []string{"linux-64", "noarch"} {
		b, err := os.ReadFile(filepath.Join(channel, subdir, "repodata.json"))
		if err != nil {
			t.Fatal(err)
		}
		rd, err := conda.ParseRepoData(b)
		if err != nil {
			t.Fatal(err)
		}
		for fn, r := range rd.Conda {
			r.FileName = fn
			byName[r.Name] = append(byName[r.Name], r)
		}
	}
	var out []*Package
	seen := map[string]bool{}
	for len(names) > 0 {
		n := names[0]
		names = names[1:]
		if seen[n] || strings.HasPrefix(n, "__") {
			continue
		}
		seen[n] = true
		var chosen *conda.PackageRecord
		for i, r := range byName[n] {
			if pick[n] == "" && len(byName[n]) == 1 || pick[n] == fmt.Sprintf("%s=%d", r.Version, r.BuildNumber) {
				chosen = &byName[n][i]
			}
		}
		if chosen == nil {
			t.Fatalf("package %s: %d candidates, none chosen (pick %q)", n, len(byName[n]), pick[n])
		}
		out = append(out, extractPackage(t, filepath.Join(channel, chosen.Subdir, chosen.FileName), "file://"+channel))
		for _, d := range chosen.Depends {
			dep, _, _ := strings.Cut(d, " ")
			names = append(names, dep)
		}
	}
	return out
}

// checkConsistent verifies the crash-safety invariant on prefix: every
// file of every conda-meta record exists (with its recorded content for
// regular files) and every file of the prefix belongs to a record or is
// allowed.
func checkConsistent(t testing.TB, prefix string, allowed ...string) {
	t.Helper()
	recs, err := ReadPrefix(prefix)
	if err != nil {
		t.Fatal(err)
	}
	owned := map[string]bool{"conda-meta/history": true, "conda-meta/.condabox-lock": true}
	for _, a := range allowed {
		owned[a] = true
	}
	for _, r := range recs {
		owned["conda-meta/"+metaName(&r.PackageRecord)] = true
		for _, p := range r.PathsData.Paths {
			owned[p.Path] = true
			name := filepath.Join(prefix, filepath.FromSlash(p.Path))
			st, err := os.Lstat(name)
			if err != nil {
				t.Errorf("%s of %s: %v", p.Path, r.Dist(), err)
				continue
			}
			if p.PathType == conda.PathHardlink || p.PathType == PathUnixPythonEntryPoint {
				if !st.Mode().IsRegular() {
					t.Errorf("%s of %s is not a regular file", p.Path, r.Dist())
				} else if sum, err := fileSHA256(name); err != nil || sum != p.SHA256InPrefix {
					t.Errorf("%s of %s: sha256 %s, record says %s (%v)", p.Path, r.Dist(), sum, p.SHA256InPrefix, err)
				}
			}
		}
	}
	err = filepath.WalkDir(prefix, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(prefix, p)
		if rel = filepath.ToSlash(rel); !owned[rel] {
			t.Errorf("%s exists but no conda-meta record lists it", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// installedDists returns the dists of prefix's conda-meta records, sorted.
func installedDists(t testing.TB, prefix string) []string {
	t.Helper()
	recs, err := ReadPrefix(prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Dist())
	}
	return out
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childInstall())
	}
	code := m.Run()
	if dir, err := extractDir(); err == nil {
		os.RemoveAll(dir)
	}
	if channelDir != "" {
		os.RemoveAll(channelDir)
	}
	os.Exit(code)
}
