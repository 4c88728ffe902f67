package conda

// A small hand-written JSON decoder for repodata, on internal/jsonscan's
// tokenizer. It exists because encoding/json decodes repodata at ~80 MB/s
// through reflection, while the solver needs conda-forge's 250 MB linux-64
// index in well under a second. Every rule here mirrors encoding/json (v1)
// so both decoders agree on every input: the same syntax and string
// unescaping (the tokenizer's), the same integer rules, case-insensitive key
// matching, and null leaving strings and numbers untouched.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/condabox/condabox/internal/jsonscan"
)

// jsonReader decodes repodata values with a tokenizer over the document.
type jsonReader struct {
	*jsonscan.Tokenizer
	// scratch collects list elements; see decodeStringList.
	scratch []string
	// text, when set, is a copy of the document's bytes from textOffset
	// to textOffset+len(text): strings read inside it are cut from it
	// instead of each being allocated, so decoding a record allocates its
	// text once.
	text       string
	textOffset int
}

// readString reads a string value and returns it unescaped.
func (r *jsonReader) readString() (string, error) {
	raw, plain, err := r.RawString()
	if err != nil {
		return "", err
	}
	if !plain {
		return jsonscan.Unescape(raw), nil
	}
	if start := int(r.Offset()) - 1 - len(raw) - r.textOffset; start >= 0 && start+len(raw) <= len(r.text) {
		return r.text[start : start+len(raw)], nil
	}
	return string(raw), nil
}

// parseInt converts JSON number text to an integer with strconv.ParseInt's
// (and so encoding/json's) rules: no fraction, no exponent, no overflow, and
// for unsigned targets no sign at all.
func parseInt(text []byte, unsigned bool) (int64, bool) {
	neg := len(text) > 0 && text[0] == '-'
	digits := text
	if neg {
		if unsigned {
			return 0, false
		}
		digits = text[1:]
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit++
	}
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false // fraction or exponent
		}
		if n > (limit-uint64(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		return -int64(n), true // n == 1<<63 wraps to math.MinInt64, as intended
	}
	return int64(n), true
}

// foldedField returns the index in names of the field a key without an exact
// match selects: encoding/json falls back to a case-insensitive (Unicode
// simple folding) match. It returns -1 for an unknown key.
func foldedField(key string, names []string) int {
	for i, n := range names {
		if strings.EqualFold(key, n) {
			return i
		}
	}
	return -1
}

// decodeString reads a string into *dst; null leaves *dst unchanged.
func (r *jsonReader) decodeString(field string, dst *string) error {
	kind, err := r.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case jsonscan.String:
		*dst, err = r.readString()
		return err
	case jsonscan.Null:
		return r.Literal("null")
	}
	return r.TypeError(field, "a string", kind)
}

// decodeInt reads an integer into *dst; null leaves *dst unchanged.
func (r *jsonReader) decodeInt(field string, dst *int64, unsigned bool) error {
	kind, err := r.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case jsonscan.Number:
		start := r.Offset()
		text, err := r.RawNumber()
		if err != nil {
			return err
		}
		n, ok := parseInt(text, unsigned)
		if !ok {
			want := "an integer"
			if unsigned {
				want = "a non-negative integer"
			}
			return fmt.Errorf("offset %d: %s: want %s that fits 64 bits, got %s", start, field, want, text)
		}
		*dst = n
		return nil
	case jsonscan.Null:
		return r.Literal("null")
	}
	return r.TypeError(field, "an integer", kind)
}

// decodeStringList reads a list of strings into *dst; null sets it to nil.
// A first decoding collects the strings in the reader's scratch list and
// allocates the result once. Decoding over an earlier list (a repeated key)
// reuses its backing array as encoding/json does, because there a null
// element keeps the earlier list's value at that index.
func (r *jsonReader) decodeStringList(field string, dst *[]string, depth int) error {
	kind, err := r.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case jsonscan.Null:
		*dst = nil
		return r.Literal("null")
	case jsonscan.Array:
	default:
		return r.TypeError(field, "a list of strings", kind)
	}
	reuse := cap(*dst) > 0
	list := (*dst)[:0]
	if !reuse {
		list = r.scratch[:0]
	}
	err = r.Array(depth+1, func() error {
		i := len(list)
		if i < cap(list) && reuse {
			list = list[:i+1]
		} else {
			list = append(list, "")
		}
		return r.decodeString(field, &list[i])
	})
	if err != nil {
		return err
	}
	switch {
	case len(list) == 0:
		*dst = []string{}
	case reuse:
		*dst = list
	default:
		r.scratch = list
		*dst = slices.Clone(list)
	}
	return nil
}
