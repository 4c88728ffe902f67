package repodata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// span is where one record lies in a repodata.json: the member
// `"file-name.conda":{...}` of "packages" (tar.bz2) or "packages.conda".
type span struct {
	off   int64
	n     int32
	conda bool
}

// nameIndex is the result of scanning a repodata.json once: the raw "info"
// object and, per package name, where its records lie. It is what lets a
// load read only the records of the names a solve reaches, instead of
// holding or decoding the whole document.
type nameIndex struct {
	info  []byte         // raw JSON of "info"; nil when absent
	ids   map[string]int // package name → index in spans
	spans [][]span
}

// lookup returns the spans of the records named name.
func (ix *nameIndex) lookup(name string) []span {
	if i, ok := ix.ids[name]; ok {
		return ix.spans[i]
	}
	return nil
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 256

// scanBufSize is the read size; a value larger than the buffer (a huge
// string) grows it.
const scanBufSize = 1 << 20

// errSyntax marks malformed JSON, as opposed to a failing reader.
var errSyntax = errors.New("invalid JSON")

// scanIndex reads a repodata.json from r in one pass with constant memory
// beyond the index itself. It checks the document's structure (brackets,
// strings, literals, member syntax) and the type of every record and name;
// the other fields of a record are checked when it is decoded. Errors from
// r are returned wrapped; syntax errors wrap errSyntax and give the offset.
func scanIndex(r io.Reader) (*nameIndex, error) {
	s := &scanner{r: r, buf: make([]byte, 0, scanBufSize), keep: -1}
	ix := &nameIndex{ids: map[string]int{}}
	if err := s.document(ix); err != nil {
		return nil, err
	}
	return ix, nil
}

// scanner is a pull reader over a stream with absolute offsets.
type scanner struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte of buf
	base int64 // stream offset of buf[0]
	keep int64 // stream offset from which refills must keep bytes, or -1
	eof  bool
	// Reused buffers, so that scanning allocates only for new package names.
	nameBuf, fileBuf []byte
}

// hold makes refills keep the bytes from stream offset off on and returns
// the previous hold for release; an earlier hold already covers off.
func (s *scanner) hold(off int64) int64 {
	prev := s.keep
	if prev < 0 {
		s.keep = off
	}
	return prev
}

// at returns the buffered bytes between two stream offsets, which a hold
// must have kept.
func (s *scanner) at(from, to int64) []byte { return s.buf[from-s.base : to-s.base] }

// offset is the stream offset of the next unread byte.
func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

// fill reads more input, dropping the consumed bytes before the hold (or
// before pos when nothing is held). It reports false at the end of input;
// a read error is returned.
func (s *scanner) fill() (bool, error) {
	if s.eof {
		return false, nil
	}
	keep := s.pos
	if s.keep >= 0 {
		keep = int(s.keep - s.base)
	}
	if keep > 0 {
		n := copy(s.buf[:cap(s.buf)], s.buf[keep:])
		s.buf = s.buf[:n]
		s.base += int64(keep)
		s.pos -= keep
	}
	if len(s.buf) == cap(s.buf) {
		s.buf = append(s.buf, make([]byte, cap(s.buf))...)[:len(s.buf)]
	}
	for {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err == io.EOF {
			s.eof = true
			return n > 0, nil
		}
		if err != nil {
			return false, fmt.Errorf("read at offset %d: %w", s.base+int64(len(s.buf)), err)
		}
		if n > 0 {
			return true, nil
		}
	}
}

func (s *scanner) syntax(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, s.offset())
}

// next skips white space and returns the next byte without consuming it;
// at the end of input it returns a syntax error saying what was expected.
func (s *scanner) next(want string) (byte, error) {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, nil
			}
		}
		more, err := s.fill()
		if err != nil {
			return 0, err
		}
		if !more {
			return 0, s.syntax("unexpected end of input, want " + want)
		}
	}
}

// expect consumes byte c after white space.
func (s *scanner) expect(c byte, want string) error {
	got, err := s.next(want)
	if err != nil {
		return err
	}
	if got != c {
		return s.syntax(fmt.Sprintf("unexpected %q, want %s", got, want))
	}
	s.pos++
	return nil
}

