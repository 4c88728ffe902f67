package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/condabox/condabox/internal/jsonscan"
	"github.com/condabox/condabox/pkg/conda"
)

// Path types conda-meta records beside paths.json's hardlink, softlink and
// directory: files the installer generates.
const (
	PathPycFile              conda.PathType = "pyc_file"
	PathUnixPythonEntryPoint conda.PathType = "unix_python_entry_point"
)

// Link types of a record's "link" object, as conda numbers them (2,
// softlink, is never used for a whole package).
const (
	LinkHard = 1
	LinkCopy = 3
)

// PrefixPath is one entry of a conda-meta record's paths_data: a file as it
// is in the prefix. SHA256 is the package's bytes, SHA256InPrefix the bytes
// after prefix replacement.
type PrefixPath struct {
	Path              string         `json:"_path"`
	PathType          conda.PathType `json:"path_type"`
	SHA256            string         `json:"sha256,omitempty"`
	SHA256InPrefix    string         `json:"sha256_in_prefix,omitempty"`
	SizeInBytes       int64          `json:"size_in_bytes,omitempty"`
	FileMode          conda.FileMode `json:"file_mode,omitempty"`
	PrefixPlaceholder string         `json:"prefix_placeholder,omitempty"`
	NoLink            bool           `json:"no_link,omitempty"`
}

