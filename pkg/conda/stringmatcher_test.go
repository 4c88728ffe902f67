package conda

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStringMatcher(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		noMatch []string
	}{
		{"py39_0", []string{"py39_0"}, []string{"py39_1", "py39_0x", "PY39_0", ""}},
		{"py39*", []string{"py39", "py39_0", "py39h1234_0"}, []string{"py38_0", "xpy39"}},
		{"*cuda*", []string{"cuda", "cuda112_py39", "py39_cuda_0"}, []string{"cpu_py39", "cud"}},
		{"*_0", []string{"_0", "py39_0"}, []string{"py39_01", "py39_1"}},
		{"py*_*_0", []string{"py39_cuda_0", "py__0"}, []string{"py39_0_1", "py39_0"}},
		// conda's only wildcard is '*': '?' and '[' are literal.
		{"py3?_0", []string{"py3?_0"}, []string{"py39_0"}},
		{"py[3]*", []string{"py[3]9"}, []string{"py39"}},
		{"^py3[0-9]_.*$", []string{"py39_0", "py30_cuda"}, []string{"py3a_0", "xpy39_0"}},
		{"^(cpu|cuda)$", []string{"cpu", "cuda"}, []string{"cpux", "rocm"}},
		// A '^' without the closing '$' is literal text.
		{"^py39", []string{"^py39"}, []string{"py39"}},
		{"*", []string{"", "anything"}, nil},
	}
	for _, tt := range tests {
		m, err := ParseStringMatcher(tt.pattern)
		if err != nil {
			t.Errorf("ParseStringMatcher(%q): %v", tt.pattern, err)
			continue
		}
		if got := m.String(); got != tt.pattern {
			t.Errorf("ParseStringMatcher(%q).String() = %q", tt.pattern, got)
		}
		for _, s := range tt.match {
			if !m.Matches(s) {
				t.Errorf("%q should match %q", tt.pattern, s)
			}
		}
		for _, s := range tt.noMatch {
			if m.Matches(s) {
				t.Errorf("%q should not match %q", tt.pattern, s)
			}
		}
	}
}

func TestStringMatcherKinds(t *testing.T) {
	tests := []struct {
		pattern      string
		exact, isAny bool
	}{
		{"py39_0", true, false},
		{"py39*", false, false},
		{"^py$", false, false},
		{"*", false, true},
	}
	for _, tt := range tests {
		m, err := ParseStringMatcher(tt.pattern)
		if err != nil {
			t.Fatalf("ParseStringMatcher(%q): %v", tt.pattern, err)
		}
		if m.IsExact() != tt.exact || m.IsAny() != tt.isAny {
			t.Errorf("%q: IsExact=%v IsAny=%v, want %v %v", tt.pattern, m.IsExact(), m.IsAny(), tt.exact, tt.isAny)
		}
	}
	var zero StringMatcher
	if !zero.IsAny() || !zero.Matches("x") || zero.String() != "*" {
		t.Errorf("zero StringMatcher: IsAny=%v Matches(x)=%v String=%q, want true true *", zero.IsAny(), zero.Matches("x"), zero.String())
	}
}

func TestStringMatcherFoldCase(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"MIT", "mit", true},
		{"bsd*", "BSD-3-Clause", true},
		{"^gpl.*$", "GPL-3.0", true},
		{"MIT", "Apache-2.0", false},
	}
	for _, tt := range tests {
		m, err := parseStringMatcher(tt.pattern, true)
		if err != nil {
			t.Fatalf("parseStringMatcher(%q, fold): %v", tt.pattern, err)
		}
		if got := m.Matches(tt.s); got != tt.want {
			t.Errorf("fold %q matches %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestStringMatcherErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", "empty"},
		{"^py(39$", "invalid regular expression"},
		{"^(?<=a)b$", "invalid regular expression"},
	}
	for _, tt := range tests {
		_, err := ParseStringMatcher(tt.pattern)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"`+tt.pattern+`"`) {
			t.Errorf("ParseStringMatcher(%q) error = %v, want one quoting the input and saying %q", tt.pattern, err, tt.want)
		}
	}
}

// TestGlobMatchAgainstRegexp checks the hand-written glob matcher against
// the regular expression conda builds for the same glob.
func TestGlobMatchAgainstRegexp(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, n int) string {
		b := make([]byte, r.IntN(n+1))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		pattern, s := word("ab*", 6), word("ab", 8)
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$")
		if got, want := globMatch(pattern, s), re.MatchString(s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	}
}

func BenchmarkStringMatcherGlob(b *testing.B) {
	m, err := ParseStringMatcher("*cuda*_py3*")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		m.Matches("cuda112py39h1234567_cuda_py39_0")
	}
}

// FuzzParseStringMatcher checks that patterns print back as parsed and
// that globs agree with the regular expression conda builds for them.
func FuzzParseStringMatcher(f *testing.F) {
	for _, s := range []string{"py39_0", "py39*", "*cuda*", "^py3[0-9]_0$", "*", "a**b", "py3?_0"} {
		f.Add(s, "py39_cuda_0")
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		m, err := ParseStringMatcher(pattern)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(pattern)) {
				t.Fatalf("error for %q does not quote it: %v", pattern, err)
			}
			return
		}
		if got := m.String(); got != pattern {
			t.Fatalf("ParseStringMatcher(%q).String() = %q", pattern, got)
		}
		// The regexp oracle reads UTF-8 only.
		if m.kind == matchGlob && utf8.ValidString(pattern) && utf8.ValidString(s) {
			re := regexp.MustCompile("(?s)^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$")
			if got, want := m.Matches(s), re.MatchString(s); got != want {
				t.Fatalf("glob %q on %q = %v, regexp says %v", pattern, s, got, want)
			}
		}
	})
}
