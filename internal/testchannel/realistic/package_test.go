package realistic

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/condabox/condabox/internal/testchannel/pkgbuild"
	"github.com/condabox/condabox/pkg/conda"
)

func TestCondaPath(t *testing.T) {
	arch := &recipe{name: "a", exclude: []string{"bin/c_rehash", "lib/pkgconfig"}}
	py := &recipe{name: "p", noarch: conda.NoarchPython}
	generic := &recipe{name: "g", noarch: conda.NoarchGeneric}
	for _, tc := range []struct {
		r        *recipe
		deb      string
		want     string
		included bool
	}{
		{arch, "usr/lib/x86_64-linux-gnu/libz.so.1", "lib/libz.so.1", true},
		{arch, "lib/x86_64-linux-gnu/libz.so.1", "lib/libz.so.1", true},
		{arch, "usr/lib/x86_64-linux-gnu/engines-3/afalg.so", "lib/engines-3/afalg.so", true},
		{arch, "usr/lib/python3.11/lib-dynload/_ssl.so", "lib/python3.11/lib-dynload/_ssl.so", true},
		{arch, "usr/bin/jq", "bin/jq", true},
		{arch, "usr/include/zlib.h", "include/zlib.h", true},
		{arch, "etc/ssl/openssl.cnf", "ssl/openssl.cnf", true},
		{arch, "usr/bin/c_rehash", "", false},                           // excluded by name
		{arch, "usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc", "", false}, // excluded by its directory
		{arch, "usr/share/doc/jq/copyright", "", false},                 // no rule
		{arch, "usr/lib/python3/dist-packages/six.py", "", false},       // dist-packages only in noarch python
		{arch, "usr/bin/", "", false},                                   // the directory itself
		{py, "usr/lib/python3/dist-packages/six.py", "site-packages/six.py", true},
		{py, "usr/bin/normalizer", "python-scripts/normalizer", true},
		{py, "usr/lib/x86_64-linux-gnu/libz.so.1", "", false},
		{generic, "usr/share/ca-certificates/mozilla/A.crt", "", false}, // finish hooks handle generic packages
	} {
		got, ok := condaPath(tc.r, tc.deb)
		if ok != tc.included || (ok && got != tc.want) {
			t.Errorf("condaPath(%s, %q) = %q, %v; want %q, %v", tc.r.name, tc.deb, got, ok, tc.want, tc.included)
		}
	}
}

func TestRPathFor(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"bin/curl", "$ORIGIN/../lib"},
		{"lib/libcurl.so.4", "$ORIGIN"},
		{"lib/sasl2/libsasldb.so.2", "$ORIGIN/.."},
		{"lib/python3.11/lib-dynload/_ssl.so", "$ORIGIN/../.."},
		{"libexec/x/tool", "$ORIGIN/../../lib"},
	} {
		if got := rpathFor(tc.path); got != tc.want {
			t.Errorf("rpathFor(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestPlaceholderShebang(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		placeholder    bool
	}{
		{"python shebang", "#! /usr/bin/python3.11\nimport pdb\n", "#!" + TextPlaceholder + "/bin/python3.11\nimport pdb\n", true},
		{"shebang with argument", "#!/usr/bin/python3.11 -E\n", "#!" + TextPlaceholder + "/bin/python3.11 -E\n", true},
		{"system shell stays", "#!/bin/sh\necho\n", "#!/bin/sh\necho\n", false},
		{"no shebang", "plain text /usr/bin/x\n", "plain text /usr/bin/x\n", false},
		{"shebang without newline", "#!/usr/bin/env", "#!" + TextPlaceholder + "/bin/env\n", true},
	} {
		f := pkgbuild.File{Path: "bin/x", Data: []byte(tc.in)}
		placeholderShebang(&f)
		if string(f.Data) != tc.want || (f.PrefixPlaceholder != "") != tc.placeholder {
			t.Errorf("%s: got %q (placeholder %q), want %q (placeholder %v)", tc.name, f.Data, f.PrefixPlaceholder, tc.want, tc.placeholder)
		}
	}
}

func TestApplyPatches(t *testing.T) {
	files := func() []pkgbuild.File {
		return []pkgbuild.File{{Path: "site-packages/m/core.py", Data: []byte("PATH = '/etc/x'\nOTHER = '/etc/x'\n")}}
	}
	for _, tc := range []struct {
		name  string
		patch patch
		want  string
		err   string
	}{
		{"replaces every occurrence", patch{"site-packages/m/core.py", "'/etc/x'", "here"}, "PATH = here\nOTHER = here\n", ""},
		{"missing file", patch{"site-packages/m/nope.py", "x", "y"}, "", "no such file"},
		{"missing text", patch{"site-packages/m/core.py", "'/etc/y'", "y"}, "", `text "'/etc/y'" not found`},
	} {
		fs := files()
		err := applyPatches(&recipe{name: "m", patches: []patch{tc.patch}}, fs)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.err)
		case tc.err == "" && (err != nil || string(fs[0].Data) != tc.want):
			t.Errorf("%s: got %q, %v; want %q", tc.name, fs[0].Data, err, tc.want)
		}
	}
}