// MarshalJSON writes the keys in the struct's order, empty ones left out,
// except size_in_bytes: every hardlink and softlink has it, also when 0, as
// conda writes it, and then last. Written by hand: a record holds one per
// file (python's: thousands), and reflection made conda-meta the slowest
// part of a warm image build.
func (p PrefixPath) MarshalJSON() ([]byte, error) {
	sized := p.PathType == conda.PathHardlink || p.PathType == conda.PathSoftlink
	b := make([]byte, 0, 64+len(p.Path)+len(p.SHA256)+len(p.SHA256InPrefix)+len(p.PrefixPlaceholder))
	b = append(b, `{"_path":`...)
	b = appendJSONString(b, p.Path)
	b = append(b, `,"path_type":`...)
	b = appendJSONString(b, string(p.PathType))
	for _, kv := range [...]struct{ key, value string }{{"sha256", p.SHA256}, {"sha256_in_prefix", p.SHA256InPrefix}} {
		if kv.value != "" {
			b = append(b, `,"`+kv.key+`":`...)
			b = appendJSONString(b, kv.value)
		}
	}
	if p.SizeInBytes != 0 && !sized {
		b = append(b, `,"size_in_bytes":`...)
		b = strconv.AppendInt(b, p.SizeInBytes, 10)
	}
	for _, kv := range [...]struct{ key, value string }{{"file_mode", string(p.FileMode)}, {"prefix_placeholder", p.PrefixPlaceholder}} {
		if kv.value != "" {
			b = append(b, `,"`+kv.key+`":`...)
			b = appendJSONString(b, kv.value)
		}
	}
	if p.NoLink {
		b = append(b, `,"no_link":true`...)
	}
	if sized {
		b = append(b, `,"size_in_bytes":`...)
		b = strconv.AppendInt(b, p.SizeInBytes, 10)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as encoding/json writes it: plain printable
// ASCII as is, anything else (escapes, HTML characters, invalid UTF-8) by
// encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// PathsData is a conda-meta record's paths_data.
type PathsData struct {
	PathsVersion int          `json:"paths_version"`
	Paths        []PrefixPath `json:"paths"`
}

// RecordLink is a conda-meta record's "link": where the files came from
// and how they were placed.
type RecordLink struct {
	Source string `json:"source"`
	Type   int    `json:"type"`
}

// PrefixRecord is conda-meta/<name>-<version>-<build>.json: the package's
// repodata record plus what installing it did.
type PrefixRecord struct {
	conda.PackageRecord
	Files                  []string    `json:"files"`
	PathsData              PathsData   `json:"paths_data"`
	Link                   *RecordLink `json:"link,omitempty"`
	RequestedSpec          string      `json:"requested_spec,omitempty"`
	ExtractedPackageDir    string      `json:"extracted_package_dir,omitempty"`
	PackageTarballFullPath string      `json:"package_tarball_full_path,omitempty"`

	// extra holds keys of repodata_record.json that PackageRecord does not
	// model (purls, run_exports …): conda keeps them, so do we.
	extra map[string]json.RawMessage
}

// metaName is the record's file name inside conda-meta.
func metaName(r *conda.PackageRecord) string { return r.Dist() + ".json" }

// MarshalJSON writes the record as conda does: every key, sorted, with
// depends and constrains as lists (never null), indented.
func (p *PrefixRecord) MarshalJSON() ([]byte, error) {
	m, err := p.members()
	if err != nil {
		return nil, err
	}
	return conda.IndentJSON(m, "")
}

// CompactJSON returns the record as json.Marshal(p) does: MarshalJSON's
// members, compact and with <, > and & escaped, but without building the
// indented text that json.Marshal then validates and compacts again. Image
// builds write conda-meta this way, once per package and build.
func (p *PrefixRecord) CompactJSON() ([]byte, error) {
	m, err := p.members()
	if err != nil {
		return nil, err
	}
	size := 2
	for k, v := range m {
		size += len(k) + len(v) + 4
	}
	out := make([]byte, 0, size)
	out = append(out, '{')
	var buf bytes.Buffer
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(appendJSONString(out, k), ':')
		v := m[k]
		if _, kept := p.extra[k]; !kept {
			out = append(out, v...) // written by encoding/json or by hand: compact and escaped
			continue
		}
		// A kept member is as the record read it: spaces, HTML.
		buf.Reset()
		if err := json.Compact(&buf, v); err != nil {
			return nil, err
		}
		var esc bytes.Buffer
		json.HTMLEscape(&esc, buf.Bytes())
		out = append(out, esc.Bytes()...)
	}
	return append(out, '}'), nil
}

// members returns the record's top-level members, each value compact and
// HTML-escaped but those of p.extra, kept as they were read.
func (p *PrefixRecord) members() (map[string]json.RawMessage, error) {
	type plain PrefixRecord // without methods: no recursion
	q := plain(*p)
	if q.Depends == nil {
		q.Depends = []string{}
	}
	// files and paths_data, one entry per file, are written by hand below:
	// through reflection and the map they cost most of the encoding.
	q.Files, q.PathsData = nil, PathsData{}
	b, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	files := []byte{'['}
	for i, f := range p.Files {
		if i > 0 {
			files = append(files, ',')
		}
		files = appendJSONString(files, f)
	}
	m["files"] = append(files, ']')
	paths := append([]byte(`{"paths_version":`), strconv.Itoa(p.PathsData.PathsVersion)...)
	paths = append(paths, `,"paths":[`...)
	for i, pp := range p.PathsData.Paths {
		if i > 0 {
			paths = append(paths, ',')
		}
		e, _ := pp.MarshalJSON() // never fails
		paths = append(paths, e...)
	}
	m["paths_data"] = append(paths, "]}"...)
	if _, ok := m["constrains"]; !ok {
		m["constrains"] = json.RawMessage("[]")
	}
	for k, v := range p.extra {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m, nil
}

// UnmarshalJSON reads a record, keeping unmodelled keys: files and
// paths_data by hand (condameta_decode.go), the rest with encoding/json.
func (p *PrefixRecord) UnmarshalJSON(b []byte) error {
	extra, ok, err := decodeRecord(b, p)
	if ok {
		if err == nil {
			p.extra = extra
		}
		return err
	}
	type plain PrefixRecord
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	extra, err = unknownMembers(b)
	if err != nil {
		return err
	}
	*p = PrefixRecord(q)
	p.extra = extra
	return nil
}

// unknownMembers returns the members of the record b (valid JSON: it was
// just decoded) that PrefixRecord does not model, as decoding it into a
// map[string]json.RawMessage would: the last of repeated keys, raw values
// without surrounding space. jsonscan skips the rest (paths_data above
// all) several times faster than a second encoding/json pass, which
// validated and scanned the whole record again: reading conda-meta is what
// every install, update, remove and list starts with.
func unknownMembers(b []byte) (map[string]json.RawMessage, error) {
	extra := map[string]json.RawMessage{}
	t := jsonscan.NewBytes(b)
	if kind, err := t.Peek(); err != nil || kind != jsonscan.Object {
		return extra, err // null: no members
	}
	err := t.Object(1, func(k jsonscan.Key) error {
		name := k.String()
		if knownKeys[name] {
			return t.SkipValue(1)
		}
		raw, err := t.RawValue(1)
		if err == nil {
			extra[name] = slices.Clone(raw)
		}
		return err
	})
	return extra, err
}

// knownKeys are the JSON keys PrefixRecord models, from its struct tags.
var knownKeys = jsonKeys(reflect.TypeFor[PrefixRecord]())

// jsonKeys lists the JSON keys of a struct type, including those of
// embedded structs.
func jsonKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for f := range t.Fields() {
		if f.Anonymous {
			maps.Copy(keys, jsonKeys(f.Type))
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}

// ReadPrefix reads every conda-meta/*.json record of prefix, sorted by
// name. A prefix without conda-meta has no records.
func ReadPrefix(prefix string) ([]*PrefixRecord, error) {
	dir := filepath.Join(prefix, "conda-meta")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read installed packages: %w", err)
	}
	var out []*PrefixRecord
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		var r PrefixRecord
		if err := readJSON(filepath.Join(dir, e.Name()), &r); err != nil {
			return nil, fmt.Errorf("read installed packages: %w", err)
		}
		out = append(out, &r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// readJSON decodes the JSON file name into v; errors name the file.
func readJSON(name string, v any) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	return decodeJSON(b, name, v)
}

// decodeJSON decodes b, the content of name, into v.
func decodeJSON(b []byte, name string, v any) (err error) {
	// A type with its own decoder validates the bytes itself: through
	// json.Unmarshal they would be validated once more first.
	if u, ok := v.(json.Unmarshaler); ok {
		err = u.UnmarshalJSON(b)
	} else {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	return nil
}

// tmpSuffix marks the temporary file writeFileSync renames into place.
const tmpSuffix = ".condabox-tmp"

// writeFileSync writes data to name through a temporary file, fsynced and
// renamed into place, so that readers (and a crash) see the old or the new
// content, never a part.
func writeFileSync(name string, data []byte, perm fs.FileMode) error {
	tmp := name + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// writeRecord writes r to prefix/conda-meta.
func writeRecord(prefix string, r *PrefixRecord) error {
	b, err := r.MarshalJSON() // not json.Marshal, which would compact it
	if err != nil {
		return fmt.Errorf("encode conda-meta record of %s: %w", r.Dist(), err)
	}
	return writeFileSync(filepath.Join(prefix, "conda-meta", metaName(&r.PackageRecord)), append(b, '\n'), 0o644)
}

// HistoryEntry is what one transaction appends to conda-meta/history.
type HistoryEntry struct {
	Time time.Time
	// Cmd is the command line, written as "# cmd: ...".
	Cmd string
	// UpdateSpecs and RemoveSpecs are the user's requested specs.
	UpdateSpecs, RemoveSpecs []string
}

// historyText formats one history block as conda does: a dated header,
// the command, "-" lines for removed and "+" lines for added packages
// (channel::dist), then the requested specs as a python list.
func historyText(e HistoryEntry, removed []*PrefixRecord, added []*conda.PackageRecord) string {
	var b strings.Builder
	fmt.Fprintf(&b, "==> %s <==\n", e.Time.UTC().Format(time.DateTime))
	fmt.Fprintf(&b, "# cmd: %s\n", e.Cmd)
	var minus, plus []string
	for _, r := range removed {
		minus = append(minus, "-"+historyDist(&r.PackageRecord))
	}
	for _, r := range added {
		plus = append(plus, "+"+historyDist(r))
	}
	sort.Strings(minus)
	sort.Strings(plus)
	for _, l := range append(minus, plus...) {
		b.WriteString(l + "\n")
	}
	if len(e.UpdateSpecs) > 0 {
		fmt.Fprintf(&b, "# update specs: %s\n", pythonList(e.UpdateSpecs))
	}
	if len(e.RemoveSpecs) > 0 {
		fmt.Fprintf(&b, "# remove specs: %s\n", pythonList(e.RemoveSpecs))
	}
	return b.String()
}

// historyDist is "conda-forge/linux-64::python-3.11.9-h_0": the channel's
// canonical name (the path of an anaconda.org URL) with subdir, then the dist.
func historyDist(r *conda.PackageRecord) string {
	ch := strings.TrimSuffix(r.Channel, "/")
	if u, err := url.Parse(ch); err == nil && u.Host == "conda.anaconda.org" {
		ch = strings.TrimPrefix(u.Path, "/")
	}
	if r.Subdir != "" && !strings.HasSuffix(ch, "/"+r.Subdir) {
		ch += "/" + r.Subdir
	}
	return ch + "::" + r.Dist()
}

// pythonList writes specs as python's repr of a list of str does.
func pythonList(specs []string) string {
	q := make([]string, len(specs))
	for i, s := range specs {
		q[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}
