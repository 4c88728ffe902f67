package redact

import "strings"

// Placeholders written in place of secrets, as conda prints them.
const (
	Token    = "<TOKEN>"
	Password = "********"
)

// URL returns u with every `/t/<token>` path segment replaced by
// `/t/<TOKEN>` and the password of every `user:password@` userinfo
// replaced by `********`. The rest of u is kept byte for byte, so that an
// unparsable URL is still redacted; URL is idempotent.
//
// A URL nested in another one (a proxy's `?url=https://…`) is redacted as
// well, because every "://" starts a new authority. A password holding
// '/', '?' or '#' must be percent-encoded, as URLs require, or the part after
// that character is taken for the path and stays visible.
func URL(u string) string {
	return redactTokens(redactPasswords(u))
}

// redactPasswords masks the password of the userinfo that follows each "://".
func redactPasswords(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		authority := s[:partEnd(s)]
		at := strings.LastIndexByte(authority, '@')
		colon := strings.IndexByte(authority, ':')
		if at < 0 || colon < 0 || colon > at {
			continue // no userinfo, or a user without password: nothing secret
		}
		b.WriteString(authority[:colon+1])
		b.WriteString(Password)
		s = s[at:]
	}
}

// partEnd returns the length of the URL part at the start of s, an
// authority or a path segment: parts end at '/', '?' or '#'.
func partEnd(s string) int {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		return i
	}
	return len(s)
}

// redactTokens replaces the segment after every "/t/" with Token.
func redactTokens(s string) string {
	const marker = "/t/"
	var b strings.Builder
	for {
		i := strings.Index(s, marker)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+len(marker)])
		s = s[i+len(marker):]
		end := partEnd(s)
		if end > 0 {
			b.WriteString(Token)
		}
		s = s[end:]
	}
}

// Text redacts every URL in free text such as a log line or an error
// message. A word (a run of characters up to white space, a quote or an
// angle bracket) that contains "://" is redacted as a URL, so
// `Get "https://u:p@h/t/x/c": EOF` is covered. Tokens are also masked in
// words without a scheme ("conda.anaconda.org/t/x/conda-forge"), at the
// price of masking a directory that follows a directory named "t".
func Text(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(s, "/t/") {
		return s // the common case: nothing that may hold a secret
	}
	var b strings.Builder
	for len(s) > 0 {
		end := strings.IndexFunc(s, isTextDelimiter)
		if end < 0 {
			end = len(s)
		}
		b.WriteString(URL(s[:end]))
		if end < len(s) {
			b.WriteByte(s[end]) // delimiters are ASCII: one byte
			end++
		}
		s = s[end:]
	}
	return b.String()
}

// isTextDelimiter reports whether r ends a URL written in text. Brackets
// and parentheses do not: they occur in IPv6 hosts and raw passwords, and
// cutting a URL there would leave its secret unredacted.
func isTextDelimiter(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', '"', '\'', '`', '<', '>':
		return true
	}
	return false
}

// Error returns an error whose message is err's message with every URL
// redacted by Text; nil stays nil. errors.Is and errors.As still see err
// through Unwrap, so callers keep their checks; print the returned error,
// not what Unwrap gives.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err}
}

type redactedError struct{ err error }

func (e *redactedError) Error() string { return Text(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }
