package env

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzCondaLockRoundTrip writes every conda-lock file ParseLock reads: the
// write fails with an error naming the file, or gives a file that reads
// back into the same records, the same way twice.
func FuzzCondaLockRoundTrip(f *testing.F) {
	f.Add([]byte(condaLockDoc()))
	f.Add([]byte(condaLockDoc("ca-certificates: \"*\"", "ca-certificates: 2023.1 h_0", "category: dev", "category: main")))
	f.Add([]byte("version: 1\npackage:\n  - {name: a, version: '1', manager: conda, platform: linux-64, url: 'https://x/noarch/a-1-0.conda', hash: {md5: " + md5A + "}, dependencies: [b >=1, b <2, c]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock("in.yml", data)
		if err != nil || l.Format != FormatCondaLock {
			return
		}
		e := l.Environments[DefaultEnvironment]
		written, err := MarshalCondaLock(&CondaLockFile{Environment: e}, "out-lock.yml")
		if err != nil {
			if !strings.Contains(err.Error(), `"out-lock.yml"`) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if again, _ := MarshalCondaLock(&CondaLockFile{Environment: e}, "out-lock.yml"); !bytes.Equal(written, again) {
			t.Fatalf("two writes differ:\n%s\n---\n%s", written, again)
		}
		checkRoundTrip(t, e, written)
	})
}
