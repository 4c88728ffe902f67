package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/zstd"
)

// te is one crafted tar entry.
type te struct {
	name string
	typ  byte
	body string
	link string
}

func file(name, body string) te      { return te{name: name, typ: tar.TypeReg, body: body} }
func dir(name string) te             { return te{name: name, typ: tar.TypeDir} }
func symlink(name, target string) te { return te{name: name, typ: tar.TypeSymlink, link: target} }
func hardlink(name, target string) te {
	return te{name: name, typ: tar.TypeLink, link: target}
}

// tarBytes writes entries as a tarball, trusting them blindly.
func tarBytes(t testing.TB, entries []te) []byte {
	t.Helper()
	b, err := tryTarBytes(entries)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tryTarBytes is tarBytes returning archive/tar's refusals.
func tryTarBytes(entries []te) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		body := []byte(e.body)
		if e.typ != tar.TypeReg {
			body = nil
		}
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(body)), Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("craft %q: %w", e.name, err)
		}
		if _, err := tw.Write(body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))

// zipMember is one member of a crafted .conda.
type zipMember struct {
	name string
	data []byte
}

// writeConda writes a .conda holding members, stored as conda does.
func writeConda(t testing.TB, path string, members ...zipMember) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

var validInfo = []te{file("info/index.json", `{"name":"x","version":"1","build":"0","build_number":0,"depends":[]}`)}

