package install

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestReplaceText(t *testing.T) {
	const ph = "/opt/anaconda1anaconda2anaconda3"
	long := "/" + strings.Repeat("very-long-dir/", 10) + "env" // > 127 with bin/python3.11
	tests := []struct {
		name, in, prefix, want string
	}{
		{"every occurrence", "a=" + ph + "/lib b=" + ph + "\n", "/p", "a=/p/lib b=/p\n"},
		{"no placeholder", "plain\n", "/p", "plain\n"},
		{"short shebang kept", "#!" + ph + "/bin/python3.11 -E\nprint(1)\n", "/p", "#!/p/bin/python3.11 -E\nprint(1)\n"},
		{"long shebang through env", "#!" + ph + "/bin/python3.11 -E\nprint('" + ph + "')\n", long,
			"#!/usr/bin/env python3.11 -E\nprint('" + long + "')\n"},
		{"long shebang without args or newline", "#!" + ph + "/bin/perl", long, "#!/usr/bin/env perl"},
		{"long shebang outside the prefix kept", "#!/usr/" + strings.Repeat("x", 130) + "/sh\n" + ph, "/p",
			"#!/usr/" + strings.Repeat("x", 130) + "/sh\n/p"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(replaceText([]byte(tc.in), ph, tc.prefix)); got != tc.want {
				t.Errorf("replaceText(%q, prefix %q)\n got %q\nwant %q", tc.in, tc.prefix, got, tc.want)
			}
		})
	}
}

func TestReplaceBinary(t *testing.T) {
	const ph = "/build/placehold_placehold"
	tests := []struct {
		name, in, prefix, want, err string
	}{
		{"padded with NULs", "x\x00" + ph + "/lib\x00y", "/p", "x\x00/p/lib" + strings.Repeat("\x00", len(ph)-2) + "\x00y", ""},
		{"two in one string", ph + ":" + ph + "\x00", "/p", "/p:/p" + strings.Repeat("\x00", 2*len(ph)-4) + "\x00", ""},
		{"two strings", ph + "\x00" + ph + "/a\x00", "/q", "/q" + strings.Repeat("\x00", len(ph)-2) + "\x00/q/a" + strings.Repeat("\x00", len(ph)-2) + "\x00", ""},
		{"no terminating NUL left alone", "x" + ph, "/p", "x" + ph, ""},
		{"same length", ph + "\x00", strings.Repeat("z", len(ph)), strings.Repeat("z", len(ph)) + "\x00", ""},
		{"prefix too long", ph + "\x00", strings.Repeat("z", len(ph)+1), "", "bin/tool: new prefix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := replaceBinary([]byte(tc.in), ph, tc.prefix, "bin/tool")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// FuzzReplaceBinary compares replaceBinary with a regexp statement of
// conda's rule (placeholder up to the next NUL, every occurrence replaced,
// padded with NULs) and checks the length never changes.
func FuzzReplaceBinary(f *testing.F) {
	f.Add([]byte("a\x00/ph/placeholder/x\x00"), "/ph/placeholder", "/p")
	f.Add([]byte("/ph/ph/ph\x00"), "/ph", "/q")
	f.Add([]byte("/ph\n/ph\x00/ph"), "/ph", "")
	f.Fuzz(func(t *testing.T, data []byte, ph, prefix string) {
		if ph == "" || strings.Contains(ph, "\x00") || !utf8.ValidString(ph) {
			return // placeholders are paths from JSON: UTF-8, not empty, no NUL
		}
		out, err := replaceBinary(data, ph, prefix, "f")
		if len(prefix) > len(ph) {
			if err == nil {
				t.Fatalf("no error for prefix %q longer than placeholder %q", prefix, ph)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile("(?s)" + regexp.QuoteMeta(ph) + "[^\x00]*\x00")
		want := re.ReplaceAllFunc(data, func(m []byte) []byte {
			r := bytes.ReplaceAll(m, []byte(ph), []byte(prefix))
			return append(r, make([]byte, len(m)-len(r))...)
		})
		if !bytes.Equal(out, want) {
			t.Fatalf("replaceBinary(%q, %q, %q)\n got %q\nwant %q", data, ph, prefix, out, want)
		}
	})
}
