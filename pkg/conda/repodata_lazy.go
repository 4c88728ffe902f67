package conda

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// LazyRepoData is a repodata.json document indexed by package name. One scan
// validates the whole document and notes where each record lies; a name's
// records are decoded only when asked for, so a solver pays for the packages
// it reaches rather than for the whole channel.
//
// It keeps data: the caller must not modify it afterwards.
type LazyRepoData struct {
	data   []byte
	head   RepoData // Info, Version and Removed; the record maps stay nil
	has    [2]bool  // whether "packages" / "packages.conda" is an object
	byName map[string][]rawRecord
	names  []string
}

// Section indexes of LazyRepoData.has and rawRecord.section.
const (
	sectionTarBz2 = 0 // "packages"
	sectionConda  = 1 // "packages.conda"
)

var sectionKeys = [2]string{"packages", "packages.conda"}

// rawRecord is where one record's value lies in the document.
type rawRecord struct {
	name    string
	key     string // the file name
	section int
	offset  int // also the document order: a later record replaces one of the same key
}

// repoDataFields are the top-level keys, for case-insensitive matching.
var repoDataFields = []string{"info", "packages", "packages.conda", "removed", "repodata_version"}

// infoFields are the keys of "info" the model keeps.
var infoFields = []string{"subdir", "base_url"}

// NewLazyRepoData scans a repodata.json document. It fails on anything
// encoding/json would reject except errors inside a record's fields other
// than "name", which Records reports.
func NewLazyRepoData(data []byte) (*LazyRepoData, error) {
	s := repoScan{r: jsonReader{data: data}}
	if err := s.document(); err != nil {
		return nil, fmt.Errorf("parse repodata: %w", err)
	}
	// One sort makes each name's records a run, in Records' order. Real
	// repodata is sorted by key already, which the sort handles in linear time.
	recs := s.records
	slices.SortFunc(recs, func(a, b rawRecord) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.key, b.key),
			cmp.Compare(a.section, b.section), cmp.Compare(a.offset, b.offset))
	})
	recs = dropReplaced(recs, s.irregular)
	l := &LazyRepoData{data: data, head: s.head, has: s.has, byName: map[string][]rawRecord{}}
	for len(recs) > 0 {
		n := 1
		for n < len(recs) && recs[n].name == recs[0].name {
			n++
		}
		l.byName[recs[0].name] = recs[:n:n]
		l.names = append(l.names, recs[0].name)
		recs = recs[n:]
	}
	return l, nil
}

// dropReplaced removes each record that a later one of the same section and
// key replaces, from recs sorted as NewLazyRepoData sorts them. When every
// key is "name-version-build.ext" of its record (regular), records of one
// key share a name and so sit side by side; otherwise a map finds them.
func dropReplaced(recs []rawRecord, irregular bool) []rawRecord {
	replaced := func(i int) bool {
		return i+1 < len(recs) && recs[i+1].key == recs[i].key && recs[i+1].section == recs[i].section
	}
	if irregular {
		type fileKey struct {
			key     string
			section int
		}
		latest := make(map[fileKey]int, len(recs))
		for _, r := range recs {
			k := fileKey{r.key, r.section}
			latest[k] = max(latest[k], r.offset)
		}
		replaced = func(i int) bool { return recs[i].offset != latest[fileKey{recs[i].key, recs[i].section}] }
	}
	kept := recs[:0] // in place: kept never overtakes the index replaced reads
	for i, r := range recs {
		if !replaced(i) {
			kept = append(kept, r)
		}
	}
	return kept
}

// Info returns the document's "info" object.
func (l *LazyRepoData) Info() RepoDataInfo { return l.head.Info }

// Names returns the package names in the document, sorted.
func (l *LazyRepoData) Names() []string { return slices.Clone(l.names) }

