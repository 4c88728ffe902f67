package conda

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel"
)

// condaForm renders the version part (epoch first) the way Python prints
// conda's VersionOrder.version, e.g. [[0], [1], [2, 'a', 1]], so parses can be
// checked against conda's own output.
func condaForm(v Version) string {
	var b strings.Builder
	b.WriteString("[")
	segs := v.version()
	for n := 0; len(segs) > 0; n++ {
		var comp []segment
		comp, segs = nextComponent(segs)
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString("[")
		for i, s := range comp {
			if i > 0 {
				b.WriteString(", ")
			}
			switch s.kind {
			case kindNum:
				b.WriteString(strconv.FormatUint(s.num, 10))
			case kindBigNum:
				b.WriteString(v.text(s))
			case kindPost:
				b.WriteString("inf")
			default:
				b.WriteString("'" + v.text(s) + "'")
			}
		}
		b.WriteString("]")
	}
	b.WriteString("]")
	return b.String()
}

// realdata returns the path of rel (slash-separated) under shared/realdata,
// skipping the test when the data is absent. Other tests of the package use
// it too.
func realdata(t testing.TB, rel string) string {
	t.Helper()
	return testchannel.RealData(t, filepath.FromSlash(rel))
}

// nonCommentLines returns the non-empty lines of a file that do not start
// with "#".
func nonCommentLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestParseVersionForm(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"1.2g.beta15.rc", "[[0], [1], [2, 'g'], [0, 'beta', 15], [0, 'rc']]"}, // conda's docstring
		{"1!2.15.1_ALPHA", "[[1], [2], [15], [1], [0, 'alpha']]"},
		{"1.0.1_", "[[0], [1], [0], [1, '_']]"},
		{"1.0.1a_", "[[0], [1], [0], [1, 'a_']]"},
		{"1._", "[[0], [1], [0, '_']]"},
		{"1__", "[[0], [1], [0, '_']]"},
		{"1.1dev1", "[[0], [1], [1, 'DEV', 1]]"},
		{"1.1.post1", "[[0], [1], [1], [0, inf, 1]]"},
		{"1.0-rc1", "[[0], [1], [0], [0, 'rc', 1]]"},
		{"01.002", "[[0], [1], [2]]"},
		{"1.*", "[[0], [1], [0, '*']]"},
		{"2.3+local.1", "[[0], [2], [3]]"},
		{"  1.2 ", "[[0], [1], [2]]"},
		{"1.123456789012345678901234567890", "[[0], [1], [123456789012345678901234567890]]"},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tt.in, err)
			continue
		}
		if got := condaForm(v); got != tt.want {
			t.Errorf("ParseVersion(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseVersionErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"", "empty version"},
		{"   ", "empty version"},
		{"1..2", "empty version component at offset 2"},
		{".1", "empty version component at offset 0"},
		{"1.", "empty version component at offset 2"},
		{"_1", "empty version component at offset 0"},
		{"1.2+", "empty version component at offset 4"},
		{"1.2+a..b", "empty version component"},
		{"1!2!3", "duplicated epoch separator '!' at offset 3"},
		{"1+2+3", "duplicated local version separator '+' at offset 3"},
		{"a!1", `epoch "a" must be an integer`},
		{"!1", `epoch "" must be an integer`},
		{"1!", "missing version at offset 2"},
		{"+1", "missing version at offset 0"},
		{"  1..2", "empty version component at offset 4"}, // offsets count in the input
		{" 1+2+3", "duplicated local version separator '+' at offset 4"},
		{"1.2 3", "invalid character ' ' at offset 3"},
		{"1-2_3", "invalid character '-' at offset 1"},
		{"1.2@x", "invalid character '@'"},
		{"1.2é", "invalid character 'é' at offset 3"},
		{"1.2İ", "invalid character 'İ' at offset 3"}, // Python lowers it to "i̇", not "i"
		{"1.2\xff", "invalid character '\ufffd' at offset 3"},
		{"1,2", "invalid character ','"},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.in)
		if err == nil {
			t.Errorf("ParseVersion(%q) = %s, want error", tt.in, condaForm(v))
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
			t.Errorf("ParseVersion(%q) error %q, want it to quote the input and contain %q", tt.in, err, tt.wantErr)
		}
	}
}

