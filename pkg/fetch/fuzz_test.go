package fetch

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzRangeStart checks the Content-Range parser never panics and accepts
// only "bytes N-…" with N the decimal number it returns.
func FuzzRangeStart(f *testing.F) {
	for _, s := range []string{"bytes 100-199/200", "bytes 0-0/1", "bytes */200", "bytes +5-9/10", "items 1-2/3", "bytes 99999999999999999999-1/2", "bytes 007-8/9", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := rangeStart(s)
		if !ok {
			return
		}
		rest, isBytes := strings.CutPrefix(s, "bytes ")
		start, _, _ := strings.Cut(rest, "-")
		digits := strings.TrimLeft(start, "0")
		if digits == "" {
			digits = "0"
		}
		if !isBytes || n < 0 || digits != strconv.FormatInt(n, 10) {
			t.Errorf("rangeStart(%q) = %d, true", s, n)
		}
	})
}
