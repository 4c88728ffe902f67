package image

import (
	"fmt"
	"strings"
	"testing"
)

func TestPlanLayers(t *testing.T) {
	pkgs := []planned{{"python-3.12-0", "python", 50}, {"zlib-1.3-0", "zlib", 1}, {"openssl-3-0", "openssl", 20}, {"jq-1.7-0", "jq", 5}, {"ca-1-0", "ca", 1}}
	tests := []struct {
		max   int
		small int64
		want  string
	}{
		{10, -1, "[[4] [3] [2] [0] [1]]"}, // one each, by name
		{5, -1, "[[4] [3] [2] [0] [1]]"},
		{3, -1, "[[2] [0] [4 3 1]]"}, // python and openssl alone; the rest shared, by name
		{1, -1, "[[4 3 2 0 1]]"},
		// Below 10 bytes: jq, zlib and ca share layers by smallBucket
		// (jq and zlib one, ca another), after the big ones.
		{10, 10, "[[2] [0] [3 1] [4]]"},
		// More layers than max: as if none were small.
		{3, 10, "[[2] [0] [4 3 1]]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(planLayers(pkgs, tt.max, tt.small)); got != tt.want {
			t.Errorf("max %d, small %d: %s, want %s", tt.max, tt.small, got, tt.want)
		}
	}
	// Small packages share a layer exactly when their names have the same
	// bucket: whatever their versions and whatever else the environment
	// holds, a package stays in its layer.
	var many []planned
	for i := range 40 {
		many = append(many, planned{dist: fmt.Sprintf("p%02d-1-0", i), name: fmt.Sprintf("p%02d", i), size: int64(i % 7)})
	}
	for _, g := range planLayers(many, 32, 10) {
		for _, i := range g {
			if smallBucket(many[i].name) != smallBucket(many[g[0]].name) {
				t.Errorf("%s and %s share a layer but not a bucket", many[i].name, many[g[0]].name)
			}
		}
	}
	if n := len(planLayers(many, 32, 10)); n != smallLayers {
		t.Errorf("40 small packages in %d layers, want %d", n, smallLayers)
	}
}

func TestBakeExport(t *testing.T) {
	tests := []struct {
		line, key, value string
		ok               bool
	}{
		{`export A=1`, "A", "1", true},
		{`  export GDAL_DATA=$CONDA_PREFIX/share/gdal`, "GDAL_DATA", "/opt/conda/share/gdal", true},
		{`export X="${CONDA_PREFIX}/lib dir"`, "X", "/opt/conda/lib dir", true},
		{`export Y='$literal'`, "Y", "$literal", true},
		{`export E=`, "E", "", true},
		{`export P="$CONDA_PREFIX_1/x"`, "", "", false},
		{`export PATH="$CONDA_PREFIX/bin:$PATH"`, "", "", false},
		{`export A=1 B=2`, "", "", false},
		{`export C=$(uname -m)`, "", "", false},
		{`export D="a\"b"`, "", "", false},
		{`A=1`, "", "", false},
		{`if [ -x foo ]; then export A=1; fi`, "", "", false},
	}
	for _, tt := range tests {
		k, v, ok := bakeExport(tt.line, "/opt/conda")
		if k != tt.key || v != tt.value || ok != tt.ok {
			t.Errorf("bakeExport(%q) = %q, %q, %v; want %q, %q, %v", tt.line, k, v, ok, tt.key, tt.value, tt.ok)
		}
	}
}

func TestActivationEnv(t *testing.T) {
	files := []activationFile{
		{Path: "etc/conda/activate.d/b.sh", Data: []byte("# comment\nexport B=from-script\nexport S=$CONDA_PREFIX\n")},
		{Path: "etc/conda/env_vars.d/a.json", Data: []byte(`{"B": "from-json", "J": "j"}`)},
	}
	env, warnings, err := activationEnv(files, "/p")
	if err != nil || len(warnings) != 0 {
		t.Fatal(err, warnings)
	}
	if got := fmt.Sprint(env); got != "map[B:from-script J:j S:/p]" {
		t.Errorf("env %s", got)
	}
	_, _, err = activationEnv([]activationFile{{Path: "etc/conda/env_vars.d/x.json", Data: []byte(`{"A": 1}`)}}, "/p")
	if err == nil || !strings.Contains(err.Error(), "etc/conda/env_vars.d/x.json") {
		t.Errorf("bad env_vars.d file: error %v, want one naming the file", err)
	}
}

func TestParseUserAndPrune(t *testing.T) {
	users := []struct {
		in   string
		want User
		err  bool
	}{
		{"mambauser:57439:57439", DefaultUser, false},
		{"app:1000:100", User{"app", 1000, 100}, false},
		{"app:1000", User{}, true},
		{":1:1", User{}, true},
		{"app:-1:1", User{}, true},
		{"app:1:x", User{}, true},
		{"a/b:1:1", User{}, true},
	}
	for _, tt := range users {
		got, err := ParseUser(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseUser(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), tt.in) {
			t.Errorf("error %q does not quote the input", err)
		}
	}
	for _, s := range []string{"none", "safe", "aggressive"} {
		p, err := ParsePrune(s)
		if err != nil || p.String() != s {
			t.Errorf("ParsePrune(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParsePrune("all"); err == nil {
		t.Error(`ParsePrune("all") succeeded`)
	}
}

func TestPruneDrops(t *testing.T) {
	tests := []struct {
		path             string
		safe, aggressive bool
	}{
		{"lib/libz.a", true, true},
		{"lib/libz.so", false, false},
		{"share/man/man1/jq.1", true, true},
		{"share/doc/jq/README", true, true},
		{"share/jq/data", false, false},
		{"include/zlib.h", false, true},
		{"lib/python3.11/site-packages/numpy/core/include/x.h", false, false},
		{"lib/python3.11/__pycache__/os.cpython-311.pyc", false, true},
		{"lib/python3.11/site-packages/pip/__init__.py", false, true},
		{"lib/python3.11/test/test_os.py", false, true},
		{"lib/python3.11/site-packages/requests/tests/t.py", false, true},
		{"bin/test", false, false},
		{"tests/x", false, false},
	}
	for _, tt := range tests {
		if got := PruneSafe.drops(tt.path); got != tt.safe {
			t.Errorf("safe drops %s = %v", tt.path, got)
		}
		if got := PruneAggressive.drops(tt.path); got != tt.aggressive {
			t.Errorf("aggressive drops %s = %v", tt.path, got)
		}
		if PruneNone.drops(tt.path) {
			t.Errorf("none drops %s", tt.path)
		}
	}
}
