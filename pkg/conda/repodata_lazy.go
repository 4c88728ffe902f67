package conda

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/condabox/condabox/internal/jsonscan"
)

// LazyRepoData is a repodata.json document indexed by package name. One scan
// validates the whole document and notes where each record lies; a name's
// records are decoded only when asked for, so a solver pays for the packages
// it reaches rather than for the whole channel.
//
// It keeps data: the caller must not modify it afterwards. The records it
// returns do not share data's memory. Its methods are safe for concurrent use.
type LazyRepoData struct {
	data   []byte
	info   RepoDataInfo
	byName map[string][]rawRecord
	names  []string
}

// Section indexes of rawRecord.section.
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
	end     int // offset just after the record
}

// repoDataFields are the top-level keys, for case-insensitive matching.
var repoDataFields = []string{"info", "packages", "packages.conda", "removed", "repodata_version"}

// infoFields are the keys of "info" the model keeps.
var infoFields = []string{"subdir", "base_url"}

// NewLazyRepoData scans a repodata.json document. It fails on anything
// encoding/json would reject except errors inside a record's fields other
// than "name", which Records reports.
func NewLazyRepoData(data []byte) (*LazyRepoData, error) {
	// conda-forge records take 500-700 bytes: reserve room for the records
	// up front instead of growing the slice a dozen times.
	s := repoScan{r: jsonReader{Tokenizer: jsonscan.NewBytes(data)}, records: make([]rawRecord, 0, len(data)/512)}
	if err := s.document(); err != nil {
		return nil, fmt.Errorf("parse repodata: %w", err)
	}
	var latest map[fileKey]int
	if s.irregular {
		latest = latestOffsets(s.records)
	}
	l := &LazyRepoData{data: data, info: s.head.Info, byName: map[string][]rawRecord{}}
	for _, recs := range groupByName(s.records) {
		slices.SortFunc(recs, func(a, b rawRecord) int {
			return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.section, b.section), cmp.Compare(a.offset, b.offset))
		})
		if recs = dropReplaced(recs, latest); len(recs) > 0 {
			l.byName[recs[0].name] = recs
			l.names = append(l.names, recs[0].name)
		}
	}
	slices.Sort(l.names)
	return l, nil
}

// groupByName returns recs grouped by name, in one new backing array, each
// group in document order. A counting sort keeps this linear; real
// repodata lists a package's records together, so the name map is consulted
// once per run of one name rather than once per record.
func groupByName(recs []rawRecord) [][]rawRecord {
	groupOf := map[string]int{}
	var sizes []int
	runGroup := make([]int, 0, len(recs)) // group of each record
	for i, r := range recs {
		if i == 0 || r.name != recs[i-1].name {
			g, ok := groupOf[r.name]
			if !ok {
				g = len(sizes)
				groupOf[r.name] = g
				sizes = append(sizes, 0)
			}
			runGroup = append(runGroup, g)
		} else {
			runGroup = append(runGroup, runGroup[i-1])
		}
		sizes[runGroup[i]]++
	}
	backing := make([]rawRecord, len(recs))
	groups := make([][]rawRecord, len(sizes))
	start := 0
	for g, n := range sizes {
		groups[g] = backing[start : start : start+n]
		start += n
	}
	for i, r := range recs {
		groups[runGroup[i]] = append(groups[runGroup[i]], r)
	}
	return groups
}

// fileKey identifies a record slot: a repeated key replaces the record.
type fileKey struct {
	key     string
	section int
}

// latestOffsets maps each slot to the offset of its last record.
func latestOffsets(recs []rawRecord) map[fileKey]int {
	latest := make(map[fileKey]int, len(recs))
	for _, r := range recs {
		k := fileKey{r.key, r.section}
		latest[k] = max(latest[k], r.offset)
	}
	return latest
}

