package virtualpkgs

import (
	"bufio"
	"bytes"
	"io/fs"
	"strings"
)

// x86Levels are the generic x86-64 microarchitecture levels of the psABI,
// newest first, with the CPU flags (as /proc/cpuinfo names them) each one
// needs beyond the previous level; archspec defines them the same way.
var x86Levels = []struct {
	name  string
	flags []string
}{
	{"x86_64_v4", []string{"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}},
	{"x86_64_v3", []string{"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}},
	{"x86_64_v2", []string{"cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"}},
}

// x86Level returns the highest x86-64 level the CPU described by
// /proc/cpuinfo supports, or "" when it supports none beyond the baseline
// or cpuinfo cannot be read.
//
// conda reports archspec's specific microarchitecture ("skylake_avx512"),
// which needs archspec's CPU database; the generic level is what
// conda-forge's _x86_64-microarch-level packages also accept, and better
// than the bare "x86_64" that would satisfy none of them.
func x86Level(root fs.FS) string {
	data, err := fs.ReadFile(root, "proc/cpuinfo")
	if err != nil {
		return ""
	}
	have := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20) // a flags line is long, but not that long
	for sc.Scan() {
		// All processors share one flag set; the first one is enough.
		if name, flags, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "flags" {
			for _, f := range strings.Fields(flags) {
				have[f] = true
			}
			break
		}
	}
	// A level needs its own flags and those of every level below it.
	level := ""
	for i := len(x86Levels) - 1; i >= 0; i-- {
		for _, f := range x86Levels[i].flags {
			if !have[f] {
				return level
			}
		}
		level = x86Levels[i].name
	}
	return level
}
