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
	return rewriteAfter(s, func(s string) int { return strings.IndexAny(s, "?&") + 1 }, func(rest string) (string, int) {
		param := rest
		if end := strings.IndexAny(rest, "&#"); end >= 0 {
			param = rest[:end]
		}
		if name, value, ok := strings.Cut(param, "="); ok && value != "" && isSecretParam(name) {
			return name + "=" + Token, len(param)
		}
		return "", 0
	})
}

// isSecretParam reports whether a query parameter holds a credential.
func isSecretParam(name string) bool {
	return slices.ContainsFunc(secretParams, func(p string) bool { return strings.EqualFold(p, name) })
}

// redactPasswords masks the password of the userinfo that follows each "://".
func redactPasswords(s string) string {
	return rewriteAfter(s, after("://"), func(rest string) (string, int) {
		authority := rest[:partEnd(rest)]
		at := strings.LastIndexByte(authority, '@')
		colon := strings.IndexByte(authority, ':')
		if at < 0 || colon < 0 || colon > at {
			return "", 0 // no userinfo, or a user without password: nothing secret
		}
		return authority[:colon+1] + Password, at
	})
}

// redactTokens replaces the segment after every "/t/" with Token.
func redactTokens(s string) string {
	return rewriteAfter(s, after("/t/"), func(rest string) (string, int) {
		if end := partEnd(rest); end > 0 {
			return Token, end
		}
		return "", 0
	})
}

// rewriteAfter copies s, letting mask rewrite the text after each marker.
// next returns where the text after the next marker starts, or 0 when
// there is none; mask returns what to write in place of the first n bytes
// of the text after a marker.
func rewriteAfter(s string, next func(string) int, mask func(rest string) (replacement string, n int)) string {
	var b strings.Builder
	for {
		i := next(s)
		if i <= 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		replacement, n := mask(s[i:])
		b.WriteString(replacement)
		s = s[i+n:]
	}
}

// after returns a rewriteAfter marker function for a fixed marker.
func after(marker string) func(string) int {
	return func(s string) int {
		if i := strings.Index(s, marker); i >= 0 {
			return i + len(marker)
		}
		return 0
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
