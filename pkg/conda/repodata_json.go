package conda

// A small hand-written JSON reader for repodata. It exists because
// encoding/json decodes repodata at ~80 MB/s through reflection, while the
// solver needs conda-forge's 250 MB linux-64 index in well under a second.
// Every rule here mirrors encoding/json (v1) so both decoders agree on every
// input: the same syntax, the same string unescaping (invalid UTF-8 and lone
// surrogates become U+FFFD), the same integer rules, case-insensitive key
// matching, and null leaving strings and numbers untouched.

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth is encoding/json's nesting limit; deeper documents are errors.
const maxJSONDepth = 10000

// jsonKind is the kind of a JSON value, named as in error messages.
type jsonKind string

const (
	kindObject jsonKind = "object"
	kindArray  jsonKind = "list"
	kindString jsonKind = "string"
	kindNumber jsonKind = "number"
	kindBool   jsonKind = "bool"
	kindNull   jsonKind = "null"
)

// jsonReader walks a JSON document. Its methods validate what they read, so
// the same code serves the first scan and the later record decoding.
type jsonReader struct {
	data []byte
	pos  int
	// scratch collects list elements; see decodeStringList.
	scratch []string
	// text, when set, is a copy of data[textOffset:textOffset+len(text)]:
	// strings read inside it are cut from it instead of each being
	// allocated, so decoding a record allocates its text once.
	text       string
	textOffset int
}

// syntaxError reports a malformed document at the reader's position.
func (r *jsonReader) syntaxError(what string) error {
	if r.pos >= len(r.data) {
		return fmt.Errorf("offset %d: unexpected end of input %s", r.pos, what)
	}
	return fmt.Errorf("offset %d: invalid character %q %s", r.pos, r.data[r.pos], what)
}

// skipSpace advances past JSON whitespace.
func (r *jsonReader) skipSpace() {
	// A local index stays in a register; hot loops here use one.
	data, pos := r.data, r.pos
	for pos < len(data) {
		// Indented repodata has runs of spaces: skip a run within the next
		// eight bytes at once. The first non-space byte is the lowest
		// non-zero byte of the word XOR eight spaces.
		if pos+8 <= len(data) {
			if w := binary.LittleEndian.Uint64(data[pos:]) ^ eightSpaces; w == 0 {
				pos += 8
				continue
			} else {
				pos += bits.TrailingZeros64(w) / 8
			}
		}
		if c := data[pos]; c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			break
		}
		pos++
	}
	r.pos = pos
}

// peek returns the kind of the value at the reader's position (after
// whitespace) without consuming it.
func (r *jsonReader) peek() (jsonKind, error) {
	r.skipSpace()
	if r.pos >= len(r.data) {
		return "", r.syntaxError("looking for beginning of value")
	}
	switch c := r.data[r.pos]; {
	case c == '{':
		return kindObject, nil
	case c == '[':
		return kindArray, nil
	case c == '"':
		return kindString, nil
	case c == '-' || '0' <= c && c <= '9':
		return kindNumber, nil
	case c == 't' || c == 'f':
		return kindBool, nil
	case c == 'n':
		return kindNull, nil
	}
	return "", r.syntaxError("looking for beginning of value")
}

// Eight-byte (SWAR) constants for scanning a word of input at once.
const (
	eightSpaces = 0x2020202020202020
	lowBits     = 0x0101010101010101
	highBits    = 0x8080808080808080
)

// plainWord reports whether none of the eight bytes of w ends a string's
// fast path (see stringByteClass). (x - lowBits*n) & ^x & highBits is
// non-zero exactly when some byte of x is below n (for n ≤ 0x80).
func plainWord(w uint64) bool {
	const quote, backslash = lowBits * '"', lowBits * '\\'
	below := func(x, n uint64) uint64 { return (x - lowBits*n) & ^x & highBits }
	return below(w, 0x20)|below(w^quote, 1)|below(w^backslash, 1)|w&highBits == 0
}

// stringByteClass marks the bytes that end the fast path of a string scan:
// the closing quote, a backslash, control characters and non-ASCII bytes.
var stringByteClass = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// rawString reads a string and returns the bytes between its quotes. plain
// reports that they need no unescaping: no escapes and valid UTF-8.
func (r *jsonReader) rawString() (raw []byte, plain bool, err error) {
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		return nil, false, r.syntaxError("looking for beginning of string")
	}
	r.pos++
	start := r.pos
	plain = true
	for {
		data, pos := r.data, r.pos
		for pos+8 <= len(data) && plainWord(binary.LittleEndian.Uint64(data[pos:])) {
			pos += 8
		}
		for pos < len(data) && !stringByteClass[data[pos]] {
			pos++
		}
		r.pos = pos
		if r.pos >= len(r.data) {
			return nil, false, r.syntaxError("in string literal")
		}
		switch c := r.data[r.pos]; {
		case c == '"':
			raw = r.data[start:r.pos]
			r.pos++
			return raw, plain, nil
		case c == '\\':
			plain = false
			if err := r.skipEscape(); err != nil {
				return nil, false, err
			}
		case c < 0x20:
			return nil, false, r.syntaxError("in string literal")
		default:
			if ch, size := utf8.DecodeRune(r.data[r.pos:]); ch == utf8.RuneError && size == 1 {
				plain = false
			} else {
				r.pos += size - 1
			}
			r.pos++
		}
	}
}

// skipEscape validates the escape sequence at the reader's position.
func (r *jsonReader) skipEscape() error {
	r.pos++ // the backslash
	if r.pos >= len(r.data) {
		return r.syntaxError("in string escape code")
	}
	switch r.data[r.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		r.pos++
		return nil
	case 'u':
		r.pos++
		for range 4 {
			if r.pos >= len(r.data) || hexValue(r.data[r.pos]) < 0 {
				return r.syntaxError("in \\u hexadecimal character escape")
			}
			r.pos++
		}
		return nil
	}
	return r.syntaxError("in string escape code")
}

// hexValue returns the value of a hex digit, or -1.
func hexValue(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

// readString reads a string value and returns it unescaped.
func (r *jsonReader) readString() (string, error) {
	raw, plain, err := r.rawString()
	if err != nil {
		return "", err
	}
	if !plain {
		return unescape(raw), nil
	}
	if start := r.pos - 1 - len(raw) - r.textOffset; start >= 0 && start+len(raw) <= len(r.text) {
		return r.text[start : start+len(raw)], nil
	}
	return string(raw), nil
}

// unescape decodes the (already validated) inside of a string literal the way
// encoding/json does: malformed UTF-8 and unpaired surrogates become U+FFFD.
func unescape(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			if c < utf8.RuneSelf {
				b.WriteByte(c)
				i++
				continue
			}
			ch, size := utf8.DecodeRune(raw[i:])
			b.WriteRune(ch) // RuneError for a malformed byte
			i += size
			continue
		}
		switch raw[i+1] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			ch := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(ch) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if pair := utf16.DecodeRune(ch, hex4(raw[i+2:])); pair != utf8.RuneError {
						b.WriteRune(pair)
						i += 6
						continue
					}
				}
				ch = utf8.RuneError
			}
			b.WriteRune(ch)
			continue
		default: // '"', '\\', '/'
			b.WriteByte(raw[i+1])
		}
		i += 2
	}
	return b.String()
}

// hex4 decodes the four hex digits at the start of b (validated by the scan).
func hex4(b []byte) rune {
	return hexValue(b[0])<<12 | hexValue(b[1])<<8 | hexValue(b[2])<<4 | hexValue(b[3])
}

// rawNumber reads a number and returns its text.
func (r *jsonReader) rawNumber() ([]byte, error) {
	start := r.pos
	if r.pos < len(r.data) && r.data[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(r.data) && r.data[r.pos] == '0':
		r.pos++
	case r.pos < len(r.data) && '1' <= r.data[r.pos] && r.data[r.pos] <= '9':
		r.skipDigits()
	default:
		return nil, r.syntaxError("in numeric literal")
	}
	if r.pos < len(r.data) && r.data[r.pos] == '.' {
		r.pos++
		if !r.skipDigits() {
			return nil, r.syntaxError("after decimal point in numeric literal")
		}
	}
	if r.pos < len(r.data) && (r.data[r.pos] == 'e' || r.data[r.pos] == 'E') {
		r.pos++
		if r.pos < len(r.data) && (r.data[r.pos] == '+' || r.data[r.pos] == '-') {
			r.pos++
		}
		if !r.skipDigits() {
			return nil, r.syntaxError("in exponent of numeric literal")
		}
	}
	return r.data[start:r.pos], nil
}

// skipDigits advances past decimal digits and reports whether there was one.
func (r *jsonReader) skipDigits() bool {
	start := r.pos
	for r.pos < len(r.data) && '0' <= r.data[r.pos] && r.data[r.pos] <= '9' {
		r.pos++
	}
	return r.pos > start
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

// literal consumes the literal word at the reader's position.
func (r *jsonReader) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if r.pos >= len(r.data) || r.data[r.pos] != word[i] {
			return r.syntaxError("in literal " + word)
		}
		r.pos++
	}
	return nil
}

// readBool reads true or false.
func (r *jsonReader) readBool() (bool, error) {
	if r.data[r.pos] == 't' {
		return true, r.literal("true")
	}
	return false, r.literal("false")
}

