package env

import (
	"path/filepath"
	"testing"
)

// TestPipLocation: a lock's pip package location becomes what pip takes
// after "name @": URLs as they are, paths as absolute file:// URLs, relative
// ones from the lock's folder, whatever the working directory.
func TestPipLocation(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	for _, tc := range []struct{ dir, loc, want string }{
		{"locks", "https://files.example/x-1.0-py3-none-any.whl", "https://files.example/x-1.0-py3-none-any.whl"},
		{"locks", "/srv/wheels/x.whl", "file:///srv/wheels/x.whl"},
		{"/srv/locks", "wheels/x.whl", "file:///srv/locks/wheels/x.whl"},
		{"locks", "wheels/x.whl", "file://" + filepath.Join(wd, "locks", "wheels", "x.whl")},
	} {
		if got := pipLocation(tc.dir, tc.loc); got != tc.want {
			t.Errorf("pipLocation(%q, %q) = %q, want %q", tc.dir, tc.loc, got, tc.want)
		}
	}
}
