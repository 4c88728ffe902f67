package conda

import "testing"

// fuzzProbe holds versions that fuzzed values are compared and matched with.
var fuzzProbe = []string{"0", "1", "1.0", "1.2", "1.2.3", "1.2a", "1.20", "1.2.post1", "1.2.dev0", "1!1.0", "1.2+abc", "2023.10.1"}

// FuzzParseVersion checks that parsing never panics and that an accepted
// version reads back from String() as an equal version ordered consistently
// against the probe versions.
func FuzzParseVersion(f *testing.F) {
	for _, s := range append(fuzzProbe, "1.1_", "1._", "1-2", "1!2!3", "1..2", "1.2+a+b", "1.0A", "*", " 1.2 ", "1.18446744073709551616") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		again, err := ParseVersion(v.String())
		if err != nil {
			t.Fatalf("String() of %q = %q does not parse: %v", s, v, err)
		}
		if !v.Equal(again) || condaForm(v) != condaForm(again) {
			t.Fatalf("%q parses to %s but its String %q to %s", s, condaForm(v), v, condaForm(again))
		}
		if !v.StartsWith(v) {
			t.Fatalf("%q does not start with itself", s)
		}
		for _, p := range fuzzProbe {
			o := MustParseVersion(p)
			if c, r := v.Compare(o), o.Compare(v); c != -r {
				t.Fatalf("Compare(%q, %q) = %d but the reverse is %d", s, p, c, r)
			}
		}
	})
}

// FuzzParseVersionSpec checks that parsing never panics and that String()
// parses back to a spec with the same String() and the same matches.
func FuzzParseVersionSpec(f *testing.F) {
	for _, s := range []string{"", "*", "1.2", "==1.2", "!=1.2.*", ">=1.2,<2|3.*", "(1.2|1.3),1.4", "~=1.4.5", "1.2*", "1.*.3", `^1\.2$`, "=1.2", "1.2**", "((1.2))", ">= 1.2"} {
		f.Add(s)
	}
	probe := make([]Version, len(fuzzProbe))
	for i, p := range fuzzProbe {
		probe[i] = MustParseVersion(p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseVersionSpec(s)
		if err != nil {
			return
		}
		again, err := ParseVersionSpec(spec.String())
		if err != nil {
			t.Fatalf("String() of %q = %q does not parse: %v", s, spec, err)
		}
		if again.String() != spec.String() {
			t.Fatalf("%q: String %q reparses to %q", s, spec, again)
		}
		for _, v := range probe {
			if spec.Matches(v) != again.Matches(v) {
				t.Fatalf("%q and its String %q disagree on %q", s, spec, v)
			}
		}
	})
}
