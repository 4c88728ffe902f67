// Package jsonscan is the byte-level JSON tokenizer under condabox's two
// repodata readers: pkg/conda's decoder of a document held in memory and
// pkg/repodata's one-pass index of a download streaming into the cache.
//
// It validates exactly what encoding/json (v1) validates (syntax, string
// escapes, number grammar, the nesting limit), so that both readers accept
// and reject the same documents as encoding/json; what values mean is left
// to its callers. It is written for speed: the in-memory decoder reads
// conda-forge's 250 MB index at several hundred MB/s.
package jsonscan

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// MaxDepth is encoding/json's nesting limit; deeper documents are errors.
const MaxDepth = 10000

// streamBufSize is a stream's first buffer size; a value held across reads
// (a long string, RawValue) grows the buffer.
const streamBufSize = 1 << 20

// Kind is the kind of a JSON value.
type Kind uint8

// The kinds of JSON values.
const (
	Object Kind = iota + 1
	Array
	String
	Number
	Bool
	Null
)

var kindNames = [...]string{Object: "object", Array: "list", String: "string", Number: "number", Bool: "bool", Null: "null"}

// String names the kind as error messages do ("list" for an array).
func (k Kind) String() string {
	if k == 0 || int(k) >= len(kindNames) {
		return "invalid"
	}
	return kindNames[k]
}

