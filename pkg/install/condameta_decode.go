package install

// A hand-written decoder for the two big members of a conda-meta record,
// files and paths_data (one entry per file: python's record lists
// thousands), on internal/jsonscan's tokenizer. encoding/json decodes them
// by reflection at a few tens of MB/s, and reading conda-meta is what every
// install, update, remove and list starts with. The other members, small,
// still go through encoding/json. Every rule mirrors encoding/json (v1),
// which TestDecodeRecordMatchesEncodingJSON and FuzzDecodeRecord check:
// case-insensitive keys, null leaving strings, numbers and booleans as they
// were, strconv's integer rules. A repeated key of these members (conda
// never writes one) makes encoding/json merge the second value into the
// first; rather than copy that, such a record is decoded by encoding/json.

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/condabox/condabox/internal/jsonscan"
)

// errRepeated makes decodeRecord leave a record to encoding/json.
var errRepeated = errors.New("repeated key")

// decodeRecord decodes the record b into p and returns the members it does
// not model. ok is false when a repeated key needs encoding/json.
func decodeRecord(b []byte, p *PrefixRecord) (extra map[string]json.RawMessage, ok bool, err error) {
	type plain PrefixRecord
	var q plain
	extra = map[string]json.RawMessage{}
	t := jsonscan.NewBytes(b)
	kind, err := t.Peek()
	if err != nil {
		return nil, true, err
	}
	if kind != jsonscan.Object {
		// null, or a type error: encoding/json says which.
		return nil, false, nil
	}
	// rest is the record without files and paths_data, for encoding/json.
	rest := make([]byte, 0, 4096)
	rest = append(rest, '{')
	var seenFiles, seenPaths bool
	err = t.Object(1, func(k jsonscan.Key) error {
		name := k.String()
		isFiles, isPaths := k.Is("files"), k.Is("paths_data")
		if (isFiles && seenFiles) || (isPaths && seenPaths) {
			return errRepeated
		}
		seenFiles, seenPaths = seenFiles || isFiles, seenPaths || isPaths
		if knownKeys[name] && (isFiles || isPaths) { // the usual case: decoded where they are
			if isFiles {
				q.Files, err = decodeFiles(t)
				return err
			}
			return decodePathsData(t, &q.PathsData)
		}
		raw, err := t.RawValue(1)
		if err != nil {
			return err
		}
		if !knownKeys[name] {
			extra[name] = bytes.Clone(raw)
		}
		switch {
		case isFiles:
			q.Files, err = decodeFiles(jsonscan.NewBytes(raw))
			return err
		case isPaths:
			return decodePathsData(jsonscan.NewBytes(raw), &q.PathsData)
		}
		appendMember(&rest, b, k, raw)
		return nil
	})
	if errors.Is(err, errRepeated) {
		return nil, false, nil
	}
	if err == nil {
		err = t.End()
	}
	if err != nil {
		return nil, true, err
	}
	if len(rest) > 1 {
		rest = rest[:len(rest)-1] // the last comma
	}
	rest = append(rest, '}')
	files, paths := q.Files, q.PathsData
	if err := json.Unmarshal(rest, &q); err != nil {
		return nil, true, err
	}
	q.Files, q.PathsData = files, paths
	*p = PrefixRecord(q)
	return extra, true, nil
}

// appendMember appends `"key":value,` to rest, the key as it is in doc.
func appendMember(rest *[]byte, doc []byte, k jsonscan.Key, raw []byte) {
	start := int(k.Offset)
	end := start + 1 + len(k.Raw) + 1 // the quotes
	*rest = append(append(append(append(*rest, doc[start:end]...), ':'), raw...), ',')
}

// decodeFiles decodes files: a list of strings; null is nil.
func decodeFiles(t *jsonscan.Tokenizer) ([]string, error) {
	kind, err := t.Peek()
	if err != nil {
		return nil, err
	}
	switch kind {
	case jsonscan.Null:
		return nil, t.Literal("null")
	case jsonscan.Array:
	default:
		return nil, t.TypeError("files", "a list of strings", kind)
	}
	files := []string{}
	err = t.Array(2, func() error {
		var s string
		if err := decodeString(t, "files", &s); err != nil {
			return err
		}
		files = append(files, s)
		return nil
	})
	return files, err
}

