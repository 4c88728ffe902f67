package conda

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestVersionSpecMatches(t *testing.T) {
	tests := []struct {
		spec    string
		match   []string
		noMatch []string
	}{
		{"", []string{"0", "1.2", "1!0+x"}, nil},
		{"*", []string{"0", "1.2", "1!0+x"}, nil},
		{"1.2", []string{"1.2", "1.2.0", "1.2.0.0", "1.2+0"}, []string{"1.2.1", "1.20", "1.2a", "1.2+1", "1!1.2"}},
		{"==1.2", []string{"1.2", "1.2.0"}, []string{"1.2.1", "1.2a"}},
		{"==1.2.*", []string{"1.2", "1.2.0"}, []string{"1.2.1"}}, // conda ignores ".*" after "=="
		{"!=1.2", []string{"1.2.1", "1.3"}, []string{"1.2", "1.2.0"}},
		{"!=1.2.*", []string{"1.3", "1.20", "1.1"}, []string{"1.2", "1.2.9", "1.2a"}},
		{"<1.2", []string{"1.1.9", "1.2rc1", "1.2.dev0"}, []string{"1.2", "1.2.0", "1.2.1"}},
		{"<1.2.*", []string{"1.1"}, []string{"1.2", "1.2.1"}}, // ".*" ignored
		{"<=1.2", []string{"1.2", "1.2.0", "1.1"}, []string{"1.2.1", "1.2post1"}},
		{">1.2", []string{"1.2.1", "1.2post1", "2"}, []string{"1.2", "1.2rc1"}},
		{">=1.2", []string{"1.2", "1.2.0", "3"}, []string{"1.1", "1.2rc1", "1.2.0.dev0"}},
		{">=1.2.*", []string{"1.2", "1.3"}, []string{"1.1.9"}}, // conda treats it as >=1.2
		{"~=1.4.5", []string{"1.4.5", "1.4.10", "1.4.5.1"}, []string{"1.4.4", "1.5", "1.40.0", "2.0"}},
		{"~=2.2", []string{"2.2", "2.9", "2.10"}, []string{"2.1", "3.0"}},
		{"=1.2", []string{"1.2", "1.2.0", "1.2.3", "1.2a"}, []string{"1.20", "1.3", "1.1"}},
		{"=1.2.*", []string{"1.2", "1.2.3"}, []string{"1.20"}},
		{"1.2.*", []string{"1.2", "1.2.3", "1.2.post1"}, []string{"1.20", "1.3", "1.1.9"}},
		{"1.2*", []string{"1.2", "1.2.3"}, []string{"1.20"}}, // conda reads it as 1.2.*
		{"3.1.*", []string{"3.1.4"}, []string{"3.10", "3.10.1"}},
		{"1.*.3", []string{"1.2.3", "1.20.3"}, []string{"1.2.4", "2.2.3"}}, // glob over the text
		{`^1\.2\.[0-9]+$`, []string{"1.2.3", "1.2.30"}, []string{"1.2", "1.2.3a", "11.2.3"}},
		{`^1\.(2|3)$`, []string{"1.2", "1.3"}, []string{"1.4"}},
		{">=1.2,<2", []string{"1.2", "1.9.9"}, []string{"1.1", "2", "2.0.1"}},
		{">=1.2 , <2", []string{"1.5"}, []string{"2"}},
		{"1.2|1.4", []string{"1.2", "1.4.0"}, []string{"1.3"}},
		{">=1,<2|>=3,<4", []string{"1.5", "3.5"}, []string{"2.5", "4"}}, // "," binds tighter
		{">=1,(<2|>=3)", []string{"1.5", "3.5"}, []string{"0.5"}},
		{"(1.5|((1.6|1.7), 1.8), 1.9 |2.0)|2.1", []string{"1.5", "2.0", "2.1"}, []string{"1.6", "1.8", "1.9"}},
		{">=3.8,<3.9.0a0", []string{"3.8.10", "3.8.0"}, []string{"3.9.0", "3.9.0a0", "3.7.9"}},
		{"*|>5", []string{"1"}, nil},
		{"  >=1.2  ", []string{"1.2"}, []string{"1.1"}},
		{"1!2.0", []string{"1!2.0.0"}, []string{"2.0"}},
	}
	for _, tt := range tests {
		s, err := ParseVersionSpec(tt.spec)
		if err != nil {
			t.Errorf("ParseVersionSpec(%q): %v", tt.spec, err)
			continue
		}
		for _, v := range tt.match {
			if !s.Matches(MustParseVersion(v)) {
				t.Errorf("%q (%q) should match %q", tt.spec, s, v)
			}
		}
		for _, v := range tt.noMatch {
			if s.Matches(MustParseVersion(v)) {
				t.Errorf("%q (%q) should not match %q", tt.spec, s, v)
			}
		}
	}
}

