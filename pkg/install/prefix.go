package install

import (
	"bytes"
	"fmt"
	"strings"
)

// maxShebang is the longest "#!" line the Linux kernel reads (BINPRM_BUF_SIZE
// is 128 bytes, including the terminating byte); longer interpreter paths are
// silently truncated, so conda rewrites them to go through /usr/bin/env.
const maxShebang = 127

// replaceText replaces every occurrence of placeholder by prefix, then
// shortens a shebang that became too long for the kernel.
func replaceText(data []byte, placeholder, prefix string) []byte {
	out := bytes.ReplaceAll(data, []byte(placeholder), []byte(prefix))
	return shortenShebang(out, prefix)
}

// shortenShebang rewrites "#!<prefix>/bin/python3.11 -E" to
// "#!/usr/bin/env python3.11 -E" when the first line exceeds maxShebang, as
// conda does. Only interpreters inside prefix are rewritten: env finds them
// on PATH once the environment is activated.
func shortenShebang(data []byte, prefix string) []byte {
	if !bytes.HasPrefix(data, []byte("#!")) {
		return data
	}
	line, rest, hasRest := bytes.Cut(data, []byte("\n"))
	if len(line) <= maxShebang {
		return data
	}
	interp, args, _ := strings.Cut(strings.TrimSpace(string(line[2:])), " ")
	if !strings.HasPrefix(interp, prefix+"/") {
		return data
	}
	exe := interp[strings.LastIndexByte(interp, '/')+1:]
	short := "#!/usr/bin/env " + exe
	if args != "" {
		short += " " + args
	}
	out := []byte(short)
	if hasRest {
		out = append(append(out, '\n'), rest...)
	}
	return out
}

// replaceBinary replaces placeholder by prefix in a binary file, keeping its
// length. As conda does, each match runs from the placeholder to the next NUL
// byte; every occurrence of placeholder inside it is replaced and the string
// is padded with NULs to its old length. A match without a terminating NUL is
// left alone (conda's pattern requires the NUL).
func replaceBinary(data []byte, placeholder, prefix, name string) ([]byte, error) {
	if len(prefix) > len(placeholder) {
		return nil, fmt.Errorf("replace prefix in binary file %s: new prefix %q (%d bytes) is longer than the placeholder (%d bytes)",
			name, prefix, len(prefix), len(placeholder))
	}
	ph := []byte(placeholder)
	out := bytes.Clone(data)
	for start := 0; ; {
		i := bytes.Index(out[start:], ph)
		if i < 0 {
			return out, nil
		}
		i += start
		n := bytes.IndexByte(out[i:], 0)
		if n < 0 {
			return out, nil
		}
		end := i + n
		s := bytes.ReplaceAll(out[i:end], ph, []byte(prefix))
		clear(out[i+copy(out[i:end], s) : end])
		start = end
	}
}