// Error is input that is not JSON, or not the JSON the caller wants, at an
// offset of the input.
type Error struct {
	Offset int64
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// Tokenizer reads JSON values from a document in memory (NewBytes) or from
// a stream (NewReader). Its methods validate what they read; a failing
// stream's error is returned in place of the syntax error its end causes.
type Tokenizer struct {
	data []byte // the whole document, or the buffered window of a stream
	pos  int    // next byte of data to read
	base int64  // input offset of data[0]
	src  io.Reader
	hold int64 // input offset from which refills keep bytes, or -1
	err  error // the read error that ended src
}

// NewBytes returns a tokenizer over a whole document.
func NewBytes(data []byte) *Tokenizer { return &Tokenizer{data: data, hold: -1} }

// NewReader returns a tokenizer over a stream. It holds a window of the
// stream: byte slices it returns stay valid only until it reads on.
func NewReader(r io.Reader) *Tokenizer {
	return &Tokenizer{data: make([]byte, 0, streamBufSize), src: r, hold: -1}
}

// Offset is the input offset of the next byte to read.
func (t *Tokenizer) Offset() int64 { return t.base + int64(t.pos) }

// Seek moves to an input offset of a document in memory.
func (t *Tokenizer) Seek(off int) { t.pos = off }

// refill reads more of a stream into data after dropping the bytes before
// index keep (or before the hold, if earlier). That moves every index into
// data back by the returned count; ok is false at the end of the input.
func (t *Tokenizer) refill(keep int) (dropped int, ok bool) {
	if t.src == nil {
		return 0, false
	}
	if t.hold >= 0 {
		keep = min(keep, int(t.hold-t.base))
	}
	t.data = t.data[:copy(t.data, t.data[keep:])]
	t.base += int64(keep)
	t.pos -= keep
	if len(t.data) == cap(t.data) {
		t.data = append(t.data, make([]byte, cap(t.data))...)[:len(t.data)]
	}
	for {
		n, err := t.src.Read(t.data[len(t.data):cap(t.data)])
		t.data = t.data[:len(t.data)+n]
		if err != nil {
			if err != io.EOF {
				t.err = fmt.Errorf("read at offset %d: %w", t.base+int64(len(t.data)), err)
			}
			t.src = nil
			return keep, n > 0
		}
		if n > 0 {
			return keep, true
		}
	}
}

// want tries to buffer n bytes from the read position on, keeping the
// bytes from index keep; it returns by how much indices into data moved.
func (t *Tokenizer) want(n, keep int) (dropped int) {
	for t.pos+n > len(t.data) {
		d, ok := t.refill(keep - dropped)
		dropped += d
		if !ok {
			break
		}
	}
	return dropped
}

// syntaxError reports malformed input at the read position; context says
// where, as encoding/json's messages do ("in string literal").
func (t *Tokenizer) syntaxError(context string) error {
	if t.err != nil {
		return t.err
	}
	if t.pos >= len(t.data) {
		return &Error{t.Offset(), "unexpected end of input " + context}
	}
	return &Error{t.Offset(), fmt.Sprintf("invalid character %q %s", t.data[t.pos], context)}
}

// TypeError reports a value of kind got where the caller wants another,
// for example TypeError("depends", "a list of strings", String).
func (t *Tokenizer) TypeError(what, want string, got Kind) error {
	return &Error{t.Offset(), fmt.Sprintf("%s: want %s, got %s", what, want, got)}
}

// Eight spaces, for skipping indentation eight bytes at once.
const eightSpaces = 0x2020202020202020

// SkipSpace advances past JSON white space.
func (t *Tokenizer) SkipSpace() {
	if t.skipSpace(); t.pos == len(t.data) {
		t.more()
	}
}

// skipSpace advances past the white space in data. It is kept small enough
// to be inlined in the hot loops (cost 80): the reads of a stream are left
// to more, which the callers call at the end of data. A local index stays
// in a register.
func (t *Tokenizer) skipSpace() {
	data, pos := t.data, t.pos
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
	t.pos = pos
}

// more reads a stream on past white space at the end of data and reports
// whether a byte follows.
func (t *Tokenizer) more() bool {
	for t.pos == len(t.data) {
		if _, ok := t.refill(t.pos); !ok {
			return false
		}
		t.skipSpace()
	}
	return true
}

// Peek returns the kind of the value at the read position (after white
// space) without consuming it.
func (t *Tokenizer) Peek() (Kind, error) {
	if t.skipSpace(); t.pos == len(t.data) && !t.more() {
		return 0, t.syntaxError("looking for beginning of value")
	}
	switch c := t.data[t.pos]; {
	case c == '{':
		return Object, nil
	case c == '[':
		return Array, nil
	case c == '"':
		return String, nil
	case c == '-' || '0' <= c && c <= '9':
		return Number, nil
	case c == 't' || c == 'f':
		return Bool, nil
	case c == 'n':
		return Null, nil
	}
	return 0, t.syntaxError("looking for beginning of value")
}

// End checks that nothing but white space follows the top-level value.
func (t *Tokenizer) End() error {
	t.SkipSpace()
	if t.pos < len(t.data) || t.err != nil {
		return t.syntaxError("after top-level value")
	}
	return nil
}

// RawNumber reads a number and returns its text.
func (t *Tokenizer) RawNumber() ([]byte, error) {
	start := t.pos
	text, err := t.number()
	if t.pos == len(t.data) && t.src != nil {
		// The number may go on in the stream: buffer all of it and read
		// it again, once, so that even a huge number is read in linear time.
		t.pos = start
		t.bufferNumber()
		text, err = t.number()
	}
	return text, err
}

// number reads the number in data at the read position.
func (t *Tokenizer) number() ([]byte, error) {
	start := t.pos
	if t.pos < len(t.data) && t.data[t.pos] == '-' {
		t.pos++
	}
	switch {
	case t.pos < len(t.data) && t.data[t.pos] == '0':
		t.pos++
	case t.pos < len(t.data) && '1' <= t.data[t.pos] && t.data[t.pos] <= '9':
		t.skipDigits()
	default:
		return nil, t.syntaxError("in numeric literal")
	}
	if t.pos < len(t.data) && t.data[t.pos] == '.' {
		t.pos++
		if !t.skipDigits() {
			return nil, t.syntaxError("after decimal point in numeric literal")
		}
	}
	if t.pos < len(t.data) && (t.data[t.pos] == 'e' || t.data[t.pos] == 'E') {
		t.pos++
		if t.pos < len(t.data) && (t.data[t.pos] == '+' || t.data[t.pos] == '-') {
			t.pos++
		}
		if !t.skipDigits() {
			return nil, t.syntaxError("in exponent of numeric literal")
		}
	}
	return t.data[start:t.pos], nil
}

// bufferNumber reads a stream on until the bytes that may belong to the
// number at the read position end inside data.
func (t *Tokenizer) bufferNumber() {
	i := t.pos
	for {
		for i < len(t.data) && isNumberByte(t.data[i]) {
			i++
		}
		if i < len(t.data) {
			return
		}
		dropped, ok := t.refill(t.pos)
		if !ok {
			return
		}
		i -= dropped
	}
}

// isNumberByte reports whether c may occur in a JSON number.
func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// skipDigits advances past decimal digits and reports whether there was one.
func (t *Tokenizer) skipDigits() bool {
	start := t.pos
	for t.pos < len(t.data) && '0' <= t.data[t.pos] && t.data[t.pos] <= '9' {
		t.pos++
	}
	return t.pos > start
}

// Literal consumes the literal word (true, false or null) at the read
// position.
func (t *Tokenizer) Literal(word string) error {
	if t.pos+len(word) > len(t.data) {
		t.want(len(word), t.pos)
	}
	for i := 0; i < len(word); i++ {
		if t.pos >= len(t.data) || t.data[t.pos] != word[i] {
			return t.syntaxError("in literal " + word)
		}
		t.pos++
	}
	return nil
}

// Bool reads true or false.
func (t *Tokenizer) Bool() (bool, error) {
	if t.data[t.pos] == 't' {
		return true, t.Literal("true")
	}
	return false, t.Literal("false")
}

// SkipValue validates and skips one value; depth is the nesting level of
// the container holding it (0 for a top-level value).
func (t *Tokenizer) SkipValue(depth int) error {
	kind, err := t.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case Object:
		return t.Object(depth+1, func(Key) error { return t.SkipValue(depth + 1) })
	case Array:
		return t.Array(depth+1, func() error { return t.SkipValue(depth + 1) })
	case String:
		_, _, err = t.RawString()
	case Number:
		_, err = t.RawNumber()
	case Bool:
		_, err = t.Bool()
	case Null:
		err = t.Literal("null")
	}
	return err
}