// craft writes info and payload entries as an archive named after format
// in a fresh directory and returns its path.
func craft(t testing.TB, format Format, info, payload []te) string {
	t.Helper()
	d := t.TempDir()
	if format == FormatConda {
		p := filepath.Join(d, "x-1-0.conda")
		writeConda(t, p,
			zipMember{"metadata.json", []byte(`{"conda_pkg_format_version": 2}`)},
			zipMember{"pkg-x-1-0.tar.zst", zstdEnc.EncodeAll(tarBytes(t, payload), nil)},
			zipMember{"info-x-1-0.tar.zst", zstdEnc.EncodeAll(tarBytes(t, info), nil)})
		return p
	}
	p := filepath.Join(d, "x-1-0.tar.bz2")
	var buf bytes.Buffer
	bw, err := bzip2.NewWriter(&buf, &bzip2.WriterConfig{Level: bzip2.BestSpeed})
	if err != nil {
		t.Fatal(err)
	}
	bw.Write(tarBytes(t, append(append([]te{}, info...), payload...)))
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHostileArchivesAreRejected(t *testing.T) {
	small := Limits{MaxEntrySize: 1000, MaxTotalSize: 1500, MaxEntries: 10, MaxRatio: 50, RatioFloor: 1}
	ratio := Limits{MaxRatio: 5, RatioFloor: 1000}
	zeros := strings.Repeat("\x00", 5000)
	tests := []struct {
		name    string
		payload []te
		limits  Limits
		want    error
		entry   string // the entry the error must name
	}{
		{"absolute path", []te{file("/etc/evil", "x")}, DefaultLimits, ErrUnsafePath, "/etc/evil"},
		{"dot-dot", []te{file("../evil", "x")}, DefaultLimits, ErrUnsafePath, "../evil"},
		{"inner dot-dot", []te{file("lib/../../evil", "x")}, DefaultLimits, ErrUnsafePath, "lib/../../evil"},
		{"absolute symlink", []te{symlink("lib/x", "/etc/passwd")}, DefaultLimits, ErrLinkEscape, "lib/x"},
		{"escaping symlink", []te{symlink("lib/x", "../../etc")}, DefaultLimits, ErrLinkEscape, "lib/x"},
		{"symlink escaping through a symlink", []te{symlink("d/up", ".."), symlink("d/x", "up/..")}, DefaultLimits, ErrLinkEscape, "d/x"},
		{"symlink escaping through a later symlink", []te{symlink("d/x", "up/.."), symlink("d/up", "..")}, DefaultLimits, ErrLinkEscape, "d/x"},
		{"symlink loop", []te{symlink("a", "b"), symlink("b", "a/c")}, DefaultLimits, ErrLinkEscape, ""},
		{"file below a symlink", []te{dir("real"), symlink("lib", "real"), file("lib/evil", "x")}, DefaultLimits, ErrUnsafePath, "lib/evil"},
		{"symlink over an implied directory", []te{file("lib/a", "x"), symlink("lib", "..")}, DefaultLimits, ErrDuplicate, "lib"},
		{"hardlink outside", []te{hardlink("lib/x", "../../etc/passwd")}, DefaultLimits, ErrLinkEscape, "lib/x"},
		{"absolute hardlink", []te{hardlink("lib/x", "/etc/passwd")}, DefaultLimits, ErrLinkEscape, "lib/x"},
		{"hardlink to nothing", []te{hardlink("lib/x", "lib/y")}, DefaultLimits, ErrLinkEscape, "lib/x"},
		{"hardlink to a symlink", []te{symlink("lib/s", "y"), hardlink("lib/x", "lib/s")}, DefaultLimits, ErrLinkEscape, "lib/x"},
		{"character device", []te{{name: "dev/tty", typ: tar.TypeChar}}, DefaultLimits, ErrSpecialFile, "dev/tty"},
		{"block device", []te{{name: "dev/sda", typ: tar.TypeBlock}}, DefaultLimits, ErrSpecialFile, "dev/sda"},
		{"fifo", []te{{name: "run/fifo", typ: tar.TypeFifo}}, DefaultLimits, ErrSpecialFile, "run/fifo"},
		{"duplicate file", []te{file("bin/a", "1"), file("bin/a", "2")}, DefaultLimits, ErrDuplicate, "bin/a"},
		{"duplicate via dot-slash", []te{file("bin/a", "1"), file("./bin/a", "2")}, DefaultLimits, ErrDuplicate, "./bin/a"},
		{"file then directory", []te{file("bin/a", "1"), dir("bin/a/")}, DefaultLimits, ErrDuplicate, "bin/a/"},
		{"entry over the size bound", []te{file("big", strings.Repeat("x", 1001))}, small, ErrTooLarge, "big"},
		{"total over the size bound", []te{file("a", strings.Repeat("x", 800)), file("b", strings.Repeat("y", 800))}, small, ErrTooLarge, "b"},
		{"compression ratio", []te{file("zeros", zeros)}, ratio, ErrTooLarge, "zeros"},
		{"too many entries", []te{dir("1"), dir("2"), dir("3"), dir("4"), dir("5"), dir("6"), dir("7"), dir("8"), dir("9"), dir("10")}, small, ErrTooLarge, ""}, // which entry depends on the order the tarballs are decoded in
	}
	for _, format := range []Format{FormatConda, FormatTarBz2} {
		for _, tt := range tests {
			t.Run(format.ext()+"/"+tt.name, func(t *testing.T) {
				path := craft(t, format, validInfo, tt.payload)
				dest := filepath.Join(filepath.Dir(path), "x-1-0")
				x := Extractor{Limits: tt.limits}
				err := x.Extract(context.Background(), path, dest)
				assertRejected(t, err, tt.want, path, tt.entry)
				// Nothing is left behind: only the archive remains.
				if es, _ := os.ReadDir(filepath.Dir(path)); len(es) != 1 {
					t.Errorf("left behind: %v", es)
				}
				err = x.Walk(context.Background(), path, func(*Header, io.Reader) error { return nil })
				assertRejected(t, err, tt.want, path, tt.entry)
				files, err := x.Load(context.Background(), path)
				if files != nil {
					t.Errorf("Load returned files of a rejected archive")
				}
				assertRejected(t, err, tt.want, path, tt.entry)
			})
		}
	}
}

// ext names a format in test names.
func (f Format) ext() string {
	if f == FormatConda {
		return "conda"
	}
	return "tar.bz2"
}

func assertRejected(t *testing.T, err, want error, archive, entry string) {
	t.Helper()
	var ae *Error
	switch {
	case err == nil:
		t.Fatalf("accepted, want %v", want)
	case !errors.Is(err, want) || !errors.As(err, &ae):
		t.Fatalf("error %v, want an *Error wrapping %v", err, want)
	case !Rejected(err):
		t.Errorf("Rejected(%v) = false", err)
	case ae.Archive != archive || !strings.Contains(err.Error(), archive):
		t.Errorf("error %q does not name the archive %s", err, archive)
	case entry != "" && (ae.Entry != entry || !strings.Contains(err.Error(), entry)):
		t.Errorf("error %q names entry %q, want %q", err, ae.Entry, entry)
	}
}

func TestCorruptConda(t *testing.T) {
	tests := []struct {
		name    string
		members []zipMember
		want    error
	}{
		{"no info tarball", []zipMember{{"pkg-x-1-0.tar.zst", zstdEnc.EncodeAll(tarBytes(t, nil), nil)}}, ErrCorrupt},
		{"two info tarballs", []zipMember{
			{"info-x-1-0.tar.zst", zstdEnc.EncodeAll(tarBytes(t, validInfo), nil)},
			{"info-y-1-0.tar.zst", zstdEnc.EncodeAll(tarBytes(t, validInfo), nil)}}, ErrDuplicate},
		{"duplicate zip member", []zipMember{
			{"info-x-1-0.tar.zst", zstdEnc.EncodeAll(tarBytes(t, validInfo), nil)},
			{"info-x-1-0.tar.zst", zstdEnc.EncodeAll(tarBytes(t, validInfo), nil)}}, ErrDuplicate},
		{"not zstd", []zipMember{{"info-x-1-0.tar.zst", []byte("plain text, not zstd")}}, ErrCorrupt},
		{"not a tarball", []zipMember{{"info-x-1-0.tar.zst", zstdEnc.EncodeAll(bytes.Repeat([]byte("junk"), 200), nil)}}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			path := filepath.Join(d, "x-1-0.conda")
			writeConda(t, path, tt.members...)
			err := Extract(context.Background(), path, filepath.Join(d, "x-1-0"))
			assertRejected(t, err, tt.want, path, "")
			if es, _ := os.ReadDir(d); len(es) != 1 {
				t.Errorf("left behind: %v", es)
			}
		})
	}
}

func TestCorruptTarBz2(t *testing.T) {
	payload := []te{file("lib/a", strings.Repeat("abcdefgh", 50_000)), file("lib/b", "tail")}
	path := craft(t, FormatTarBz2, validInfo, payload)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err = Extract(context.Background(), path, filepath.Join(filepath.Dir(path), "x-1-0"))
	assertRejected(t, err, ErrCorrupt, path, "")
	if es, _ := os.ReadDir(filepath.Dir(path)); len(es) != 1 {
		t.Errorf("left behind: %v", es)
	}
}
