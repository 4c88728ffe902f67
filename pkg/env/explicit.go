package env

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/condabox/condabox/pkg/conda"
)

// ExplicitMarker is the line that makes a spec file an explicit environment.
const ExplicitMarker = "@EXPLICIT"

// Explicit is an @EXPLICIT environment file: the exact package files of an
// environment for one platform, in install order.
type Explicit struct {
	// Platform is from the "# platform: linux-64" comment; "" when absent.
	Platform conda.Platform
	// Records hold name, version, build, subdir, channel, URL, file name
	// and the checksum the URL's fragment gives; nothing else is known.
	Records []conda.PackageRecord
}

// ParseExplicit parses an @EXPLICIT file. Every line that is not blank or a
// comment must come after the @EXPLICIT line and be a package URL,
// optionally followed by "#<md5>" or "#sha256:<sha256>". name is the file's
// name for error messages.
func ParseExplicit(name string, data []byte) (*Explicit, error) {
	var (
		out    Explicit
		marked bool
		lineNo int
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			if p, ok := strings.CutPrefix(line, "# platform:"); ok {
				out.Platform = conda.Platform(strings.TrimSpace(p))
			}
		case line == ExplicitMarker:
			marked = true
		case !marked:
			return nil, fmt.Errorf("parse explicit file %q: line %d: %q before the %s line", name, lineNo, line, ExplicitMarker)
		default:
			r, err := parseExplicitLine(line)
			if err != nil {
				return nil, fmt.Errorf("parse explicit file %q: line %d: %w", name, lineNo, err)
			}
			out.Records = append(out.Records, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("parse explicit file %q: line %d: %w", name, lineNo+1, err)
	}
	if !marked {
		return nil, fmt.Errorf("parse explicit file %q: no %s line", name, ExplicitMarker)
	}
	return &out, nil
}

// parseExplicitLine parses "URL[#md5|#sha256:hex]".
func parseExplicitLine(line string) (conda.PackageRecord, error) {
	url, frag, _ := strings.Cut(line, "#")
	r, err := recordFromURL(url)
	if err != nil {
		return r, err
	}
	var md5, sha256 string
	if s, ok := strings.CutPrefix(frag, "sha256:"); ok {
		sha256 = s
	} else {
		md5 = frag
	}
	if err := setDigests(&r, md5, sha256); err != nil {
		return r, fmt.Errorf("package URL %q: %w", url, err)
	}
	return r, nil
}