// TestVersionOrder checks each list is strictly increasing, with "==" groups
// equal, following the rules of conda's VersionOrder documentation.
func TestVersionOrder(t *testing.T) {
	chains := []struct {
		name string
		list []string // ascending; an entry starting with "==" equals the previous one
	}{
		{"conda docstring", []string{
			"0.4", "==0.4.0", "0.4.1.rc", "==0.4.1.RC", "0.4.1", "0.5a1", "0.5b3", "0.5C1", "0.5", "0.9.6",
			"0.960923", "1.0", "1.1dev1", "1.1a1", "1.1.0dev1", "==1.1.dev1", "1.1.a1", "1.1.0rc1", "1.1.0",
			"==1.1", "1.1.0post1", "==1.1.post1", "1.1post1", "1996.07.12", "1!0.4.1", "1!3.1.1.6", "2!0.4.1",
		}},
		{"pre-releases", []string{"1.1dev1", "1.1a1", "1.1b1", "1.1rc1", "1.1", "1.1post1"}},
		// "rc1" is a string in the fourth component, which sorts below the 0 of ".dev0".
		{"rc vs dev", []string{"1.0.0rc1", "1.0.0.dev0", "1.0.0"}},
		{"trailing zeros", []string{"1", "==1.0", "==1.0.0", "==1.0.0.0", "1.0.0.1"}},
		{"numeric not lexical", []string{"3.1", "3.2", "3.9", "3.10", "3.11", "3.100"}},
		{"leading zeros", []string{"1.01", "==1.1", "==1.001", "1.2"}},
		{"epochs", []string{"2023.1", "0!2024.1", "1!0.1", "==1!0.1.0", "1!1.0", "2!0"}},
		{"local versions", []string{"1.0", "==1.0+0", "1.0+1", "==1.0+1.0", "1.0+1_1", "1.0+2", "1.0.1+0"}},
		{"local strings", []string{"1.0+abc", "1.0+abd", "1.0+0", "1.0+1"}},
		{"openssl underscore", []string{"1.0.1_", "1.0.1a", "1.0.1a_", "1.0.1b", "1.0.1"}},
		{"underscore vs letters", []string{"1.1dev", "1.1_", "1.1a", "1.1"}},
		{"underscore and post", []string{"1.1.0", "1.1.0_post1", "==1.1.0.post1", "1.1.0post1"}},
		{"hyphen is a separator", []string{"1.0-rc1", "==1.0.rc1", "==1.0_rc1", "1.0", "==1-0", "1.0-1"}},
		{"strings before numbers", []string{"1.a", "1.z", "1.0", "1.1"}},
		{"stars first", []string{"1.*", "1.dev", "1._", "1.a"}},
		{"dev prefix is a plain string", []string{"1.dev", "1.deva", "1.dew"}},
		{"post is above numbers in its run", []string{"1.0", "1.0.99999", "1.post", "==1.0post", "1.1"}},
		{"big numbers", []string{"1.18446744073709551615", "1.18446744073709551616", "1.99999999999999999999", "1.100000000000000000000"}},
		{"case folding", []string{"1.0A", "==1.0a", "1.0B"}},
	}
	for _, c := range chains {
		var prev Version
		var prevText string
		for i, s := range c.list {
			wantEqual := strings.HasPrefix(s, "==")
			v := MustParseVersion(strings.TrimPrefix(s, "=="))
			if i > 0 {
				want := -1
				if wantEqual {
					want = 0
				}
				if got := prev.Compare(v); got != want {
					t.Errorf("%s: Compare(%q, %q) = %d, want %d", c.name, prevText, v, got, want)
				}
				if got := v.Compare(prev); got != -want {
					t.Errorf("%s: Compare(%q, %q) = %d, want %d", c.name, v, prevText, got, -want)
				}
				if got := v.Equal(prev); got != wantEqual {
					t.Errorf("%s: Equal(%q, %q) = %v, want %v", c.name, v, prevText, got, wantEqual)
				}
			}
			prev, prevText = v, v.String()
		}
	}
}

