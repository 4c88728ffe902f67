package redact

import (
	"slices"
	"strings"
)

// Placeholders written in place of secrets, as conda prints them.
const (
	Token    = "<TOKEN>"
	Password = "********"
)

// URL returns u with every `/t/<token>` path segment replaced by
// `/t/<TOKEN>`, the value of every credential query parameter (see
// secretParams) replaced by `<TOKEN>`, and the password of every
// `user:password@` userinfo replaced by `********`. The rest of u is kept
// byte for byte, so that an unparsable URL is still redacted; URL is
// idempotent.
//
// A URL nested in another one (a proxy's `?url=https://…`) is redacted as
// well, because every "://" starts a new authority. A password holding
// '/', '?' or '#' must be percent-encoded, as URLs require, or the part after
// that character is taken for the path and stays visible.
func URL(u string) string {
	return redactQuery(redactTokens(redactPasswords(u)))
}

// secretParams are the query parameters whose value is a credential,
// matched ignoring case: anaconda.org and conda servers accept a `token`
// (or an OAuth `access_token`) in the query as well as in the path, and
// package downloads are redirected to pre-signed S3 and GCS URLs whose
// signature and session token are credentials too (Azure SAS calls its
// signature `sig`).
var secretParams = []string{
	"token", "access_token",
	"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token",
	"X-Goog-Signature", "X-Goog-Credential",
	"sig",
}

// redactQuery replaces the value of every secretParams parameter, the text
// after `?name=` or `&name=` up to the next '&' or '#'.
func redactQuery(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexAny(s, "?&")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
		param := s
		if end := strings.IndexAny(s, "&#"); end >= 0 {
			param = s[:end]
		}
		if name, value, ok := strings.Cut(param, "="); ok && value != "" && isSecretParam(name) {
			b.WriteString(name + "=" + Token)
			s = s[len(param):]
		}
	}
}

// isSecretParam reports whether a query parameter holds a credential.
func isSecretParam(name string) bool {
	return slices.ContainsFunc(secretParams, func(p string) bool { return strings.EqualFold(p, name) })
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
// words without a scheme ("conda.anaconda.org/t/x/conda-forge",
// "h/c?token=x"), at the price of masking a directory that follows a
// directory named "t".
func Text(s string) string {
	if !strings.Contains(s, "://") && !strings.Contains(s, "/t/") && !strings.Contains(s, "=") {
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