// skipValue validates and skips one value; depth is the nesting level of the
// container holding it.
func (r *jsonReader) skipValue(depth int) error {
	kind, err := r.peek()
	if err != nil {
		return err
	}
	switch kind {
	case kindObject:
		return r.eachMember(depth+1, func([]byte, bool) error { return r.skipValue(depth + 1) })
	case kindArray:
		return r.eachElement(depth+1, func() error { return r.skipValue(depth + 1) })
	case kindString:
		_, _, err = r.rawString()
	case kindNumber:
		_, err = r.rawNumber()
	case kindBool:
		_, err = r.readBool()
	case kindNull:
		err = r.literal("null")
	}
	return err
}

// eachMember reads an object, calling member with each raw key (see
// rawString) positioned at its value, which member must consume.
func (r *jsonReader) eachMember(depth int, member func(key []byte, plain bool) error) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("offset %d: exceeded max depth %d", r.pos, maxJSONDepth)
	}
	r.pos++ // '{'
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == '}' {
		r.pos++
		return nil
	}
	for {
		r.skipSpace()
		key, plain, err := r.rawString()
		if err != nil {
			return err
		}
		r.skipSpace()
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			return r.syntaxError("after object key")
		}
		r.pos++
		if err := member(key, plain); err != nil {
			return err
		}
		r.skipSpace()
		if r.pos >= len(r.data) {
			return r.syntaxError("after object key:value pair")
		}
		switch r.data[r.pos] {
		case ',':
			r.pos++
		case '}':
			r.pos++
			return nil
		default:
			return r.syntaxError("after object key:value pair")
		}
	}
}

// eachElement reads an array, calling element positioned at each value.
func (r *jsonReader) eachElement(depth int, element func() error) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("offset %d: exceeded max depth %d", r.pos, maxJSONDepth)
	}
	r.pos++ // '['
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == ']' {
		r.pos++
		return nil
	}
	for {
		if err := element(); err != nil {
			return err
		}
		r.skipSpace()
		if r.pos >= len(r.data) {
			return r.syntaxError("after array element")
		}
		switch r.data[r.pos] {
		case ',':
			r.pos++
		case ']':
			r.pos++
			return nil
		default:
			return r.syntaxError("after array element")
		}
	}
}

// keyString returns an object key as encoding/json sees it.
func keyString(raw []byte, plain bool) string {
	if plain {
		return string(raw)
	}
	return unescape(raw)
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

// typeError reports a value of the wrong kind for a field.
func (r *jsonReader) typeError(field string, want string, got jsonKind) error {
	return fmt.Errorf("offset %d: %s: want %s, got %s", r.pos, field, want, got)
}

// decodeString reads a string into *dst; null leaves *dst unchanged.
func (r *jsonReader) decodeString(field string, dst *string) error {
	kind, err := r.peek()
	if err != nil {
		return err
	}
	switch kind {
	case kindString:
		*dst, err = r.readString()
		return err
	case kindNull:
		return r.literal("null")
	}
	return r.typeError(field, "a string", kind)
}

// decodeInt reads an integer into *dst; null leaves *dst unchanged.
func (r *jsonReader) decodeInt(field string, dst *int64, unsigned bool) error {
	kind, err := r.peek()
	if err != nil {
		return err
	}
	switch kind {
	case kindNumber:
		start := r.pos
		text, err := r.rawNumber()
		if err != nil {
			return err
		}
		n, ok := parseInt(text, unsigned)
		if !ok {
			r.pos = start
			want := "an integer"
			if unsigned {
				want = "a non-negative integer"
			}
			return fmt.Errorf("offset %d: %s: want %s that fits 64 bits, got %s", start, field, want, text)
		}
		*dst = n
		return nil
	case kindNull:
		return r.literal("null")
	}
	return r.typeError(field, "an integer", kind)
}

// decodeStringList reads a list of strings into *dst; null sets it to nil.
// A first decoding collects the strings in the reader's scratch list and
// allocates the result once. Decoding over an earlier list (a repeated key)
// reuses its backing array as encoding/json does, because there a null
// element keeps the earlier list's value at that index.
func (r *jsonReader) decodeStringList(field string, dst *[]string, depth int) error {
	kind, err := r.peek()
	if err != nil {
		return err
	}
	switch kind {
	case kindNull:
		*dst = nil
		return r.literal("null")
	case kindArray:
	default:
		return r.typeError(field, "a list of strings", kind)
	}
	reuse := cap(*dst) > 0
	list := (*dst)[:0]
	if !reuse {
		list = r.scratch[:0]
	}
	err = r.eachElement(depth+1, func() error {
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