// decodePathsData decodes paths_data into pd; null leaves it as it was.
func decodePathsData(t *jsonscan.Tokenizer, pd *PathsData) error {
	object, err := t.ObjectOrNull("paths_data")
	if !object || err != nil {
		return err
	}
	var seenVersion, seenPaths bool
	return t.Object(2, func(k jsonscan.Key) error {
		switch {
		case k.Is("paths_version"):
			if seenVersion {
				return errRepeated
			}
			seenVersion = true
			var n int64
			err := decodeInt(t, "paths_version", &n)
			pd.PathsVersion = int(n)
			return err
		case k.Is("paths"):
			if seenPaths {
				return errRepeated
			}
			seenPaths = true
			return decodePaths(t, &pd.Paths)
		}
		return t.SkipValue(2)
	})
}

// decodePaths decodes paths_data.paths: a list of path objects; null is
// nil, and a null element is an empty path.
func decodePaths(t *jsonscan.Tokenizer, dst *[]PrefixPath) error {
	kind, err := t.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case jsonscan.Null:
		*dst = nil
		return t.Literal("null")
	case jsonscan.Array:
	default:
		return t.TypeError("paths", "a list of objects", kind)
	}
	paths := []PrefixPath{}
	err = t.Array(3, func() error {
		paths = append(paths, PrefixPath{})
		object, err := t.ObjectOrNull("path")
		if !object || err != nil {
			return err
		}
		return decodePath(t, &paths[len(paths)-1])
	})
	*dst = paths
	return err
}

// pathFields are PrefixPath's keys, in its order; seen bits follow it.
var pathFields = [...]string{"_path", "path_type", "sha256", "sha256_in_prefix", "size_in_bytes", "file_mode", "prefix_placeholder", "no_link"}

// decodePath decodes one path object into p.
func decodePath(t *jsonscan.Tokenizer, p *PrefixPath) error {
	var seen uint
	return t.Object(4, func(k jsonscan.Key) error {
		field := -1
		for i, name := range pathFields {
			if k.Is(name) {
				field = i
				break
			}
		}
		if field < 0 {
			return t.SkipValue(4)
		}
		if seen&(1<<field) != 0 {
			return errRepeated
		}
		seen |= 1 << field
		switch field {
		case 0:
			return decodeString(t, "_path", &p.Path)
		case 1:
			return decodeString(t, "path_type", (*string)(&p.PathType))
		case 2:
			return decodeString(t, "sha256", &p.SHA256)
		case 3:
			return decodeString(t, "sha256_in_prefix", &p.SHA256InPrefix)
		case 4:
			return decodeInt(t, "size_in_bytes", &p.SizeInBytes)
		case 5:
			return decodeString(t, "file_mode", (*string)(&p.FileMode))
		case 6:
			return decodeString(t, "prefix_placeholder", &p.PrefixPlaceholder)
		default:
			return decodeBool(t, "no_link", &p.NoLink)
		}
	})
}

// decodeString reads a string into *dst; null leaves it as it was.
func decodeString(t *jsonscan.Tokenizer, what string, dst *string) error {
	kind, err := t.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case jsonscan.String:
		raw, plain, err := t.RawString()
		*dst = jsonscan.Decoded(raw, plain)
		return err
	case jsonscan.Null:
		return t.Literal("null")
	}
	return t.TypeError(what, "a string", kind)
}

// decodeInt reads an integer into *dst with strconv's rules (encoding/json's:
// no fraction, no exponent, no overflow); null leaves it as it was.
func decodeInt(t *jsonscan.Tokenizer, what string, dst *int64) error {
	kind, err := t.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case jsonscan.Number:
		text, err := t.RawNumber()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(text), 10, 64)
		if err != nil {
			return t.TypeError(what, "an integer that fits 64 bits", kind)
		}
		*dst = n
		return nil
	case jsonscan.Null:
		return t.Literal("null")
	}
	return t.TypeError(what, "an integer", kind)
}

// decodeBool reads a boolean into *dst; null leaves it as it was.
func decodeBool(t *jsonscan.Tokenizer, what string, dst *bool) error {
	kind, err := t.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case jsonscan.Bool:
		*dst, err = t.Bool()
		return err
	case jsonscan.Null:
		return t.Literal("null")
	}
	return t.TypeError(what, "true or false", kind)
}
