package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// tokenizers returns a tokenizer over data for each way of reading it: in
// memory, and as streams that cut it at every byte or at random sizes.
func tokenizers(data []byte) map[string]*Tokenizer {
	return map[string]*Tokenizer{
		"bytes":    NewBytes(data),
		"one byte": NewReader(iotest.OneByteReader(bytes.NewReader(data))),
		"halves":   NewReader(iotest.HalfReader(bytes.NewReader(data))),
	}
}

// validate skips one top-level value and checks that nothing follows.
func validate(t *Tokenizer) error {
	if err := t.SkipValue(0); err != nil {
		return err
	}
	return t.End()
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, doc string
		wantErr   string // "" for valid JSON
	}{
		{"object", ` {"a": [1, -2.5e+3, 0.5E-1, true, false, null, "s", {}], "b": {"c": []}} `, ""},
		{"top-level scalars", `"x"`, ""},
		{"escapes", `"\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \udc00"`, ""},
		{"non-ASCII and invalid UTF-8", "\"caf\xc3\xa9 \xff\"", ""},
		{"long string", `"` + strings.Repeat("abcdefgh", 100) + `"`, ""},
		{"indentation", "{\n" + strings.Repeat(" ", 33) + "\"a\"\t:\r\n 1}", ""},
		{"empty input", ``, "offset 0: unexpected end of input looking for beginning of value"},
		{"only space", "  \n", "offset 3: unexpected end of input looking for beginning of value"},
		{"trailing data", `{} x`, "offset 3: invalid character 'x' after top-level value"},
		{"two values", `1 2`, "offset 2: invalid character '2' after top-level value"},
		{"unterminated string", `"abc`, "offset 4: unexpected end of input in string literal"},
		{"control character", "\"a\nb\"", `offset 2: invalid character '\n' in string literal`},
		{"bad escape", `"\x"`, `offset 2: invalid character 'x' in string escape code`},
		{"short unicode escape", `"\u12"`, `offset 5: invalid character '"' in \u hexadecimal character escape`},
		{"escape at end", `"\`, `offset 2: unexpected end of input in string escape code`},
		{"leading zero", `01`, "offset 1: invalid character '1' after top-level value"},
		{"bare minus", `-`, "offset 1: unexpected end of input in numeric literal"},
		{"no fraction digits", `1.`, "offset 2: unexpected end of input after decimal point in numeric literal"},
		{"no exponent digits", `1e+`, "offset 3: unexpected end of input in exponent of numeric literal"},
		{"plus sign", `+1`, "offset 0: invalid character '+' looking for beginning of value"},
		{"bad literal", `nul`, "offset 3: unexpected end of input in literal null"},
		{"misspelt literal", `tru3`, "offset 3: invalid character '3' in literal true"},
		{"missing colon", `{"a" 1}`, "offset 5: invalid character '1' after object key"},
		{"key not a string", `{1:2}`, "offset 1: invalid character '1' looking for beginning of string"},
		{"trailing comma in object", `{"a":1,}`, "offset 7: invalid character '}' looking for beginning of string"},
		{"trailing comma in array", `[1,]`, "offset 3: invalid character ']' looking for beginning of value"},
		{"missing comma", `[1 2]`, "offset 3: invalid character '2' after array element"},
		{"unclosed object", `{"a":1`, "offset 6: unexpected end of input after object key:value pair"},
		{"unclosed array", `[1`, "offset 2: unexpected end of input after array element"},
		{"deepest allowed", strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), ""},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "exceeded max depth 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if valid := json.Valid([]byte(tt.doc)); valid != (tt.wantErr == "") {
				t.Fatalf("encoding/json says valid=%v: the table is wrong", valid)
			}
			for how, tok := range tokenizers([]byte(tt.doc)) {
				err := validate(tok)
				if tt.wantErr == "" && err != nil {
					t.Errorf("%s: %v", how, err)
				}
				var jerr *Error
				if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &jerr)) {
					t.Errorf("%s: err = %v, want %q", how, err, tt.wantErr)
				}
			}
		})
	}
}

func TestRawString(t *testing.T) {
	tests := []struct {
		literal   string
		wantPlain bool
	}{
		{`""`, true},
		{`"abc"`, true},
		{`"` + strings.Repeat("x", 20) + `"`, true},
		{"\"caf\xc3\xa9\"", true},
		{`"a\"b"`, false},
		{`"\u00e9\/"`, false},
		{`"\ud83d\ude00"`, false},
		{`"\ud83d x"`, false},     // unpaired surrogate: U+FFFD
		{`"\ud83d\u0041"`, false}, // a surrogate then no low surrogate
		{"\"\xff\xfe\"", false},   // invalid UTF-8: U+FFFD each
		{"\"\xe2\x82\"", false},   // a cut rune
	}
	for _, tt := range tests {
		var want string
		if err := json.Unmarshal([]byte(tt.literal), &want); err != nil {
			t.Fatalf("table: %s: %v", tt.literal, err)
		}
		for how, tok := range tokenizers([]byte(tt.literal)) {
			tok.SkipSpace()
			raw, plain, err := tok.RawString()
			if err != nil || plain != tt.wantPlain || Decoded(raw, plain) != want {
				t.Errorf("%s: RawString(%s) = %q, plain %v, %v; want %q, plain %v", how, tt.literal, Decoded(raw, plain), plain, err, want, tt.wantPlain)
			}
		}
	}
}

func TestKeyIs(t *testing.T) {
	tests := []struct {
		raw  string // as it stands between the quotes
		want string
		is   bool
	}{
		{"name", "name", true},
		{"Name", "name", true},
		{"NAME", "name", true},
		{`n\u0061me`, "name", true},
		{`N\u0041ME`, "name", true},
		{"packageſ", "packages", true}, // long s folds to s
		{"\u212aey", "key", true},      // Kelvin sign folds to k
		{"names", "name", false},
		{"nam", "name", false},
		{"version", "name", false},
		{`na\u006d`, "name", false},
		{"", "name", false},
	}
	for _, tt := range tests {
		tok := NewBytes([]byte(`"` + tt.raw + `"`))
		tok.SkipSpace()
		raw, plain, err := tok.RawString()
		if err != nil {
			t.Fatal(err)
		}
		if got := (Key{Raw: raw, Plain: plain}).Is(tt.want); got != tt.is {
			t.Errorf("Key(%q).Is(%q) = %v, want %v", tt.raw, tt.want, got, tt.is)
		}
	}
}

func TestObjectKeysAndOffsets(t *testing.T) {
	doc := `{"a":1, "b\u0062" :{"c":[2]}, "` + strings.Repeat("k", 40) + `"  :  null}`
	type member struct {
		key    string
		offset int64
		raw    string
	}
	want := []member{{"a", 1, "1"}, {"bb", 8, `{"c":[2]}`}, {strings.Repeat("k", 40), 30, "null"}}
	for how, tok := range tokenizers([]byte(doc)) {
		var got []member
		if _, err := tok.Peek(); err != nil {
			t.Fatal(err)
		}
		err := tok.Object(1, func(k Key) error {
			m := member{key: k.String(), offset: k.Offset}
			raw, err := tok.RawValue(1)
			m.raw = string(raw)
			got = append(got, m)
			return err
		})
		if err == nil {
			err = tok.End()
		}
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s: members %v, %v; want %v", how, got, err, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: member %d = %+v, want %+v", how, i, got[i], want[i])
			}
		}
	}
}

func TestObjectOrNull(t *testing.T) {
	tests := []struct {
		doc        string
		wantObject bool
		wantErr    string
		wantOffset int64 // after the call
	}{
		{` {"a":1}`, true, "", 1},
		{` null`, false, "", 5},
		{` "x"`, false, "offset 1: record: want an object, got string", 1},
		{`[]`, false, "offset 0: record: want an object, got list", 0},
		{` nul`, false, "offset 4: unexpected end of input in literal null", 4},
		{``, false, "offset 0: unexpected end of input looking for beginning of value", 0},
	}
	for _, tt := range tests {
		for how, tok := range tokenizers([]byte(tt.doc)) {
			object, err := tok.ObjectOrNull("record")
			if object != tt.wantObject || (err == nil) != (tt.wantErr == "") || err != nil && err.Error() != tt.wantErr || tok.Offset() != tt.wantOffset {
				t.Errorf("%s: ObjectOrNull(%q) = %v, %v at offset %d; want %v, %q at offset %d", how, tt.doc, object, err, tok.Offset(), tt.wantObject, tt.wantErr, tt.wantOffset)
			}
		}
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	for _, doc := range []string{`{"packages":{`, `{"a":"unterminated`, `[1, 2`, `{"a":1}`} {
		tok := NewReader(io.MultiReader(strings.NewReader(doc), iotest.ErrReader(boom)))
		err := validate(tok)
		var jerr *Error
		if !errors.Is(err, boom) || errors.As(err, &jerr) || !strings.Contains(err.Error(), "read at offset ") {
			t.Errorf("%s then a failing read: err = %v, want the read error", doc, err)
		}
	}
}

func TestKindString(t *testing.T) {
	for kind, want := range map[Kind]string{0: "invalid", Object: "object", Array: "list", String: "string", Number: "number", Bool: "bool", Null: "null", Null + 1: "invalid"} {
		if got := kind.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", kind, got, want)
		}
	}
}

// TestPlainWord checks the eight-bytes-at-once string scan against the
// byte table it stands for, for every byte value at every position.
func TestPlainWord(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			word := []byte("abcdefgh")
			word[pos] = byte(c)
			if got, want := plainWord(binary.LittleEndian.Uint64(word)), !stringByteClass[c]; got != want {
				t.Errorf("plainWord(%q) = %v, want %v", word, got, want)
			}
		}
	}
}

func TestSkipSpace(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // offset of the first non-whitespace byte
	}{
		{"", 0},
		{"x", 0},
		{"   x", 3},
		{" \t\r\n x", 5},
		{strings.Repeat(" ", 8), 8},
		{strings.Repeat(" ", 8) + "x", 8},
		{"\n      \"key\"", 7},
		{"\n" + strings.Repeat(" ", 17) + "\n        ]", 27},
		{"  \x0b", 2}, // vertical tab is not JSON whitespace
		{"       \x00", 7},
	}
	for _, tt := range tests {
		for how, tok := range tokenizers([]byte(tt.in)) {
			if tok.SkipSpace(); tok.Offset() != tt.want {
				t.Errorf("%s: SkipSpace(%q) stopped at %d, want %d", how, tt.in, tok.Offset(), tt.want)
			}
		}
	}
}

// FuzzTokenizer checks on any input that the tokenizer accepts exactly
// what encoding/json accepts, that reading from a stream cut anywhere gives
// the same result as reading from memory, and that strings decode as
// encoding/json decodes them.
func FuzzTokenizer(f *testing.F) {
	for _, s := range []string{
		`{"info":{"subdir":"noarch"},"packages":{"a-1-0.tar.bz2":{"name":"a","depends":["b >1"],"size":12,"noarch":null}}}`,
		`[1, -2.5e+3, 0.5E-1, true, false, null, "s\u00e9\ud83d\ude00", {}]`,
		"\"caf\xc3\xa9 \xff \\ud800\"",
		`{"a" : [ ] , "b":{ }}`,
		`01`,
		`"\u12`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := validate(NewBytes(data))
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("encoding/json valid=%v, tokenizer: %v", valid, err)
		}
		var jerr *Error
		if err != nil && !errors.As(err, &jerr) {
			t.Fatalf("error %v is not an *Error", err)
		}
		streamErr := validate(NewReader(iotest.OneByteReader(bytes.NewReader(data))))
		if (err == nil) != (streamErr == nil) || err != nil && err.Error() != streamErr.Error() {
			t.Fatalf("in memory: %v; streamed: %v", err, streamErr)
		}
		if err == nil && len(data) > 0 {
			tok := NewBytes(data)
			if kind, _ := tok.Peek(); kind == String {
				var want string
				if err := json.Unmarshal(data, &want); err != nil {
					t.Fatal(err)
				}
				if raw, plain, _ := tok.RawString(); Decoded(raw, plain) != want {
					t.Fatalf("string %q decodes to %q, encoding/json says %q", data, Decoded(raw, plain), want)
				}
			}
		}
	})
}

// TestValueLongerThanBuffer reads, from a stream, keys and values larger
// than the stream's buffer, which must grow to hold them.
func TestValueLongerThanBuffer(t *testing.T) {
	long := strings.Repeat("abcdefg\\n", streamBufSize/4)
	number := "1" + strings.Repeat("0", 2*streamBufSize) + ".5e-3"
	doc := `{"` + long + `"   :   "` + long + `", "n": ` + number + `}`
	want := map[string]string{long: `"` + long + `"`, "n": number}
	tok := NewReader(iotest.HalfReader(strings.NewReader(doc)))
	if _, err := tok.Peek(); err != nil {
		t.Fatal(err)
	}
	members := 0
	err := tok.Object(1, func(k Key) error {
		members++
		wantValue, ok := want[string(k.Raw)]
		if !ok {
			t.Errorf("key of %d bytes, not in the document", len(k.Raw))
		}
		raw, err := tok.RawValue(1)
		if string(raw) != wantValue {
			t.Errorf("value of %d bytes, want %d", len(raw), len(wantValue))
		}
		return err
	})
	if err == nil {
		err = tok.End()
	}
	if err != nil || members != len(want) {
		t.Fatalf("%d members, %v; want %d", members, err, len(want))
	}
}
