package repodata

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/condabox/condabox/internal/testchannel"
	"github.com/condabox/condabox/pkg/conda"
)

type nopCloser struct{ io.ReaderAt }

func (nopCloser) Close() error { return nil }

// checkAgainstLazy scans data and checks that every name pkg/conda's full
// decoder finds gives the same records through the scan's spans.
func checkAgainstLazy(t *testing.T, data []byte, r io.Reader) {
	t.Helper()
	lazy, lazyErr := conda.NewLazyRepoData(data)
	ix, err := scanIndex(r)
	if lazyErr != nil {
		return // the scan checks less; it may accept what the decoder rejects
	}
	if err != nil {
		t.Fatalf("scan rejects what pkg/conda accepts: %v", err)
	}
	src := &jsonSource{file: nopCloser{bytes.NewReader(data)}, ix: ix}
	for _, name := range lazy.Names() {
		want, werr := lazy.Records(name)
		got, gerr := src.records(t.Context(), name)
		if (werr != nil) != (gerr != nil) || !reflect.DeepEqual(got, want) {
			t.Fatalf("records of %q:\n got %v (%v)\nwant %v (%v)", name, got, gerr, want, werr)
		}
	}
}

func TestScanRealRepodata(t *testing.T) {
	for _, rel := range []string{
		"repodata/conda-forge-numpy/linux-64/repodata.json",
		"repodata/pytorch/linux-64/repodata.json",
		"repodata/sudoku/noarch/repodata.json",
	} {
		t.Run(rel, func(t *testing.T) {
			data, err := os.ReadFile(testchannel.RealData(t, strings.Split(rel, "/")...))
			if err != nil {
				t.Fatal(err)
			}
			// One byte at a time stresses every refill boundary.
			checkAgainstLazy(t, data, iotest.OneByteReader(bytes.NewReader(data)))
		})
	}
}

func TestScan(t *testing.T) {
	tests := []struct {
		name, doc string
		want      map[string]int // records per name
		wantErr   string
	}{
		{"empty object", `{}`, map[string]int{}, ""},
		{"both sections", `{"info":{"subdir":"noarch"},"packages":{"a-1-0.tar.bz2":{"name":"a"}},"packages.conda":{"a-2-0.conda":{"name":"a"},"b-1-0.conda":{"depends":["a"],"name":"b"}}}`,
			map[string]int{"a": 2, "b": 1}, ""},
		{"escaped name and key", `{"packages.conda":{"\u0061-1-0.conda":{"na\u006de":"\u0061","x":"\"\\"}}}`, map[string]int{"a": 1}, ""},
		{"case folded keys", `{"PACKAGES":{"a-1-0.tar.bz2":{"Name":"a"}}}`, map[string]int{"a": 1}, ""},
		{"nested values skipped", ` {"x":[1,-2.5e3,true,false,null,{"y":[]}],"packages":{"a-1-0.tar.bz2":{"name":"a","z":{"q":[[]]}}}} `, map[string]int{"a": 1}, ""},
		{"null section", `{"packages":null}`, map[string]int{}, ""},
		{"null drops the section so far", `{"packages":{"x.tar.bz2":{"name":"a"}},"packages.conda":{"x.conda":{"name":"a"}},"packages":null,"packages":{"y.tar.bz2":{"name":"a"}}}`, map[string]int{"a": 2}, ""},
		{"not an object", `[]`, nil, "document starts with '[', want an object at offset 0"},
		{"truncated", `{"packages":{"a-1-0.tar.bz2":{"name":"a"`, nil, `record "a-1-0.tar.bz2": invalid JSON: unexpected end of input, want ',' or '}' at offset 40`},
		{"unterminated string", `{"packages":{"a-1-0.tar.bz2":{"name":"a`, nil, "unterminated string"},
		{"record not an object", `{"packages":{"a.conda":[]}}`, nil, `record "a.conda": invalid JSON: unexpected '[', want a record object at offset 23`},
		{"name not a string", `{"packages":{"a.conda":{"name":1}}}`, nil, "name starts with '1', want a string"},
		{"no name", `{"packages":{"a.conda":{"version":"1"}}}`, map[string]int{"": 1}, ""},
		{"null name", `{"packages":{"a.conda":{"name":null}}}`, map[string]int{"": 1}, ""},
		{"bad escape", `{"x":"\q"}`, nil, `invalid escape "\\q"`},
		{"bad literal", `{"x":nul}`, nil, "invalid literal, want null"},
		{"missing colon", `{"x" 1}`, nil, "want ':' after a key"},
		{"trailing data", `{} {}`, nil, "data after the document at offset 3"},
		{"missing comma", `{"x":1 "y":2}`, nil, "want ',' or '}'"},
		{"bad array", `{"x":[1 2]}`, nil, "want ',' or ']'"},
		{"too deep", `{"x":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`, nil, "nested too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := scanIndex(iotest.HalfReader(strings.NewReader(tt.doc)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errSyntax) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for name, id := range ix.ids {
				got[name] = len(ix.spans[id])
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("names %v, want %v", got, tt.want)
			}
			checkAgainstLazy(t, []byte(tt.doc), strings.NewReader(tt.doc))
		})
	}
}

func TestScanReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := scanIndex(io.MultiReader(strings.NewReader(`{"packages":{`), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || errors.Is(err, errSyntax) || !strings.Contains(err.Error(), "read at offset 13") {
		t.Errorf("err = %v, want the read error, not a syntax error", err)
	}
}

func FuzzScanIndex(f *testing.F) {
	f.Add([]byte(`{"info":{"subdir":"noarch"},"packages":{"a-1-0.tar.bz2":{"name":"a","depends":["b >1"]}},"packages.conda":{"a-2-0.conda":{"name":"a","version":"2"}}}`))
	f.Add([]byte(`{"packages":{"a.conda":{"name":"a"}},"packages":null}`))
	f.Add([]byte(`{"packages.conda":{"x.conda":{"name":"a"},"x.conda":{"name":"b"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstLazy(t, data, iotest.HalfReader(bytes.NewReader(data)))
	})
}
