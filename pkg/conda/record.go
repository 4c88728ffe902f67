package conda

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// PackageRecord is one package of a channel: an entry of repodata.json, an
// info/index.json, or (with FileName, URL and Channel set) a
// repodata_record.json. JSON keys are conda's.
type PackageRecord struct {
	Name          string      `json:"name"`
	Version       Version     `json:"version"`
	Build         string      `json:"build"`
	BuildNumber   uint64      `json:"build_number"`
	Depends       []string    `json:"depends"`
	Constrains    []string    `json:"constrains,omitempty"`
	TrackFeatures FeatureList `json:"track_features,omitempty"`
	Features      string      `json:"features,omitempty"`
	Noarch        NoarchType  `json:"noarch,omitempty"`
	Subdir        string      `json:"subdir,omitempty"`
	Platform      string      `json:"platform,omitempty"`
	Arch          string      `json:"arch,omitempty"`
	// Timestamp is milliseconds since the Unix epoch as conda writes it;
	// old records hold seconds (see Time).
	Timestamp              int64  `json:"timestamp,omitempty"`
	Size                   int64  `json:"size,omitempty"`
	MD5                    string `json:"md5,omitempty"`
	SHA256                 string `json:"sha256,omitempty"`
	LegacyBZ2MD5           string `json:"legacy_bz2_md5,omitempty"`
	LegacyBZ2Size          int64  `json:"legacy_bz2_size,omitempty"`
	License                string `json:"license,omitempty"`
	LicenseFamily          string `json:"license_family,omitempty"`
	PythonSitePackagesPath string `json:"python_site_packages_path,omitempty"`

	// Set in repodata_record.json and by loaders; not part of repodata entries.
	FileName string `json:"fn,omitempty"`
	URL      string `json:"url,omitempty"`
	Channel  string `json:"channel,omitempty"`
}

// Time returns the record's timestamp, accepting both milliseconds and
// (in old records) seconds, as conda does.
func (r *PackageRecord) Time() time.Time {
	if r.Timestamp == 0 {
		return time.Time{}
	}
	if r.Timestamp > 253402300799 { // after year 9999 in seconds: must be ms
		return time.UnixMilli(r.Timestamp).UTC()
	}
	return time.Unix(r.Timestamp, 0).UTC()
}

// Dist returns "name-version-build", the package's file name without extension.
func (r *PackageRecord) Dist() string {
	return r.Name + "-" + r.Version.String() + "-" + r.Build
}

// NoarchType is the noarch kind of a package: "" (platform specific),
// "generic" or "python". Old records write `"noarch": true` for generic.
type NoarchType string

const (
	NoarchNone    NoarchType = ""
	NoarchGeneric NoarchType = "generic"
	NoarchPython  NoarchType = "python"
)

// UnmarshalJSON accepts a string, a bool or null.
func (n *NoarchType) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "null", "false":
		*n = NoarchNone
		return nil
	case "true":
		*n = NoarchGeneric
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("noarch: want a string or bool, got %s", b)
	}
	switch NoarchType(s) {
	case NoarchNone, NoarchGeneric, NoarchPython:
		*n = NoarchType(s)
		return nil
	}
	return fmt.Errorf("noarch: unknown kind %q (want generic or python)", s)
}

// FeatureList is a list of feature names. conda writes it as one string
// separated by spaces or commas; lists are accepted too.
type FeatureList []string

// ParseFeatureList splits "a b,c" into its names.
func ParseFeatureList(s string) FeatureList {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(f) == 0 {
		return nil
	}
	return FeatureList(f)
}

// MarshalJSON writes the conda form: one space separated string.
func (f FeatureList) MarshalJSON() ([]byte, error) { return json.Marshal(strings.Join(f, " ")) }

// UnmarshalJSON accepts a string, a list of strings or null.
func (f *FeatureList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = nil
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var l []string
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("track_features: %w", err)
		}
		*f = l
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("track_features: want a string or list, got %s", b)
	}
	*f = ParseFeatureList(s)
	return nil
}