func (s *scanner) document(ix *nameIndex) error {
	c, err := s.next("an object")
	if err != nil {
		return err
	}
	if c != '{' {
		return s.syntax(fmt.Sprintf("document starts with %q, want an object", c))
	}
	s.pos++
	err = s.members(func(key []byte, _ int64) error {
		switch {
		case keyIs(key, "info"):
			return s.capture(&ix.info)
		case keyIs(key, "packages"):
			return s.section(ix, false)
		case keyIs(key, "packages.conda"):
			return s.section(ix, true)
		}
		return s.skipValue(1)
	})
	if err != nil {
		return err
	}
	if _, err := s.next(""); err == nil {
		return s.syntax("data after the document")
	} else if !errors.Is(err, errSyntax) {
		return err
	}
	return nil
}

// keyIs matches a member key as encoding/json does: exactly or, failing
// that, ignoring case. Keys with escapes are compared decoded.
func keyIs(raw []byte, want string) bool {
	if string(raw) == want {
		return true
	}
	if len(raw) < len(want) {
		return false // escapes and non-ASCII folds only lengthen a key
	}
	if plain(raw) {
		// Most keys differ in length; EqualFold on bytes does not allocate.
		return len(raw) == len(want) && bytes.EqualFold(raw, []byte(want))
	}
	return strings.EqualFold(unquote(raw), want)
}

// unquote decodes the contents of a JSON string (without quotes) as
// encoding/json does, invalid UTF-8 becoming U+FFFD; scanString has vetted
// it.
func unquote(raw []byte) string {
	if plain(raw) {
		return string(raw)
	}
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
		return string(raw)
	}
	return s
}

// plain reports whether a JSON string's contents decode to themselves.
func plain(raw []byte) bool {
	// Keys and names are short and ASCII: one loop settles most.
	for i, c := range raw {
		if c == '\\' {
			return false
		}
		if c >= utf8.RuneSelf {
			return bytes.IndexByte(raw[i:], '\\') < 0 && utf8.Valid(raw[i:])
		}
	}
	return true
}

// members scans an object's members after its '{', calling value for each
// with the member's key and the stream offset of the key's opening quote,
// and with the scanner at the member's value. key is valid during the call.
func (s *scanner) members(value func(key []byte, start int64) error) error {
	c, err := s.next("a key or '}'")
	if err != nil {
		return err
	}
	if c == '}' {
		s.pos++
		return nil
	}
	for {
		start := s.offset()
		key, err := s.key()
		if err != nil {
			return err
		}
		if err := value(key, start); err != nil {
			return err
		}
		if done, err := s.separator('}', "',' or '}'", "after an object member"); done || err != nil {
			return err
		}
	}
}

// separator consumes the ',' between two values (done false) or the
// closing bracket (done true).
func (s *scanner) separator(closing byte, want, where string) (done bool, err error) {
	c, err := s.next(want)
	if err != nil {
		return false, err
	}
	if c != ',' && c != closing {
		return false, s.syntax(fmt.Sprintf("unexpected %q %s, want %s", c, where, want))
	}
	s.pos++
	return c == closing, nil
}

// key scans `"key" :` and returns the key's raw contents, which stay valid
// until the scanner reads on.
func (s *scanner) key() ([]byte, error) {
	c, err := s.next("a key")
	if err != nil {
		return nil, err
	}
	if c != '"' {
		return nil, s.syntax(fmt.Sprintf("unexpected %q, want a key", c))
	}
	start := s.offset()
	prev := s.hold(start)
	err = s.scanString()
	end := s.offset() - 1
	if err == nil {
		err = s.expect(':', "':' after a key")
	}
	s.keep = prev
	if err != nil {
		return nil, err
	}
	return s.at(start+1, end), nil
}

// scanString consumes a string whose opening quote is at pos.
func (s *scanner) scanString() error {
	s.pos++
	for {
		rest := s.buf[s.pos:]
		i := bytes.IndexByte(rest, '"')
		if j := bytes.IndexByte(rest[:max(i, 0)], '\\'); i < 0 || j >= 0 {
			if i < 0 {
				j = bytes.IndexByte(rest, '\\')
			}
			if j < 0 { // no quote nor escape: need more input
				s.pos = len(s.buf)
				if err := s.more("unterminated string"); err != nil {
					return err
				}
				continue
			}
			// Escape: make sure the escaped byte is present, skip both.
			s.pos += j
			for s.pos+1 >= len(s.buf) {
				if err := s.more("unterminated string"); err != nil {
					return err
				}
			}
			if !strings.ContainsRune(`"\/bfnrtu`, rune(s.buf[s.pos+1])) {
				return s.syntax(fmt.Sprintf("invalid escape %q", s.buf[s.pos:s.pos+2]))
			}
			s.pos += 2
			continue
		}
		s.pos += i + 1
		return nil
	}
}