// dropReplaced removes from one name's records, sorted by key, section and
// offset, each record that a later one of the same slot replaces. When every
// key is "name-version-build.ext" of its record's name, records of one slot
// share a name and sit side by side; otherwise latest (from latestOffsets)
// tells, since the slot's other records may have other names.
func dropReplaced(recs []rawRecord, latest map[fileKey]int) []rawRecord {
	replaced := func(i int) bool {
		return i+1 < len(recs) && recs[i+1].key == recs[i].key && recs[i+1].section == recs[i].section
	}
	if latest != nil {
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
func (l *LazyRepoData) Info() RepoDataInfo { return l.info }

// Names returns the package names in the document, sorted.
func (l *LazyRepoData) Names() []string { return slices.Clone(l.names) }

// Records decodes the records named name, sorted by file name, leaving out a
// .tar.bz2 when the .conda of the same package exists. FileName is set from
// each record's key. It returns nil for an unknown name.
func (l *LazyRepoData) Records(name string) ([]PackageRecord, error) {
	raw := l.byName[name]
	recs := make([]PackageRecord, len(raw))
	r := jsonReader{Tokenizer: jsonscan.NewBytes(l.data)}
	for i, rr := range raw {
		if err := l.decode(&r, rr, &recs[i]); err != nil {
			return nil, err
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}
	return preferConda(recs), nil
}

// decode decodes one record with r and names it after its key.
func (l *LazyRepoData) decode(r *jsonReader, rr rawRecord, rec *PackageRecord) error {
	r.Seek(rr.offset)
	r.text, r.textOffset = string(l.data[rr.offset:rr.end]), rr.offset
	if err := r.decodeRecord(rec, 2); err != nil {
		return fmt.Errorf("parse repodata: %s[%q]: %w", sectionKeys[rr.section], rr.key, err)
	}
	rec.FileName = rr.key
	return nil
}

// repoScan is the state of NewLazyRepoData's single pass.
type repoScan struct {
	r       jsonReader
	head    RepoData // the document; its record maps only with decodeAll
	records []rawRecord
	// irregular is set when a key is not "name-version-build.ext" of its
	// record's name; see dropReplaced.
	irregular bool
	// lastName is the previous record's name, reused for the next record of
	// the same package to save an allocation per record.
	lastName string
	// decodeAll makes the scan decode every record into head's maps
	// (ParseRepoData) instead of indexing records (LazyRepoData).
	decodeAll bool
}

// document scans the whole document: an object or null.
func (s *repoScan) document() error {
	object, err := s.r.ObjectOrNull("document")
	if object {
		err = s.r.Object(1, func(k jsonscan.Key) error { return s.topField(k.String()) })
	}
	if err != nil {
		return err
	}
	return s.r.End()
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
	return s.r.SkipValue(1)
}

// info scans the "info" object; null leaves it unchanged.
func (s *repoScan) info() error {
	if object, err := s.r.ObjectOrNull("info"); !object {
		return err
	}
	return s.r.Object(2, func(k jsonscan.Key) error { return s.infoField(k.String()) })
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
	return s.r.SkipValue(2)
}

// section scans "packages" or "packages.conda": an object of records, or
// null, which drops the records read so far, as encoding/json does with a
// repeated key.
func (s *repoScan) section(sec int) error {
	object, err := s.r.ObjectOrNull(sectionKeys[sec])
	if err != nil {
		return err
	}
	if !object {
		s.records = slices.DeleteFunc(s.records, func(r rawRecord) bool { return r.section == sec })
		*s.recordMap(sec) = nil
		return nil
	}
	if m := s.recordMap(sec); s.decodeAll && *m == nil {
		*m = map[string]PackageRecord{}
	}
	return s.r.Object(2, func(k jsonscan.Key) error {
		key := k.String()
		if s.decodeAll {
			var rec PackageRecord
			if err := s.r.decodeRecord(&rec, 2); err != nil {
				return fmt.Errorf("%s[%q]: %w", sectionKeys[sec], key, err)
			}
			rec.FileName = key
			(*s.recordMap(sec))[key] = rec
			return nil
		}
		s.r.SkipSpace()
		rec := rawRecord{key: key, section: sec, offset: int(s.r.Offset())}
		var err error
		if rec.name, err = s.recordName(); err != nil {
			return fmt.Errorf("%s[%q]: %w", sectionKeys[sec], key, err)
		}
		rec.end = int(s.r.Offset())
		if !s.irregular && !isFileNameOf(key, rec.name) {
			s.irregular = true
		}
		s.records = append(s.records, rec)
		return nil
	})
}

// recordMap returns the map of head that holds section sec.
func (s *repoScan) recordMap(sec int) *map[string]PackageRecord {
	if sec == sectionConda {
		return &s.head.Conda
	}
	return &s.head.Packages
}

// recordName validates a record and returns its name, decoded as
// decodeRecord would; the other fields are left for Records.
func (s *repoScan) recordName() (string, error) {
	if object, err := s.r.ObjectOrNull("record"); !object {
		return "", err
	}
	var name string
	err := s.r.Object(3, func(k jsonscan.Key) error {
		if !k.Is("name") {
			return s.r.SkipValue(3)
		}
		if kind, _ := s.r.Peek(); kind == jsonscan.String {
			value, plain, err := s.r.RawString()
			if plain && string(value) == s.lastName {
				name = s.lastName
			} else if err == nil {
				name = jsonscan.Decoded(value, plain)
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