func TestVersionSpecString(t *testing.T) {
	tests := []struct {
		spec, want string
		any        bool
	}{
		{"", "*", true},
		{"*", "*", true},
		{"*|>5", "*|>5", true},
		{"*,*", "*,*", true},
		{"*,>5", "*,>5", false},
		{" 1.2 ", "1.2", false},
		{"1.2*", "1.2.*", false},
		{"1.2.*", "1.2.*", false},
		{"1.2**", "1.2**", false},
		{">=1.2.*", ">=1.2.*", false},
		{"1.2.3,>4.5.6", "1.2.3,>4.5.6", false},
		{"1.2.3,4.5.6|<=7.8.9", "(1.2.3,4.5.6)|<=7.8.9", false},
		{"(1.2.3|4.5.6),<=7.8.9", "(1.2.3|4.5.6),<=7.8.9", false},
		{"((1.5|((1.6|1.7), 1.8), 1.9 |2.0))|2.1", "1.5|((1.6|1.7),1.8,1.9)|2.0|2.1", false},
		{"1.5|(1.6|1.7),1.8,1.9|2.0|2.1", "1.5|((1.6|1.7),1.8,1.9)|2.0|2.1", false},
		{"((1.2))", "1.2", false},
		{strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000), "1", false},
		{"^1.(2|3)$ | 4", "^1.(2|3)$|4", false},
	}
	for _, tt := range tests {
		s, err := ParseVersionSpec(tt.spec)
		if err != nil {
			t.Errorf("ParseVersionSpec(%q): %v", tt.spec, err)
			continue
		}
		if got := s.String(); got != tt.want {
			t.Errorf("ParseVersionSpec(%q).String() = %q, want %q", tt.spec, got, tt.want)
		}
		if got := s.IsAny(); got != tt.any {
			t.Errorf("ParseVersionSpec(%q).IsAny() = %v, want %v", tt.spec, got, tt.any)
		}
	}
	if !(VersionSpec{}).IsAny() || (VersionSpec{}).String() != "*" {
		t.Errorf("the zero VersionSpec must match everything and print as *")
	}
}

func TestVersionSpecErrors(t *testing.T) {
	tests := []struct {
		spec, wantErr string
	}{
		{">= 1.2", `">= 1.2" at offset 0: whitespace after ">="`},
		{"=>1.2", `invalid operator "=>"`},
		{"<>1.2", `invalid operator "<>"`},
		{"!1.2", "unknown operator"},
		{"~1.2", "unknown operator"},
		{">=", `missing version after ">="`},
		{"~=1.2.*", "'~=' cannot be used with '.*'"},
		{"~=1", "'~=' needs a version with at least two components"},
		{"1..2", `parse version "1..2": empty version component at offset 2`},
		{">=1.2,<2..0", `"<2..0" at offset 6: parse version "2..0"`},
		{"1.2,", "missing version at the end"},
		{"1.2|", "missing version at the end"},
		{",1.2", "expected a version or '(' at offset 0"},
		{"1.2,,1.3", "expected a version or '(' at offset 4"},
		{"()", "expected a version or '(' at offset 1"},
		{"(1.2", "missing ')' for '(' at offset 0"},
		{"1.2)", `unexpected ")" at offset 3`},
		{"(1.2)1.3", `unexpected "1.3" at offset 5`},
		{"^1.2", "must start with '^' and end with '$'"},
		{"1.2$", "must start with '^' and end with '$'"},
		{"^1.(2$", "bad regex"},
		{"1.[*.3", "bad glob"},
		{"1.2@foo", "invalid character '@'"},
		{"1.2 1.3", "invalid character ' '"},
		{"1.2+*", "empty version component"},
		{strings.Repeat("(", 1001) + "1" + strings.Repeat(")", 1001), "parentheses nested deeper than 1000 at offset 1000"},
	}
	for _, tt := range tests {
		s, err := ParseVersionSpec(tt.spec)
		if err == nil {
			t.Errorf("ParseVersionSpec(%q) = %q, want error", tt.spec, s)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "parse version spec ") {
			t.Errorf("ParseVersionSpec(%q) error %q, want it to contain %q", tt.spec, err, tt.wantErr)
		}
	}
}

