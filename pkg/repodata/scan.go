package repodata

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"github.com/condabox/condabox/internal/jsonscan"
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

// scanIndex reads a repodata.json from r in one pass, holding only a window
// of it besides the index. It validates the whole document as encoding/json
// would, and the type of every record and name; the other fields of a
// record are checked when it is decoded. Errors from r are returned
// wrapped; malformed input is a *jsonscan.Error.
func scanIndex(r io.Reader) (*nameIndex, error) {
	s := &indexScan{t: jsonscan.NewReader(r), ix: &nameIndex{ids: map[string]int{}}}
	if err := s.document(); err != nil {
		return nil, fmt.Errorf("parse repodata: %w", err)
	}
	return s.ix, nil
}

// indexScan is the state of scanIndex's pass.
type indexScan struct {
	t  *jsonscan.Tokenizer
	ix *nameIndex
	// Reused buffers, so that scanning allocates only for new package names.
	fileBuf, nameBuf []byte
}

// document scans the whole document: an object or null.
func (s *indexScan) document() error {
	object, err := s.t.ObjectOrNull("document")
	if object {
		err = s.t.Object(1, s.topField)
	}
	if err != nil {
		return err
	}
	return s.t.End()
}

// topField scans the value of a top-level key.
func (s *indexScan) topField(k jsonscan.Key) error {
	switch {
	case k.Is("info"):
		raw, err := s.t.RawValue(1)
		s.ix.info = bytes.Clone(raw)
		return err
	case k.Is("packages"):
		return s.section(false)
	case k.Is("packages.conda"):
		return s.section(true)
	}
	return s.t.SkipValue(1)
}

// section scans "packages" or "packages.conda": null or an object of records.
func (s *indexScan) section(conda bool) error {
	object, err := s.t.ObjectOrNull("package section")
	if err != nil {
		return err
	}
	if !object {
		// null drops the section's records read so far, as encoding/json
		// does when a repeated key sets the map to nil.
		for id, spans := range s.ix.spans {
			s.ix.spans[id] = slices.DeleteFunc(spans, func(sp span) bool { return sp.conda == conda })
		}
		return nil
	}
	return s.t.Object(2, func(k jsonscan.Key) error {
		s.fileBuf = append(s.fileBuf[:0], k.Raw...)
		name, err := s.recordName()
		if err != nil {
			return fmt.Errorf("record %q: %w", jsonscan.Decoded(s.fileBuf, k.Plain), err)
		}
		n := s.t.Offset() - k.Offset
		if n > 1<<31-1 {
			return fmt.Errorf("record %q at offset %d: larger than 2 GiB", jsonscan.Decoded(s.fileBuf, k.Plain), k.Offset)
		}
		// The lookup with string(name) does not allocate; only a new name
		// is copied.
		id, ok := s.ix.ids[string(name)]
		if !ok {
			id = len(s.ix.spans)
			s.ix.ids[string(name)] = id
			s.ix.spans = append(s.ix.spans, nil)
		}
		s.ix.spans[id] = append(s.ix.spans[id], span{off: k.Offset, n: int32(n), conda: conda})
		return nil
	})
}

// recordName scans one record, an object or null, and returns its decoded
// name, valid until the next record. A record without a name has the name
// "", which no spec reaches.
func (s *indexScan) recordName() ([]byte, error) {
	if object, err := s.t.ObjectOrNull("record"); !object {
		return nil, err
	}
	var name []byte
	err := s.t.Object(3, func(k jsonscan.Key) error {
		if !k.Is("name") {
			return s.t.SkipValue(3)
		}
		kind, err := s.t.Peek()
		if err != nil {
			return err
		}
		switch kind {
		case jsonscan.Null: // leaves the name as it was, as in encoding/json
			return s.t.Literal("null")
		case jsonscan.String:
		default:
			return s.t.TypeError("name", "a string", kind)
		}
		raw, plain, err := s.t.RawString()
		if plain {
			s.nameBuf = append(s.nameBuf[:0], raw...)
		} else {
			s.nameBuf = append(s.nameBuf[:0], jsonscan.Unescape(raw)...)
		}
		name = s.nameBuf
		return err
	})
	return name, err
}
