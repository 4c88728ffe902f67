package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"
)

func TestNormalMode(t *testing.T) {
	tests := []struct {
		e    entry
		want int64
	}{
		{entry{Type: tar.TypeReg, Mode: 0o600}, 0o644},
		{entry{Type: tar.TypeReg, Mode: 0o700}, 0o755},
		{entry{Type: tar.TypeReg, Mode: 0o777}, 0o755},
		{entry{Type: tar.TypeReg, Mode: 0o4755}, 0o755}, // no setuid
		{entry{Type: tar.TypeReg, Mode: 0o000}, 0o444},
		{entry{Type: tar.TypeDir}, 0o755},
		{entry{Type: tar.TypeDir, Mode: 0o1777}, 0o1777},
		{entry{Type: tar.TypeSymlink, Mode: 0o644}, 0o777},
	}
	for _, tt := range tests {
		if got := normalMode(&tt.e); got != tt.want {
			t.Errorf("normalMode(%c %o) = %o, want %o", tt.e.Type, tt.e.Mode, got, tt.want)
		}
	}
}

func TestSortEntries(t *testing.T) {
	in := []entry{
		{Name: "opt/conda/bin/b", Type: tar.TypeReg, Data: []byte("first")},
		{Name: "opt/conda/bin/a", Type: tar.TypeReg},
		{Name: "opt/conda/bin/b", Type: tar.TypeReg, Data: []byte("second")},
	}
	out := sortEntries(in)
	var names []string
	for _, e := range out {
		names = append(names, e.Name)
	}
	want := []string{"opt", "opt/conda", "opt/conda/bin", "opt/conda/bin/a", "opt/conda/bin/b"}
	if !slices.Equal(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	if string(out[4].Data) != "second" {
		t.Errorf("duplicate kept %q, want the last one", out[4].Data)
	}
}

func TestWriteLayerDeterministic(t *testing.T) {
	entries := sortEntries([]entry{{Name: "a/b", Type: tar.TypeReg, Data: []byte("x"), Size: 1}})
	epoch := time.Unix(42, 0)
	l1, err := writeLayer(context.Background(), t.TempDir(), entries, epoch, codec{Compression: Gzip})
	if err != nil {
		t.Fatal(err)
	}
	l2, err := writeLayer(context.Background(), t.TempDir(), entries, epoch, codec{Compression: Gzip})
	if err != nil {
		t.Fatal(err)
	}
	if l1.digest != l2.digest || l1.diffID != l2.diffID || l1.size != l2.size {
		t.Errorf("two writes differ: %v %v", l1, l2)
	}
	bad := []entry{{Name: "a", Type: tar.TypeReg, Data: []byte("xy"), Size: 1}}
	if _, err := writeLayer(context.Background(), t.TempDir(), bad, epoch, codec{Compression: Gzip}); err == nil {
		t.Error("an entry longer than its size was written")
	}
}

// A gzip layer of several blocks has the same bytes whatever the number of
// CPUs deflating them, a gzip header without name or time, and is one
// gzip stream any reader takes back to the tar that was written.
func TestWriteLayerGzipBlocks(t *testing.T) {
	big := make([]byte, 3*gzipBlock+12345)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = "abcdefgh"[rnd.IntN(8)] // compressible, but not trivially
	}
	entries := sortEntries([]entry{
		{Name: "opt/conda/big", Type: tar.TypeReg, Data: big, Size: int64(len(big))},
		{Name: "opt/conda/small", Type: tar.TypeReg, Data: []byte("x"), Size: 1},
	})
	defer func(n int) { gzipJobs = n }(gzipJobs)
	var layers []*fileLayer
	for _, jobs := range []int{1, 2, 7} {
		gzipJobs = jobs
		l, err := writeLayer(t.Context(), t.TempDir(), entries, time.Unix(42, 0), codec{Compression: Gzip})
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	for i, l := range layers[1:] {
		if l.digest != layers[0].digest || l.diffID != layers[0].diffID {
			t.Errorf("layer %d: digest %s diffID %s, want %s %s as with one job", i+1, l.digest, l.diffID, layers[0].digest, layers[0].diffID)
		}
	}
	raw, err := os.ReadFile(layers[0].path)
	if err != nil {
		t.Fatal(err)
	}
	if mtime := binary.LittleEndian.Uint32(raw[4:8]); raw[3] != 0 || mtime != 0 {
		t.Errorf("gzip header flags %#x mtime %d, want no name and mtime 0", raw[3], mtime)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw)) // compress/gzip: any engine's reader
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	tr := tar.NewReader(zr)
	got := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name], _ = io.ReadAll(tr)
	}
	if !bytes.Equal(got["opt/conda/big"], big) || string(got["opt/conda/small"]) != "x" {
		t.Errorf("read back %d and %q bytes, want %d and \"x\"", len(got["opt/conda/big"]), got["opt/conda/small"], len(big))
	}
	if rest, _ := io.ReadAll(zr); len(rest) != 0 {
		t.Errorf("%d bytes after the tar", len(rest))
	}
}