func TestVersionStartsWith(t *testing.T) {
	tests := []struct {
		v, prefix string
		want      bool
	}{
		{"1.2", "1.2", true},
		{"1.2.0", "1.2", true},
		{"1.2.3", "1.2", true},
		{"1.20", "1.2", false},
		{"1.2a", "1.2", true},
		{"1.2.3", "1", true},
		{"1", "1.0", true}, // missing components count as 0
		{"1", "1.0.1", false},
		{"1.2alpha", "1.2a", true},
		{"1.2b", "1.2a", false},
		{"1.2", "1.2a", false},
		{"1.2.dev1", "1.2.dev", true},
		{"1.2.deva", "1.2.dev", false}, // "dev" is special, "deva" is not
		{"1.2.post1", "1.2.post", true},
		{"2!1.2", "1.2", false},
		{"1.2+abc.1", "1.2+abc", true},
		{"1.2+abd", "1.2+abc", false},
		{"1.2.1+abc", "1.2+abc", false}, // with a local prefix the versions must be equal
		{"1.2.0+abc", "1.2+abc", true},
		{"1.2+ab", "1.2+a", true},
		{"10.2", "1", false},
	}
	for _, tt := range tests {
		v, p := MustParseVersion(tt.v), MustParseVersion(tt.prefix)
		if got := v.StartsWith(p); got != tt.want {
			t.Errorf("%q.StartsWith(%q) = %v, want %v", tt.v, tt.prefix, got, tt.want)
		}
	}
}