func TestParseConsoleScripts(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		err      string
	}{
		{"charset-normalizer", "[console_scripts]\nnormalizer = charset_normalizer.cli.normalizer:cli_detect\n",
			[]string{"normalizer = charset_normalizer.cli.normalizer:cli_detect"}, ""},
		{"other sections ignored", "[gui_scripts]\ng = m:f\n\n[console_scripts]\n# comment\n; comment\na=m.x:main\n  b  =  n:run  \n[x]\nc = o:p\n",
			[]string{"a = m.x:main", "b = n:run"}, ""},
		{"empty", "", nil, ""},
		{"no colon", "[console_scripts]\na = module\n", nil, `line 2: entry point "a = module"`},
		{"no name", "[console_scripts]\n = m:f\n", nil, "line 2"},
		{"unclosed section", "[console_scripts\n", nil, "line 1: section header"},
	} {
		got, err := parseConsoleScripts([]byte(tc.in))
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.err)
		case tc.err == "" && (err != nil || !slices.Equal(got, tc.want)):
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func FuzzParseConsoleScripts(f *testing.F) {
	f.Add("[console_scripts]\nnormalizer = charset_normalizer.cli.normalizer:cli_detect\n")
	f.Add("[a]\nb=c:d\n[console_scripts]\nx = y:z\n")
	f.Fuzz(func(t *testing.T, in string) {
		eps, err := parseConsoleScripts([]byte(in))
		if err != nil {
			return
		}
		for _, ep := range eps {
			// pkgbuild rejects entry points in any other shape.
			cmd, target, ok := strings.Cut(ep, " = ")
			if !ok || cmd == "" || !strings.Contains(target, ":") {
				t.Errorf("parseConsoleScripts(%q) gave malformed entry point %q", in, ep)
			}
		}
	})
}