// RawValue validates and skips one value like SkipValue and returns its
// text, which stays valid until the tokenizer reads on.
func (t *Tokenizer) RawValue(depth int) ([]byte, error) {
	t.SkipSpace()
	start, prev := t.Offset(), t.hold
	if prev < 0 {
		t.hold = start
	}
	err := t.SkipValue(depth)
	t.hold = prev
	if err != nil {
		return nil, err
	}
	return t.data[int(start-t.base):t.pos], nil
}

// Key is an object member's key.
type Key struct {
	// Raw is the text between the quotes. It stays valid until the member's
	// value is read.
	Raw []byte
	// Plain reports that Raw is the key itself: no escapes, valid UTF-8.
	Plain bool
	// Offset is the input offset of the key's opening quote.
	Offset int64
}

// ObjectOrNull reads a null, reporting false, or finds an object at the
// read position for Object, reporting true; any other value is a type error
// naming what.
func (t *Tokenizer) ObjectOrNull(what string) (object bool, err error) {
	kind, err := t.Peek()
	switch {
	case err != nil:
		return false, err
	case kind == Object:
		return true, nil
	case kind == Null:
		return false, t.Literal("null")
	}
	return false, t.TypeError(what, "an object", kind)
}

// Object reads the object at the read position, which Peek found, calling
// member with each key and the tokenizer at the member's value, which
// member must consume. depth is the object's nesting level.
func (t *Tokenizer) Object(depth int, member func(Key) error) error {
	if depth > MaxDepth {
		return &Error{t.Offset(), fmt.Sprintf("exceeded max depth %d", MaxDepth)}
	}
	t.pos++ // '{'
	if t.skipSpace(); t.pos == len(t.data) {
		t.more()
	}
	if t.pos < len(t.data) && t.data[t.pos] == '}' {
		t.pos++
		return nil
	}
	for {
		if t.skipSpace(); t.pos == len(t.data) {
			t.more()
		}
		k := Key{Offset: t.Offset()}
		var err error
		if k.Raw, k.Plain, err = t.RawString(); err != nil {
			return err
		}
		if t.pos < len(t.data) && t.data[t.pos] == ':' { // the usual `"key":`
			t.pos++
		} else if err := t.colon(&k); err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
		if t.skipSpace(); t.pos == len(t.data) && !t.more() {
			return t.syntaxError("after object key:value pair")
		}
		switch t.data[t.pos] {
		case ',':
			t.pos++
		case '}':
			t.pos++
			return nil
		default:
			return t.syntaxError("after object key:value pair")
		}
	}
}

// colon reads the colon after key k when white space precedes it. A stream
// may read on, so it holds the key (kept by RawString from just after the
// quote) and updates k.Raw.
func (t *Tokenizer) colon(k *Key) error {
	prev := t.hold
	if prev < 0 {
		t.hold = k.Offset + 1
	}
	t.SkipSpace()
	t.hold = prev
	k.Raw = t.data[int(k.Offset+1-t.base):][:len(k.Raw)]
	if t.pos == len(t.data) || t.data[t.pos] != ':' {
		return t.syntaxError("after object key")
	}
	t.pos++
	return nil
}

// Array reads the array at the read position, which Peek found, calling
// element with the tokenizer at each value, which element must consume.
// depth is the array's nesting level.
func (t *Tokenizer) Array(depth int, element func() error) error {
	if depth > MaxDepth {
		return &Error{t.Offset(), fmt.Sprintf("exceeded max depth %d", MaxDepth)}
	}
	t.pos++ // '['
	if t.skipSpace(); t.pos == len(t.data) {
		t.more()
	}
	if t.pos < len(t.data) && t.data[t.pos] == ']' {
		t.pos++
		return nil
	}
	for {
		if err := element(); err != nil {
			return err
		}
		if t.skipSpace(); t.pos == len(t.data) && !t.more() {
			return t.syntaxError("after array element")
		}
		switch t.data[t.pos] {
		case ',':
			t.pos++
		case ']':
			t.pos++
			return nil
		default:
			return t.syntaxError("after array element")
		}
	}
}