// more reads more input or fails with a syntax error about what was cut.
func (s *scanner) more(what string) error {
	more, err := s.fill()
	if err != nil {
		return err
	}
	if !more {
		return s.syntax(what)
	}
	return nil
}

// capture scans an object or null and stores its raw text in dst.
func (s *scanner) capture(dst *[]byte) error {
	if _, err := s.next("a value"); err != nil {
		return err
	}
	start := s.offset()
	prev := s.hold(start)
	defer func() { s.keep = prev }()
	if err := s.skipValue(1); err != nil {
		return err
	}
	*dst = bytes.Clone(s.at(start, s.offset()))
	return nil
}

// section scans "packages" or "packages.conda": null or an object of records.
func (s *scanner) section(ix *nameIndex, conda bool) error {
	c, err := s.next("an object")
	if err != nil {
		return err
	}
	if c == 'n' {
		// null drops the section's records read so far, as encoding/json
		// does when a repeated key sets the map to nil.
		for id, spans := range ix.spans {
			ix.spans[id] = slices.DeleteFunc(spans, func(sp span) bool { return sp.conda == conda })
		}
		return s.literal("null")
	}
	if c != '{' {
		return s.syntax(fmt.Sprintf("package section starts with %q, want an object", c))
	}
	s.pos++
	return s.members(func(key []byte, start int64) error {
		s.fileBuf = append(s.fileBuf[:0], key...)
		name, err := s.record()
		if err != nil {
			return fmt.Errorf("record %q: %w", unquote(s.fileBuf), err)
		}
		n := s.offset() - start
		if n > 1<<31-1 {
			return s.syntax("record too large")
		}
		if !plain(name) {
			name = []byte(unquote(name))
		}
		// The lookup with string(name) does not allocate; only a new name
		// is copied.
		id, ok := ix.ids[string(name)]
		if !ok {
			id = len(ix.spans)
			ix.ids[string(name)] = id
			ix.spans = append(ix.spans, nil)
		}
		ix.spans[id] = append(ix.spans[id], span{off: start, n: int32(n), conda: conda})
		return nil
	})
}

// record scans one record object and returns its raw name, valid until
// the next record.
func (s *scanner) record() ([]byte, error) {
	if err := s.expect('{', "a record object"); err != nil {
		return nil, err
	}
	var name []byte
	err := s.members(func(key []byte, _ int64) error {
		if !keyIs(key, "name") {
			return s.skipValue(3)
		}
		c, err := s.next("a string")
		if err != nil {
			return err
		}
		if c == 'n' { // null leaves the name empty, as in encoding/json
			name = nil
			return s.literal("null")
		}
		if c != '"' {
			return s.syntax(fmt.Sprintf("name starts with %q, want a string", c))
		}
		start := s.offset()
		prev := s.hold(start)
		err = s.scanString()
		if err == nil {
			s.nameBuf = append(s.nameBuf[:0], s.at(start+1, s.offset()-1)...)
			name = s.nameBuf
		}
		s.keep = prev
		return err
	})
	// A record without a name is indexed under "", which no spec reaches.
	return name, err
}

// skipValue consumes any JSON value.
func (s *scanner) skipValue(depth int) error {
	if depth > maxDepth {
		return s.syntax("nested too deep")
	}
	c, err := s.next("a value")
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		return s.scanString()
	case c == '{':
		s.pos++
		return s.members(func([]byte, int64) error { return s.skipValue(depth + 1) })
	case c == '[':
		s.pos++
		return s.array(depth)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return s.syntax(fmt.Sprintf("unexpected %q, want a value", c))
}

func (s *scanner) array(depth int) error {
	c, err := s.next("a value or ']'")
	if err != nil {
		return err
	}
	if c == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.skipValue(depth + 1); err != nil {
			return err
		}
		if done, err := s.separator(']', "',' or ']'", "in an array"); done || err != nil {
			return err
		}
	}
}

// literal consumes true, false or null.
func (s *scanner) literal(word string) error {
	for s.pos+len(word) > len(s.buf) {
		if err := s.more("truncated literal"); err != nil {
			return err
		}
	}
	if string(s.buf[s.pos:s.pos+len(word)]) != word {
		return s.syntax(fmt.Sprintf("invalid literal, want %s", word))
	}
	s.pos += len(word)
	return nil
}

// number consumes a number's characters; their grammar is checked when
// the record is decoded.
func (s *scanner) number() error {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; {
			case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
				s.pos++
			default:
				return nil
			}
		}
		more, err := s.fill()
		if err != nil || !more {
			return err
		}
	}
}
