package realistic

import (
	"archive/tar"
	"bytes"
	"maps"
	"strconv"
	"strings"
	"testing"
)

func TestCondaVersion(t *testing.T) {
	for _, tc := range []struct {
		deb, want, err string
	}{
		{deb: "1.6-2.1+deb12u3", want: "1.6"},
		{deb: "1:1.2.13.dfsg-1", want: "1.2.13"},
		{deb: "3.0.22-1~deb12u2", want: "3.0.22"},
		{deb: "2:6.2.1+dfsg1-1.1", want: "6.2.1"},
		{deb: "2.4+20151223.gitfa8646d.1-2+b2", want: "2.4"},
		{deb: "3.11.2-6+deb12u9", want: "3.11.2"},
		{deb: "20250419~deb12u2", want: "20250419"},
		{deb: "1.3.3+ds-1", want: "1.3.3"},
		{deb: "5.3.28+dfsg2-1", want: "5.3.28"},
		{deb: "7", want: "7"}, // native package: no revision
		{deb: "1:-1", err: `Debian version "1:-1": no upstream version left`},
		{deb: "+dfsg-1", err: "no upstream version left"},
		{deb: "1..2-1", err: `conda version of Debian version "1..2-1"`},
	} {
		got, err := condaVersion(tc.deb)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("condaVersion(%q) = %q, %v; want error containing %q", tc.deb, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("condaVersion(%q) = %q, %v; want %q", tc.deb, got, err, tc.want)
		}
	}
}

func TestDateVersion(t *testing.T) {
	for _, tc := range []struct {
		deb, want, err string
	}{
		{deb: "20250419~deb12u2", want: "2025.4.19"},
		{deb: "20230311", want: "2023.3.11"},
		{deb: "2025041", err: "want YYYYMMDD"},
		{deb: "202504190", err: "want YYYYMMDD"},
		{deb: "1.6-2", err: "want YYYYMMDD"},
	} {
		got, err := dateVersion(tc.deb)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("dateVersion(%q) = %q, %v; want error containing %q", tc.deb, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("dateVersion(%q) = %q, %v; want %q", tc.deb, got, err, tc.want)
		}
	}
}

// policyOutput is real `apt-cache policy jq nosuch python3.11 virt` output,
// shortened; nosuch is unknown to apt, virt has no candidate.
const policyOutput = `jq:
  Installed: 1.6-2.1+deb12u1
  Candidate: 1.6-2.1+deb12u3
  Version table:
     1.6-2.1+deb12u3 500
        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
N: Unable to locate package nosuch
python3.11:
  Installed: (none)
  Candidate: 3.11.2-6+deb12u9
  Version table:
     3.11.2-6+deb12u9 500
virt:
  Installed: (none)
  Candidate: (none)
  Version table:
`

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      map[string]string
	}{
		{"several packages", policyOutput, map[string]string{"jq": "1.6-2.1+deb12u3", "python3.11": "3.11.2-6+deb12u9"}},
		{"empty output", "", map[string]string{}},
		{"candidate before any package", "  Candidate: 1.0\n", map[string]string{}},
		{"empty candidate", "x:\n  Candidate:\n", map[string]string{}},
		{"epoch kept", "zlib1g:\n  Candidate: 1:1.2.13.dfsg-1\n", map[string]string{"zlib1g": "1:1.2.13.dfsg-1"}},
	} {
		if got := parsePolicy(tc.out); !maps.Equal(got, tc.want) {
			t.Errorf("%s: parsePolicy = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDebGlob(t *testing.T) {
	if got, want := debGlob("zlib1g", "1:1.2.13.dfsg-1"), "zlib1g_1%3a1.2.13.dfsg-1_*.deb"; got != want {
		t.Errorf("debGlob = %q, want %q (apt-get download escapes the epoch colon)", got, want)
	}
}

func TestReadDataTar(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "./usr/bin/tool", Typeflag: tar.TypeReg, Mode: 0o755, Size: 4},
		{Name: "./usr/bin/alias", Typeflag: tar.TypeSymlink, Linkname: "tool"},
		{Name: "./usr/bin/hard", Typeflag: tar.TypeLink, Linkname: "./usr/bin/tool"},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte("data"))
		}
	}
	tw.Close()
	entries, err := readDataTar(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name+" "+e.Mode.String()+" "+string(e.Data)+" "+e.LinkTarget)
	}
	want := []string{
		"usr/bin drwxr-xr-x  ",
		"usr/bin/tool -rwxr-xr-x data ",
		"usr/bin/alias Lrwxrwxrwx  tool",
		"usr/bin/hard -rwxr-xr-x data ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReadDataTarRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *tar.Header
		err  string
	}{
		{"hard link to an unseen file", &tar.Header{Name: "./a", Typeflag: tar.TypeLink, Linkname: "./b"}, "target ./b not seen"},
		{"device node", &tar.Header{Name: "./dev/null", Typeflag: tar.TypeChar}, "unsupported tar entry type"},
	} {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(tc.h); err != nil {
			t.Fatal(err)
		}
		tw.Close()
		if _, err := readDataTar(&buf); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.err)
		}
	}
}

func FuzzCondaVersion(f *testing.F) {
	for _, s := range []string{"1:1.2.13.dfsg-1", "2.4+20151223.gitfa8646d.1-2+b2", "20250419~deb12u2", "-", "1:", ":-+~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, deb string) {
		v, err := condaVersion(deb)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(deb)) {
				t.Errorf("error %q does not quote the input %q", err, deb)
			}
			return
		}
		if v == "" || strings.ContainsAny(v, ":~") || strings.HasSuffix(v, ".dfsg") {
			t.Errorf("condaVersion(%q) = %q: epoch, tilde or repack suffix left", deb, v)
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(policyOutput)
	f.Add("x:\n  Candidate: (none)\n")
	f.Fuzz(func(t *testing.T, out string) {
		for name, v := range parsePolicy(out) {
			if v == "" || v == "(none)" || strings.ContainsAny(name, "\n") {
				t.Errorf("parsePolicy(%q) gave %q: %q", out, name, v)
			}
		}
	})
}
