package image

import (
	"archive/tar"
	"context"
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
	l1, err := writeLayer(context.Background(), t.TempDir(), entries, epoch, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := writeLayer(context.Background(), t.TempDir(), entries, epoch, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	if l1.digest != l2.digest || l1.diffID != l2.diffID || l1.size != l2.size {
		t.Errorf("two writes differ: %v %v", l1, l2)
	}
	bad := []entry{{Name: "a", Type: tar.TypeReg, Data: []byte("xy"), Size: 1}}
	if _, err := writeLayer(context.Background(), t.TempDir(), bad, epoch, Gzip); err == nil {
		t.Error("an entry longer than its size was written")
	}
}
