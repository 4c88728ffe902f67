package repodata

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/condabox/condabox/internal/jsonscan"
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
		// Both validate the syntax with one tokenizer; only the lazy
		// decoder checks the types of "info", "removed" and
		// "repodata_version".
		if err == nil && !json.Valid(data) {
			t.Fatalf("scan accepts malformed JSON that pkg/conda rejects: %v", lazyErr)
		}
		return
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
		{"null document", `null`, map[string]int{}, ""},
		{"null record", `{"packages":{"a.conda":null}}`, map[string]int{"": 1}, ""},
		{"null name keeps the name", `{"packages":{"a.conda":{"name":"a","name":null}}}`, map[string]int{"a": 1}, ""},
		{"non-ASCII case fold", "{\"packageſ\":{\"a.conda\":{\"name\":\"a\"}}}", map[string]int{"a": 1}, ""},
		{"not an object", `[]`, nil, "offset 0: document: want an object, got list"},
		{"truncated", `{"packages":{"a-1-0.tar.bz2":{"name":"a"`, nil, `record "a-1-0.tar.bz2": offset 40: unexpected end of input after object key:value pair`},
		{"unterminated string", `{"packages":{"a-1-0.tar.bz2":{"name":"a`, nil, "offset 39: unexpected end of input in string literal"},
		{"record not an object", `{"packages":{"a.conda":[]}}`, nil, `record "a.conda": offset 23: record: want an object, got list`},
		{"section not an object", `{"packages.conda":"x"}`, nil, `offset 18: package section: want an object, got string`},
		{"name not a string", `{"packages":{"a.conda":{"name":1}}}`, nil, "offset 31: name: want a string, got number"},
		{"no name", `{"packages":{"a.conda":{"version":"1"}}}`, map[string]int{"": 1}, ""},
		{"null name", `{"packages":{"a.conda":{"name":null}}}`, map[string]int{"": 1}, ""},
		{"bad escape", `{"x":"\q"}`, nil, `offset 7: invalid character 'q' in string escape code`},
		{"control character in string", "{\"x\":\"a\tb\"}", nil, `offset 7: invalid character '\t' in string literal`},
		{"bad number", `{"x":01}`, nil, "offset 6: invalid character '1' after object key:value pair"},
		{"bad literal", `{"x":nul}`, nil, "offset 8: invalid character '}' in literal null"},
		{"missing colon", `{"x" 1}`, nil, "offset 5: invalid character '1' after object key"},
		{"trailing data", `{} {}`, nil, "offset 3: invalid character '{' after top-level value"},
		{"missing comma", `{"x":1 "y":2}`, nil, `offset 7: invalid character '"' after object key:value pair`},
		{"bad array", `{"x":[1 2]}`, nil, "offset 8: invalid character '2' after array element"},
		{"too deep", `{"x":` + strings.Repeat("[", jsonscan.MaxDepth) + strings.Repeat("]", jsonscan.MaxDepth) + `}`, nil, "exceeded max depth 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := scanIndex(iotest.HalfReader(strings.NewReader(tt.doc)))
			if tt.wantErr != "" {
				var jerr *jsonscan.Error
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &jerr) {
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
	var jerr *jsonscan.Error
	if !errors.Is(err, boom) || errors.As(err, &jerr) || !strings.Contains(err.Error(), "read at offset 13") {
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