func TestIsEntryPointScript(t *testing.T) {
	eps := []string{"normalizer = charset_normalizer.cli.normalizer:cli_detect"}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"python-scripts/normalizer", true},
		{"python-scripts/other", false},
		{"bin/normalizer", false},
		{"site-packages/normalizer", false},
	} {
		if got := isEntryPointScript(eps, tc.path); got != tc.want {
			t.Errorf("isEntryPointScript(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestPinSpec(t *testing.T) {
	for _, tc := range []struct {
		name, version string
		kind          pinKind
		want, err     string
	}{
		{"libzlib", "1.2.13", pinMajor, "libzlib >=1.2.13,<2.0a0", ""},
		{"ncurses", "6.4", pinMajor, "ncurses >=6.4,<7.0a0", ""},
		{"krb5", "1.20.1", pinMinor, "krb5 >=1.20.1,<1.21.0a0", ""},
		{"x", "7", pinMinor, "", "no minor component"},
		{"x", "a.1", pinMajor, "", "does not start with a number"},
		{"x", "1.b", pinMinor, "", "minor component is not a number"},
	} {
		got, err := pinSpec(tc.name, tc.version, tc.kind)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("pinSpec(%s, %s) err = %v, want one containing %q", tc.name, tc.version, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("pinSpec(%s, %s) = %q, %v; want %q", tc.name, tc.version, got, err, tc.want)
		}
	}
}

// testRecipes is a small recipe set in the shape of the real one.
func testRecipes() []*recipe {
	return []*recipe{
		{name: "libz", debs: []string{"zlib1g"}},
		{name: "libcurl", debs: []string{"libcurl4"}, deps: []string{"libz"}},
		{name: "curl", debs: []string{"curl"}, deps: []string{"libz"}, exactDeps: []string{"libcurl"}},
		{name: "req", debs: []string{"python3-req"}, noarch: conda.NoarchPython, moreDeps: []string{"python >=3.8"}},
	}
}

func TestPlan(t *testing.T) {
	versions := map[string]string{"zlib1g": "1:1.2.13.dfsg-1", "libcurl4": "7.88.1-10", "curl": "7.88.1-10", "python3-req": "2.28.1+dfsg-1"}
	plans, err := plan(testRecipes(), versions)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*planned{}
	for _, p := range plans {
		byName[p.record.Name] = p
	}
	libcurl := byName["libcurl"].record
	wantDepends := map[string][]string{
		"libz":    {glibcDepends},
		"libcurl": {glibcDepends, "libz >=1.2.13,<2.0a0"},
		"curl":    {glibcDepends, "libcurl 7.88.1 " + libcurl.Build, "libz >=1.2.13,<2.0a0"},
		"req":     {"python >=3.8"},
	}
	for name, want := range wantDepends {
		if got := byName[name].record.Depends; !slices.Equal(got, want) {
			t.Errorf("%s depends = %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string][]string{"libz": {"libz >=1.2.13,<2.0a0"}, "libcurl": nil, "curl": nil} {
		var got []string
		if re := byName[name].runExports; re != nil {
			got = re.Weak
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s run_exports weak = %q, want %q", name, got, want)
		}
	}
	if r := byName["req"].record; r.Subdir != "noarch" || !strings.HasPrefix(r.Build, "pyh") || r.Version.String() != "2.28.1" {
		t.Errorf("req record = subdir %q build %q version %q, want noarch, pyh…, 2.28.1", r.Subdir, r.Build, r.Version)
	}

	// A new Debian revision changes the keys (and builds) of the package
	// made from it and, through exact pins, of the packages pinning its
	// build; range pins stay as they were, so other packages keep theirs.
	for _, tc := range []struct {
		deb, version string
		changed      []string
	}{
		{"zlib1g", "1:1.2.13.dfsg-2", []string{"libz"}},
		{"libcurl4", "7.88.1-11", []string{"libcurl", "curl"}},
		{"zlib1g", "1:1.3-1", []string{"libz", "libcurl", "curl"}}, // new version: new pins
	} {
		bumped := maps.Clone(versions)
		bumped[tc.deb] = tc.version
		again, err := plan(testRecipes(), bumped)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range again {
			changed := p.key != plans[i].key
			if want := slices.Contains(tc.changed, p.record.Name); changed != want {
				t.Errorf("%s=%s: %s key changed = %v, want %v", tc.deb, tc.version, p.record.Name, changed, want)
			}
			if changed == (p.record.Build == plans[i].record.Build) {
				t.Errorf("%s=%s: %s key changed = %v but build string %s → %s", tc.deb, tc.version, p.record.Name, changed, plans[i].record.Build, p.record.Build)
			}
		}
	}
}

func TestPlanRejects(t *testing.T) {
	versions := map[string]string{"a": "1.0-1", "b": "1.0-1"}
	for _, tc := range []struct {
		name string
		rs   []*recipe
		err  string
	}{
		{"depend listed later", []*recipe{{name: "x", debs: []string{"a"}, deps: []string{"y"}}, {name: "y", debs: []string{"b"}}},
			"recipe x: depends on y, which is not listed before it"},
		{"exact depend unknown", []*recipe{{name: "x", debs: []string{"a"}, exactDeps: []string{"nope"}}},
			"recipe x: depends on nope"},
		{"no candidate version", []*recipe{{name: "x", debs: []string{"missing"}}}, "recipe x: conda version"},
	} {
		if _, err := plan(tc.rs, versions); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.err)
		}
	}
}

func TestCheckLinkage(t *testing.T) {
	entry := func(name string, deps []string, provides, needs []string) cacheEntry {
		return cacheEntry{Record: conda.PackageRecord{Name: name, Version: conda.MustParseVersion("1"), Build: "0"},
			Link: linkInfo{Provides: provides, Needs: needs}, depNames: deps}
	}
	base := []cacheEntry{
		entry("libz", []string{"__glibc"}, []string{"libz.so.1"}, nil),
		entry("libcurl", []string{"libz"}, []string{"libcurl.so.4"}, []string{"libz.so.1"}),
		entry("other", nil, []string{"libother.so.1"}, nil),
	}
	for _, tc := range []struct {
		name string
		add  cacheEntry
		err  string
	}{
		{"direct and transitive depends", entry("curl", []string{"libcurl"}, nil, []string{"libcurl.so.4", "libz.so.1"}), ""},
		{"own library", entry("self", nil, []string{"libself.so.1"}, []string{"libself.so.1"}), ""},
		{"library of a package not depended on", entry("bad", []string{"libz"}, nil, []string{"libother.so.1"}),
			"package bad-1-0 needs libother.so.1"},
		{"library nobody ships", entry("worse", nil, nil, []string{"libgone.so.2"}), "needs libgone.so.2"},
	} {
		err := checkLinkage(append(slices.Clone(base), tc.add))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.err)
		}
	}
}

