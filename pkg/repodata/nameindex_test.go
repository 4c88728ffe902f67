package repodata

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/server"
)

const nameIndexDoc = `{"info":{"subdir":"noarch"},"packages":{"a-1-0.tar.bz2":{"name":"a"}},"packages.conda":{"a-2-0.conda":{"name":"a"},"b-1-0.conda":{"name":"b"}}}`

func TestNameIndexRoundTrip(t *testing.T) {
	ix, err := scanIndex(strings.NewReader(nameIndexDoc))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.names")
	size := int64(len(nameIndexDoc))
	if err := writeNameIndex(path, size, 42, ix); err != nil {
		t.Fatal(err)
	}
	got, err := readNameIndex(path, size, 42)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		if !reflect.DeepEqual(got.lookup(name), ix.lookup(name)) {
			t.Errorf("%s: spans %v, want %v", name, got.lookup(name), ix.lookup(name))
		}
	}
	if string(got.info) != string(ix.info) {
		t.Errorf("info %s, want %s", got.info, ix.info)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		data        []byte
		size, mtime int64
		want        string
	}{
		{"other mtime", data, size, 43, "does not describe"},
		{"other size", data, size + 1, 42, "does not describe"},
		{"smaller file than spans", data, 10, 42, "does not describe"},
		{"bad magic", append([]byte("x"), data[1:]...), size, 42, "bad magic"},
		{"truncated", data[:len(data)-2], size, 42, "name index"},
		{"trailing bytes", append(append([]byte{}, data...), 0), size, 42, "after the end"},
		{"empty", nil, size, 42, "bad magic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeNameIndex(tt.data, tt.size, tt.mtime); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSavedNameIndex checks that a second load uses the saved index, and
// that a damaged one only costs a new scan.
func TestSavedNameIndex(t *testing.T) {
	s := serve(t, writeChannel(t, testRecords), server.Options{})
	pkgs := t.TempDir()
	opts := Options{DisableShards: true, TTL: 3600}
	first, err := load(t, newGateway(t, pkgs, opts), s.URL(), "pandas", "scipy")
	if err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(pkgs, "cache", "*.names"))
	if len(names) != 2 {
		t.Fatalf("saved name indexes %v, want 2", names)
	}
	for i, damage := range []func(path string) error{
		func(string) error { return nil },
		func(p string) error { return os.WriteFile(p, []byte("garbage"), 0o644) },
		os.Remove,
	} {
		for _, p := range names {
			if err := damage(p); err != nil {
				t.Fatal(err)
			}
		}
		var logs bytes.Buffer
		opts.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		again, err := load(t, newGateway(t, pkgs, opts), s.URL(), "pandas", "scipy")
		if err != nil {
			t.Fatal(err)
		}
		if scanned := strings.Count(logs.String(), "scanning cached repodata"); scanned != min(i, 1)*2 {
			t.Errorf("load %d scanned %d cached files, want %d:\n%s", i+2, scanned, min(i, 1)*2, logs.String())
		}
		if !reflect.DeepEqual(again.byName, first.byName) {
			t.Errorf("load %d differs from the first", i+2)
		}
		for _, p := range names {
			b, err := os.ReadFile(p)
			if err != nil || !strings.HasPrefix(string(b), nameIndexMagic) {
				t.Errorf("load %d: %s not saved again: %v", i+2, p, err)
			}
		}
	}
}

func FuzzDecodeNameIndex(f *testing.F) {
	ix, err := scanIndex(strings.NewReader(nameIndexDoc))
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "x.names")
	if err := writeNameIndex(path, int64(len(nameIndexDoc)), 1, ix); err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := decodeNameIndex(data, int64(len(nameIndexDoc)), 1)
		if err != nil {
			return
		}
		// Whatever decodes stays inside the data file.
		for _, spans := range ix.spans {
			for _, sp := range spans {
				if sp.off < 0 || sp.off+int64(sp.n) > int64(len(nameIndexDoc)) {
					t.Fatalf("span %+v outside the file", sp)
				}
			}
		}
	})
}
