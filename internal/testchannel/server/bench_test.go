package server

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkServe measures the server over loopback with keep-alive, so that
// gateway and installer benchmarks know how fast their fixture is: a full
// download, a conditional request answered 304, and a 64 KiB range.
func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	data := make([]byte, 16<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(filepath.Join(dir, "repodata.json"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := Start(b.Context(), dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	url := s.URL() + "/repodata.json"
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, bc := range []struct {
		name   string
		header map[string]string
		bytes  int64
		status int
	}{
		{"full-16MiB", nil, int64(len(data)), http.StatusOK},
		{"not-modified", map[string]string{"If-None-Match": sha256Tag(data)}, 0, http.StatusNotModified},
		{"range-64KiB", map[string]string{"Range": "bytes=1048576-1114111"}, 64 << 10, http.StatusPartialContent},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(bc.bytes)
			for b.Loop() {
				req, err := http.NewRequest("GET", url, nil)
				if err != nil {
					b.Fatal(err)
				}
				for k, v := range bc.header {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || n != bc.bytes || resp.StatusCode != bc.status {
					b.Fatalf("status %d, %d bytes, err %v", resp.StatusCode, n, err)
				}
			}
			s.ResetRequests() // keep the log from growing across iterations
		})
	}
}
