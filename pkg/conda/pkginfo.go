package conda

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Types of the files in a conda package's info/ directory. index.json is a
// PackageRecord; the others are below. JSON keys are conda's.

// PathType says how a file of a package is placed in a prefix.
type PathType string

const (
	PathHardlink  PathType = "hardlink"
	PathSoftlink  PathType = "softlink"
	PathDirectory PathType = "directory"
)

// FileMode says how a prefix placeholder is replaced: as text, or in a
// binary file where the replacement is padded with NUL bytes to keep lengths.
type FileMode string

const (
	FileModeText   FileMode = "text"
	FileModeBinary FileMode = "binary"
)

// PathsJSON is info/paths.json: every path of the package with its hash,
// size and prefix placeholder.
type PathsJSON struct {
	Paths        []PathEntry `json:"paths"`
	PathsVersion int         `json:"paths_version"`
}

// PathEntry is one entry of info/paths.json. Fields are in the sorted key
// order conda-build writes, so encoding/json output matches it.
type PathEntry struct {
	// Path is relative to the prefix and slash-separated; conda's key is "_path".
	Path              string   `json:"_path"`
	FileMode          FileMode `json:"file_mode,omitempty"`
	NoLink            bool     `json:"no_link,omitempty"`
	PathType          PathType `json:"path_type"`
	PrefixPlaceholder string   `json:"prefix_placeholder,omitempty"`
	// SHA256 (hex) and SizeInBytes describe a hardlink's bytes as stored in
	// the package, before any prefix replacement.
	SHA256      string `json:"sha256,omitempty"`
	SizeInBytes int64  `json:"size_in_bytes,omitempty"`
}

// LinkJSON is info/link.json, written for noarch packages.
type LinkJSON struct {
	Noarch                 NoarchLink `json:"noarch"`
	PackageMetadataVersion int        `json:"package_metadata_version"`
}

// NoarchLink is the "noarch" object of info/link.json.
type NoarchLink struct {
	Type        NoarchType `json:"type"`
	EntryPoints []string   `json:"entry_points,omitempty"`
}

// RunExports is info/run_exports.json: dependencies a package adds to the
// packages built against it.
type RunExports struct {
	Weak             []string `json:"weak,omitempty"`
	Strong           []string `json:"strong,omitempty"`
	WeakConstrains   []string `json:"weak_constrains,omitempty"`
	StrongConstrains []string `json:"strong_constrains,omitempty"`
	Noarch           []string `json:"noarch,omitempty"`
}

// AboutJSON is info/about.json. Only the common keys are typed; readers
// ignore the rest.
type AboutJSON struct {
	Summary       string `json:"summary,omitempty"`
	Description   string `json:"description,omitempty"`
	Home          string `json:"home,omitempty"`
	DevURL        string `json:"dev_url,omitempty"`
	DocURL        string `json:"doc_url,omitempty"`
	License       string `json:"license,omitempty"`
	LicenseFamily string `json:"license_family,omitempty"`
	LicenseFile   any    `json:"license_file,omitempty"`
}

// MarshalJSON writes size_in_bytes for every hardlink and softlink, also
// when 0, as conda-build does; the omitempty tag alone would drop it.
func (e PathEntry) MarshalJSON() ([]byte, error) {
	type plain PathEntry // no methods: avoids recursing into MarshalJSON
	if e.PathType == PathDirectory {
		return json.Marshal(plain(e))
	}
	return json.Marshal(struct {
		plain
		SizeInBytes int64 `json:"size_in_bytes"`
	}{plain(e), e.SizeInBytes})
}

// Fields returns the record's JSON object as a map. encoding/json writes a
// map with sorted keys, which is how conda writes info/index.json and
// repodata.json; encoders of other formats (msgpack shards) can walk it.
// Numbers are json.Number so integers survive unchanged. Strings that are
// not UTF-8 are an error: JSON cannot carry them.
func (r *PackageRecord) Fields() (map[string]any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", r.Dist(), err)
	}
	// encoding/json writes invalid bytes as the escape \ufffd (a real
	// U+FFFD stays literal), so the escape marks lossy input.
	if bytes.Contains(b, []byte(`\ufffd`)) {
		return nil, fmt.Errorf("record %q: a string field is not valid UTF-8", r.Dist())
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("record %s: %w", r.Dist(), err)
	}
	return m, nil
}

// IndentJSON encodes v as conda writes its JSON files (info/*.json,
// repodata.json): two-space indent after prefix on each new line, keys of
// maps sorted, and <, > and & kept literal where json.Marshal would write
// "python \u003e=3.9".
func IndentJSON(v any, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
