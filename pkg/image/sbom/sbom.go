// Package sbom writes the software bill of materials of a conda environment
// as an SPDX 2.3 JSON document: one SPDX package per conda package, with its
// version, build, channel, download URL, sha256 and declared license, and
// DEPENDS_ON relationships between them.
package sbom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/condabox/condabox/pkg/conda"
)

// MediaType is the SPDX JSON media type, the artifactType of the SBOM
// referrer pushed beside an image.
const MediaType = "application/spdx+json"

// Document is an SPDX 2.3 document, reduced to the fields condabox fills.
type Document struct {
	SPDXVersion       string         `json:"spdxVersion"`
	DataLicense       string         `json:"dataLicense"`
	SPDXID            string         `json:"SPDXID"`
	Name              string         `json:"name"`
	DocumentNamespace string         `json:"documentNamespace"`
	CreationInfo      CreationInfo   `json:"creationInfo"`
	Packages          []Package      `json:"packages"`
	Relationships     []Relationship `json:"relationships"`
}

// CreationInfo says when and by what the document was made.
type CreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

// Package is one conda package.
type Package struct {
	SPDXID           string        `json:"SPDXID"`
	Name             string        `json:"name"`
	VersionInfo      string        `json:"versionInfo"`
	DownloadLocation string        `json:"downloadLocation"`
	FilesAnalyzed    bool          `json:"filesAnalyzed"`
	Checksums        []Checksum    `json:"checksums,omitempty"`
	LicenseConcluded string        `json:"licenseConcluded"`
	LicenseDeclared  string        `json:"licenseDeclared"`
	LicenseComments  string        `json:"licenseComments,omitempty"`
	CopyrightText    string        `json:"copyrightText"`
	Supplier         string        `json:"supplier"`
	ExternalRefs     []ExternalRef `json:"externalRefs"`
	Comment          string        `json:"comment,omitempty"`
}

// Checksum is a package archive's digest.
type Checksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

// ExternalRef is a package URL (purl) of the conda package.
type ExternalRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

// Relationship links two SPDX elements.
type Relationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

const noAssertion = "NOASSERTION"

// Options names the document. The same options and records give the same
// bytes: the namespace is derived from the records, not random.
type Options struct {
	// Name is the document's name, e.g. the image reference.
	Name string
	// Created is the creation time (the image's epoch).
	Created time.Time
	// Tool is "condabox-<version>".
	Tool string
	// Pypi are the Python packages pip installed beside the conda packages
	// (an environment file's pip: section), described by name and version
	// with a pkg:pypi purl.
	Pypi []PypiPackage
}

// PypiPackage is a package of Options.Pypi.
type PypiPackage struct {
	Name, Version string
}