// randomSpec builds a random spec from real versions, every operator form,
// nesting and stray whitespace.
func randomSpec(rng *rand.Rand, versions []string, depth int) string {
	if depth > 0 && rng.IntN(3) == 0 {
		n := 2 + rng.IntN(3)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = randomSpec(rng, versions, depth-1)
		}
		sep := []string{",", "|", " , ", " | "}[rng.IntN(4)]
		s := strings.Join(parts, sep)
		if rng.IntN(2) == 0 {
			s = "(" + s + ")"
		}
		return s
	}
	v := versions[rng.IntN(len(versions))]
	forms := []string{"%s", "==%s", "!=%s", "<%s", "<=%s", ">%s", ">=%s", "=%s", "%s.*", "%s*", "!=%s.*", ">=%s.*", "~=%s", "*"}
	return strings.ReplaceAll(forms[rng.IntN(len(forms))], "%s", v)
}

// TestVersionSpecRoundTrip is the property: String() parses back to a spec
// with the same String() that matches the same versions.
func TestVersionSpecRoundTrip(t *testing.T) {
	versions := nonCommentLines(t, realdata(t, "versions/versions.txt"))
	rng := rand.New(rand.NewPCG(3, 4))
	probe := make([]Version, 200)
	for i := range probe {
		probe[i] = MustParseVersion(versions[rng.IntN(len(versions))])
	}
	parsed := 0
	for range 3000 {
		in := randomSpec(rng, versions, 3)
		s, err := ParseVersionSpec(in)
		if err != nil {
			continue // e.g. "1.0a*" can be invalid: the prefix must be a valid version
		}
		parsed++
		again, err := ParseVersionSpec(s.String())
		if err != nil {
			t.Fatalf("ParseVersionSpec(%q).String() = %q does not parse: %v", in, s, err)
		}
		if again.String() != s.String() {
			t.Fatalf("%q: String %q reparses to %q", in, s, again)
		}
		for _, v := range probe {
			if s.Matches(v) != again.Matches(v) {
				t.Fatalf("%q and its String %q disagree on %q", in, s, v)
			}
		}
	}
	if parsed < 2500 {
		t.Errorf("only %d of 3000 random specs parsed", parsed)
	}
}

// TestVersionSpecMatchesRattler compares matches of random specs on real
// versions with rattler's. conda, which this package follows, differs from
// rattler on "~=": it cuts the version at its last '.' ("~=1.4_5" keeps 1,
// rattler keeps 1.4) and fails on a one-component version, which rattler
// accepts. Every other answer must agree.
func TestVersionSpecMatchesRattler(t *testing.T) {
	versions := nonCommentLines(t, realdata(t, "versions/versions.txt"))
	rng := rand.New(rand.NewPCG(5, 6))
	var lines, ours []string
	for len(lines) < 5000 {
		spec := randomSpec(rng, versions, 2)
		v := MustParseVersion(versions[rng.IntN(len(versions))])
		s, err := ParseVersionSpec(spec)
		if err != nil {
			continue
		}
		lines = append(lines, spec+"\t"+v.String())
		ours = append(ours, strconv.FormatBool(s.Matches(v)))
	}
	theirs := rattlerPeer(t, "versionspec.mjs", lines)
	agree := 0
	for i := range lines {
		switch {
		case ours[i] == theirs[i]:
			agree++
		case !strings.Contains(lines[i], "~="):
			t.Errorf("%q: we say %s, rattler says %s", lines[i], ours[i], theirs[i])
		}
	}
	t.Logf("rattler agrees on %d of %d spec matches", agree, len(lines))
}

func BenchmarkParseVersionSpec(b *testing.B) {
	inputs := []string{">=3.8,<3.9.0a0", "1.2.*", ">=1.21.6,<2.0a0", "2.7|>=3.6", "*"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ParseVersionSpec(inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVersionSpecMatches(b *testing.B) {
	s, err := ParseVersionSpec(">=1.21.6,<2.0a0|1.19.*")
	if err != nil {
		b.Fatal(err)
	}
	vs := []Version{MustParseVersion("1.26.4"), MustParseVersion("1.19.5"), MustParseVersion("2.0.0")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Matches(vs[i%len(vs)])
	}
}