// Records decodes the records named name, sorted by file name, leaving out a
// .tar.bz2 when the .conda of the same package exists. FileName is set from
// each record's key. It returns nil for an unknown name.
func (l *LazyRepoData) Records(name string) ([]PackageRecord, error) {
	raw := l.byName[name]
	recs := make([]PackageRecord, len(raw))
	for i, rr := range raw {
		if err := l.decode(rr, &recs[i]); err != nil {
			return nil, err
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return preferConda(recs), nil
}

// decode decodes one record and names it after its key.
func (l *LazyRepoData) decode(rr rawRecord, rec *PackageRecord) error {
	r := jsonReader{data: l.data, pos: rr.offset}
	if err := r.decodeRecord(rec, 2); err != nil {
		return fmt.Errorf("parse repodata: %s[%q]: %w", sectionKeys[rr.section], rr.key, err)
	}
	rec.FileName = rr.key
	return nil
}

// decodeAll decodes every record into a RepoData.
func (l *LazyRepoData) decodeAll() (*RepoData, error) {
	rd := l.head
	var sections [2]map[string]PackageRecord
	for i, has := range l.has {
		if has {
			sections[i] = map[string]PackageRecord{}
		}
	}
	for _, name := range l.names {
		for _, rr := range l.byName[name] {
			var rec PackageRecord
			if err := l.decode(rr, &rec); err != nil {
				return nil, err
			}
			sections[rr.section][rr.key] = rec
		}
	}
	rd.Packages, rd.Conda = sections[sectionTarBz2], sections[sectionConda]
	return &rd, nil
}

// repoScan is the state of NewLazyRepoData's single pass.
type repoScan struct {
	r       jsonReader
	head    RepoData
	has     [2]bool
	records []rawRecord
	// irregular is set when a key is not "name-version-build.ext" of its
	// record's name; see dropReplaced.
	irregular bool
	// lastName is the previous record's name, reused for the next record of
	// the same package to save an allocation per record.
	lastName string
}

// document scans the whole document: an object or null.
func (s *repoScan) document() error {
	kind, err := s.r.peek()
	if err != nil {
		return err
	}
	switch kind {
	case kindNull:
		err = s.r.literal("null")
	case kindObject:
		err = s.r.eachMember(1, func(raw []byte, plain bool) error {
			return s.topField(keyString(raw, plain))
		})
	default:
		return s.r.typeError("document", "an object", kind)
	}
	if err != nil {
		return err
	}
	s.r.skipSpace()
	if s.r.pos < len(s.r.data) {
		return s.r.syntaxError("after top-level value")
	}
	return nil
}

// topField scans the value of a top-level key.
func (s *repoScan) topField(key string) error {
	switch key {
	case "info":
		return s.info()
	case "packages":
		return s.section(sectionTarBz2)
	case "packages.conda":
		return s.section(sectionConda)
	case "removed":
		return s.r.decodeStringList(key, &s.head.Removed, 1)
	case "repodata_version":
		n := int64(s.head.Version)
		err := s.r.decodeInt(key, &n, false)
		s.head.Version = int(n)
		return err
	}
	if i := foldedField(key, repoDataFields); i >= 0 {
		return s.topField(repoDataFields[i])
	}
	return s.r.skipValue(1)
}

// info scans the "info" object; null leaves it unchanged.
func (s *repoScan) info() error {
	kind, err := s.r.peek()
	if err != nil {
		return err
	}
	switch kind {
	case kindNull:
		return s.r.literal("null")
	case kindObject:
	default:
		return s.r.typeError("info", "an object", kind)
	}
	return s.r.eachMember(2, func(raw []byte, plain bool) error {
		return s.infoField(keyString(raw, plain))
	})
}

// infoField scans the value of a key of "info".
func (s *repoScan) infoField(key string) error {
	switch key {
	case "subdir":
		return s.r.decodeString("info.subdir", &s.head.Info.Subdir)
	case "base_url":
		return s.r.decodeString("info.base_url", &s.head.Info.BaseURL)
	}
	if i := foldedField(key, infoFields); i >= 0 {
		return s.infoField(infoFields[i])
	}
	return s.r.skipValue(2)
}

// section scans "packages" or "packages.conda": an object of records, or
// null, which drops the records read so far, as encoding/json does with a
// repeated key.
func (s *repoScan) section(sec int) error {
	kind, err := s.r.peek()
	if err != nil {
		return err
	}
	switch kind {
	case kindNull:
		s.records = slices.DeleteFunc(s.records, func(r rawRecord) bool { return r.section == sec })
		s.has[sec] = false
		return s.r.literal("null")
	case kindObject:
	default:
		return s.r.typeError(sectionKeys[sec], "an object", kind)
	}
	s.has[sec] = true
	return s.r.eachMember(2, func(raw []byte, plain bool) error {
		key := keyString(raw, plain)
		s.r.skipSpace()
		rec := rawRecord{key: key, section: sec, offset: s.r.pos}
		var err error
		if rec.name, err = s.recordName(); err != nil {
			return fmt.Errorf("%s[%q]: %w", sectionKeys[sec], key, err)
		}
		if !s.irregular && !isFileNameOf(key, rec.name) {
			s.irregular = true
		}
		s.records = append(s.records, rec)
		return nil
	})
}

// recordName validates a record and returns its name, decoded as
// decodeRecord would; the other fields are left for Records.
func (s *repoScan) recordName() (string, error) {
	kind, err := s.r.peek()
	if err != nil {
		return "", err
	}
	switch kind {
	case kindNull:
		return "", s.r.literal("null")
	case kindObject:
	default:
		return "", s.r.typeError("record", "an object", kind)
	}
	var name string
	err = s.r.eachMember(3, func(raw []byte, plain bool) error {
		if !isNameKey(raw, plain) {
			return s.r.skipValue(3)
		}
		if kind, _ := s.r.peek(); kind == kindString {
			value, plain, err := s.r.rawString()
			if plain && string(value) == s.lastName {
				name = s.lastName
			} else if err == nil {
				name = keyString(value, plain)
				s.lastName = name
			}
			return err
		}
		return s.r.decodeString("name", &name)
	})
	return name, err
}

// isFileNameOf reports whether key is "name-version-build.ext" for name;
// versions and build strings hold no dash.
func isFileNameOf(key, name string) bool {
	i := strings.LastIndexByte(key, '-')
	if i < 0 {
		return false
	}
	j := strings.LastIndexByte(key[:i], '-')
	return j >= 0 && key[:j] == name
}

// isNameKey reports whether a record key selects the "name" field. Record
// field names differ even when case is folded, so a key folding to "name"
// cannot be the exact name of another field.
func isNameKey(raw []byte, plain bool) bool {
	if plain && string(raw) == "name" {
		return true
	}
	return strings.EqualFold(keyString(raw, plain), "name")
}