func TestNewerGlibc(t *testing.T) {
	for _, tc := range []struct {
		v, than string
		want    bool
	}{
		{"2.36", "2.36", false},
		{"2.37", "2.36", true},
		{"2.4", "2.36", false}, // numeric, not lexical
		{"2.36.1", "2.36", true},
		{"3", "2.36", true},
		{"2.2.5", "2.36", false},
	} {
		if got := newerGlibc(tc.v, tc.than); got != tc.want {
			t.Errorf("newerGlibc(%s, %s) = %v, want %v", tc.v, tc.than, got, tc.want)
		}
	}
}

func TestElfNeedsRejectsNonELF(t *testing.T) {
	if _, err := elfNeeds([]byte("\x7fELF garbage")); err == nil || !strings.Contains(err.Error(), "read ELF") {
		t.Errorf("elfNeeds(garbage) err = %v, want a read ELF error", err)
	}
}

func TestBinaryPlaceholder(t *testing.T) {
	if len(BinaryPlaceholder) != 255 || !strings.HasPrefix(BinaryPlaceholder, TextPlaceholder) {
		t.Errorf("BinaryPlaceholder = %q (%d bytes), want 255 bytes starting with %q", BinaryPlaceholder, len(BinaryPlaceholder), TextPlaceholder)
	}
}

func TestReplaceBinary(t *testing.T) {
	const ph = "/placeholder/long"
	for _, tc := range []struct {
		name, in, prefix, want, err string
	}{
		{"padded with NULs", "x\x00" + ph + "/lib\x00y", "/p", "x\x00/p/lib\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00y", ""},
		{"two in one string", ph + ":" + ph + "\x00", "/p", "/p:/p" + strings.Repeat("\x00", 2*len(ph)-4+1), ""},
		{"no NUL at the end", "a" + ph, "/q", "a/q" + strings.Repeat("\x00", len(ph)-2), ""},
		{"prefix too long", ph, ph + "/more", "", "longer than the binary placeholder"},
	} {
		got, err := replaceBinary([]byte(tc.in), ph, tc.prefix)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.err)
		case tc.err == "" && (err != nil || string(got) != tc.want):
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		case tc.err == "" && len(got) != len(tc.in):
			t.Errorf("%s: length changed from %d to %d", tc.name, len(tc.in), len(got))
		}
	}
}
