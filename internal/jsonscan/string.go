package jsonscan

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Eight-byte (SWAR) constants for scanning a word of input at once.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
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

// RawString reads a string and returns the bytes between its quotes, valid
// until the tokenizer reads on. plain reports that they are the string
// itself: no escapes and valid UTF-8; otherwise Unescape decodes them.
func (t *Tokenizer) RawString() (raw []byte, plain bool, err error) {
	if t.pos >= len(t.data) || t.data[t.pos] != '"' {
		return nil, false, t.syntaxError("looking for beginning of string")
	}
	start := t.pos + 1
	pos := start
	plain = true
	for {
		data := t.data
		for pos+8 <= len(data) && plainWord(binary.LittleEndian.Uint64(data[pos:])) {
			pos += 8
		}
		for pos < len(data) && !stringByteClass[data[pos]] {
			pos++
		}
		t.pos = pos
		if pos >= len(data) {
			dropped, ok := t.refill(start)
			if !ok {
				return nil, false, t.syntaxError("in string literal")
			}
			start, pos = start-dropped, pos-dropped
			continue
		}
		switch c := data[pos]; {
		case c == '"':
			t.pos++
			return data[start:pos], plain, nil
		case c == '\\':
			plain = false
			// An escape is at most six bytes: buffer them from a stream.
			start -= t.want(6, start)
			if err := t.skipEscape(); err != nil {
				return nil, false, err
			}
		case c < 0x20:
			return nil, false, t.syntaxError("in string literal")
		default:
			start -= t.want(utf8.UTFMax, start)
			if ch, size := utf8.DecodeRune(t.data[t.pos:]); ch == utf8.RuneError && size == 1 {
				plain = false
				t.pos++
			} else {
				t.pos += size
			}
		}
		pos = t.pos
	}
}

// skipEscape validates the escape sequence at the read position.
func (t *Tokenizer) skipEscape() error {
	t.pos++ // the backslash
	if t.pos >= len(t.data) {
		return t.syntaxError("in string escape code")
	}
	switch t.data[t.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		t.pos++
		return nil
	case 'u':
		t.pos++
		for range 4 {
			if t.pos >= len(t.data) || hexValue(t.data[t.pos]) < 0 {
				return t.syntaxError("in \\u hexadecimal character escape")
			}
			t.pos++
		}
		return nil
	}
	return t.syntaxError("in string escape code")
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

// Unescape decodes the inside of a string literal that RawString read the
// way encoding/json does: malformed UTF-8 and unpaired surrogates become
// U+FFFD.
func Unescape(raw []byte) string {
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

// Decoded returns the string whose inside RawString returned as raw and
// plain, as encoding/json decodes it.
func Decoded(raw []byte, plain bool) string {
	if plain {
		return string(raw)
	}
	return Unescape(raw)
}

// String returns the key as encoding/json decodes it.
func (k Key) String() string { return Decoded(k.Raw, k.Plain) }

// Is reports whether the key selects the field named want, an ASCII name,
// as encoding/json matches keys: exactly or, failing that, ignoring case
// (with Unicode simple folding, so "ſ" matches "s").
func (k Key) Is(want string) bool {
	if string(k.Raw) == want {
		return true
	}
	if len(k.Raw) < len(want) {
		return false // escapes and non-ASCII letters only lengthen a key
	}
	if k.Plain {
		return bytes.EqualFold(k.Raw, []byte(want))
	}
	return strings.EqualFold(Unescape(k.Raw), want)
}
