package pkgbuild

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/condabox/condabox/pkg/conda"
)

// FuzzWrite feeds arbitrary paths, link targets and placeholders to Write:
// it must never panic, and whatever it accepts must stay inside the prefix
// and be described exactly by paths.json and has_prefix.
func FuzzWrite(f *testing.F) {
	f.Add("bin/a", "lib/b", "../bin/a", "/opt/ph", true)
	f.Add("a", "a/b", "..", "", true)
	f.Add("x y/z", "d/up", "../..", "/pl ace", false)
	f.Add("../a", "/abs", "/etc", "q\"", true)
	f.Fuzz(func(t *testing.T, filePath, otherPath, target, placeholder string, symlink bool) {
		other := File{Path: otherPath, Mode: 0o644, Data: []byte("other")}
		if symlink {
			other = File{Path: otherPath, Mode: fs.ModeSymlink, LinkTarget: target}
		}
		p := &Package{
			Record: conda.PackageRecord{Name: "fz", Version: conda.MustParseVersion("1"), Build: "0", Subdir: "noarch"},
			Files:  []File{{Path: filePath, Mode: 0o755, Data: []byte("data " + placeholder), PrefixPlaceholder: placeholder}, other},
		}
		var buf bytes.Buffer
		if _, err := Write(&buf, p, FormatConda); err != nil {
			return
		}
		got := readPackage(t, buf.Bytes(), FormatConda, p.Record.Dist())
		var paths conda.PathsJSON
		if err := json.Unmarshal([]byte(got["info/paths.json"].Data), &paths); err != nil {
			t.Fatalf("paths.json: %v", err)
		}
		listed := map[string]bool{}
		for _, e := range paths.Paths {
			listed[e.Path] = true
		}
		for name, e := range got {
			if strings.HasPrefix(name, "info/") {
				continue
			}
			if !listed[name] {
				t.Errorf("payload %q is not in paths.json", name)
			}
			if !inside(name) {
				t.Errorf("payload path %q leaves the prefix", name)
			}
			if e.Type == tar.TypeSymlink && !inside(path.Join(path.Dir(name), e.Link)) {
				t.Errorf("symlink %q -> %q leaves the prefix", name, e.Link)
			}
		}
		if len(listed) != len(got)-countInfo(got) {
			t.Errorf("paths.json lists %d paths, payload has %d", len(listed), len(got)-countInfo(got))
		}
		if placeholder != "" {
			fields := splitHasPrefix(strings.TrimSuffix(got["info/has_prefix"].Data, "\n"))
			if want := []string{placeholder, "text", filePath}; strings.Join(fields, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("has_prefix %q splits into %q, want %q", got["info/has_prefix"].Data, fields, want)
			}
		}
	})
}

func inside(p string) bool {
	return !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../")
}

func countInfo(m map[string]archived) int {
	n := 0
	for name := range m {
		if strings.HasPrefix(name, "info/") {
			n++
		}
	}
	return n
}

// splitHasPrefix splits a has_prefix line the way conda does (a shell-like
// split in non-POSIX mode, then quotes stripped from each field).
func splitHasPrefix(line string) []string {
	var fields []string
	for {
		line = strings.TrimLeft(line, " \t\r\n")
		if line == "" {
			return fields
		}
		if line[0] == '"' {
			end := strings.IndexByte(line[1:], '"')
			if end < 0 {
				return append(fields, line)
			}
			fields = append(fields, line[1:end+1])
			line = line[end+2:]
			continue
		}
		end := strings.IndexAny(line, " \t\r\n")
		if end < 0 {
			end = len(line)
		}
		fields = append(fields, line[:end])
		line = line[end:]
	}
}
