package virtualpkgs

import (
	"testing"
	"testing/fstest"
)

func TestX86Level(t *testing.T) {
	const (
		v2 = "fpu sse sse2 cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3"
		v3 = v2 + " avx avx2 bmi1 bmi2 f16c fma abm movbe xsave"
		v4 = v3 + " avx512f avx512bw avx512cd avx512dq avx512vl"
	)
	cpuinfo := func(flags ...string) fstest.MapFS {
		s := ""
		for i, f := range flags {
			s += "processor\t: " + string(rune('0'+i)) + "\nvendor_id\t: GenuineIntel\nflags\t\t: " + f + "\nbugs\t\t: spectre_v1\n\n"
		}
		return fstest.MapFS{"proc/cpuinfo": file(s)}
	}
	tests := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"v4", cpuinfo(v4), "x86_64_v4"},
		{"v3", cpuinfo(v3), "x86_64_v3"},
		{"v2", cpuinfo(v2), "x86_64_v2"},
		{"baseline", cpuinfo("fpu sse sse2"), ""},
		{"avx512 without v3 is v2", cpuinfo(v2 + " avx512f avx512bw avx512cd avx512dq avx512vl"), "x86_64_v2"},
		{"v3 missing movbe", cpuinfo(v2 + " avx avx2 bmi1 bmi2 f16c fma abm xsave"), "x86_64_v2"},
		{"first processor decides", cpuinfo(v3, v4), "x86_64_v3"},
		{"no flags line", fstest.MapFS{"proc/cpuinfo": file("processor\t: 0\n")}, ""},
		{"no cpuinfo", fstest.MapFS{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := x86Level(tt.fs); got != tt.want {
				t.Errorf("x86Level = %q, want %q", got, tt.want)
			}
		})
	}
}