// Generate returns the SPDX JSON document of the packages, sorted by name.
func Generate(records []conda.PackageRecord, opts Options) ([]byte, error) {
	recs := append([]conda.PackageRecord(nil), records...)
	sort.Slice(recs, func(i, j int) bool { return recs[i].Dist() < recs[j].Dist() })
	ids := map[string]string{} // package name → SPDXID, for dependencies
	h := sha256.New()
	for _, r := range recs {
		ids[r.Name] = spdxID(r.Dist())
		fmt.Fprintln(h, r.Dist(), r.SHA256)
	}
	pypi := slices.Clone(opts.Pypi)
	slices.SortFunc(pypi, func(a, b PypiPackage) int {
		return strings.Compare(strings.ToLower(a.Name)+" "+a.Version, strings.ToLower(b.Name)+" "+b.Version)
	})
	pypi = slices.Compact(pypi)
	for _, p := range pypi {
		fmt.Fprintln(h, "pypi", p.Name, p.Version)
	}
	doc := Document{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT", Name: opts.Name,
		DocumentNamespace: "https://spdx.condabox.dev/" + url.PathEscape(opts.Name) + "-" + hex.EncodeToString(h.Sum(nil))[:16],
		CreationInfo:      CreationInfo{Created: opts.Created.UTC().Format(time.RFC3339), Creators: []string{"Tool: " + opts.Tool}},
		Packages:          []Package{}, Relationships: []Relationship{},
	}
	for _, r := range recs {
		doc.Packages = append(doc.Packages, spdxPackage(r))
		doc.Relationships = append(doc.Relationships, Relationship{"SPDXRef-DOCUMENT", "DESCRIBES", ids[r.Name]})
	}
	for _, p := range pypi {
		id := spdxID("pypi-" + p.Name + "-" + p.Version)
		doc.Packages = append(doc.Packages, Package{
			SPDXID: id, Name: p.Name, VersionInfo: p.Version,
			DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion,
			CopyrightText: noAssertion, Supplier: noAssertion,
			ExternalRefs: []ExternalRef{{"PACKAGE-MANAGER", "purl", "pkg:pypi/" + url.PathEscape(strings.ToLower(p.Name)) + "@" + url.PathEscape(p.Version)}},
			Comment:      "installed by pip",
		})
		doc.Relationships = append(doc.Relationships, Relationship{"SPDXRef-DOCUMENT", "DESCRIBES", id})
	}
	for _, r := range recs {
		deps := map[string]bool{}
		for _, d := range r.Depends {
			name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
			if id, ok := ids[name]; ok && !deps[id] {
				deps[id] = true
				doc.Relationships = append(doc.Relationships, Relationship{ids[r.Name], "DEPENDS_ON", id})
			}
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // purls hold '&'
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode SBOM: %w", err)
	}
	return out.Bytes(), nil
}

// spdxPackage describes one conda package.
func spdxPackage(r conda.PackageRecord) Package {
	p := Package{
		SPDXID: spdxID(r.Dist()), Name: r.Name, VersionInfo: r.Version.String(),
		DownloadLocation: noAssertion, LicenseConcluded: noAssertion, LicenseDeclared: noAssertion,
		CopyrightText: noAssertion, Supplier: noAssertion,
		ExternalRefs: []ExternalRef{{"PACKAGE-MANAGER", "purl", purl(r)}},
		Comment:      fmt.Sprintf("conda build %s, subdir %s, channel %s", r.Build, r.Subdir, r.Channel),
	}
	if r.URL != "" {
		p.DownloadLocation = r.URL
	}
	if r.SHA256 != "" {
		p.Checksums = append(p.Checksums, Checksum{"SHA256", r.SHA256})
	}
	if r.MD5 != "" {
		p.Checksums = append(p.Checksums, Checksum{"MD5", r.MD5})
	}
	switch {
	case IsLicenseExpression(r.License):
		p.LicenseDeclared = r.License
	case r.License != "":
		p.LicenseComments = "conda license field, not an SPDX expression: " + r.License
	}
	return p
}

// purl is the package URL of a conda package:
// pkg:conda/NAME@VERSION?build=B&channel=C&subdir=S&type=conda.
func purl(r conda.PackageRecord) string {
	q := url.Values{}
	q.Set("build", r.Build)
	if r.Channel != "" {
		q.Set("channel", r.Channel)
	}
	if r.Subdir != "" {
		q.Set("subdir", r.Subdir)
	}
	if ext := strings.TrimPrefix(r.FileName, r.Dist()+"."); ext != r.FileName {
		q.Set("type", ext)
	}
	return "pkg:conda/" + url.PathEscape(r.Name) + "@" + url.PathEscape(r.Version.String()) + "?" + q.Encode()
}

var notIDChar = regexp.MustCompile(`[^A-Za-z0-9.-]`)

// spdxID makes an SPDX identifier (letters, digits, '.', '-') of a dist.
func spdxID(dist string) string {
	return "SPDXRef-Package-" + notIDChar.ReplaceAllString(dist, "-")
}

var licenseID = regexp.MustCompile(`^(LicenseRef-)?[A-Za-z0-9][A-Za-z0-9.+-]*$`)

// IsLicenseExpression reports whether s has the syntax of an SPDX license
// expression (ids joined by AND, OR, WITH, with parentheses). conda's
// license fields are free text ("BSD 3-Clause"); those are kept as a comment.
func IsLicenseExpression(s string) bool {
	tokens := strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s))
	depth, wantOperand := 0, true
	for _, t := range tokens {
		switch {
		case t == "(" && wantOperand:
			depth++
		case t == ")" && !wantOperand && depth > 0:
			depth--
		case (t == "AND" || t == "OR" || t == "WITH") && !wantOperand:
			wantOperand = true
		case wantOperand && licenseID.MatchString(t) && t != "AND" && t != "OR" && t != "WITH":
			wantOperand = false
		default:
			return false
		}
	}
	return len(tokens) > 0 && depth == 0 && !wantOperand
}
