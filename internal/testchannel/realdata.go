package testchannel

import (
	"os"
	"path/filepath"
	"testing"
)

// RealData returns the path of rel inside the shared real conda data
// (shared/realdata beside the checkout), found by walking up from the
// test's working directory. It skips the test when the data is absent, as
// on a user's machine.
func RealData(tb testing.TB, rel ...string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		root := filepath.Join(dir, "shared", "realdata")
		if st, err := os.Stat(root); err == nil && st.IsDir() {
			return filepath.Join(append([]string{root}, rel...)...)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("shared/realdata not found beside the checkout: skipping the real-data test")
		}
		dir = parent
	}
}
