package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/condabox/condabox/pkg/install"
)

// hasName reports whether a passwd or group file has an entry named name.
func hasName(file []byte, name string) bool {
	s := bufio.NewScanner(bytes.NewReader(file))
	for s.Scan() {
		if n, _, ok := strings.Cut(s.Text(), ":"); ok && n == name {
			return true
		}
	}
	return false
}

// appendLine appends line to a file's text, ending the last line first.
func appendLine(file []byte, line string) []byte {
	out := bytes.Clone(file)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, line+"\n"...)
}

// userEntries returns /etc/passwd and /etc/group with the user added (only
// when the base has no entry by that name; a base without the files gets
// root and the user), the user's home, owned by the user, and /tmp when the
// base has none (python and many tools need one).
func userEntries(base *baseFiles, u User) []entry {
	var out []entry
	passwd, group := base.Passwd, base.Group
	if passwd == nil {
		passwd = []byte("root:x:0:0:root:/root:/bin/sh\n")
	}
	if group == nil {
		group = []byte("root:x:0:\n")
	}
	if !hasName(passwd, u.Name) {
		passwd = appendLine(passwd, fmt.Sprintf("%s:x:%d:%d::%s:/bin/sh", u.Name, u.UID, u.GID, u.Home()))
	}
	if !hasName(group, u.Name) {
		group = appendLine(group, fmt.Sprintf("%s:x:%d:", u.Name, u.GID))
	}
	out = append(out,
		entry{Name: "etc/passwd", Type: tar.TypeReg, Mode: 0o644, Data: passwd, Size: int64(len(passwd))},
		entry{Name: "etc/group", Type: tar.TypeReg, Mode: 0o644, Data: group, Size: int64(len(group))},
		entry{Name: strings.TrimPrefix(u.Home(), "/"), Type: tar.TypeDir, Mode: 0o755, UID: u.UID, GID: u.GID})
	// /tmp, world-writable and sticky, whatever the base has: the image's
	// user (any --user) needs one, and scratch has none. Asking whether
	// the base has it would mean decompressing every layer above the one
	// that made it, a base's big programs included; a base's /tmp is the
	// same directory already.
	out = append(out, entry{Name: "tmp", Type: tar.TypeDir, Mode: 0o1777})
	return out
}

// condaMetaEntries returns conda-meta: one record per package and an empty
// history, which conda takes as the mark of an environment, and state
// holding vars as env_vars when there are any.
func condaMetaEntries(prefix string, recs []*install.PrefixRecord, vars map[string]string) ([]entry, error) {
	dir := strings.TrimPrefix(prefix, "/") + "/conda-meta/"
	out := []entry{{Name: dir + "history", Type: tar.TypeReg, Mode: 0o644}}
	if len(vars) > 0 {
		b, err := json.MarshalIndent(map[string]map[string]string{"env_vars": vars}, "", "  ") // keys sorted
		if err != nil {
			return nil, err
		}
		b = append(b, '\n')
		out = append(out, entry{Name: dir + "state", Type: tar.TypeReg, Mode: 0o644, Data: b, Size: int64(len(b))})
	}
	for _, r := range recs {
		b, err := r.CompactJSON() // json.Marshal(r)'s bytes, without its second pass
		if err != nil {
			return nil, fmt.Errorf("encode conda-meta record of %s: %w", r.Dist(), err)
		}
		b = append(b, '\n')
		out = append(out, entry{Name: dir + r.Dist() + ".json", Type: tar.TypeReg, Mode: 0o644, Data: b, Size: int64(len(b))})
	}
	return out, nil
}
