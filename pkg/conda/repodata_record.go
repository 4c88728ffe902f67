package conda

import (
	"fmt"

	"github.com/condabox/condabox/internal/jsonscan"
)

// recordFields are PackageRecord's JSON keys in struct order, for keys that
// match one only case-insensitively (see foldedField).
// TestFastDecoderKnowsEveryField fails when PackageRecord gains a key this
// list or decodeRecordField lacks.
var recordFields = []string{
	"name", "version", "build", "build_number", "depends", "constrains",
	"track_features", "features", "noarch", "subdir", "platform", "arch",
	"timestamp", "size", "md5", "sha256", "legacy_bz2_md5", "legacy_bz2_size",
	"license", "license_family", "python_site_packages_path", "fn", "url", "channel",
}

// decodeRecord decodes the record object (or null) at the reader's position
// into rec, exactly as encoding/json would decode it into a PackageRecord.
// depth is the nesting level of the container holding the record.
func (r *jsonReader) decodeRecord(rec *PackageRecord, depth int) error {
	if object, err := r.ObjectOrNull("record"); !object {
		return err
	}
	return r.Object(depth+1, func(k jsonscan.Key) error {
		key := k.Raw
		if !k.Plain {
			key = []byte(jsonscan.Unescape(key))
		}
		return r.decodeRecordField(rec, key, depth+1)
	})
}

// decodeRecordField decodes the value of one record key into rec. It takes
// the key as bytes, and errors name fields by constants, so that matching a
// key allocates nothing.
func (r *jsonReader) decodeRecordField(rec *PackageRecord, key []byte, depth int) error {
	switch string(key) {
	case "name":
		return r.decodeString("name", &rec.Name)
	case "version":
		return r.decodeVersion(&rec.Version)
	case "build":
		return r.decodeString("build", &rec.Build)
	case "build_number":
		n := int64(rec.BuildNumber)
		err := r.decodeInt("build_number", &n, true)
		rec.BuildNumber = uint64(n)
		return err
	case "depends":
		return r.decodeStringList("depends", &rec.Depends, depth)
	case "constrains":
		return r.decodeStringList("constrains", &rec.Constrains, depth)
	case "track_features":
		return r.decodeFeatures(&rec.TrackFeatures, depth)
	case "features":
		return r.decodeString("features", &rec.Features)
	case "noarch":
		return r.decodeNoarch(&rec.Noarch)
	case "subdir":
		return r.decodeString("subdir", &rec.Subdir)
	case "platform":
		return r.decodeString("platform", &rec.Platform)
	case "arch":
		return r.decodeString("arch", &rec.Arch)
	case "timestamp":
		return r.decodeInt("timestamp", &rec.Timestamp, false)
	case "size":
		return r.decodeInt("size", &rec.Size, false)
	case "md5":
		return r.decodeString("md5", &rec.MD5)
	case "sha256":
		return r.decodeString("sha256", &rec.SHA256)
	case "legacy_bz2_md5":
		return r.decodeString("legacy_bz2_md5", &rec.LegacyBZ2MD5)
	case "legacy_bz2_size":
		return r.decodeInt("legacy_bz2_size", &rec.LegacyBZ2Size, false)
	case "license":
		return r.decodeString("license", &rec.License)
	case "license_family":
		return r.decodeString("license_family", &rec.LicenseFamily)
	case "python_site_packages_path":
		return r.decodeString("python_site_packages_path", &rec.PythonSitePackagesPath)
	case "fn":
		return r.decodeString("fn", &rec.FileName)
	case "url":
		return r.decodeString("url", &rec.URL)
	case "channel":
		return r.decodeString("channel", &rec.Channel)
	}
	if i := foldedField(string(key), recordFields); i >= 0 {
		return r.decodeRecordField(rec, []byte(recordFields[i]), depth)
	}
	return r.SkipValue(depth)
}

// decodeVersion follows Version.UnmarshalJSON: a string (null counts as the
// empty string) parsed by ParseVersion.
func (r *jsonReader) decodeVersion(dst *Version) error {
	var s string
	if err := r.decodeString("version", &s); err != nil {
		return err
	}
	v, err := ParseVersion(s)
	if err != nil {
		return fmt.Errorf("offset %d: %w", r.Offset(), err)
	}
	*dst = v
	return nil
}

// decodeNoarch follows NoarchType.UnmarshalJSON.
func (r *jsonReader) decodeNoarch(dst *NoarchType) error {
	kind, err := r.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case jsonscan.Null:
		*dst = NoarchNone
		return r.Literal("null")
	case jsonscan.Bool:
		b, err := r.Bool()
		*dst = NoarchNone
		if b {
			*dst = NoarchGeneric
		}
		return err
	case jsonscan.String:
		start := r.Offset()
		s, err := r.readString()
		if err != nil {
			return err
		}
		switch n := NoarchType(s); n {
		case NoarchNone, NoarchGeneric, NoarchPython:
			*dst = n
			return nil
		}
		return fmt.Errorf("offset %d: noarch: unknown kind %q (want generic or python)", start, s)
	}
	return r.TypeError("noarch", "a string or bool", kind)
}

// decodeFeatures follows FeatureList.UnmarshalJSON: a separated string, a
// list of strings (decoded afresh) or null.
func (r *jsonReader) decodeFeatures(dst *FeatureList, depth int) error {
	kind, err := r.Peek()
	if err != nil {
		return err
	}
	switch kind {
	case jsonscan.String:
		s, err := r.readString()
		*dst = ParseFeatureList(s)
		return err
	case jsonscan.Null, jsonscan.Array:
		var list []string
		err := r.decodeStringList("track_features", &list, depth)
		*dst = list
		return err
	}
	return r.TypeError("track_features", "a string or list", kind)
}