func TestVersionCompatibleWith(t *testing.T) {
	tests := []struct {
		v, base string
		want    bool
	}{
		{"1.4.5", "1.4.5", true},
		{"1.4.9", "1.4.5", true},
		{"1.4.4", "1.4.5", false},
		{"1.5.0", "1.4.5", false},
		{"1.40", "1.4.5", false},
		{"1.9", "1.4", true},
		{"2.0", "1.4", false},
		{"1.3", "1.4", false},
		{"3", "2", true},       // nothing to keep fixed: only >=
		{"1.9", "1.4_5", true}, // conda cuts at the last '.': the prefix is 1
		{"2.0", "1.4_5", false},
		{"1!1.5", "1!1.4", true},
		{"1.5", "1!1.4", false},
	}
	for _, tt := range tests {
		v, b := MustParseVersion(tt.v), MustParseVersion(tt.base)
		if got := v.CompatibleWith(b); got != tt.want {
			t.Errorf("%q.CompatibleWith(%q) = %v, want %v", tt.v, tt.base, got, tt.want)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	type doc struct {
		V Version `json:"v"`
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"v":"1.2.0A"}`), &d); err != nil {
		t.Fatal(err)
	}
	if d.V.String() != "1.2.0A" || !d.V.Equal(MustParseVersion("1.2.0a")) {
		t.Errorf("unmarshal gave %q", d.V)
	}
	b, err := json.Marshal(d)
	if err != nil || string(b) != `{"v":"1.2.0A"}` {
		t.Errorf("marshal = %s, %v", b, err)
	}
	for _, bad := range []string{`{"v":"1..2"}`, `{"v":3}`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("unmarshal %s: want error", bad)
		}
	}
}

// TestParsedVersionsMatchConda parses every real conda-forge version and
// compares the parse with conda's own, line by line.
func TestParsedVersionsMatchConda(t *testing.T) {
	lines := nonCommentLines(t, realdata(t, "versions/parsed_versions.txt"))
	if len(lines) < 28000 {
		t.Fatalf("only %d lines in parsed_versions.txt", len(lines))
	}
	for _, l := range lines {
		in, want, ok := strings.Cut(l, "=[")
		if !ok {
			t.Fatalf("malformed line %q", l)
		}
		v, err := ParseVersion(in)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if got := condaForm(v); got != "["+want {
			t.Errorf("ParseVersion(%q) = %s, conda says [%s", in, got, want)
		}
	}
}

// TestVersionTotalOrder checks that Compare is a total order on the real
// versions: sorting is consistent, antisymmetry and transitivity hold on
// random triples, and the fast path for numeric versions agrees with the
// general one.
func TestVersionTotalOrder(t *testing.T) {
	lines := nonCommentLines(t, realdata(t, "versions/versions.txt"))
	vs := make([]Version, len(lines))
	for i, l := range lines {
		v, err := ParseVersion(l)
		if err != nil {
			t.Fatal(err)
		}
		vs[i] = v
	}
	slices.SortStableFunc(vs, Version.Compare)
	rng := rand.New(rand.NewPCG(1, 2))
	// With a consistent order, any earlier element of the sorted list is <=
	// any later one, not only its neighbour.
	for range 200000 {
		i, j := rng.IntN(len(vs)), rng.IntN(len(vs))
		if i > j {
			i, j = j, i
		}
		if vs[i].Compare(vs[j]) > 0 {
			t.Fatalf("sorted order broken: %q (at %d) > %q (at %d)", vs[i], i, vs[j], j)
		}
	}
	for range 200000 {
		a, b, c := vs[rng.IntN(len(vs))], vs[rng.IntN(len(vs))], vs[rng.IntN(len(vs))]
		ab, ba, bc, ac := a.Compare(b), b.Compare(a), b.Compare(c), a.Compare(c)
		if ab != -ba {
			t.Fatalf("antisymmetry: Compare(%q,%q)=%d but Compare(%q,%q)=%d", a, b, ab, b, a, ba)
		}
		if a.Equal(b) != (ab == 0) {
			t.Fatalf("Equal(%q,%q)=%v disagrees with Compare=%d", a, b, a.Equal(b), ab)
		}
		if ab <= 0 && bc <= 0 && ac > 0 || ab >= 0 && bc >= 0 && ac < 0 {
			t.Fatalf("transitivity: %q %d %q %d %q but %d", a, ab, b, bc, c, ac)
		}
		general := func(v Version) Version { v.plain = false; return v }
		if g := general(a).Compare(general(b)); g != ab {
			t.Fatalf("Compare(%q,%q): fast path %d, general path %d", a, b, ab, g)
		}
	}
}

func BenchmarkParseVersion(b *testing.B) {
	inputs := []string{"1.2.3", "2023.10.1", "1.0.0rc1", "3.11.4+local_1", "1!2.0.post1"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ParseVersion(inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	vs := []Version{
		MustParseVersion("1.2.3"), MustParseVersion("1.2.10"), MustParseVersion("1.2.3rc1"),
		MustParseVersion("2023.10.1"), MustParseVersion("1.2.3+local"),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		vs[i%len(vs)].Compare(vs[(i+1)%len(vs)])
	}
}

// BenchmarkParseRealVersions parses all 28,530 real conda-forge versions per
// iteration, the shape of a repodata decoder's work.
func BenchmarkParseRealVersions(b *testing.B) {
	lines := nonCommentLines(b, realdata(b, "versions/versions.txt"))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if _, err := ParseVersion(l); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// rattlerPeer runs a script of the rattler-js peer (shared/peers/rattler-js)
// on input lines and returns its output lines. It skips the test unless
// RATTLER_JS names a copy of that folder where "npm install" has run: the
// differential checks are for developers, not CI.
func rattlerPeer(t *testing.T, script string, input []string) []string {
	t.Helper()
	dir := os.Getenv("RATTLER_JS")
	if dir == "" {
		t.Skip("set RATTLER_JS to an npm-installed copy of shared/peers/rattler-js to compare with rattler")
	}
	cmd := exec.CommandContext(t.Context(), "node", filepath.Join(dir, script))
	cmd.Stdin = strings.NewReader(strings.Join(input, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v", script, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(input) {
		t.Fatalf("node %s: %d answers for %d lines", script, len(lines), len(input))
	}
	return lines
}

// TestVersionOrderMatchesRattler sorts the real versions and checks that
// rattler orders every adjacent pair the same way.
func TestVersionOrderMatchesRattler(t *testing.T) {
	lines := nonCommentLines(t, realdata(t, "versions/versions.txt"))
	vs := make([]Version, len(lines))
	for i, l := range lines {
		vs[i] = MustParseVersion(l)
	}
	slices.SortStableFunc(vs, Version.Compare)
	pairs := make([]string, len(vs)-1)
	for i := range pairs {
		pairs[i] = vs[i].String() + " " + vs[i+1].String()
	}
	got := rattlerPeer(t, "version.mjs", pairs)
	for i, r := range got {
		if want := strconv.Itoa(vs[i].Compare(vs[i+1])); r != want {
			t.Errorf("Compare(%s) = %s, rattler says %s", pairs[i], want, r)
		}
	}
}
